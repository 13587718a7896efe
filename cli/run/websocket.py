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
from typing import TYPE_CHECKING, Any

from cli.env import Environment
from cli.exitcodes import ExitCode
from cli.masking import mask_url
from cli.messages import where
from cli.request.urls import ws_url
from cli.run.plans import RunPlan, WebSocketPlan

# Handshake headers the request items' body would add: meaningless for an upgrade.
_BODY_HEADERS = {"content-type", "content-length"}
# Request options that are ws_connect's own or make no sense for a handshake.
_NOT_FOR_HANDSHAKE = ("headers", "allow_redirects", "data", "chunked", "compress")

if TYPE_CHECKING:
    from cli.output.report import Report


def run(env: Environment, plan: RunPlan, ws: WebSocketPlan, report: Report | None) -> int:
    import asyncio

    return asyncio.run(_Session(env, plan, ws, report).run())


class _Session:
    """The handshake, the conversation, and what --trace and --report say about them."""

    def __init__(
        self, env: Environment, plan: RunPlan, ws: WebSocketPlan, report: Report | None
    ) -> None:
        self.env, self.plan, self.ws, self.report = env, plan, ws, report
        self.spec = plan.requests[0]
        self.url = ws_url(self.spec.url)
        self.where = where(self.spec.url)
        self.handshake: Any = None  # the 101 response, seen through a trace signal
        self.summary: dict[str, Any] = {"close_code": None, "received": 0, "sent": 0}

    def _fail(self, code: int, message: str) -> int:
        if self.plan.show.traceback:
            import traceback

            self.env.stderr.write(traceback.format_exc().encode("utf-8", "replace"))
        self.env.error(message)
        if self.report is not None:
            from cli.exitcodes import Failure
            from cli.output import report as reporting
            from cli.run.diagnostics import report_extras

            record = reporting.failure_record("GET", self.url, Failure(ExitCode(code), message))
            self.report.write({**record, **report_extras(self.plan.session.proxy)})
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
        from cli.run.failures import describe
        from cli.run.session import open_session, request_options
        from cli.run.tracing import Tracing
        from cli.run.wstalk import Conversation

        plan, spec, show = self.plan, self.spec, self.plan.show
        tracing = Tracing(self.env, show.trace, reporting=self.report is not None)
        headers = CIMultiDict((k, v) for k, v in spec.headers if k.lower() not in _BODY_HEADERS)
        # The same per-request options as HTTP (auth, proxies, TLS, ...) from one place.
        options = request_options(spec, plan.session)
        extra = {k: v for k, v in options.items() if k not in _NOT_FOR_HANDSHAKE}
        configs = [*tracing.configs, self._trace_config()]
        verbose = show.trace.event_log
        started = time.perf_counter()
        async with open_session(plan.session, configs) as session:
            try:
                ws = await session.ws_connect(
                    self.url, headers=headers, autoping=not verbose, **extra
                )
            except client.WSServerHandshakeError as exc:
                reason = _refusal(exc.status, exc.message)
                tracing.show()
                return self._fail(
                    ExitCode.WS_HANDSHAKE, f"{self.where}: handshake refused: {reason}"
                )
            except Exception as exc:  # every engine failure becomes an exit code
                tracing.show()
                failure = describe(exc, self.where)
                return self._fail(failure.code, failure.message)
            tracing.show()
            if verbose:
                protocol = f" (subprotocol {ws.protocol})" if ws.protocol else ""
                shown = mask_url(self.url, show=show.show_secrets)
                line = f"* WebSocket open: {shown}{protocol}\n"
                self.env.stderr.write(line.encode("utf-8", "replace"))
            talk = Conversation(self.env, self.ws, show.out, ws, self.where, verbose=verbose)
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

        request = exchange.request_message(self.handshake, None)
        response = exchange.response_message(self.handshake, b"", elapsed)
        certificate = exchange.certificate_of(response)
        record = reporting.record(request, response, [], None, certificate)
        record["url"] = self.url
        record["timings"] = tracing.timings()
        record["websocket"] = self.summary
        record.update(report_extras(self.plan.session.proxy))
        self.report.write(record)


def _refusal(status: int, message: str) -> str:
    """Why the handshake failed, in words: the status the server answered instead of 101,
    or what was wrong with its 101 (the engine's message)."""
    if status != 101:
        from http import HTTPStatus

        try:
            phrase = f" {HTTPStatus(status).phrase}"
        except ValueError:
            phrase = ""
        return f"the server answered HTTP {status}{phrase}, not 101 Switching Protocols"
    return f"HTTP 101 with {message[:1].lower()}{message[1:]}" if message else "HTTP 101"
