"""A small, correct HTTP/1.1 keep-alive server for pool, limit and concurrency tests.

httpbin closes every connection; this one keeps them open (RFC 9112 §9.3) unless the
request says ``Connection: close`` or is HTTP/1.0 without ``keep-alive``. It runs
in-process on the test's event loop and counts what the pool tests need to see.

Routes:
    /                      200 ``ok``
    /bytes/N               N bytes of ``pattern_bytes(N)``
    /delay/S               sleep S seconds, then 200 ``ok``
    /echo                  method, path, query, headers and body as JSON
    /status/N              status N, empty body
    /chunked/N             N chunks, Transfer-Encoding: chunked (?size=K bytes, ?delay=S)
    /close                 200 with ``Connection: close``, then closes
    /set-cookie?n=v&...    one Set-Cookie per pair
    /redirect?to=URL&status=302
    /drop                  closes the connection without answering

Options: ``idle_timeout`` closes a connection left idle that long between requests (a
server's keep-alive timeout, for stale-connection tests); ``max_requests`` answers the
N-th request on a connection with ``Connection: close`` (nginx's keepalive_requests).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http
import json
import os
import ssl as ssl_module
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

from tests.servers import check_host, format_url

# Same order of magnitude as nginx's large_client_header_buffers (4 x 8k).
MAX_HEAD = 64 * 1024
_PATTERN = bytes(range(256))


def pattern_bytes(n: int) -> bytes:
    """The body of /bytes/N: 0x00..0xff repeated, so truncation and reordering show."""
    return (_PATTERN * (n // 256 + 1))[:n]


def chunk_bytes(index: int, size: int | None = None) -> bytes:
    """The body of chunk ``index`` of /chunked/N (``size`` pads or trims it)."""
    text = f"chunk {index}\n".encode()
    return text if size is None else (text * (size // len(text) + 1))[:size]


class BadRequest(Exception):
    """The client sent something we cannot parse; answer 400 and close."""


@dataclasses.dataclass
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> list[tuple[str, str]]:
        return parse_qsl(urlsplit(self.target).query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ", ".join(values) if values else None

    @property
    def keep_alive(self) -> bool:
        tokens = {t.strip().lower() for t in (self.header("connection") or "").split(",")}
        if self.version == "HTTP/1.0":
            return "keep-alive" in tokens
        return "close" not in tokens


@dataclasses.dataclass
class Response:
    status: int = 200
    headers: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    body: bytes = b""
    chunks: AsyncIterator[bytes] | None = None
    close: bool = False
    drop: bool = False


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, or None when the client has closed it."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest("truncated request head") from exc
        return None
    except asyncio.LimitOverrunError as exc:
        raise BadRequest("request head too large") from exc
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest(f"bad request line {lines[0]!r}")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            raise BadRequest(f"bad header line {line!r}")
        headers.append((name, value.strip()))
    return Request(parts[0], parts[1], parts[2], headers)


async def read_body(
    request: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> bytes:
    """The request body by chunked framing or Content-Length (RFC 9112 §6.3)."""
    if (request.header("expect") or "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    encoding = (request.header("transfer-encoding") or "").lower()
    if encoding:
        if not encoding.endswith("chunked"):
            raise BadRequest(f"unsupported transfer-encoding {encoding!r}")
        return await _read_chunked(reader)
    length = request.header("content-length")
    if length is None:
        return b""
    if not length.isdigit():
        raise BadRequest(f"bad content-length {length!r}")
    try:
        return await reader.readexactly(int(length))
    except asyncio.IncompleteReadError as exc:
        raise BadRequest("truncated body") from exc


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    try:
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise BadRequest(f"bad chunk size {size_line!r}") from exc
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailer fields: ignored
                return bytes(body)
            chunk = await reader.readexactly(size + 2)
            if chunk[-2:] != b"\r\n":
                raise BadRequest("chunk not terminated by CRLF")
            body += chunk[:-2]
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise BadRequest("truncated chunked body") from exc


# -- routes ---------------------------------------------------------------------------------

Route = Callable[[Request, str], Awaitable[Response]]


def _ok(body: bytes = b"ok", content_type: str = "text/plain") -> Response:
    return Response(headers=[("Content-Type", content_type)], body=body)


async def _root(request: Request, arg: str) -> Response:
    return _ok()


async def _bytes(request: Request, arg: str) -> Response:
    return _ok(pattern_bytes(int(arg)), "application/octet-stream")


async def _delay(request: Request, arg: str) -> Response:
    await asyncio.sleep(float(arg))
    return _ok()


async def _echo(request: Request, arg: str) -> Response:
    joined: dict[str, str] = {}
    for name, value in request.headers:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    document = {
        "method": request.method,
        "path": request.path,
        "target": request.target,
        "version": request.version,
        "query": request.query,
        "headers": joined,
        "header_list": request.headers,
        "body": request.body.decode("utf-8", "replace"),
        "body_length": len(request.body),
    }
    return _ok(json.dumps(document).encode(), "application/json")


async def _status(request: Request, arg: str) -> Response:
    return Response(status=int(arg))


async def _chunked(request: Request, arg: str) -> Response:
    options = dict(request.query)
    size = int(options["size"]) if "size" in options else None
    delay = float(options.get("delay", "0"))

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(int(arg)):
            if delay and index:
                await asyncio.sleep(delay)
            yield chunk_bytes(index, size)

    return Response(headers=[("Content-Type", "text/plain")], chunks=chunks())


async def _close(request: Request, arg: str) -> Response:
    response = _ok()
    response.close = True
    return response


async def _set_cookie(request: Request, arg: str) -> Response:
    response = _ok()
    response.headers += [("Set-Cookie", f"{name}={value}") for name, value in request.query]
    return response


async def _redirect(request: Request, arg: str) -> Response:
    options = dict(request.query)
    status = int(options.get("status", "302"))
    return Response(status=status, headers=[("Location", options.get("to", "/"))])


async def _drop(request: Request, arg: str) -> Response:
    return Response(drop=True)


ROUTES: dict[str, Route] = {
    "": _root,
    "bytes": _bytes,
    "delay": _delay,
    "echo": _echo,
    "status": _status,
    "chunked": _chunked,
    "close": _close,
    "set-cookie": _set_cookie,
    "redirect": _redirect,
    "drop": _drop,
}


async def dispatch(request: Request) -> Response:
    name, _, arg = request.path.strip("/").partition("/")
    route = ROUTES.get(name)
    if route is None:
        return Response(status=404, body=b"not found")
    try:
        return await route(request, arg)
    except ValueError:
        return Response(status=400, body=b"bad argument")


# -- the server -----------------------------------------------------------------------------


_STATUSES = frozenset(status.value for status in http.HTTPStatus)


def _has_body(status: int, method: str) -> bool:
    return method != "HEAD" and status >= 200 and status not in (204, 304)


async def write_response(
    writer: asyncio.StreamWriter, response: Response, method: str, close: bool
) -> None:
    reason = http.HTTPStatus(response.status).phrase if response.status in _STATUSES else "X"
    head = [f"HTTP/1.1 {response.status} {reason}", *(f"{k}: {v}" for k, v in response.headers)]
    framed = response.status >= 200 and response.status not in (204, 304)
    if response.chunks is not None:
        head.append("Transfer-Encoding: chunked")
    elif framed:
        head.append(f"Content-Length: {len(response.body)}")
    if close:
        head.append("Connection: close")
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    if not _has_body(response.status, method):
        await writer.drain()
        return
    if response.chunks is None:
        writer.write(response.body)
    else:
        async for chunk in response.chunks:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
    await writer.drain()


class KeepAliveServer:
    """A listening keep-alive server with the counters pool tests assert on."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        ssl: ssl_module.SSLContext | None = None,
        unix_path: str | os.PathLike[str] | None = None,
        idle_timeout: float | None = None,
        max_requests: int | None = None,
    ) -> None:
        self.idle_timeout = idle_timeout
        self.max_requests = max_requests
        self.host = host if unix_path is None else "localhost"
        self.port = 0
        self.unix_path = None if unix_path is None else os.fspath(unix_path)
        self.ssl = ssl
        self.log: list[tuple[int, str, str]] = []  # (connection index, method, target)
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.active = 0
        self.reset_counts()

    def reset_counts(self) -> None:
        """Zero the counters (``active`` stays: those connections are still open)."""
        self.connections_opened = 0
        self.max_active = self.active
        self.requests = 0
        self.peers: set[int] = set()
        self.log.clear()

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl is not None else "http"
        if self.unix_path is not None:
            return f"{scheme}://localhost"
        return format_url(scheme, self.host, self.port)

    async def start(self) -> KeepAliveServer:
        if self.unix_path is not None:
            self._server = await asyncio.start_unix_server(
                self._serve, path=self.unix_path, ssl=self.ssl, limit=MAX_HEAD
            )
        else:
            check_host(self.host)
            bind = "127.0.0.1" if self.host == "localhost" else self.host
            self._server = await asyncio.start_server(
                self._serve, host=bind, port=0, ssl=self.ssl, limit=MAX_HEAD
            )
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening and close every open connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for writer in list(self._writers):
            writer.transport.abort()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.unix_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix_path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        index = self.connections_opened
        self.connections_opened += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        peer = writer.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.peers.add(peer[1])
        try:
            await self._exchange_all(index, reader, writer)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or we are shutting down
        finally:
            self.active -= 1
            self._writers.discard(writer)
            self._tasks.discard(task)
            writer.close()

    async def _exchange_all(
        self, index: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        served = 0
        while True:
            try:
                try:
                    request = await asyncio.wait_for(read_request(reader), self.idle_timeout)
                except TimeoutError:
                    return  # idle too long: close, as a server's keep-alive timeout does
                if request is None:
                    return
                request.body = await read_body(request, reader, writer)
            except BadRequest as exc:
                bad = Response(status=400, body=str(exc).encode())
                await write_response(writer, bad, "GET", close=True)
                return
            self.requests += 1
            self.log.append((index, request.method, request.target))
            response = await dispatch(request)
            if response.drop:
                return
            served += 1
            close = response.close or not request.keep_alive or served == self.max_requests
            await write_response(writer, response, request.method, close)
            if close:
                return

    async def __aenter__(self) -> KeepAliveServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class KeepAliveServerFactory(Protocol):
    """The ``keepalive_server`` fixture: ``server = await keepalive_server(host=..., ...)``."""

    async def __call__(
        self,
        *,
        host: str = "127.0.0.1",
        ssl: ssl_module.SSLContext | None = None,
        unix_path: str | os.PathLike[str] | None = None,
        idle_timeout: float | None = None,
        max_requests: int | None = None,
    ) -> KeepAliveServer: ...
