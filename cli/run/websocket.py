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

import time
from typing import TYPE_CHECKING, Any, BinaryIO

from cli.env import Environment
from cli.exitcodes import ExitCode
from cli.output.plain import OutputSpec
from cli.request.spec import RequestSpec

if TYPE_CHECKING:
    from cli.run.app import Options

_WS_SCHEMES = {"ws": "http", "wss": "https"}
_HTTP_SCHEMES = {"http": "ws", "https": "wss"}
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


def run(
    env: Environment,
    opts: Options,
    spec: RequestSpec,
    out: OutputSpec,
    report: BinaryIO | None = None,
) -> int:
    import asyncio  # only now: plain HTTP runs import this module for as_http alone

    return asyncio.run(_Session(env, opts, spec, out, report).run())


class _Session:
    """The handshake, the conversation, and what --trace and --report say about them."""

    def __init__(
        self,
        env: Environment,
        opts: Options,
        spec: RequestSpec,
        out: OutputSpec,
        report: BinaryIO | None,
    ) -> None:
        from cli.run.exchange import where

        self.env, self.opts, self.spec, self.out, self.report = env, opts, spec, out, report
        self.url = ws_url(spec.url)
        self.where = where(spec.url)
        self.handshake: Any = None  # the 101 response, seen through a trace signal
        self.summary: dict[str, Any] = {"close_code": None, "received": 0, "sent": 0}

    def _fail(self, code: int, message: str) -> int:
        if self.opts.traceback:
            import traceback

            self.env.stderr.write(traceback.format_exc().encode("utf-8", "replace"))
        self.env.error(message)
        if self.report is not None:
            from cli.output import report as reporting
            from cli.run.diagnostics import report_extras
            from cli.run.failures import Failure

            record = reporting.failure_record("GET", self.url, Failure(ExitCode(code), message))
            reporting.write(self.report, {**record, **report_extras(self.spec)})
        return code

    def _trace_config(self) -> Any:
        import client

        async def on_request_end(_session: Any, _ctx: Any, params: Any) -> None:
            self.handshake = params.response

        config = client.TraceConfig()
        config.on_request_end.append(on_request_end)
        return config

    async def run(self) -> int:
        from multidict import CIMultiDict

        import client
        from cli.run import exchange
        from cli.run.failures import describe
        from cli.run.wstalk import Conversation
        from cli.timings import Tracing

        opts, spec = self.opts, self.spec
        tracing = Tracing(self.env, opts, reporting=self.report is not None)
        headers = CIMultiDict((k, v) for k, v in spec.headers if k.lower() not in _BODY_HEADERS)
        # The same per-request options as HTTP (auth, proxies, TLS, ...) from one place.
        extra = {
            k: v for k, v in exchange._request_options(spec).items() if k not in _NOT_FOR_HANDSHAKE
        }
        configs = [*tracing.configs, self._trace_config()]
        started = time.perf_counter()
        async with exchange.open_session(spec, configs) as session:
            try:
                ws = await session.ws_connect(
                    self.url, headers=headers, autoping=not opts.verbose, **extra
                )
            except client.WSServerHandshakeError as exc:
                reason = f"HTTP {exc.status}" + (f" {exc.message}" if exc.message else "")
                tracing.show()
                return self._fail(
                    ExitCode.WS_HANDSHAKE, f"{self.where}: handshake refused: {reason}"
                )
            except Exception as exc:  # every engine failure becomes an exit code
                tracing.show()
                failure = describe(exc, self.where)
                return self._fail(failure.code, failure.message)
            tracing.show()
            if opts.verbose:
                protocol = f" (subprotocol {ws.protocol})" if ws.protocol else ""
                line = f"* WebSocket open: {self.url}{protocol}\n"
                self.env.stderr.write(line.encode("utf-8", "replace"))
            talk = Conversation(self.env, opts, self.out, ws, self.where)
            try:
                code = await talk.run(spec.body)
            except BrokenPipeError:  # stdout's reader went away: app.run exits quietly
                raise
            except Exception as exc:
                failure = describe(exc, self.where)
                code = self._fail(failure.code, failure.message)
            finally:
                await ws.close()
            self.summary = {"close_code": ws.close_code, **talk.counts()}
        self._write_report(tracing, time.perf_counter() - started)
        return code

    def _write_report(self, tracing: Any, elapsed: float) -> None:
        if self.report is None or self.handshake is None:
            return
        from cli.output import report as reporting
        from cli.run import exchange
        from cli.run.diagnostics import report_extras

        request = exchange._request_message(self.handshake, None)
        response = exchange._response_message(self.handshake, b"", elapsed)
        record = reporting.record(request, response, [], None)
        record["url"] = self.url
        record["timings"] = tracing.timings()
        record["websocket"] = self.summary
        record.update(report_extras(self.spec))
        reporting.write(self.report, record)
