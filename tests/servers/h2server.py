"""A scripted HTTP/2 server on python-hyper's ``h2``, for what real servers do not do on cue.

Rules:
- It runs in-process on the test's event loop, on port 0 of a loopback address: HTTP/2
  over cleartext (prior knowledge) or TLS (ALPN ``h2``).
- It counts what the connection tests need to see: connections accepted, the most
  streams open at once on one connection, every request (method, path, fields as
  received, body length and SHA-256) and the DATA bytes sent on each stream.
- A handler ``async def handler(stream: ServerStream) -> None`` answers each request, in
  a task started when its HEADERS arrive (the body may still be coming). The default
  handler serves ``ROUTES``. A handler that raises anything but a connection error is a
  bug in the test: kept in ``server.errors`` and re-raised when the fixture closes it.
- Flow control is honoured both ways: DATA goes out within the client's windows, and
  request bytes are acknowledged only as a handler reads them (``initial_window`` sets
  how much a client may send ahead), so a test can see back-pressure.
- ``stream.send_headers`` sends fields exactly as given (no checks): malformed heads are
  the point of some tests. ``conn.goaway`` keeps serving the streams up to its last
  stream id and ignores newer ones, as RFC 9113 §6.8 describes a graceful shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import ssl as ssl_module
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

from tests.servers import check_host, format_url
from tests.servers.keepalive import pattern_bytes

Handler = Callable[["ServerStream"], Awaitable[None]]
Fields = list[tuple[bytes, bytes]]

# Keep serving after a GOAWAY (h2's own machine rejects every frame once one was sent).
_CS = h2.connection.ConnectionState
_TRANSITIONS: dict[tuple[Any, Any], tuple[Any, Any]] = {
    **h2.connection.H2ConnectionStateMachine._transitions,
    **{(_CS.CLOSED, what): (None, _CS.CLOSED) for what in h2.connection.ConnectionInputs},
}


class _Lenient(h2.connection.H2ConnectionStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self._transitions = _TRANSITIONS


class ServerStream:
    """One request as the server sees it, and the means to answer it."""

    def __init__(self, conn: ServerConnection, stream_id: int, fields: Fields) -> None:
        self.conn = conn
        self.stream_id = stream_id
        self.fields = fields
        pseudo = {k: v for k, v in fields if k.startswith(b":")}
        self.method = pseudo.get(b":method", b"").decode()
        self.path = pseudo.get(b":path", b"").decode()
        self.authority = pseudo.get(b":authority", b"").decode()
        self.scheme = pseudo.get(b":scheme", b"").decode()
        self.sent = 0  # DATA bytes sent
        self.reset_by_client: int | None = None
        self.body_length = 0
        self._chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._window = asyncio.Event()

    def header(self, name: str) -> str | None:
        for key, value in self.fields:
            if key == name.lower().encode():
                return value.decode()
        return None

    async def body_chunks(self) -> AsyncIterator[bytes]:
        """The request body as it arrives; each piece is acknowledged once taken."""
        while True:
            chunk = await self._chunks.get()
            if chunk is None:
                return
            self.body_length += len(chunk)
            self.conn.acknowledge(self.stream_id, len(chunk))
            yield chunk

    async def body(self) -> bytes:
        return b"".join([chunk async for chunk in self.body_chunks()])

    def send_headers(self, fields: Fields, *, end: bool = False) -> None:
        self.conn.h2.send_headers(self.stream_id, fields, end_stream=end)
        self.conn.flush()

    async def send_data(self, data: bytes, *, end: bool = False) -> None:
        """Send ``data`` within the client's windows (waiting for WINDOW_UPDATEs)."""
        h2c = self.conn.h2
        view = memoryview(data)
        while view:
            if self.reset_by_client is not None or self.conn.closed:
                return
            window = h2c.local_flow_control_window(self.stream_id)
            window = min(window, h2c.max_outbound_frame_size)
            if window <= 0:
                self._window.clear()
                await self._window.wait()
                continue
            piece = view[:window]
            view = view[window:]
            h2c.send_data(self.stream_id, piece.tobytes(), end_stream=end and not view)
            self.sent += len(piece)
            self.conn.flush()
            await self.conn.drain()
        if end and not data:
            h2c.send_data(self.stream_id, b"", end_stream=True)
            self.conn.flush()

    async def respond(
        self,
        status: int = 200,
        body: bytes = b"",
        headers: Fields | None = None,
        trailers: Fields | None = None,
    ) -> None:
        fields = [(b":status", str(status).encode()), *(headers or [])]
        if not any(k == b"content-length" for k, _ in fields) and trailers is None:
            fields.append((b"content-length", str(len(body)).encode()))
        self.send_headers(fields, end=not body and trailers is None)
        if body:
            await self.send_data(body, end=trailers is None)
        if trailers is not None:
            self.send_headers(trailers, end=True)

    def reset(self, code: int = 2) -> None:
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.conn.h2.reset_stream(self.stream_id, code)
        self.conn.flush()


