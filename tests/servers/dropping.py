"""A keep-alive HTTP/1.1 server that drops connections without warning, as a busy or
misconfigured server (or a middlebox) does.

Rules:
- It answers every request it reads with 200 and a body naming what it answered:
  ``GET /x`` gets ``GET /x``, a request with a body gets the body back, so a client can
  check that each answer belongs to its request.
- It never sends ``Connection: close``. After a response, with probability ``drop_rate``
  (seeded, so a run is reproducible) it drops the connection, in one of three ways:
  at once; after an idle pause of up to ``max_pause`` seconds during which it reads
  nothing (a request sent meanwhile is lost unread, as with a server's keep-alive timeout
  racing the client's next request); or once it has read the next request, which it then
  never answers (the request reached the server: only an idempotent one may be resent).
- A drop is a FIN (``transport.close()``), or an RST with ``rst=True`` (SO_LINGER 0).
- ``received`` counts every complete request read, by method and target or body: a
  request the server saw twice shows as a count of 2 whether or not it was answered;
  ``unanswered`` counts the requests read and then dropped.
"""

from __future__ import annotations

import asyncio
import collections
import random
import socket
import struct

from tests.servers import check_host, format_url

__all__ = ["DroppingServer"]

_HEAD_END = b"\r\n\r\n"


class _Connection(asyncio.Protocol):
    def __init__(self, server: DroppingServer) -> None:
        self._server = server
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None
        self._paused_until_drop = False
        self._drop_after_next_read = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections_opened += 1
        self._server._live.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server._live.discard(self)
        self._transport = None

    def data_received(self, data: bytes) -> None:
        if self._paused_until_drop:
            return  # the pause before a drop: what arrives now is never read
        self._buffer += data
        while self._transport is not None and not self._paused_until_drop:
            if not self._answer_one():
                return

    def _answer_one(self) -> bool:
        """Answer the first complete request in the buffer; False if there is none."""
        end = self._buffer.find(_HEAD_END)
        if end < 0:
            return False
        head = bytes(self._buffer[:end]).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        method, target = request_line.split(" ")[:2]
        length = 0
        for line in lines:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        start = end + len(_HEAD_END)
        if len(self._buffer) < start + length:
            return False
        body = bytes(self._buffer[start : start + length])
        del self._buffer[: start + length]
        server = self._server
        answer = body if length else f"{method} {target}".encode()
        server.received[(method, answer)] += 1
        if self._drop_after_next_read:
            server.unanswered += 1
            self._drop()
            return False
        assert self._transport is not None
        self._transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer)
        )
        if server._rng.random() < server.drop_rate:
            how = server._rng.randrange(3)
            if how == 0:
                self._drop()
            elif how == 1:
                self._paused_until_drop = True
                pause = server._rng.uniform(0, server.max_pause)
                asyncio.get_running_loop().call_later(pause, self._drop)
            else:
                self._drop_after_next_read = True
        return True

    def _drop(self) -> None:
        transport = self._transport
        if transport is None:
            return
        self._server.drops += 1
        if self._server.rst:
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()


class DroppingServer:
    """See the module docstring. ``async with DroppingServer(...) as server: server.url``."""

    def __init__(
        self,
        *,
        drop_rate: float = 0.3,
        max_pause: float = 0.002,
        rst: bool = False,
        seed: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        check_host(host)
        self.host = host
        self.port = 0
        self.drop_rate = drop_rate
        self.max_pause = max_pause
        self.rst = rst
        self._rng = random.Random(seed)
        self.received: collections.Counter[tuple[str, bytes]] = collections.Counter()
        self.connections_opened = 0
        self.drops = 0
        self.unanswered = 0
        self._live: set[_Connection] = set()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return format_url("http", self.host, self.port)

    async def start(self) -> DroppingServer:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: _Connection(self), host=self.host, port=0, backlog=512
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for connection in list(self._live):
                if connection._transport is not None:
                    connection._transport.abort()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> DroppingServer:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
