"""A scripted raw-socket server for malformed, truncated, slow and hostile responses.

Rules:
- It runs in-process on the test's event loop and writes exactly what the script says:
  no parsing of what it sends, no fixing up of headers.
- Every byte a connection delivers is recorded as it arrives, whether the script reads it
  or not (``server.received``, one entry per connection, in accept order).
- A script is either ``async def handler(conn: RawConnection) -> None`` or a list of byte
  strings written after reading one request (a float in the list sleeps that many
  seconds); the connection is closed gracefully when the script returns. The script runs
  once per connection: vary it by ``conn.index`` (0 for the first connection accepted).
- A script that raises anything but a connection error is a bug in the test: the error is
  kept in ``server.errors`` and re-raised when the fixture closes the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl as ssl_module
import struct
from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from tests.servers import check_host, format_url

Handler = Callable[["RawConnection"], Awaitable[None]]
Script = Handler | Sequence[bytes | float]

# The end of a request head, and a bound so a hostile client cannot grow our buffer forever.
HEAD_END = b"\r\n\r\n"
MAX_HEAD = 1 << 20


def parse_head(raw: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    """Split a request head into method, target and (name, value) pairs as sent."""
    head = raw.split(HEAD_END, 1)[0].decode("latin-1")
    request_line, *lines = head.split("\r\n")
    method, target, *_ = [*request_line.split(" "), "", ""]
    headers = []
    for line in lines:
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    return method, target, headers


def header_value(headers: list[tuple[str, str]], name: str) -> str | None:
    """The last value of header ``name`` (case-insensitive), or None."""
    found = None
    for key, value in headers:
        if key.lower() == name.lower():
            found = value
    return found


class RawConnection:
    """One accepted connection, driven by a script."""

    def __init__(self, index: int, record: bytearray) -> None:
        self.index = index
        self.peer: object = None
        self._record = record
        self._buffer = bytearray()
        self._eof = False
        self._lost = False
        self._wakeup: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._transport: asyncio.Transport | None = None

    # -- script API ---------------------------------------------------------------------

    @property
    def received(self) -> bytes:
        """Everything this connection has delivered so far."""
        return bytes(self._record)

    @property
    def peer_certificate(self) -> dict[str, object] | None:
        """The client certificate a TLS peer presented (verified; None when it sent none)."""
        if self._transport is None:
            return None
        cert = self._transport.get_extra_info("peercert")
        return cert or None

    @property
    def at_eof(self) -> bool:
        return (self._eof or self._lost) and not self._buffer

    async def read(self, n: int = 65536) -> bytes:
        """Up to ``n`` buffered bytes, waiting for at least one; b"" at end of stream."""
        while not self._buffer and not (self._eof or self._lost):
            await self._wait()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def read_exactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes, or fewer if the peer ends the stream first."""
        while len(self._buffer) < n and not (self._eof or self._lost):
            await self._wait()
        data = bytes(self._buffer[:n])
        del self._buffer[:n]
        return data

    async def read_until(self, separator: bytes, limit: int = MAX_HEAD) -> bytes:
        """Bytes up to and including ``separator``; whatever is left at end of stream."""
        while True:
            end = self._buffer.find(separator)
            if end >= 0:
                end += len(separator)
                break
            if self._eof or self._lost or len(self._buffer) > limit:
                end = len(self._buffer)
                break
            await self._wait()
        data = bytes(self._buffer[:end])
        del self._buffer[:end]
        return data

    async def read_request(self) -> bytes:
        """One request's raw bytes: the head, then a Content-Length or chunked body.

        Returns b"" when the peer closes before sending anything, and a partial request
        when it closes half-way.
        """
        head = await self.read_until(HEAD_END)
        if not head.endswith(HEAD_END):
            return head
        _, _, headers = parse_head(head)
        encoding = (header_value(headers, "transfer-encoding") or "").lower()
        if encoding.endswith("chunked"):
            return head + await self._read_chunked_body()
        length = header_value(headers, "content-length")
        if length and length.isdigit():
            return head + await self.read_exactly(int(length))
        return head

    def write(self, data: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(data)

    async def drain(self) -> None:
        """Wait until the transport's write buffer has room again."""
        while self._writable is not None and not self._lost:
            await asyncio.shield(self._writable)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def write_eof(self) -> None:
        """Half-close: send FIN but keep reading."""
        if self._transport is not None and self._transport.can_write_eof():
            self._transport.write_eof()

    def close(self) -> None:
        """Graceful close: flush what was written, then FIN."""
        if self._transport is not None:
            self._transport.close()

    def abort(self) -> None:
        """Hard close: drop buffered output and send RST."""
        if self._transport is None:
            return
        sock = self._transport.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:
            # SO_LINGER 0 turns close() into an RST instead of a FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._transport.abort()

    # -- internals ----------------------------------------------------------------------

    async def _read_chunked_body(self) -> bytes:
        body = bytearray()
        while True:
            size_line = await self.read_until(b"\r\n")
            body += size_line
            if not size_line.endswith(b"\r\n"):
                return bytes(body)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailer fields end with an empty line.
                while True:
                    line = await self.read_until(b"\r\n")
                    body += line
                    if line in (b"\r\n", b"") or not line.endswith(b"\r\n"):
                        return bytes(body)
            body += await self.read_exactly(size + 2)

    async def _wait(self) -> None:
        self._wakeup = asyncio.get_running_loop().create_future()
        try:
            await self._wakeup
        finally:
            self._wakeup = None

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)


