"""The HTTP/2 side of a ``TCPConnector``'s pool: one connection per origin, many streams.

Rules / theory of operation:
- Which requests: https:// ones (ALPN offers ``h2``, then ``http/1.1``) and, with prior
  knowledge, http:// ones not sent through a proxy (h2c). WebSocket handshakes (an
  ``Upgrade`` header) stay on HTTP/1.1 and never reach this module.
- Slots: a stream takes the pool slot an HTTP/1.1 request's connection would, for as long
  as the exchange lasts, so ``limit`` and ``limit_per_host`` bound requests in flight the
  same way over either protocol; an HTTP/2 connection itself takes no slot. Requests
  beyond a limit wait in the pool's one FIFO; requests beyond the server's
  ``MAX_CONCURRENT_STREAMS`` wait in the connection's.
- Protocol learning: the first request to an origin opens the connection; requests that
  arrive while its handshake runs wait for the ALPN result instead of opening their own,
  so a cold start of 100 requests opens one connection. ``h2``: they all share it.
  ``http/1.1``: the origin is remembered as HTTP/1.1, its requests go to the ordinary pool
  from then on (offering only ``http/1.1``) and the first one keeps the connection it
  opened.
- A connection that received GOAWAY, lost its transport or used up its stream ids takes
  no new stream; the next request opens a new one. An idle connection (no stream) closes
  after the connector's ``keepalive_timeout`` (at once with ``force_close``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .connection import Connection, ResponseProtocol
from .exceptions import ClientConnectionError, ConnectionTimeoutError, ServerTimeoutError
from .http2_connection import H2Protocol
from .http2_stream import H2Lease
from .tlshold import HandshakeHold

if TYPE_CHECKING:
    from .config import ClientTimeout, ConnectionKey
    from .tracing import Trace

__all__ = ["H2Origins"]

# asyncio's own read size for socket transports; the HTTP/1.1 protocol starts lower (see
# connection.RECV_SIZE), which would cap an HTTP/2 bulk transfer at 64 KiB per read.
_RECV_SIZE = 256 * 1024


class H2Origins:
    """HTTP/2 connections by origin, for one connector (``connector._http2``)."""

    def __init__(self, connector: Any, *, prior_knowledge: bool = False) -> None:
        self._connector = connector
        self._loop: asyncio.AbstractEventLoop = connector._loop
        self.prior_knowledge = prior_knowledge
        self._live: dict[ConnectionKey, H2Protocol] = {}
        self._opening: dict[ConnectionKey, asyncio.Future[H2Protocol | None]] = {}
        self._http11: set[ConnectionKey] = set()  # origins that chose HTTP/1.1 by ALPN
        self._protocols: set[H2Protocol] = set()
        self._idle_timers: dict[H2Protocol, asyncio.TimerHandle] = {}
        self.connections_opened = 0

    def applies(self, req: Any) -> bool:
        """Whether ``req`` may go over HTTP/2 (else the HTTP/1.1 pool takes it)."""
        if "Upgrade" in req.headers:
            return False
        if req.is_ssl():
            return req.connection_key not in self._http11
        return self.prior_knowledge and req.proxy is None

    # -- acquiring -------------------------------------------------------------------

    async def connect(
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout
    ) -> Connection | H2Lease:
        """A stream's lease on this origin's HTTP/2 connection, or an HTTP/1.1 connection.

        The fast path (a slot free, a connection open) does not await and sets no timer.
        """
        connector = self._connector
        if connector._closed:
            raise ClientConnectionError("Connector is closed.")
        key: ConnectionKey = req.connection_key
        grant = None if connector._waiters else connector._try_acquire(key)
        if grant is not None and (isinstance(grant, ResponseProtocol) or key in self._live):
            return await self._connect_slowly(req, key, grant, traces, timeout)
        deadline: float | None = req.deadline
        connect_at = self._loop.time() + timeout.connect if timeout.connect else None
        total_first = deadline is not None and (connect_at is None or deadline <= connect_at)
        when = deadline if total_first else connect_at
        try:
            async with asyncio.timeout_at(when) as scope:
                if grant is None:
                    grant = await connector._wait_for_slot(key, traces, False)
                return await self._connect_slowly(req, key, grant, traces, timeout)
        except TimeoutError as exc:
            if not scope.expired():
                raise
            where = f"{req.host}:{req.port}"
            if total_first:
                raise ServerTimeoutError(f"Total timeout expired connecting to {where}") from exc
            raise ConnectionTimeoutError(f"Connection timeout to host {where}") from exc

    def _usable(self, key: ConnectionKey) -> H2Protocol | None:
        live = self._live.get(key)
        if live is not None and not live.accepting:
            del self._live[key]
            return None
        return live

    async def _hand_out(
        self,
        key: ConnectionKey,
        grant: object,
        live: H2Protocol | None,
        traces: Sequence[Trace],
        *,
        reused: bool = True,
    ) -> Connection | H2Lease:
        connector = self._connector
        if isinstance(grant, ResponseProtocol):  # an idle HTTP/1.1 connection of this origin
            for trace in traces:
                await trace.send_connection_reuseconn()
            return Connection(connector, key, grant, reused=True)
        assert live is not None
        timer = self._idle_timers.pop(live, None)
        if timer is not None:
            timer.cancel()
        if reused:
            for trace in traces:
                await trace.send_connection_reuseconn()

        def done() -> None:
            connector._drop_slot(key, grant)
            connector._wake_waiters()

        return H2Lease(key, live, reused=reused, on_done=done)

    async def _connect_slowly(
        self,
        req: Any,
        key: ConnectionKey,
        grant: object,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
    ) -> Connection | H2Lease:
        connector = self._connector
        try:
            if isinstance(grant, ResponseProtocol):
                return await self._hand_out(key, grant, None, traces)
            live = self._usable(key)
            while live is None and key in self._opening and key not in self._http11:
                # Another request is opening this origin's connection: learn from it.
                live = await asyncio.shield(self._opening[key])
                if live is not None and not live.accepting:
                    live = None
            if live is not None:
                return await self._hand_out(key, grant, live, traces)
            return await self._open(req, key, grant, traces, timeout)
        except BaseException:
            connector._give_back(key, grant)
            raise

    async def _open(
        self,
        req: Any,
        key: ConnectionKey,
        token: object,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
    ) -> Connection | H2Lease:
        """Open a connection for ``req``; HTTP/2 if the server agrees (or is known to)."""
        connector = self._connector
        learning = key not in self._http11 and key not in self._opening
        opening: asyncio.Future[H2Protocol | None] = self._loop.create_future()
        if learning:
            self._opening[key] = opening
        try:
            for trace in traces:
                await trace.send_connection_create_start()
            hold = None if self.prior_knowledge and not req.is_ssl() else HandshakeHold()
            protocol = await connector._create_connection(req, traces, timeout, hold=hold)
            if connector._closed:
                protocol.close()
                raise ClientConnectionError("Connector is closed.")
            live = self._adopt(key, protocol, hold)
            if live is None:
                self._http11.add(key)
        except BaseException:
            if learning:
                del self._opening[key]
                opening.set_result(None)
            raise
        if learning:
            del self._opening[key]
            opening.set_result(live)
        for trace in traces:
            await trace.send_connection_create_end()
        if live is not None:
            return await self._hand_out(key, token, live, traces, reused=False)
        # HTTP/1.1 it is: this request keeps the connection it opened, in the ordinary pool.
        connector._drop_slot(key, token)
        connector._take_slot(key, protocol)
        connector._protocols.add(protocol)
        protocol.closed.add_done_callback(lambda _f: connector._protocols.discard(protocol))
        return Connection(connector, key, protocol, reused=False)

    def _adopt(
        self, key: ConnectionKey, protocol: ResponseProtocol, hold: HandshakeHold | None
    ) -> H2Protocol | None:
        """Move a fresh connection that speaks HTTP/2 to an ``H2Protocol``, or None."""
        tls = protocol.tls
        if hold is not None and (tls is None or tls.alpn != "h2"):
            return None  # the handshake handed the transport back to HTTP/1.1 already
        transport = protocol.transport
        if transport is None or transport.is_closing():
            raise ClientConnectionError("Connection closed before HTTP/2 could start")
        socket_transport = protocol._socket_transport
        if socket_transport is not None:
            socket_transport.max_size = _RECV_SIZE
        protocol.transport = None
        protocol._socket_transport = None
        live = H2Protocol(self._loop)
        live.tls = tls
        live.on_idle = self._on_idle
        if hold is not None:
            hold.hand_over(transport, live, connection_made=True)
        else:
            transport.set_protocol(live)
            live.connection_made(transport)
        self._live[key] = live
        self._protocols.add(live)
        self.connections_opened += 1
        live.closed.add_done_callback(lambda _f: self._forget(key, live))
        return live

    def _forget(self, key: ConnectionKey, live: H2Protocol) -> None:
        self._protocols.discard(live)
        if self._live.get(key) is live:
            del self._live[key]
        timer = self._idle_timers.pop(live, None)
        if timer is not None:
            timer.cancel()

    # -- idle connections ------------------------------------------------------------

    def _on_idle(self, live: H2Protocol) -> None:
        connector = self._connector
        if connector._force_close or connector._closed:
            live.close()
            return
        timer = self._idle_timers.pop(live, None)
        if timer is not None:
            timer.cancel()
        self._idle_timers[live] = self._loop.call_later(
            connector._keepalive_timeout, self._expire, live
        )

    def _expire(self, live: H2Protocol) -> None:
        self._idle_timers.pop(live, None)
        if live.active_streams == 0:
            live.close()

    # -- shutting down ---------------------------------------------------------------

    async def close(self) -> None:
        """Close every HTTP/2 connection and wait until each transport is gone."""
        for timer in self._idle_timers.values():
            timer.cancel()
        self._idle_timers.clear()
        protocols = list(self._protocols)
        for live in protocols:
            if live.tls is not None and live.transport is not None:
                live.abort()  # no close_notify wait on a silent peer (as the pool does)
            else:
                live.close()
        waiting = [p.closed for p in protocols if not p.closed.done()]
        if waiting:
            _done, pending = await asyncio.wait(waiting, timeout=2.0)
            for live in protocols:
                if not live.closed.done():
                    live.abort()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        self._live.clear()
