"""Runs one ``RunPlan``: ``--offline``, one request, many, or a WebSocket; every failure
ends as one line on stderr and an exit code.

Rules:
- ``guarded`` is the one place where an exception becomes an exit code: a usage error is
  2, an ``ExitError`` its own code, Ctrl-C 130, a vanished stdout reader 18 (quietly), and
  anything else a one-line internal error (the traceback only with ``--traceback``).
- asyncio is imported only once there is something to send: ``--offline`` and usage errors
  never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, BinaryIO

from cli.env import Environment
from cli.exitcodes import ExitCode, ExitError, UsageError
from cli.run.plans import RunPlan

if TYPE_CHECKING:
    from cli.output.report import Report


def guarded(env: Environment, body: Callable[[], int], *, traceback: bool = False) -> int:
    """``body()``'s exit code, or the exit code of what it raised."""
    try:
        return body()
    except UsageError as exc:
        env.error(f"error: {exc}")
        return ExitCode.USAGE
    except ExitError as exc:  # a download or WebSocket failure with its own code
        env.error(f"error: {exc}")
        return exc.code
    except KeyboardInterrupt:
        env.error("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``zurl URL | head``): stop quietly. Point stdout at
        # /dev/null so the interpreter's final flush does not complain again.
        _silence(env.stdout)
        return ExitCode.OUTPUT
    except Exception as exc:  # a bug in zurl: one line, or the traceback when asked
        if traceback:
            import traceback as tb

            env.stderr.write(tb.format_exc().encode("utf-8", "replace"))
        env.error(f"internal error: {type(exc).__name__}: {exc} (a bug; --traceback shows where)")
        return ExitCode.INTERNAL


def _silence(stream: BinaryIO) -> None:
    import os

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def run(env: Environment, plan: RunPlan) -> int:
    """Carry out ``plan``; the exit code."""
    if plan.offline:
        from cli.run import offline

        return offline.show(env, plan.requests, plan.show.out)
    import asyncio  # only now: --offline and usage errors never pay for it

    report = _open_report(plan.report, env, plan.show.show_secrets)
    try:
        if plan.websocket is not None:
            from cli.run import websocket

            return websocket.run(env, plan, plan.websocket, report)
        if plan.multi:
            from cli.run import multi

            return asyncio.run(multi.run_all(env, plan, report))
        from cli.run import single

        return asyncio.run(single.run(env, plan, report))
    finally:
        if report is not None and report.stream is not env.stdout:
            report.stream.close()


def _open_report(path: str | None, env: Environment, show_secrets: bool) -> Report | None:
    if path is None:
        return None
    from cli.output.report import Report

    if path == "-":
        return Report(env.stdout, show_secrets=show_secrets)
    try:
        stream = open(path, "wb")  # noqa: SIM115 (closed by run())
    except OSError as exc:
        raise UsageError(f"--report {path!r}: {exc.strerror or exc}") from None
    return Report(stream, show_secrets=show_secrets)
