"""``--download``/``--output``/``--continue``: the response body streamed to a file.

Rules:
- The body is written as it arrives (never held whole) to ``NAME.part`` next to the
  target, and renamed to ``NAME`` only once the body ended cleanly: a ``NAME`` on disk is
  always a complete download. An interrupted one leaves its ``.part`` for ``--continue``.
- ``--continue`` asks for ``Range: bytes=N-`` (N = the ``.part`` size) and appends only
  when the server honoured it: status 206 and a ``Content-Range`` ``bytes N-END/TOTAL``
  that fits (END not before N, before TOTAL when one is given, and a Content-Length of
  END-N+1 when one is sent); then exactly END-N+1 bytes are appended. Anything else
  leaves the ``.part`` untouched and exits ``RESUME_REFUSED``.
- A ``.part`` that is a symbolic link (or no regular file) is refused before any request:
  its size would tell the server the size of whatever it points to.
- Downloads ask for ``Accept-Encoding: identity`` (as httpie does): byte ranges then count
  the file's own bytes, and the size shown is the size saved. Should a server compress
  anyway, the decoded size is not capped (the engine's bomb limit is for bodies held in
  memory; a file may legitimately be large): the run's session plan lifts it. The request
  headers a download needs are added by ``cli/request/body_options.py``.
- Only a 2xx body is saved; a 3xx/4xx/5xx leaves no file and exits 3/4/5.
- This sink is a ``Renderer``: heads still go to the normal renderer (headers on a
  terminal), so every other option (-v, --report, redirects) works as for any request.
"""

from __future__ import annotations

import os
import re
import stat
from typing import TYPE_CHECKING, BinaryIO, NamedTuple

from cli.env import Environment
from cli.exitcodes import ExitCode, ExitError, UsageError, status_exit_code
from cli.messages import Message, ResponseEnd, ResponseMessage, header

if TYPE_CHECKING:
    from cli.output.plain import Renderer
    from cli.output.progress import ProgressBar

_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*$", re.IGNORECASE)
# The digits of a Content-Range value are the server's: a few more than any file needs.
_MAX_DIGITS = 20


class DownloadError(ExitError):
    """A download that cannot go on; ``code`` is the exit code."""


class DownloadPlan(NamedTuple):
    output: str | None  # None: name it from the response; "-": standard output
    resume: bool = False
    overwrite: bool = False
    quiet: bool = False
    offset: int = 0  # --continue: the .part's size when the request was planned (preflight)

    @property
    def direct(self) -> bool:
        """The output is a device, FIFO or socket (``-o /dev/null``): write it in place.

        Never a ``.part`` beside it and never a rename: replacing ``/dev/null`` with a
        regular file would break the whole machine.
        """
        if self.output in (None, "-"):
            return False
        assert self.output is not None
        try:
            return not stat.S_ISREG(os.stat(self.output).st_mode)
        except OSError:
            return False

    @property
    def part(self) -> str | None:
        if self.output in (None, "-") or self.direct:
            return None
        return f"{self.output}.part"


def make_plan(
    *, download: bool, output: str | None, resume: bool, overwrite: bool, quiet: bool
) -> DownloadPlan | None:
    """The download asked for on the command line, or None for a normal request."""
    if not download and output is None:
        for flag, given in (("--continue", resume), ("--overwrite", overwrite)):
            if given:
                raise UsageError(f"{flag} needs --download or --output FILE")
        return None
    if resume and (output in (None, "-") or DownloadPlan(output).direct):
        raise UsageError("--continue needs --output FILE: the file whose .part to resume")
    if output == "":
        raise UsageError("--output needs a file name ('-' for standard output)")
    return DownloadPlan(output, resume, overwrite, quiet)


