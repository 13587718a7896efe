"""A request-capturing server on its own thread, for clients that block (httpie, requests).

Rules:
- It is ``RawServer`` (tests/servers/raw.py) on 127.0.0.1 with its own event loop in a
  daemon thread, so a synchronous client can run in the test's thread meanwhile.
- Every connection gets one request read (head, then a Content-Length or chunked body) and
  one answer, ``200 OK`` with a two-byte body and ``Connection: close``; the bytes are
  recorded as they arrive, whatever the client sends. A request whose framing does not
  parse, or that is still incomplete after ``READ_LIMIT`` seconds, is answered all the
  same, so a client that sends a wrong framing is recorded instead of hanging the test.
- ``take()`` returns what the connections accepted since the last ``take()`` received.
  A client that has seen its answer has been read in full, so calling ``take()`` after
  the client returns sees the whole request.
"""

from __future__ import annotations

import asyncio
import threading
from types import TracebackType

from tests.servers.raw import RawConnection, RawServer

ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
    b"Connection: close\r\n\r\nok"
)


READ_LIMIT = 2.0


async def _answer(conn: RawConnection) -> None:
    try:
        request = await asyncio.wait_for(conn.read_request(), READ_LIMIT)
    except (ValueError, TimeoutError):
        request = conn.received
    if request:
        conn.write(ANSWER)
        await conn.drain()


class CaptureServer:
    """``with CaptureServer() as server: ...; server.take()``."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = RawServer(_answer)
        self._taken = 0

    @property
    def port(self) -> int:
        return self._server.port

    def _call(self, coro: object, timeout: float = 10) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)  # type: ignore[arg-type]

    def start(self) -> CaptureServer:
        self._thread.start()
        self._call(self._server.start())
        return self

    def take(self) -> list[bytes]:
        """The bytes of each connection accepted since the last call, in accept order."""

        async def received() -> list[bytes]:
            return self._server.received

        records = self._call(received())
        assert isinstance(records, list)
        new, self._taken = records[self._taken :], len(records)
        return [record for record in new if record]

    def close(self) -> None:
        try:
            self._call(self._server.close())
            errors = list(self._server.errors)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop.close()
        if errors:
            raise errors[0]

    def __enter__(self) -> CaptureServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
