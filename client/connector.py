"""The connectors that fill the pool: TCP (with TLS and proxies), Unix sockets, named pipes.

Each opens a transport for a ``ClientRequest`` and hands back a ``ResponseProtocol``;
the bookkeeping of slots, waiters and keep-alive lives in ``pool.BaseConnector``.
A TLS connection is checked against its pin before any request byte can be written.

Rules:
- Resolved addresses are tried Happy Eyeballs style (RFC 8305, aiohttp's defaults: 0.25 s,
  families interleaved one by one): the next attempt starts when the last one failed or
  has had ``happy_eyeballs_delay`` seconds, the first connection wins. ``None`` tries one
  at a time. ``sock_connect`` bounds the whole attempt, as in aiohttp.
- Without a ``socket_factory`` the loop opens each TCP socket (``create_connection`` with
  host and port); with one, every attempt gets its socket from the factory, given
  aiohttp's addrinfo tuple ``(family, SOCK_STREAM, IPPROTO_TCP, "", sockaddr)``, and we
  bind and connect it ourselves.
- TLS transports are aborted when the connector closes (a silent peer could hold a
  close_notify for 30 s), unless the deprecated ``ssl_shutdown_timeout`` asks for a
  graceful shutdown; that bound is handed to ``start_tls``.
- ``http2=True`` (off by default, as aiohttp has no HTTP/2) offers ``h2`` by ALPN on every
  TLS connection to a target and hands connections that agree to ``http2_pool``;
  ``http2_prior_knowledge=True`` also speaks HTTP/2 (h2c) to http:// origins. Without it
  a server that picks ``h2`` anyway (a caller's context offering it) is refused.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .config import UNSET, ClientTimeout, ConnectionKey, Fingerprint
from .connection import ResponseProtocol
from .dnscache import DEFAULT_DNS_CACHE_MAX_SIZE, DnsCache
from .exceptions import (
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientProxyConnectionError,
    ConnectionTimeoutError,
    UnixClientConnectorError,
)
from .pool import BaseConnector
from .proxy import open_tunnel
from .resolver import AbstractResolver, DefaultResolver, ResolveResult
from .tls import SSLValue
from .tlshold import HandshakeHold
from .tlsupgrade import start_tls
from .typedefs import AddrInfoType, SocketFactoryType

if TYPE_CHECKING:
    from .http2_pool import H2Origins
    from .tracing import Trace

__all__ = ["BaseConnector", "NamedPipeConnector", "TCPConnector", "UnixConnector"]

# aiohappyeyeballs' AddrInfoType, what aiohttp 3.12's ``socket_factory`` is called with.
AddrInfo = AddrInfoType
SocketFactory = SocketFactoryType

# aiohttp's words, so a warnings filter written for aiohttp matches ours.
SSL_SHUTDOWN_TIMEOUT_DEPRECATED = (
    "The ssl_shutdown_timeout parameter is deprecated and will be removed in aiohttp 4.0"
)


def interleave_families(addrs: list[ResolveResult], first_count: int) -> list[ResolveResult]:
    """RFC 8305 §4: ``first_count`` addresses of the first family, then alternate families
    one by one (0: the resolver's order as it is)."""
    if first_count <= 0 or len(addrs) < 2:
        return addrs
    by_family: dict[int, list[ResolveResult]] = {}
    for addr in addrs:
        by_family.setdefault(addr["family"], []).append(addr)
    if len(by_family) < 2:
        return addrs
    queues = list(by_family.values())
    ordered = queues[0][:first_count]
    queues[0] = queues[0][first_count:]
    while any(queues):
        for queue in queues[1:] + queues[:1]:
            if queue:
                ordered.append(queue.pop(0))
    return ordered


def _h2_origins(connector: TCPConnector, prior_knowledge: bool) -> H2Origins:
    """The connector's HTTP/2 side; ``h2`` is the optional extra ``zurl[http2]``."""
    try:
        from .http2_pool import H2Origins
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] in ("h2", "hpack", "hyperframe"):
            raise ImportError(
                "HTTP/2 needs the h2 package: pip install 'zurl[http2]'", name=exc.name
            ) from exc
        raise
    return H2Origins(connector, prior_knowledge=prior_knowledge)


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
        dns_cache_max_size: int = DEFAULT_DNS_CACHE_MAX_SIZE,
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
        socket_factory: SocketFactory | None = None,
        ssl_shutdown_timeout: float | None = UNSET,
        http2: bool = False,
        http2_prior_knowledge: bool = False,
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
        self._dns = DnsCache(
            self._loop,
            self._resolver,
            enabled=use_dns_cache,
            ttl=ttl_dns_cache,
            family=family,
            max_size=dns_cache_max_size,
        )
        self._socket_factory = socket_factory
        self._happy_eyeballs_delay = happy_eyeballs_delay
        # asyncio's rule: with a delay and no interleave given, alternate one by one.
        self._interleave = (
            interleave
            if interleave is not None
            else (1 if happy_eyeballs_delay is not None else 0)
        )
        # aiohttp's default 0: TLS transports are aborted on close, asyncio's own bound
        # (30 s) applies to a close_notify otherwise.
        self._ssl_shutdown_timeout: float | None = 0
        if http2 or http2_prior_knowledge:
            self._http2 = _h2_origins(self, http2_prior_knowledge)
        if ssl_shutdown_timeout is not UNSET:
            warnings.warn(SSL_SHUTDOWN_TIMEOUT_DEPRECATED, DeprecationWarning, stacklevel=2)
            self._ssl_shutdown_timeout = ssl_shutdown_timeout

    @property
    def family(self) -> int:
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        return self._use_dns_cache

    @property
    def ssl(self) -> SSLValue:
        return self._ssl

    @property
    def http2(self) -> bool:
        """Whether HTTP/2 is offered (ALPN ``h2``) to https:// origins."""
        return self._http2 is not None

    @property
    def http2_prior_knowledge(self) -> bool:
        return self._http2 is not None and self._http2.prior_knowledge

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        """Forget cached addresses: of one ``host``/``port``, or all."""
        self._dns.clear(host, port)

    async def close(self, *, abort_ssl: bool = False) -> None:
        if self._ssl_shutdown_timeout != 0 and not abort_ssl:
            # Asked for a graceful TLS shutdown: close_notify, bounded by the timeout given
            # to start_tls (the pool still aborts what is left after its own wait).
            for protocol in list(self._protocols):
                transport = protocol.transport
                if protocol.tls is not None and transport is not None:
                    transport.close()
        if self._http2 is not None:
            await self._http2.close()
        await super().close(abort_ssl=abort_ssl)
        if self._resolver_owner:
            await self._resolver.close()

    async def _create_connection(
        self,
        req: Any,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
        *,
        hold: HandshakeHold | None = None,
    ) -> ResponseProtocol:
        """A connection to ``req``'s target. ``hold`` (from ``http2_pool``): offer ``h2``
        in the target's handshake and keep its first bytes there if the server agrees."""
        key: ConnectionKey = req.connection_key
        if req.proxy is not None:
            return await self._create_proxy_connection(req, traces, timeout, hold)
        host: str = req.host
        port: int = req.port
        try:
            addrs = await self._dns.resolve(host, port, traces)
        except OSError as exc:
            raise ClientConnectorDNSError(key, exc) from exc
        protocol = await self._connect_tcp(key, host, port, addrs, traces, timeout)
        if req.is_ssl():
            try:
                await self._start_tls_to(req, protocol, traces, timeout, hold)
            except BaseException:
                protocol.abort()  # a pin or a trace handler refused: drop the transport
                raise
        return protocol

    async def _create_proxy_connection(
        self,
        req: Any,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
        hold: HandshakeHold | None = None,
    ) -> ResponseProtocol:
        """To the proxy (TLS to it for https://), then a CONNECT tunnel for TLS targets.

        The proxy's handshake uses ``req.proxy_ssl`` only: the target's ``ssl`` value (a
        pin, ``False``, a context with a client certificate) never applies to it.
        """
        proxy = req.proxy
        proxy_host: str = proxy.raw_host
        is_tls_proxy = proxy.scheme == "https"
        proxy_port: int = proxy.port or (443 if is_tls_proxy else 80)
        proxy_key = ConnectionKey(
            proxy_host, proxy_port, is_tls_proxy, req.proxy_ssl, None, None, None, req.proxy_ssl
        )
        try:
            addrs = await self._dns.resolve(proxy_host, proxy_port, traces)
            protocol = await self._connect_tcp(
                proxy_key, proxy_host, proxy_port, addrs, traces, timeout
            )
        except ClientConnectorError as exc:
            raise ClientProxyConnectionError(proxy_key, exc.os_error) from exc
        except OSError as exc:
            raise ClientProxyConnectionError(proxy_key, exc) from exc
        try:
            if is_tls_proxy:
                await self._start_tls(
                    proxy_key,
                    protocol,
                    proxy_host,
                    proxy_port,
                    proxy_host,
                    req.proxy_ssl,
                    traces,
                    timeout,
                    to_proxy=True,
                )
            if req.is_ssl():
                await open_tunnel(protocol, req, timeout)
                await self._start_tls_to(req, protocol, traces, timeout, hold)
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
        """Connect to one of the resolved addresses: raced (Happy Eyeballs) or in turn.

        ``sock_connect`` bounds the whole attempt, as in aiohttp.
        """
        ordered = interleave_families(addrs, self._interleave)
        try:
            async with asyncio.timeout(timeout.sock_connect or None):
                transport, protocol = await self._race(host, port, ordered, traces)
        except TimeoutError as exc:
            raise ConnectionTimeoutError(f"Connection timeout to host {host}:{port}") from exc
        except OSError as exc:
            raise ClientConnectorError(key, exc) from exc
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for trace in traces:
            await trace.send_tcp_connect_end(host, port, transport.get_extra_info("peername"))
        return protocol

    async def _race(
        self, host: str, port: int, addrs: list[ResolveResult], traces: Sequence[Trace]
    ) -> tuple[asyncio.BaseTransport, ResponseProtocol]:
        """RFC 8305 §5: start the next attempt when the last one failed or has had
        ``happy_eyeballs_delay`` seconds; the first to connect wins and the others are
        cancelled (or closed, if they connected too). With no delay: one at a time."""
        delay = self._happy_eyeballs_delay
        pending: set[asyncio.Task[tuple[asyncio.BaseTransport, ResponseProtocol]]] = set()
        last_error: OSError | None = None
        winner: tuple[asyncio.BaseTransport, ResponseProtocol] | None = None
        left = iter(addrs)
        try:
            while winner is None:
                addr = next(left, None)
                if addr is not None:
                    for trace in traces:
                        await trace.send_tcp_connect_start(host, port)
                    pending.add(asyncio.ensure_future(self._attempt(addr)))
                if not pending:
                    break
                wait = delay if addr is not None and delay is not None else None
                done, pending = await asyncio.wait(
                    pending, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    error = task.exception()
                    if isinstance(error, OSError):
                        last_error = error
                    elif error is not None:
                        raise error
                    elif winner is None:
                        winner = task.result()
                    else:
                        task.result()[0].close()  # connected in the same turn: not needed
        finally:
            for task in pending:
                task.cancel()
            for outcome in await asyncio.gather(*pending, return_exceptions=True):
                if isinstance(outcome, tuple):
                    outcome[0].close()  # connected just before it was cancelled
        if winner is not None:
            return winner
        raise last_error if last_error is not None else OSError(0, f"No address found for {host}")

    async def _attempt(
        self, addr: ResolveResult
    ) -> tuple[asyncio.BaseTransport, ResponseProtocol]:
        """One connection attempt to one address."""
        if self._socket_factory is None:
            return await self._loop.create_connection(
                self._protocol_factory,
                addr["host"],
                addr["port"],
                family=addr["family"],
                proto=addr["proto"],
                flags=addr["flags"],
                local_addr=self._local_addr,
            )
        own = await self._connect_factory_socket(self._socket_factory, addr)
        return await self._loop.create_connection(self._protocol_factory, sock=own)

    async def _connect_factory_socket(
        self, factory: SocketFactory, addr: ResolveResult
    ) -> socket.socket:
        """A socket from the user's ``socket_factory``, bound and connected to ``addr``."""
        host, port = addr["host"], addr["port"]
        family = addr["family"] or (socket.AF_INET6 if ":" in host else socket.AF_INET)
        sockaddr = (host, port, 0, 0) if family == socket.AF_INET6 else (host, port)
        sock = factory((family, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", sockaddr))
        try:
            sock.setblocking(False)
            if self._local_addr is not None:
                sock.bind(self._local_addr)
            await self._loop.sock_connect(sock, sockaddr)
        except BaseException:
            sock.close()
            raise
        return sock

    async def _start_tls_to(
        self,
        req: Any,
        protocol: ResponseProtocol,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
        hold: HandshakeHold | None = None,
    ) -> None:
        """TLS to the request's target, with its ``ssl`` value (else the connector's)."""
        ssl_value = req.ssl if req.ssl is not True else self._ssl
        server_hostname = req.server_hostname or req.host
        await self._start_tls(
            req.connection_key,
            protocol,
            req.host,
            req.port,
            server_hostname,
            ssl_value,
            traces,
            timeout,
            hold=hold,
        )

    async def _start_tls(
        self,
        key: ConnectionKey,
        protocol: ResponseProtocol,
        host: str,
        port: int,
        server_hostname: str,
        ssl_value: SSLValue,
        traces: Sequence[Trace],
        timeout: ClientTimeout,
        *,
        to_proxy: bool = False,
        hold: HandshakeHold | None = None,
    ) -> None:
        """``tlsupgrade.start_tls`` with this connector's loop and TLS shutdown bound."""
        await start_tls(
            self._loop,
            key,
            protocol,
            host,
            port,
            server_hostname,
            ssl_value,
            traces,
            timeout,
            shutdown_timeout=self._ssl_shutdown_timeout,
            to_proxy=to_proxy,
            hold=hold,
        )


class _PathConnector(BaseConnector):
    """A connector to one local endpoint named by a path (Unix socket, named pipe)."""

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
        self._path: str = str(path)

    @property
    def path(self) -> str:
        return self._path


class UnixConnector(_PathConnector):
    """HTTP over a Unix domain socket; the URL's host only names the Host header."""

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


class NamedPipeConnector(_PathConnector):
    """Windows named pipes; needs the proactor event loop."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(path, *args, **kwargs)
        proactor = getattr(asyncio, "ProactorEventLoop", None)
        if sys.platform != "win32" or proactor is None or not isinstance(self._loop, proactor):
            raise RuntimeError(
                "Named pipes are only available with the proactor event loop on Windows"
            )

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
