"""A body-counting HTTP/1.1 server: it hashes what it receives and serves big bodies.

Rules:
- It runs in-process on the test's event loop, binds loopback only, and keeps no body in
  memory: a request body is hashed (SHA-256) and counted as it arrives, so a test can
  push hundreds of megabytes through it.
- Request framing is decoded strictly (RFC 9112 §6-7): ``Content-Length`` or
  ``Transfer-Encoding: chunked``; a malformed chunk is answered with 400 and the error.
- ``Expect: 100-continue`` is answered with ``100 Continue`` before the body is read.
- A ``multipart/form-data`` body is also split into its parts on the fly (RFC 2046
  §5.1.1), each part's headers kept and its body hashed; a ``Content-Encoding`` of gzip or
  deflate is also decoded and hashed, so a test sees both the wire bytes and the original.
- An unexpected error in the server is kept in ``server.errors`` (a test should re-raise
  it). Every request is answered with its ``SinkRecord`` as JSON (``record.as_json()``), and
  the record is kept in ``server.records``.
- ``GET /bytes/N`` answers N bytes instead: 1 MiB blocks, each starting with its index so
  a lost, repeated or reordered block changes the hash; ``server.sent`` gets the SHA-256
  of every such body once it has been written.
Connections are kept alive unless the request says ``Connection: close``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import re
import zlib
from typing import Any

from tests.servers import check_host, format_url

MAX_HEAD = 64 * 1024
READ_SIZE = 1 << 16
BLOCK = 1 << 20
_BLOCK_BASE = hashlib.shake_256(b"zurl sink block").digest(BLOCK)
_BOUNDARY = re.compile(r'boundary=(?:"([^"]+)"|([^;\s]+))', re.IGNORECASE)


class BadRequest(Exception):
    """The client's framing is wrong; answered with 400 and the message."""


def block_bytes(index: int, size: int = BLOCK) -> bytes:
    """Block ``index`` of a ``/bytes/N`` body (the last one may be shorter)."""
    return (index.to_bytes(8, "big") + _BLOCK_BASE[8:])[:size]


def expected_sha256(n: int) -> str:
    """The SHA-256 of the ``/bytes/N`` body, computed without serving it."""
    digest = hashlib.sha256()
    for index, offset in enumerate(range(0, n, BLOCK)):
        digest.update(block_bytes(index, min(BLOCK, n - offset)))
    return digest.hexdigest()


@dataclasses.dataclass
class Part:
    """One multipart part: its header lines as sent, its body's size and hash."""

    headers: list[tuple[str, str]]
    size: int = 0
    sha256: str = ""
    head: bytes = b""  # the first KiB of the body, for text fields
    _digest: Any = dataclasses.field(default_factory=hashlib.sha256, repr=False)

    def feed(self, data: bytes | memoryview) -> None:
        if len(self.head) < 1024:
            self.head += bytes(data[: 1024 - len(self.head)])
        self._digest.update(data)
        self.size += len(data)

    def finish(self) -> None:
        self.sha256 = self._digest.hexdigest()

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class MultipartCounter:
    """Splits a multipart body fed in arbitrary pieces, holding back at most one
    delimiter's worth of bytes."""

    def __init__(self, boundary: str) -> None:
        self._delim = b"\r\n--" + boundary.encode("latin-1")
        self._buf = b"\r\n"  # the first delimiter has no CRLF before it
        self._state = "preamble"
        self.parts: list[Part] = []
        self.complete = False

    def feed(self, data: bytes) -> None:
        self._buf += data
        while self._step():
            pass

    def _step(self) -> bool:
        buf, delim = self._buf, self._delim
        if self._state == "epilogue":
            self._buf = b""
            return False
        if self._state == "head":
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise BadRequest("multipart part head too long")
                return False
            lines = buf[:end].decode("utf-8").split("\r\n")
            headers = [(k.strip(), v.strip()) for k, _, v in (x.partition(":") for x in lines)]
            self.parts.append(Part(headers))
            self._buf = buf[end + 4 :]
            self._state = "body"
            return True
        found = buf.find(delim)
        if found < 0:
            keep = len(delim) + 1
            if len(buf) > keep:
                if self._state == "body":
                    self.parts[-1].feed(memoryview(buf)[: len(buf) - keep])
                self._buf = buf[len(buf) - keep :]
            return False
        after = buf[found + len(delim) : found + len(delim) + 2]
        if len(after) < 2:
            if self._state == "body" and found:
                self.parts[-1].feed(memoryview(buf)[:found])
                self._buf = buf[found:]
            return False
        if self._state == "body":
            self.parts[-1].feed(memoryview(buf)[:found])
            self.parts[-1].finish()
        if after == b"--":
            self._state = "epilogue"
            self.complete = True
        elif after == b"\r\n":
            self._state = "head"
        else:
            raise BadRequest(f"bad multipart delimiter line: {after!r}")
        self._buf = buf[found + len(delim) + 2 :]
        return True


