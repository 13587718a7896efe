"""ClientResponse: the head's attributes, the body stream, decoding, JSON and text rules."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from typing import Any

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

import client
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory, pattern_bytes
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)

MiB = 1 << 20


@pytest.fixture
async def server(keepalive_server: KeepAliveServerFactory) -> KeepAliveServer:
    return await keepalive_server()


def response(
    body: bytes, *headers: str, status: str = "200 OK", version: str = "1.1"
) -> list[bytes | float]:
    """A raw_server script answering with ``body`` framed by Content-Length."""
    head = [f"HTTP/{version} {status}", *headers, f"Content-Length: {len(body)}"]
    return [("\r\n".join(head) + "\r\n\r\n").encode() + body]


# -- the head -----------------------------------------------------------------------------


async def test_head_attributes(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/bytes/10") as resp:
            assert resp.status == 200
            assert resp.reason == "OK"
            assert resp.ok
            assert resp.version == client.HttpVersion11
            assert resp.method == "GET"
            assert resp.url == URL(server.url + "/bytes/10")
            assert resp.real_url == resp.url
            assert isinstance(resp.headers, CIMultiDictProxy)
            assert resp.headers["content-type"] == "application/octet-stream"
            assert resp.content_type == "application/octet-stream"
            assert resp.charset is None
            assert resp.content_length == 10
            assert resp.history == ()
            assert resp.request_info.method == "GET"
            assert resp.request_info.url == resp.url


async def test_raw_headers_exactly_as_sent(raw_server: RawServerFactory) -> None:
    server = await raw_server(
        [
            b"HTTP/1.1 200 OK\r\nSERVER: nginx\r\nx-lower: a\r\nX-Dup: 1\r\nX-Dup: 2\r\n"
            b"X-Latin: caf\xe9\r\nContent-Length: 0\r\n\r\n"
        ]
    )
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert resp.raw_headers == (
            (b"SERVER", b"nginx"),
            (b"x-lower", b"a"),
            (b"X-Dup", b"1"),
            (b"X-Dup", b"2"),
            (b"X-Latin", b"caf\xe9"),
            (b"Content-Length", b"0"),
        )
        assert resp.headers["Server"] == "nginx"
        assert resp.headers.getall("x-dup") == ["1", "2"]
        assert resp.headers["X-Latin"].encode("utf-8", "surrogateescape") == b"caf\xe9"


async def test_http10_response(raw_server: RawServerFactory) -> None:
    server = await raw_server(response(b"old", version="1.0"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert resp.version == client.HttpVersion10
        assert await resp.read() == b"old"


async def test_not_ok_status(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/status/404") as resp:
            assert resp.status == 404
            assert resp.reason == "Not Found"
            assert not resp.ok
            with pytest.raises(client.ClientResponseError) as info:
                resp.raise_for_status()
    error = info.value
    assert error.request_info is not None
    assert error.status == 404
    assert error.message == "Not Found"
    assert error.request_info.url == URL(server.url + "/status/404")
    assert error.headers is not None


async def test_raise_for_status_ok_does_nothing(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/status/204") as resp:
            resp.raise_for_status()
            assert await resp.read() == b""


async def test_response_cookies(server: KeepAliveServer) -> None:
    jar = client.CookieJar(unsafe=True)  # the server is an IP address
    async with client.ClientSession(cookie_jar=jar) as session:
        async with session.get(server.url + "/set-cookie?a=1&b=two") as resp:
            assert resp.cookies["a"].value == "1"
            assert resp.cookies["b"].value == "two"
        assert {c.key: c.value for c in session.cookie_jar} == {"a": "1", "b": "two"}


async def test_redirect_history_and_real_url(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        start = server.url + "/redirect?to=/bytes/2"
        async with session.get(start) as resp:
            assert resp.status == 200
            assert resp.url == URL(server.url + "/bytes/2")
            assert len(resp.history) == 1
            assert resp.history[0].status == 302
            assert resp.history[0].url == URL(start)


async def test_chunked_response_has_no_content_length(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/chunked/2") as resp:
            assert resp.content_length is None
            assert await resp.text() == "chunk 0\nchunk 1\n"


# -- the body stream ----------------------------------------------------------------------


async def test_read_then_text_then_json_share_the_body(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/echo") as resp:
            raw = await resp.read()
            assert await resp.read() == raw
            assert await resp.text() == raw.decode()
            assert (await resp.json())["path"] == "/echo"


async def test_content_read_n_and_at_eof(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/bytes/1000") as resp:
            first = await resp.content.read(100)
            assert 0 < len(first) <= 100
            rest = b""
            while not resp.content.at_eof():
                rest += await resp.content.read(300)
            assert first + rest == pattern_bytes(1000)
            assert await resp.content.read(10) == b""


async def test_content_readline(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/chunked/3?delay=0.01") as resp:
            lines = [await resp.content.readline() for _ in range(4)]
    assert lines == [b"chunk 0\n", b"chunk 1\n", b"chunk 2\n", b""]


async def test_content_iter_chunked_large_body(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + f"/bytes/{4 * MiB}") as resp:
            sizes = []
            received = bytearray()
            async for piece in resp.content.iter_chunked(10000):
                sizes.append(len(piece))
                received += piece
    assert bytes(received) == pattern_bytes(4 * MiB)
    assert max(sizes) <= 10000


async def test_content_iter_any_large_body(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + f"/bytes/{2 * MiB}") as resp:
            received = bytearray()
            async for piece in resp.content.iter_any():
                received += piece
    assert bytes(received) == pattern_bytes(2 * MiB)


async def test_read_large_body(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + f"/bytes/{MiB}") as resp:
            async with asyncio.timeout(10):
                body = await resp.read()
    assert body == pattern_bytes(MiB)


async def test_readline_on_a_very_long_line_ends(raw_server: RawServerFactory) -> None:
    size = 4 * MiB

    async def long_line(conn: Any) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size)
        for start in range(0, size, 2**16):
            conn.write(b"x" * min(2**16, size - start))
            await conn.drain()

    server = await raw_server(long_line)
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        async with asyncio.timeout(5):
            try:
                line = await resp.content.readline()
            except ValueError:
                return  # aiohttp's answer: "Chunk too big"
    assert len(line) == size


async def test_read_body_of_read_bufsize(server: KeepAliveServer) -> None:
    async with client.ClientSession(read_bufsize=2**20) as session:
        async with session.get(server.url + f"/bytes/{MiB}") as resp:
            async with asyncio.timeout(10):
                assert await resp.read() == pattern_bytes(MiB)


async def test_slow_consumer_does_not_buffer_whole_body(server: KeepAliveServer) -> None:
    """Flow control: reading slowly, the client never holds much more than read_bufsize."""
    async with client.ClientSession(read_bufsize=2**16) as session:
        async with session.get(server.url + f"/bytes/{8 * MiB}") as resp:
            total = 0
            peak = 0
            while True:
                piece = await resp.content.read(2**16)
                if not piece:
                    break
                total += len(piece)
                await asyncio.sleep(0.001)
                peak = max(peak, resp.content.total_bytes - total)
    assert total == 8 * MiB
    assert peak < 2 * MiB, "the transport was paused: the rest stayed in the socket"


async def test_release_unread_then_next_request_works(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        resp = await session.get(server.url + "/chunked/50?delay=0.01")
        resp.release()
        async with session.get(server.url + "/") as again:
            assert await again.text() == "ok"


async def test_close_drops_the_connection(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        resp = await session.get(server.url + "/chunked/50?delay=0.01")
        resp.close()
        assert resp.closed
        async with session.get(server.url + "/") as again:
            assert await again.text() == "ok"
    assert server.connections_opened == 2


# -- truncation: never a short body -------------------------------------------------------


@pytest.mark.parametrize("how", ["read", "text", "iter_chunked", "readexactly"])
async def test_truncated_content_length_is_payload_error(
    raw_server: RawServerFactory, how: str
) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 40])
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        with pytest.raises(client.ClientPayloadError):
            if how == "read":
                await resp.read()
            elif how == "text":
                await resp.text()
            elif how == "iter_chunked":
                async for _ in resp.content.iter_chunked(16):
                    pass
            else:
                await resp.content.readexactly(100)


async def test_truncated_chunked_is_payload_error(raw_server: RawServerFactory) -> None:
    server = await raw_server(
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nshort"]
    )
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        with pytest.raises(client.ClientPayloadError):
            await resp.read()


async def test_reset_mid_body_is_payload_error(raw_server: RawServerFactory) -> None:
    async def reset(conn: Any) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"y" * 100)
        await conn.sleep(0.1)
        conn.abort()

    server = await raw_server(reset)
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        with pytest.raises(client.ClientPayloadError):
            await resp.read()


async def test_close_delimited_body_complete_at_eof(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nto the end"])
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert resp.content_length is None
        assert await resp.text() == "to the end"


# -- decompression ------------------------------------------------------------------------


async def test_gzip_and_deflate_decoded_httpbin(httpbin: Any) -> None:
    async with client.ClientSession() as session:
        async with session.get(httpbin.url + "/gzip") as resp:
            assert resp.headers["Content-Encoding"] == "gzip"
            assert (await resp.json())["gzipped"] is True
        async with session.get(httpbin.url + "/deflate") as resp:
            assert (await resp.json())["deflated"] is True


async def test_auto_decompress_off_session(httpbin: Any) -> None:
    async with client.ClientSession(auto_decompress=False) as session:
        async with session.get(httpbin.url + "/gzip") as resp:
            raw = await resp.read()
    assert raw[:2] == b"\x1f\x8b"
    assert b'"gzipped": true' in gzip.decompress(raw)


async def test_auto_decompress_off_per_request(raw_server: RawServerFactory) -> None:
    payload = zlib.compress(b"deflated body")
    server = await raw_server(response(payload, "Content-Encoding: deflate"))
    async with client.ClientSession() as session:
        async with session.get(server.url + "/", auto_decompress=False) as resp:
            assert await resp.read() == payload


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers
    ],
    ids=["gzip", "zlib-deflate", "raw-deflate"],
)
async def test_decoded_bodies(raw_server: RawServerFactory, encoding: str, encode: Any) -> None:
    original = b"".join(b"line %d\n" % i for i in range(5000))
    server = await raw_server(response(encode(original), f"Content-Encoding: {encoding}"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.content.readline() == b"line 0\n"
        rest = b"".join([piece async for piece in resp.content.iter_any()])
    assert b"line 0\n" + rest == original


async def test_gzip_chunked_decoded(raw_server: RawServerFactory) -> None:
    packed = gzip.compress(b"streamed " * 100)
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(packed[i : i + 50]), packed[i : i + 50])
        for i in range(0, len(packed), 50)
    )
    server = await raw_server(
        [
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
            + chunks
            + b"0\r\n\r\n"
        ]
    )
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.text() == "streamed " * 100


async def test_corrupt_gzip_is_payload_error(raw_server: RawServerFactory) -> None:
    server = await raw_server(response(b"\x1f\x8bnot really gzip", "Content-Encoding: gzip"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        with pytest.raises(client.ClientPayloadError):
            await resp.read()


# -- json() -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "application/vnd.custom-type+json",
        "application/problem+json; charset=utf-8",
    ],
)
async def test_json_accepted_types(raw_server: RawServerFactory, content_type: str) -> None:
    server = await raw_server(response(b'{"a": [1, 2]}', f"Content-Type: {content_type}"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.json() == {"a": [1, 2]}


@pytest.mark.parametrize(
    "headers", [("Content-Type: text/html",), ("Content-Type: text/json",), ()]
)
async def test_json_wrong_type_is_content_type_error(
    raw_server: RawServerFactory, headers: tuple[str, ...]
) -> None:
    server = await raw_server(response(b'{"a": 1}', *headers))
    async with client.ClientSession() as session, session.get(server.url + "/j") as resp:
        with pytest.raises(client.ContentTypeError) as info:
            await resp.json()
        assert await resp.json(content_type=None) == {"a": 1}
    error = info.value
    assert isinstance(error, client.ClientResponseError)
    assert error.request_info is not None
    assert error.status == 200
    assert error.request_info.url == URL(server.url + "/j")
    assert error.headers is not None
    assert "unexpected mimetype" in error.message


async def test_json_explicit_type_is_strict(raw_server: RawServerFactory) -> None:
    server = await raw_server(response(b"[1]", "Content-Type: custom/type"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.json(content_type="custom/type") == [1]
    server = await raw_server(response(b"[1]", "Content-Type: custom/xxx+type"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        with pytest.raises(client.ContentTypeError):
            await resp.json(content_type="custom/type")
    server = await raw_server(response(b"[1]", "Content-Type: application/vnd.x+json"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        with pytest.raises(client.ContentTypeError):
            await resp.json(content_type="application/vnd.y+json")


async def test_json_empty_body_is_none(raw_server: RawServerFactory) -> None:
    server = await raw_server(response(b"", "Content-Type: application/json"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.json() is None


async def test_json_custom_loads(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/echo") as resp:
            assert await resp.json(loads=lambda text: len(text)) == len(await resp.text())


# -- text() and encodings -----------------------------------------------------------------


async def test_text_charset_from_header(raw_server: RawServerFactory) -> None:
    server = await raw_server(response(b"caf\xe9", "Content-Type: text/plain; charset=latin-1"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert resp.charset == "latin-1"
        assert await resp.text() == "café"
        assert resp.get_encoding() == "iso8859-1"


async def test_text_quoted_charset(raw_server: RawServerFactory) -> None:
    body = "Привет".encode("koi8-r")
    server = await raw_server(response(body, 'Content-Type: text/plain; charset="KOI8-R"'))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.text() == "Привет"


async def test_text_explicit_encoding_wins(raw_server: RawServerFactory) -> None:
    server = await raw_server(response(b"caf\xe9", "Content-Type: text/plain; charset=utf-8"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.text(encoding="cp1252") == "café"
        assert await resp.text(errors="replace") == "caf\ufffd"


async def test_text_without_charset_defaults_to_utf8(raw_server: RawServerFactory) -> None:
    server = await raw_server(response("naïve".encode(), "Content-Type: text/plain"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.text() == "naïve"


async def test_fallback_charset_resolver(raw_server: RawServerFactory) -> None:
    body = "Привет".encode("cp1251")
    calls: list[tuple[int, bytes]] = []

    def resolver(resp: client.ClientResponse, data: bytes) -> str:
        calls.append((resp.status, data))
        return "cp1251"

    server = await raw_server(response(body, "Content-Type: text/plain"))
    async with client.ClientSession(fallback_charset_resolver=resolver) as session:
        async with session.get(server.url + "/") as resp:
            assert await resp.text() == "Привет"
    assert calls == [(200, body)]


async def test_fallback_charset_resolver_not_used_with_a_charset(
    raw_server: RawServerFactory,
) -> None:
    def resolver(resp: client.ClientResponse, data: bytes) -> str:
        raise AssertionError("the header's charset is enough")

    server = await raw_server(response(b"ok", "Content-Type: text/plain; charset=ascii"))
    async with client.ClientSession(fallback_charset_resolver=resolver) as session:
        async with session.get(server.url + "/") as resp:
            assert await resp.text() == "ok"


async def test_json_without_charset_is_utf8(raw_server: RawServerFactory) -> None:
    def resolver(resp: client.ClientResponse, data: bytes) -> str:
        return "latin-1"

    server = await raw_server(response('{"k": "ü"}'.encode(), "Content-Type: application/json"))
    async with client.ClientSession(fallback_charset_resolver=resolver) as session:
        async with session.get(server.url + "/") as resp:
            assert await resp.json() == {"k": "ü"}


@pytest.mark.parametrize(
    ("encoding", "packed"),
    [
        ("gzip", gzip.compress(b"hello world " * 1000, mtime=0)[:-30]),
        ("deflate", zlib.compress(b"hello world " * 1000)[:-10]),
    ],
)
async def test_truncated_compressed_stream_is_payload_error(
    raw_server: RawServerFactory, encoding: str, packed: bytes
) -> None:
    """The framing is complete but the compressed stream is not: still never a short body."""
    server = await raw_server(response(packed, f"Content-Encoding: {encoding}"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        with pytest.raises(client.ClientPayloadError):
            await resp.read()


async def test_readany_through_a_response(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/chunked/4?delay=0.01") as resp:
            received = b""
            while piece := await resp.content.readany():
                received += piece
            assert resp.content.at_eof()
    assert received == b"chunk 0\nchunk 1\nchunk 2\nchunk 3\n"


async def test_content_length_of_a_repeated_value(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc"])
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert await resp.read() == b"abc"
        assert resp.content_length == 3


async def test_client_response_error_text(server: KeepAliveServer) -> None:
    url = server.url + "/status/404"
    async with client.ClientSession() as session, session.get(url) as resp:
        with pytest.raises(client.ClientResponseError) as info:
            resp.raise_for_status()
    assert str(info.value) == f"404, message='Not Found', url='{url}'"


async def test_iter_chunks_marks_http_chunk_ends(raw_server: RawServerFactory) -> None:
    async def chunked(conn: Any) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for piece in (b"first", b"second"):
            conn.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            await conn.sleep(0.05)
        conn.write(b"0\r\n\r\n")

    server = await raw_server(chunked)
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        pieces = [item async for item in resp.content.iter_chunks()]
    assert b"".join(data for data, _ in pieces) == b"firstsecond"
    assert [end for _, end in pieces].count(True) == 2


async def test_links(raw_server: RawServerFactory) -> None:
    link = 'Link: <http://127.0.0.1/page2>; rel="next", </page0>; rel="prev"'
    server = await raw_server(response(b"", link))
    async with client.ClientSession() as session, session.get(server.url + "/page1") as resp:
        links = resp.links
    assert links["next"]["url"] == URL("http://127.0.0.1/page2")
    assert links["prev"]["url"] == URL(server.url + "/page0")


LARGE_TEXT = b"".join(b"line %d\n" % i for i in range(300_000))  # ~2.4 MB, ~0.5 MB gzipped


@pytest.mark.parametrize("how", ["read", "text", "iter_chunked", "iter_any"])
async def test_large_gzip_body(raw_server: RawServerFactory, how: str) -> None:
    """Decoded output far above the high-water mark: every way of reading reaches the end."""
    server = await raw_server(response(gzip.compress(LARGE_TEXT), "Content-Encoding: gzip"))
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        async with asyncio.timeout(10):
            if how == "read":
                body = await resp.read()
            elif how == "text":
                body = (await resp.text()).encode()
            elif how == "iter_chunked":
                body = b"".join([piece async for piece in resp.content.iter_chunked(4096)])
            else:
                body = b"".join([piece async for piece in resp.content.iter_any()])
    assert body == LARGE_TEXT


# -- after release: aiohttp's rules -------------------------------------------------------


async def test_read_after_the_block_is_connection_closed(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/bytes/10") as resp:
            assert await resp.read() == pattern_bytes(10)
        with pytest.raises(client.ClientConnectionError, match=r"^Connection closed$"):
            await resp.read()
        async with session.get(server.url + "/bytes/10") as unread:
            pass
        with pytest.raises(client.ClientConnectionError):
            await unread.read()
        with pytest.raises(client.ClientConnectionError):
            await unread.content.readline()


async def test_closed_once_the_body_is_in(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/chunked/3?delay=0.05") as resp:
            assert not resp.closed
            await resp.read()
            assert resp.closed  # the connection went back to the pool
        async with session.get(server.url + "/status/204") as empty:
            assert empty.closed


async def test_raise_for_status_releases_only_outside_a_block(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/status/404") as inside:
            with pytest.raises(client.ClientResponseError):
                inside.raise_for_status()
            assert await inside.read() == b""  # the block still owns the body
        outside = await session.get(server.url + "/status/404")
        with pytest.raises(client.ClientResponseError):
            outside.raise_for_status()
        with pytest.raises(client.ClientConnectionError, match=r"^Connection closed$"):
            await outside.read()


async def test_release_can_be_awaited(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        resp = await session.get(server.url + "/")
        await resp.release()  # aiohttp 2-era spelling
        assert resp.closed


async def test_read_of_a_101_is_empty_and_keeps_the_connection(
    raw_server: RawServerFactory,
) -> None:
    head = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
    server = await raw_server([head, 5.0])
    upgrade = {"Connection": "Upgrade", "Upgrade": "tcp"}  # unasked, a 101 is an error
    async with client.ClientSession() as session:
        resp = await session.get(server.url, headers=upgrade)
        assert await asyncio.wait_for(resp.read(), 5) == b""
        assert resp.connection is not None
        assert not resp.closed
        resp.close()


async def test_total_raw_bytes_counts_the_wire(raw_server: RawServerFactory) -> None:
    body = b"compress me " * 5000
    packed = gzip.compress(body)
    server = await raw_server(lambda conn: _answer_twice(conn, packed))
    async with client.ClientSession() as session:
        async with session.get(server.url + "/") as resp:
            assert await resp.content.read() == body
            assert resp.content.total_raw_bytes == len(packed)
        async with session.get(server.url + "/", auto_decompress=False) as resp:
            assert await resp.content.read() == packed
            assert resp.content.total_raw_bytes == len(packed) == resp.content.total_bytes


async def _answer_twice(conn: Any, packed: bytes) -> None:
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(packed)}\r\n\r\n"
    for _ in range(2):
        if not await conn.read_request():
            return
        conn.write(head.encode() + packed)


def test_autospec_accepts_status_and_reason() -> None:
    # How scripts fake aiohttp's response in their own tests: the fields must be on the class.
    from unittest import mock

    fake = mock.create_autospec(client.ClientResponse, spec_set=True, instance=True)
    fake.status = 401
    fake.reason = "Unauthorized"
    assert (fake.status, fake.reason) == (401, "Unauthorized")


async def _upload_after_the_answer(
    raw_server: RawServerFactory, read_body: bool
) -> tuple[asyncio.Event, bytes]:
    """POST a body whose source is still busy after its last byte (a read that has not come
    back yet) to a server that answers as soon as it has the Content-Length."""

    async def script(conn: Any) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    server = await raw_server(script)
    ended = asyncio.Event()

    async def source() -> Any:
        try:
            yield b"12345"
            await asyncio.sleep(30)
        finally:
            ended.set()

    body = b""
    async with client.ClientSession() as session:
        headers = {"Content-Length": "5"}
        async with session.post(server.url + "/", data=source(), headers=headers) as resp:
            assert resp.status == 200
            if read_body:
                body = await resp.read()
                assert ended.is_set()  # read() waits for the upload, as aiohttp's does
    return ended, body


@pytest.mark.parametrize("read_body", [False, True])
async def test_no_upload_outlives_its_response(
    raw_server: RawServerFactory, read_body: bool
) -> None:
    ended, body = await _upload_after_the_answer(raw_server, read_body)
    assert ended.is_set()  # leaving ``async with`` stopped the writer and waited for it
    assert body == (b"ok" if read_body else b"")
