"""The client WebSocket: aiohttp's ``ClientWebSocketResponse`` on a handed-over transport.

Rules:
- ``wsproto.WebSocketProtocol`` owns the transport once the HTTP layer hands it over
  after the 101 (``Connection.take_over``) and queues the messages it reads.
- ``ClientWebSocketResponse`` keeps aiohttp's state machine: ``closing`` once either side
  started the closing handshake, ``closed`` once ours is sent (§7.1.2). Only one task may
  wait in ``receive()``; ``close()`` from another task wakes it with a CLOSING message.
- Every way out ends with the transport closed and ``connection_lost`` seen, so nothing
  is left for the garbage collector to warn about.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from multidict import CIMultiDict
from yarl import URL

from .exceptions import (
    ClientConnectionResetError,
    ServerTimeoutError,
    WebSocketError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from .typedefs import StrOrURL
from .websocket import (
    DEFAULT_MAX_MSG_SIZE,
    NO_STATUS_RECEIVED,
    FrameReader,
    FrameWriter,
    HandshakeError,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    check_handshake,
    make_handshake_headers,
)
from .wsproto import WebSocketProtocol

__all__ = (
    "DEFAULT_WS_CLIENT_TIMEOUT",
    "ClientWSTimeout",
    "ClientWebSocketResponse",
    "WebSocketProtocol",
    "ws_connect",
)

WS_CLOSED_MESSAGE = WSMessage(WSMsgType.CLOSED, None, None)
WS_CLOSING_MESSAGE = WSMessage(WSMsgType.CLOSING, None, None)


@dataclasses.dataclass(frozen=True, slots=True)
class ClientWSTimeout:
    """aiohttp's WebSocket timeouts: one ``receive()`` and the closing handshake."""

    ws_receive: float | None = None
    ws_close: float | None = None


DEFAULT_WS_CLIENT_TIMEOUT = ClientWSTimeout(ws_receive=None, ws_close=10.0)


