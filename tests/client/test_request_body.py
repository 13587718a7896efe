"""A request's body end to end: aiohttp's payload classes on the wire, redirects that replay
or refuse a body, middlewares that read or replace it, and payloads closed once the request
is over, whatever happened. Real loopback servers only."""

from __future__ import annotations

import asyncio
import hashlib
import io
import ssl
import tarfile
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import client
from client import ClientHandlerType, ClientRequest, ClientResponse
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory
from tests.servers.raw import HEAD_END, RawConnection, RawServerFactory, header_value, parse_head
from tests.servers.sink import SinkServer

pytestmark = pytest.mark.timeout(30)

DATA = b"a body that must arrive twice"


class Tracked(client.BytesPayload):
    """A payload that remembers being closed."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.close_calls = 0

    async def close(self) -> None:
        self.close_calls += 1
        await super().close()


async def echo(session: client.ClientSession, url: str, **kwargs: Any) -> dict[str, Any]:
    async with session.post(url, **kwargs) as resp:
        assert resp.status == 200
        return await resp.json()  # type: ignore[no-any-return]


@pytest.fixture
async def server(keepalive_server: KeepAliveServerFactory) -> KeepAliveServer:
    return await keepalive_server()


@pytest.fixture
async def sink() -> AsyncIterator[SinkServer]:
    server = await SinkServer().start()
    yield server
    await server.close()
    if server.errors:
        raise server.errors[0]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- aiohttp's payload classes on the wire ----------------------------------------------


async def test_a_string_io_body_goes_with_its_content_length(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        doc = await echo(session, server.url + "/echo", data=io.StringIO("some buffer"))
    assert doc["body"] == "some buffer"
    assert doc["headers"]["Content-Length"] == "11"
    assert doc["headers"]["Content-Type"] == "text/plain; charset=utf-8"


async def test_a_text_io_payload_is_sent_in_its_encoding(sink: SinkServer) -> None:
    payload = client.TextIOPayload(io.StringIO("текст"), encoding="koi8-r")
    async with client.ClientSession() as session:
        async with session.post(sink.url, data=payload) as resp:
            assert resp.status == 200
    (record,) = sink.records
    assert record.header("Content-Type") == "text/plain; charset=koi8-r"
    assert record.sha256 == sha256("текст".encode("koi8-r"))


async def test_a_file_without_seekable_is_streamed_chunked(sink: SinkServer) -> None:
    data = b"This is a tar file payload text file."
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name="payload1.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    buf.seek(0)
    async with client.ClientSession() as session:
        with tarfile.open(fileobj=buf, mode="r|") as stream:  # its members cannot seek
            for member in stream:
                async with session.post(sink.url, data=stream.extractfile(member)) as resp:
                    assert resp.status == 200
    (record,) = sink.records
    assert record.framing == "chunked"
    assert record.sha256 == sha256(data)


async def test_get_payload_with_a_disposition_reaches_the_head(
    server: KeepAliveServer, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"line\n")
    async with client.ClientSession() as session:
        with open(path, "rb") as fh:
            payload = client.get_payload(fh, disposition="inline")
            doc = await echo(session, server.url + "/echo", data=payload)
    assert doc["headers"]["Content-Disposition"] == 'inline; filename="notes.txt"'
    assert doc["headers"]["Content-Type"] == "text/plain"
    assert doc["body"] == "line\n"


async def test_a_streamer_body_with_a_declared_length(server: KeepAliveServer) -> None:
    with pytest.warns(DeprecationWarning, match="streamer"):

        @client.streamer
        async def send(writer: Any, parts: list[bytes]) -> None:
            for part in parts:
                await writer.write(part)

        @client.streamer
        async def hello(writer: Any) -> None:
            await writer.write(b"hello")

    parts = [b"x" * 100, b"y" * 100, b"z"]
    async with client.ClientSession() as session:
        doc = await echo(
            session, server.url + "/echo", data=send(parts), headers={"Content-Length": "201"}
        )
        assert doc["body"] == "x" * 100 + "y" * 100 + "z"
        assert "Transfer-Encoding" not in doc["headers"]
        # The decorated function itself, uncalled, is written with the writer only.
        doc = await echo(session, server.url + "/echo", data=hello)
        assert doc["body"] == "hello"


class AlienPayload:
    """Not a ``client.Payload``, but with aiohttp's payload interface."""

    size = 5
    content_type = "application/x-alien"
    consumed = False

    def __init__(self) -> None:
        self.headers = {"Content-Type": "application/x-alien"}
        self.closed = False

    async def write(self, writer: Any) -> None:
        await writer.write(b"alien")

    async def close(self) -> None:
        self.closed = True


