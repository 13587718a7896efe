"""Every failure exit code from a real failure on loopback, with a one-line message.

zurl runs in a worker thread (it calls ``asyncio.run``) while the scripted raw server runs
on the test's loop. Pin mismatch, proxy and redirect-limit failures need flags that later
issues add, so those come from the engine itself and go through ``describe``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

import pytest

import client
from cli.exitcodes import ExitCode
from cli.run.failures import describe
from tests.cli.conftest import UNRESOLVABLE, Result, zurl
from tests.servers.raw import RawConnection


async def in_thread(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


def one_line(result: Result, *needles: str, stdout: bytes = b"") -> None:
    assert result.stdout == stdout
    assert result.err.count("\n") == 1, result.err
    assert result.err.startswith("zurl: ")
    for needle in needles:
        assert needle in result.err, result.err


def test_connection_refused(closed_port: int) -> None:
    result = zurl(f"http://127.0.0.1:{closed_port}/")
    assert result.code == ExitCode.CONNECT
    one_line(result, f"127.0.0.1:{closed_port}", "refused")


def test_name_that_does_not_resolve() -> None:
    result = zurl(f"http://{UNRESOLVABLE}/")
    assert result.code == ExitCode.DNS
    one_line(result, UNRESOLVABLE, "cannot resolve")


async def test_timeout_on_a_stalling_server(raw_server: Any) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\n", 30.0])
    result = await in_thread("--timeout", "0.3", f"{server.url}/")
    assert result.code == ExitCode.TIMEOUT
    one_line(result, f"127.0.0.1:{server.port}", "timed out", "(--timeout 0.3s)")


def test_connect_timeout_on_a_full_accept_queue() -> None:
    """A listener that never accepts, its queue filled: the kernel drops further SYNs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        try:
            for filler in fillers:
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            result = zurl("--connect-timeout", "0.3", f"http://127.0.0.1:{port}/")
        finally:
            for filler in fillers:
                filler.close()
    assert result.code == ExitCode.TIMEOUT
    one_line(result, f"127.0.0.1:{port}", "while connecting", "(--connect-timeout 0.3s)")


async def test_malformed_status_line(raw_server: Any) -> None:
    server = await raw_server([b"HTTP/1.1 banana\r\n\r\n"])
    result = await in_thread(f"{server.url}/")
    assert result.code == ExitCode.MALFORMED
    one_line(result, f"127.0.0.1:{server.port}", "malformed response")


async def test_truncated_body(raw_server: Any) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"])
    result = await in_thread(f"{server.url}/")
    assert result.code == ExitCode.MALFORMED
    # Piped bodies stream: what arrived before the cut is written, as curl does.
    one_line(result, f"127.0.0.1:{server.port}", "missing", stdout=b"short")


async def test_server_closes_without_answering(raw_server: Any) -> None:
    async def hang_up(conn: RawConnection) -> None:
        await conn.read_request()
        conn.abort()

    server = await raw_server(hang_up)
    result = await in_thread(f"{server.url}/")
    assert result.code == ExitCode.NETWORK
    one_line(result, f"127.0.0.1:{server.port}")


async def test_untrusted_certificate(raw_server: Any, server_ssl_context: ssl.SSLContext) -> None:
    server = await raw_server(
        [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], ssl=server_ssl_context
    )
    result = await in_thread(f"https://127.0.0.1:{server.port}/")
    assert result.code == ExitCode.TLS
    one_line(result, f"127.0.0.1:{server.port}", "TLS")


def test_verbose_shows_the_attempted_request(closed_port: int) -> None:
    result = zurl("-v", f"http://127.0.0.1:{closed_port}/x", "a=1")
    assert result.code == ExitCode.CONNECT
    assert result.stdout.startswith(b"POST /x HTTP/1.1\n")
    assert result.stdout.endswith(b'\n\n{"a": "1"}\n')
    # -v adds the event log ("* Connecting to ...") before the one-line error, no traceback.
    lines = result.err.splitlines()
    assert lines[-1].startswith("zurl: cannot connect to 127.0.0.1:")
    assert all(line.startswith("* ") for line in lines[:-1])
    assert "Traceback" not in result.err


def test_traceback_only_when_asked(closed_port: int) -> None:
    plain = zurl(f"http://127.0.0.1:{closed_port}/")
    assert "Traceback" not in plain.err
    verbose = zurl("--traceback", f"http://127.0.0.1:{closed_port}/")
    assert verbose.code == ExitCode.CONNECT
    assert "Traceback (most recent call last)" in verbose.err


# --- failures whose flags come later: the engine's own exceptions ------------------------


async def engine_failure(url: str, **kwargs: Any) -> BaseException:
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientError) as info:
            async with session.get(url, **kwargs) as resp:
                await resp.read()
    return info.value


async def test_pin_mismatch(
    raw_server: Any, server_ssl_context: ssl.SSLContext, client_ssl_context: ssl.SSLContext
) -> None:
    server = await raw_server(
        [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"], ssl=server_ssl_context
    )
    pin = client.Fingerprint(b"\x00" * 32)
    exc = await engine_failure(f"https://127.0.0.1:{server.port}/", ssl=pin)
    failure = describe(exc, f"127.0.0.1:{server.port}")
    assert failure.code == ExitCode.PIN_MISMATCH
    assert f"127.0.0.1:{server.port}" in failure.message


async def test_proxy_unreachable(httpbin: Any, closed_port: int) -> None:
    exc = await engine_failure(f"{httpbin.url}/get", proxy=f"http://127.0.0.1:{closed_port}")
    failure = describe(exc, "127.0.0.1:80")
    assert failure.code == ExitCode.PROXY
    assert "proxy" in failure.message


async def test_too_many_redirects(httpbin: Any) -> None:
    exc = await engine_failure(f"{httpbin.url}/redirect/5", max_redirects=2)
    assert describe(exc, "h:80").code == ExitCode.TOO_MANY_REDIRECTS


def test_anything_else_is_an_internal_error() -> None:
    failure = describe(ZeroDivisionError("boom"), "h:80")
    assert failure.code == ExitCode.INTERNAL
    assert "internal error" in failure.message
    assert "\n" not in failure.message


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (TimeoutError(), ExitCode.TIMEOUT),
        (ConnectionRefusedError(111, "Connection refused"), ExitCode.CONNECT),
        (ssl.SSLError(1, "bad"), ExitCode.TLS),
    ],
)
def test_stdlib_exceptions(exc: BaseException, code: ExitCode) -> None:
    assert describe(exc, "h:80").code == code


def test_failure_in_the_report(closed_port: int, tmp_path: Any) -> None:
    import json

    report = tmp_path / "r.jsonl"
    result = zurl("--report", str(report), f"http://127.0.0.1:{closed_port}/x")
    assert result.code == ExitCode.CONNECT
    obj = json.loads(report.read_text())
    assert obj["status"] is None
    assert obj["exit_code"] == ExitCode.CONNECT
    assert f"127.0.0.1:{closed_port}" in obj["error"]
    assert obj["url"] == f"http://127.0.0.1:{closed_port}/x"
