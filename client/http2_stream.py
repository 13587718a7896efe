"""One HTTP/2 stream: a request's response head, body and trailers, and its lease.

Rules:
- The connection (``http2_connection.H2Protocol``) turns ``h2`` events into the calls
  below; a stream never touches the transport or the ``h2`` state itself, only its
  owner's ``acknowledge`` and ``reset``.
- Read-side flow control is the stream's window: received bytes are acknowledged (a
  WINDOW_UPDATE, batched by ``h2``) as they are handed to the ``StreamReader``, except
  while the reader is over its high-water mark; then they are held back and acknowledged
  once it drains. So a slow reader stops the server for this stream only, and what one
  stream buffers is bounded by its window plus the reader's high-water mark.
- Errors are reported once, as the engine's public errors: a malformed head is
  ``MalformedResponseError``, RST_STREAM before the head ``ServerDisconnectedError``
  (``StreamRefusedError`` for REFUSED_STREAM: the request was not processed) and during
  the body ``ClientPayloadError``. RST_STREAM(NO_ERROR) after a complete response only
  stops an upload the server no longer wants (RFC 9113 §8.1).
- The lease (``H2Lease``) is what the pool lends for one request, shaped like
  ``connection.Connection``: ``release``/``close`` end the *stream* (RST_STREAM CANCEL if
  it is still open), never the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from .decodepacer import DecodePacer
from .decoders import ExpansionMeter, make_decoder
from .exceptions import (
    ClientPayloadError,
    MalformedResponseError,
    ProtocolError,
    ServerDisconnectedError,
)
from .http2 import Field, parse_response_head, parse_trailers
from .streams import StreamReader

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy

    from .http1 import ResponseHead
    from .tls import TLSInfo

__all__ = ["ERROR_NAMES", "H2Lease", "H2Stream", "StreamOwner", "StreamRefusedError"]

# RFC 9113 §7, for messages.
ERROR_NAMES = (
    "NO_ERROR",
    "PROTOCOL_ERROR",
    "INTERNAL_ERROR",
    "FLOW_CONTROL_ERROR",
    "SETTINGS_TIMEOUT",
    "STREAM_CLOSED",
    "FRAME_SIZE_ERROR",
    "REFUSED_STREAM",
    "CANCEL",
    "COMPRESSION_ERROR",
    "CONNECT_ERROR",
    "ENHANCE_YOUR_CALM",
    "INADEQUATE_SECURITY",
    "HTTP_1_1_REQUIRED",
)
NO_ERROR = 0
PROTOCOL_ERROR = 1
REFUSED_STREAM = 7
CANCEL = 8


def error_name(code: int) -> str:
    return ERROR_NAMES[code] if 0 <= code < len(ERROR_NAMES) else f"error 0x{code:x}"


class StreamRefusedError(ServerDisconnectedError):
    """The server did not process the request (RST_STREAM REFUSED_STREAM, or a stream above
    a GOAWAY's last stream id, or never sent at all): safe to send again elsewhere
    (RFC 9113 §8.7). ``sent`` is False when not one byte of it left this client."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class StreamOwner(Protocol):
    """What a stream needs from its connection."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    @property
    def peername(self) -> Any: ...

    @property
    def tls(self) -> TLSInfo | None: ...

    def acknowledge(self, stream_id: int, size: int) -> None: ...

    def reset(self, stream: H2Stream, code: int) -> None: ...


class H2Stream:
    """The response side of one stream (the connection writes the request)."""

    __slots__ = (
        "_pacer",
        "_paused",
        "_settings",
        "_unacked",
        "content",
        "exception",
        "got_bytes",
        "head",
        "informational",
        "local_closed",
        "method",
        "owner",
        "remote_closed",
        "stream_id",
        "trailers",
    )

    def __init__(self, owner: StreamOwner, stream_id: int, method: str, settings: Any) -> None:
        self.owner = owner
        self.stream_id = stream_id
        self.method = method
        self._settings = settings
        self.head: asyncio.Future[tuple[ResponseHead, StreamReader]] = owner.loop.create_future()
        self.content: StreamReader | None = None
        self.trailers: CIMultiDictProxy[str] | None = None
        self.exception: BaseException | None = None
        self.informational: Callable[[ResponseHead], None] | None = None
        self.got_bytes = False
        self.remote_closed = False  # END_STREAM or RST_STREAM received
        self.local_closed = False  # END_STREAM or RST_STREAM sent
        self._pacer: DecodePacer | None = None
        self._paused = False
        self._unacked = 0

    def __repr__(self) -> str:
        return f"<H2Stream {self.stream_id} {self.method}>"

    # -- what the response layer reads --------------------------------------------

    @property
    def peername(self) -> Any:
        return self.owner.peername

    @property
    def tls(self) -> TLSInfo | None:
        return self.owner.tls

    @property
    def done(self) -> bool:
        """Both sides have ended: nothing more will happen on this stream."""
        return self.remote_closed and self.local_closed

    def abort(self, exc: BaseException | None = None) -> None:
        """Fail whatever waits on this stream and reset it (the connection stays)."""
        if exc is not None:
            self.fail(exc)
        self.owner.reset(self, CANCEL)

    # -- events from the connection -----------------------------------------------

    def on_informational(self, fields: list[Field]) -> None:
        self.got_bytes = True
        try:
            head = parse_response_head(fields, self.method, self._settings.max_headers)
        except ProtocolError:
            return  # an unreadable 1xx changes nothing: the final response still comes
        if self.informational is not None:
            self.informational(head)

    def on_response(self, fields: list[Field]) -> None:
        self.got_bytes = True
        settings = self._settings
        try:
            head = parse_response_head(fields, self.method, settings.max_headers)
        except ProtocolError as exc:
            self.fail(MalformedResponseError(None, status=400, message=str(exc)))
            self.owner.reset(self, PROTOCOL_ERROR)
            return
        meter = None
        if settings.auto_decompress and "Content-Encoding" in head.headers:
            # The expansion-ratio bounds, as on HTTP/1.1 (decoders.ExpansionMeter).
            meter = ExpansionMeter(settings.stream_ratio, settings.whole_read_ratio)
        content = self.content = StreamReader(
            self.owner.loop,
            limit=settings.read_bufsize,
            pause=self._pause,
            resume=self._drained,
            sock_read=settings.timeout.sock_read,
            on_read_all=meter.reading_whole if meter is not None else None,
        )
        if meter is not None:
            encoding = ", ".join(head.headers.getall("Content-Encoding"))
            try:
                decoder = make_decoder(
                    encoding, max_size=settings.max_decompressed_size, meter=meter
                )
            except Exception as exc:
                self.abort(exc)
                return
            if decoder is not None:
                self._pacer = DecodePacer(decoder, content)
        if not self.head.done():
            self.head.set_result((head, content))

    def on_data(self, data: bytes, flow_length: int) -> None:
        content = self.content
        if content is None or self.exception is not None:
            self.owner.acknowledge(self.stream_id, flow_length)  # the connection's window
            return
        pacer = self._pacer
        if pacer is None:
            content.feed_data(data)
        else:
            content.count_raw(len(data))
            try:
                pacer.feed(data)
            except Exception as exc:
                self.owner.acknowledge(self.stream_id, flow_length)
                self.abort(exc)
                return
        if self._paused:
            self._unacked += flow_length
        else:
            self.owner.acknowledge(self.stream_id, flow_length)

    def on_trailers(self, fields: list[Field]) -> None:
        try:
            self.trailers = parse_trailers(fields, self._settings.max_headers)
        except ProtocolError as exc:
            self.abort(ClientPayloadError(f"Malformed trailers: {exc}"))

    def on_end(self) -> None:
        """END_STREAM: the response is complete."""
        self.remote_closed = True
        if self.exception is not None:
            return
        content = self.content
        if content is None:  # pragma: no cover - h2 refuses END_STREAM before a head
            self.fail(ServerDisconnectedError("Stream ended before a response head"))
            return
        pacer = self._pacer
        if pacer is not None and pacer.backlog:
            return  # finished by _drained once the reader made room for the rest
        self._finish()

    def on_reset(self, code: int) -> None:
        """RST_STREAM from the server."""
        self.remote_closed = self.local_closed = True
        if self.exception is not None:
            return
        if self.content is not None and self.content.is_eof():
            return  # a complete response, then "stop sending" (NO_ERROR): not an error
        if self._pacer is not None and self._pacer.backlog and code == NO_ERROR:
            return  # complete too: the rest of its body is still being expanded
        name = error_name(code)
        if self.content is not None:
            self.fail(
                ClientPayloadError(
                    f"Response payload is not completed: the server reset the stream ({name})"
                )
            )
        elif code == REFUSED_STREAM:
            self.fail(StreamRefusedError("The server refused the stream (REFUSED_STREAM)"))
        else:
            self.fail(ServerDisconnectedError(f"The server reset the stream ({name})"))

    def fail(self, exc: BaseException) -> None:
        if self.exception is not None:
            return
        self.exception = exc
        if self._pacer is not None:
            self._pacer.clear()
        if not self.head.done():
            self.head.set_exception(exc)
            self.head.exception()  # retrieved: the request may have been dropped already
        elif self.content is not None and not self.content.is_eof():
            self.content.set_exception(exc)
        self._give_back_window()

    # -- read-side flow control ---------------------------------------------------

    def _pause(self) -> None:
        self._paused = True

    def _drained(self) -> None:
        pacer = self._pacer
        if pacer is not None and pacer.backlog:
            try:
                pacer.pump()
            except Exception as exc:
                self.abort(exc)
                return
            if pacer.backlog:
                return
            if self.remote_closed and self.exception is None:
                self._finish()
        self._paused = False
        self._give_back_window()

    def _give_back_window(self) -> None:
        unacked = self._unacked
        if unacked:
            self._unacked = 0
            self.owner.acknowledge(self.stream_id, unacked)

    def _finish(self) -> None:
        content = self.content
        assert content is not None
        pacer = self._pacer
        if pacer is not None:
            self._pacer = None
            try:
                pacer.finish()
            except Exception as exc:
                self.fail(exc)
                return
        self._give_back_window()
        content.feed_eof()


class H2Lease:
    """One request's share of an HTTP/2 connection, with ``connection.Connection``'s surface.

    It holds the connection until the stream is open, then the stream; ``on_done`` runs
    once, when the exchange is over (the pool's slot is freed there).
    """

    __slots__ = ("_done", "_key", "_on_done", "body_task", "connection", "reused", "stream")

    def __init__(
        self,
        key: Any,
        connection: StreamOwner,
        *,
        reused: bool,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self._key = key
        self.connection = connection
        self.stream: H2Stream | None = None
        self.body_task: asyncio.Task[None] | None = None
        self._on_done = on_done
        self._done = False
        self.reused = reused

    def __repr__(self) -> str:
        return f"H2Lease<{self._key}>"

    @property
    def key(self) -> Any:
        return self._key

    @property
    def protocol(self) -> H2Stream | None:
        """The stream (what ``ClientResponse`` aborts on its total timeout)."""
        return None if self._done else self.stream

    @property
    def closed(self) -> bool:
        return self._done or (self.stream is not None and self.stream.done)

    def released_by(self, _stream: Any) -> None:
        self.release()

    def release(self) -> None:
        """Done with the exchange: a stream still open is reset (CANCEL)."""
        if self._done:
            return
        self._done = True
        stream = self.stream
        if stream is not None and not stream.done:
            stream.owner.reset(stream, CANCEL)
        task = self.body_task
        if task is not None and not task.done():
            task.cancel()
        if self._on_done is not None:
            self._on_done()

    def close(self) -> None:
        """Same as ``release``: closing a stream never closes its connection."""
        self.release()