@dataclasses.dataclass
class SinkRecord:
    """What one request delivered."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    framing: str = "none"  # "content-length", "chunked" or "none"
    size: int = 0
    sha256: str = ""
    chunks: int = 0
    decoded_size: int | None = None
    decoded_sha256: str | None = None
    parts: list[Part] = dataclasses.field(default_factory=list)
    multipart_complete: bool | None = None
    error: str | None = None

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def as_json(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["parts"] = [
            {"headers": p.headers, "size": p.size, "sha256": p.sha256, "head": p.head.hex()}
            for p in self.parts
        ]
        return out


class _BodyCounter:
    """Hashes the wire bytes and, when needed, the decoded bytes and multipart parts."""

    def __init__(self, record: SinkRecord) -> None:
        self.record = record
        self._digest = hashlib.sha256()
        self._decoder: Any = None
        self._decoded = hashlib.sha256()
        encoding = (record.header("content-encoding") or "").strip().lower()
        if encoding in ("gzip", "deflate"):
            self._decoder = zlib.decompressobj(31 if encoding == "gzip" else 15)
            record.decoded_size = 0
        self._multipart: MultipartCounter | None = None
        match = _BOUNDARY.search(record.header("content-type") or "")
        if (record.header("content-type") or "").lower().startswith("multipart/") and match:
            self._multipart = MultipartCounter(match.group(1) or match.group(2))

    def feed(self, data: bytes) -> None:
        self._digest.update(data)
        self.record.size += len(data)
        if self._decoder is not None:
            try:
                plain = self._decoder.decompress(data)
            except zlib.error as exc:
                raise BadRequest(f"body does not decode: {exc}") from None
            self._decoded.update(plain)
            self.record.decoded_size = (self.record.decoded_size or 0) + len(plain)
        if self._multipart is not None:
            self._multipart.feed(data)

    def finish(self) -> None:
        record = self.record
        record.sha256 = self._digest.hexdigest()
        if self._decoder is not None:
            if not self._decoder.eof:
                raise BadRequest("compressed body ends before its end marker")
            record.decoded_sha256 = self._decoded.hexdigest()
        if self._multipart is not None:
            record.parts = self._multipart.parts
            record.multipart_complete = self._multipart.complete


class SinkServer:
    """The listening sink; see the module docstring."""

    def __init__(self, *, host: str = "127.0.0.1") -> None:
        check_host(host)
        self.host = host
        self.port = 0
        self.records: list[SinkRecord] = []
        self.sent: list[str] = []
        self.errors: list[Exception] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    @property
    def url(self) -> str:
        return format_url("http", self.host, self.port)

    async def start(self) -> SinkServer:
        self._server = await asyncio.start_server(
            self._serve, host=self.host, port=0, limit=MAX_HEAD
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for _ in range(3):
            await asyncio.sleep(0)

    async def __aenter__(self) -> SinkServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self._writers.add(writer)
        try:
            while await self._one(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the client went away, or the server is shutting down
        except Exception as exc:  # a bug in the sink: the fixture re-raises it
            self.errors.append(exc)
        finally:
            self._tasks.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        try:
            raw = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, *lines = raw[:-4].decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers = [(k.strip(), v.strip()) for k, _, v in (x.partition(":") for x in lines)]
        record = SinkRecord(method, target, headers)
        keep_alive = (record.header("connection") or "").lower() != "close"
        if method == "GET" and target.startswith("/bytes/"):
            await self._send_bytes(writer, int(target.split("/")[2]), keep_alive)
            return keep_alive
        if (record.header("expect") or "").lower() == "100-continue":
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        status = "200 OK"
        try:
            await self._read_body(reader, record)
        except BadRequest as exc:
            record.error = str(exc)
            status, keep_alive = "400 Bad Request", False
        self.records.append(record)
        body = json.dumps(record.as_json()).encode()
        writer.write(_head(status, "application/json", len(body), keep_alive) + body)
        await writer.drain()
        return keep_alive

    async def _read_body(self, reader: asyncio.StreamReader, record: SinkRecord) -> None:
        counter = _BodyCounter(record)
        encoding = (record.header("transfer-encoding") or "").lower()
        length = record.header("content-length")
        if encoding:
            if encoding != "chunked":
                raise BadRequest(f"unsupported Transfer-Encoding {encoding!r}")
            if length is not None:
                raise BadRequest("both Content-Length and Transfer-Encoding (RFC 9112 §6.1)")
            record.framing = "chunked"
            await self._read_chunked(reader, counter)
        elif length is not None:
            if not length.isdigit():
                raise BadRequest(f"bad Content-Length {length!r}")
            record.framing = "content-length"
            await self._read_exactly(reader, int(length), counter)
        counter.finish()

    async def _read_exactly(
        self, reader: asyncio.StreamReader, n: int, counter: _BodyCounter
    ) -> None:
        while n:
            data = await reader.read(min(n, READ_SIZE))
            if not data:
                raise asyncio.IncompleteReadError(b"", n)
            n -= len(data)
            counter.feed(data)

    async def _read_chunked(self, reader: asyncio.StreamReader, counter: _BodyCounter) -> None:
        while True:
            line = await reader.readuntil(b"\r\n")
            size_text = line[:-2].split(b";", 1)[0]
            if not re.fullmatch(rb"[0-9A-Fa-f]{1,16}", size_text):
                raise BadRequest(f"bad chunk size line {line!r}")
            size = int(size_text, 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailer fields
                return
            counter.record.chunks += 1
            await self._read_exactly(reader, size, counter)
            if await reader.readexactly(2) != b"\r\n":
                raise BadRequest("chunk data not followed by CRLF")

    async def _send_bytes(self, writer: asyncio.StreamWriter, n: int, keep_alive: bool) -> None:
        writer.write(_head("200 OK", "application/octet-stream", n, keep_alive))
        digest = hashlib.sha256()
        for index, offset in enumerate(range(0, n, BLOCK)):
            block = block_bytes(index, min(BLOCK, n - offset))
            digest.update(block)
            writer.write(block)
            await writer.drain()
        self.sent.append(digest.hexdigest())


def _head(status: str, content_type: str, length: int, keep_alive: bool) -> bytes:
    close = "" if keep_alive else "Connection: close\r\n"
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {length}\r\n{close}\r\n"
    ).encode()


def sparse_file(path: str | os.PathLike[str], size: int, *, islands: int = 64) -> str:
    """A ``size``-byte file made in milliseconds: sparse zeros with ``islands`` distinct
    4 KiB blocks spread through it (so reordering or loss changes its hash).
    Returns its SHA-256."""
    with open(path, "wb") as fh:
        fh.truncate(size)
        step = max(size // islands, 1)
        for i in range(islands):
            offset = min(i * step + i * 4099 % max(step, 1), max(size - 4096, 0))
            fh.seek(offset)
            fh.write(hashlib.shake_256(b"island %d" % i).digest(min(4096, size - offset)))
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(BLOCK):
            digest.update(chunk)
    return digest.hexdigest()
