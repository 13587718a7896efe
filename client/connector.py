"""The connection pool and the connectors that fill it (TCP, Unix sockets, named pipes).

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
- ``close()`` returns only once every transport the connector opened has reported
  ``connection_lost``: no ResourceWarning, no sleep needed.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ipaddress
import socket
import ssl
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .config import ClientTimeout, ConnectionKey, Fingerprint
from .connection import Connection, ResponseProtocol
from .exceptions import (
    ClientConnectionError,
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientProxyConnectionError,
    ConnectionTimeoutError,
    ServerFingerprintMismatch,
    ServerTimeoutError,
    UnixClientConnectorError,
)
from .proxy import open_tunnel
from .resolver import AbstractResolver, DefaultResolver, ResolveResult
from .tls import SSLValue, context_for, tls_info

if TYPE_CHECKING:
    from .tracing import Trace

__all__ = ["BaseConnector", "NamedPipeConnector", "TCPConnector", "UnixConnector"]

_Grant = ResponseProtocol | object  # an idle protocol, or a reservation token

# aiohttp's default: how long an idle connection is kept for reuse.
DEFAULT_KEEPALIVE = 15.0


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True


class BaseConnector:
    """Pool bookkeeping shared by every connector; subclasses open the transports."""

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
        self._waiters: collections.deque[tuple[ConnectionKey, asyncio.Future[_Grant]]] = (
            collections.deque()
        )
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

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close every connection and wait until each transport is really gone."""
        if self._closed and not self._protocols:
            return
        self._closed = True
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        for _key, fut in self._waiters:
            if not fut.done():
                fut.set_exception(ClientConnectionError("Connector is closed."))
                fut.exception()  # retrieved: nobody may be left to await it
        self._waiters.clear()
        self._idle.clear()
        self._idle_count = 0
        protocols = list(self._protocols)
        for protocol in protocols:
            transport = protocol.transport
            if transport is None:
                continue
            # TLS close_notify can wait on a silent peer for 30 s: abort instead.
            if transport.get_extra_info("sslcontext") is not None:
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
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout
    ) -> Connection:
        """A connection for ``req``: an idle one, a new one, or after waiting in line.

        Only the slow paths (waiting, connecting) run under a timeout scope: reusing an
        idle connection never awaits, so it costs no timer.
        """
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        key: ConnectionKey = req.connection_key
        grant = None if self._waiters else self._try_acquire(key)
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
                return await self._connect_slowly(req, key, grant, traces, timeout)
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
    ) -> Connection:
        if grant is None:
            grant = await self._wait_for_slot(key, traces)
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

    async def _wait_for_slot(self, key: ConnectionKey, traces: Sequence[Trace]) -> _Grant:
        fut: asyncio.Future[_Grant] = self._loop.create_future()
        self._waiters.append((key, fut))
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
                    self._waiters.remove((key, fut))
            raise
        for trace in traces:
            await trace.send_connection_queued_end()
        return grant

    def _try_acquire(self, key: ConnectionKey) -> _Grant | None:
        idle = self._idle.get(key)
        if idle:
            now = self._loop.time()
            while idle:
                protocol = idle.pop()
                self._idle_count -= 1
                if protocol.is_connected and now - protocol.last_used < self._keepalive_timeout:
                    if not idle:
                        del self._idle[key]
                    self._take_slot(key, protocol)
                    return protocol
                protocol.close()
            del self._idle[key]
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
            holders.discard(holder)
            if not holders:
                del self._acquired_per_host[key]

    def _give_back(self, key: ConnectionKey, grant: _Grant) -> None:
        if isinstance(grant, ResponseProtocol):
            self._release(key, grant)
        else:
            self._drop_slot(key, grant)
            self._wake_waiters()

    def _wake_waiters(self) -> None:
        if not self._waiters or self._closed:
            return
        still_waiting: collections.deque[tuple[ConnectionKey, asyncio.Future[_Grant]]] = (
            collections.deque()
        )
        while self._waiters:
            key, fut = self._waiters.popleft()
            if fut.done():
                continue
            grant = self._try_acquire(key)
            if grant is None:
                still_waiting.append((key, fut))
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
        if (
            should_close
            or self._closed
            or self._force_close
            or protocol.should_close
            or protocol.parser.in_message
            or not protocol.is_connected
        ):
            protocol.close()
        else:
            self._idle.setdefault(key, []).append(protocol)
            self._idle_count += 1
            if self._cleanup_handle is None:
                self._cleanup_handle = self._loop.call_later(
                    self._keepalive_timeout, self._cleanup
                )
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


