"""Coarse timers: far deadlines checked once a second instead of one loop timer each.

Every request has a deadline (the default total timeout is five minutes) that almost
never fires. A loop timer per request costs a heap push and a cancel on the hot path;
here a request's deadline is a dict entry, and one ticking timer per session fires the
rare ones that expire. Only deadlines at least ``COARSE_AFTER`` seconds away come here
(aiohttp likewise rounds timeouts of 5 s and more up to whole seconds); nearer ones, and
sock_read limits, keep exact timers.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

__all__ = ["COARSE_AFTER", "CoarseTimers"]

COARSE_AFTER = 5.0
_TICK = 1.0


class CoarseTimers:
    """Callbacks due at loop times, fired at most ``_TICK`` seconds late."""

    __slots__ = ("_due", "_handle", "_ids", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._due: dict[int, tuple[float, Callable[..., None], tuple[Any, ...]]] = {}
        self._ids = itertools.count()
        self._handle: asyncio.TimerHandle | None = None

    def add(self, when: float, callback: Callable[..., None], *args: Any) -> int:
        token = next(self._ids)
        self._due[token] = (when, callback, args)
        if self._handle is None:
            self._handle = self._loop.call_later(_TICK, self._tick)
        return token

    def remove(self, token: int) -> None:
        self._due.pop(token, None)

    def _tick(self) -> None:
        self._handle = None
        now = self._loop.time()
        expired = [token for token, (when, _cb, _args) in self._due.items() if when <= now]
        for token in expired:
            entry = self._due.pop(token, None)
            if entry is not None:
                entry[1](*entry[2])
        if self._due:
            self._handle = self._loop.call_later(_TICK, self._tick)

    def close(self) -> None:
        self._due.clear()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
