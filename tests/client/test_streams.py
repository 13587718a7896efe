"""``StreamReader`` (``resp.content``): the read methods, iteration, errors, flow control."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

import client

pytestmark = pytest.mark.timeout(20)


class FlowRecorder:
    """The transport side of flow control: counts pause/resume calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")


def make_stream(
    *, limit: int = 2**16, flow: FlowRecorder | None = None, sock_read: float | None = None
) -> client.StreamReader:
    loop = asyncio.get_running_loop()
    if flow is None:
        return client.StreamReader(loop, limit=limit, sock_read=sock_read)
    return client.StreamReader(
        loop, limit=limit, pause=flow.pause, resume=flow.resume, sock_read=sock_read
    )


def fed(*pieces: bytes, eof: bool = True) -> client.StreamReader:
    stream = make_stream()
    for piece in pieces:
        stream.feed_data(piece)
    if eof:
        stream.feed_eof()
    return stream


async def feed_later(stream: client.StreamReader, *pieces: bytes, eof: bool = True) -> None:
    for piece in pieces:
        await asyncio.sleep(0)
        stream.feed_data(piece)
    await asyncio.sleep(0)
    if eof:
        stream.feed_eof()


# -- read ---------------------------------------------------------------------------------


async def test_read_all_until_eof() -> None:
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, b"hello ", b"wor", b"ld"))
    assert await stream.read() == b"hello world"
    await task
    assert await stream.read() == b""
    assert stream.at_eof()


async def test_read_n_returns_at_most_n() -> None:
    stream = fed(b"abcdef", b"gh")
    assert await stream.read(4) == b"abcd"
    assert await stream.read(4) == b"ef"
    assert await stream.read(100) == b"gh"
    assert await stream.read(4) == b""


async def test_read_zero_is_empty() -> None:
    stream = fed(b"abc", eof=False)
    assert await stream.read(0) == b""
    assert await stream.read(3) == b"abc"


async def test_read_n_waits_for_data() -> None:
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, b"xy"))
    assert await stream.read(10) == b"xy"
    await task


async def test_total_bytes_counts_everything_fed() -> None:
    stream = fed(b"abc", b"de")
    await stream.read(1)
    assert stream.total_bytes == 5


# -- readany / readexactly / readline -----------------------------------------------------


async def test_readany_returns_everything_buffered() -> None:
    stream = fed(b"one", b"two", eof=False)
    assert await stream.readany() == b"onetwo"
    stream.feed_eof()
    assert await stream.readany() == b""


async def test_readany_waits_for_at_least_one_byte() -> None:
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, b"z", eof=False))
    assert await stream.readany() == b"z"
    await task


async def test_readexactly() -> None:
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, b"ab", b"cd", b"efg"))
    assert await stream.readexactly(5) == b"abcde"
    assert await stream.readexactly(2) == b"fg"
    await task


async def test_readexactly_short_raises_incomplete_read() -> None:
    stream = fed(b"abc")
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await stream.readexactly(5)
    assert info.value.partial == b"abc"
    assert info.value.expected == 5


async def test_readline_across_pieces() -> None:
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, b"fir", b"st\nsec", b"ond\n", b"last"))
    assert await stream.readline() == b"first\n"
    assert await stream.readline() == b"second\n"
    assert await stream.readline() == b"last"
    assert await stream.readline() == b""
    await task


async def test_readuntil_separator() -> None:
    stream = fed(b"a--b--", b"c")
    assert await stream.readuntil(b"--") == b"a--"
    assert await stream.readuntil(b"--") == b"b--"
    assert await stream.readuntil(b"--") == b"c"


async def test_async_for_iterates_lines() -> None:
    stream = fed(b"1\n2\n", b"3")
    assert [line async for line in stream] == [b"1\n", b"2\n", b"3"]


# -- iteration ----------------------------------------------------------------------------


async def test_iter_chunked_pieces_at_most_n() -> None:
    data = bytes(range(256)) * 4
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, data[:300], data[300:301], data[301:]))
    pieces = [piece async for piece in stream.iter_chunked(100)]
    await task
    assert b"".join(pieces) == data
    assert all(0 < len(piece) <= 100 for piece in pieces)