class ClientWebSocketResponse:
    """A client WebSocket connection, with aiohttp's methods and semantics."""

    def __init__(
        self,
        protocol: WebSocketProtocol,
        writer: FrameWriter,
        *,
        ws_protocol: str | None = None,
        response: Any = None,
        timeout: ClientWSTimeout = DEFAULT_WS_CLIENT_TIMEOUT,
        autoclose: bool = True,
        autoping: bool = True,
        heartbeat: float | None = None,
        compress: int = 0,
        client_notakeover: bool = False,
    ) -> None:
        self._proto = protocol
        self._writer = writer
        self._protocol = ws_protocol
        self._response = response
        self._timeout = timeout
        self._autoclose = autoclose
        self._autoping = autoping
        self._heartbeat = heartbeat
        self._pong_heartbeat = heartbeat / 2.0 if heartbeat else 0.0
        self._compress = compress
        self._client_notakeover = client_notakeover
        self._loop = asyncio.get_running_loop()
        self._closed = False
        self._closing = False
        self._close_code: int | None = None
        self._exception: BaseException | None = None
        self._waiting = False
        self._close_wait: asyncio.Future[None] | None = None
        self._closers = 0  # close() calls beyond the first waiting on a receive() hand-off
        self._heartbeat_cb: asyncio.TimerHandle | None = None
        self._ping_sent_at = 0.0
        if heartbeat:
            self._schedule_heartbeat(self._loop.time())

    # -- state ---------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def close_code(self) -> int | None:
        return self._close_code

    @property
    def protocol(self) -> str | None:
        return self._protocol

    @property
    def compress(self) -> int:
        return self._compress

    @property
    def client_notakeover(self) -> bool:
        return self._client_notakeover

    def exception(self) -> BaseException | None:
        return self._exception

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        transport = self._proto.transport
        if transport is None:
            return default
        return transport.get_extra_info(name, default)

    # -- heartbeat: a ping after ``heartbeat`` s of silence, a pong due in half that ----

    def _schedule_heartbeat(self, since: float) -> None:
        assert self._heartbeat is not None
        self._heartbeat_cb = self._loop.call_at(since + self._heartbeat, self._send_heartbeat)

    def _send_heartbeat(self) -> None:
        self._heartbeat_cb = None
        if self._closed:
            return
        last = self._proto.last_received
        if self._loop.time() < last + (self._heartbeat or 0):
            self._schedule_heartbeat(last)  # data arrived meanwhile: that was the sign of life
            return
        try:
            self._proto.write(self._writer.ping())
        except ClientConnectionResetError:
            return
        self._ping_sent_at = self._loop.time()
        self._heartbeat_cb = self._loop.call_at(
            self._ping_sent_at + self._pong_heartbeat, self._pong_not_received
        )

    def _pong_not_received(self) -> None:
        self._heartbeat_cb = None
        if self._closed:
            return
        if self._proto.last_received >= self._ping_sent_at:
            self._schedule_heartbeat(self._proto.last_received)
            return
        exc = ServerTimeoutError(f"No PONG received after {self._pong_heartbeat} seconds")
        self._closed = True
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        self._exception = exc
        if self._proto.transport is not None:
            self._proto.transport.abort()
        if self._waiting and not self._closing:
            self._proto.push(WSMessage(WSMsgType.ERROR, exc, None))

    def _cancel_heartbeat(self) -> None:
        if self._heartbeat_cb is not None:
            self._heartbeat_cb.cancel()
            self._heartbeat_cb = None

    # -- sending -------------------------------------------------------------------

    async def send_frame(self, message: bytes, opcode: int, compress: int | None = None) -> None:
        if opcode >= WSMsgType.CLOSE:
            await self._proto.send(self._writer.control(opcode, message))
        else:
            await self._proto.send(self._writer.message(message, opcode, compress=compress))

    async def send_str(self, data: str, compress: int | None = None) -> None:
        if not isinstance(data, str):
            raise TypeError(f"data argument must be str ({type(data)!r})")
        proto = self._proto
        frame = self._writer.text(data, compress=compress)
        if proto.can_write_now():
            proto.write(frame)  # the common case: no back-pressure, nothing to await
        else:
            await proto.send(frame)

    async def send_bytes(self, data: bytes, compress: int | None = None) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data argument must be byte-ish ({type(data)!r})")
        await self._proto.send(self._writer.binary(bytes(data), compress=compress))

    async def send_json(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], str] = json.dumps,
    ) -> None:
        await self.send_str(dumps(data), compress=compress)

    async def send_json_bytes(
        self,
        data: Any,
        compress: int | None = None,
        *,
        dumps: Callable[[Any], bytes],
    ) -> None:
        """``data`` as a BINARY message, encoded by a bytes serializer (orjson.dumps, say)."""
        await self.send_bytes(dumps(data), compress=compress)

    async def ping(self, message: bytes | str = b"") -> None:
        await self._proto.send(self._writer.ping(_as_bytes(message)))

    async def pong(self, message: bytes | str = b"") -> None:
        await self._proto.send(self._writer.pong(_as_bytes(message)))

    # -- closing (§7.1.2) ------------------------------------------------------------

    async def close(self, *, code: int = WSCloseCode.OK, message: bytes | str = b"") -> bool:
        """Start (or finish) the closing handshake; True if this call closed the socket."""
        if self._waiting and not self._closing:
            # another task waits in receive(): let it return CLOSING before we read
            self._close_wait = self._loop.create_future()
            self._closing = True
            self._proto.push(WS_CLOSING_MESSAGE)
            await self._close_wait
        elif self._close_wait is not None and not self._close_wait.done():
            # A second close() while that hand-off is pending: the receiver gets CLOSED
            # (as in aiohttp), and the first close() does the handshake.
            self._closers += 1
            await asyncio.shield(self._close_wait)
        if self._closed:
            return False
        self._closed = True
        self._cancel_heartbeat()
        try:
            await self._proto.send(self._writer.close(code, message), close=True)
        except asyncio.CancelledError:
            await self._fail(None, abort=True)
            raise
        except Exception as exc:
            await self._fail(exc, abort=True)
            return True
        if self._close_code is not None:  # the peer's Close came first: we only echoed it
            await self._proto.shutdown()
            return True
        while True:
            try:
                async with asyncio.timeout(self._timeout.ws_close):
                    msg = await self._proto.read()
            except asyncio.CancelledError:
                await self._fail(None, abort=True)
                raise
            except Exception as exc:  # the peer did not answer in time
                await self._fail(exc, abort=True)
                return True
            if msg is None:
                await self._fail(self._proto.lost_exc, abort=False)
                return True
            if msg.type is WSMsgType.CLOSE:
                self._close_code = msg.data
                await self._proto.shutdown()
                return True
            if msg.type is WSMsgType.ERROR:
                await self._fail(msg.data, abort=True)
                return True
            # anything else the peer sent before its Close is dropped (§7.1.2)

    async def _fail(self, exc: BaseException | None, *, abort: bool) -> None:
        self._close_code = WSCloseCode.ABNORMAL_CLOSURE
        if exc is not None:
            self._exception = exc
        await self._proto.shutdown(abort=abort)

    # -- receiving -----------------------------------------------------------------

    async def receive(self, timeout: float | None = None) -> WSMessage:
        if not (self._waiting or self._closed or self._closing):
            # A message already queued: no waiting, so no timeout or close hand-off to set.
            msg = self._proto.data_nowait()
            if msg is not None:
                return msg
        receive_timeout = timeout or self._timeout.ws_receive
        while True:
            if self._waiting:
                raise RuntimeError("Concurrent call to receive() is not allowed")
            if self._closed:
                return WS_CLOSED_MESSAGE
            if self._closing:
                await self.close()
                return WS_CLOSED_MESSAGE
            self._waiting = True
            try:
                if receive_timeout:
                    async with asyncio.timeout(receive_timeout):
                        msg = await self._proto.read()
                else:
                    msg = await self._proto.read()  # no timer to arm: the common case
            except (asyncio.CancelledError, TimeoutError):
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                raise
            finally:
                self._waiting = False
                waiter, self._close_wait = self._close_wait, None
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
            if msg is None:  # the connection went away without a Close frame
                self._closed = True
                self._cancel_heartbeat()
                self._close_code = WSCloseCode.ABNORMAL_CLOSURE
                if self._proto.lost_exc is not None:
                    self._exception = self._proto.lost_exc
                return WS_CLOSED_MESSAGE
            if msg.type is WSMsgType.ERROR:
                if isinstance(msg.data, WebSocketError) and not self._closed:
                    # The peer broke the protocol: tell it why (§7.1.7) and close. The error
                    # is the message's data; exception() stays None, as in aiohttp.
                    self._close_code = msg.data.code
                    await self.close(code=msg.data.code)
                return msg
            if msg.type is WSMsgType.CLOSE:
                self._closing = True
                self._close_code = msg.data
                if not self._closed and self._autoclose:
                    echo = msg.data if msg.data != NO_STATUS_RECEIVED else WSCloseCode.OK
                    await self.close(code=echo)
            elif msg.type is WSMsgType.CLOSING:
                self._closing = True
                if self._closers:
                    return WS_CLOSED_MESSAGE
            return msg

    async def receive_str(self, *, timeout: float | None = None) -> str:
        """The next TEXT message's text (its bytes if opened with ``decode_text=False``)."""
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.TEXT:
            raise WSMessageTypeError(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.TEXT"
            )
        data: str = msg.data
        return data

    async def receive_bytes(self, *, timeout: float | None = None) -> bytes:
        msg = await self.receive(timeout)
        if msg.type is not WSMsgType.BINARY:
            raise WSMessageTypeError(
                f"Received message {msg.type}:{msg.data!r} is not WSMsgType.BINARY"
            )
        return bytes(msg.data)

    async def receive_json(
        self, *, loads: Callable[[Any], Any] = json.loads, timeout: float | None = None
    ) -> Any:
        return loads(await self.receive_str(timeout=timeout))

    def __aiter__(self) -> ClientWebSocketResponse:
        return self

    async def __anext__(self) -> WSMessage:
        msg = await self.receive()
        if msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
            raise StopAsyncIteration
        return msg

    async def __aenter__(self) -> ClientWebSocketResponse:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _as_bytes(message: bytes | str) -> bytes:
    return message.encode("utf-8") if isinstance(message, str) else bytes(message)


