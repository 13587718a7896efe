"""aiohttp parameters a script may pass, each with aiohttp's meaning, on loopback servers.

``ClientSession(json_serialize_bytes=, read_timeout=, conn_timeout=, ssl_shutdown_timeout=)``,
``TCPConnector(dns_cache_max_size=, socket_factory=, ssl_shutdown_timeout=)`` and
``ws_connect(decode_text=)``; the last test checks every ``__init__`` parameter name of
aiohttp's ``ClientSession`` and ``TCPConnector`` is accepted by ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import socket
import ssl
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

import client
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.raw import RawConnection, RawServerFactory

pytestmark = pytest.mark.timeout(30)


async def stall(conn: RawConnection) -> None:
    """Read whatever comes (a request, a ClientHello) and never answer."""
    while await conn.read():
        pass


# -- json_serialize_bytes --------------------------------------------------------------------


async def test_json_serialize_bytes_makes_the_json_body(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    calls: list[Any] = []

    def dumps_bytes(value: Any) -> bytes:  # what orjson.dumps does: compact, bytes
        calls.append(value)
        return json.dumps(value, separators=(",", ":")).encode()

    def dumps_str(value: Any) -> str:
        raise AssertionError("json_serialize must not be used when the bytes one is given")

    async with (
        client.ClientSession(json_serialize=dumps_str, json_serialize_bytes=dumps_bytes) as s,
        s.post(server.url + "/echo", json={"a": [1, 2], "é": None}) as resp,
    ):
        echo = await resp.json()
    assert echo["body"] == '{"a":[1,2],"\\u00e9":null}'
    assert echo["headers"]["Content-Type"] == "application/json"
    assert calls == [{"a": [1, 2], "é": None}]


async def test_json_serialize_is_used_without_a_bytes_encoder(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with (
        client.ClientSession(json_serialize=lambda v: json.dumps(v, indent=1)) as s,
        s.post(server.url + "/echo", json=[1]) as resp,
    ):
        echo = await resp.json()
    assert echo["body"] == "[\n 1\n]"


# -- read_timeout / conn_timeout (deprecated spellings) --------------------------------------


async def test_read_timeout_is_the_total_timeout(raw_server: RawServerFactory) -> None:
    server = await raw_server(stall)
    with pytest.warns(DeprecationWarning, match="read_timeout is deprecated"):
        session = client.ClientSession(read_timeout=0.3)
    async with session:
        assert session.timeout.total == 0.3
        assert session.timeout.sock_connect == 30  # the rest of the default stays
        started = time.monotonic()
        with pytest.raises(client.ServerTimeoutError, match="Total timeout") as info:
            await session.get(server.url + "/")
    assert not isinstance(info.value, client.SocketTimeoutError)
    assert time.monotonic() - started < 5


async def test_conn_timeout_bounds_getting_a_connection(
    raw_server: RawServerFactory, client_ssl_context: ssl.SSLContext
) -> None:
    # A TLS handshake the server never answers: the connect phase stalls, not the read.
    server = await raw_server(stall)
    with pytest.warns(DeprecationWarning, match="conn_timeout is deprecated"):
        session = client.ClientSession(conn_timeout=0.3)
    async with session:
        assert session.timeout.connect == 0.3
        assert session.timeout.total == 5 * 60
        url = f"https://127.0.0.1:{server.port}/"
        started = time.monotonic()
        with pytest.raises(client.ConnectionTimeoutError, match="Connection timeout"):
            await session.get(url, ssl=client_ssl_context)
    assert time.monotonic() - started < 5


async def test_read_and_conn_timeout_combine() -> None:
    with pytest.warns(DeprecationWarning) as record:
        session = client.ClientSession(read_timeout=7, conn_timeout=2)
    async with session:
        assert (session.timeout.total, session.timeout.connect) == (7, 2)
    assert len(record) == 2
    assert all(w.filename == __file__ for w in record)  # they point at the caller


@pytest.mark.parametrize("legacy", [{"read_timeout": 1.0}, {"conn_timeout": 1.0}])
async def test_legacy_timeouts_conflict_with_timeout(legacy: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="conflicts with timeout="):
        client.ClientSession(timeout=client.ClientTimeout(total=5), **legacy)  # type: ignore[arg-type]


# -- ssl_shutdown_timeout -------------------------------------------------------------------


@contextlib.contextmanager
def tls_listener() -> Iterator[socket.socket]:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    try:
        yield listener
    finally:
        listener.close()


def answer_once_then_watch_close(listener: socket.socket, context: ssl.SSLContext) -> str:
    """One HTTP exchange over TLS, then how the client ended it: with a TLS close_notify
    ("close_notify") or by dropping TCP under the TLS session ("ragged")."""
    raw, _ = listener.accept()
    raw.settimeout(10)
    with context.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False) as tls:
        head = b""
        while b"\r\n\r\n" not in head:
            head += tls.recv(4096)
        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        try:
            while tls.recv(4096):
                pass
        except ssl.SSLEOFError:
            return "ragged"
        return "close_notify"


@pytest.mark.parametrize("where", ["connector", "session", None])
async def test_ssl_shutdown_timeout_asks_for_a_graceful_tls_close(
    where: str | None, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    with tls_listener() as listener:
        port = listener.getsockname()[1]
        watch = asyncio.create_task(
            asyncio.to_thread(answer_once_then_watch_close, listener, server_ssl_context)
        )
        if where == "connector":
            with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout"):
                connector = client.TCPConnector(ssl_shutdown_timeout=2.0)
            session = client.ClientSession(connector=connector)
        elif where == "session":
            with pytest.warns(DeprecationWarning, match="ssl_shutdown_timeout") as record:
                session = client.ClientSession(ssl_shutdown_timeout=2.0)
            assert len(record) == 1
        else:
            session = client.ClientSession()
        async with session:
            async with session.get(f"https://localhost:{port}/", ssl=client_ssl_context) as r:
                assert await r.text() == "ok"
        # aiohttp's default (0) aborts TLS connections on close; a timeout asks for a
        # close_notify first.
        assert await watch == ("ragged" if where is None else "close_notify")


# -- dns_cache_max_size ---------------------------------------------------------------------


async def test_dns_cache_keeps_at_most_max_size_names_lru_first_out(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    names = ("a.test", "b.test", "c.test")
    resolver = client.StaticResolver({(n, server.port): ["127.0.0.1"] for n in names})
    seen: list[str] = []
    trace = client.TraceConfig()

    async def on_hit(_s: Any, _ctx: Any, params: Any) -> None:
        seen.append(f"hit {params.host}")

    async def on_miss(_s: Any, _ctx: Any, params: Any) -> None:
        seen.append(f"miss {params.host}")

    trace.on_dns_cache_hit.append(on_hit)
    trace.on_dns_cache_miss.append(on_miss)
    connector = client.TCPConnector(resolver=resolver, force_close=True, dns_cache_max_size=2)
    async with client.ClientSession(connector=connector, trace_configs=[trace]) as session:
        for name in ("a", "b", "a", "c", "a", "b"):
            async with session.get(f"http://{name}.test:{server.port}/") as resp:
                assert await resp.text() == "ok"
    # c evicts b, not a: the hit on a made it the more recently used of the two.
    assert seen == [
        "miss a.test",
        "miss b.test",
        "hit a.test",
        "miss c.test",
        "hit a.test",
        "miss b.test",
    ]


# -- socket_factory -------------------------------------------------------------------------


class RecordingFactory:
    """A socket_factory that turns on SO_KEEPALIVE and keeps what it was given."""

    def __init__(self) -> None:
        self.addrinfos: list[tuple[Any, ...]] = []
        self.sockets: list[socket.socket] = []

    def __call__(self, addrinfo: tuple[Any, ...]) -> socket.socket:
        family, type_, proto, _, _ = addrinfo
        sock = socket.socket(family, type_, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        self.addrinfos.append(addrinfo)
        self.sockets.append(sock)
        return sock


async def tell_peer_port(conn: RawConnection) -> None:
    while await conn.read_request():
        body = str(conn.peer[1]).encode()  # type: ignore[index]
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))


async def test_socket_factory_makes_the_connected_socket(raw_server: RawServerFactory) -> None:
    server = await raw_server(tell_peer_port)
    factory = RecordingFactory()
    connector = client.TCPConnector(socket_factory=factory)
    async with client.ClientSession(connector=connector) as session:
        async with session.get(server.url + "/") as resp:
            peer_port = int(await resp.text())
        async with session.get(server.url + "/") as resp:
            assert int(await resp.text()) == peer_port  # kept alive: no second socket
        [sock] = factory.sockets
        assert sock.getsockname()[1] == peer_port  # the server talked to the factory's
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
    expected = (
        socket.AF_INET,
        socket.SOCK_STREAM,
        socket.IPPROTO_TCP,
        "",
        ("127.0.0.1", server.port),
    )
    assert factory.addrinfos == [expected]
    assert sock.fileno() == -1  # closed with the session


async def test_socket_factory_is_called_for_every_attempt(raw_server: RawServerFactory) -> None:
    server = await raw_server(tell_peer_port)  # listens on 127.0.0.1 only
    resolver = client.StaticResolver({("two.test", server.port): ["127.0.0.2", "127.0.0.1"]})
    factory = RecordingFactory()
    connector = client.TCPConnector(resolver=resolver, socket_factory=factory)
    async with client.ClientSession(connector=connector) as session:
        async with session.get(f"http://two.test:{server.port}/") as resp:
            assert int(await resp.text()) == factory.sockets[1].getsockname()[1]
    assert [info[4] for info in factory.addrinfos] == [
        ("127.0.0.2", server.port),
        ("127.0.0.1", server.port),
    ]
    assert factory.sockets[0].fileno() == -1  # the refused attempt's socket was closed


async def test_socket_factory_failure_is_a_connector_error(
    raw_server: RawServerFactory,
) -> None:
    server = await raw_server(tell_peer_port)
    await server.close()  # nothing listens there any more
    factory = RecordingFactory()
    async with client.ClientSession(
        connector=client.TCPConnector(socket_factory=factory)
    ) as session:
        with pytest.raises(client.ClientConnectorError):
            await session.get(f"http://127.0.0.1:{server.port}/")
    assert len(factory.sockets) == 1 and factory.sockets[0].fileno() == -1


async def test_socket_factory_carries_tls(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    factory = RecordingFactory()
    connector = client.TCPConnector(socket_factory=factory, ssl=client_ssl_context)
    async with (
        client.ClientSession(connector=connector) as session,
        session.get(f"https://localhost:{server.port}/") as resp,
    ):
        assert await resp.text() == "ok"
        assert len(factory.sockets) == 1


# -- ws_connect(decode_text=) ---------------------------------------------------------------


TEXT = "héllo wörld"


@contextlib.asynccontextmanager
async def ws_server() -> AsyncIterator[str]:
    async def handler(ws: ServerConnection) -> None:
        await ws.send(TEXT)  # one frame
        await ws.send([TEXT[:3], TEXT[3:]])  # fragmented
        await ws.send(json.dumps({"k": TEXT}))
        await ws.send(b"\x00\xff")
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0, ping_interval=None) as srv:
        yield f"ws://127.0.0.1:{srv.sockets[0].getsockname()[1]}/"


@pytest.mark.parametrize("compress", [0, 15])
async def test_decode_text_false_delivers_text_as_bytes(compress: int) -> None:
    async with (
        ws_server() as url,
        client.ClientSession() as session,
        session.ws_connect(url, decode_text=False, compress=compress) as ws,
    ):
        assert bool(ws.compress) == bool(compress)  # the server picks the window bits
        msg = await ws.receive()
        assert msg.type is client.WSMsgType.TEXT
        assert msg.data == TEXT.encode()
        assert await ws.receive_str() == TEXT.encode()
        assert await ws.receive_json() == {"k": TEXT}
        assert await ws.receive_bytes() == b"\x00\xff"


async def test_decode_text_default_delivers_str() -> None:
    async with (
        ws_server() as url,
        client.ClientSession() as session,
        session.ws_connect(url) as ws,
    ):
        assert (await ws.receive()).data == TEXT
        assert await ws.receive_str() == TEXT
        assert await ws.receive_json() == {"k": TEXT}


# -- the signature check --------------------------------------------------------------------


# aiohttp 3.14's ``ClientSession.__init__`` and ``TCPConnector.__init__`` parameter names,
# less request_class/response_class/ws_response_class (not supported).
AIOHTTP_SESSION_PARAMS = [
    "base_url",
    "connector",
    "loop",
    "cookies",
    "headers",
    "proxy",
    "proxy_auth",
    "skip_auto_headers",
    "auth",
    "json_serialize",
    "json_serialize_bytes",
    "version",
    "cookie_jar",
    "connector_owner",
    "raise_for_status",
    "read_timeout",
    "conn_timeout",
    "timeout",
    "auto_decompress",
    "trust_env",
    "requote_redirect_url",
    "trace_configs",
    "read_bufsize",
    "max_line_size",
    "max_field_size",
    "max_headers",
    "fallback_charset_resolver",
    "middlewares",
    "ssl_shutdown_timeout",
]
AIOHTTP_CONNECTOR_PARAMS = [
    "verify_ssl",
    "fingerprint",
    "use_dns_cache",
    "ttl_dns_cache",
    "dns_cache_max_size",
    "family",
    "ssl_context",
    "ssl",
    "local_addr",
    "resolver",
    "keepalive_timeout",
    "force_close",
    "limit",
    "limit_per_host",
    "enable_cleanup_closed",
    "loop",
    "timeout_ceil_threshold",
    "happy_eyeballs_delay",
    "interleave",
    "socket_factory",
    "ssl_shutdown_timeout",
]


@pytest.mark.parametrize(
    ("ours", "names"),
    [
        (client.ClientSession.__init__, AIOHTTP_SESSION_PARAMS),
        (client.TCPConnector.__init__, AIOHTTP_CONNECTOR_PARAMS),
    ],
)
def test_every_aiohttp_parameter_name_is_accepted(ours: Any, names: list[str]) -> None:
    accepted = set(inspect.signature(ours).parameters)
    assert [name for name in names if name not in accepted] == []
