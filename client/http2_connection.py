"""One HTTP/2 connection: an ``asyncio.Protocol`` driving ``h2``'s sans-IO state machine.

Rules / theory of operation:
- Bytes in: ``data_received`` feeds ``h2``, hands each event to its ``H2Stream`` and
  writes what ``h2`` has to say (SETTINGS and PING acks, WINDOW_UPDATEs) at once. Bytes
  out, request bodies and back-pressure: ``http2_writer.H2Writer``, the base class.
- Streams: a request waits (FIFO) while the server's ``MAX_CONCURRENT_STREAMS`` streams
  are open; until the server's first SETTINGS frame has arrived only one stream is
  opened, so a server with a small limit never has to refuse the first burst.
- Windows: the streams' receive window is ``STREAM_WINDOW`` and the connection's
  ``CONNECTION_WINDOW`` (not the 64 KiB defaults, which would cap a transfer at 64 KiB per
  round trip); ``H2Stream`` acknowledges bytes as its reader takes them.
- GOAWAY (RFC 9113 §6.8): no new stream starts here; streams above the last stream id
  fail with ``StreamRefusedError`` (not processed, safe to send again elsewhere), the
  others may finish; the connection closes once none is left.
- A connection error (``h2.exceptions.ProtocolError``: a broken frame, a bad HPACK block)
  sends GOAWAY, fails every stream and closes; a lost transport fails every stream:
  before its head as ``ServerDisconnectedError``, mid-body as ``ClientPayloadError``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import h2.events
import h2.exceptions
import h2.settings

from .exceptions import (
    ClientConnectionResetError,
    ClientPayloadError,
    MalformedResponseError,
    ServerDisconnectedError,
)
from .http2_stream import H2Stream, StreamRefusedError, error_name
from .http2_writer import H2Writer

if TYPE_CHECKING:
    from .http2 import Field
    from .tls import TLSInfo

__all__ = ["CONNECTION_WINDOW", "STREAM_WINDOW", "H2Protocol"]

# Receive windows. A window is how much a server may send before hearing back from us, so
# it caps a transfer at window / round trip: 16 MiB per stream fills 1 Gbit/s at 100 ms
# (curl's nghttp2 default is 10 MiB). The connection window bounds what all streams
# together may have unread.
STREAM_WINDOW = 16 << 20
CONNECTION_WINDOW = 64 << 20
# RFC 9113 §6.9.2: every window starts here; SETTINGS never changes the connection's.
DEFAULT_WINDOW = 65_535
# The largest header list we accept (SETTINGS_MAX_HEADER_LIST_SIZE), as http1's head limit.
MAX_HEADER_LIST_SIZE = 64 * 1024
# Larger frames cost a server less per byte (16 KiB is the protocol's default).
MAX_FRAME_SIZE = 256 * 1024
# Stream ids are 31 bits; a connection that used them up takes no new stream.
_LAST_STREAM_ID = 2**31 - 1


class H2Protocol(H2Writer):
    """Carries many concurrent streams over one transport."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        stream_window: int = STREAM_WINDOW,
        connection_window: int = CONNECTION_WINDOW,
    ) -> None:
        super().__init__(loop)
        self._stream_window = stream_window
        self._connection_window = connection_window
        self._streams: dict[int, H2Stream] = {}
        self._openers: collections.deque[asyncio.Future[None]] = collections.deque()
        self._granted = 0  # openers woken whose stream is not open yet
        self._settings_seen = False
        self._acks: dict[int, int] | None = None  # while data_received runs
        self.goaway: tuple[int, int] | None = None  # (error code, last stream id)
        self.closed: asyncio.Future[None] = loop.create_future()
        self.peername: Any = None
        self.tls: TLSInfo | None = None
        self.last_used = loop.time()
        self.last_data = 0.0
        self.streams_opened = 0
        self.on_idle: Callable[[H2Protocol], None] | None = None

    def __repr__(self) -> str:
        return f"<H2Protocol {self.peername} streams={len(self._streams)}>"

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peername = transport.get_extra_info("peername")
        codes = h2.settings.SettingCodes
        h2c = self._h2
        h2c.local_settings = h2.settings.Settings(
            client=True,
            initial_values={
                codes.ENABLE_PUSH: 0,
                codes.INITIAL_WINDOW_SIZE: self._stream_window,
                codes.MAX_HEADER_LIST_SIZE: MAX_HEADER_LIST_SIZE,
                codes.MAX_FRAME_SIZE: MAX_FRAME_SIZE,
            },
        )
        # Values given as initial settings count at once; h2 read this one in __init__.
        h2c.max_inbound_frame_size = MAX_FRAME_SIZE
        h2c.initiate_connection()
        if self._connection_window > DEFAULT_WINDOW:
            h2c.increment_flow_control_window(self._connection_window - DEFAULT_WINDOW)
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.last_data = self._loop.time()
        if self._dead is not None:
            return
        try:
            events = self._h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self._flush()  # h2 has queued a GOAWAY saying why
            self._connection_error(f"HTTP/2 protocol error from the server: {exc}")
            return
        acks = self._acks = {}  # what readers took in this batch, acknowledged once each
        streams = self._streams
        event: Any
        for event in events:
            kind = type(event)
            if kind is h2.events.DataReceived:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.on_data(event.data, event.flow_controlled_length)
                else:
                    self.acknowledge(event.stream_id, event.flow_controlled_length)
            elif kind is h2.events.StreamEnded:
                stream = streams.get(event.stream_id)
                if stream is not None:
                    stream.on_end()
                    if stream.done:
                        self._forget(stream)
            else:
                handler = _HANDLERS.get(kind)
                if handler is not None:
                    handler(self, event)
        self._acks = None
        if acks and self._dead is None:
            acknowledge = self._h2.acknowledge_received_data
            for stream_id, size in acks.items():
                acknowledge(size, stream_id)
        self._flush()

    def eof_received(self) -> bool | None:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self._dead is None:
            self._dead = ServerDisconnectedError(self._goaway_text("Server disconnected"))
        self._fail_everything(self._dead, payload_message="connection lost")
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_exception(ClientConnectionResetError("Connection lost"))
        self.transport = None
        if not self.closed.done():
            self.closed.set_result(None)

    # -- state the pool reads ------------------------------------------------------

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def is_connected(self) -> bool:
        transport = self.transport
        return transport is not None and not transport.is_closing() and self._dead is None

    @property
    def accepting(self) -> bool:
        """Whether a new stream may start here (now or once a slot frees)."""
        return (
            self.goaway is None
            and self.is_connected
            and self._h2.highest_outbound_stream_id < _LAST_STREAM_ID - 2
        )

    @property
    def active_streams(self) -> int:
        return len(self._streams)

    @property
    def max_streams(self) -> int:
        """Streams that may be open at once: the server's limit (1 until it has spoken)."""
        if not self._settings_seen:
            return 1
        return int(self._h2.remote_settings.max_concurrent_streams)

    @property
    def has_room(self) -> bool:
        """A new stream would start at once (no wait for a slot)."""
        return len(self._streams) + self._granted < self.max_streams and not self._openers

    # -- streams -------------------------------------------------------------------

    async def open_stream(
        self, method: str, fields: tuple[Field, ...], settings: Any, *, end_stream: bool
    ) -> H2Stream:
        """Send a request's HEADERS (waiting for a free stream slot first, FIFO)."""
        if not self.accepting:
            raise StreamRefusedError(self._goaway_text("Connection not usable"), sent=False)
        if self._openers or len(self._streams) + self._granted >= self.max_streams:
            await self._wait_for_room()
            self._granted -= 1
            if not self.accepting:
                raise StreamRefusedError(self._goaway_text("Connection not usable"), sent=False)
        h2c = self._h2
        stream_id = h2c.get_next_available_stream_id()
        stream = H2Stream(self, stream_id, method, settings)
        h2c.send_headers(stream_id, fields, end_stream=end_stream)
        stream.local_closed = end_stream
        self._streams[stream_id] = stream
        self.streams_opened += 1
        self._schedule_flush()
        return stream

    async def _wait_for_room(self) -> None:
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._openers.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self._granted -= 1
                self._wake_openers()  # our turn came as we were cancelled: pass it on
            else:
                with contextlib.suppress(ValueError):
                    self._openers.remove(waiter)
            raise

    def _wake_openers(self) -> None:
        openers = self._openers
        room = self.max_streams - len(self._streams) - self._granted
        while openers and room > 0:
            waiter = openers.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._granted += 1  # its stream opens when the waiter runs
                room -= 1

    # -- what streams call ---------------------------------------------------------

    def acknowledge(self, stream_id: int, size: int) -> None:
        """Bytes handed to a reader: let the server send as much again (h2 sends a
        WINDOW_UPDATE once enough is owed; within one read, once per stream)."""
        if self._dead is not None or not size:
            return
        acks = self._acks
        if acks is not None:
            acks[stream_id] = acks.get(stream_id, 0) + size
            return
        self._h2.acknowledge_received_data(size, stream_id)
        self._schedule_flush()

    def reset(self, stream: H2Stream, code: int) -> None:
        """End a stream from our side (RST_STREAM) unless it has ended already."""
        if not stream.done:
            stream.local_closed = stream.remote_closed = True
            if self._dead is None:
                with contextlib.suppress(h2.exceptions.ProtocolError):  # h2 closed it first
                    self._h2.reset_stream(stream.stream_id, code)
                self._schedule_flush()
        self._forget(stream)

    def _forget(self, stream: H2Stream) -> None:
        if self._streams.pop(stream.stream_id, None) is None:
            return
        self._wake_senders(stream.stream_id)
        self.last_used = self._loop.time()
        if self._openers:
            self._wake_openers()
        if not self._streams:
            if self.goaway is not None:
                self.close()
            elif self.on_idle is not None:
                self.on_idle(self)

    # -- h2 events (other than data and stream ends, handled inline) ----------------

    def _on_response(self, event: h2.events.ResponseReceived) -> None:
        stream = self._streams.get(event.stream_id)
        if stream is not None:
            stream.on_response(event.headers)

    def _on_informational(self, event: h2.events.InformationalResponseReceived) -> None:
        stream = self._streams.get(event.stream_id)
        if stream is not None:
            stream.on_informational(event.headers)

    def _on_trailers(self, event: h2.events.TrailersReceived) -> None:
        stream = self._streams.get(event.stream_id)
        if stream is not None:
            stream.on_trailers(event.headers)

    def _on_reset(self, event: h2.events.StreamReset) -> None:
        stream = self._streams.get(event.stream_id)
        if stream is not None:
            stream.on_reset(int(event.error_code))
            self._forget(stream)

    def _on_window(self, event: h2.events.WindowUpdated) -> None:
        if self._window_waiters:
            self._wake_senders(event.stream_id)

    def _on_settings(self, event: h2.events.RemoteSettingsChanged) -> None:
        self._settings_seen = True
        self._wake_senders()
        if self._openers:
            self._wake_openers()

    def _on_goaway(self, event: h2.events.ConnectionTerminated) -> None:
        code = int(event.error_code or 0)
        last = event.last_stream_id if event.last_stream_id is not None else _LAST_STREAM_ID
        self.goaway = (code, last)
        refused = StreamRefusedError(
            self._goaway_text("The server is closing the connection")
            + ": the request was not processed"
        )
        for stream_id, stream in list(self._streams.items()):
            if stream_id > last:
                stream.fail(refused)
                stream.local_closed = stream.remote_closed = True
                self._forget(stream)
        self._fail_openers()
        if not self._streams:
            self.close()

    def _goaway_text(self, prefix: str) -> str:
        if self.goaway is None:
            return prefix
        return f"{prefix} (GOAWAY {error_name(self.goaway[0])})"

    # -- shutting down -------------------------------------------------------------

    def close(self) -> None:
        """Say GOAWAY (politely, if we still can) and close the transport."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._dead is None:
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self._h2.close_connection()
            self._flush()
            self._dead = ServerDisconnectedError("Connection closed")
        transport.close()

    def abort(self, exc: BaseException | None = None) -> None:
        if exc is not None:
            self._dead = self._dead or exc
            self._fail_everything(exc, payload_message=str(exc))
        if self.transport is not None:
            self.transport.abort()

    def _connection_error(self, message: str) -> None:
        self._dead = ServerDisconnectedError(message)
        self._fail_everything(
            MalformedResponseError(None, status=400, message=message), payload_message=message
        )
        if self.transport is not None:
            self.transport.close()

    def _fail_everything(self, exc: BaseException, *, payload_message: str) -> None:
        streams, self._streams = self._streams, {}
        for stream in streams.values():
            if stream.content is not None:
                stream.fail(
                    ClientPayloadError(f"Response payload is not completed: {payload_message}")
                )
            else:
                stream.fail(exc)
            stream.local_closed = stream.remote_closed = True
        self._fail_openers()
        self._wake_senders()

    def _fail_openers(self) -> None:
        openers, self._openers = self._openers, collections.deque()
        for waiter in openers:
            if not waiter.done():
                waiter.set_exception(
                    StreamRefusedError(self._goaway_text("Connection not usable"), sent=False)
                )

    # -- writing -------------------------------------------------------------------


_HANDLERS: dict[type, Callable[[H2Protocol, Any], None]] = {
    h2.events.ResponseReceived: H2Protocol._on_response,
    h2.events.InformationalResponseReceived: H2Protocol._on_informational,
    h2.events.TrailersReceived: H2Protocol._on_trailers,
    h2.events.StreamReset: H2Protocol._on_reset,
    h2.events.WindowUpdated: H2Protocol._on_window,
    h2.events.RemoteSettingsChanged: H2Protocol._on_settings,
    h2.events.ConnectionTerminated: H2Protocol._on_goaway,
}
