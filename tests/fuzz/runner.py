"""The fuzz loop: a loopback server plays each case's bytes to the engine, many at a time.

Rules:
- One asyncio server on 127.0.0.1 serves every case: the request's path names the case,
  the server writes the case's bytes (write by write) and ends as the case says.
- Each case runs on its own ``ClientSession`` with a total timeout of ``BOUND`` seconds
  and a ``sock_read`` of ``IDLE``: it must end in a response read to its end, a
  ``ClientError`` or one of those timeouts. The result
  is sorted into an outcome: ``ok``, ``error:<ClientError class>``, ``timeout``, or one of
  the failures: ``escape:<exception class>`` (anything else raised), ``hang`` (not over
  ``HANG_AFTER`` seconds after its bound) and ``wrong`` (a control case whose body differs,
  or a body shorter or longer than its plain Content-Length).
- A case that blocks the event loop stops every other one too: a watchdog thread dumps all
  stacks and ends the process if the loop makes no progress for ``STALL`` seconds.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import faulthandler
import socket
import struct
import sys
import time
import traceback

import client
from tests.fuzz.cases import Case, make_case

__all__ = ["Report", "run"]

BOUND = 5.0  # each case's total timeout, seconds
IDLE = 0.5  # and its sock_read: a silent server ends a case this soon
HANG_AFTER = 10.0  # seconds past its bound before a case counts as hung
STALL = 60.0  # seconds without loop progress before the watchdog ends the run
FAILURES = ("escape", "hang", "wrong")


@dataclasses.dataclass
class Report:
    seed: int
    cases: int = 0
    outcomes: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    failures: list[tuple[int, str, str]] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(n for name, n in self.outcomes.items() if name.split(":")[0] in FAILURES)

    def summary(self) -> str:
        lines = [
            f"{self.cases} cases, seed {self.seed}, {self.seconds:.1f} s "
            f"({self.cases / max(self.seconds, 1e-9):.0f} cases/s); failures: {self.failed}"
        ]
        for name, count in sorted(self.outcomes.items(), key=lambda item: -item[1]):
            lines.append(f"  {count:8d}  {name}")
        for index, outcome, detail in self.failures[:20]:
            lines.append(f"  case {index}: {outcome}\n{detail}")
            lines.append(f"    replay: python -m tests.fuzz --seed {self.seed} --case {index}")
        return "\n".join(lines)


class _Server(asyncio.Protocol):
    """One connection: reads request heads, answers each with the case its path names."""

    def __init__(self, seed: int, cases: dict[int, Case]) -> None:
        self._seed = seed
        self._cases = cases
        self._buffer = b""
        self._transport: asyncio.Transport | None = None
        self._busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0 or self._busy:
            return
        head = self._buffer[:end].decode("latin-1")
        self._buffer = b""  # a request body (POST) is small and ignored
        target = head.split(" ", 2)[1]
        index = int(target.rsplit("/", 1)[1])
        case = self._cases.get(index) or make_case(self._seed, index)
        self._busy = True
        asyncio.get_running_loop().create_task(self._play(case))

    async def _play(self, case: Case) -> None:
        transport = self._transport
        if transport is None:
            return
        for piece in case.writes:
            if transport.is_closing():
                return
            transport.write(piece)
            if len(case.writes) > 1:
                await asyncio.sleep(0)
        if case.ending == "fin":
            transport.close()
        elif case.ending == "rst":
            sock = transport.get_extra_info("socket")
            with contextlib.suppress(OSError):  # the client may have closed it already
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        # "open": left as it is; the client's framing or timeout has to end the case

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def _consume(resp: client.ClientResponse, how: str) -> bytes:
    """Read the body as the case says, then touch what a caller reads off a response."""
    if how == "read":
        body = await resp.read()
    elif how == "iter_chunked":
        body = b"".join([piece async for piece in resp.content.iter_chunked(1000)])
    elif how == "iter_any":
        body = b"".join([piece async for piece in resp.content.iter_any()])
    elif how == "iter_chunks":
        body = b"".join([piece async for piece, _end in resp.content.iter_chunks()])
    else:
        body = b"".join([line async for line in resp.content])
    _ = (resp.status, resp.reason, resp.version, resp.headers, resp.raw_headers, resp.url)
    _ = (resp.content_type, resp.charset, resp.content_length, resp.cookies, resp.links)
    if how == "read":
        resp.get_encoding()
    return body


def _check(case: Case, resp: client.ClientResponse, body: bytes) -> str | None:
    """Why a completed response is wrong, or None."""
    if case.expected is not None and body != case.expected:
        return f"control case: body of {len(body)} bytes, expected {len(case.expected)}"
    headers = resp.headers
    plain = "Content-Encoding" not in headers and "Transfer-Encoding" not in headers
    framed = case.method != "HEAD" and resp.status not in (204, 304) and resp.status >= 200
    length = resp.content_length
    if plain and framed and length is not None and len(body) != length:
        return f"Content-Length {length} but a body of {len(body)} bytes"
    return None


async def _one(url: str, case: Case, report: Report) -> None:
    started = time.monotonic()
    detail = ""
    try:
        timeout = client.ClientTimeout(total=BOUND, sock_read=IDLE)
        async with (
            client.ClientSession(timeout=timeout) as session,
            session.request(case.method, f"{url}/case/{case.index}", data=None) as resp,
        ):
            body = await _consume(resp, case.read)
            problem = _check(case, resp, body)
        outcome = "ok" if problem is None else "wrong"
        detail = problem or ""
    except client.ServerTimeoutError:
        outcome = "timeout"
    except client.ClientError as exc:
        outcome = f"error:{type(exc).__name__}"
        cause = exc.__cause__
        if cause is not None and not isinstance(cause, client.ClientError | OSError):
            # A defect caught and wrapped by the connection: still a bug to fix.
            outcome = f"escape:{type(cause).__name__} (wrapped)"
            detail = "".join(traceback.format_exception(cause))
    except (asyncio.CancelledError, KeyboardInterrupt):
        raise
    except BaseException as exc:
        outcome = f"escape:{type(exc).__name__}"
        detail = "".join(traceback.format_exception(exc))
    if time.monotonic() - started > BOUND + HANG_AFTER:
        outcome, detail = "hang", f"ended after {time.monotonic() - started:.1f} s ({outcome})"
    report.outcomes[outcome] += 1
    if outcome.split(":")[0] in FAILURES:
        report.failures.append((case.index, outcome, f"    mutations {case.mutations}\n{detail}"))


async def _run(
    seed: int, indexes: list[int], workers: int, report: Report, watchdog: bool, progress: int
) -> None:
    cases: dict[int, Case] = {}
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Server(seed, cases), "127.0.0.1", 0, backlog=1024)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    queue = iter(indexes)

    async def worker() -> None:
        for index in queue:
            case = cases[index] = make_case(seed, index)
            try:
                await asyncio.wait_for(_one(url, case, report), BOUND + HANG_AFTER)
            except TimeoutError:
                report.outcomes["hang"] += 1
                report.failures.append((index, "hang", f"    mutations {case.mutations}"))
            del cases[index]
            report.cases += 1
            if progress and report.cases % progress == 0:
                print(f"{report.cases} cases, {report.failed} failed", file=sys.stderr)

    async def heartbeat() -> None:
        while True:  # the loop still turns: push the watchdog back
            faulthandler.dump_traceback_later(STALL, exit=True)
            await asyncio.sleep(1.0)

    beat = asyncio.ensure_future(heartbeat() if watchdog else asyncio.sleep(0))
    try:
        await asyncio.gather(*(worker() for _ in range(workers)))
    finally:
        beat.cancel()
        faulthandler.cancel_dump_traceback_later()
        server.close()
        await server.wait_closed()


def run(
    seed: int,
    count: int,
    *,
    start: int = 0,
    workers: int = 32,
    watchdog: bool = True,
    progress: int = 0,
) -> Report:
    """Run cases ``start`` .. ``start + count - 1`` of ``seed``; return what happened.

    ``watchdog=False`` under pytest, whose per-test timeout already ends a stuck run;
    ``progress=N`` prints a line on stderr every N cases.
    """
    report = Report(seed)
    began = time.monotonic()
    indexes = list(range(start, start + count))
    asyncio.run(_run(seed, indexes, workers, report, watchdog, progress))
    report.seconds = time.monotonic() - began
    return report
