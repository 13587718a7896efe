"""ClientWebSocketResponse and ws_connect against real servers on loopback.

``websockets``' asyncio server plays the well-behaved peer; a raw asyncio server in this file
plays the hostile one (masked frames, bad UTF-8, wrong accept key, silence).
The HTTP side is ``HandoverSession``: the smallest session that honours the engine's
hand-over contract (``request`` → a 101 response whose ``connection.take_over(protocol)``
moves the live transport), so these tests need nothing but ``client.ws``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import pytest_asyncio
import websockets
from multidict import CIMultiDict, CIMultiDictProxy
from websockets.asyncio.server import ServerConnection, serve
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from yarl import URL

from client.config import RequestInfo
from client.exceptions import (
    ClientConnectionResetError,
    ServerTimeoutError,
    WebSocketError,
    WSMessageTypeError,
    WSServerHandshakeError,
)
from client.websocket import (
    FrameReader,
    FrameWriter,
    WSCloseCode,
    WSMsgType,
    accept_key,
    check_handshake,
    make_handshake_headers,
)
from client.ws import (
    ClientWebSocketResponse,
    ClientWSTimeout,
    WebSocketProtocol,
    ws_connect,
)

pytestmark = pytest.mark.timeout(30)

MiB = 1024 * 1024

# --- the hand-over contract, as small as it gets ------------------------------------------


class _HeadReader(asyncio.Protocol):
    def __init__(self) -> None:
        self.buf = bytearray()
        self.head: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" in self.buf and not self.head.done():
            head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
            self.buf = bytearray(rest)
            self.head.set_result(head)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.head.done():
            self.head.set_exception(ConnectionResetError("closed before the head"))


class _Connection:
    def __init__(self, transport: asyncio.Transport, reader: _HeadReader) -> None:
        self.transport = transport
        self._reader = reader

    def take_over(self, protocol: asyncio.Protocol, leftover: bytes = b"") -> None:
        leftover = bytes(self._reader.buf) or leftover
        self.transport.set_protocol(protocol)
        protocol.connection_made(self.transport)
        if leftover:
            protocol.data_received(leftover)


class _Response:
    def __init__(self, head: bytes, info: RequestInfo, connection: _Connection) -> None:
        status_line, *lines = head.decode("latin-1").split("\r\n")
        self.status = int(status_line.split(" ")[1])
        headers: CIMultiDict[str] = CIMultiDict()
        for line in lines:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
        self.headers = CIMultiDictProxy(headers)
        self.request_info = info
        self.history: tuple[Any, ...] = ()
        self.connection = connection

    def close(self) -> None:
        self.connection.transport.close()


class HandoverSession:
    """Sends one GET head per request and returns once the response head is in."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, URL, dict[str, str], dict[str, Any]]] = []

    async def request(
        self, method: str, url: URL, *, headers: dict[str, str], **kwargs: Any
    ) -> _Response:
        self.sent.append((method, url, headers, kwargs))
        loop = asyncio.get_running_loop()
        assert url.host is not None and url.port is not None
        transport, reader = await loop.create_connection(_HeadReader, url.host, url.port)
        lines = [f"{method} {url.raw_path_qs} HTTP/1.1", f"Host: {url.host}:{url.port}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        try:
            head = await reader.head
        except BaseException:
            transport.close()
            raise
        info = RequestInfo(url, method, CIMultiDictProxy(CIMultiDict(headers)))
        return _Response(head, info, _Connection(transport, reader))


@pytest_asyncio.fixture(params=["handover", "ClientSession"])
async def session(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Each test runs on the contract's minimal session and on the engine's own."""
    if request.param == "handover":
        yield HandoverSession()
        return
    from client import ClientSession

    async with ClientSession() as real:
        yield real


# --- servers -------------------------------------------------------------------------------

Handler = Callable[[ServerConnection], Awaitable[None]]


@pytest_asyncio.fixture
async def ws_server() -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """``await ws_server(handler, **serve_kwargs)`` → a ws:// URL on 127.0.0.1."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(handler: Handler, **kwargs: Any) -> str:
            kwargs.setdefault("ping_interval", None)
            kwargs.setdefault("close_timeout", 1)
            server = await stack.enter_async_context(serve(handler, "127.0.0.1", 0, **kwargs))
            port = server.sockets[0].getsockname()[1]
            return f"ws://127.0.0.1:{port}/path?q=1"

        yield start


async def echo(ws: ServerConnection) -> None:
    async for message in ws:
        await ws.send(message)


class Peer:
    """One raw connection: answer the handshake as told, then read and write frames."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes):
        self.reader, self.writer, self.head = reader, writer, head
        key = next(
            line.split(b":", 1)[1].strip()
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        self.key = key.decode()

    def accept(self, *, accept: str | None = None, extra: str = "", then: bytes = b"") -> None:
        value = accept_key(self.key) if accept is None else accept
        self.writer.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + f"Sec-WebSocket-Accept: {value}\r\n{extra}\r\n".encode()
            + then
        )

    async def frame(self) -> tuple[int, bytes]:
        """The next client frame (opcode, unmasked payload); it must be masked."""
        b0, b1 = await self.reader.readexactly(2)
        assert b1 & 0x80
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await self.reader.readexactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await self.reader.readexactly(8))
        key = await self.reader.readexactly(4)
        data = await self.reader.readexactly(n)
        return b0 & 0x0F, _unmask(data, key)

    async def until_close(self) -> int:
        while True:
            opcode, payload = await self.frame()
            if opcode == 8:
                return int(struct.unpack("!H", payload[:2])[0])


def _unmask(data: bytes, key: bytes) -> bytes:
    """XOR with the repeated 4-byte key, as one big integer (fast for MiB payloads)."""
    n = len(data)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, masked: bool = False) -> bytes:
    first = (0x80 if fin else 0) | opcode
    assert len(payload) < 126
    if masked:
        key = b"\x01\x02\x03\x04"
        body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        return bytes([first, 0x80 | len(payload)]) + key + body
    return bytes([first, len(payload)]) + payload


Script = Callable[[Peer], Awaitable[None]]


@pytest_asyncio.fixture
async def raw_ws() -> AsyncIterator[Callable[[Script], Awaitable[str]]]:
    """``await raw_ws(script)`` → a ws:// URL; results of the script land in ``peer``."""
    servers: list[asyncio.Server] = []
    writers: list[asyncio.StreamWriter] = []
    tasks: list[asyncio.Task[None]] = []

    async def start(script: Script) -> str:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writers.append(writer)
            tasks.append(asyncio.current_task())  # type: ignore[arg-type]
            with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
                head = await reader.readuntil(b"\r\n\r\n")
                await script(Peer(reader, writer, head))
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        return f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/"

    yield start
    for writer in writers:
        writer.close()
    for server in servers:
        server.close()
        await server.wait_closed()
    await asyncio.gather(*tasks, return_exceptions=True)


# --- against websockets: the happy paths -------------------------------------------------


async def test_echo_text_binary_json(ws_server: Any, session: Any) -> None:
    url = await ws_server(echo)
    ws = await ws_connect(session, url)
    await ws.send_str("héllo")
    assert await ws.receive_str() == "héllo"
    await ws.send_bytes(b"\x00\x01")
    assert await ws.receive_bytes() == b"\x00\x01"
    await ws.send_json({"a": [1, None]})
    assert await ws.receive_json() == {"a": [1, None]}
    await ws.send_str("again")
    msg = await ws.receive()
    assert (msg.type, msg.data, msg.json(loads=lambda s: s.upper())) == (
        WSMsgType.TEXT,
        "again",
        "AGAIN",
    )
    assert ws.get_extra_info("peername")[:2] == (URL(url).host, URL(url).port)
    assert ws.protocol is None and ws.compress == 0 and not ws.closed
    assert await ws.close() is True
    assert ws.closed and ws.close_code == WSCloseCode.OK and ws.exception() is None
    assert await ws.close() is False
    assert (await ws.receive()).type is WSMsgType.CLOSED
    assert ws.get_extra_info("peername") is None
    if isinstance(session, HandoverSession):
        method, sent_url, _headers, kwargs = session.sent[0]
        # As in aiohttp the session gets the ws:// URL (its proxy lookup reads WS_PROXY).
        assert (method, sent_url.scheme, kwargs) == ("GET", "ws", {"allow_redirects": False})


async def test_handshake_request_headers(ws_server: Any, session: Any) -> None:
    seen: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        assert ws.request is not None
        seen.append(ws.request.headers)
        await ws.close()

    url = await ws_server(handler, subprotocols=["chat"])
    ws = await ws_connect(
        session,
        url,
        protocols=("chat", "other"),
        origin="http://origin.test",
        headers={"X-Extra": "1", "sec-websocket-version": "13", "Sec-WebSocket-Key": "ignored"},
    )
    assert ws.protocol == "chat"
    assert (await ws.receive()).type is WSMsgType.CLOSE
    headers = seen[0]
    assert headers["Origin"] == "http://origin.test" and headers["X-Extra"] == "1"
    assert headers["Sec-WebSocket-Protocol"] == "chat, other"
    assert headers["Sec-WebSocket-Key"] != "ignored"
    assert headers.get_all("Sec-WebSocket-Version") == ["13"]


async def test_async_iteration_stops_at_close(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        for i in range(3):
            await ws.send(f"m{i}")
        await ws.close(4001, "server done")

    ws = await ws_connect(session, await ws_server(handler))
    assert [msg.data async for msg in ws] == ["m0", "m1", "m2"]
    assert ws.closed and ws.close_code == 4001
    assert (await ws.receive()).type is WSMsgType.CLOSED


async def test_server_close_reaches_client(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.close(4002, "bye ü")

    ws = await ws_connect(session, await ws_server(handler))
    msg = await ws.receive()
    assert (msg.type, msg.data, msg.extra) == (WSMsgType.CLOSE, 4002, "bye ü")
    assert ws.closed and ws.close_code == 4002


async def test_autoclose_off(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.close(4003)

    ws = await ws_connect(session, await ws_server(handler), autoclose=False)
    assert (await ws.receive()).data == 4003
    assert not ws.closed and ws.close_code == 4003
    assert await ws.close() is True
    assert ws.closed and ws.close_code == 4003


async def test_client_close_code_reaches_server(ws_server: Any, session: Any) -> None:
    got: asyncio.Future[tuple[int | None, str | None]] = asyncio.Future()

    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()
        got.set_result((ws.close_code, ws.close_reason))

    ws = await ws_connect(session, await ws_server(handler))
    assert await ws.close(code=4000, message=b"client bye") is True
    assert await got == (4000, "client bye")
    assert ws.close_code == 4000  # the server echoed it


async def test_ten_mib_fragmented_from_server(ws_server: Any, session: Any) -> None:
    data = os.urandom(10 * MiB)

    async def handler(ws: ServerConnection) -> None:
        await ws.send(data[i : i + MiB] for i in range(0, len(data), MiB))  # 10 fragments
        await ws.send(b"".join([b"a"] * 10))  # and echo the client's big message
        await ws.send(await ws.recv())

    ws = await ws_connect(session, await ws_server(handler, max_size=None), max_msg_size=11 * MiB)
    assert await ws.receive_bytes() == data
    assert await ws.receive_bytes() == b"a" * 10
    await ws.send_bytes(data)
    assert await ws.receive_bytes() == data
    await ws.close()


async def test_ten_mib_fragmented_from_client(ws_server: Any, session: Any) -> None:
    """A response built by hand from the public pieces, with a fragmenting writer."""
    got: asyncio.Future[int] = asyncio.Future()

    async def handler(ws: ServerConnection) -> None:
        message = await ws.recv()
        got.set_result(len(message))
        await ws.send(message[:100])

    url = URL(await ws_server(handler, max_size=None, compression=None))
    headers, key = make_handshake_headers((), 0, None)
    resp = await session.request("GET", url.with_scheme("http"), headers=headers)
    result = check_handshake(resp.status, resp.headers, key, (), 0)
    writer = FrameWriter(fragment_size=256 * 1024)
    protocol = WebSocketProtocol(asyncio.get_running_loop(), FrameReader(), writer)
    resp.connection.take_over(protocol)
    ws = ClientWebSocketResponse(protocol, writer, ws_protocol=result.protocol)
    data = os.urandom(10 * MiB)
    await ws.send_bytes(data)
    assert await got == 10 * MiB
    assert await ws.receive_bytes() == data[:100]
    assert await ws.close() is True


async def test_ping_pong(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        pong = await ws.ping(b"srv")
        await asyncio.wait_for(pong, 5)  # answered by the client's autoping
        await ws.send("pong seen")
        await echo(ws)

    ws = await ws_connect(session, await ws_server(handler))
    assert await ws.receive_str() == "pong seen"  # no PING surfaced
    await ws.ping(b"cli")  # the server's PONG is swallowed by autoping
    await ws.send_str("after")
    assert await ws.receive_str() == "after"
    await ws.close()


async def test_ping_pong_without_autoping(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        pong = await ws.ping(b"srv")
        await asyncio.wait_for(pong, 5)
        await ws.send("pong seen")
        await echo(ws)

    ws = await ws_connect(session, await ws_server(handler), autoping=False)
    msg = await ws.receive()
    assert (msg.type, msg.data) == (WSMsgType.PING, b"srv")
    await ws.pong(msg.data)
    assert await ws.receive_str() == "pong seen"
    await ws.ping("cli")
    msg = await ws.receive()
    assert (msg.type, msg.data) == (WSMsgType.PONG, b"cli")
    await ws.close()


async def test_heartbeat_keeps_a_quiet_connection(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        await asyncio.sleep(0.5)  # silent, but websockets answers every ping
        await ws.send("still here")
        await echo(ws)

    ws = await ws_connect(session, await ws_server(handler), heartbeat=0.1)
    assert await ws.receive_str() == "still here"
    assert ws.exception() is None and not ws.closed
    await ws.close()


async def test_max_msg_size_closes_1009(ws_server: Any, session: Any) -> None:
    got: asyncio.Future[int | None] = asyncio.Future()

    async def handler(ws: ServerConnection) -> None:
        await ws.send(b"x" * 2000)
        await ws.wait_closed()
        got.set_result(ws.close_code)

    ws = await ws_connect(session, await ws_server(handler), max_msg_size=1024)
    msg = await ws.receive()
    assert msg.type is WSMsgType.ERROR and isinstance(msg.data, WebSocketError)
    assert msg.data.code == WSCloseCode.MESSAGE_TOO_BIG
    assert ws.closed and ws.close_code == 1009 and ws.exception() is None  # as in aiohttp
    assert await got == 1009


async def test_permessage_deflate(ws_server: Any, session: Any) -> None:
    url = await ws_server(echo, max_size=None)
    ws = await ws_connect(session, url, compress=15, max_msg_size=0)
    # websockets limits a client to a 4 KiB window (client_max_window_bits=12)
    assert ws.compress == 12 and not ws.client_notakeover
    for message in ("abc" * 1000, "abc" * 1000, "é" * 10):
        await ws.send_str(message)
        assert await ws.receive_str() == message
    big = b"0123456789" * MiB
    await ws.send_bytes(big, compress=9)
    assert await ws.receive_bytes() == big
    await ws.close()


async def test_permessage_deflate_negotiated_params(ws_server: Any, session: Any) -> None:
    factory = ServerPerMessageDeflateFactory(
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=10,
        client_max_window_bits=10,
    )
    url = await ws_server(echo, extensions=[factory], compression=None)
    ws = await ws_connect(session, url, compress=12)
    assert ws.compress == 10 and ws.client_notakeover
    for message in (b"xyz" * 5000, b"xyz" * 5000, b""):
        await ws.send_bytes(message)
        assert await ws.receive_bytes() == message
    await ws.close()


async def test_no_compression_when_server_declines(ws_server: Any, session: Any) -> None:
    ws = await ws_connect(session, await ws_server(echo, compression=None), compress=15)
    assert ws.compress == 0
    await ws.send_str("plain")
    assert await ws.receive_str() == "plain"
    await ws.close()


async def test_receive_timeout_and_types(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send(b"binary")
        await echo(ws)

    with pytest.warns(DeprecationWarning, match="receive_timeout"):  # as in aiohttp 3.14
        ws = await ws_connect(session, await ws_server(handler), receive_timeout=0.05)
    with pytest.raises(asyncio.TimeoutError):
        await ws.receive()
    await ws.send_str("go")
    with pytest.raises(WSMessageTypeError):
        await ws.receive_str(timeout=5)
    with pytest.raises(TypeError):
        await ws.send_str(b"not str")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        await ws.send_bytes("not bytes")  # type: ignore[arg-type]
    await ws.close()


async def test_close_from_another_task(ws_server: Any, session: Any) -> None:
    ws = await ws_connect(session, await ws_server(echo))
    reading = asyncio.ensure_future(ws.receive())
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError, match="Concurrent"):
        await ws.receive()
    assert await ws.close() is True
    assert (await reading).type is WSMsgType.CLOSING
    assert ws.closed and ws.close_code == 1000
    with pytest.raises(ClientConnectionResetError):
        await ws.send_str("too late")


async def test_async_with_closes(ws_server: Any, session: Any) -> None:
    async with await ws_connect(session, await ws_server(echo)) as ws:
        await ws.send_str("x")
        assert await ws.receive_str() == "x"
    assert ws.closed and ws.close_code == 1000


# --- against the raw server: what goes wrong ---------------------------------------------


async def _error_case(raw_ws: Any, session: Any, bad: bytes, code: int) -> None:
    sent_close: asyncio.Future[int] = asyncio.Future()

    async def script(peer: Peer) -> None:
        peer.accept()
        peer.writer.write(frame(1, b"fine") + bad)
        sent_close.set_result(await peer.until_close())

    ws = await ws_connect(session, await raw_ws(script))
    assert await ws.receive_str() == "fine"
    msg = await ws.receive()
    assert msg.type is WSMsgType.ERROR and isinstance(msg.data, WebSocketError)
    assert msg.data.code == code and ws.close_code == code and ws.closed
    assert ws.exception() is None  # the error is the message, as in aiohttp
    assert await sent_close == code  # and the server was told why
    assert (await ws.receive()).type is WSMsgType.CLOSED


async def test_masked_server_frame(raw_ws: Any, session: Any) -> None:
    await _error_case(raw_ws, session, frame(1, b"hi", masked=True), 1002)


async def test_bad_utf8(raw_ws: Any, session: Any) -> None:
    await _error_case(raw_ws, session, frame(1, b"\xc3\x28"), 1007)


async def test_reserved_opcode(raw_ws: Any, session: Any) -> None:
    await _error_case(raw_ws, session, frame(3, b"x"), 1002)


async def test_bad_close_code(raw_ws: Any, session: Any) -> None:
    await _error_case(raw_ws, session, frame(8, b"\x03\xee"), 1002)  # 1006 is never sent


async def test_frames_in_the_101_packet(raw_ws: Any, session: Any) -> None:
    async def script(peer: Peer) -> None:
        peer.accept(then=frame(1, b"early") + frame(2, b"bird"))
        assert await peer.until_close() == 1000
        peer.writer.write(frame(8, b"\x03\xe8"))

    ws = await ws_connect(session, await raw_ws(script))
    assert await ws.receive_str() == "early"
    assert await ws.receive_bytes() == b"bird"
    assert await ws.close() is True and ws.close_code == 1000


@pytest.mark.parametrize(
    ("accept", "extra", "message"),
    [
        ("d3JvbmcgYWNjZXB0IGtleQ==", "", "Invalid challenge response"),
        (None, "Sec-WebSocket-Protocol: nope\r\n", "Invalid protocol"),
        (None, "Sec-WebSocket-Extensions: permessage-deflate; foo=1\r\n", "Invalid compress"),
        (None, "Sec-WebSocket-Extensions: x-unknown\r\n", "Invalid extension"),
    ],
)
async def test_bad_handshake(
    raw_ws: Any, session: Any, accept: str | None, extra: str, message: str
) -> None:
    async def script(peer: Peer) -> None:
        peer.accept(accept=accept, extra=extra)
        await peer.reader.read()

    with pytest.raises(WSServerHandshakeError, match=message) as info:
        await ws_connect(session, await raw_ws(script), compress=15)
    assert info.value.status == 101 and info.value.headers is not None
    assert isinstance(info.value, WSServerHandshakeError)


async def test_not_101(raw_ws: Any, session: Any) -> None:
    async def script(peer: Peer) -> None:
        peer.writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        await peer.reader.read()

    with pytest.raises(WSServerHandshakeError, match="Invalid response status") as info:
        await ws_connect(session, await raw_ws(script))
    assert info.value.status == 403


async def test_heartbeat_pings_and_pong_resets(raw_ws: Any, session: Any) -> None:
    pings: list[bytes] = []

    async def script(peer: Peer) -> None:
        peer.accept()
        while True:
            opcode, payload = await peer.frame()
            if opcode == 9:
                pings.append(payload)
                peer.writer.write(frame(10, payload))
                if len(pings) == 3:
                    peer.writer.write(frame(1, b"three pings"))
            elif opcode == 8:
                peer.writer.write(frame(8, payload))
                return

    ws = await ws_connect(session, await raw_ws(script), heartbeat=0.1)
    assert await ws.receive_str(timeout=5) == "three pings"
    assert ws.exception() is None and not ws.closed
    assert await ws.close() is True and ws.close_code == 1000


async def test_heartbeat_missed_pong(raw_ws: Any, session: Any) -> None:
    pinged = asyncio.Event()

    async def script(peer: Peer) -> None:
        peer.accept()
        if (await peer.frame())[0] == 9:  # ignore it: no PONG
            pinged.set()
        await peer.reader.read()

    ws = await ws_connect(session, await raw_ws(script), heartbeat=0.1)
    msg = await ws.receive(timeout=5)
    assert pinged.is_set()
    assert msg.type is WSMsgType.ERROR and isinstance(msg.data, ServerTimeoutError)
    assert ws.closed and ws.close_code == WSCloseCode.ABNORMAL_CLOSURE
    assert isinstance(ws.exception(), ServerTimeoutError)
    assert await ws.close() is False


async def test_heartbeat_missed_pong_while_idle(raw_ws: Any, session: Any) -> None:
    async def script(peer: Peer) -> None:
        peer.accept()
        await peer.reader.read()

    ws = await ws_connect(session, await raw_ws(script), heartbeat=0.05)
    await asyncio.sleep(0.3)
    assert ws.closed and ws.close_code == 1006
    assert isinstance(ws.exception(), ServerTimeoutError)
    assert (await ws.receive()).type is WSMsgType.CLOSED


async def test_close_unanswered_times_out(raw_ws: Any, session: Any) -> None:
    async def script(peer: Peer) -> None:
        peer.accept()
        await peer.until_close()
        await peer.reader.read()  # never answers

    url = await raw_ws(script)
    ws = await ws_connect(session, url, timeout=ClientWSTimeout(ws_close=0.1))
    assert await ws.close() is True
    assert ws.close_code == 1006 and isinstance(ws.exception(), asyncio.TimeoutError)


async def test_server_drops_connection(raw_ws: Any, session: Any) -> None:
    async def script(peer: Peer) -> None:
        peer.accept(then=frame(1, b"last words"))

    ws = await ws_connect(session, await raw_ws(script))
    assert await ws.receive_str() == "last words"
    assert (await ws.receive()).type is WSMsgType.CLOSED
    assert ws.closed and ws.close_code == 1006
    with pytest.raises(ClientConnectionResetError):
        await ws.send_str("nobody there")


async def test_messages_after_close_frame_are_dropped(raw_ws: Any, session: Any) -> None:
    async def script(peer: Peer) -> None:
        peer.accept()
        await peer.until_close()
        peer.writer.write(frame(1, b"late") + frame(8, b"\x03\xe8"))

    ws = await ws_connect(session, await raw_ws(script))
    assert await ws.close(code=1001) is True and ws.close_code == 1000


async def test_answers_to_a_batch_arrive_in_order_before_close(raw_ws: Any, session: Any) -> None:
    """Frames written while a batch of messages is handled go out gathered: the pong first,
    then every answer in order, our Close last."""
    got: asyncio.Future[list[tuple[int, bytes]]] = asyncio.Future()

    async def script(peer: Peer) -> None:
        peer.accept()
        peer.writer.write(frame(9, b"p") + b"".join(frame(1, b"m%d" % i) for i in range(50)))
        frames: list[tuple[int, bytes]] = []
        while not frames or frames[-1][0] != 8:
            frames.append(await peer.frame())
        peer.writer.write(frame(8, frames[-1][1]))
        got.set_result(frames)

    ws = await ws_connect(session, await raw_ws(script))
    for i in range(50):
        assert await ws.receive_str() == f"m{i}"
        await ws.send_str(f"a{i}")
    assert await ws.close(code=4005) is True
    frames = await got
    assert frames[0] == (10, b"p")
    assert frames[1:51] == [(1, b"a%d" % i) for i in range(50)]
    assert len(frames) == 52 and frames[51][1][:2] == struct.pack("!H", 4005)


async def test_an_answer_never_waits_for_more_traffic(raw_ws: Any, session: Any) -> None:
    """An answer to one message of a batch reaches a peer that says nothing until it has
    it: gathering lasts one loop turn, not until something else is written."""

    async def script(peer: Peer) -> None:
        peer.accept()
        peer.writer.write(frame(1, b"q1") + frame(1, b"q2"))
        assert await peer.frame() == (1, b"a1")
        peer.writer.write(frame(1, b"r"))
        await peer.until_close()

    ws = await ws_connect(session, await raw_ws(script))
    assert await ws.receive_str() == "q1"
    await ws.send_str("a1")
    assert await ws.receive_str() == "q2"
    assert await ws.receive_str(timeout=5) == "r"
    await ws.close()


async def test_gathered_answer_goes_out_before_an_echoed_close(raw_ws: Any, session: Any) -> None:
    """The peer's Close in the same read as a message: the answer to the message, then the
    echoed Close, both reach the peer before the socket closes."""
    got: asyncio.Future[list[tuple[int, bytes]]] = asyncio.Future()

    async def script(peer: Peer) -> None:
        peer.accept()
        peer.writer.write(frame(1, b"m0") + frame(8, struct.pack("!H", 4001)))
        got.set_result([await peer.frame(), await peer.frame()])

    ws = await ws_connect(session, await raw_ws(script))
    assert await ws.receive_str() == "m0"
    await ws.send_str("a0")
    assert (await ws.receive()).type is WSMsgType.CLOSE
    assert await got == [(1, b"a0"), (8, struct.pack("!H", 4001))]
    assert ws.closed and ws.close_code == 4001


async def test_big_answers_to_a_batch_all_arrive(raw_ws: Any, session: Any) -> None:
    """Answers far past what is gathered (8 x 1 MiB to one read's batch) arrive whole."""
    payloads = [bytes([i]) * MiB for i in range(8)]
    got: asyncio.Future[list[tuple[int, bytes]]] = asyncio.Future()

    async def script(peer: Peer) -> None:
        peer.accept()
        peer.writer.write(b"".join(frame(1, b"go%d" % i) for i in range(8)))
        got.set_result([await peer.frame() for _ in range(8)])
        await peer.until_close()

    ws = await ws_connect(session, await raw_ws(script))
    for i in range(8):
        assert await ws.receive_str() == f"go{i}"
        await ws.send_bytes(payloads[i])
    assert await got == [(2, payload) for payload in payloads]
    await ws.close()


def test_websockets_is_the_asyncio_flavour() -> None:
    assert int(websockets.__version__.split(".")[0]) >= 13


async def test_slow_reader_gets_everything(ws_server: Any, session: Any) -> None:
    """More than the read high-water mark queued: reading pauses, then resumes."""
    chunk = os.urandom(100 * 1024)

    async def handler(ws: ServerConnection) -> None:
        for i in range(40):
            await ws.send(bytes([i]) + chunk)
        await ws.send("done")
        await echo(ws)

    ws = await ws_connect(session, await ws_server(handler))
    await asyncio.sleep(0.3)  # let the queue fill past the mark
    for i in range(40):
        assert await ws.receive_bytes() == bytes([i]) + chunk
    assert await ws.receive_str() == "done"
    await ws.close()


async def test_wss(server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext) -> None:
    from client import ClientSession

    async with serve(echo, "127.0.0.1", 0, ssl=server_ssl_context, ping_interval=None) as srv:
        port = srv.sockets[0].getsockname()[1]
        async with (
            ClientSession() as real,
            real.ws_connect(f"wss://localhost:{port}/", ssl=client_ssl_context) as ws,
        ):
            assert ws.get_extra_info("sslcontext") is not None
            await ws.send_str("secret")
            assert await ws.receive_str() == "secret"
        assert ws.closed and ws.close_code == 1000


# --- aiohttp 3.14's surface ------------------------------------------------------------------


async def test_send_json_bytes_is_a_binary_message(ws_server: Any, session: Any) -> None:
    ws = await ws_connect(session, await ws_server(echo))
    await ws.send_json_bytes({"a": 1}, dumps=lambda value: b'{"a": %d}' % value["a"])
    msg = await ws.receive()
    assert msg.type is WSMsgType.BINARY and msg.data == b'{"a": 1}'
    await ws.close()


def test_message_types_have_aiohttps_lower_case_aliases() -> None:
    assert WSMsgType.ping is WSMsgType.PING and WSMsgType.text is WSMsgType.TEXT
    assert WSMsgType.closed is WSMsgType.CLOSED and WSMsgType.error is WSMsgType.ERROR


async def test_compress_reports_our_window_not_the_one_asked_of_the_server(
    ws_server: Any, session: Any
) -> None:
    ws = await ws_connect(session, await ws_server(echo), compress=9)
    # websockets limits our window to 12 bits; the 9 we asked for was the server's window.
    assert ws.compress == 12
    await ws.send_str("ask")
    assert await ws.receive_str() == "ask"
    await ws.close()


async def test_float_timeouts_are_deprecated(ws_server: Any, session: Any) -> None:
    url = await ws_server(echo)
    with pytest.warns(DeprecationWarning, match="ClientWSTimeout"):
        ws = await ws_connect(session, url, timeout=0.5)
    await ws.close()


async def test_two_closes_while_a_task_receives(ws_server: Any, session: Any) -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.recv()
        await ws.send("test")
        await echo(ws)

    ws = await ws_connect(session, await ws_server(handler))
    await ws.send_bytes(b"ask")
    first = asyncio.create_task(ws.close())
    second = asyncio.create_task(ws.close())
    assert (await ws.receive()).type is WSMsgType.CLOSED
    assert await first is True
    assert await second is False
    assert (await ws.receive()).type is WSMsgType.CLOSED
    assert ws.close_code == WSCloseCode.OK


async def test_a_bad_ssl_value_is_a_type_error(ws_server: Any) -> None:
    from client import ClientSession

    url = await ws_server(echo)
    async with ClientSession() as real:
        with pytest.raises(TypeError, match="ssl should be SSLContext"):
            await real.ws_connect(url, ssl=42)
        with pytest.raises(TypeError, match="ssl should be SSLContext"):
            await real.get(url.replace("ws://", "http://"), ssl="yes")
