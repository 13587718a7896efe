"""One WebSocket conversation in zurl's ws mode: what is sent, shown, and when it ends.

See ``cli/run/websocket.py`` for the rules. Standard input is read on a daemon thread, so a
blocking read of a terminal never keeps zurl from exiting when the server closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cli.env import Environment
from cli.exitcodes import ExitCode
from cli.output.parts import OutputSpec
from cli.run.plans import WebSocketPlan

if TYPE_CHECKING:
    import client

# After the last message was sent, how long replies are waited for without --ws-timeout.
REPLY_WAIT = 1.0


class _StdinLines:
    """Lines of stdin, read on a daemon thread (a blocking read must never hold up exit).

    A real descriptor is read with ``os.read``, never through the buffered file object:
    a daemon thread blocked inside ``BufferedReader.readline`` holds its lock, and the
    interpreter aborts at exit when it finds that lock taken.
    """

    def __init__(self, env: Environment, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._env = env
        self._loop = loop
        threading.Thread(target=self._read, name="zurl-stdin", daemon=True).start()

    def _put(self, line: bytes | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: zurl is exiting
            self._loop.call_soon_threadsafe(self.queue.put_nowait, line)

    def _pieces(self) -> Iterator[bytes]:
        try:
            fd = self._env.stdin.fileno()
        except (AttributeError, OSError, ValueError):  # an in-memory stream (tests)
            yield from iter(lambda: self._env.stdin.read(65536), b"")
            return
        yield from iter(lambda: os.read(fd, 65536), b"")

    def _read(self) -> None:
        pending = b""
        try:
            for piece in self._pieces():
                *lines, pending = (pending + piece).split(b"\n")
                for line in lines:
                    self._put(line.removesuffix(b"\r"))
        except (OSError, ValueError):
            pass
        if pending:
            self._put(pending)
        self._put(None)


class Conversation:
    """Sends and prints until a stop condition; returns the exit code."""

    def __init__(
        self,
        env: Environment,
        plan: WebSocketPlan,
        out: OutputSpec,
        ws: client.ClientWebSocketResponse,
        where: str,
        *,
        verbose: bool = False,
    ) -> None:
        self._env = env
        self._plan = plan
        self._verbose = verbose
        self._out = out
        self._ws = ws
        self._where = where
        self._received = 0
        self._sent = 0

    def counts(self) -> dict[str, int]:
        return {"received": self._received, "sent": self._sent}

    async def _send(self, data: bytes) -> None:
        if self._plan.binary:
            await self._ws.send_bytes(data)
        else:
            await self._ws.send_str(data.decode("utf-8", "replace"))
        self._sent += 1

    async def run(self, first: bytes | None) -> int:
        if first is not None:
            await self._send(first)
        for message in self._plan.send:
            await self._send(message.encode("utf-8"))
        wants = self._plan.read_stdin
        lines = _StdinLines(self._env, asyncio.get_running_loop()) if wants else None
        receiving: asyncio.Task[Any] = asyncio.ensure_future(self._ws.receive())
        reading: asyncio.Task[bytes | None] | None = None
        try:
            while True:
                if lines is not None and reading is None:
                    reading = asyncio.ensure_future(lines.queue.get())
                waiting = {receiving} if reading is None else {receiving, reading}
                done, _ = await asyncio.wait(
                    waiting, timeout=self._idle_limit(lines is None), return_when="FIRST_COMPLETED"
                )
                if not done:
                    return self._timed_out()
                if reading is not None and reading in done:
                    line, reading = reading.result(), None
                    if line is None:
                        lines = None
                    else:
                        await self._send(line)
                if receiving in done:
                    code = await self._handle(receiving.result())
                    if code is not None:
                        return code
                    receiving = asyncio.ensure_future(self._ws.receive())
        finally:
            if reading is not None:
                reading.cancel()
            if not receiving.done():
                await self._ws.close()  # wakes the pending receive() with CLOSING
                await asyncio.gather(receiving, return_exceptions=True)

    def _idle_limit(self, input_done: bool) -> float | None:
        if self._plan.timeout is not None:
            return self._plan.timeout
        if input_done and self._sent and self._plan.stop_after is None:
            return REPLY_WAIT
        return None

    def _timed_out(self) -> int:
        count = self._plan.stop_after
        if count is not None and self._received < count:
            self._env.error(
                f"{self._where}: timed out waiting for message {self._received + 1} of {count}"
            )
            return ExitCode.TIMEOUT
        return ExitCode.OK

    async def _handle(self, msg: Any) -> int | None:
        import client

        kind = msg.type
        if kind in (client.WSMsgType.TEXT, client.WSMsgType.BINARY):
            self._show(msg.data)
            self._received += 1
            if self._plan.stop_after is not None and self._received >= self._plan.stop_after:
                return ExitCode.OK
            return None
        if kind is client.WSMsgType.PING:
            self._note(f"< ping {msg.data!r}")
            await self._ws.pong(msg.data)
            self._note(f"> pong {msg.data!r}")
            return None
        if kind is client.WSMsgType.PONG:
            self._note(f"< pong {msg.data!r}")
            return None
        if kind is client.WSMsgType.CLOSE:
            reason = f" {msg.extra}" if msg.extra else ""
            self._note(f"< close {msg.data}{reason}")
            count = self._plan.stop_after
            if msg.data not in (1000, 1005):  # 1005: a Close frame without a code
                self._env.error(f"{self._where}: the server closed with code {msg.data}{reason}")
                return ExitCode.WS_CLOSED
            if count is not None and self._received < count:  # a script expected more
                self._env.error(
                    f"{self._where}: the server closed after {self._received} of {count} messages"
                )
                return ExitCode.WS_CLOSED
            return ExitCode.OK
        if kind is client.WSMsgType.ERROR:
            exc = msg.data
            if isinstance(exc, client.WebSocketError):
                self._env.error(f"{self._where}: protocol error: {exc} (closed with {exc.code})")
                return ExitCode.WS_PROTOCOL
            raise exc
        # CLOSING/CLOSED: the connection ended without a Close frame from the server
        exc = self._ws.exception()
        cause = f": {exc}" if exc is not None else ""
        self._env.error(f"{self._where}: the connection closed without a Close frame{cause}")
        return ExitCode.NETWORK

    def _note(self, text: str) -> None:
        """-v: a frame event in the style of the request's event log (``<`` received)."""
        if self._verbose:
            self._env.stderr.write(f"{text}\n".encode("utf-8", "replace"))
            self._env.stderr.flush()

    def _show(self, data: str | bytes) -> None:
        if "b" not in self._out.parts:
            return
        stream = self._env.stdout
        if isinstance(data, bytes):
            if self._out.terminal:
                stream.write(f"[binary message: {len(data)} bytes]\n".encode())
            else:
                stream.write(data)
            stream.flush()
            return
        if self._out.terminal and self._out.format:
            data = _pretty(data)
        stream.write(data.encode("utf-8", "replace") + b"\n")
        stream.flush()


def _pretty(text: str) -> str:
    if not text.lstrip().startswith(("{", "[")):
        return text
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):  # too deep to indent: shown as it came
        return text