class ServerConnection:
    def __init__(
        self, server: H2Server, index: int, writer: asyncio.StreamWriter, settings: dict[int, int]
    ) -> None:
        self.server = server
        self.index = index
        self.writer = writer
        config = h2.config.H2Configuration(
            client_side=False,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=False,
        )
        self.h2 = h2.connection.H2Connection(config=config)
        self.h2.state_machine = _Lenient()
        self.h2.local_settings = h2.settings.Settings(client=False, initial_values=settings)
        self.streams: dict[int, ServerStream] = {}
        self.last_stream_id: int | None = None  # after our GOAWAY
        self.closed = False
        self.tasks: set[asyncio.Task[None]] = set()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def drain(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()

    def acknowledge(self, stream_id: int, size: int) -> None:
        with contextlib.suppress(h2.exceptions.ProtocolError):
            self.h2.acknowledge_received_data(size, stream_id)
        self.flush()

    def goaway(self, last_stream_id: int | None = None, code: int = 0, data: bytes = b"") -> None:
        """GOAWAY: streams above ``last_stream_id`` (default: the newest) go unanswered."""
        last = last_stream_id if last_stream_id is not None else self.h2.highest_inbound_stream_id
        self.last_stream_id = last
        self.h2.close_connection(code, additional_data=data or None, last_stream_id=last)
        self.flush()

    def close(self) -> None:
        self.closed = True
        self.writer.close()

    def abort(self) -> None:
        self.closed = True
        self.writer.transport.abort()

    def handle(self, event: h2.events.Event) -> None:
        server = self.server
        if isinstance(event, h2.events.RequestReceived):
            if self.last_stream_id is not None and event.stream_id > self.last_stream_id:
                return
            stream = ServerStream(self, event.stream_id, list(event.headers or []))
            self.streams[event.stream_id] = stream
            server.streams.append(stream)
            server.max_open_streams = max(server.max_open_streams, self.h2.open_inbound_streams)
            task = asyncio.ensure_future(server.run_handler(stream))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            if event.stream_ended is not None:
                stream._chunks.put_nowait(None)
        elif isinstance(event, h2.events.DataReceived):
            target = self.streams.get(event.stream_id)
            if target is not None and event.data:
                target._chunks.put_nowait(event.data)
            unread = event.flow_controlled_length - (len(event.data) if target is not None else 0)
            if unread > 0:  # padding, or a stream nobody reads: acknowledged at once
                self.acknowledge(event.stream_id, unread)
            if target is not None and event.stream_ended is not None:
                target._chunks.put_nowait(None)
        elif isinstance(event, h2.events.StreamEnded):
            pass  # handled with the frame that carried it
        elif isinstance(event, h2.events.StreamReset):
            target = self.streams.get(event.stream_id)
            if target is not None:
                target.reset_by_client = int(event.error_code)
                target._window.set()
                target._chunks.put_nowait(None)
            server.resets.append((event.stream_id, int(event.error_code)))
        elif isinstance(event, h2.events.WindowUpdated | h2.events.RemoteSettingsChanged):
            for stream in self.streams.values():
                stream._window.set()


class H2Server:
    """Accepts HTTP/2 connections and answers each stream with ``handler``."""

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        host: str = "127.0.0.1",
        ssl: ssl_module.SSLContext | None = None,
        max_concurrent_streams: int | None = None,
        initial_window: int | None = None,
        max_frame_size: int | None = None,
    ) -> None:
        check_host(host)
        self.handler = handler or default_handler
        self.host = host
        self.ssl = ssl
        codes = h2.settings.SettingCodes
        self.settings: dict[int, int] = {}
        if max_concurrent_streams is not None:
            self.settings[codes.MAX_CONCURRENT_STREAMS] = max_concurrent_streams
        if initial_window is not None:
            self.settings[codes.INITIAL_WINDOW_SIZE] = initial_window
        if max_frame_size is not None:
            self.settings[codes.MAX_FRAME_SIZE] = max_frame_size
        self.port = 0
        self.connections: list[ServerConnection] = []
        self.streams: list[ServerStream] = []
        self.resets: list[tuple[int, int]] = []
        self.max_open_streams = 0
        self.errors: list[BaseException] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return format_url("https" if self.ssl else "http", self.host, self.port)

    async def start(self) -> None:
        if self.ssl is not None:
            self.ssl.set_alpn_protocols(["h2"])
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.ssl)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in self.connections:
            conn.abort()
        tasks = {t for c in self.connections for t in c.tasks} | self._tasks
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def run_handler(self, stream: ServerStream) -> None:
        try:
            await self.handler(stream)
        except (ConnectionError, asyncio.CancelledError, h2.exceptions.StreamClosedError):
            pass
        except Exception as exc:
            # Answering a stream the client reset is the client's right, not a test bug.
            if not stream.conn.closed and stream.reset_by_client is None:
                self.errors.append(exc)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        conn = ServerConnection(self, len(self.connections), writer, self.settings)
        self.connections.append(conn)
        conn.h2.initiate_connection()
        conn.flush()
        try:
            while not conn.closed:
                data = await reader.read(1 << 16)
                if not data:
                    break
                try:
                    events = conn.h2.receive_data(data)
                except h2.exceptions.ProtocolError:
                    conn.flush()
                    break
                for event in events:
                    conn.handle(event)
                conn.flush()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            conn.closed = True
            for stream in conn.streams.values():
                stream._window.set()
                stream._chunks.put_nowait(None)
            writer.close()
            self._tasks.discard(task)


