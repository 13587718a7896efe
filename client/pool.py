"""The connection pool: slots, limits, the FIFO of waiters, keep-alive and shutdown.

Rules / theory of operation:
- A slot is a connection in use, a reservation for one being opened (a placeholder token)
  or an idle kept-alive connection. ``limit`` bounds all of them together (0 = no bound),
  ``limit_per_host`` bounds those in use per ``ConnectionKey``; so the server never sees
  more concurrent connections than the limits say.
- Idle connections are reused newest first (warm ones) and expire after
  ``keepalive_timeout``; at the global limit an idle connection of another key is closed to
  make room rather than making the request wait.
- Requests that cannot get a slot wait in one FIFO queue. A freed slot is *granted* to the
  first waiter that may use it (an idle protocol, or a reservation token), so a late
  arrival can never overtake the queue.
- ``connect(..., fresh=True)`` never hands out an idle connection: a request retried
  because a kept-alive connection turned out closed must not meet another stale one.
- ``close()`` returns only once every transport the connector opened has reported
  ``connection_lost``: no ResourceWarning, no sleep needed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .config import ClientTimeout, ConnectionKey
from .connection import Connection, ResponseProtocol
from .exceptions import ClientConnectionError, ConnectionTimeoutError, ServerTimeoutError

if TYPE_CHECKING:
    from .http2_pool import H2Origins
    from .tracing import Trace

__all__ = ["DEFAULT_KEEPALIVE", "BaseConnector"]

_Grant = ResponseProtocol | object  # an idle protocol, or a reservation token
# A request waiting for a slot: its key, the future of its grant, and whether it needs a new
# connection (``fresh``) rather than an idle one.
_Waiter = tuple[ConnectionKey, "asyncio.Future[_Grant]", bool]

# aiohttp's default: how long an idle connection is kept for reuse.
DEFAULT_KEEPALIVE = 15.0


class BaseConnector:
    """Pool bookkeeping shared by every connector; subclasses open the transports."""

    # The HTTP/2 side (``http2_pool.H2Origins``) of a connector that speaks it, else None.
    _http2: H2Origins | None = None

    def __init__(
        self,
        *,
        keepalive_timeout: float | object | None = ...,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close and keepalive_timeout is not ... and keepalive_timeout is not None:
            raise ValueError("keepalive_timeout cannot be set if force_close is True")
        if keepalive_timeout is ... or keepalive_timeout is None:
            keepalive_timeout = DEFAULT_KEEPALIVE
        assert isinstance(keepalive_timeout, int | float)
        self._keepalive_timeout = float(keepalive_timeout)
        self._force_close = force_close
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._loop = loop or asyncio.get_running_loop()
        self._idle: dict[ConnectionKey, list[ResponseProtocol]] = {}
        self._idle_count = 0
        self._acquired: set[object] = set()
        self._acquired_per_host: dict[ConnectionKey, set[object]] = collections.defaultdict(set)
        self._waiters: collections.deque[_Waiter] = collections.deque()
        self._protocols: set[ResponseProtocol] = set()
        self._cleanup_handle: asyncio.TimerHandle | None = None
        self._closed = False

    # -- public surface ------------------------------------------------------------

    @property
    def limit(self) -> int:
        return self._limit

    @property
    def limit_per_host(self) -> int:
        return self._limit_per_host

    @property
    def force_close(self) -> bool:
        return self._force_close

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def _conns(self) -> dict[ConnectionKey, list[tuple[ResponseProtocol, float]]]:
        """aiohttp's idle-connection map, as a read-only snapshot: per key, the idle
        connections with the time each was last used (oldest first)."""
        return {
            key: [(protocol, protocol.last_used) for protocol in idle]
            for key, idle in self._idle.items()
            if idle
        }

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close every connection and wait until each transport is really gone.

        Here TLS connections are always aborted (no close_notify wait); ``abort_ssl``
        (aiohttp 3.14) stops ``TCPConnector`` from trying a graceful TLS shutdown first."""
        if self._closed and not self._protocols:
            return
        self._closed = True
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        for _key, fut, _fresh in self._waiters:
            if not fut.done():
                fut.set_exception(ClientConnectionError("Connector is closed."))
                fut.exception()  # retrieved: nobody may be left to await it
        self._waiters.clear()
        self._idle.clear()
        self._idle_count = 0
        protocols = list(self._protocols)
        for protocol in protocols:
            transport = protocol.transport
            if transport is None or transport.is_closing():
                continue
            # TLS close_notify can wait on a silent peer for 30 s: abort instead.
            if protocol.tls is not None:
                transport.abort()
            else:
                transport.close()
        waiting = [p.closed for p in protocols if not p.closed.done()]
        if waiting:
            _done, pending = await asyncio.wait(waiting, timeout=2.0)
            for protocol in protocols:
                if not protocol.closed.done() and protocol.transport is not None:
                    protocol.transport.abort()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._protocols.clear()
        self._acquired.clear()
        self._acquired_per_host.clear()

    # -- acquiring -----------------------------------------------------------------

    async def connect(
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout, *, fresh: bool = False
    ) -> Connection:
        """A connection for ``req``: an idle one, a new one, or after waiting in line.

        ``fresh``: a new connection only, never an idle one. Only the slow paths (waiting,
        connecting) run under a timeout scope: reusing an idle connection never awaits, so
        it costs no timer.
        """
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        key: ConnectionKey = req.connection_key
        grant = None if self._waiters else self._try_acquire(key, fresh=fresh)
        if isinstance(grant, ResponseProtocol):
            for trace in traces:
                await trace.send_connection_reuseconn()
            return Connection(self, key, grant, reused=True)
        deadline: float | None = getattr(req, "deadline", None)
        connect_at = self._loop.time() + timeout.connect if timeout.connect else None
        total_first = deadline is not None and (connect_at is None or deadline <= connect_at)
        when = deadline if total_first else connect_at
        try:
            async with asyncio.timeout_at(when) as scope:
                return await self._connect_slowly(req, key, grant, traces, timeout, fresh)
        except TimeoutError as exc:
            if not scope.expired():
                raise
            where = f"{req.host}:{req.port}"
            if total_first:
                raise ServerTimeoutError(f"Total timeout expired connecting to {where}") from exc
            raise ConnectionTimeoutError(f"Connection timeout to host {where}") from exc

    async def _connect_slowly(
        self,
        req: Any,
        key: ConnectionKey,
        grant: _Grant | None,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
        fresh: bool,
    ) -> Connection:
        if grant is None:
            grant = await self._wait_for_slot(key, traces, fresh)
        if isinstance(grant, ResponseProtocol):
            for trace in traces:
                await trace.send_connection_reuseconn()
            return Connection(self, key, grant, reused=True)
        for trace in traces:
            await trace.send_connection_create_start()
        try:
            protocol = await self._create_connection(req, traces, timeout)
        except BaseException:
            self._drop_slot(key, grant)
            self._wake_waiters()
            raise
        self._drop_slot(key, grant)
        if self._closed:
            protocol.close()
            raise ClientConnectionError("Connector is closed.")
        self._take_slot(key, protocol)
        self._protocols.add(protocol)
        protocol.closed.add_done_callback(lambda _f: self._protocols.discard(protocol))
        for trace in traces:
            await trace.send_connection_create_end()
        return Connection(self, key, protocol, reused=False)

    async def _wait_for_slot(
        self, key: ConnectionKey, traces: Sequence[Trace], fresh: bool
    ) -> _Grant:
        fut: asyncio.Future[_Grant] = self._loop.create_future()
        self._waiters.append((key, fut, fresh))
        self._wake_waiters()
        if fut.done():
            return fut.result()
        for trace in traces:
            await trace.send_connection_queued_start()
        try:
            grant = await fut
        except BaseException:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._give_back(key, fut.result())  # granted, but we were cancelled
            else:
                with contextlib.suppress(ValueError):
                    self._waiters.remove((key, fut, fresh))
            raise
        for trace in traces:
            await trace.send_connection_queued_end()
        return grant

    def connect_now(self, req: Any) -> Connection | None:
        """An idle kept-alive connection for ``req`` at once, or None (then ``connect``).

        The hot path of a session that reuses its connections: no coroutine, no timer.
        """
        if self._closed or self._waiters:
            return None
        key: ConnectionKey = req.connection_key
        if not self._idle.get(key):
            return None
        grant = self._try_acquire(key, reserve=False)  # idle ones only
        if grant is None:
            return None
        assert isinstance(grant, ResponseProtocol)
        return Connection(self, key, grant, reused=True)

    def _try_acquire(
        self, key: ConnectionKey, *, reserve: bool = True, fresh: bool = False
    ) -> _Grant | None:
        idle = None if fresh else self._idle.get(key)
        if idle:
            now = self._loop.time()
            while idle:
                protocol = idle.pop()
                self._idle_count -= 1
                transport = protocol.transport
                usable = transport is not None and not transport.is_closing()
                if (
                    usable
                    and not protocol.should_close
                    and now - protocol.last_used < self._keepalive_timeout
                ):
                    # The emptied list stays for the release that follows (no churn).
                    self._take_slot(key, protocol)
                    return protocol
                protocol.close()
        if not reserve:
            return None
        if self._limit_per_host and len(self._acquired_per_host[key]) >= self._limit_per_host:
            return None
        at_limit = self._limit and len(self._acquired) + self._idle_count >= self._limit
        if at_limit and not self._evict_idle():
            return None
        token = object()
        self._take_slot(key, token)
        return token

    def _evict_idle(self) -> bool:
        """Close the least recently used idle connection to free a global slot."""
        oldest_key = None
        oldest_time = float("inf")
        for key, idle in self._idle.items():
            if idle and idle[0].last_used < oldest_time:
                oldest_key, oldest_time = key, idle[0].last_used
        if oldest_key is None:
            return False
        idle = self._idle[oldest_key]
        idle.pop(0).close()
        self._idle_count -= 1
        if not idle:
            del self._idle[oldest_key]
        return True

    def _take_slot(self, key: ConnectionKey, holder: object) -> None:
        self._acquired.add(holder)
        self._acquired_per_host[key].add(holder)

    def _drop_slot(self, key: ConnectionKey, holder: object) -> None:
        self._acquired.discard(holder)
        holders = self._acquired_per_host.get(key)
        if holders is not None:
            holders.discard(holder)  # an emptied set stays: the key is usually used again

    def _give_back(self, key: ConnectionKey, grant: _Grant) -> None:
        if isinstance(grant, ResponseProtocol):
            self._release(key, grant)
        else:
            self._drop_slot(key, grant)
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        if not self._waiters or self._closed:
            return
        still_waiting: collections.deque[_Waiter] = collections.deque()
        while self._waiters:
            waiter = self._waiters.popleft()
            key, fut, fresh = waiter
            if fut.done():
                continue
            grant = self._try_acquire(key, fresh=fresh)
            if grant is None:
                still_waiting.append(waiter)
            else:
                fut.set_result(grant)
        self._waiters = still_waiting

    # -- releasing -----------------------------------------------------------------

    def _release(
        self, key: ConnectionKey, protocol: ResponseProtocol, *, should_close: bool = False
    ) -> None:
        """Called by ``Connection.release``: keep the connection alive or close it."""
        self._drop_slot(key, protocol)
        protocol.on_idle = None
        transport = protocol.transport
        if (
            should_close
            or self._closed
            or self._force_close
            or protocol.should_close
            or protocol.writing_body
            or protocol.parser.in_message
            or transport is None
            or transport.is_closing()
        ):
            protocol.close()
        else:
            idle = self._idle.get(key)
            if idle is None:
                idle = self._idle[key] = []
            idle.append(protocol)
            self._idle_count += 1
            if self._cleanup_handle is None:
                self._cleanup_handle = self._loop.call_later(
                    self._keepalive_timeout, self._cleanup
                )
        if self._waiters:
            self._wake_waiters()

    def _forget(self, key: ConnectionKey, protocol: ResponseProtocol) -> None:
        """The transport moved to another protocol (WebSocket, tunnel): not ours any more."""
        self._drop_slot(key, protocol)
        self._protocols.discard(protocol)
        self._wake_waiters()

    def _cleanup(self) -> None:
        """Close idle connections past their keep-alive time."""
        self._cleanup_handle = None
        now = self._loop.time()
        for key in list(self._idle):
            keep = []
            for protocol in self._idle[key]:
                if protocol.is_connected and now - protocol.last_used < self._keepalive_timeout:
                    keep.append(protocol)
                else:
                    protocol.close()
                    self._idle_count -= 1
            if keep:
                self._idle[key] = keep
            else:
                del self._idle[key]
        if self._idle_count and not self._closed:
            self._cleanup_handle = self._loop.call_later(self._keepalive_timeout, self._cleanup)
        self._wake_waiters()

    # -- opening (subclasses) ------------------------------------------------------

    def _protocol_factory(self) -> ResponseProtocol:
        return ResponseProtocol(self._loop)

    async def _create_connection(
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout
    ) -> ResponseProtocol:
        raise NotImplementedError
