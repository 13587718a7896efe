"""Sending a body: aiohttp 3.14's UploadTracker, the body writer's framing and failures,
sock_read while an upload is still going out, and the deprecated upload attributes.
Real loopback servers only."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import client
from client import ClientHandlerType, ClientRequest, ClientResponse
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory
from tests.servers.raw import HEAD_END, RawConnection, RawServerFactory

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def server(keepalive_server: KeepAliveServerFactory) -> KeepAliveServer:
    return await keepalive_server()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def aborted(tracker: client.UploadTracker) -> bool:
    return isinstance(tracker.upload_complete.exception(), client.UploadAbortedError)


async def post(session: client.ClientSession, url: str, **kwargs: Any) -> bytes:
    async with session.post(url, **kwargs) as resp:
        assert resp.status == 200
        return await resp.read()


# --- UploadTracker: what was sent -------------------------------------------------------


async def test_tracker_counts_a_body_sent_with_its_head(server: KeepAliveServer) -> None:
    tracker = client.UploadTracker()
    async with client.ClientSession() as session:
        await post(session, server.url + "/echo", data=b"x" * 1024, upload_tracker=tracker)
    assert tracker.attempts == 1
    assert tracker.bytes_written == 1024
    assert tracker.upload_complete.result() is None


async def test_tracker_counts_payload_bytes_not_wire_bytes(server: KeepAliveServer) -> None:
    writer = client.MultipartWriter("form-data")
    writer.append(b"x" * 4096)
    writer.append(b"y" * 2048)
    size = writer.size
    assert size is not None
    async with client.ClientSession() as session:
        trackers = [client.UploadTracker() for _ in range(4)]
        await post(session, server.url + "/echo", data=writer, upload_tracker=trackers[0])
        await post(  # compressed in memory: the payload's size, not the compressed one
            session,
            server.url + "/echo",
            data=b"z" * 8192,
            compress="deflate",
            upload_tracker=trackers[1],
        )

        async def stream() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b"s" * 1000

        await post(  # streamed, chunked and compressed: still the payload's bytes
            session,
            server.url + "/echo",
            data=stream(),
            compress="gzip",
            upload_tracker=trackers[2],
        )
        await post(session, server.url + "/echo", upload_tracker=trackers[3])  # no body
    assert [t.bytes_written for t in trackers] == [size, 8192, 4000, 0]
    assert all(t.upload_complete.result() is None for t in trackers)


async def test_tracker_progress_moves_one_chunk_at_a_time(raw_server: RawServerFactory) -> None:
    async def answer_then_read(conn: RawConnection) -> None:
        await conn.read_until(HEAD_END)
        conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n")
        await conn.read_until(b"0\r\n\r\n")
        conn.write(b"0\r\n\r\n")

    server = await raw_server(answer_then_read)
    chunk = b"z" * 4096
    sampled = asyncio.Event()
    yielded = asyncio.Event()

    async def gated() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield chunk
            sampled.clear()
            yielded.set()  # the writer asks for the next chunk: this one is out
            await sampled.wait()

    tracker = client.UploadTracker()
    samples = []
    async with client.ClientSession() as session:
        async with session.post(server.url, data=gated(), upload_tracker=tracker) as resp:
            for _ in range(8):
                await yielded.wait()
                yielded.clear()
                samples.append(tracker.bytes_written)
                assert not tracker.upload_complete.done()
                sampled.set()
            await tracker.upload_complete
            assert await resp.read() == b"x"
    assert samples == [4096 * (i + 1) for i in range(8)]


async def test_tracker_with_expect100(server: KeepAliveServer) -> None:
    tracker = client.UploadTracker()
    async with client.ClientSession() as session:
        await post(
            session, server.url + "/echo", data=b"e" * 256, expect100=True, upload_tracker=tracker
        )
    assert (tracker.attempts, tracker.bytes_written) == (1, 256)
    assert tracker.upload_complete.result() is None


# --- UploadTracker: attempts -----------------------------------------------------------


async def test_a_307_is_a_second_attempt_a_303_a_bodyless_one(server: KeepAliveServer) -> None:
    resent, dropped = client.UploadTracker(), client.UploadTracker()
    async with client.ClientSession() as session:
        await post(
            session,
            server.url + "/redirect?to=/echo&status=307",
            data=b"r" * 2048,
            upload_tracker=resent,
        )
        await post(
            session,
            server.url + "/redirect?to=/echo&status=303",
            data=b"d" * 512,
            upload_tracker=dropped,
        )
    assert (resent.attempts, resent.bytes_written) == (2, 2048)
    assert (dropped.attempts, dropped.bytes_written) == (2, 0)
    assert resent.upload_complete.result() is None
    assert dropped.upload_complete.result() is None


async def test_a_resend_that_cannot_connect_is_aborted(server: KeepAliveServer) -> None:
    tracker = client.UploadTracker()
    target = f"http://127.0.0.1:{closed_port()}/"
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorError):
            await session.post(
                f"{server.url}/redirect?to={target}&status=307",
                data=b"r" * 2048,
                upload_tracker=tracker,
            )
    assert (tracker.attempts, tracker.bytes_written) == (2, 0)
    assert aborted(tracker)


async def test_middlewares_that_resend_or_answer_themselves(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        cached = await session.get(server.url + "/")
        await cached.read()

        async def from_cache(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            return cached

        async def twice(req: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            (await handler(req)).release()
            return await handler(req)

        short, resent = client.UploadTracker(), client.UploadTracker()
        async with session.post(
            server.url + "/echo", data=b"x", middlewares=(from_cache,), upload_tracker=short
        ) as resp:
            assert resp is cached
        await post(
            session,
            server.url + "/echo",
            data=b"b" * 512,
            middlewares=(twice,),
            upload_tracker=resent,
        )
    assert short.attempts == 0 and aborted(short)
    assert (resent.attempts, resent.bytes_written) == (2, 512)
    assert resent.upload_complete.result() is None


async def test_a_tracker_follows_one_request_only(server: KeepAliveServer) -> None:
    tracker = client.UploadTracker()
    async with client.ClientSession() as session:
        await post(session, server.url + "/", upload_tracker=tracker)
        with pytest.raises(RuntimeError, match="already bound"):
            await session.get(server.url + "/", upload_tracker=tracker)
    assert tracker.upload_complete.result() is None  # the refused reuse left it alone


@pytest.mark.parametrize(
    ("url", "kwargs", "error"),
    [
        ("ftp://example.com/", {}, client.NonHttpUrlClientError),
        ("{server}/echo", {"data": b"x", "json": {"a": 1}}, ValueError),
        ("{server}/echo", {"json": {"a": object()}}, TypeError),
        ("{server}/echo", {"proxy": "http://[invalid"}, client.InvalidURL),
    ],
    ids=["non-http", "data-and-json", "unserializable", "bad-proxy"],
)
async def test_a_request_refused_before_sending_settles_its_tracker(
    server: KeepAliveServer, url: str, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    tracker = client.UploadTracker()
    async with client.ClientSession() as session:
        with pytest.raises(error):
            await session.post(url.format(server=server.url), upload_tracker=tracker, **kwargs)
    assert tracker.attempts == 0 and aborted(tracker)
    assert server.requests == 0


async def test_a_closed_session_settles_the_tracker() -> None:
    session = client.ClientSession()
    await session.close()
    tracker = client.UploadTracker()
    with pytest.raises(RuntimeError, match="Session is closed"):
        await session.get("http://127.0.0.1:1/", upload_tracker=tracker)
    assert tracker.attempts == 0 and aborted(tracker)


# --- UploadTracker: failures and late endings -------------------------------------------


async def test_a_connect_error_is_an_aborted_attempt() -> None:
    tracker = client.UploadTracker()
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorError):
            await session.post(
                f"http://127.0.0.1:{closed_port()}/", data=b"x", upload_tracker=tracker
            )
    assert tracker.attempts == 1 and aborted(tracker)


async def test_a_failing_body_fails_the_request_with_the_trackers_error(
    raw_server: RawServerFactory,
) -> None:
    async def read_all(conn: RawConnection) -> None:
        while await conn.read():
            pass

    server = await raw_server(read_all)

    async def failing() -> AsyncIterator[bytes]:
        yield b"a" * 100
        raise ValueError("boom")

    tracker = client.UploadTracker()
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectionError, match="boom") as caught:
            await session.post(server.url, data=failing(), upload_tracker=tracker)
    assert isinstance(caught.value.__cause__, ValueError)
    assert tracker.upload_complete.exception() is caught.value


async def test_an_upload_that_ends_after_the_answer_settles_then(
    raw_server: RawServerFactory,
) -> None:
    async def answer_first(conn: RawConnection) -> None:
        await conn.read_until(HEAD_END)
        conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n")
        await conn.read_until(b"0\r\n\r\n")
        conn.write(b"0\r\n\r\n")

    release = asyncio.Event()

    async def body(fail: bool) -> AsyncIterator[bytes]:
        yield b"z" * 4096
        await release.wait()
        if fail:
            raise ValueError("late boom")
        yield b"z" * 4096

    async with client.ClientSession() as session:
        for fail in (False, True):
            release.clear()
            server = await raw_server(answer_first)
            tracker = client.UploadTracker()
            async with session.post(server.url, data=body(fail), upload_tracker=tracker) as resp:
                assert resp.status == 200
                assert not tracker.upload_complete.done()
                release.set()
                if fail:
                    with pytest.raises(client.ClientConnectionError, match="late boom"):
                        await tracker.upload_complete
                else:
                    await tracker.upload_complete
                    assert tracker.bytes_written == 8192
                    assert await resp.read() == b"x"


async def test_a_cancelled_request_aborts_the_upload(raw_server: RawServerFactory) -> None:
    async def read_all(conn: RawConnection) -> None:
        while await conn.read():
            pass

    server = await raw_server(read_all)
    first_sent = asyncio.Event()

    async def stalled() -> AsyncIterator[bytes]:
        yield b"a" * 100
        first_sent.set()
        await asyncio.Event().wait()
        yield b"never"

    tracker = client.UploadTracker()
    async with client.ClientSession() as session:

        async def send() -> None:
            await session.post(server.url, data=stalled(), upload_tracker=tracker)

        task = asyncio.create_task(send())
        await first_sent.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    with pytest.raises(client.UploadAbortedError):
        await tracker.upload_complete
    assert tracker.attempts == 1


# --- the body writer ---------------------------------------------------------------------


async def test_sock_read_does_not_fire_while_the_body_is_still_going_out(
    server: KeepAliveServer,
) -> None:
    async def slow() -> AsyncIterator[bytes]:
        await asyncio.sleep(0.5)  # longer than sock_read: no answer is due while sending
        yield b"foo"

    timeout = client.ClientTimeout(total=None, sock_read=0.1)
    async with client.ClientSession(timeout=timeout) as session:
        async with session.put(server.url + "/echo", data=slow()) as resp:
            assert (await resp.json())["body"] == "foo"
        # Once the body is out, a silent server still trips it.
        with pytest.raises(client.SocketTimeoutError):
            await session.post(server.url + "/delay/5", data=slow())


async def test_a_file_that_fails_is_a_client_os_error(
    server: KeepAliveServer, tmp_path: Path
) -> None:
    path = tmp_path / "shrinks.bin"
    path.write_bytes(b"x" * 200_000)
    payload = client.payload.FilePayload(path)
    path.write_bytes(b"x" * 10)  # it shrank after being measured
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientOSError, match="shrank"):
            await session.post(server.url + "/echo", data=payload)


async def test_content_length_cuts_a_longer_body_and_refuses_a_shorter_one(
    server: KeepAliveServer,
) -> None:
    async def stream(n: int) -> AsyncIterator[bytes]:
        yield b"a" * n

    async with client.ClientSession() as session:
        doc = await session.post(
            server.url + "/echo", data=stream(10), headers={"Content-Length": "4"}
        )
        assert (await doc.json())["body"] == "aaaa"
        with pytest.raises(client.ClientPayloadError, match="6 bytes short"):
            await session.post(
                server.url + "/echo", data=stream(4), headers={"Content-Length": "10"}
            )


async def test_chunked_with_a_size_is_deprecated(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="Chunk size"):
            await post(session, server.url + "/echo", data=b"x", chunked=1024)  # type: ignore[arg-type]


async def test_the_deprecated_upload_attributes_of_a_response(
    raw_server: RawServerFactory,
) -> None:
    async def answer_first(conn: RawConnection) -> None:
        await conn.read_until(HEAD_END)
        conn.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n")
        await conn.read_until(b"0\r\n\r\n")
        conn.write(b"0\r\n\r\n")

    server = await raw_server(answer_first)
    release = asyncio.Event()

    async def gated() -> AsyncIterator[bytes]:
        yield b"x" * 512
        await release.wait()
        yield b"y" * 512

    async with client.ClientSession() as session:
        async with session.post(server.url, data=gated()) as resp:
            with pytest.warns(DeprecationWarning, match="output_size is deprecated"):
                assert resp.output_size > 0
            with pytest.warns(DeprecationWarning, match="upload_complete is deprecated"):
                done = resp.upload_complete
            assert not done.done()
            release.set()
            await done
            with pytest.warns(DeprecationWarning, match="upload_complete is deprecated"):
                assert resp.upload_complete is done
            with pytest.warns(DeprecationWarning, match="output_size is deprecated"):
                assert resp.output_size > 1024
            assert await resp.read() == b"x"
