"""One HTTP/1.1 connection: an ``asyncio.Protocol`` with its own parser and buffer.

Rules:
- A protocol carries at most one request at a time (no pipelining). ``begin`` arms it for
  a response; the parser's sink callbacks below deliver the head to ``wait_head`` and the
  body into the response's ``StreamReader``.
- At the end of a body the protocol hands itself back to its pool through ``on_idle``
  — the body is already buffered, so the connection is free for the next request even
  before the caller reads it.
- Parser errors (``ProtocolError``) and lost connections become the public errors here,
  once: a malformed head is ``MalformedResponseError``, a body cut short is
  ``ClientPayloadError``, a peer that closed before any byte is
  ``ServerDisconnectedError``.
- Write back-pressure: ``drain`` waits while the transport is over its high-water mark.
"""

from __future__ import annotations

import asyncio
import collections
import select
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .decoders import DEFAULT_MAX_DECOMPRESSED_SIZE, ExpansionMeter, make_decoder
from .exceptions import (
    ClientConnectionResetError,
    ClientError,
    ClientPayloadError,
    MalformedResponseError,
    ProtocolError,
    ServerDisconnectedError,
)
from .http1 import MAX_HEADER_COUNT, ResponseHead, ResponseParser
from .streams import StreamReader

if TYPE_CHECKING:
    from .decoders import ContentDecoder
    from .tls import TLSInfo

__all__ = ["Connection", "ResponseProtocol"]

# What ``begin`` uses: the parser's default limits, no sock_read, no decoding.
_PLAIN_SETTINGS = types.SimpleNamespace(
    max_line_size=8190,
    max_field_size=8190,
    max_headers=MAX_HEADER_COUNT,
    read_until_eof=True,
    read_bufsize=2**16,
    timeout=types.SimpleNamespace(sock_read=None),
    auto_decompress=False,
    max_decompressed_size=None,
    whole_read_ratio=None,
    stream_ratio=None,
)

# Compressed bytes expanded per step. The first slice is small (2 KiB: at most ~2 MiB of
# output at deflate's ~1032:1 maximum); slices grow while their output stays small and
# shrink when it passes 1 MiB, so ordinary bodies take one step per network read and a
# bomb never expands more than a couple of MiB at a time.
DECODE_STEP = 2 * 1024
DECODE_STEP_MIN = 512
DECODE_STEP_MAX = 256 * 1024
DECODE_OUTPUT_TARGET = 1 << 20

# asyncio's socket transport recv()s into a fresh bytes object of its ``max_size``
# (256 KiB) on every read. glibc serves that size with mmap, then mremap()s it down to the
# few hundred bytes a small response takes and munmap()s it when freed: three system calls
# and a page fault per response. Reads start at a size the heap serves and double while
# they come back full, so a bulk body still reads in 256 KiB steps.
RECV_SIZE = 64 * 1024
RECV_SIZE_MAX = 256 * 1024


