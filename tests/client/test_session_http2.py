"""HTTP/2 through the public API: ``ClientSession(http2=True)`` against real servers.

hypercorn (in-process), Debian's nginx (private config) and a scripted server on ``h2``
(which counts connections and streams, and sends GOAWAY or RST_STREAM on cue).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import trustme

import client
from tests.conftest import NGINX_BIG_FILE
from tests.servers import tls
from tests.servers.h2server import H2Server, ServerStream
from tests.servers.hypercorn_server import GZIP_TEXT, HypercornServer
from tests.servers.keepalive import pattern_bytes
from tests.servers.nginx import NginxServer
from tests.servers.proxy import ProxyServer

pytestmark = pytest.mark.timeout(60)

H2Factory = Callable[..., Awaitable[H2Server]]
HypercornFactory = Callable[..., Awaitable[HypercornServer]]
H2 = client.HttpVersion(2, 0)


def h2_ssl(server_ssl_context: ssl.SSLContext) -> ssl.SSLContext:
    return server_ssl_context  # the scripted server sets ALPN h2 on it


# -- negotiation -----------------------------------------------------------------------------


async def test_alpn_picks_h2_and_the_callers_context_offers_it(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server()
    async with client.ClientSession(http2=True) as session:
        async with session.get(server.url + "/echo", ssl=client_ssl_context) as resp:
            assert resp.version == H2
            assert (await resp.json())["http_version"] == "2"
            assert resp.tls_info is not None and resp.tls_info.alpn == "h2"
            assert resp.reason == "OK"
    assert client_ssl_context.get_ca_certs()  # the caller's own context was used


async def test_fallback_to_http11_when_the_server_has_no_h2(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server(alpn=("http/1.1",))
    async with client.ClientSession(http2=True) as session:
        for _ in range(2):
            async with session.get(server.url + "/echo", ssl=client_ssl_context) as resp:
                assert resp.version == client.HttpVersion11
                assert (await resp.json())["http_version"] == "1.1"
                assert resp.tls_info is not None and resp.tls_info.alpn == "http/1.1"
        assert resp.reused_connection


async def test_http2_is_off_by_default(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server()
    async with client.ClientSession() as session:
        async with session.get(server.url + "/echo", ssl=client_ssl_context) as resp:
            assert resp.version == client.HttpVersion11
            assert resp.tls_info is not None
            assert resp.tls_info.alpn is None  # a caller's context is left as it is


async def test_h2c_with_prior_knowledge(hypercorn_server: HypercornFactory) -> None:
    server = await hypercorn_server(tls=False)
    async with client.ClientSession(http2_prior_knowledge=True) as session:
        async with session.get(server.url + "/echo") as resp:
            assert resp.version == H2
            assert (await resp.json())["http_version"] == "2"
    async with client.ClientSession(http2=True) as session:  # no h2c upgrade: HTTP/1.1
        async with session.get(server.url + "/echo") as resp:
            assert resp.version == client.HttpVersion11


async def test_nginx_over_alpn_and_h2c(
    nginx_h2: NginxServer, client_ssl_context: ssl.SSLContext
) -> None:
    connector = client.TCPConnector(http2=True, http2_prior_knowledge=True)
    async with client.ClientSession(connector=connector) as session:
        for base, ssl_value in ((nginx_h2.https, client_ssl_context), (nginx_h2.h2c, True)):
            async with session.get(base + "/small", ssl=ssl_value) as resp:
                assert (resp.status, resp.version, await resp.text()) == (200, H2, "small\n")
                assert resp.headers["Server"].startswith("nginx")


def test_a_missing_h2_package_is_a_clear_error() -> None:
    script = (
        "import sys, asyncio; sys.modules['h2'] = None\n"
        "import client\n"
        "async def main():\n"
        "    try:\n"
        "        client.TCPConnector(http2=True)\n"
        "    except ImportError as exc:\n"
        "        print(exc)\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=True
    )
    assert "pip install 'zurl[http2]'" in out.stdout


async def test_http2_on_the_session_needs_it_on_a_given_connector() -> None:
    with pytest.raises(ValueError, match="http2=True"):
        client.ClientSession(http2=True, connector=client.TCPConnector())
    connector = client.TCPConnector(http2=True)
    assert connector.http2 and not connector.http2_prior_knowledge
    await connector.close()


# -- one connection, many streams ------------------------------------------------------------


async def test_a_hundred_requests_from_a_cold_start_share_one_connection(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await h2_server(ssl=server_ssl_context)
    async with client.ClientSession(http2=True) as session:

        async def fetch(i: int) -> bytes:
            async with session.get(f"{server.url}/bytes/{i}", ssl=client_ssl_context) as resp:
                assert resp.version == H2
                return await resp.read()

        bodies = await asyncio.gather(*(fetch(i) for i in range(100)))
    assert bodies == [pattern_bytes(i) for i in range(100)]
    assert len(server.connections) == 1
    assert server.max_open_streams > 1


async def test_nginx_counts_one_connection_for_a_hundred_requests(
    nginx_h2: NginxServer, client_ssl_context: ssl.SSLContext
) -> None:
    before = nginx_h2.accepted_connections()
    async with client.ClientSession(http2=True) as session:

        async def fetch() -> str:
            async with session.get(nginx_h2.https + "/small", ssl=client_ssl_context) as resp:
                return await resp.text()

        assert await asyncio.gather(*(fetch() for _ in range(100))) == ["small\n"] * 100
    assert nginx_h2.accepted_connections() - before == 1


async def test_max_concurrent_streams_queues_the_rest(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await h2_server(ssl=server_ssl_context, max_concurrent_streams=10)
    async with client.ClientSession(http2=True) as session:

        async def fetch() -> int:
            async with session.get(server.url + "/delay/0.02", ssl=client_ssl_context) as resp:
                await resp.read()
                return resp.status

        assert await asyncio.gather(*(fetch() for _ in range(100))) == [200] * 100
    assert server.max_open_streams == 10
    assert len(server.connections) == 1


async def test_limit_per_host_counts_streams(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await h2_server(ssl=server_ssl_context)
    connector = client.TCPConnector(http2=True, limit_per_host=3)
    async with client.ClientSession(connector=connector) as session:

        async def fetch() -> bytes:
            async with session.get(server.url + "/delay/0.02", ssl=client_ssl_context) as resp:
                return await resp.read()

        assert await asyncio.gather(*(fetch() for _ in range(20))) == [b"ok"] * 20
    assert server.max_open_streams == 3
    assert len(server.connections) == 1


# -- GOAWAY, RST_STREAM ----------------------------------------------------------------------


def goaway_after(count: int) -> Callable[[ServerStream], Awaitable[None]]:
    """The first connection answers its first ``count`` streams, then says GOAWAY."""

    async def handler(stream: ServerStream) -> None:
        conn = stream.conn
        if conn.index == 0 and stream.stream_id == 2 * count - 1:
            conn.goaway(last_stream_id=stream.stream_id)
        await asyncio.sleep(0.01)
        await stream.respond(200, f"{conn.index}".encode())

    return handler


async def test_goaway_mid_run_retries_idempotent_requests_and_loses_none(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await h2_server(goaway_after(10), ssl=server_ssl_context)
    async with client.ClientSession(http2=True) as session:

        async def fetch() -> bytes:
            async with session.get(server.url + "/", ssl=client_ssl_context) as resp:
                return await resp.read()

        bodies = await asyncio.gather(*(fetch() for _ in range(50)))
    assert bodies.count(b"0") == 10  # the first connection finished its first ten
    assert bodies.count(b"1") == 40  # the rest went again, on one new connection
    assert len(server.connections) == 2


async def test_goaway_fails_a_post_it_refused_with_a_clear_error(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    post_arrived = asyncio.Event()

    async def handler(stream: ServerStream) -> None:
        if stream.stream_id == 3:  # the POST, on the connection's second stream
            stream.conn.goaway(last_stream_id=1)
            post_arrived.set()
            return
        await post_arrived.wait()
        await stream.respond(200, b"first")

    server = await h2_server(handler, ssl=server_ssl_context)
    async with client.ClientSession(http2=True) as session:
        first = asyncio.ensure_future(session.get(server.url + "/", ssl=client_ssl_context))
        while not server.streams:
            await asyncio.sleep(0.001)
        with pytest.raises(client.ServerDisconnectedError, match=r"GOAWAY.*POST .*not sent again"):
            await session.post(server.url + "/", data=b"x", ssl=client_ssl_context)
        async with await first as resp:
            assert await resp.read() == b"first"
    assert len(server.connections) == 1


async def test_rst_stream_is_a_disconnect_before_the_head_and_a_payload_error_after(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    async def handler(stream: ServerStream) -> None:
        if stream.path == "/mid-body":
            stream.send_headers([(b":status", b"200"), (b"content-length", b"100")])
            await stream.send_data(b"x" * 10)
        stream.reset(2)  # INTERNAL_ERROR

    server = await h2_server(handler, ssl=server_ssl_context)
    async with client.ClientSession(http2=True) as session:
        with pytest.raises(client.ServerDisconnectedError, match="INTERNAL_ERROR"):
            await session.get(server.url + "/", ssl=client_ssl_context)
        async with session.get(server.url + "/mid-body", ssl=client_ssl_context) as resp:
            with pytest.raises(client.ClientPayloadError, match="INTERNAL_ERROR"):
                await resp.read()
    assert len(server.connections) == 1


# -- bodies ----------------------------------------------------------------------------------


async def test_a_100_mb_download_is_byte_exact(
    nginx_h2: NginxServer, client_ssl_context: ssl.SSLContext
) -> None:
    digest = hashlib.sha256()
    size = 0
    async with client.ClientSession(http2=True) as session:
        url = nginx_h2.https + "/files/100m.bin"
        async with session.get(url, ssl=client_ssl_context) as resp:
            assert resp.version == H2
            async for chunk in resp.content.iter_any():
                digest.update(chunk)
                size += len(chunk)
    assert size == NGINX_BIG_FILE
    assert digest.digest() == hashlib.sha256(pattern_bytes(NGINX_BIG_FILE)).digest()


async def test_a_100_mb_upload_is_byte_exact(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await h2_server(ssl=server_ssl_context, initial_window=1 << 20)
    piece = pattern_bytes(1 << 20)
    total = 100 * len(piece)

    async def body() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield piece

    async with client.ClientSession(http2=True) as session:
        async with session.put(server.url + "/echo", data=body(), ssl=client_ssl_context) as resp:
            echo = await resp.json()
    assert echo["length"] == total
    assert echo["sha256"] == hashlib.sha256(piece * 100).hexdigest()
    names = [name for name, _ in echo["fields"]]
    assert "transfer-encoding" not in names and "connection" not in names


async def test_gzip_and_a_json_post(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server()
    async with client.ClientSession(http2=True) as session:
        async with session.get(server.url + "/gzip", ssl=client_ssl_context) as resp:
            assert await resp.read() == GZIP_TEXT
        async with session.post(server.url + "/echo", json={"a": 1}, ssl=client_ssl_context) as r:
            echo = await r.json()
    assert echo["method"] == "POST" and echo["length"] == len(json.dumps({"a": 1}))


# -- redirects, cookies, pins, proxies, WebSockets, tracing ----------------------------------


async def test_redirects_and_cookies_as_over_http11(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    h2_origin = await hypercorn_server()
    h1_origin = await hypercorn_server(alpn=("http/1.1",))
    jar = client.CookieJar(unsafe=True)  # 127.0.0.1 is an IP address
    async with client.ClientSession(http2=True, cookie_jar=jar) as session:
        url = f"{h2_origin.url}/set-cookie?flavour=oat"
        async with session.get(url, ssl=client_ssl_context) as resp:
            assert resp.cookies["flavour"].value == "oat"
        async with session.get(h2_origin.url + "/cookies", ssl=client_ssl_context) as resp:
            assert (await resp.json())["cookie"] == "flavour=oat"
        target = f"{h1_origin.url}/echo"
        url = f"{h2_origin.url}/redirect?to={target}&status=307"
        async with session.post(
            url, data=b"abc", ssl=client_ssl_context, auth=client.BasicAuth("u", "p")
        ) as resp:
            echo = await resp.json()
            assert [r.version for r in resp.history] == [H2]
            assert resp.version == client.HttpVersion11
    assert echo["method"] == "POST" and echo["length"] == 3
    assert "authorization" not in {k.lower() for k, _ in echo["headers"]}  # another origin


async def test_pins_hold_before_any_http2_byte(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, tls_cert: trustme.LeafCert
) -> None:
    server = await h2_server(ssl=server_ssl_context)
    good = client.Pins([tls.fingerprint_sha256(tls_cert)], verify=False)
    async with client.ClientSession(http2=True) as session:
        with pytest.raises(client.PinMismatch):
            await session.get(server.url + "/", ssl=client.Pins([b"\x01" * 32], verify=False))
        assert server.streams == []  # not even the connection preface was answered
        async with session.get(server.url + "/", ssl=good) as resp:
            assert (resp.version, await resp.read()) == (H2, b"ok")


async def test_http2_through_a_connect_tunnel(
    proxy_server: ProxyServer,
    hypercorn_server: HypercornFactory,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await hypercorn_server()
    async with client.ClientSession(http2=True) as session:
        for _ in range(2):
            async with session.get(
                server.url + "/echo", proxy=proxy_server.url, ssl=client_ssl_context
            ) as resp:
                assert resp.version == H2
                assert resp.proxy_decision.tunnel
        assert resp.reused_connection


async def test_websockets_stay_on_http11(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext, tls_ca: trustme.CA
) -> None:
    server = await hypercorn_server()
    wss = server.url.replace("https://", "wss://")
    async with client.ClientSession(http2=True) as session:
        async with session.get(server.url + "/", ssl=client_ssl_context) as resp:
            assert resp.version == H2  # the origin is known to speak h2
        async with session.ws_connect(wss + "/ws", ssl=tls.client_context(tls_ca)) as ws:
            await ws.send_str("hello")
            assert (await ws.receive_str()) == "hello"
        # The context given to HTTP/2 requests offers h2 now: an HTTP/1.1-only
        # connection with it is refused with a clear error, not misread.
        with pytest.raises(client.ClientConnectorError, match="offers h2"):
            await session.ws_connect(wss + "/ws", ssl=client_ssl_context)


async def test_every_trace_signal_and_the_alpn_result(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server()
    seen: list[tuple[str, Any]] = []
    config = client.TraceConfig()
    for name in client.tracing.SIGNALS:

        def handler(_s: Any, _c: Any, params: Any, name: str = name) -> Awaitable[None]:
            seen.append((name, params))
            return asyncio.sleep(0)

        getattr(config, name).append(handler)
    async with client.ClientSession(http2=True, trace_configs=[config]) as session:
        for _ in range(2):
            async with session.post(
                server.url + "/echo", data=b"body", ssl=client_ssl_context
            ) as resp:
                await resp.read()
    names = [name for name, _ in seen]
    first = names[: names.index("on_response_end") + 1]
    assert first == [
        "on_request_start",
        "on_connection_create_start",
        "on_tcp_connect_start",
        "on_tcp_connect_end",
        "on_tls_handshake_start",
        "on_tls_handshake_end",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_request_chunk_sent",
        "on_response_first_byte",
        "on_request_end",
        "on_response_chunk_received",
        "on_response_end",
    ]
    second = names[len(first) :]
    assert second[:2] == ["on_request_start", "on_connection_reuseconn"]
    tls_end = dict(seen)["on_tls_handshake_end"]
    assert tls_end.alpn == "h2"


# -- request bodies as over HTTP/1.1, timeouts ---------------------------------------------


async def test_compressed_expected_and_tracked_bodies(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server()
    plain = b"compress me " * 10_000

    async def pieces() -> AsyncIterator[bytes]:
        for i in range(0, len(plain), 4096):
            yield plain[i : i + 4096]

    async with client.ClientSession(http2=True) as session:
        for body in (plain, pieces()):
            async with session.post(
                server.url + "/echo", data=body, compress="deflate", ssl=client_ssl_context
            ) as resp:
                echo = await resp.json()
            fields = dict(echo["headers"])
            assert fields["content-encoding"] == "deflate"
            assert 0 < echo["length"] < len(plain) // 10
        tracker = client.UploadTracker()
        async with session.put(
            server.url + "/echo",
            data=plain,
            expect100=True,
            upload_tracker=tracker,
            ssl=client_ssl_context,
        ) as resp:
            echo = await resp.json()
        assert echo["length"] == len(plain)
        assert dict(echo["headers"])["expect"] == "100-continue"
        assert tracker.attempts == 1
        assert tracker.upload_complete.result() is None


async def test_a_body_shorter_than_its_content_length_fails(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await h2_server(ssl=server_ssl_context)

    async def short() -> AsyncIterator[bytes]:
        yield b"12345"

    async with client.ClientSession(http2=True) as session:
        with pytest.raises(client.ClientPayloadError, match="short of its Content-Length"):
            await session.post(
                server.url + "/echo",
                data=short(),
                headers={"Content-Length": "10"},
                ssl=client_ssl_context,
            )
        async with session.get(server.url + "/", ssl=client_ssl_context) as resp:
            assert await resp.read() == b"ok"  # the connection carries on
    assert len(server.connections) == 1


async def test_timeouts_fail_the_stream_not_the_connection(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    async def handler(stream: ServerStream) -> None:
        if stream.path == "/stall-head":
            await asyncio.sleep(30)
        elif stream.path == "/stall-body":
            stream.send_headers([(b":status", b"200"), (b"content-length", b"100")])
            await stream.send_data(b"x" * 10)
            await asyncio.sleep(30)
        else:
            await stream.respond(200, b"ok")

    server = await h2_server(handler, ssl=server_ssl_context)
    async with client.ClientSession(http2=True) as session:
        with pytest.raises(client.SocketTimeoutError):
            await session.get(
                server.url + "/stall-head",
                ssl=client_ssl_context,
                timeout=client.ClientTimeout(sock_read=0.2),
            )
        async with session.get(
            server.url + "/stall-body", ssl=client_ssl_context, timeout=client.ClientTimeout(0.5)
        ) as resp:
            with pytest.raises(client.ServerTimeoutError):
                await resp.read()
        async with session.get(server.url + "/", ssl=client_ssl_context) as resp:
            assert await resp.read() == b"ok"
    assert len(server.connections) == 1
    assert {stream_id for stream_id, code in server.resets if code == 8} == {1, 3}  # CANCEL


async def test_a_bomb_read_whole_over_http2_is_refused_by_its_ratio(
    h2_server: H2Factory, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    """The same expansion-ratio bound as over HTTP/1.1: a body read whole is refused soon
    after 16 MiB; streamed, the same body reads to its end."""
    from tests.servers.bomb import gzip_bomb

    bomb = gzip_bomb(48 << 20)

    async def handler(stream: ServerStream) -> None:
        stream.send_headers([(b":status", b"200"), (b"content-encoding", b"gzip")])
        await stream.send_data(bomb, end=True)

    server = await h2_server(handler, ssl=server_ssl_context)
    async with client.ClientSession(http2=True) as session:
        async with session.get(server.url + "/", ssl=client_ssl_context) as resp:
            assert resp.version == H2
            with pytest.raises(client.DecompressionLimitError, match="read whole"):
                await resp.read()
        async with session.get(server.url + "/", ssl=client_ssl_context) as resp:
            total = sum([len(piece) async for piece in resp.content.iter_chunked(1 << 16)])
            assert total == 48 << 20


async def test_trailers_arrive_with_the_end_of_the_body(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server()
    async with client.ClientSession(http2=True) as session:
        async with session.get(
            server.url + "/trailers", headers={"TE": "trailers"}, ssl=client_ssl_context
        ) as resp:
            assert resp.trailers is None  # not before the body is in
            assert await resp.read() == b"body before trailers"
            assert resp.trailers is not None
            assert resp.trailers["X-Checksum"] == "abc123"
        async with session.get(server.url + "/small", ssl=client_ssl_context) as resp:
            await resp.read()
            assert resp.trailers is None
