"""--session and --session-read-only: headers, credentials and cookies kept per host across
runs, in httpie 3.2's layout, read and written both ways with the real httpie."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cli.exitcodes import ExitCode
from tests.cli.conftest import Result, zurl
from tests.servers import skip_or_fail
from tests.servers.keepalive import KeepAliveServerFactory

BASIC = "Basic " + base64.b64encode(b"alice:s3cret").decode()


async def run(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


def echoed(result: Result) -> dict[str, Any]:
    assert result.code == 0, result.err
    headers: dict[str, Any] = json.loads(result.stdout)["headers"]
    return headers


async def test_a_session_keeps_auth_a_header_and_a_cookie(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    server = await keepalive_server()
    config = Path(os.environ["ZURL_CONFIG_DIR"])
    first = await run(
        "--session", "work", "-a", "alice:s3cret", f"{server.url}/set-cookie?sid=abc",
        "X-Team:red", "If-None-Match:x", "Content-Language:en",
    )  # fmt: skip
    assert first.code == 0, first.err
    path = config / "sessions" / f"127.0.0.1_{server.port}" / "work.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["auth"] == {"type": "basic", "raw_auth": "alice:s3cret"}
    # Per-request headers are not kept (httpie's rule), nor zurl's own defaults.
    assert saved["headers"] == [{"name": "X-Team", "value": "red"}]
    (cookie,) = saved["cookies"]
    assert {k: cookie[k] for k in ("name", "value", "domain", "path")} == {
        "name": "sid",
        "value": "abc",
        "domain": "127.0.0.1",
        "path": "/",
    }
    # The next run sends all three without being told.
    again = echoed(await run("--session", "work", f"{server.url}/echo"))
    assert again["Authorization"] == BASIC
    assert again["X-Team"] == "red"
    assert again["Cookie"] == "sid=abc"
    assert "If-None-Match" not in again
    # An item overrides the session's header, and is kept for the runs after.
    assert (
        echoed(await run("--session", "work", f"{server.url}/echo", "X-Team:blue"))["X-Team"]
        == "blue"
    )
    assert echoed(await run("--session", "work", f"{server.url}/echo"))["X-Team"] == "blue"
    # Another host has sessions of its own.
    other = server.url.replace("127.0.0.1", "localhost")
    assert "X-Team" not in echoed(await run("--session", "work", f"{other}/echo"))


async def test_read_only_never_writes(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    server = await keepalive_server()
    path = tmp_path / "s.json"
    first = await run("--session", str(path), f"{server.url}/echo", "X-A:1")
    assert first.code == 0, first.err
    before = path.read_bytes()
    used = await run(
        "--session-read-only", str(path), f"{server.url}/set-cookie?n=v", "X-A:2", "X-B:3"
    )
    assert used.code == 0, used.err
    assert path.read_bytes() == before
    assert echoed(await run("--session-read-only", str(path), f"{server.url}/echo"))["X-A"] == "1"
    missing = tmp_path / "never.json"
    assert (await run("--session-read-only", str(missing), f"{server.url}/echo")).code == 0
    assert not missing.exists()


def test_session_mistakes_are_usage_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    result = zurl("--session", str(bad), ":8000/x")
    assert result.code == ExitCode.USAGE
    assert result.err.startswith(f"zurl: error: --session {bad}: not a session file (not JSON")
    assert bad.read_text() == "{nope"
    assert zurl("--session", "a b", ":8000/x").code == ExitCode.USAGE
    both = zurl("--session", "a", "--session-read-only", "b", ":8000/x")
    assert both.code == ExitCode.USAGE


def httpie(*args: str, config: Path) -> subprocess.CompletedProcess[bytes]:
    try:
        import httpie as _httpie  # noqa: F401
    except ImportError:
        skip_or_fail("httpie is not installed (pip install -e '.[test]')")
    env = {**os.environ, "HTTPIE_CONFIG_DIR": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "httpie", "--ignore-stdin", *args],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )


async def test_an_httpie_session_file_is_read_and_zurls_is_readable_by_httpie(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    server = await keepalive_server()
    theirs = tmp_path / "httpie-session.json"
    made = await asyncio.to_thread(
        httpie,
        f"--session={theirs}",
        "-a",
        "alice:s3cret",
        f"{server.url}/set-cookie?sid=h1",
        "X-Team:green",
        config=tmp_path / "httpie-config",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(theirs.read_text())["__meta__"]["httpie"] == "3.2.4"
    sent = echoed(await run("--session-read-only", str(theirs), f"{server.url}/echo"))
    assert (sent["Authorization"], sent["X-Team"], sent["Cookie"]) == (BASIC, "green", "sid=h1")

    # The other way: httpie reads the session zurl wrote.
    ours = tmp_path / "zurl-session.json"
    written = await run(
        "--session", str(ours), "-a", "bob:pw", f"{server.url}/set-cookie?k=z1", "X-Team:gold"
    )
    assert written.code == 0, written.err
    read = await asyncio.to_thread(
        httpie, f"--session-read-only={ours}", f"{server.url}/echo", config=tmp_path / "hc"
    )
    assert read.returncode == 0, read.stderr
    got = json.loads(read.stdout)["headers"]
    assert got["Authorization"] == "Basic " + base64.b64encode(b"bob:pw").decode()
    assert (got["X-Team"], got["Cookie"]) == ("gold", "k=z1")


async def test_a_named_httpie_session_moves_over(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A named session zurl does not have yet is read from httpie's folder, then kept in
    zurl's (httpie's file is left alone)."""
    server = await keepalive_server()
    httpie_config = tmp_path / "httpie-config"
    monkeypatch.setenv("HTTPIE_CONFIG_DIR", str(httpie_config))
    folder = httpie_config / "sessions" / f"127.0.0.1_{server.port}"
    folder.mkdir(parents=True)
    theirs = folder / "api.json"
    theirs.write_text(
        json.dumps(
            {
                "__meta__": {"about": "HTTPie session file", "httpie": "3.2.4"},
                "auth": {"type": "bearer", "raw_auth": "t0ken"},
                "cookies": [
                    {"name": "s", "value": "1", "domain": "", "path": "/", "secure": False,
                     "expires": None}
                ],
                "headers": [{"name": "X-Old", "value": "yes"}],
            }
        )
    )  # fmt: skip
    result = await run("--session", "api", f"{server.url}/echo")
    sent = echoed(result)
    assert (sent["Authorization"], sent["X-Old"], sent["Cookie"]) == ("Bearer t0ken", "yes", "s=1")
    ours = Path(os.environ["ZURL_CONFIG_DIR"]) / "sessions" / f"127.0.0.1_{server.port}"
    assert f"read from httpie's {theirs}; zurl keeps it in {ours / 'api.json'}" in result.err
    assert json.loads((ours / "api.json").read_text())["auth"]["raw_auth"] == "t0ken"
    assert json.loads(theirs.read_text())["headers"] == [{"name": "X-Old", "value": "yes"}]