class ResponseProtocol(asyncio.Protocol):
    """Reads responses off one transport; knows nothing about pools or sessions."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        max_line_size: int = 8190,
        max_head_size: int = 64 * 1024,
    ) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser(
            self, max_line_size=max_line_size, max_head_size=max_head_size
        )
        self._head_waiter: asyncio.Future[tuple[ResponseHead, StreamReader]] | None = None
        self._read_bufsize = 2**16
        self._sock_read: float | None = None
        self._decompress = True
        self._max_decompressed: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE
        self._ratios: tuple[float | None, float | None] = (None, None)  # any read, whole
        self._informational: Callable[[ResponseHead], None] | None = None
        self.stream: StreamReader | None = None
        self.decoder: ContentDecoder | None = None
        self.should_close = False
        self.closed: asyncio.Future[None] = loop.create_future()
        self.on_idle: Callable[[ResponseProtocol], None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused_writing = False
        self._reading_paused = False
        self._exception: BaseException | None = None
        self._got_bytes = False
        self.tunnel_data = b""
        self.peername: Any = None
        self.tls: TLSInfo | None = None  # set by the connector after a TLS handshake
        self.writing_body = False  # a request body is still being streamed out
        self.last_data = 0.0  # loop time of the last bytes received (for sock_read)
        self._encoded: collections.deque[bytes] = collections.deque()  # awaiting decoding
        self._complete_deferred = False
        self._decode_step = DECODE_STEP
        self.requests_served = 0
        self.last_used = loop.time()
        self._recv_size = 0  # the socket transport's read size while we tune it; 0: not
        self._socket_transport: Any = None  # the one tuned (TLS reads through its own)

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peername = transport.get_extra_info("peername")
        if getattr(transport, "max_size", 0) > RECV_SIZE:  # selector socket transports
            self._socket_transport = transport
            transport.max_size = self._recv_size = RECV_SIZE  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.last_data = self._loop.time()
        self._got_bytes = True
        if len(data) == self._recv_size:
            self._grow_reads()
        try:
            leftover = self.parser.feed(data)
        except ProtocolError as exc:
            self._fail_parse(exc)
            return
        except ClientError as exc:  # a decoder raised ClientPayloadError, for example
            self.abort(exc)
            return
        except Exception as exc:
            # A defect of ours on input nobody foresaw: the caller still gets a ClientError
            # (the original chained as its cause), never a stray exception.
            self._fail_parse(ProtocolError(f"unexpected {type(exc).__name__}: {exc}"), exc)
            return
        if leftover and self.parser.tunneled:
            self.tunnel_data += leftover
        elif leftover and not self.parser.in_message:
            # Bytes after a complete response to a non-pipelining client: the stream is
            # out of sync, so this connection must never carry another request.
            self.should_close = True

    def _grow_reads(self) -> None:
        """A read filled the buffer: a bulk body is flowing, so read more at a time."""
        if self._recv_size < RECV_SIZE_MAX:
            self._recv_size *= 2
            self._socket_transport.max_size = self._recv_size

    def eof_received(self) -> bool | None:
        return False  # let the transport close; connection_lost does the bookkeeping

    def connection_lost(self, exc: Exception | None) -> None:
        self.should_close = True
        if self.parser.in_message:
            try:
                self.parser.feed_eof()
            except ProtocolError as perr:
                if self._head_waiter is not None and not self._got_bytes:
                    self._fail(ServerDisconnectedError())
                elif self._head_waiter is not None:
                    # Cut off mid-head: a disconnect, as aiohttp reports it, not bad syntax.
                    self._fail(ServerDisconnectedError(f"Server disconnected: {perr}"))
                else:
                    self._fail(ClientPayloadError(str(perr)))
            except Exception as err:
                self._fail(err)
        elif self._head_waiter is not None:
            self._fail(ServerDisconnectedError())
        if self._drain_waiter is not None and not self._drain_waiter.done():
            self._drain_waiter.set_exception(ClientConnectionResetError("Connection lost"))
        self.transport = None
        self._socket_transport, self._recv_size = None, 0
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    # -- ResponseSink --------------------------------------------------------------

    def on_informational(self, head: ResponseHead) -> None:
        if self._informational is not None:
            self._informational(head)

    def on_head(self, head: ResponseHead) -> None:
        self.should_close = self.should_close or head.should_close
        # The stream exists before this callback returns: body bytes that arrived in the
        # same segment as the head are fed right after it.
        transfer = head.transfer_coding
        meter = None
        if (self._decompress and "Content-Encoding" in head.headers) or transfer:
            meter = ExpansionMeter(*self._ratios)
        stream = self.stream = StreamReader(
            self._loop,
            limit=self._read_bufsize,
            pause=self.pause_reading,
            resume=self._on_stream_drained,
            sock_read=self._sock_read,
            on_read_all=meter.reading_whole if meter is not None else None,
        )
        if meter is not None:
            # Several Content-Encoding lines are one list (RFC 9110 §5.3). Transfer codings
            # are undone even with auto_decompress off: they are not part of the content.
            encoding = ", ".join(head.headers.getall("Content-Encoding", ()))
            try:
                self.decoder = make_decoder(
                    encoding if self._decompress else "",
                    max_size=self._max_decompressed,
                    transfer_coding=transfer,
                    meter=meter,
                )
            except Exception as exc:
                self._fail(exc)
                return
        waiter = self._head_waiter
        self._head_waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_result((head, stream))

    def on_body(self, data: bytes) -> None:
        stream = self.stream
        if self.decoder is None:
            if stream is not None:
                stream.feed_data(data)
            return
        if stream is not None:
            stream.count_raw(len(data))
        self._encoded.append(data)
        if len(self._encoded) == 1:
            self._decode_pending()

    def on_chunk_end(self) -> None:
        # Chunk boundaries mean something only in the bytes as sent (not once decoded).
        if self.decoder is None and self.stream is not None:
            self.stream.end_http_chunk()

    def _decode_pending(self) -> None:
        """Expand buffered compressed bytes a slice at a time, while the reader keeps up.

        A few KiB of gzip can expand to hundreds of MiB: decoding a whole network read at
        once would hold all of it. Compressed bytes wait here (the transport paused) until
        the stream drains below its low-water mark.
        """
        stream = self.stream
        decoder = self.decoder
        encoded = self._encoded
        try:
            while encoded:
                if stream is not None and stream.is_full():
                    stream.hold_feeder()  # _on_stream_drained carries on from here
                    return
                data = encoded[0]
                step = self._decode_step
                if len(data) > step:
                    encoded[0] = data[step:]
                    data = data[:step]
                else:
                    encoded.popleft()
                assert decoder is not None
                out = decoder.decompress(data)
                # Steer the slice so each step expands to about DECODE_OUTPUT_TARGET: big
                # for ordinary bodies, tiny for a bomb (or a body of zeros).
                if len(out) > DECODE_OUTPUT_TARGET:
                    self._decode_step = max(DECODE_STEP_MIN, step // 8)
                elif len(out) < DECODE_OUTPUT_TARGET // 4 and len(data) == step:
                    self._decode_step = min(DECODE_STEP_MAX, step * 2)
                if stream is not None and out:
                    stream.feed_data(out)
        except Exception as exc:
            self.abort(exc)  # an undecodable body: the connection is beyond use
            return
        if self._complete_deferred:
            self._complete_deferred = False
            self.on_complete()

    def _on_stream_drained(self) -> None:
        """The reader caught up: expand more of the body, then let the socket flow."""
        if self._encoded:
            self._decode_pending()
        if not self._encoded:
            self.resume_reading()

    def on_complete(self) -> None:
        if self._encoded:
            self._complete_deferred = True  # finished once the compressed tail is expanded
            return
        stream = self.stream
        decoder = self.decoder
        if decoder is not None:
            self.decoder = None
            try:
                tail = decoder.flush()
            except Exception as exc:
                self._fail(exc)
                return
            if stream is not None and tail:
                stream.feed_data(tail)
        self.stream = None
        self.requests_served += 1
        if self._recv_size > RECV_SIZE:
            self._socket_transport.max_size = self._recv_size = RECV_SIZE
        self.last_used = self.last_data  # the time of the read that completed it
        if stream is not None:
            stream.feed_eof()
        if self._reading_paused:
            # The body is all buffered: an idle connection must read again (to see the
            # server close it, and to carry the next response).
            self.resume_reading()
        if self.on_idle is not None and not self.parser.in_message:
            self.on_idle(self)

    # -- used by the request/response layer ----------------------------------------

    @property
    def is_connected(self) -> bool:
        transport = self.transport
        return transport is not None and not transport.is_closing()

    def heard_from_peer(self) -> bool:
        """Whether an idle connection's socket has something to read that the loop has not
        seen yet: a FIN, an RST or stray bytes — each means "do not send on this".

        One ``poll`` with no wait. Used before a request that must not be retried goes out
        on a kept-alive connection, to narrow the race with a server closing it.
        """
        transport = self.transport
        sock = transport.get_extra_info("socket") if transport is not None else None
        if sock is None:
            return False
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN | select.POLLRDHUP)
        return bool(poller.poll(0))

    @property
    def got_bytes(self) -> bool:
        """Whether any byte of the current response has arrived."""
        return self._got_bytes

    @property
    def exception(self) -> BaseException | None:
        return self._exception

    def begin(self, method: str) -> asyncio.Future[tuple[ResponseHead, StreamReader]]:
        """``begin_with`` default limits and no decoding (the proxy's CONNECT answer)."""
        return self.begin_with(method, _PLAIN_SETTINGS, None)

    def begin_with(
        self,
        method: str,
        settings: Any,
        on_idle: Callable[[ResponseProtocol], None] | None,
        *,
        upgrade: bool = False,
    ) -> asyncio.Future[tuple[ResponseHead, StreamReader]]:
        """Arm the parser for the response to ``method`` with a hop's settings (the
        request's ``HopSettings``: limits, read buffer, sock_read, decoding); return the
        future of the head."""
        parser = self.parser
        parser.max_line_size = settings.max_line_size
        parser.max_field_size = settings.max_field_size or settings.max_line_size
        parser.max_header_count = settings.max_headers
        parser.start(method, read_until_eof=settings.read_until_eof, upgrade=upgrade)
        self._informational = None
        self._read_bufsize = settings.read_bufsize
        self._sock_read = settings.timeout.sock_read
        self._decompress = settings.auto_decompress
        self._max_decompressed = settings.max_decompressed_size
        self._ratios = (settings.stream_ratio, settings.whole_read_ratio)
        self.on_idle = on_idle
        self._got_bytes = False
        waiter = self._head_waiter = self._loop.create_future()
        return waiter

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        transport.write(data)

    async def drain(self) -> None:
        if not self._paused_writing:
            return
        if self.transport is None:
            raise ClientConnectionResetError("Connection lost")
        waiter = self._drain_waiter = self._loop.create_future()
        await waiter

    def pause_reading(self) -> None:
        if self.transport is not None and not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.transport is not None and self._reading_paused:
            self._reading_paused = False
            self.transport.resume_reading()

    def abort(self, exc: BaseException | None = None) -> None:
        """Fail whatever is waiting with ``exc`` and drop the transport at once."""
        if exc is not None:
            self._fail(exc)
        self.should_close = True
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.should_close = True
        if self.transport is not None:
            self.transport.close()

    def _fail_parse(self, exc: ProtocolError, cause: BaseException | None = None) -> None:
        error: ClientError
        if self._head_waiter is not None:
            # The head is unreadable: the request layer adds request_info to this.
            error = MalformedResponseError(None, status=400, message=str(exc))
        else:
            error = ClientPayloadError(f"Malformed response body: {exc}")
        error.__cause__ = cause
        self._fail(error)
        self.should_close = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: BaseException) -> None:
        self._exception = exc
        self.should_close = True
        self._encoded.clear()
        self._complete_deferred = False
        waiter = self._head_waiter
        if waiter is not None:
            self._head_waiter = None
            if not waiter.done():
                waiter.set_exception(exc)
        stream = self.stream
        if stream is not None:
            self.stream = None
            stream.set_exception(exc)