def _part_size(path: str) -> int:
    """The size of the ``.part`` at ``path`` (0 when there is none), never read through a
    symbolic link: a link's target is not ours to resume, nor its size the server's to know."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return 0
    if stat.S_ISLNK(info.st_mode):
        raise DownloadError(
            ExitCode.FILE, f"cannot write {path!r}: it is a symbolic link (never followed)"
        )
    if not stat.S_ISREG(info.st_mode):
        raise DownloadError(ExitCode.FILE, f"cannot write {path!r}: it is not a regular file")
    return info.st_size


def preflight(plan: DownloadPlan) -> DownloadPlan:
    """Before any connection: refuse to replace a file or to write through a link; the plan
    with ``offset``, the byte to resume from (0: none)."""
    if plan.output in (None, "-"):
        return plan
    assert plan.output is not None
    size = _part_size(plan.part) if plan.part is not None else 0
    if os.path.lexists(plan.output) and not plan.overwrite and not plan.direct:
        hint = "it is complete; " if plan.resume else ""
        raise DownloadError(
            ExitCode.FILE, f"{plan.output!r} exists ({hint}--overwrite replaces it)"
        )
    return plan._replace(offset=size if plan.resume else 0)


def content_range(value: str | None) -> tuple[int | None, int | None, int | None] | None:
    """``bytes 100-199/1000`` → (100, 199, 1000); ``bytes */1000`` → (None, None, 1000);
    ``bytes 0-9/*`` → (0, 9, None); None when it does not parse."""
    if value is None:
        return None
    found = _CONTENT_RANGE.match(value)
    if found is None or any(len(g or "") > _MAX_DIGITS for g in found.groups()):
        return None
    start, end, total = (None if g in (None, "*") else int(g) for g in found.groups())
    return start, end, total


def _range_problem(got: tuple[int | None, int | None, int | None], offset: int) -> str | None:
    """Why a 206's Content-Range cannot be appended to a ``.part`` of ``offset`` bytes."""
    start, end, total = got
    if start is None or end is None:
        return "no byte range"
    if start != offset:
        return f"it starts at byte {start}"
    if end < start:
        return "it ends before it starts"
    if total is not None and end >= total:
        return f"it ends past the total of {total} bytes"
    return None


class DownloadSink:
    """A renderer that saves the final response's body and hands heads to ``heads``."""

    def __init__(self, env: Environment, plan: DownloadPlan, heads: Renderer) -> None:
        self._env = env
        self._plan = plan
        self._heads = heads
        self.streams = True
        self._file: BinaryIO | None = None
        self._name = plan.output or ""
        self._offset = 0
        self._written = 0
        self._expected: int | None = None
        self._progress: ProgressBar | None = None
        self._done = False

    # -- Renderer ------------------------------------------------------------------

    def message(self, msg: Message) -> None:
        self._heads.message(msg)
        if isinstance(msg, ResponseMessage) and msg.streamed:
            self._start(msg)

    def chunk(self, data: bytes) -> None:
        if self._file is None:
            return
        if self._expected is not None and self._written + len(data) > self._expected:
            self._file.write(data[: self._expected - self._written])
            self._written = self._expected
            self._close_file()
            raise DownloadError(
                ExitCode.MALFORMED,
                f"the body runs past the {self._expected} bytes announced; "
                f"{self._part()} kept with the {self._offset + self._written} bytes expected",
            )
        self._file.write(data)
        self._written += len(data)
        if self._progress is not None:
            self._progress.advance(len(data))

    def end(self, end: ResponseEnd) -> None:
        if self._file is not None:
            self._finish()
        self._heads.end(end)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.close(finished=False)
            self._progress = None
        if self._file is not None:  # the body did not end: keep what arrived
            self._close_file()
            if self._plan.part is not None or self._plan.output is None:
                self._env.error(
                    f"{self._part()} keeps the {self._offset + self._written} bytes received; "
                    f"'--continue --output {self._name}' resumes"
                )
        self._heads.close()

    # -- the body ------------------------------------------------------------------

    def _part(self) -> str:
        return f"{self._name}.part"

    def _start(self, msg: ResponseMessage) -> None:
        plan = self._plan
        resuming = plan.offset > 0
        if resuming and self._already_complete(msg):
            return
        if not 200 <= msg.status < 300:
            hint = " (--follow follows redirects)" if 300 <= msg.status < 400 else ""
            raise DownloadError(
                status_exit_code(msg.status) or ExitCode.HTTP_4XX,
                f"HTTP {msg.status} {msg.reason}".rstrip() + f": nothing saved{hint}",
            )
        length = header(msg.headers, "Content-Length")
        encoded = header(msg.headers, "Content-Encoding") not in (None, "identity")
        self._expected = int(length) if length and length.isdigit() and not encoded else None
        if resuming:
            self._offset = plan.offset
            self._expected = self._check_resumed(msg)
        if plan.output == "-":
            self._file = self._env.stdout
        else:
            if plan.output is None:
                from cli.output.filenames import choose, unused

                ctype = header(msg.headers, "Content-Type")
                chosen = choose(header(msg.headers, "Content-Disposition"), msg.url, ctype)
                self._name = chosen if plan.overwrite else unused(chosen)
            target = self._name if plan.direct else self._part()
            try:
                self._file = _open_for_writing(
                    target, append=bool(self._offset), part=not plan.direct
                )
            except OSError as exc:
                raise DownloadError(ExitCode.FILE, _os_message(self._part(), exc)) from None
        if self._env.stderr_isatty and not plan.quiet:
            from cli.output.progress import ProgressBar

            total = None if self._expected is None else self._offset + self._expected
            label = "stdout" if plan.output == "-" else self._name
            self._progress = ProgressBar(self._env, label, total, self._offset)

    def _check_resumed(self, msg: ResponseMessage) -> int:
        """The number of bytes the 206 appends to the ``.part``, or DownloadError."""
        value = header(msg.headers, "Content-Range")
        got = content_range(value)
        problem = None if got is None else _range_problem(got, self._offset)
        if got is not None and problem is None and got[0] is not None and got[1] is not None:
            count = got[1] - got[0] + 1
            encoding = header(msg.headers, "Content-Encoding")
            if encoding not in (None, "identity"):
                problem = f"the range is of its {encoding} form, not of the file"
            elif self._expected is not None and self._expected != count:
                problem = f"its {count} bytes are not the Content-Length of {self._expected}"
            elif _part_size(self._part()) != self._offset:
                problem = f"{self._part()} changed meanwhile"
            elif msg.status == 206:
                return count
        if value is None:
            why = f"HTTP {msg.status} without a Content-Range"
        else:
            problem = "not understood" if got is None else problem
            why = f"HTTP {msg.status}, Content-Range {value}" + (f": {problem}" if problem else "")
        raise DownloadError(
            ExitCode.RESUME_REFUSED,
            f"--continue: the server did not resume at byte {self._offset} ({why}); "
            f"{self._part()} left as it was",
        )

    def _already_complete(self, msg: ResponseMessage) -> bool:
        """416 with ``bytes */N`` where N is the .part's size: nothing was missing."""
        got = content_range(header(msg.headers, "Content-Range"))
        if msg.status != 416 or got is None or got[0] is not None or got[2] is None:
            return False
        if got[2] != self._plan.offset or _part_size(self._part()) != self._plan.offset:
            return False
        self._offset = got[2]
        self._rename()
        self._report()
        return True

    def _finish(self) -> None:
        self._close_file()
        if self._progress is not None:
            self._progress.close()
            self._progress = None
        if self._expected is not None and self._written != self._expected:
            raise DownloadError(
                ExitCode.MALFORMED,
                f"the body ended after {self._written} of {self._expected} bytes; "
                f"{self._part()} kept",
            )
        if self._plan.output != "-":
            self._rename()
            self._report()

    def _close_file(self) -> None:
        file, self._file = self._file, None
        if file is None:
            return
        if file is self._env.stdout:
            file.flush()
            return
        try:
            file.close()
        except OSError as exc:
            raise DownloadError(ExitCode.FILE, _os_message(self._part(), exc)) from None

    def _rename(self) -> None:
        if self._plan.direct:
            self._done = True  # written in place: nothing to rename
            return
        part = self._part()
        if os.path.lexists(self._name) and not self._plan.overwrite:
            if self._plan.output is not None:
                raise DownloadError(
                    ExitCode.FILE,
                    f"{self._name!r} appeared meanwhile; the download stays in {part}",
                )
            from cli.output.filenames import unused

            self._name = unused(self._name)
        os.replace(part, self._name)
        self._done = True

    def _report(self) -> None:
        if self._plan.quiet:
            return
        size = self._offset + self._written
        resumed = f", {self._written} of them now" if self._offset else ""
        self._env.error(f"saved {self._name} ({size} bytes{resumed})")


def _os_message(path: str, exc: OSError) -> str:
    return f"cannot write {path!r}: {exc.strerror or exc}"


def _open_for_writing(path: str, *, append: bool, part: bool) -> BinaryIO:
    """Open ``path`` to write; a ``.part`` file is never followed through a symlink (a
    link planted at NAME.part must not make zurl write somewhere else)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    if part:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o666)
    return os.fdopen(fd, "ab" if append else "wb")
