"""WebSocket mode: ``zurl ws://host/path`` and ``wss://``, interactive or one-shot.

Rules:
- The handshake is the HTTP request ``spec`` describes (headers, auth and every
  connection option as for HTTP): it is built by ``build_spec`` from the http(s) form of
  the URL, and sent with the same session and request options ``exchange`` uses.
- What is sent: a first message from data items (``a=1 n:=2`` → ``{"a": "1", "n": 2}``),
  then each ``--ws-send MSG``, or else each line of standard input (a terminal or a
  pipe; never /dev/null or with ``--ignore-stdin``). ``--binary`` sends bytes, not text.
- What is shown: each message as it arrives, on stdout: raw, one per line, when piped;
  JSON pretty-printed on a terminal, and binary messages as a note there. ``-v`` adds
  the connection, pings, pongs and the close on stderr (we answer pings ourselves then).
- When it ends: after ``--ws-count N`` messages; when the server closes; when no message
  arrived for ``--ws-timeout`` seconds (default: 1 s, once everything was sent). Exit 0
  for a close we started or the server's 1000; ``WS_CLOSED``, ``WS_PROTOCOL``,
  ``WS_HANDSHAKE``, ``TIMEOUT`` (count not reached) or a connection code otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from typing import TYPE_CHECKING, Any

from cli.env import Environment
from cli.exitcodes import ExitCode
from cli.output import OutputSpec
from cli.spec import RequestSpec

if TYPE_CHECKING:
    import client
    from cli.app import Options

_WS_SCHEMES = {"ws": "http", "wss": "https"}
_HTTP_SCHEMES = {"http": "ws", "https": "wss"}
# After the last message was sent, how long replies are waited for without --ws-timeout.
REPLY_WAIT = 1.0
# Handshake headers the request items' body would add: meaningless for an upgrade.
_BODY_HEADERS = {"content-type", "content-length"}
# Request options that are ws_connect's own or make no sense for a handshake.
_NOT_FOR_HANDSHAKE = ("headers", "allow_redirects", "data", "chunked", "compress")


def as_http(args: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The arguments with a ws:// or wss:// URL as http(s)://, and whether one was found."""
    for index, word in enumerate(args[:2]):
        scheme, sep, rest = word.partition("://")
        if sep and scheme.lower() in _WS_SCHEMES:
            http = f"{_WS_SCHEMES[scheme.lower()]}://{rest}"
            return (*args[:index], http, *args[index + 1 :]), True
    return args, False


def ws_url(http_url: str) -> str:
    scheme, _, rest = http_url.partition("://")
    return f"{_HTTP_SCHEMES.get(scheme.lower(), scheme)}://{rest}"


def run(env: Environment, opts: Options, spec: RequestSpec, out: OutputSpec) -> int:
    return asyncio.run(_session(env, opts, spec, out))


def _fail(env: Environment, opts: Options, code: int, message: str) -> int:
    if opts.traceback:
        import traceback

        env.stderr.write(traceback.format_exc().encode("utf-8", "replace"))
    env.error(message)
    return code


async def _session(env: Environment, opts: Options, spec: RequestSpec, out: OutputSpec) -> int:
    from multidict import CIMultiDict

    import client
    from cli import exchange
    from cli.failures import describe

    url = ws_url(spec.url)
    where = exchange.where(spec.url)
    headers = CIMultiDict((k, v) for k, v in spec.headers if k.lower() not in _BODY_HEADERS)
    # The same per-request options as HTTP (auth, proxies, TLS, ...) from one place.
    extra = {
        k: v for k, v in exchange._request_options(spec).items() if k not in _NOT_FOR_HANDSHAKE
    }
    async with exchange.open_session(spec) as session:
        try:
            ws = await session.ws_connect(url, headers=headers, autoping=not opts.verbose, **extra)
        except client.WSServerHandshakeError as exc:
            reason = f"HTTP {exc.status}" + (f" {exc.message}" if exc.message else "")
            return _fail(env, opts, ExitCode.WS_HANDSHAKE, f"{where}: handshake refused: {reason}")
        except Exception as exc:  # every engine failure becomes an exit code
            failure = describe(exc, where)
            return _fail(env, opts, failure.code, failure.message)
        if opts.verbose:
            protocol = f" (subprotocol {ws.protocol})" if ws.protocol else ""
            env.error(f"connected to {url}{protocol}")
        try:
            return await Conversation(env, opts, out, ws, where).run(spec.body)
        except Exception as exc:
            failure = describe(exc, where)
            return _fail(env, opts, failure.code, failure.message)
        finally:
            await ws.close()


class _StdinLines:
    """Lines of stdin, read on a daemon thread (a blocking read must never hold up exit)."""

    def __init__(self, env: Environment, loop: asyncio.AbstractEventLoop) -> None:
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._env = env
        self._loop = loop
        threading.Thread(target=self._read, name="zurl-stdin", daemon=True).start()

    def _put(self, line: bytes | None) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone: zurl is exiting
            self._loop.call_soon_threadsafe(self.queue.put_nowait, line)

    def _read(self) -> None:
        try:
            for line in iter(self._env.stdin.readline, b""):
                self._put(line.rstrip(b"\r\n") if line.endswith(b"\n") else line)
        except (OSError, ValueError):
            pass
        self._put(None)


class Conversation:
    """Sends and prints until a stop condition; returns the exit code."""

    def __init__(
        self,
        env: Environment,
        opts: Options,
        out: OutputSpec,
        ws: client.ClientWebSocketResponse,
        where: str,
    ) -> None:
        self._env = env
        self._opts = opts
        self._out = out
        self._ws = ws
        self._where = where
        self._received = 0
        self._sent = 0

    async def _send(self, data: bytes) -> None:
        if self._opts.binary:
            await self._ws.send_bytes(data)
        else:
            await self._ws.send_str(data.decode("utf-8", "replace"))
        self._sent += 1

    def _wants_stdin(self) -> bool:
        env, opts = self._env, self._opts
        return (
            not opts.ws_send and not opts.ignore_stdin and (env.stdin_isatty or env.stdin_has_data)
        )

    async def run(self, first: bytes | None) -> int:
        if first is not None:
            await self._send(first)
        for message in self._opts.ws_send:
            await self._send(message.encode("utf-8"))
        lines = _StdinLines(self._env, asyncio.get_running_loop()) if self._wants_stdin() else None
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
        if self._opts.ws_timeout is not None:
            return self._opts.ws_timeout
        if input_done and self._sent and self._opts.ws_count is None:
            return REPLY_WAIT
        return None

    def _timed_out(self) -> int:
        count = self._opts.ws_count
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
            if self._opts.ws_count is not None and self._received >= self._opts.ws_count:
                return ExitCode.OK
            return None
        if kind is client.WSMsgType.PING:
            self._note(f"< ping {msg.data!r}")
            await self._ws.pong(msg.data)
            return None
        if kind is client.WSMsgType.PONG:
            self._note(f"< pong {msg.data!r}")
            return None
        if kind is client.WSMsgType.CLOSE:
            reason = f" {msg.extra}" if msg.extra else ""
            self._note(f"< close {msg.data}{reason}")
            if msg.data in (1000, 1005):  # normal, or a Close frame without a code
                return ExitCode.OK
            self._env.error(f"{self._where}: the server closed with code {msg.data}{reason}")
            return ExitCode.WS_CLOSED
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
        if self._opts.verbose:
            self._env.error(text)

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
    except ValueError:
        return text