class Connection:
    """A protocol lent out by a connector for one request; ``release`` gives it back."""

    __slots__ = ("_connector", "_key", "_protocol", "reused")

    def __init__(
        self, connector: Any, key: Any, protocol: ResponseProtocol, *, reused: bool
    ) -> None:
        self._connector = connector
        self._key = key
        self._protocol: ResponseProtocol | None = protocol
        self.reused = reused

    def __repr__(self) -> str:
        return f"Connection<{self._key}>"

    @property
    def key(self) -> Any:
        return self._key

    @property
    def protocol(self) -> ResponseProtocol | None:
        return self._protocol

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._protocol.transport if self._protocol is not None else None

    @property
    def closed(self) -> bool:
        return self._protocol is None or not self._protocol.is_connected

    def released_by(self, _protocol: ResponseProtocol) -> None:
        """The protocol's ``on_idle`` hook: its body is complete, so give it back."""
        self.release()

    def release(self) -> None:
        """Give the connection back: to the idle pool if it can carry another request."""
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol)

    def close(self) -> None:
        """Close the connection and free its pool slot."""
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            protocol.close()
            self._connector._release(self._key, protocol, should_close=True)

    def take_over(self, new_protocol: asyncio.BaseProtocol, leftover: bytes = b"") -> None:
        """Move the live transport to ``new_protocol`` (after a 101 or a tunnel).

        The pool forgets the connection; the new protocol owns closing the transport.
        """
        protocol = self._protocol
        if protocol is None or protocol.transport is None:
            raise ClientConnectionResetError("Connection already closed")
        transport = protocol.transport
        leftover = protocol.tunnel_data + leftover
        protocol.tunnel_data = b""
        self._protocol = None
        self._connector._forget(self._key, protocol)
        transport.set_protocol(new_protocol)
        new_protocol.connection_made(transport)
        if leftover and isinstance(new_protocol, asyncio.Protocol):
            new_protocol.data_received(leftover)
        # Keep the connector's shutdown able to wait for this transport too.
        protocol.transport = None
        protocol._socket_transport, protocol._recv_size = None, 0  # no longer ours to tune
