"""Sending a request body: the writer payloads write into, request compression, and
aiohttp 3.14's ``UploadTracker``.

Rules / theory of operation:

- ``BodyWriter.write(chunk)`` is the one place body bytes reach the connection: it
  compresses (``compress=``), cuts at the announced Content-Length (as aiohttp's
  ``write_with_length`` does), frames chunks (RFC 9112 §7.1), reports each chunk to the
  traces and waits while the transport's buffer is full. ``finish()`` ends the body: the
  compressor's tail, the last chunk, and a ``ClientPayloadError`` if the body was shorter
  than its Content-Length (the server would otherwise wait for bytes that never come).
- Compression of a body already in memory happens once, before the head is written, so
  it keeps an exact Content-Length; a streamed body is compressed chunk by chunk.
- ``UploadTracker`` (one per request, bound once) counts *attempts* (every hop sent:
  redirects, middleware resends, stale-connection retries) and, for the current attempt,
  the payload bytes (before compression and chunk framing) that have left the transport's
  buffer for the kernel. Each write leaves a mark (payload bytes so far, wire bytes so
  far); ``bytes_written`` reads the transport's unsent byte count and interpolates between
  the two marks around the wire position actually sent.
- ``upload_complete`` settles once the request has ended (returned or raised) *and* its
  last attempt has stopped writing: ``None`` if that attempt sent its whole body (a
  bodyless one counts), its error if writing failed, ``UploadAbortedError`` otherwise
  (never started, cut short, cancelled, answered without sending).
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .exceptions import ClientPayloadError, UploadAbortedError

if TYPE_CHECKING:
    from yarl import URL

    from .tracing import Trace

__all__ = ["BodySink", "BodyWriter", "UploadTracker", "compress_bytes", "compressor"]


class BodySink(Protocol):
    """What a body is written onto: an HTTP/1.1 connection (``ResponseProtocol``), or an
    HTTP/2 stream's upload (``http2_writer.H2Upload``)."""

    _loop: asyncio.AbstractEventLoop
    should_close: bool
    writing_body: bool

    @property
    def transport(self) -> asyncio.Transport | None: ...

    @property
    def exception(self) -> BaseException | None: ...

    @property
    def is_connected(self) -> bool: ...

    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...

    def abort(self, exc: BaseException | None = None) -> None: ...


# Marks kept before old ones are folded away, when nobody reads bytes_written.
_MAX_MARKS = 256


def compressor(encoding: str) -> Any:
    """A fresh zlib compressor for a request ``Content-Encoding`` (gzip or deflate)."""
    if encoding == "deflate":  # RFC 9110 §8.4.1.2: the zlib format
        return zlib.compressobj(wbits=zlib.MAX_WBITS)
    if encoding == "gzip":  # RFC 9110 §8.4.1.3
        return zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    raise ValueError(f"cannot compress a request body with {encoding!r} (use gzip or deflate)")


def compress_bytes(data: bytes, encoding: str) -> bytes:
    codec = compressor(encoding)
    return bytes(codec.compress(data) + codec.flush())