async def test_iter_any_yields_what_arrives() -> None:
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, b"a", b"bb", b"ccc"))
    pieces = [piece async for piece in stream.iter_any()]
    await task
    assert b"".join(pieces) == b"abbccc"
    assert all(pieces)


async def test_iter_any_on_empty_stream() -> None:
    stream = fed()
    assert [piece async for piece in stream.iter_any()] == []


# -- EOF ----------------------------------------------------------------------------------


async def test_at_eof_only_when_ended_and_drained() -> None:
    stream = make_stream()
    assert not stream.at_eof()
    stream.feed_data(b"x")
    stream.feed_eof()
    assert stream.is_eof()
    assert not stream.at_eof(), "a byte is still unread"
    await stream.read()
    assert stream.at_eof()


async def test_on_eof_callbacks() -> None:
    stream = make_stream()
    calls: list[str] = []
    stream.on_eof(lambda: calls.append("first"))
    assert calls == []
    stream.feed_eof()
    assert calls == ["first"]
    stream.on_eof(lambda: calls.append("late"))
    assert calls == ["first", "late"], "a callback added after EOF runs at once"


async def test_empty_payload_is_at_eof() -> None:
    assert client.EMPTY_PAYLOAD.at_eof()
    assert await client.EMPTY_PAYLOAD.read() == b""
    assert await client.EMPTY_PAYLOAD.readany() == b""


async def test_unread_data_is_read_first() -> None:
    stream = fed(b"world")
    stream.unread_data(b"hello ")
    assert await stream.read() == b"hello world"


# -- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["read", "read_n", "readany", "readline", "readexactly"])
async def test_exception_wakes_a_waiting_reader(method: str) -> None:
    stream = make_stream()
    calls = {
        "read": lambda: stream.read(),
        "read_n": lambda: stream.read(10),
        "readany": lambda: stream.readany(),
        "readline": lambda: stream.readline(),
        "readexactly": lambda: stream.readexactly(10),
    }
    task = asyncio.ensure_future(calls[method]())
    await asyncio.sleep(0)
    error = client.ClientPayloadError("cut short")
    stream.set_exception(error)
    with pytest.raises(client.ClientPayloadError) as info:
        await task
    assert info.value is error
    assert stream.exception() is error


async def test_exception_raised_by_later_reads() -> None:
    stream = make_stream()
    stream.set_exception(client.ClientPayloadError("broken"))
    with pytest.raises(client.ClientPayloadError):
        await stream.read()
    with pytest.raises(client.ClientPayloadError):
        await stream.readany()
    with pytest.raises(client.ClientPayloadError):
        async for _ in stream.iter_chunked(10):
            pass


async def test_exception_after_partial_data_ends_iteration_with_error() -> None:
    stream = make_stream()
    seen: list[bytes] = []

    async def consume() -> None:
        async for piece in stream.iter_any():
            seen.append(piece)

    task = asyncio.ensure_future(consume())
    stream.feed_data(b"part")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    stream.set_exception(client.ClientPayloadError("cut"))
    with pytest.raises(client.ClientPayloadError):
        await task
    assert seen == [b"part"]


async def test_sock_read_timeout_on_a_silent_stream() -> None:
    stream = make_stream(sock_read=0.05)
    stream.feed_data(b"some")
    assert await stream.read(4) == b"some"
    with pytest.raises(client.SocketTimeoutError) as info:
        await stream.read(4)
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_sock_read_not_raised_while_data_keeps_coming() -> None:
    stream = make_stream(sock_read=0.5)

    async def trickle() -> None:
        for _ in range(5):
            await asyncio.sleep(0.01)
            stream.feed_data(b"x")
        stream.feed_eof()

    task = asyncio.ensure_future(trickle())
    assert await stream.read() == b"xxxxx"
    await task


# -- flow control -------------------------------------------------------------------------


async def test_pause_over_high_water_and_resume_under_low_water() -> None:
    flow = FlowRecorder()
    stream = make_stream(limit=10, flow=flow)
    stream.feed_data(b"x" * 15)
    assert flow.calls == [], "under twice the limit: keep reading"
    stream.feed_data(b"x" * 10)
    assert flow.calls == ["pause"]
    stream.feed_data(b"x" * 10)
    assert flow.calls == ["pause"], "pause is called once, not per feed"
    assert len(await stream.readexactly(20)) == 20  # 15 left: over the low-water mark
    assert flow.calls == ["pause"]
    assert len(await stream.readexactly(10)) == 10  # 5 left
    assert flow.calls == ["pause", "resume"]