class _RawProtocol(asyncio.Protocol):
    """Feeds one RawConnection and runs its script as a task."""

    def __init__(self, server: RawServer) -> None:
        self._server = server
        record = bytearray()
        server._records.append(record)
        self.conn = RawConnection(len(server._records) - 1, record)
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.conn._transport = transport
        self.conn.peer = transport.get_extra_info("peername")
        self._server._opened(self)
        self._task = asyncio.get_running_loop().create_task(self._run())

    def data_received(self, data: bytes) -> None:
        self.conn._record += data
        self.conn._buffer += data
        self.conn._wake()

    def eof_received(self) -> bool:
        self.conn._eof = True
        self.conn._wake()
        return True  # keep our side open: the script decides when to close

    def connection_lost(self, exc: Exception | None) -> None:
        self.conn._lost = True
        self.conn._wake()
        self.resume_writing()
        self._server._closed(self)

    def pause_writing(self) -> None:
        if self.conn._writable is None:
            self.conn._writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.conn._writable is not None:
            if not self.conn._writable.done():
                self.conn._writable.set_result(None)
            self.conn._writable = None

    async def _run(self) -> None:
        try:
            await _run_script(self._server.script, self.conn)
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client went away, or the server is shutting down
        except Exception as exc:
            self._server.errors.append(exc)
        finally:
            self.conn.close()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def _run_script(script: Script, conn: RawConnection) -> None:
    if callable(script):
        await script(conn)
        return
    await conn.read_request()
    for item in script:
        if isinstance(item, bytes | bytearray):
            conn.write(bytes(item))
            await conn.drain()
        else:
            await conn.sleep(float(item))


class RawServer:
    """A listening raw server; see the module docstring for the rules."""

    def __init__(
        self,
        script: Script,
        *,
        host: str = "127.0.0.1",
        ssl: ssl_module.SSLContext | None = None,
        unix_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.script = script
        self.host = host if unix_path is None else "localhost"
        self.port = 0
        self.unix_path = None if unix_path is None else os.fspath(unix_path)
        self.ssl = ssl
        self.errors: list[Exception] = []
        self.connections_opened = 0
        self.active = 0
        self.max_concurrent = 0
        self._records: list[bytearray] = []
        self._protocols: set[_RawProtocol] = set()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """Base URL; for a unix socket the host part is only what goes in Host."""
        scheme = "https" if self.ssl is not None else "http"
        if self.unix_path is not None:
            return f"{scheme}://localhost"
        return format_url(scheme, self.host, self.port)

    @property
    def received(self) -> list[bytes]:
        """Bytes received, one entry per connection in accept order."""
        return [bytes(record) for record in self._records]

    async def start(self) -> RawServer:
        loop = asyncio.get_running_loop()
        if self.unix_path is not None:
            self._server = await loop.create_unix_server(
                lambda: _RawProtocol(self), path=self.unix_path, ssl=self.ssl
            )
        else:
            check_host(self.host)
            bind = "127.0.0.1" if self.host == "localhost" else self.host
            self._server = await loop.create_server(
                lambda: _RawProtocol(self), host=bind, port=0, ssl=self.ssl
            )
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        """Stop listening, cancel scripts and close every connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for protocol in list(self._protocols):
            protocol.cancel()
            protocol.conn.abort()
        # Let cancelled scripts and connection_lost callbacks run before the loop closes.
        for _ in range(3):
            await asyncio.sleep(0)
        if self.unix_path is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.unix_path)

    def _opened(self, protocol: _RawProtocol) -> None:
        self._protocols.add(protocol)
        self.connections_opened += 1
        self.active += 1
        self.max_concurrent = max(self.max_concurrent, self.active)

    def _closed(self, protocol: _RawProtocol) -> None:
        if protocol in self._protocols:
            self._protocols.discard(protocol)
            self.active -= 1

    async def __aenter__(self) -> RawServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class RawServerFactory(Protocol):
    """The ``raw_server`` fixture: ``server = await raw_server(script, host=..., ...)``."""

    async def __call__(
        self,
        script: Script,
        *,
        host: str = "127.0.0.1",
        ssl: ssl_module.SSLContext | None = None,
        unix_path: str | os.PathLike[str] | None = None,
    ) -> RawServer: ...