# -- the default routes ------------------------------------------------------------------


async def _bytes(stream: ServerStream, n: str) -> None:
    kind = (b"content-type", b"application/octet-stream")
    await stream.respond(200, pattern_bytes(int(n)), [kind])


async def _echo(stream: ServerStream, _arg: str) -> None:
    digest = hashlib.sha256()
    async for chunk in stream.body_chunks():
        digest.update(chunk)
    answer = {
        "method": stream.method,
        "path": stream.path,
        "authority": stream.authority,
        "scheme": stream.scheme,
        "fields": [[k.decode(), v.decode()] for k, v in stream.fields],
        "length": stream.body_length,
        "sha256": digest.hexdigest(),
    }
    kind = (b"content-type", b"application/json")
    await stream.respond(200, json.dumps(answer).encode(), [kind])


async def _delay(stream: ServerStream, seconds: str) -> None:
    await asyncio.sleep(float(seconds))
    await stream.respond(200, b"ok")


async def _status(stream: ServerStream, code: str) -> None:
    await stream.respond(int(code))


ROUTES: dict[str, Callable[[ServerStream, str], Awaitable[None]]] = {
    "bytes": _bytes,
    "echo": _echo,
    "delay": _delay,
    "status": _status,
}


async def default_handler(stream: ServerStream) -> None:
    """``/bytes/N``, ``/echo``, ``/delay/S``, ``/status/N``; anything else is 200 ``ok``."""
    parts = stream.path.split("?", 1)[0].strip("/").split("/", 1)
    route = ROUTES.get(parts[0])
    if route is None:
        await stream.respond(200, b"ok", [(b"content-type", b"text/plain")])
    else:
        await route(stream, parts[1] if len(parts) > 1 else "")
