"""--cookie-jar (curl's cookies.txt, both ways with the real curl binary) and --cookie,
against loopback servers; a corrupt jar, a failed run and a killed run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

import client
from cli.exitcodes import ExitCode
from tests.cli.conftest import ROOT, ZURL, Result, zurl
from tests.servers import require_binary
from tests.servers.raw import RawConnection, RawServerFactory

pytestmark = pytest.mark.timeout(30)


async def run(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    require_binary("curl")
    return subprocess.run(
        ["curl", "--silent", "--show-error", "--noproxy", "*", *args],
        capture_output=True,
        timeout=20,
        check=True,
    )


def jar_cookies(path: Path) -> dict[str, str]:
    jar = client.CookieJar(unsafe=True)
    jar.load(path)
    return {morsel.key: morsel.value for morsel in jar}


# --- interop with curl ---------------------------------------------------------------------


def test_a_jar_written_by_curl_is_read_and_sent(httpbin: Any, tmp_path: Path) -> None:
    jar = tmp_path / "curl.txt"
    curl("-c", str(jar), f"{httpbin.url}/cookies/set?from_curl=c1")
    assert "from_curl" in jar.read_text()
    result = zurl("--cookie-jar", str(jar), f"{httpbin.url}/cookies")
    assert result.code == 0, result.err
    assert json.loads(result.stdout)["cookies"] == {"from_curl": "c1"}


def test_a_jar_written_by_zurl_is_read_by_curl(httpbin: Any, tmp_path: Path) -> None:
    jar = tmp_path / "zurl.txt"
    result = zurl("--cookie-jar", str(jar), f"{httpbin.url}/cookies/set?from_zurl=z1")
    assert result.code == 0, result.err
    assert jar.stat().st_mode & 0o777 == 0o600
    echoed = curl("-b", str(jar), f"{httpbin.url}/cookies")
    assert json.loads(echoed.stdout)["cookies"] == {"from_zurl": "z1"}


def test_the_jar_keeps_growing_across_runs(httpbin: Any, tmp_path: Path) -> None:
    jar = tmp_path / "jar.txt"
    assert zurl("--cookie-jar", str(jar), f"{httpbin.url}/cookies/set?a=1").code == 0
    assert zurl("-F", "--cookie-jar", str(jar), f"{httpbin.url}/cookies/set?b=2").code == 0
    assert jar_cookies(jar) == {"a": "1", "b": "2"}
    result = zurl("--cookie-jar", str(jar), f"{httpbin.url}/cookies/delete?a")
    assert result.code == 0
    assert jar_cookies(jar) == {"b": "2"}


# --- --cookie ------------------------------------------------------------------------------


def test_cookie_option_is_sent_and_not_saved(httpbin: Any, tmp_path: Path) -> None:
    jar = tmp_path / "jar.txt"
    result = zurl(
        "--cookie",
        "one=1",
        "--cookie",
        "two=2; three=3",
        "--cookie-jar",
        str(jar),
        f"{httpbin.url}/cookies",
    )
    assert result.code == 0, result.err
    assert json.loads(result.stdout)["cookies"] == {"one": "1", "two": "2", "three": "3"}
    assert jar_cookies(jar) == {}


@pytest.mark.parametrize("value", ["novalue", "=x", "a b=1", 'q=x"y'])
def test_bad_cookie_option_is_a_usage_error(value: str) -> None:
    result = zurl("--offline", "--cookie", value, "example.org")
    assert result.code == ExitCode.USAGE
    assert result.err.startswith("zurl: error: --cookie ")
    assert result.err.count("\n") == 1


# --- a corrupt jar, a failed run, a killed run -----------------------------------------------


def test_a_corrupt_jar_is_one_line_and_left_untouched(httpbin: Any, tmp_path: Path) -> None:
    jar = tmp_path / "bad.txt"
    original = b"# Netscape HTTP Cookie File\nexample.org\tFALSE\t/\tFALSE\n"
    jar.write_bytes(original)
    result = zurl("--cookie-jar", str(jar), f"{httpbin.url}/cookies/set?x=1")
    assert result.code == ExitCode.USAGE
    assert result.err.count("\n") == 1
    assert "line 2" in result.err and str(jar) in result.err
    assert jar.read_bytes() == original


def test_a_jar_path_in_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    result = zurl("--offline", "--cookie-jar", str(tmp_path / "no" / "jar.txt"), "example.org")
    assert result.code == ExitCode.USAGE


async def test_cookies_are_saved_when_a_later_hop_fails(
    raw_server: RawServerFactory, tmp_path: Path
) -> None:
    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        if conn.index == 0:
            conn.write(
                b"HTTP/1.1 302 Found\r\nLocation: /slow\r\nSet-Cookie: early=bird; Max-Age=600\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
        else:
            await conn.sleep(20)

    server = await raw_server(script)
    jar = tmp_path / "jar.txt"
    result = await run("-F", "--timeout", "1", "--cookie-jar", str(jar), f"{server.url}/start")
    assert result.code == ExitCode.TIMEOUT
    assert jar_cookies(jar) == {"early": "bird"}


async def _slow_after_cookie(raw_server: RawServerFactory) -> Any:
    """A redirect that sets a cookie, then a response that never comes."""

    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        if conn.index == 0:
            conn.write(
                b"HTTP/1.1 302 Found\r\nLocation: /slow\r\nSet-Cookie: new=1; Max-Age=600\r\n"
                b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )
        else:
            await conn.sleep(25)

    return await raw_server(script)


async def _start(args: list[str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        str(ZURL),
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "NO_PROXY": "*"},
    )


async def _wait_for_second_request(server: Any) -> None:
    async with asyncio.timeout(20):
        while len(server.received) < 2 or b"\r\n\r\n" not in server.received[1]:
            await asyncio.sleep(0.02)


async def test_a_killed_run_leaves_the_jar_as_it_was(
    raw_server: RawServerFactory, tmp_path: Path
) -> None:
    """SIGKILL after cookies arrived, mid-response: the old jar stays whole."""
    jar = tmp_path / "jar.txt"
    lines = "".join(f"127.0.0.1\tFALSE\t/\tFALSE\t0\told{i}\t{'x' * 50}\n" for i in range(2000))
    jar.write_text("# Netscape HTTP Cookie File\n" + lines)
    original = jar.read_bytes()
    server = await _slow_after_cookie(raw_server)
    proc = await _start(["-F", "--cookie-jar", str(jar), f"{server.url}/start"])
    try:
        await _wait_for_second_request(server)
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert jar.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["jar.txt"]


async def test_ctrl_c_after_cookies_arrived_saves_them(
    raw_server: RawServerFactory, tmp_path: Path
) -> None:
    jar = tmp_path / "jar.txt"
    server = await _slow_after_cookie(raw_server)
    proc = await _start(["-F", "--cookie-jar", str(jar), f"{server.url}/start"])
    try:
        await _wait_for_second_request(server)
        proc.send_signal(signal.SIGINT)
        _, stderr = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED
    assert stderr.decode() == "zurl: interrupted\n"
    assert jar_cookies(jar) == {"new": "1"}


async def test_kills_at_any_moment_never_leave_a_torn_jar(
    raw_server: RawServerFactory, tmp_path: Path
) -> None:
    """Kill runs that save a large jar at staggered moments: every file left is whole."""

    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        # 50 cookies (the most the engine takes from one response), ~52 KB: each run
        # replaces the last run's, its values marked with the run's number.
        value = f"{conn.index}" + "v" * 1000
        cookies = "".join(f"Set-Cookie: c{i}={value}\r\n" for i in range(50))
        conn.write(
            f"HTTP/1.1 200 OK\r\n{cookies}Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )

    server = await raw_server(script)
    jar = tmp_path / "jar.txt"
    for attempt in range(6):
        proc = await _start(["--cookie-jar", str(jar), f"{server.url}/set"])
        try:
            async with asyncio.timeout(20):
                while len(server.received) <= attempt:
                    await asyncio.sleep(0.005)
            await asyncio.sleep(0.01 * attempt)
            with contextlib.suppress(ProcessLookupError):  # it may be done: a whole save
                proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(proc.wait(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        if jar.exists():
            jar_cookies(jar)  # loads, or raises: a torn file would not parse
            lines = jar.read_text().splitlines()
            entries = [ln for ln in lines if ln and not ln.startswith("# ")]
            assert all(entry.count("\t") == 6 for entry in entries)
            assert len(entries) == 50  # one whole run's cookies, never part of one
            assert len({entry.rsplit("\t", 1)[1] for entry in entries}) == 1
    for leftover in tmp_path.iterdir():
        assert leftover.name == "jar.txt" or leftover.name.startswith(".cookies-")


def test_headers_are_what_the_server_receives(tmp_path: Path) -> None:
    """--offline shows the Cookie header --cookie builds, merged with a Cookie item."""
    result = zurl("--offline", "--show-secrets", "--cookie", "b=2", "example.org", "Cookie:a=1")
    head = result.stdout.decode()
    assert "Cookie: a=1; b=2\n" in head
    masked = zurl("--offline", "--cookie", "b=2", "example.org", "Cookie:a=1")
    assert "Cookie: a=****; b=****\n" in masked.stdout.decode()
