"""A rich console on one of the process's binary streams, handed back open afterwards.

Every rich drawing on stderr or stdout (waterfall, summary, history, certificate) goes
through ``console_for``; rich is imported when it is called, never before.

On a terminal a drawing fits the terminal's width. Anywhere else (a CI log, a file, a pipe)
nothing is cut, shrunk or folded to a width nobody is looking at: ``fit`` lays tables out
as wide as their contents need, and the lines lose the blanks rich pads them with.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from rich.console import Console


# The width a drawing may take when it is not on a terminal: room for any table zurl draws.
FIT_WIDTH = 100_000


@contextlib.contextmanager
def console_for(
    stream: BinaryIO, *, color: bool, width: int, fit: bool = False
) -> Iterator[Console]:
    """A rich console writing UTF-8 to ``stream``, which stays open afterwards; with
    ``fit`` (not a terminal) as wide as what is drawn, whatever ``width`` says."""
    from rich.console import Console

    wrapper = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", write_through=True)
    captured = io.StringIO()
    console = Console(
        file=captured if fit else wrapper,
        force_terminal=color,
        no_color=not color,
        width=FIT_WIDTH if fit else width or 80,
        highlight=False,
        soft_wrap=False,
    )
    try:
        yield console
        if fit:
            text = captured.getvalue()
            wrapper.write("".join(line.rstrip() + "\n" for line in text.splitlines()))
    finally:
        wrapper.flush()
        wrapper.detach()  # the stream is the process's: keep it open
