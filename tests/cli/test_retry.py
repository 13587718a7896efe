"""--retry: transient failures sent again with backoff and Retry-After, timed by the server;
what is not retried; every attempt in -v, --trace and --report."""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from typing import Any

import pytest

from cli.exitcodes import ExitCode
from cli.run.retry import retry_after
from tests.cli.conftest import Result, zurl
from tests.servers.raw import RawConnection, RawServer, RawServerFactory

pytestmark = pytest.mark.timeout(60)


async def run(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


def answer(status: str, body: bytes = b"", *headers: str) -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


UNAVAILABLE = answer("503 Service Unavailable", b"busy")
OK = answer("200 OK", b"ok")


class Scripted:
    """Answers the N-th request (on any connection) with ``answers[N]`` and keeps the
    server-side time each request arrived."""

    def __init__(self, *answers: bytes) -> None:
        self.answers = answers
        self.stamps: list[float] = []
        self.requests: list[bytes] = []

    async def __call__(self, conn: RawConnection) -> None:
        while True:
            raw = await conn.read_request()
            if not raw:
                return
            self.stamps.append(time.monotonic())
            self.requests.append(raw)
            index = min(len(self.requests), len(self.answers)) - 1
            conn.write(self.answers[index])

    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.stamps, self.stamps[1:], strict=False)]


async def serve(raw_server: RawServerFactory, script: Scripted) -> RawServer:
    return await raw_server(script)


async def test_503s_are_retried_with_backoff_and_retry_after(
    raw_server: RawServerFactory,
) -> None:
    script = Scripted(
        UNAVAILABLE, UNAVAILABLE, answer("503 Service Unavailable", b"", "Retry-After: 2"), OK
    )
    server = await serve(raw_server, script)
    result = await run("--retry", "5", "--retry-delay", "0.2", "--report", "-", server.url)
    assert result.code == 0, result.err
    assert len(script.stamps) == 4
    first, second, third = script.gaps()
    assert first >= 0.2  # --retry-delay
    assert second >= 0.4  # doubled: backoff
    assert third >= 2.0  # Retry-After: 2 replaces the 0.8 s backoff
    record = json.loads(result.stdout)
    assert record["status"] == 200
    retries = record["retries"]
    assert [r["status"] for r in retries] == [503, 503, 503]
    assert [r["waited"] for r in retries] == [0.2, 0.4, 2.0]
    assert [r["retry_after"] for r in retries] == [None, None, 2.0]
    assert all(r["timings"][0]["status"] == 503 for r in retries)
    assert record["timings"][0]["status"] == 200
    assert result.err.splitlines() == [
        "zurl: warning: HTTP 503 Service Unavailable; retrying in 0.2 s (attempt 2 of 6)",
        "zurl: warning: HTTP 503 Service Unavailable; retrying in 0.4 s (attempt 3 of 6)",
        "zurl: warning: HTTP 503 Service Unavailable; retrying in 2 s (Retry-After) "
        "(attempt 4 of 6)",
    ]


async def test_retry_after_as_an_http_date(raw_server: RawServerFactory) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    script = Scripted(answer("429 Too Many Requests", b"", f"Retry-After: {when}"), OK)
    server = await serve(raw_server, script)
    result = await run("--retry", "1", "--retry-delay", "0.05", server.url)
    assert (result.code, result.stdout) == (0, b"ok"), result.err
    (gap,) = script.gaps()
    assert gap >= 1.0  # the date is whole seconds away: at least one of the two


def test_retry_after_values() -> None:
    now = 1_000_000.0
    assert retry_after("120", now) == 120.0
    assert retry_after(email.utils.formatdate(now + 30, usegmt=True), now) == 30.0
    assert retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0.0
    assert retry_after("soon", now) is None
    assert retry_after(None, now) is None