async def test_resume_after_readany_drains() -> None:
    flow = FlowRecorder()
    stream = make_stream(limit=4, flow=flow)
    for _ in range(5):
        stream.feed_data(b"ab")
    assert flow.calls == ["pause"]
    assert await stream.readany() == b"ab" * 5
    assert flow.calls == ["pause", "resume"]
    stream.feed_data(b"x" * 9)
    assert flow.calls == ["pause", "resume", "pause"], "pauses again on the next flood"


async def test_readline_and_iter_chunked_resume_reading() -> None:
    flow = FlowRecorder()
    stream = make_stream(limit=8, flow=flow)
    stream.feed_data(b"line one\n" * 3)
    assert flow.calls == ["pause"]
    assert await stream.readline() == b"line one\n"
    assert await stream.readline() == b"line one\n"
    assert flow.calls == ["pause"], "9 bytes left: over the low-water mark of 8"
    assert await stream.readline() == b"line one\n"
    assert flow.calls == ["pause", "resume"]


async def test_read_all_keeps_a_paused_transport_flowing() -> None:
    flow = FlowRecorder()
    stream = make_stream(limit=10, flow=flow)
    reader = asyncio.ensure_future(stream.read())
    await asyncio.sleep(0)
    stream.feed_data(b"x" * 30)  # over the high-water mark, but a reader is waiting
    stream.feed_data(b"y" * 30)  # ... and again, before it has run
    for _ in range(5):
        await asyncio.sleep(0)
    try:
        # A real transport sends nothing more while paused: the transport must not be left
        # paused once read() has taken what was buffered.
        assert flow.calls.count("pause") == flow.calls.count("resume"), flow.calls
    finally:
        stream.feed_eof()
        assert await reader == b"x" * 30 + b"y" * 30


async def test_a_waiting_reader_means_no_pause() -> None:
    # Each network read handed straight to a waiting reader: pausing would only cost a
    # pause/resume pair per read.
    flow = FlowRecorder()
    stream = make_stream(limit=10, flow=flow)
    reader = asyncio.ensure_future(stream.readany())
    await asyncio.sleep(0)
    stream.feed_data(b"x" * 30)
    assert await reader == b"x" * 30
    assert flow.calls == []


async def test_readline_longer_than_high_water_does_not_stall() -> None:
    flow = FlowRecorder()
    stream = make_stream(limit=10, flow=flow)
    reader = asyncio.ensure_future(stream.readline())
    await asyncio.sleep(0)
    stream.feed_data(b"x" * 30)  # no newline, over the high-water mark: paused
    for _ in range(5):
        await asyncio.sleep(0)
    try:
        # Either the reader gives up (ValueError) or it lets the transport flow again.
        assert reader.done() or "resume" in flow.calls
    finally:
        stream.feed_eof()
        with contextlib.suppress(ValueError):
            await reader


async def test_readchunk_at_eof_is_aiohttps_value() -> None:
    stream = fed(b"abc")
    assert await stream.readchunk() == (b"abc", False)
    assert await stream.readchunk() == (b"", False)


async def test_iter_chunks_yields_everything() -> None:
    stream = make_stream()
    task = asyncio.ensure_future(feed_later(stream, b"ab", b"cd"))
    pieces = [piece async for piece in stream.iter_chunks()]
    await task
    assert b"".join(data for data, _ in pieces) == b"abcd"


async def test_reading_everything_announces_itself_once() -> None:
    """read() with no size (resp.read(), text(), json()) tells the decoder first; pieces
    read any other way do not."""
    calls: list[str] = []
    stream = client.StreamReader(
        asyncio.get_running_loop(), on_read_all=lambda: calls.append("all")
    )
    stream.feed_data(b"abc")
    assert await stream.read(1) == b"a"
    assert await stream.readany() == b"bc"
    assert calls == []
    stream.feed_data(b"rest")
    stream.feed_eof()
    assert await stream.read() == b"rest"
    assert calls == ["all"]
