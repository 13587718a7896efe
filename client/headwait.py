"""Waiting for a response head under ``sock_read`` and the total deadline, with one timer.

Rules:
- One timer per wait: whichever comes first of ``sock_read`` (silence on the connection)
  and the request's total deadline; the error says which phase stalled. A total deadline
  far away shares the session's coarse timers instead of a loop timer of its own.
- ``sock_read`` limits silence, not the whole wait: bytes received since (the protocol's
  ``last_data``, for HTTP/2 any frame on the connection) push it back.
- Shared by both protocols' exchanges (``hop`` for HTTP/1.1, ``hop_h2`` for HTTP/2).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .deadlines import COARSE_AFTER
from .exceptions import ServerTimeoutError, SocketTimeoutError

if TYPE_CHECKING:
    from .client_request import ClientRequest
    from .config import ClientTimeout
    from .deadlines import CoarseTimers

__all__ = ["Watch", "await_head", "unwatch", "watch_head"]

_T = TypeVar("_T")


class _Heard(Protocol):
    """A protocol that knows when it last received bytes (loop time)."""

    last_data: float


# What ``watch_head`` armed: a coarse-timer id, or the one loop timer (in a list, so a
# sock_read timer that finds fresh bytes can put its successor there).
Watch = tuple[int | None, list[asyncio.TimerHandle]]


def watch_head(
    head_fut: asyncio.Future[Any],
    req: ClientRequest,
    protocol: _Heard,
    timeout: ClientTimeout,
    timers: CoarseTimers,
    loop: asyncio.AbstractEventLoop,
) -> Watch:
    """Arm the timer that fails ``head_fut`` when a limit passes; ``unwatch`` it after.

    Two plain calls around the caller's own ``await``: no coroutine of its own on the
    HTTP/1.1 hot path.
    """
    when = loop.time() + timeout.sock_read if timeout.sock_read else None
    deadline = req.deadline
    total_first = deadline is not None and (when is None or deadline <= when)
    if total_first:
        when = deadline
    watch: list[asyncio.TimerHandle] = []
    coarse: int | None = None
    if when is not None:
        if total_first and when - loop.time() >= COARSE_AFTER:
            # The usual case (the default five-minute total): no loop timer of its own.
            coarse = timers.add(when, _expire_head, head_fut, req, protocol, timeout, True, watch)
        else:
            watch.append(
                loop.call_at(
                    when, _expire_head, head_fut, req, protocol, timeout, total_first, watch
                )
            )
    return coarse, watch


def unwatch(timers: CoarseTimers, armed: Watch) -> None:
    coarse, watch = armed
    if coarse is not None:
        timers.remove(coarse)
    if watch:
        watch[0].cancel()


async def await_head(
    head_fut: asyncio.Future[_T],
    req: ClientRequest,
    protocol: _Heard,
    timeout: ClientTimeout,
    timers: CoarseTimers,
) -> _T:
    """The result of ``head_fut``, or a timeout error once one of the limits has passed."""
    armed = watch_head(head_fut, req, protocol, timeout, timers, asyncio.get_running_loop())
    try:
        return await head_fut
    finally:
        unwatch(timers, armed)


def _expire_head(
    head_fut: asyncio.Future[Any],
    req: ClientRequest,
    protocol: _Heard,
    timeout: ClientTimeout,
    total: bool,
    watch: list[asyncio.TimerHandle],
) -> None:
    if head_fut.done():
        return
    sock_read = timeout.sock_read
    if not total and sock_read:
        # sock_read limits silence, not the whole head: bytes since then push it back.
        # While the body is still going out no answer is due yet: it counts from there.
        loop = asyncio.get_running_loop()
        since = loop.time() if req.writing else max(protocol.last_data, req._body_done_at)
        resume_at = since + sock_read
        if resume_at > loop.time():
            deadline = req.deadline
            is_total = deadline is not None and deadline <= resume_at
            when = deadline if deadline is not None and is_total else resume_at
            watch[0] = loop.call_at(
                when,
                _expire_head,
                head_fut,
                req,
                protocol,
                timeout,
                is_total,
                watch,
            )
            return
    host = req.url.host
    if total:
        exc: ServerTimeoutError = ServerTimeoutError(
            f"Total timeout expired waiting for the response from {host}"
        )
    else:
        exc = SocketTimeoutError(f"Timeout on reading the response head from {host}")
    head_fut.set_exception(exc)
