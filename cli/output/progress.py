"""Progress bars on stderr, only ever on a terminal: a download's (size, speed, ETA) and a
multi-request run's (requests done).

rich is imported here and nowhere on the download path otherwise, so a piped or
scripted download never loads it. Bars are redrawn by the caller (no refresh thread):
chunks and finished requests arrive on the event loop, which drives the drawing; a
download's bar at most ten times a second.
"""

from __future__ import annotations

import io
import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from cli.env import Environment

REFRESH_EVERY = 0.1  # seconds between redraws


class ProgressBar:
    """One download's bar: ``advance`` per chunk, ``close`` once (idempotent)."""

    def __init__(self, env: Environment, label: str, total: int | None, done: int = 0) -> None:
        self._wrapper = io.TextIOWrapper(
            env.stderr, encoding="utf-8", errors="replace", write_through=True
        )
        console = Console(file=self._wrapper, force_terminal=True, width=env.columns or 80)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            auto_refresh=False,
        )
        self._task: TaskID = self._progress.add_task(label, total=total, completed=done)
        self._progress.start()
        self._last = time.monotonic()
        self._closed = False

    def advance(self, size: int) -> None:
        self._progress.advance(self._task, size)
        now = time.monotonic()
        if now - self._last >= REFRESH_EVERY:
            self._last = now
            self._progress.refresh()

    def close(self, *, finished: bool = True) -> None:
        if self._closed:
            return
        self._closed = True
        task = self._progress.tasks[0]
        if finished and task.total is None:  # the size is known now: show the bar full
            self._progress.update(self._task, total=task.completed)
        self._progress.refresh()
        self._progress.stop()
        # Hand stderr back un-closed: it is the process's.
        self._wrapper.detach()


class RequestsProgress:
    """A multi-request run's bar, advanced as requests finish."""

    def __init__(self, env: Environment, total: int) -> None:
        self._wrapper = io.TextIOWrapper(env.stderr, encoding="utf-8", write_through=True)
        console = Console(file=self._wrapper, force_terminal=True, width=env.columns or 80)
        self._progress = Progress(
            "requests",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
            transient=True,
        )
        self._task = self._progress.add_task("requests", total=total)
        self._stopped = False
        self._done = self._fired = 0
        self._progress.start()
        self._progress.refresh()

    def advance(self, _task: object = None) -> None:
        self._fired += 1  # once per finished request
        self.at_least(self._fired)

    def at_least(self, done: int) -> None:
        """Show ``done`` finished requests (callbacks and the in-order loop both report)."""
        if self._stopped or done <= self._done:  # stopped: a request cancelled at the end
            return
        self._done = done
        self._progress.update(self._task, completed=done)
        self._progress.refresh()

    def stop(self) -> None:
        self._stopped = True
        self._progress.stop()
        self._wrapper.flush()
        self._wrapper.detach()
