"""A rich console on one of the process's binary streams, handed back open afterwards.

Every rich drawing on stderr or stdout (waterfall, summary, history, certificate) goes
through ``console_for``; rich is imported when it is called, never before.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from rich.console import Console


@contextlib.contextmanager
def console_for(stream: BinaryIO, *, color: bool, width: int) -> Iterator[Console]:
    """A rich console writing UTF-8 to ``stream``, which stays open afterwards."""
    from rich.console import Console

    wrapper = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", write_through=True)
    console = Console(
        file=wrapper,
        force_terminal=color,
        no_color=not color,
        width=width or 80,
        highlight=False,
        soft_wrap=False,
    )
    try:
        yield console
    finally:
        wrapper.flush()
        wrapper.detach()  # the stream is the process's: keep it open