class TCPConnector(BaseConnector):
    """TCP (and TLS) connections, with a DNS cache shared by concurrent lookups."""

    def __init__(
        self,
        *,
        ssl: SSLValue = True,
        verify_ssl: bool = True,
        fingerprint: bytes | None = None,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        family: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        local_addr: tuple[str, int] | None = None,
        resolver: AbstractResolver | None = None,
        keepalive_timeout: float | object | None = ...,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        loop: asyncio.AbstractEventLoop | None = None,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
    ) -> None:
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            loop=loop,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        # The deprecated spellings still work, folded into the one ``ssl`` value.
        if not verify_ssl:
            ssl = False
        if fingerprint is not None:
            ssl = Fingerprint(fingerprint)
        if ssl_context is not None:
            ssl = ssl_context
        self._ssl: SSLValue = ssl
        self._use_dns_cache = use_dns_cache
        self._ttl_dns_cache = ttl_dns_cache
        self._family = family
        self._local_addr = local_addr
        self._resolver = resolver if resolver is not None else DefaultResolver()
        self._resolver_owner = resolver is None
        self._dns_cache: dict[tuple[str, int], tuple[list[ResolveResult], float | None]] = {}
        self._dns_inflight: dict[tuple[str, int], asyncio.Future[list[ResolveResult]]] = {}

    @property
    def family(self) -> int:
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        return self._use_dns_cache

    @property
    def ssl(self) -> SSLValue:
        return self._ssl

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        """Forget cached addresses: of one ``host``/``port``, or all."""
        if host is not None and port is not None:
            self._dns_cache.pop((host, port), None)
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._dns_cache.clear()

    async def close(self) -> None:
        await super().close()
        if self._resolver_owner:
            await self._resolver.close()

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace]
    ) -> list[ResolveResult]:
        if _is_ip(host):
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            return [
                {
                    "hostname": host,
                    "host": host,
                    "port": port,
                    "family": family,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        if not self._use_dns_cache:
            return await self._resolve_now(host, port, traces)
        key = (host, port)
        cached = self._dns_cache.get(key)
        if cached is not None:
            addrs, expires = cached
            if expires is None or expires > self._loop.time():
                for trace in traces:
                    await trace.send_dns_cache_hit(host)
                return addrs
            del self._dns_cache[key]
        inflight = self._dns_inflight.get(key)
        if inflight is not None:
            # Someone is already asking: share their answer (one lookup for a burst).
            for trace in traces:
                await trace.send_dns_cache_hit(host)
            return await asyncio.shield(inflight)
        for trace in traces:
            await trace.send_dns_cache_miss(host)
        fut: asyncio.Future[list[ResolveResult]] = self._loop.create_future()
        self._dns_inflight[key] = fut
        try:
            addrs = await self._resolve_now(host, port, traces)
        except BaseException as exc:
            fut.set_exception(
                exc if isinstance(exc, Exception) else ClientConnectionError(str(exc))
            )
            fut.exception()  # failures are not cached, and nobody may be waiting
            raise
        finally:
            del self._dns_inflight[key]
        ttl = self._ttl_dns_cache
        self._dns_cache[key] = (addrs, None if ttl is None else self._loop.time() + ttl)
        fut.set_result(addrs)
        return addrs

    async def _resolve_now(
        self, host: str, port: int, traces: Sequence[Trace]
    ) -> list[ResolveResult]:
        for trace in traces:
            await trace.send_dns_resolvehost_start(host)
        addrs = await self._resolver.resolve(host, port, family=socket.AddressFamily(self._family))
        for trace in traces:
            await trace.send_dns_resolvehost_end(host)
        return addrs

    async def _create_connection(
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout
    ) -> ResponseProtocol:
        key: ConnectionKey = req.connection_key
        if req.proxy is not None:
            return await self._create_proxy_connection(req, traces, timeout)
        host: str = req.host
        port: int = req.port
        try:
            addrs = await self._resolve_host(host, port, traces)
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        protocol = await self._connect_tcp(key, host, port, addrs, traces, timeout)
        if req.is_ssl():
            try:
                await self._start_tls(key, protocol, req, traces, timeout)
            except BaseException:
                protocol.abort()  # a pin or a trace handler refused: drop the transport
                raise
        return protocol

    async def _create_proxy_connection(
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout
    ) -> ResponseProtocol:
        """To the proxy (TLS to it for https://), then a CONNECT tunnel for TLS targets."""
        key: ConnectionKey = req.connection_key
        proxy = req.proxy
        proxy_host: str = proxy.raw_host
        proxy_port: int = proxy.port or (443 if proxy.scheme == "https" else 80)
        try:
            addrs = await self._resolve_host(proxy_host, proxy_port, traces)
            protocol = await self._connect_tcp(key, proxy_host, proxy_port, addrs, traces, timeout)
        except ClientConnectorError as exc:
            raise ClientProxyConnectionError(key, exc.os_error) from exc
        except OSError as exc:
            raise ClientProxyConnectionError(key, exc) from exc
        try:
            if proxy.scheme == "https":
                # The proxy is verified like the target (same CA settings), but a pin names
                # the target's certificate, so the proxy then gets default verification.
                target_ssl = req.ssl if req.ssl is not True else self._ssl
                proxy_ssl = True if isinstance(target_ssl, Fingerprint) else target_ssl
                if proxy_ssl is True:
                    proxy_ssl = context_for(True)
                await self._start_tls(
                    key, protocol, _ProxyTarget(proxy_host, proxy_port, proxy_ssl), traces, timeout
                )
            if req.is_ssl():
                await open_tunnel(protocol, req, timeout)
                await self._start_tls(key, protocol, req, traces, timeout)
        except BaseException:
            protocol.abort()
            raise
        return protocol

    async def _connect_tcp(
        self,
        key: ConnectionKey,
        host: str,
        port: int,
        addrs: list[ResolveResult],
        traces: Sequence[Trace],
        timeout: ClientTimeout,
    ) -> ResponseProtocol:
        """Try each resolved address in turn until one accepts."""
        last_error: OSError | None = None
        for addr in addrs:
            for trace in traces:
                await trace.send_tcp_connect_start(host, port)
            try:
                async with asyncio.timeout(timeout.sock_connect or None):
                    transport, protocol = await self._loop.create_connection(
                        self._protocol_factory,
                        addr["host"],
                        addr["port"],
                        family=addr["family"],
                        proto=addr["proto"],
                        flags=addr["flags"],
                        local_addr=self._local_addr,
                    )
            except TimeoutError as exc:
                raise ConnectionTimeoutError(f"Connection timeout to host {host}:{port}") from exc
            except OSError as exc:
                last_error = exc
                continue
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for trace in traces:
                await trace.send_tcp_connect_end(host, port, transport.get_extra_info("peername"))
            return protocol
        if last_error is None:
            last_error = OSError(0, f"No address found for {host}")
        raise ClientConnectorError(key, last_error) from last_error

    async def _start_tls(
        self,
        key: ConnectionKey,
        protocol: ResponseProtocol,
        req: Any,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
    ) -> None:
        """Upgrade an open transport to TLS, then check the pin before any request byte."""
        ssl_value = req.ssl if req.ssl is not True else self._ssl
        context = context_for(ssl_value)
        server_hostname = req.server_hostname or req.host
        transport = protocol.transport
        assert transport is not None
        for trace in traces:
            await trace.send_tls_handshake_start(req.host, req.port, server_hostname)
        try:
            async with asyncio.timeout(timeout.sock_connect or None):
                tls_transport = await self._loop.start_tls(
                    transport, protocol, context, server_hostname=server_hostname
                )
        except ssl.SSLCertVerificationError as exc:
            transport.abort()
            raise ClientConnectorCertificateError(key, exc) from exc
        except ssl.SSLError as exc:
            transport.abort()
            raise ClientConnectorSSLError(key, exc) from exc
        except TimeoutError as exc:
            transport.abort()
            raise ConnectionTimeoutError(
                f"TLS handshake timeout with {req.host}:{req.port}"
            ) from exc
        except OSError as exc:
            transport.abort()
            raise ClientConnectorError(key, exc) from exc
        if tls_transport is None:  # pragma: no cover - start_tls returns None only on close
            raise ClientConnectorError(key, OSError(0, "Connection closed during TLS handshake"))
        protocol.transport = tls_transport
        ssl_object = tls_transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if isinstance(ssl_value, Fingerprint):
            got = ssl_value.digest_of(der or b"")
            if got != ssl_value.fingerprint:
                tls_transport.abort()
                raise ServerFingerprintMismatch(ssl_value.fingerprint, got, req.host, req.port)
        info = tls_info(ssl_object, server_hostname)
        protocol.tls = info
        for trace in traces:
            await trace.send_tls_handshake_end(
                req.host, req.port, info.version, info.cipher, info.peer_certificate
            )


class _ProxyTarget:
    """What ``_start_tls`` needs to verify an https:// proxy itself."""

    def __init__(self, host: str, port: int, ssl: SSLValue) -> None:
        self.host = host
        self.port = port
        self.ssl = ssl
        self.server_hostname: str | None = None


class UnixConnector(BaseConnector):
    """HTTP over a Unix domain socket; the URL's host only names the Host header."""

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | object | None = ...,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=loop,
        )
        self._path = str(path)

    @property
    def path(self) -> str:
        return self._path

    async def _create_connection(
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout
    ) -> ResponseProtocol:
        key: ConnectionKey = req.connection_key
        try:
            async with asyncio.timeout(timeout.sock_connect or None):
                _transport, protocol = await self._loop.create_unix_connection(
                    self._protocol_factory, self._path
                )
        except TimeoutError as exc:
            raise ConnectionTimeoutError(f"Timeout connecting to {self._path}") from exc
        except OSError as exc:
            raise UnixClientConnectorError(self._path, key, exc) from exc
        return protocol


class NamedPipeConnector(BaseConnector):
    """Windows named pipes; needs the proactor event loop."""

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | object | None = ...,
        limit: int = 100,
        limit_per_host: int = 0,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
            loop=loop,
        )
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if sys.platform != "win32" or proactor is None or not isinstance(self._loop, proactor):
            raise RuntimeError(
                "Named pipes are only available with the proactor event loop on Windows"
            )
        self._path: str = path

    @property
    def path(self) -> str:
        return self._path

    async def _create_connection(
        self, req: Any, traces: Sequence[Trace], timeout: ClientTimeout
    ) -> ResponseProtocol:  # pragma: no cover - Windows only
        key: ConnectionKey = req.connection_key
        try:
            async with asyncio.timeout(timeout.sock_connect or None):
                _transport, protocol = await self._loop.create_pipe_connection(  # type: ignore[attr-defined]
                    self._protocol_factory, self._path
                )
        except OSError as exc:
            raise ClientConnectorError(key, exc) from exc
        return protocol  # type: ignore[no-any-return]
