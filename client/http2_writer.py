"""The sending half of an HTTP/2 connection: ``h2`` set up, frames out, back-pressure.

Rules:
- Everything ``h2`` has queued is written by ``_flush``: at once where the caller needs it
  (after reading, after a window of body), else once at the end of the loop iteration
  (``_schedule_flush``), so requests started together share one ``transport.write``.
- A request body goes out as fast as the server's windows (the stream's and the
  connection's), its ``MAX_FRAME_SIZE`` and our transport's buffer allow: it waits for a
  WINDOW_UPDATE when a window is spent and for ``resume_writing`` when the buffer is over
  its high-water mark, so neither side ever holds more than it agreed to.
- ``h2`` is told not to check or rewrite fields (``http2`` does, as stream errors), and
  its connection state machine is one that still accepts frames after a GOAWAY: the
  streams the server promised to finish need DATA, WINDOW_UPDATE and RST_STREAM both
  ways (RFC 9113 §6.8; ``h2`` issue #1181).
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterable
from typing import Any

import h2.config
import h2.connection

from .exceptions import ClientConnectionResetError
from .http2_frames import install as install_frame_reader
from .http2_hpack import install as install_hpack
from .http2_stream import H2Stream

__all__ = ["H2Upload", "H2Writer"]

_CS = h2.connection.ConnectionState
_CI = h2.connection.ConnectionInputs


# h2's connection state machine, with frames still accepted after a GOAWAY.
_GRACEFUL_TRANSITIONS: dict[tuple[Any, Any], tuple[Any, Any]] = {
    **h2.connection.H2ConnectionStateMachine._transitions,
    **{
        (_CS.CLOSED, what): (None, _CS.CLOSED)
        for what in _CI
        if what not in (_CI.SEND_HEADERS, _CI.SEND_PUSH_PROMISE, _CI.RECV_PUSH_PROMISE)
    },
}


class _GracefulStateMachine(h2.connection.H2ConnectionStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._transitions = _GRACEFUL_TRANSITIONS


_CONFIG = h2.config.H2Configuration(
    client_side=True,
    header_encoding=None,
    validate_outbound_headers=False,  # http2.request_fields applies RFC 9113 §8.2
    normalize_outbound_headers=False,
    validate_inbound_headers=False,  # http2.parse_response_head does, as a stream error
    normalize_inbound_headers=False,
)


class H2Writer(asyncio.Protocol):
    """The connection's ``h2`` state and everything that writes to the transport."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._h2 = h2.connection.H2Connection(config=_CONFIG)
        self._h2.state_machine = _GracefulStateMachine()
        install_frame_reader(self._h2)
        install_hpack(self._h2)
        self._window_waiters: dict[int, asyncio.Future[None]] = {}
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused_writing = False
        self._flush_handle: asyncio.Handle | None = None
        self._dead: BaseException | None = None  # why no stream can start or continue

    def reset(self, stream: H2Stream, code: int) -> None:
        raise NotImplementedError

    def _forget(self, stream: H2Stream) -> None:
        raise NotImplementedError

    def pause_writing(self) -> None:
        self._paused_writing = True

    def resume_writing(self) -> None:
        self._paused_writing = False
        waiter = self._drain_waiter
        if waiter is not None:
            self._drain_waiter = None
            if not waiter.done():
                waiter.set_result(None)

    def upload(self, stream: H2Stream) -> H2Upload:
        """The sink a request body is written into (``ClientRequest.start_body``)."""
        return H2Upload(self, stream)

    def send_body(
        self, stream: H2Stream, body: bytes | AsyncIterable[bytes]
    ) -> asyncio.Task[None]:
        """Write ``body`` on ``stream`` as a task, then END_STREAM (for callers without a
        ``ClientRequest``; requests go through ``ClientRequest.start_body``)."""
        return self._loop.create_task(self._write_body(self.upload(stream), body))

    async def _write_body(self, sink: H2Upload, body: bytes | AsyncIterable[bytes]) -> None:
        try:
            if isinstance(body, bytes):
                sink.write(body)
            else:
                async for chunk in body:
                    sink.write(chunk)
                    await sink.drain()
            await sink.end_body()
        except asyncio.CancelledError:
            sink.abort()
            raise
        except Exception as exc:
            sink.abort(exc)

    def _end_stream(self, stream: H2Stream) -> None:
        if not stream.local_closed and self._dead is None:
            stream.local_closed = True
            self._h2.end_stream(stream.stream_id)
            self._schedule_flush()
            if stream.done:
                self._forget(stream)

    async def _send_data(self, stream: H2Stream, data: bytes | bytearray | memoryview) -> None:
        h2c = self._h2
        stream_id = stream.stream_id
        view = memoryview(data)
        while view:
            if stream.local_closed or self._dead is not None:
                raise ClientConnectionResetError(
                    "The stream was closed while its request body was being sent"
                )
            window = h2c.local_flow_control_window(stream_id)
            if window <= 0:
                await self._wait_for_window(stream_id)
                continue
            frame_size = h2c.max_outbound_frame_size
            while window > 0 and view:
                size = min(window, frame_size, len(view))
                h2c.send_data(stream_id, view[:size])
                view = view[size:]
                window -= size
            self._flush()
            if self._paused_writing:
                await self._drain()

    async def _wait_for_window(self, stream_id: int) -> None:
        waiter = self._window_waiters.get(stream_id)
        if waiter is None or waiter.done():
            waiter = self._window_waiters[stream_id] = self._loop.create_future()
        await waiter

    def _wake_senders(self, stream_id: int = 0) -> None:
        waiters = self._window_waiters
        if stream_id:
            waiter = waiters.pop(stream_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
            return
        self._window_waiters = {}
        for waiter in waiters.values():
            if not waiter.done():
                waiter.set_result(None)

    async def _drain(self) -> None:
        if self.transport is None:
            raise ClientConnectionResetError("Connection lost")
        waiter = self._drain_waiter = self._loop.create_future()
        await waiter

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and self.transport is not None:
            self._flush_handle = self._loop.call_soon(self._flush)

    def _flush(self) -> None:
        handle = self._flush_handle
        if handle is not None:
            self._flush_handle = None
            handle.cancel()
        data = self._h2.data_to_send()
        transport = self.transport
        if data and transport is not None and not transport.is_closing():
            transport.write(data)


class H2Upload:
    """One stream's request body, seen as ``upload.BodyWriter`` sees a connection.

    ``write`` queues bytes; ``drain`` sends them as DATA frames as the windows allow
    (raising ``ClientConnectionResetError`` once the stream can take no more);
    ``end_body`` sends what is left, then END_STREAM. ``is_connected`` says whether the
    stream still wants a body: not once a final response has arrived (``100 Continue``
    was skipped) or the stream ended.
    """

    __slots__ = ("_loop", "_owner", "_pending", "_stream", "should_close", "writing_body")

    def __init__(self, owner: H2Writer, stream: H2Stream) -> None:
        self._owner = owner
        self._stream = stream
        self._loop = owner._loop
        self._pending: collections.deque[bytes] = collections.deque()
        self.should_close = False
        self.writing_body = False

    @property
    def transport(self) -> asyncio.Transport | None:
        return self._owner.transport

    @property
    def exception(self) -> BaseException | None:
        return self._stream.exception

    @property
    def is_connected(self) -> bool:
        stream = self._stream
        return (
            self._owner._dead is None
            and not stream.local_closed
            and not stream.remote_closed
            and not stream.head.done()
        )

    def write(self, data: bytes) -> None:
        if data:
            self._pending.append(data)

    async def drain(self) -> None:
        pending = self._pending
        while pending:
            await self._owner._send_data(self._stream, pending.popleft())

    async def end_body(self) -> None:
        await self.drain()
        self._owner._end_stream(self._stream)

    def abort(self, exc: BaseException | None = None) -> None:
        """The body cannot be sent: fail the exchange with ``exc`` and reset the stream."""
        self._pending.clear()
        self._stream.abort(exc)
