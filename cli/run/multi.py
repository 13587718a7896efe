"""Many requests in one run (several URLs, ``--urls-from``, ``--repeat``; the grammar is
cli/request/targets.py's), on one session.

Rules:
- Every request starts at once on one shared session; the connector's limits (``--limit``,
  ``--limit-per-host``) decide how many run together, the rest wait in its queue.
- Output keeps the command line's order: each response is rendered when it and all the
  ones before it are done. With ``--summary`` only the table is printed (on stdout).
- Every failed request is reported: one stderr line per distinct message, in the order
  they first happened (with a count); with ``--check-status`` a 3xx/4xx/5xx response is a
  failure too. The exit code is the first failed request's, in command-line order.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from typing import TYPE_CHECKING, Any

from cli.env import Environment
from cli.exitcodes import ExitCode, Failure, status_exit_code
from cli.messages import Event, RequestMessage, ResponseEnd, ResponseMessage, where
from cli.request.spec import RequestSpec
from cli.run.plans import RunPlan, ShowPlan
from cli.run.tracing import Tracing

if TYPE_CHECKING:
    from cli.output.progress import RequestsProgress
    from cli.output.report import Report
    from cli.output.summary import Outcome

# At most this many requests are handed to the pool at once, so a file of a million URLs
# does not become a million waiting tasks (the pool's own limit is usually far lower).
IN_FLIGHT = 1000


@dataclasses.dataclass(slots=True)
class Result:
    index: int  # 1-based, the order of the command line
    spec: RequestSpec
    events: list[Event]
    failure: Failure | None = None
    attempts: list[Any] = dataclasses.field(default_factory=list)  # --retry: cli.run.retry

    def hops(self) -> list[tuple[RequestMessage, ResponseMessage]]:
        pairs: list[tuple[RequestMessage, ResponseMessage]] = []
        pending: RequestMessage | None = None
        for event in self.events:
            if isinstance(event, RequestMessage):
                pending = event
            elif isinstance(event, ResponseMessage) and pending is not None:
                pairs.append((pending, event))
        return pairs

    def body_size(self) -> int:
        ends = [e.size for e in self.events if isinstance(e, ResponseEnd)]
        hops = self.hops()
        return ends[-1] if ends else len(hops[-1][1].body) if hops else 0


async def _one(
    env: Environment,
    session: Any,
    plan: RunPlan,
    index: int,
    spec: RequestSpec,
    gate: asyncio.Semaphore,
) -> Result:
    from cli.run import exchange
    from cli.run.failures import describe

    result = Result(index, spec, [])

    def start() -> Any:
        return exchange.run(spec, plan.session, session=session, trace_request_ctx=index)

    async with gate:
        try:
            if plan.retry is None:
                events = start()
            else:
                from cli.run.retry import Policy, retrying

                events = retrying(
                    start,
                    Policy(plan.retry, spec.method),
                    lambda exc: describe(exc, where(spec.url)),
                    lambda line: env.error(f"[{index}] {line}"),
                    result.attempts,
                )
            async for event in events:
                result.events.append(event)
        except Exception as exc:  # every engine failure becomes that request's failure
            result.failure = describe(exc, where(spec.url))
    return result


async def run_all(env: Environment, plan: RunPlan, report: Report | None) -> int:
    """Send every request concurrently; render, report and summarise them in order."""
    from cli.output.plain import feed, make_renderer
    from cli.run.session import open_session

    show, specs = plan.show, plan.requests
    tracing = Tracing(env, show.trace, reporting=True, numbered=True)
    renderer = None if show.summary else make_renderer(env.stdout, show.out, env.columns)
    results: list[Result] = []
    gate = asyncio.Semaphore(IN_FLIGHT)
    hop_clock = specs[0].follow
    async with open_session(plan.session, tracing.configs, hop_clock=hop_clock) as session:
        tasks = [
            asyncio.ensure_future(_one(env, session, plan, index, spec, gate))
            for index, spec in enumerate(specs, 1)
        ]
        progress = _progress(env, show, len(tasks))
        try:
            for task in tasks:
                if progress is not None:
                    task.add_done_callback(progress.advance)
            for task in tasks:
                result = await task
                results.append(result)
                if progress is not None:
                    progress.at_least(len(results))
                if renderer is not None:
                    for event in result.events:
                        feed(renderer, event)
        finally:
            if progress is not None:
                progress.stop()
            if renderer is not None:
                renderer.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return _finish(env, plan, report, results, tracing)


def _finish(
    env: Environment,
    plan: RunPlan,
    report: Report | None,
    results: list[Result],
    tracing: Tracing,
) -> int:
    from cli.output import summary

    tracing.show([r.index for r in results])
    outcomes = [_outcome(r, tracing) for r in results]
    rows = summary.summarize(outcomes)
    if report is not None:
        _write_report(report, results, tracing, plan.retry is not None)
        if plan.show.summary:
            report.write(summary.report_object(rows))
    if plan.show.summary and (report is None or report.stream is not env.stdout):
        summary.show(
            env.stdout,
            rows,
            color=plan.show.out.colors,
            width=env.columns,
            fit=not env.stdout_isatty,
        )
    failed = [(r, _failure(r, plan.check_status)) for r in results]
    lines = Counter(failure.message for _result, failure in failed if failure is not None)
    for message, count in lines.items():  # a Counter keeps the order of first sight
        env.error(message if count == 1 else f"{message} ({count} requests)")
    return next((f.code for _result, f in failed if f is not None), ExitCode.OK)


def _outcome(result: Result, tracing: Tracing) -> Outcome:
    from cli.output.summary import Outcome

    trace = tracing.trace(result.index)
    hops = trace.hops if trace is not None else []
    latency = sum(h.phases()["total"] - h.phases()["queue"] for h in hops)
    # A hop counts a connection once it had one: a refused connect opened nothing.
    reused = tuple(bool(h.reused) for h in hops if h.reused is not None and h.ready is not None)
    pairs = result.hops()
    if result.failure is not None or not pairs:
        error = result.failure.message if result.failure is not None else "no response"
        return Outcome(where(result.spec.url), None, error, latency, 0, reused)
    final = pairs[-1][1]
    if not hops:  # tracing was off: fall back to the wall-clock time
        latency = final.elapsed
    http2 = sum(1 for _request, response in pairs if response.http_version == "2")
    return Outcome(
        where(result.spec.url), final.status, None, latency, result.body_size(), reused, http2
    )


def _write_report(
    report: Report, results: list[Result], tracing: Tracing, retrying: bool = False
) -> None:
    from cli.output import report as reporting
    from cli.run.exchange import certificate_of

    for result in results:
        pairs = result.hops()
        retries: dict[str, Any] = {}
        if retrying:
            timings = tracing.attempt_timings(result.index)
            retries["retries"] = [
                {**a.record(), "timings": timings[i] if i < len(timings) else []}
                for i, a in enumerate(result.attempts)
            ]
        if result.failure is not None or not pairs:
            failure = result.failure
            if failure is None:
                continue
            record = reporting.failure_record(result.spec.method, result.spec.url, failure)
            report.write({**record, **retries})
            continue
        request, response = pairs[-1]
        certificate = certificate_of(response)
        record = reporting.record(request, response, pairs[:-1], result.body_size(), certificate)
        record["timings"] = tracing.timings(result.index)
        report.write({**record, **retries})


def _failure(result: Result, check_status: bool) -> Failure | None:
    """How ``result`` failed: no response, or with ``--check-status`` its status."""
    if result.failure is not None or not check_status:
        return result.failure
    pairs = result.hops()
    if not pairs:
        return None
    final = pairs[-1][1]
    code = status_exit_code(final.status)
    if code == ExitCode.OK:
        return None
    return Failure(code, f"warning: HTTP {final.status} {final.reason} from {final.url}".rstrip())


def _progress(env: Environment, show: ShowPlan, total: int) -> RequestsProgress | None:
    """Only on a terminal, and only when nothing else writes to that terminal meanwhile."""
    quiet_stdout = show.summary or not env.stdout_isatty or not show.out.parts
    if not env.stderr_isatty or not show.progress or total < 2 or not quiet_stdout:
        return None
    from cli.output.progress import RequestsProgress

    return RequestsProgress(env, total)
