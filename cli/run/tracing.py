"""The engine's trace signals, recorded: ``--trace``'s waterfall, ``-v``'s event log, the
report's timings, and the time of each followed redirect.

Rules:
- One ``Recorder`` per run. Its ``TraceConfig`` gives each request a ``RequestTrace``
  (cli/timings.py, the trace_config_ctx) and files every signal on it as it happens;
  listeners (the ``-v`` event log) see every signal too.
- With none of ``--trace``, ``-v`` or a report, no trace config is made and the engine's
  tracing stays off (and unloaded).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from cli.env import Environment
from cli.run.plans import TracePlan

if TYPE_CHECKING:
    import client
    from cli.timings import RequestTrace

# One per received chunk and nothing to time: left unsubscribed, so a traced download of
# a large body costs no handler call per chunk.
UNUSED_SIGNALS = frozenset({"on_response_chunk_received"})

Listener = Callable[["RequestTrace", str, Any], None]


class Recorder:
    """Collects a ``RequestTrace`` per request of a run, in the order requests started."""

    def __init__(self) -> None:
        self.requests: list[RequestTrace] = []
        self.listeners: list[Listener] = []

    def _context(self, trace_request_ctx: Any = None) -> RequestTrace:
        from cli.timings import RequestTrace

        attempt = 1 + sum(1 for r in self.requests if r.label == trace_request_ctx)
        ctx = RequestTrace(label=trace_request_ctx, attempt=attempt)
        self.requests.append(ctx)
        return ctx

    def attempts(self, label: Any) -> list[RequestTrace]:
        """Every trace of the request started with ``trace_request_ctx=label`` (several
        with --retry), in order."""
        return [r for r in self.requests if r.label == label]

    def find(self, label: Any) -> RequestTrace | None:
        """The trace of the request started with ``trace_request_ctx=label`` (its last
        attempt)."""
        found = self.attempts(label)
        return found[-1] if found else None

    def config(self) -> Any:
        """A ``client.TraceConfig`` feeding this recorder (imports the engine)."""
        import client
        from client.tracing import SIGNALS

        config = client.TraceConfig(trace_config_ctx_factory=self._context)
        for signal in SIGNALS:
            if signal not in UNUSED_SIGNALS:
                getattr(config, signal).append(self._handler(signal.removeprefix("on_")))
        return config

    def _handler(self, name: str) -> Callable[[Any, RequestTrace, Any], Any]:
        from cli.timings import record

        listeners = self.listeners

        async def handler(session: Any, ctx: RequestTrace, params: Any) -> None:
            record(ctx, name, params, time.perf_counter())
            for listener in listeners:
                listener(ctx, name, params)

        return handler


class Tracing:
    """What one run asked of the trace signals: ``--trace``, ``-v``'s log, report timings."""

    def __init__(
        self, env: Environment, plan: TracePlan, *, reporting: bool, numbered: bool = False
    ) -> None:
        self.env = env
        self.plan = plan
        self.recorder: Recorder | None = None
        self.configs: tuple[Any, ...] = ()
        if plan.waterfall or plan.event_log or reporting or numbered:
            self.recorder = Recorder()
            self.configs = (self.recorder.config(),)
        if plan.event_log and self.recorder is not None:
            from cli.output.eventlog import EventLog

            log = EventLog(
                env.stderr, show_secrets=plan.show_secrets, numbered=numbered, h2c=plan.h2c
            )
            self.recorder.listeners.append(log)

    def trace(self, label: Any = None) -> RequestTrace | None:
        """The trace of request ``label`` (None: the run's one request), its last attempt."""
        if self.recorder is None:
            return None
        return self.recorder.find(label)

    def timings(self, label: Any = None) -> list[dict[str, Any]]:
        from cli.timings import report_timings

        return report_timings(self.trace(label))

    def attempt_timings(self, label: Any = None) -> list[list[dict[str, Any]]]:
        """--retry: the report timings of each attempt before the last."""
        if self.recorder is None:
            return []
        from cli.timings import report_timings

        return [report_timings(t) for t in self.recorder.attempts(label)[:-1]]

    def show(self, labels: Sequence[Any] | None = None) -> None:
        """``--trace``: the waterfall (or, for ``labels``, the per-request table) on stderr."""
        if not self.plan.waterfall or self.recorder is None:
            return
        from cli.output.waterfall import show

        wanted = labels if labels is not None else [None]
        found = [t for label in wanted for t in self.recorder.attempts(label)]
        if found:
            env = self.env
            show(
                env.stderr,
                found,
                color=self.plan.colors,
                width=env.columns,
                table=bool(labels),
                fit=not env.stderr_isatty,
            )


# Seconds of each followed redirect, by id() of its response, until the exchange reads it
# (a process-wide table, so a session shared by many requests times them all).
_HOP_SECONDS: dict[int, float] = {}


def hop_seconds(response: object) -> float:
    """The time of a redirect hop ``response`` (0.0 when it was not timed). An entry is
    written by every redirect signal, so one left by a collected response is overwritten
    before its id() can be read again."""
    return _HOP_SECONDS.get(id(response), 0.0)


def hop_trace_config() -> client.TraceConfig:
    """Times each hop from trace signals: request start, then each redirect (after that
    hop's response head); a trace context is private to one request."""
    import client

    async def start(session: object, ctx: Any, params: object) -> None:
        ctx.zurl_hop_mark = time.perf_counter()

    async def redirect(
        session: object, ctx: Any, params: client.TraceRequestRedirectParams
    ) -> None:
        now = time.perf_counter()
        _HOP_SECONDS[id(params.response)] = now - getattr(ctx, "zurl_hop_mark", now)
        ctx.zurl_hop_mark = now

    config = client.TraceConfig()
    config.on_request_start.append(start)
    config.on_request_redirect.append(redirect)
    return config