async def test_an_object_with_aiohttps_payload_interface_is_sent(
    server: KeepAliveServer,
) -> None:
    alien = AlienPayload()
    async with client.ClientSession() as session:
        doc = await echo(session, server.url + "/echo", data=alien)
    assert doc["body"] == "alien"
    assert doc["headers"]["Content-Type"] == "application/x-alien"
    assert doc["headers"]["Content-Length"] == "5"
    assert alien.closed


async def test_a_form_field_declared_koi8_r_is_sent_in_koi8_r(sink: SinkServer) -> None:
    form = client.FormData()
    form.add_field("name", "текст", content_type="text/plain; charset=koi8-r")
    async with client.ClientSession() as session:
        async with session.post(sink.url, data=form) as resp:
            assert resp.status == 200
    (part,) = sink.records[0].parts
    assert part.sha256 == sha256("текст".encode("koi8-r"))


async def test_expect100_without_a_body_still_asks(raw_server: RawServerFactory) -> None:
    async def script(conn: RawConnection) -> None:
        head = await conn.read_until(HEAD_END)
        _, _, headers = parse_head(head)
        assert header_value(headers, "Expect") == "100-continue"
        assert header_value(headers, "Content-Length") == "0"
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK")

    server = await raw_server(script)
    async with client.ClientSession() as session:
        async with session.post(server.url, expect100=True, data=None) as resp:
            assert await resp.read() == b"OK"


# --- redirects: replay what can be replayed -------------------------------------------


def make_payload(kind: str, tmp_path: Path) -> client.Payload:
    if kind == "bytesio":
        return client.BytesIOPayload(io.BytesIO(DATA))
    if kind == "buffered":
        return client.BufferedReaderPayload(io.BufferedReader(io.BytesIO(DATA)))  # type: ignore[arg-type]
    if kind == "stringio":
        return client.StringIOPayload(io.StringIO(DATA.decode()))
    path = tmp_path / "body.bin"
    path.write_bytes(DATA)
    return client.get_payload(open(path, "rb"))


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("kind", ["bytesio", "buffered", "stringio", "file"])
async def test_file_like_payloads_are_sent_again_after_a_307_or_308(
    server: KeepAliveServer, tmp_path: Path, status: int, kind: str
) -> None:
    payload = make_payload(kind, tmp_path)
    target = f"/redirect?to=/echo&status={status}"
    async with client.ClientSession() as session:
        doc = await echo(session, server.url + target, data=payload)
    assert doc["body"] == DATA.decode()
    assert doc["headers"]["Content-Length"] == str(len(DATA))
    assert [(method, path) for _, method, path in server.log] == [
        ("POST", target),
        ("POST", "/echo"),
    ]


async def chunks() -> AsyncIterator[bytes]:
    for part in (b"chunk1", b"chunk2", b"chunk3"):
        yield part


@pytest.mark.parametrize(("method", "status"), [("POST", 307), ("PUT", 301), ("PUT", 302)])
async def test_a_one_shot_body_that_must_follow_a_redirect_is_a_payload_error(
    server: KeepAliveServer, method: str, status: int
) -> None:
    url = f"{server.url}/redirect?to=/echo&status={status}"
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientPayloadError, match="Cannot follow redirect"):
            await session.request(method, url, data=client.AsyncIterablePayload(chunks()))
    assert len(server.log) == 1  # the stream was never sent to the new location


async def test_a_stream_read_with_as_bytes_can_follow_a_307(server: KeepAliveServer) -> None:
    payload = client.AsyncIterablePayload(chunks())
    assert await payload.as_bytes() == b"chunk1chunk2chunk3"
    async with client.ClientSession() as session:
        doc = await echo(session, f"{server.url}/redirect?to=/echo&status=307", data=payload)
    assert doc["body"] == "chunk1chunk2chunk3"


# --- middlewares: the body as a request attribute ----------------------------------------


