"""``--retry N``: whole exchanges sent again after a transient failure, as curl does.

Rules:
- Transient (curl's list, plus refused and reset connections): a timeout, a refused or
  reset connection, and the statuses 408, 429, 500, 502, 503 and 504 of the final response.
  ``--retry-all-errors`` adds every other failure and every status from 400 up.
- Only methods that may be repeated (RFC 9110 §9.2.2: GET, HEAD, PUT, DELETE, OPTIONS,
  TRACE) are retried, unless ``--retry-all-errors``: a POST may have acted already. A
  refused connection is retried for any method: nothing reached the server.
- The waits double: ``--retry-delay`` (1 s by default), then twice that, and so on, up to
  10 minutes. A ``Retry-After`` (seconds or an HTTP-date) replaces the computed wait; one
  over 10 minutes is not waited for. ``--retry-max-time S``: no attempt starts, and no
  wait is begun, that would end more than S seconds after the first attempt began.
- An attempt is judged before anything of its response was shown: the events of a
  failed attempt are dropped (the engine's trace signals still saw it: ``-v``, ``--trace``
  and ``--report`` show every attempt); once the response is being shown it is final (a
  body cut short while streamed to a file is not sent again).
- Each retry is announced on stderr, with the reason and the wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable
from typing import Any, NamedTuple

from cli.exitcodes import ExitCode, Failure
from cli.messages import Event, ResponseMessage, header

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
TRANSIENT_FAILURES = frozenset({ExitCode.TIMEOUT, ExitCode.CONNECT, ExitCode.NETWORK})
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"})
LONGEST_WAIT = 600.0  # curl's backoff ceiling: 10 minutes


class RetryPlan(NamedTuple):
    """--retry, --retry-delay, --retry-max-time, --retry-all-errors."""

    retries: int  # how many times an exchange may be sent again
    delay: float = 1.0  # the first wait, doubled for each next one
    max_time: float | None = None
    all_errors: bool = False


class Attempt(NamedTuple):
    """An attempt that failed and is followed by another."""

    number: int  # 1 for the first
    reason: str  # "HTTP 503 Service Unavailable", or the failure's line
    wait: float  # seconds slept before the next attempt
    status: int | None = None
    exit_code: int | None = None  # a failure's (None for a status)
    retry_after: float | None = None  # what the server asked for, in seconds

    def line(self, total: int) -> str:
        after = " (Retry-After)" if self.retry_after is not None else ""
        return (
            f"warning: {self.reason}; retrying in {self.wait:g} s{after} "
            f"(attempt {self.number + 1} of {total})"
        )

    def record(self) -> dict[str, Any]:
        """The report's entry for this attempt (``"retries"``)."""
        return {
            "attempt": self.number,
            "status": self.status,
            "error": self.reason if self.status is None else None,
            "exit_code": self.exit_code,
            "retry_after": self.retry_after,
            "waited": round(self.wait, 3),
        }


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds from now (RFC 9110 §10.2.3): delay-seconds or an
    HTTP-date; None when absent or unreadable, 0 for a date already past."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    import email.utils

    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None  # an HTTP-date is always GMT; a date without a zone is no HTTP-date
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Policy:
    """When an exchange is sent again, and after how long."""

    def __init__(self, plan: RetryPlan, method: str) -> None:
        self.plan = plan
        self.method = method
        self.started = time.monotonic()
        self.note = ""  # why a failure that is transient was not retried

    @property
    def total(self) -> int:
        return self.plan.retries + 1

    def _allowed(self, number: int, transient: bool, unsent: bool = False) -> bool:
        if number > self.plan.retries or not (transient or self.plan.all_errors):
            return False
        if self.method not in IDEMPOTENT and not self.plan.all_errors and not unsent:
            self.note = (
                f"note: not retried: {self.method} may have acted already "
                "(--retry-all-errors retries it)"
            )
            return False
        return True

    def _wait(self, number: int, asked: float | None) -> float | None:
        wait = asked if asked is not None else self.plan.delay * 2 ** (number - 1)
        if asked is not None and asked > LONGEST_WAIT:
            self.note = f"note: not retried: the server asks for {asked:g} s (Retry-After)"
            return None
        wait = min(wait, LONGEST_WAIT)
        limit = self.plan.max_time
        if limit is not None and time.monotonic() - self.started + wait > limit:
            self.note = f"note: not retried: --retry-max-time {limit:g} s would pass"
            return None
        return wait

    def after_response(self, number: int, response: ResponseMessage) -> Attempt | None:
        status = response.status
        transient = status in TRANSIENT_STATUSES
        if not (transient or (self.plan.all_errors and status >= 400)):
            return None
        if not self._allowed(number, transient):
            return None
        asked = retry_after(header(response.headers, "Retry-After"))
        wait = self._wait(number, asked)
        if wait is None:
            return None
        reason = f"HTTP {status} {response.reason}".rstrip()
        return Attempt(number, reason, wait, status=status, retry_after=asked)

    def after_failure(self, number: int, failure: Failure) -> Attempt | None:
        if failure.code in (ExitCode.USAGE, ExitCode.INTERNAL, ExitCode.INTERRUPTED):
            return None
        transient = failure.code in TRANSIENT_FAILURES
        if not self._allowed(number, transient, unsent=failure.code == ExitCode.CONNECT):
            return None
        wait = self._wait(number, None)
        if wait is None:
            return None
        return Attempt(number, failure.message, wait, exit_code=int(failure.code))


async def retrying(
    start: Callable[[], AsyncGenerator[Event, None]],
    policy: Policy,
    describe: Callable[[BaseException], Failure],
    say: Callable[[str], None],
    attempts: list[Attempt],
) -> AsyncGenerator[Event, None]:
    """The events of ``start()``'s exchange, sent again by ``policy`` after a transient
    failure. Each retry is said (one stderr line) and added to ``attempts``; so is why a
    transient failure was not retried."""
    number = 1
    while True:
        events = start()
        held: list[Event] = []
        shown = False
        attempt: Attempt | None = None
        try:
            async for event in events:
                if shown:
                    yield event
                    continue
                held.append(event)
                if isinstance(event, ResponseMessage) and not event.redirect_hop:
                    attempt = policy.after_response(number, event)
                    if attempt is not None:
                        break
                    if policy.note:
                        say(policy.note)
                    shown = True
                    for kept in held:
                        yield kept
                    held = []
            else:
                for kept in held:
                    yield kept
                return
        except Exception as exc:  # an engine failure: sent again when it is transient
            if shown:
                raise
            attempt = policy.after_failure(number, describe(exc))
            if attempt is None:
                if policy.note:
                    say(policy.note)
                raise
        finally:
            await events.aclose()
        attempts.append(attempt)
        say(attempt.line(policy.total))
        await asyncio.sleep(attempt.wait)
        number += 1
