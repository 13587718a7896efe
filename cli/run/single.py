"""One request (the usual run): its events rendered as they come, then what the flags add
(``--history``, ``--show-cert``, ``--trace``, ``--report``) and the exit code.

Rules:
- Only the exchange's failures become network exit codes; a failure to write the output
  (a closed pipe) propagates to ``cli.run.app.guarded``.
- A request that failed before anything was seen on the wire is still shown (``-v``) as
  it was planned.
- With ``--retry`` the attempts share one session; only the last one is shown on stdout
  (cli/run/retry.py), and the report lists the others under ``"retries"``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from cli.env import Environment
from cli.exitcodes import ExitCode, Failure, status_exit_code
from cli.messages import Event, RequestMessage, ResponseEnd, ResponseMessage, where
from cli.output.plain import feed
from cli.output.sinks import renderer_for
from cli.run import diagnostics, exchange
from cli.run.plans import RunPlan, SessionPlan
from cli.run.tracing import Tracing

if TYPE_CHECKING:
    from cli.output.report import Report
    from cli.run.retry import Attempt


async def run(env: Environment, plan: RunPlan, report: Report | None) -> int:
    """Send ``plan``'s one request; the exit code."""
    spec, show = plan.requests[0], plan.show
    renderer = renderer_for(env, show.out, plan.body)
    pending: RequestMessage | None = None
    hops: list[tuple[RequestMessage, ResponseMessage]] = []
    body_size: int | None = None
    tracing = Tracing(env, show.trace, reporting=report is not None)
    diagnostics.before(env, show, plan.session.proxy)
    attempts: list[Attempt] = []
    messages = _events(env, plan, renderer.streams, tracing, attempts)
    try:
        while True:
            try:
                msg = await anext(messages)
            except StopAsyncIteration:
                break
            except Exception as exc:  # every engine failure becomes an exit code
                if pending is None:
                    from cli.run.offline import planned_request

                    renderer.message(planned_request(spec))
                failure = _failed(env, plan, exc)
                _report_failure(report, plan, failure, exc, _retries(plan, tracing, attempts))
                await diagnostics.after_failure(env, show, spec.url, exc, failure, hops)
                return failure.code
            if show.all_hops or not getattr(msg, "redirect_hop", False):  # hops with --all
                feed(renderer, msg)
            if isinstance(msg, RequestMessage):
                pending = msg
            elif isinstance(msg, ResponseMessage) and pending is not None:
                hops.append((pending, msg))
            elif isinstance(msg, ResponseEnd) and hops:
                request, response = hops[-1]
                hops[-1] = (request, response._replace(elapsed=msg.elapsed))
                body_size = msg.size
    finally:
        await messages.aclose()
        renderer.close()
        tracing.show()
    diagnostics.after_success(env, show, hops)
    if report is not None and hops:
        from cli.output import report as reporting

        request, response = hops[-1]
        certificate = exchange.certificate_of(response)
        record = reporting.record(request, response, hops[:-1], body_size, certificate)
        record["timings"] = tracing.timings()
        record.update(diagnostics.report_extras(plan.session.proxy))
        record.update(_retries(plan, tracing, attempts))
        report.write(record)
    return _status_code(env, plan.check_status, hops[-1][1] if hops else None)


def _events(
    env: Environment, plan: RunPlan, stream: bool, tracing: Tracing, attempts: list[Attempt]
) -> AsyncGenerator[Event, None]:
    """The exchange's events: once, or with --retry as often as its policy says."""
    spec = plan.requests[0]
    if plan.retry is None:
        return exchange.run(spec, plan.session, stream=stream, trace_configs=tracing.configs)
    return _retried(env, plan, stream, tracing, attempts)


async def _retried(
    env: Environment, plan: RunPlan, stream: bool, tracing: Tracing, attempts: list[Attempt]
) -> AsyncGenerator[Event, None]:
    from cli.run.failures import describe
    from cli.run.retry import Policy, retrying
    from cli.run.session import open_session

    spec, retry = plan.requests[0], plan.retry
    assert retry is not None
    async with open_session(plan.session, tracing.configs, hop_clock=spec.follow) as session:
        events = retrying(
            lambda: exchange.run(spec, plan.session, stream=stream, session=session),
            Policy(retry, spec.method),
            lambda exc: describe(exc, where(spec.url)),
            env.error,
            attempts,
        )
        try:
            async for event in events:
                yield event
        finally:
            await events.aclose()


def _retries(plan: RunPlan, tracing: Tracing, attempts: list[Attempt]) -> dict[str, Any]:
    """The report's ``"retries"``: each attempt before the last, with its timings."""
    if plan.retry is None:
        return {}
    timings = tracing.attempt_timings()
    out = []
    for index, attempt in enumerate(attempts):
        entry = attempt.record()
        entry["timings"] = timings[index] if index < len(timings) else []
        out.append(entry)
    return {"retries": out}


def _failed(env: Environment, plan: RunPlan, exc: Exception) -> Failure:
    from cli.run.failures import describe

    failure = describe(exc, where(plan.requests[0].url))
    if failure.code == ExitCode.TIMEOUT:
        failure = with_limits(failure, plan.session)
    if plan.show.traceback:
        import traceback

        env.stderr.write(traceback.format_exc().encode("utf-8", "replace"))
    env.error(failure.message)
    return failure


def with_limits(failure: Failure, session: SessionPlan) -> Failure:
    """Say which limits were in force, so the user knows which one to raise."""
    limits = [
        f"{flag} {value:g}s"
        for flag, value in (
            ("--timeout", session.timeout),
            ("--connect-timeout", session.connect_timeout),
        )
        if value is not None
    ]
    if not limits:
        return failure
    return failure._replace(message=f"{failure.message} ({', '.join(limits)})")


def _report_failure(
    report: Report | None,
    plan: RunPlan,
    failure: Failure,
    exc: BaseException | None = None,
    retries: dict[str, Any] | None = None,
) -> None:
    if report is None:
        return
    from cli.output import report as reporting

    spec = plan.requests[0]
    record = reporting.failure_record(spec.method, spec.url, failure)
    extras = diagnostics.report_extras(plan.session.proxy, exc)
    report.write({**record, **extras, **(retries or {})})


def _status_code(env: Environment, check_status: bool, final: ResponseMessage | None) -> int:
    if final is None or not check_status:
        return ExitCode.OK
    code = status_exit_code(final.status)
    if code != ExitCode.OK and not env.stdout_isatty:
        env.error(f"warning: HTTP {final.status} {final.reason}")
    return code
