"""hypercorn in-process: a real HTTP/2 server (and HTTP/1.1 one) for the HTTP/2 tests.

It serves ``app`` below on a loopback socket bound to port 0: over TLS with the ALPN list
given (``("h2", "http/1.1")``, or ``("http/1.1",)`` for a server that refuses h2), or in
cleartext, where hypercorn speaks HTTP/1.1 and h2c with prior knowledge.

Routes of ``app``:
    /bytes/N                 N bytes of ``pattern_bytes(N)``
    /echo                    JSON: method, path, http_version, headers, body length, sha256
    /status/N                status N, empty body
    /redirect?to=URL&status=302
    /set-cookie?n=v&...      one Set-Cookie per pair
    /cookies                 JSON: the Cookie header received
    /gzip                    a gzip-encoded text body
    /trailers                a body, then trailers (asked for with ``TE: trailers``)
    any path, as a WebSocket an echo of each message
    anything else            200 ``ok``
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import json
import socket
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

from tests.servers import check_host, format_url, tls
from tests.servers.keepalive import pattern_bytes

Scope = dict[str, Any]
Message = dict[str, Any]
GZIP_TEXT = b"hello from a gzip body\n" * 100


async def _read_body(receive: Any) -> tuple[int, str]:
    digest = hashlib.sha256()
    length = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        digest.update(chunk)
        length += len(chunk)
        if not message.get("more_body"):
            return length, digest.hexdigest()


async def _websocket_echo(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif message["type"] == "websocket.receive":
            await send(
                {"type": "websocket.send", **{k: v for k, v in message.items() if k != "type"}}
            )
        else:
            return


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "websocket":
        await _websocket_echo(receive, send)
        return
    if scope["type"] != "http":
        return
    path: str = scope["path"]
    query = parse_qsl(scope["query_string"].decode(), keep_blank_values=True)
    parts = path.strip("/").split("/")
    headers: list[tuple[bytes, bytes]] = []
    status = 200
    body = b"ok"
    trailers: list[tuple[bytes, bytes]] | None = None
    if parts[0] == "bytes":
        body = pattern_bytes(int(parts[1]))
    elif parts[0] == "echo":
        length, digest = await _read_body(receive)
        answer = {
            "method": scope["method"],
            "path": path,
            "http_version": scope["http_version"],
            "headers": [[k.decode(), v.decode()] for k, v in scope["headers"]],
            "length": length,
            "sha256": digest,
        }
        body = json.dumps(answer).encode()
        headers.append((b"content-type", b"application/json"))
    elif parts[0] == "status":
        status, body = int(parts[1]), b""
    elif parts[0] == "redirect":
        args = dict(query)
        status, body = int(args.get("status", "302")), b""
        headers.append((b"location", args["to"].encode()))
    elif parts[0] == "set-cookie":
        for name, value in query:
            headers.append((b"set-cookie", f"{name}={value}; Path=/".encode()))
    elif parts[0] == "cookies":
        cookie = dict(scope["headers"]).get(b"cookie", b"").decode()
        body = json.dumps({"cookie": cookie}).encode()
        headers.append((b"content-type", b"application/json"))
    elif parts[0] == "gzip":
        body = gzip.compress(GZIP_TEXT)
        headers.append((b"content-encoding", b"gzip"))
    elif parts[0] == "trailers":
        body = b"body before trailers"
        trailers = [(b"x-checksum", b"abc123"), (b"x-count", b"2")]
    if parts[0] != "echo":
        await _read_body(receive)
    headers.append((b"content-length", str(len(body)).encode()))
    start: Message = {"type": "http.response.start", "status": status, "headers": headers}
    if trailers is not None:
        start["trailers"] = True
    await send(start)
    await send({"type": "http.response.body", "body": body})
    if trailers is not None:
        await send({"type": "http.response.trailers", "headers": trailers})


class HypercornServer:
    """``app`` under hypercorn on the running loop; ``url`` once started."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        cert: trustme.LeafCert | None = None,
        alpn: tuple[str, ...] = ("h2", "http/1.1"),
    ) -> None:
        check_host(host)
        self.host = host
        self.cert = cert
        self.alpn = alpn
        self.port = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._dir = tempfile.TemporaryDirectory(prefix="zurl-hypercorn-")

    @property
    def url(self) -> str:
        return format_url("https" if self.cert else "http", self.host, self.port)

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, 0))
        sock.listen(128)
        self.port = sock.getsockname()[1]
        config = Config()
        config.bind = [f"fd://{sock.detach()}"]  # hypercorn owns (and closes) the socket
        config.accesslog = None
        config.errorlog = None
        config.alpn_protocols = list(self.alpn)
        config.graceful_timeout = 0.5
        if self.cert is not None:
            certfile, keyfile = tls.write_cert_files(self.cert, Path(self._dir.name))
            config.certfile, config.keyfile = str(certfile), str(keyfile)
        self._task = asyncio.ensure_future(serve(app, config, shutdown_trigger=self._stop.wait))  # type: ignore[arg-type]
        # The socket listens already: connections wait in its backlog until hypercorn runs.
        await asyncio.sleep(0)
        if self._task.done():
            self._task.result()  # it failed to start: say why

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 5)
        self._dir.cleanup()
