"""The WebSocket's asyncio.Protocol: the transport after the 101, bytes to queued messages.

Rules:
- It owns the transport once the HTTP layer hands it over (``Connection.take_over``) and
  turns bytes into queued messages with ``FrameReader``; with ``autoping`` it answers
  pings itself, so a busy reader never starves the peer's heartbeat.
- Reading stops once ``_READ_HIGH_WATER`` payload bytes wait unread, and resumes at half.
- After our Close frame it writes nothing else (RFC 6455 §5.5.1).
- Frames written while the messages of one read are being handled are gathered and go
  out together when that turn of the event loop ends (an echoing or request/response
  peer answers a batch with one system call instead of one per frame); ``_CORK_LIMIT``
  bytes gathered go out at once, so back-pressure still applies. A read that brought a
  single message corks nothing: a lone answer is written at once.
"""

from __future__ import annotations

import asyncio
from collections import deque

from .exceptions import ClientConnectionResetError, WebSocketError
from .websocket import FrameReader, FrameWriter, WSMessage, WSMsgType

__all__ = ["WebSocketProtocol"]

# Stop reading the socket once this many payload bytes wait in the queue unread.
_READ_HIGH_WATER = 1 << 20
# How long to wait for connection_lost after closing our side of the transport.
_LOST_TIMEOUT = 1.0
# Gathered frame bytes past this are written at once (the transport's own buffer and its
# high-water mark take over from there).
_CORK_LIMIT = 64 * 1024


_DATA_TYPES = (WSMsgType.TEXT, WSMsgType.BINARY)


def _size(msg: WSMessage) -> int:
    return len(msg.data) if isinstance(msg.data, (bytes, str)) else 0


class WebSocketProtocol(asyncio.Protocol):
    """Frames from the transport into a message queue; writes with back-pressure."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        reader: FrameReader,
        writer: FrameWriter,
        *,
        autoping: bool = True,
    ) -> None:
        self._loop = loop
        self._reader = reader
        self._writer = writer
        self._autoping = autoping
        self.transport: asyncio.Transport | None = None
        self._queue: deque[tuple[WSMessage, int]] = deque()  # (message, its size)
        self._queued = 0
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused_writing = False
        self._paused_reading = False
        self.close_sent = False
        self.eof = False
        self.lost_exc: BaseException | None = None
        self.closed: asyncio.Future[None] = loop.create_future()
        self.last_received = loop.time()
        self._corked: list[bytes] | None = None  # frames gathered until this turn ends
        self._corked_size = 0

    # -- asyncio.Protocol ----------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.last_received = self._loop.time()
        messages: list[WSMessage] = []
        try:
            self._reader.feed(data, messages)
        except WebSocketError as exc:
            messages.append(WSMessage(WSMsgType.ERROR, exc, None))
        cork = len(messages) > 1 and self._corked is None
        if cork:
            self._corked = []
        for msg in messages:
            if self._autoping and msg.type is WSMsgType.PING:
                transport = self.transport
                if not self.close_sent and transport is not None and not transport.is_closing():
                    self.write(self._writer.pong(msg.data))
            elif not (self._autoping and msg.type is WSMsgType.PONG):
                self.push(msg)
        if cork:
            # Scheduled after the reader's wake-up: what it answers to these messages is
            # gathered, and goes out in one write right after it.
            self._loop.call_soon(self.uncork)

    def eof_received(self) -> bool | None:
        return False  # close the transport; connection_lost reports it

    def connection_lost(self, exc: Exception | None) -> None:
        self.eof = True
        self.lost_exc = exc
        self.transport = None
        self._wake()
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(ClientConnectionResetError("Connection lost"))
        if not self.closed.done():
            self.closed.set_result(None)

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        waiter, self._drain_waiter = self._drain_waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the response's side ---------------------------------------------------------

    def push(self, msg: WSMessage) -> None:
        """Queue a message for ``read`` (also used for CLOSING and heartbeat errors)."""
        size = _size(msg)
        self._queue.append((msg, size))
        self._queued += size
        if self._queued > _READ_HIGH_WATER and not self._paused_reading and self.transport:
            self._paused_reading = True
            self.transport.pause_reading()
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def read(self) -> WSMessage | None:
        """The next message; None once the connection is lost and the queue is empty."""
        while not self._queue:
            if self.eof:
                return None
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        msg, size = self._queue.popleft()
        self._popped(size)
        return msg

    def data_nowait(self) -> WSMessage | None:
        """A queued TEXT or BINARY message without waiting, or None (anything else waits
        for ``read``, whose caller handles closes and errors)."""
        queue = self._queue
        if queue and queue[0][0].type in _DATA_TYPES:
            msg, size = queue.popleft()
            self._popped(size)
            return msg
        return None

    def _popped(self, size: int) -> None:
        self._queued -= size
        if self._paused_reading and self._queued <= _READ_HIGH_WATER // 2 and self.transport:
            self._paused_reading = False
            self.transport.resume_reading()

    def write(self, data: bytes) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ClientConnectionResetError("Cannot write to closing transport")
        corked = self._corked
        if corked is None:
            transport.write(data)
            return
        corked.append(data)
        self._corked_size += len(data)
        if self._corked_size > _CORK_LIMIT:
            self._flush_cork(transport)

    def uncork(self) -> None:
        """Write the frames gathered since the read that corked, and stop gathering."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            self._flush_cork(transport)
        self._corked = None
        self._corked_size = 0

    def _flush_cork(self, transport: asyncio.Transport) -> None:
        corked = self._corked
        if corked:
            transport.write(corked[0] if len(corked) == 1 else b"".join(corked))
            corked.clear()
            self._corked_size = 0

    def can_write_now(self) -> bool:
        return not self.close_sent and not self._paused_writing

    async def send(self, data: bytes, *, close: bool = False) -> None:
        """Write frames and wait while the transport is over its high-water mark."""
        if self.close_sent:
            raise ClientConnectionResetError("Cannot write to closing transport")
        self.write(data)
        self.close_sent = close
        if self._paused_writing:
            if self._drain_waiter is None:
                self._drain_waiter = self._loop.create_future()
            # shielded: one cancelled sender must not cancel the others' wait
            await asyncio.shield(self._drain_waiter)

    async def shutdown(self, *, abort: bool = False) -> None:
        """Close (or abort) the transport and wait, briefly, until it is really gone."""
        transport = self.transport
        if transport is not None:
            if abort:
                transport.abort()
            else:
                self.uncork()  # what was gathered (our Close frame, say) goes first
                transport.close()
        try:
            async with asyncio.timeout(_LOST_TIMEOUT):
                await asyncio.shield(self.closed)
        except TimeoutError:
            if self.transport is not None:
                self.transport.abort()