class BodyWriter:
    """Writes one attempt's body onto the connection (see the module rules)."""

    __slots__ = (
        "_codec",
        "_end",
        "_left",
        "_protocol",
        "_traces",
        "chunked",
        "gen",
        "method",
        "output_size",
        "tracker",
        "url",
    )

    def __init__(
        self,
        protocol: BodySink,
        method: str,
        url: URL,
        *,
        chunked: bool,
        length: int | None,
        compress: str | None = None,
        traces: Sequence[Trace] = (),
        tracker: UploadTracker | None = None,
        gen: int = 0,
        output_size: int = 0,
        end: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._protocol = protocol
        self._end = end  # what ends the body on the sink after finish(): HTTP/2's END_STREAM
        self.method = method
        self.url = url
        self.chunked = chunked
        self._left = None if chunked else length
        self._codec = compressor(compress) if compress else None
        self._traces = traces
        self.tracker = tracker
        self.gen = gen
        self.output_size = output_size  # bytes handed to the transport for this request

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._protocol.transport

    def unsent(self) -> int | None:
        """Bytes still in the transport's buffer, or ``None`` once it is gone."""
        transport = self._protocol.transport
        if transport is None or transport.is_closing():
            return None
        return transport.get_write_buffer_size()

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Send ``chunk`` (aiohttp's ``StreamWriter.write`` for a payload)."""
        size = len(chunk)
        if not size:
            return
        if type(chunk) is not bytes:
            chunk = bytes(chunk)
        for trace in self._traces:
            await trace.send_request_chunk_sent(self.method, self.url, chunk)
        data: bytes = chunk if self._codec is None else self._codec.compress(chunk)
        self._send(data)
        if self.tracker is not None:
            self.tracker._add(self.gen, size, self.output_size)
        await self._protocol.drain()

    async def write_encoded(self, data: bytes, payload_size: int) -> None:
        """Send a body already compressed (``payload_size`` bytes before compression)."""
        for trace in self._traces:
            await trace.send_request_chunk_sent(self.method, self.url, data)
        self._send(data)
        if self.tracker is not None:
            self.tracker._add(self.gen, payload_size, self.output_size)
        await self._protocol.drain()

    async def drain(self) -> None:
        await self._protocol.drain()

    def _send(self, data: bytes) -> None:
        left = self._left
        if left is not None:
            if len(data) > left:
                data = data[:left]  # past the announced length: cut, as aiohttp does
            self._left = left - len(data)
        if not data:
            return
        if self.chunked:
            data = b"%x\r\n%b\r\n" % (len(data), data)
        self._protocol.write(data)
        self.output_size += len(data)

    def finish(self) -> None:
        """End the body (see the module rules)."""
        if self._codec is not None:
            self._send(self._codec.flush())
        if self.chunked:
            self._protocol.write(b"0\r\n\r\n")
            self.output_size += 5
        elif self._left:
            raise ClientPayloadError(
                f"the request body ended {self._left} bytes short of its Content-Length"
            )

    async def end(self) -> None:
        """After ``finish``: the sink's own end of the body (HTTP/2 sends the rest of its
        DATA, then END_STREAM); nothing for HTTP/1.1, where ``finish`` wrote it all."""
        if self._end is not None:
            await self._end()


class UploadTracker:
    """The upload progress of one request (aiohttp 3.14): pass a fresh one as
    ``upload_tracker=`` and read ``attempts``, ``bytes_written`` and ``upload_complete``
    while the request runs. Made inside a running event loop; observes one request."""

    def __init__(self) -> None:
        self.attempts = 0
        self.upload_complete: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._bound = False
        self._final = False  # the request has returned or raised: no attempt follows
        self._writer: BodyWriter | None = None  # the current attempt's, while it writes
        self._finished = False  # the current attempt sent its whole body
        self._error: BaseException | None = None  # ... or failed with this
        self._accepted = 0  # payload bytes handed to the writer in this attempt
        self._flushed = 0  # payload bytes known to have left the transport
        self._marks: deque[tuple[int, int]] = deque()  # (payload bytes, wire bytes)

    @property
    def bytes_written(self) -> int:
        """Payload bytes of the current attempt that reached the kernel (before
        compression and chunk framing; the kernel's own buffering is not visible)."""
        self._refresh()
        return self._flushed

    def _refresh(self) -> None:
        writer = self._writer
        if writer is None:
            return
        unsent = writer.unsent()
        if unsent is None:
            return  # torn down: what was still buffered never left
        wire = writer.output_size - unsent
        marks = self._marks
        while len(marks) > 1 and marks[1][1] <= wire:
            marks.popleft()
        payload, at = marks[0]
        if len(marks) > 1 and wire > at:
            # Inside a partly sent write: share its payload bytes out by wire bytes.
            next_payload, next_at = marks[1]
            payload += (next_payload - payload) * (wire - at) // (next_at - at)
        self._flushed = payload

    # -- events, from the request ---------------------------------------------------

    def _bind(self) -> None:
        if self._bound:
            raise RuntimeError("UploadTracker is already bound to a request")
        self._bound = True

    def _attempt_started(self) -> int:
        """A hop is about to be sent (before connecting); returns its number."""
        self.attempts += 1
        self._writer = None
        self._finished = False
        self._error = None
        self._accepted = self._flushed = 0
        self._marks.clear()
        return self.attempts

    def _attempt_writing(self, gen: int, writer: BodyWriter) -> None:
        if gen == self.attempts:
            self._writer = writer
            self._marks.append((0, writer.output_size))

    def _add(self, gen: int, size: int, wire: int) -> None:
        if gen == self.attempts and self._writer is not None:
            self._accepted += size
            if wire > self._marks[-1][1]:  # a compressor may hold a chunk back
                self._marks.append((self._accepted, wire))
                if len(self._marks) > _MAX_MARKS:
                    self._refresh()

    def _attempt_finished(self, gen: int, size: int | None = None) -> None:
        """The attempt sent its whole body (``size`` payload bytes when it went in the
        same write as the head, without a writer)."""
        if gen == self.attempts:
            if size is not None:
                self._accepted = size
            self._finished = True
            self._flushed = self._accepted  # the rest is in flight ahead of the response
            self._writer = None
            self._marks.clear()
            if self._final:
                self._settle()

    def _attempt_failed(self, gen: int, exc: BaseException | None) -> None:
        """The attempt did not send its whole body: ``exc`` failed it, or ``None`` when it
        was cut short (cancelled, answered early)."""
        if gen == self.attempts:
            self._error = exc
            self._refresh()
            self._writer = None
            self._marks.clear()
            if self._final:
                self._settle()

    def _finalize(self) -> None:
        """The request returned or raised: settle now unless a body is still going out."""
        self._final = True
        if self._writer is None:
            self._settle()

    def _settle(self) -> None:
        future = self.upload_complete
        if future.done():
            return
        if self._finished:
            future.set_result(None)
            return
        future.set_exception(
            self._error or UploadAbortedError("The request body was not fully sent")
        )
        future.exception()  # retrieved: a caller that only polls done() gets no warning