async def test_a_post_is_retried_only_with_retry_all_errors(
    raw_server: RawServerFactory,
) -> None:
    script = Scripted(UNAVAILABLE, OK)
    server = await serve(raw_server, script)
    once = await run("--retry", "3", "--retry-delay", "0.05", "POST", server.url, "a=1")
    assert once.code == 0  # no --check-status: a 503 is a response like any other
    assert once.stdout == b"busy"
    assert len(script.requests) == 1
    assert once.err == (
        "zurl: note: not retried: POST may have acted already (--retry-all-errors retries it)\n"
    )

    script2 = Scripted(UNAVAILABLE, OK)
    server2 = await serve(raw_server, script2)
    again = await run(
        "--retry", "3", "--retry-delay", "0.05", "--retry-all-errors", "POST", server2.url, "a=1"
    )
    assert (again.code, again.stdout) == (0, b"ok"), again.err
    assert len(script2.requests) == 2
    assert all(raw.endswith(b'{"a": "1"}') for raw in script2.requests)  # the body, twice


async def test_not_transient_is_not_retried(raw_server: RawServerFactory) -> None:
    script = Scripted(answer("404 Not Found"), OK)
    server = await serve(raw_server, script)
    result = await run("--retry", "3", "--retry-delay", "0.05", "--check-status", server.url)
    assert result.code == ExitCode.HTTP_4XX
    assert len(script.requests) == 1


async def test_a_refused_connection_is_retried_then_fails(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}/"
    result = await run("--retry", "2", "--retry-delay", "0.05", url)
    assert result.code == ExitCode.CONNECT
    lines = result.err.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"zurl: warning: cannot connect to 127.0.0.1:{closed_port}")
    assert lines[0].endswith("retrying in 0.05 s (attempt 2 of 3)")
    assert lines[1].endswith("retrying in 0.1 s (attempt 3 of 3)")
    assert lines[2] == f"zurl: cannot connect to 127.0.0.1:{closed_port}: Connection refused"
    limited = await run("--retry", "5", "--retry-delay", "1", "--retry-max-time", "0.5", url)
    assert limited.code == ExitCode.CONNECT
    assert "note: not retried: --retry-max-time 0.5 s would pass" in limited.err


async def test_every_attempt_in_the_event_log_and_the_waterfall(
    raw_server: RawServerFactory,
) -> None:
    script = Scripted(UNAVAILABLE, OK)
    server = await serve(raw_server, script)
    result = await run("-v", "--trace", "--retry", "1", "--retry-delay", "0.05", server.url)
    assert result.code == 0, result.err
    assert result.err.count("> GET / HTTP/1.1") == 2
    assert "< HTTP/1.1 503 Service Unavailable" in result.err
    assert "attempt 1 of 2" in result.err and "attempt 2 of 2" in result.err
    # Only the last attempt is on stdout.
    assert result.stdout.count(b"HTTP/1.1 200 OK") == 1
    assert b"503" not in result.stdout


async def test_several_urls_retry_each_on_its_own(raw_server: RawServerFactory) -> None:
    script = Scripted(UNAVAILABLE, OK, OK)
    server = await serve(raw_server, script)
    result = await run(
        "--retry", "2", "--retry-delay", "0.05", "--limit", "1", "--report", "-",
        f"{server.url}/a", f"{server.url}/b",
    )  # fmt: skip
    assert result.code == 0, result.err
    records: list[dict[str, Any]] = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["status"] for r in records] == [200, 200]
    assert [len(r["retries"]) for r in records] == [1, 0]
    assert result.err.startswith("zurl: [1] warning: HTTP 503 Service Unavailable; retrying")


def test_retry_companions_need_retry() -> None:
    for flags in (("--retry-delay", "1"), ("--retry-max-time", "1"), ("--retry-all-errors",)):
        result = zurl(*flags, "--offline", ":8000/x")
        assert result.code == ExitCode.USAGE
        assert result.err == f"zurl: error: {flags[0]} needs --retry N\n"