async def ws_connect(
    session: Any,
    url: StrOrURL,
    *,
    method: str = "GET",
    protocols: Sequence[str] = (),
    timeout: ClientWSTimeout | float | None = None,
    receive_timeout: float | None = None,
    autoclose: bool = True,
    autoping: bool = True,
    heartbeat: float | None = None,
    origin: str | None = None,
    headers: Any = None,
    compress: int = 0,
    max_msg_size: int = DEFAULT_MAX_MSG_SIZE,
    decode_text: bool = True,
    **request_kwargs: Any,
) -> ClientWebSocketResponse:
    """Open a WebSocket with ``session`` (aiohttp's ``ClientSession.ws_connect``).

    ``request_kwargs`` (auth, params, proxy, proxy_auth, ssl, server_hostname, ...) go to
    ``session.request`` unchanged. A float ``timeout`` is the closing-handshake timeout.
    ``decode_text=False`` delivers TEXT messages as their raw bytes (aiohttp 3.14).
    """
    if isinstance(timeout, ClientWSTimeout):
        ws_timeout = timeout
    elif timeout is None:
        ws_timeout = DEFAULT_WS_CLIENT_TIMEOUT
    else:
        warnings.warn(
            "parameter 'timeout' of type 'float' is deprecated, please use "
            "'timeout=ClientWSTimeout(ws_close=...)'",
            DeprecationWarning,
            stacklevel=3,
        )
        ws_timeout = ClientWSTimeout(ws_receive=None, ws_close=timeout)
    if receive_timeout is not None:
        warnings.warn(
            "float parameter 'receive_timeout' is deprecated, please use parameter "
            "'timeout=ClientWSTimeout(ws_receive=...)'",
            DeprecationWarning,
            stacklevel=3,
        )
        ws_timeout = dataclasses.replace(ws_timeout, ws_receive=receive_timeout)
    handshake, key = make_handshake_headers(protocols, compress, origin)
    real_headers: CIMultiDict[str] = CIMultiDict(headers or {})
    for name, value in handshake.items():
        if name == "Sec-WebSocket-Key" or name not in real_headers:
            real_headers[name] = value  # the caller may override all but the key
    resp = await session.request(
        method, URL(url), headers=real_headers, allow_redirects=False, **request_kwargs
    )
    try:
        result = check_handshake(resp.status, resp.headers, key, protocols, compress)
    except HandshakeError as exc:
        resp.close()
        raise WSServerHandshakeError(
            resp.request_info,
            resp.history,
            message=str(exc),
            status=resp.status,
            headers=resp.headers,
        ) from None
    loop = asyncio.get_running_loop()
    writer = FrameWriter(compress=result.compress, notakeover=result.client_no_context_takeover)
    reader = FrameReader(max_msg_size, compress=bool(result.compress), decode_text=decode_text)
    protocol = WebSocketProtocol(loop, reader, writer, autoping=autoping)
    resp.connection.take_over(protocol)
    ws_class = getattr(session, "_ws_response_class", None) or ClientWebSocketResponse
    return ws_class(
        protocol,
        writer,
        ws_protocol=result.protocol,
        response=resp,
        timeout=ws_timeout,
        autoclose=autoclose,
        autoping=autoping,
        heartbeat=heartbeat,
        compress=result.compress,
        client_notakeover=result.client_no_context_takeover,
    )