async def test_update_body_in_a_middleware_reframes_the_request(
    server: KeepAliveServer,
) -> None:
    replacement: list[Any] = []

    async def replace(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        await request.update_body(replacement[0])
        return await handler(request)

    async with client.ClientSession(middlewares=(replace,)) as session:
        replacement[:] = [b"much much longer body"]
        doc = await echo(session, server.url + "/echo", data=b"short")
        assert (doc["body"], doc["headers"]["Content-Length"]) == ("much much longer body", "21")
        replacement[:] = ["now a string"]
        doc = await echo(session, server.url + "/echo", data=b"original bytes")
        assert (doc["body"], doc["headers"]["Content-Length"]) == ("now a string", "12")
        replacement[:] = [chunks()]
        doc = await echo(session, server.url + "/echo", data=b"fixed")
        assert doc["body"] == "chunk1chunk2chunk3"
        assert doc["headers"]["Transfer-Encoding"] == "chunked"
        assert "Content-Length" not in doc["headers"]
        replacement[:] = [None]
        doc = await echo(session, server.url + "/echo", data=b"gone")
        assert (doc["body"], doc["headers"]["Content-Length"]) == ("", "0")


async def test_update_body_closes_the_payload_it_replaces(server: KeepAliveServer) -> None:
    old = Tracked(b"old")

    async def replace(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        assert request.body is old
        await request.update_body(b"new")
        assert old.close_calls == 1
        return await handler(request)

    async with client.ClientSession(middlewares=(replace,)) as session:
        doc = await echo(session, server.url + "/echo", data=old)
    assert doc["body"] == "new"


async def test_a_middleware_reads_the_body_and_the_session(server: KeepAliveServer) -> None:
    seen: list[tuple[str | None, bool]] = []
    async with client.ClientSession() as session:

        async def sign(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            body = request.body
            seen.append((body.decode("utf-8") if body else None, request.session is session))
            request.headers["X-Signature"] = str(len(body.decode()) if body else 0)
            return await handler(request)

        doc = await echo(session, server.url + "/echo", json={"a": 1}, middlewares=(sign,))
        assert doc["headers"]["X-Signature"] == "8"
        doc = await echo(session, server.url + "/echo", data="ünï", middlewares=(sign,))
        async with session.get(server.url + "/", middlewares=(sign,)) as resp:
            assert resp.status == 200
        # A compressed request still shows the middleware the body it was given.
        doc = await echo(
            session, server.url + "/echo", data=b"x" * 1000, compress="gzip", middlewares=(sign,)
        )
        assert doc["headers"]["Content-Encoding"] == "gzip"
        assert int(doc["headers"]["Content-Length"]) < 1000
    assert seen == [('{"a": 1}', True), ("ünï", True), (None, True), ("x" * 1000, True)]


# --- payloads closed once the request is over --------------------------------------------


async def test_the_payload_is_closed_after_a_response(server: KeepAliveServer) -> None:
    payload = Tracked(DATA)
    async with client.ClientSession() as session:
        await echo(session, server.url + "/echo", data=payload)
    assert payload.close_calls == 1


async def test_a_file_passed_as_data_is_closed_after_the_request(
    server: KeepAliveServer, tmp_path: Path
) -> None:
    path = tmp_path / "upload.txt"
    path.write_bytes(DATA)
    fh = open(path, "rb")  # noqa: SIM115 - the request closes it, as aiohttp 3.12+ does
    async with client.ClientSession() as session:
        doc = await echo(session, server.url + "/echo", data=fh)
    assert doc["body"] == DATA.decode()
    assert fh.closed


async def test_the_payload_is_closed_when_the_server_drops_the_connection(
    raw_server: RawServerFactory,
) -> None:
    async def drop(conn: RawConnection) -> None:
        conn.close()

    server = await raw_server(drop)
    payload = Tracked(b"x" * 1024)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectionError):
            await session.post(server.url, data=payload)
    assert payload.close_calls == 1


@pytest.mark.parametrize(
    ("location", "error"),
    [
        ("/redirect?to=/redirect&status=307", client.TooManyRedirects),
        ("ftp://example.com/file", client.NonHttpUrlRedirectClientError),
    ],
)
async def test_the_payload_is_closed_when_a_redirect_fails(
    server: KeepAliveServer, location: str, error: type[Exception]
) -> None:
    payload = Tracked(DATA)
    async with client.ClientSession() as session:
        with pytest.raises(error):
            await session.post(
                f"{server.url}/redirect?to={location}&status=307",
                data=payload,
                max_redirects=2,
            )
    assert payload.close_calls == 1


async def test_a_payload_a_303_drops_is_closed_at_once(server: KeepAliveServer) -> None:
    payload = Tracked(DATA)
    async with client.ClientSession() as session:
        async with session.post(
            f"{server.url}/redirect?to=/echo&status=303", data=payload
        ) as resp:
            assert (await resp.json())["method"] == "GET"
    assert payload.close_calls == 1


async def test_the_payload_is_closed_when_the_request_is_cancelled(
    raw_server: RawServerFactory,
) -> None:
    accepted = asyncio.Event()

    async def stall(conn: RawConnection) -> None:
        accepted.set()
        while await conn.read():
            pass  # never answers

    server = await raw_server(stall)
    payload = Tracked(b"y" * 1024)
    async with client.ClientSession() as session:

        async def post() -> None:
            await session.post(server.url, data=payload)

        task = asyncio.create_task(post())
        await accepted.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert payload.close_calls == 1


async def test_a_streamed_payload_is_closed_once_its_upload_ends(
    raw_server: RawServerFactory,
) -> None:
    """An early answer while the body still goes out: the payload is closed after the
    upload, not under the writer's feet."""
    release = asyncio.Event()

    async def early(conn: RawConnection) -> None:
        await conn.read_until(HEAD_END)
        conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n")
        await conn.read_until(b"0\r\n\r\n")  # the end of the chunked request body
        conn.write(b"0\r\n\r\n")

    closed = asyncio.Event()
    writing = [True]
    closed_while_writing: list[bool] = []

    class Stream(client.AsyncIterablePayload):
        async def close(self) -> None:
            closed_while_writing.append(writing[0])
            closed.set()

    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        await release.wait()
        yield b"second"
        writing[0] = False

    server = await raw_server(early)
    async with client.ClientSession() as session:
        async with session.post(server.url, data=Stream(body())) as resp:
            assert resp.status == 200  # answered while the body is still going out
            assert not closed.is_set()
            release.set()
            await asyncio.wait_for(closed.wait(), 10)
            assert await resp.read() == b"ok"
    assert closed_while_writing == [False]


# --- the same over HTTP/2 ------------------------------------------------------------------


async def test_http2_bodies_are_compressed_tracked_and_closed(
    h2_server: Any, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await h2_server(ssl=server_ssl_context)
    text = b"compress me over h2 " * 500

    async def stream() -> AsyncIterator[bytes]:
        for start in range(0, len(text), 1000):
            yield text[start : start + 1000]

    async with client.ClientSession(http2=True) as session:
        tracked = Tracked(text)
        tracker = client.UploadTracker()
        async with session.post(
            server.url + "/echo",
            data=tracked,
            compress="deflate",
            ssl=client_ssl_context,
            upload_tracker=tracker,
        ) as resp:
            assert resp.version == client.HttpVersion(2, 0)
            echo = await resp.json()
        wire = zlib.compress(text)  # what compress="deflate" puts on the wire, in memory
        assert (echo["length"], echo["sha256"]) == (len(wire), sha256(wire))
        assert ["content-encoding", "deflate"] in echo["fields"]
        await tracker.upload_complete
        assert (tracker.attempts, tracker.bytes_written) == (1, len(text))
        assert tracked.close_calls == 1

        streamed = client.UploadTracker()
        async with session.post(
            server.url + "/echo",
            data=stream(),
            compress="gzip",
            ssl=client_ssl_context,
            upload_tracker=streamed,
        ) as resp:
            echo = await resp.json()
        assert echo["length"] < len(text)
        assert ["content-encoding", "gzip"] in echo["fields"]
        await streamed.upload_complete
        assert streamed.bytes_written == len(text)


async def test_an_http2_request_that_falls_back_to_http11_is_one_attempt(
    hypercorn_server: Any, client_ssl_context: ssl.SSLContext
) -> None:
    server = await hypercorn_server(alpn=("http/1.1",))
    tracker = client.UploadTracker()
    async with client.ClientSession(http2=True) as session:
        async with session.post(
            server.url + "/echo", data=DATA, ssl=client_ssl_context, upload_tracker=tracker
        ) as resp:
            assert resp.version == client.HttpVersion11
            await resp.read()
    assert (tracker.attempts, tracker.bytes_written) == (1, len(DATA))
    assert tracker.upload_complete.result() is None
