"""``resp.content``: the body as an async stream, with read-side flow control.

Rules:
- The connection feeds bytes with ``feed_data`` and ends with ``feed_eof`` or
  ``set_exception``; readers wait on one future at a time.
- When more than ``high_water`` bytes are buffered and no reader is waiting, the
  transport is paused, and resumed once a reader brings the buffer under ``low_water``:
  a slow consumer never makes us hold an unbounded body, a fast one never pauses.
- ``sock_read`` is enforced here, per wait, with one timer handle (no task per read).
- ``read()`` of everything (so ``resp.read()``, ``text()``, ``json()``) calls
  ``on_read_all`` first: the decoder then bounds the expansion ratio of a body that is about
  to be held in memory whole (see ``decoders.ExpansionMeter``).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable

from .exceptions import SocketTimeoutError

__all__ = ["EMPTY_PAYLOAD", "StreamReader"]


class StreamReader:
    """A buffered body stream with aiohttp's ``StreamReader`` read methods."""

    __slots__ = (
        "_buffer",
        "_chunk_splits",
        "_eof",
        "_eof_callbacks",
        "_exception",
        "_high_water",
        "_loop",
        "_low_water",
        "_offset",
        "_on_read_all",
        "_pause",
        "_paused",
        "_raw",
        "_resume",
        "_size",
        "_timeout",
        "_waiter",
        "total_bytes",
    )

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        limit: int = 2**16,
        pause: Callable[[], None] | None = None,
        resume: Callable[[], None] | None = None,
        sock_read: float | None = None,
        on_read_all: Callable[[], None] | None = None,
    ) -> None:
        self._loop = loop
        self._buffer: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._offset = 0  # bytes of the first buffered piece already read
        self._chunk_splits: collections.deque[int] = collections.deque()  # see end_http_chunk
        self._eof = False
        self._exception: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._high_water = limit * 2
        self._low_water = limit
        self._pause = pause
        self._resume = resume
        self._paused = False
        self._timeout = sock_read
        self._eof_callbacks: list[Callable[[], None]] = []
        self.total_bytes = 0
        self._raw = -1  # bytes as received when the body is decoded; -1: total_bytes
        self._on_read_all = on_read_all

    @property
    def total_raw_bytes(self) -> int:
        """Body bytes as they came off the wire (before decompression), aiohttp 3.12's."""
        return self.total_bytes if self._raw < 0 else self._raw

    def count_raw(self, n: int) -> None:
        """``n`` encoded bytes arrived for a decoded body (the protocol counts them)."""
        self._raw = n if self._raw < 0 else self._raw + n

    def __repr__(self) -> str:
        state = "eof" if self._eof else f"{self._size} bytes"
        return f"<StreamReader {state}>"

    # -- feeding side --------------------------------------------------------------

    def feed_data(self, data: bytes) -> None:
        if not data:
            return
        self._buffer.append(data)
        self._size += len(data)
        self.total_bytes += len(data)
        waiter = self._waiter
        if waiter is not None:
            # A reader is waiting and takes this next: pausing now would only cost a
            # pause/resume pair (two epoll_ctl calls and a loop pass) per network read.
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)
        elif self._size > self._high_water and not self._paused and self._pause is not None:
            self._paused = True
            self._pause()

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()
        callbacks, self._eof_callbacks = self._eof_callbacks, []
        for callback in callbacks:
            callback()

    def on_eof(self, callback: Callable[[], None]) -> None:
        if self._eof:
            callback()
        else:
            self._eof_callbacks.append(callback)

    def set_exception(self, exc: BaseException) -> None:
        if self._exception is None:
            self._exception = exc
        self._eof_callbacks.clear()
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_exception(exc)

    def exception(self) -> BaseException | None:
        return self._exception

    async def wait_eof(self) -> None:
        while not self._eof:
            await self._wait()

    def get_read_buffer_limits(self) -> tuple[int, int]:
        return (self._low_water, self._high_water)

    def hold_feeder(self) -> None:
        """Pause the feeder now (it had more to give); resumed below the low-water mark."""
        if not self._paused and self._pause is not None:
            self._paused = True
            self._pause()

    def is_full(self) -> bool:
        """More is buffered than the high-water mark: the feeder should hold off."""
        return self._size > self._high_water

    def is_eof(self) -> bool:
        return self._eof

    def at_eof(self) -> bool:
        """True when the stream ended and every byte was read."""
        return self._eof and not self._buffer

    # -- reading side --------------------------------------------------------------

    async def _wait(self) -> None:
        if self._exception is not None:
            raise self._exception
        waiter = self._waiter = self._loop.create_future()
        handle = None
        if self._timeout:
            handle = self._loop.call_later(self._timeout, self._on_timeout, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if handle is not None:
                handle.cancel()

    def _on_timeout(self, waiter: asyncio.Future[None]) -> None:
        if not waiter.done():
            self.set_exception(SocketTimeoutError("Timeout on reading data from socket"))

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def _taken(self, n: int) -> None:
        self._size -= n
        if self._paused and self._size < self._low_water and self._resume is not None:
            self._paused = False
            self._resume()

    def _consolidate_first(self) -> None:
        """Drop the already-read prefix of the first piece (see ``_take``)."""
        if self._offset:
            self._buffer[0] = self._buffer[0][self._offset :]
            self._offset = 0

    def _take_all(self) -> bytes:
        if self._offset:
            self._consolidate_first()
        buffer = self._buffer
        data = buffer.popleft() if len(buffer) == 1 else b"".join(buffer)
        buffer.clear()
        self._taken(len(data))
        return data

    async def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (``-1``: everything until EOF)."""
        if self._exception is not None:
            raise self._exception
        if n < 0:
            if self._on_read_all is not None:
                self._on_read_all()
            # Drain as we go: a paused transport resumes once the buffer is taken, so a
            # body larger than the high-water mark still reaches its end.
            parts: list[bytes] = []
            while True:
                # Taking may resume the feeder, which can refill the buffer at once.
                while self._buffer:
                    parts.append(self._take_all())
                if self._eof:
                    break
                await self._wait()
            if self._exception is not None:
                raise self._exception
            return parts[0] if len(parts) == 1 else b"".join(parts)
        if n == 0:
            return b""
        while not self._buffer and not self._eof:
            await self._wait()
        return self._take(n)

    def _take(self, n: int) -> bytes:
        buffer = self._buffer
        if not buffer:
            return b""
        # Partial reads move an offset instead of copying the rest of the piece each time:
        # reading a large piece in small bites stays linear.
        first = buffer[0]
        offset = self._offset
        available = len(first) - offset
        if available <= n:
            buffer.popleft()
            self._offset = 0
            self._taken(available)
            return first[offset:] if offset else first
        self._offset = offset + n
        self._taken(n)
        return first[offset : offset + n]

    async def readany(self) -> bytes:
        """Whatever is buffered, waiting for at least one byte (b"" at EOF)."""
        while not self._buffer and not self._eof:
            await self._wait()
        if self._exception is not None and not self._buffer:
            raise self._exception
        return self._take_all() if self._buffer else b""

    async def readexactly(self, n: int) -> bytes:
        parts: list[bytes] = []
        remaining = n
        while remaining:
            chunk = await self.read(remaining)
            if not chunk:
                partial = b"".join(parts)
                raise asyncio.IncompleteReadError(partial, n)
            parts.append(chunk)
            remaining -= len(chunk)
        return b"".join(parts)

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        if not separator:
            raise ValueError("Separator should be at least one-byte string")
        while True:
            if self._exception is not None:
                raise self._exception  # as read(): a failed or released body reads no more
            if self._buffer:
                self._consolidate_first()
                joined = b"".join(self._buffer)
                index = joined.find(separator)
                if index >= 0:
                    end = index + len(separator)
                    self._buffer.clear()
                    if end < len(joined):
                        self._buffer.append(joined[end:])
                    self._taken(end)
                    return joined[:end]
                if len(self._buffer) > 1:
                    self._buffer.clear()
                    self._buffer.append(joined)
                if len(joined) > self._high_water:
                    # The transport is paused at this size: waiting longer would never end.
                    raise ValueError("Chunk too big")
            if self._eof:
                return self._take_all() if self._buffer else b""
            await self._wait()

    async def readline(self) -> bytes:
        return await self.readuntil(b"\n")

    def end_http_chunk(self) -> None:
        """A chunk of a chunked body ended here (for ``readchunk``'s second value)."""
        position = self.total_bytes
        splits = self._chunk_splits
        if position and (not splits or splits[-1] != position):
            splits.append(position)
            self._wake()

    async def readchunk(self) -> tuple[bytes, bool]:
        """The next piece, and whether it ends an HTTP chunk (aiohttp's shape).

        At EOF: ``(b"", False)``. A piece never runs past a chunk boundary.
        """
        while True:
            if self._exception is not None:
                raise self._exception
            splits = self._chunk_splits
            if splits:
                cursor = self.total_bytes - self._size
                position = splits.popleft()
                if position > cursor:
                    return self._take(position - cursor), True
                if position == cursor:
                    return b"", True
            if self._buffer:
                self._consolidate_first()
                data = self._buffer.popleft()
                self._taken(len(data))
                return data, False
            if self._eof:
                return b"", False
            await self._wait()

    def read_nowait(self, n: int = -1) -> bytes:
        if self._exception is not None:
            raise self._exception
        if self._waiter is not None:
            raise RuntimeError("Called while some coroutine is waiting for incoming data.")
        return self._take_all() if n < 0 and self._buffer else self._take(n)

    def unread_data(self, data: bytes) -> None:
        if data:
            self._consolidate_first()
            self._buffer.appendleft(data)
            self._size += len(data)

    # -- iteration -----------------------------------------------------------------

    async def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Pieces of at most ``n`` bytes."""
        while True:
            chunk = await self.read(n)
            if not chunk:
                return
            yield chunk

    async def iter_any(self) -> AsyncIterator[bytes]:
        """Pieces as they arrive."""
        while True:
            chunk = await self.readany()
            if not chunk:
                return
            yield chunk

    async def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        while True:
            chunk, end = await self.readchunk()
            if not chunk and not end:
                return
            yield chunk, end

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Line by line, as aiohttp's stream iterates."""
        return self._lines()

    async def _lines(self) -> AsyncIterator[bytes]:
        while True:
            line = await self.readline()
            if not line:
                return
            yield line


class _EmptyStreamReader(StreamReader):
    def __init__(self) -> None:
        self._buffer = collections.deque()
        self._chunk_splits = collections.deque()
        self._size = 0
        self._offset = 0
        self._eof = True
        self._exception = None
        self._waiter = None
        self._paused = False
        self._pause = None
        self._resume = None
        self._timeout = None
        self._eof_callbacks = []
        self.total_bytes = 0
        self._raw = -1
        self._on_read_all = None

    async def _wait(self) -> None:  # pragma: no cover - never waits: always at EOF
        return None


EMPTY_PAYLOAD: StreamReader = _EmptyStreamReader()
