"""The HTTP/2 connection protocol against real servers: hypercorn and a scripted h2 server.

These drive ``H2Protocol`` directly over a loopback transport (the session's use of it is
tested in test_session_http2.py): streams, flow control both ways, MAX_CONCURRENT_STREAMS,
GOAWAY, RST_STREAM, malformed heads, trailers and lost connections.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import pytest
from yarl import URL

import client
from client.hop import HopSettings
from client.http2 import request_fields
from client.http2_connection import H2Protocol
from client.http2_stream import H2Lease, H2Stream, StreamRefusedError
from tests.servers.h2server import H2Server, ServerStream
from tests.servers.hypercorn_server import GZIP_TEXT, HypercornServer
from tests.servers.keepalive import pattern_bytes

pytestmark = pytest.mark.timeout(60)

H2Factory = Callable[..., Awaitable[H2Server]]
HypercornFactory = Callable[..., Awaitable[HypercornServer]]


def settings(**kw: Any) -> HopSettings:
    values: dict[str, Any] = {
        "timeout": client.ClientTimeout(),
        "read_bufsize": 2**16,
        "auto_decompress": True,
        "max_decompressed_size": 1 << 30,
        "charset_resolver": lambda _r, _b: "utf-8",
        "max_line_size": 8190,
        "max_field_size": 8190,
        "read_until_eof": True,
        "max_headers": 100,
    }
    values.update(kw)
    return HopSettings(**values)


async def connect(
    url: str, ssl_context: ssl.SSLContext | None = None, **kw: Any
) -> AsyncIterator[H2Protocol]:
    loop = asyncio.get_running_loop()
    parsed = URL(url)
    if ssl_context is not None:
        ssl_context.set_alpn_protocols(["h2"])
    _transport, protocol = await loop.create_connection(
        lambda: H2Protocol(loop, **kw), parsed.host, parsed.port, ssl=ssl_context
    )
    try:
        yield protocol
    finally:
        protocol.close()
        await asyncio.wait_for(protocol.closed, 5)


class Client:
    """Requests on one H2Protocol, the way the session will make them."""

    def __init__(self, protocol: H2Protocol, authority: str, scheme: str = "http") -> None:
        self.protocol = protocol
        self.authority = authority
        self.scheme = scheme

    async def start(
        self,
        path: str,
        method: str = "GET",
        headers: list[tuple[str, str]] | None = None,
        body: bytes | AsyncIterator[bytes] | None = None,
        **kw: Any,
    ) -> H2Stream:
        fields = request_fields(method, self.scheme, self.authority, path, headers or [])
        stream = await self.protocol.open_stream(
            method, fields, settings(**kw), end_stream=body is None
        )
        if body is not None:
            self.protocol.send_body(stream, body)
        return stream

    async def fetch(self, path: str, **kw: Any) -> tuple[Any, bytes, H2Stream]:
        stream = await self.start(path, **kw)
        head, content = await stream.head
        return head, await content.read(), stream


@pytest.fixture
async def h2c(h2_server: H2Factory) -> AsyncIterator[tuple[H2Server, Client]]:
    server = await h2_server()
    async for protocol in connect(server.url):
        yield server, Client(protocol, f"127.0.0.1:{server.port}")


# -- against hypercorn ---------------------------------------------------------------------


async def test_get_over_h2c(hypercorn_server: HypercornFactory) -> None:
    server = await hypercorn_server(tls=False)
    async for protocol in connect(server.url):
        head, body, _ = await Client(protocol, f"127.0.0.1:{server.port}").fetch("/bytes/100")
        assert (head.status, head.reason, head.version) == (200, "OK", (2, 0))
        assert body == pattern_bytes(100)
        assert head.headers["Content-Length"] == "100"


async def test_get_over_tls_with_alpn_h2(
    hypercorn_server: HypercornFactory, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server(tls=True)
    async for protocol in connect(server.url, client_ssl_context):
        peer = Client(protocol, f"localhost:{server.port}", "https")
        head, body, _ = await peer.fetch("/echo")
        assert head.status == 200
        echo = json.loads(body)
        assert echo["http_version"] == "2"
        assert protocol.transport is not None
        assert protocol.transport.get_extra_info("ssl_object").selected_alpn_protocol() == "h2"


async def test_request_fields_as_the_server_sees_them(h2c: tuple[H2Server, Client]) -> None:
    _server, peer = h2c
    headers = [("Host", "example.test"), ("Connection", "keep-alive"), ("X-Case", "Value")]
    _head, body, _ = await peer.fetch("/echo?q=1", headers=headers)
    echo = json.loads(body)
    assert echo["authority"] == "example.test"
    assert echo["path"] == "/echo?q=1"
    assert [k for k, _ in echo["fields"]] == [
        ":method",
        ":scheme",
        ":authority",
        ":path",
        "x-case",
    ]


async def test_gzip_body_is_decoded(hypercorn_server: HypercornFactory) -> None:
    server = await hypercorn_server(tls=False)
    async for protocol in connect(server.url):
        head, body, _ = await Client(protocol, f"127.0.0.1:{server.port}").fetch("/gzip")
        assert head.headers["Content-Encoding"] == "gzip"
        assert body == GZIP_TEXT
        _h, raw, _ = await Client(protocol, "x").fetch("/gzip", auto_decompress=False)
        assert raw != GZIP_TEXT and raw[:2] == b"\x1f\x8b"


async def test_trailers(hypercorn_server: HypercornFactory) -> None:
    server = await hypercorn_server(tls=False)
    async for protocol in connect(server.url):
        peer = Client(protocol, f"127.0.0.1:{server.port}")
        _head, body, stream = await peer.fetch("/trailers", headers=[("TE", "trailers")])
        assert body == b"body before trailers"
        assert stream.trailers is not None
        assert stream.trailers["X-Checksum"] == "abc123"


# -- streams and limits --------------------------------------------------------------------


async def test_a_hundred_concurrent_requests_share_one_connection(
    h2c: tuple[H2Server, Client],
) -> None:
    server, peer = h2c
    results = await asyncio.gather(*(peer.fetch(f"/bytes/{i * 100}") for i in range(100)))
    assert [body for _h, body, _s in results] == [pattern_bytes(i * 100) for i in range(100)]
    assert len(server.connections) == 1
    assert server.max_open_streams > 10  # really concurrent, not one after another
    assert peer.protocol.streams_opened == 100
    assert peer.protocol.active_streams == 0


async def test_max_concurrent_streams_is_respected(h2_server: H2Factory) -> None:
    server = await h2_server(max_concurrent_streams=10)
    async for protocol in connect(server.url):
        peer = Client(protocol, "h.test")
        results = await asyncio.gather(*(peer.fetch("/delay/0.02") for _ in range(100)))
        assert all(head.status == 200 for head, _b, _s in results)
        assert server.max_open_streams == 10
        assert len(server.connections) == 1


async def test_a_cancelled_waiter_does_not_block_the_queue(h2_server: H2Factory) -> None:
    server = await h2_server(max_concurrent_streams=1)
    async for protocol in connect(server.url):
        peer = Client(protocol, "h.test")
        first = await peer.start("/delay/0.2")
        waiting = asyncio.ensure_future(peer.fetch("/"))
        behind = asyncio.ensure_future(peer.fetch("/"))
        await asyncio.sleep(0.05)
        waiting.cancel()
        (_h, body, _s), _ = await asyncio.gather(behind, first.head)
        assert body == b"ok"
        assert waiting.cancelled()
        assert server.max_open_streams == 1


# -- flow control ----------------------------------------------------------------------------


async def test_download_larger_than_every_window(h2_server: H2Factory) -> None:
    server = await h2_server(max_frame_size=1 << 20)
    async for protocol in connect(server.url, stream_window=1 << 18, connection_window=1 << 19):
        size = 8 << 20
        _head, body, _ = await Client(protocol, "h.test").fetch(f"/bytes/{size}")
        assert hashlib.sha256(body).digest() == hashlib.sha256(pattern_bytes(size)).digest()


async def test_a_slow_reader_holds_the_server_back(h2_server: H2Factory) -> None:
    server = await h2_server()
    window = 1 << 18
    async for protocol in connect(server.url, stream_window=window):
        stream = await Client(protocol, "h.test").start("/bytes/16777216")
        _head, content = await stream.head
        for _ in range(500):  # until the server waits for a window update
            if server.streams and server.streams[0]._window.is_set() is False:
                sent = server.streams[0].sent
                await asyncio.sleep(0.05)
                if server.streams[0].sent == sent:
                    break
            await asyncio.sleep(0.01)
        # At most the reader's high-water mark (taken and acknowledged) plus one window.
        assert server.streams[0].sent <= 2 * 2**16 + window + (1 << 16)
        body = await content.read()
        assert body == pattern_bytes(16 << 20)


async def test_upload_waits_for_the_servers_window(h2_server: H2Factory) -> None:
    server = await h2_server(initial_window=65_535)
    data = pattern_bytes(4 << 20)
    async for protocol in connect(server.url):
        peer = Client(protocol, "h.test")

        async def pieces() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 100_000):
                yield data[i : i + 100_000]

        for body in (data, pieces()):
            _head, answer, _ = await peer.fetch("/echo", method="POST", body=body)
            echo = json.loads(answer)
            assert echo["length"] == len(data)
            assert echo["sha256"] == hashlib.sha256(data).hexdigest()


async def test_a_complete_early_answer_stops_the_upload(h2_server: H2Factory) -> None:
    async def refuse(stream: ServerStream) -> None:
        await stream.respond(413, b"too big")
        stream.reset(0)  # NO_ERROR: "stop sending", RFC 9113 §8.1

    server = await h2_server(refuse, initial_window=65_535)
    async for protocol in connect(server.url):
        peer = Client(protocol, "h.test")

        async def endless() -> AsyncIterator[bytes]:
            while True:
                yield b"x" * 65_536

        head, body, stream = await peer.fetch("/", method="POST", body=endless())
        assert (head.status, body) == (413, b"too big")
        assert stream.done
        head, body, _ = await peer.fetch("/")  # the connection carries on
        assert head.status == 413


# -- GOAWAY and RST_STREAM -------------------------------------------------------------------


async def test_goaway_lets_older_streams_finish_and_refuses_newer_ones(
    h2_server: H2Factory,
) -> None:
    release = asyncio.Event()

    async def handler(stream: ServerStream) -> None:
        if stream.stream_id == 9:  # the fifth request
            stream.conn.goaway(last_stream_id=9)
        await release.wait()
        await stream.respond(200, f"stream {stream.stream_id}".encode())

    server = await h2_server(handler)
    async for protocol in connect(server.url):
        peer = Client(protocol, "h.test")
        tasks = [asyncio.ensure_future(peer.fetch("/")) for _ in range(10)]
        while protocol.goaway is None:
            await asyncio.sleep(0.01)
        assert not protocol.accepting
        with pytest.raises(StreamRefusedError) as refused:
            await peer.start("/")
        assert refused.value.sent is False
        release.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        done = [r for r in results if not isinstance(r, BaseException)]
        failed = [r for r in results if isinstance(r, BaseException)]
        assert [body for _h, body, _s in done] == [f"stream {i}".encode() for i in (1, 3, 5, 7, 9)]
        assert len(failed) == 5
        assert all(isinstance(e, StreamRefusedError) and e.sent for e in failed)
        assert isinstance(failed[0], client.ServerDisconnectedError)
        assert "GOAWAY NO_ERROR" in str(failed[0])
        await asyncio.wait_for(protocol.closed, 5)  # closed once the last stream ended


@pytest.mark.parametrize(
    ("code", "error", "text"),
    [
        (7, StreamRefusedError, "REFUSED_STREAM"),
        (2, client.ServerDisconnectedError, "INTERNAL_ERROR"),
        (0xFF, client.ServerDisconnectedError, "error 0xff"),
    ],
)
async def test_rst_stream_before_the_head(
    h2_server: H2Factory, code: int, error: type[Exception], text: str
) -> None:
    async def handler(stream: ServerStream) -> None:
        if stream.path == "/reset":
            stream.reset(code)
        else:
            await stream.respond(200, b"fine")

    server = await h2_server(handler)
    async for protocol in connect(server.url):
        peer = Client(protocol, "h.test")
        with pytest.raises(error, match=text):
            await peer.fetch("/reset")
        _head, body, _ = await peer.fetch("/other")  # the other streams carry on
        assert body == b"fine"


async def test_rst_stream_mid_body_is_a_payload_error(h2_server: H2Factory) -> None:
    async def handler(stream: ServerStream) -> None:
        stream.send_headers([(b":status", b"200"), (b"content-length", b"100")])
        await stream.send_data(b"x" * 10)
        stream.reset(2)

    server = await h2_server(handler)
    async for protocol in connect(server.url):
        stream = await Client(protocol, "h.test").start("/")
        _head, content = await stream.head
        with pytest.raises(client.ClientPayloadError, match="reset the stream"):
            await content.read()


async def test_releasing_an_unfinished_stream_resets_it(h2_server: H2Factory) -> None:
    server = await h2_server()
    async for protocol in connect(server.url):
        stream = await Client(protocol, "h.test").start("/bytes/10000000")
        await stream.head
        released: list[bool] = []
        lease = H2Lease("key", protocol, reused=False, on_done=partial(released.append, True))
        lease.stream = stream
        assert lease.protocol is stream and not lease.closed
        lease.release()
        lease.release()
        assert released == [True] and lease.closed and lease.protocol is None
        while not server.resets:
            await asyncio.sleep(0.01)
        assert server.resets == [(stream.stream_id, 8)]  # CANCEL
        assert protocol.is_connected


# -- malformed and lost ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        [(b"content-type", b"text/plain")],
        [(b":status", b"200"), (b"Content-Type", b"text/plain")],
        [(b":status", b"200"), (b"connection", b"close")],
        [(b":status", b"200"), (b"x-a", b"1"), (b":status", b"200")],
    ],
    ids=["no-status", "upper-case", "connection", "pseudo-after-regular"],
)
async def test_a_malformed_head_fails_that_stream_only(
    h2_server: H2Factory, fields: list[tuple[bytes, bytes]]
) -> None:
    async def handler(stream: ServerStream) -> None:
        if stream.path == "/bad":
            stream.send_headers(fields)  # and the body would follow
        else:
            await stream.respond(200, b"fine")

    server = await h2_server(handler)
    async for protocol in connect(server.url):
        peer = Client(protocol, "h.test")
        with pytest.raises(client.ClientResponseError):
            await peer.fetch("/bad")
        _head, body, _ = await peer.fetch("/good")
        assert body == b"fine"
        while not server.resets:
            await asyncio.sleep(0.01)
        assert server.resets == [(1, 1)]  # PROTOCOL_ERROR


async def test_a_body_longer_than_content_length_is_an_error(h2_server: H2Factory) -> None:
    """h2 makes this a connection error: the head (if it was read first) or the body fails."""

    async def handler(stream: ServerStream) -> None:
        stream.send_headers([(b":status", b"200"), (b"content-length", b"3")])
        await stream.send_data(b"too long", end=True)

    server = await h2_server(handler)
    async for protocol in connect(server.url):
        stream = await Client(protocol, "h.test").start("/")
        with pytest.raises((client.ClientPayloadError, client.ClientResponseError)):
            _head, content = await stream.head
            await content.read()


@pytest.mark.parametrize("when", ["before-head", "mid-body"])
async def test_a_lost_connection_fails_every_stream(h2_server: H2Factory, when: str) -> None:
    async def handler(stream: ServerStream) -> None:
        if when == "mid-body":
            stream.send_headers([(b":status", b"200"), (b"content-length", b"100")])
            await stream.send_data(b"x" * 10)
        await asyncio.sleep(0.05)
        stream.conn.abort()

    server = await h2_server(handler)
    async for protocol in connect(server.url):
        stream = await Client(protocol, "h.test").start("/")
        if when == "before-head":
            with pytest.raises(client.ServerDisconnectedError):
                await stream.head
        else:
            _head, content = await stream.head
            with pytest.raises(client.ClientPayloadError, match="not completed"):
                await content.read()
        await asyncio.wait_for(protocol.closed, 5)
        with pytest.raises(StreamRefusedError):
            await Client(protocol, "h.test").start("/")


async def test_garbage_from_the_server_is_a_connection_error(raw_server: Any) -> None:
    async def script(conn: Any) -> None:
        await conn.read_exactly(24)  # the client preface
        conn.write(b"\x00\x00\x04\x09\x00\x00\x00\x00\x01abcd")  # CONTINUATION out of place
        await asyncio.sleep(1)

    server = await raw_server(script)
    async for protocol in connect(server.url):
        stream = await Client(protocol, "h.test").start("/")
        with pytest.raises(client.ClientResponseError, match="protocol error"):
            await stream.head
