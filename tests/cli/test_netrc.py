"""netrc: the server's credentials from ~/.netrc ($NETRC), for the host named there only."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.conftest import Result, zurl
from tests.servers.keepalive import KeepAliveServerFactory


async def run(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def sent_authorization(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.stdout)["headers"].get("Authorization")


@pytest.fixture
def netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "netrc"
    path.write_text("machine 127.0.0.1 login alice password s3cret\n")
    monkeypatch.setenv("NETRC", str(path))
    return path


async def test_a_netrc_entry_authenticates_only_its_host(
    keepalive_server: KeepAliveServerFactory, netrc: Path
) -> None:
    server = await keepalive_server()
    other_name = server.url.replace("127.0.0.1", "localhost")
    assert sent_authorization(await run(f"{server.url}/echo")) == basic("alice", "s3cret")
    # The same server under a name netrc does not list: nothing is sent.
    assert sent_authorization(await run(f"{other_name}/echo")) is None
    # Never carried across origins: a redirect to another host gets nothing either.
    hop = f"{server.url}/redirect?to={other_name}/echo"
    assert sent_authorization(await run("-F", hop)) is None


async def test_ignore_netrc_and_explicit_credentials_win(
    keepalive_server: KeepAliveServerFactory, netrc: Path
) -> None:
    server = await keepalive_server()
    assert sent_authorization(await run("--ignore-netrc", f"{server.url}/echo")) is None
    assert sent_authorization(await run("-a", "bob:pw", f"{server.url}/echo")) == basic(
        "bob", "pw"
    )
    bearer = await run("-A", "bearer", "-a", "tok", f"{server.url}/echo")
    assert sent_authorization(bearer) == "Bearer tok"
    header = await run(f"{server.url}/echo", "Authorization:Token x")
    assert sent_authorization(header) == "Token x"


async def test_netrc_without_the_proxy_variables(
    keepalive_server: KeepAliveServerFactory, netrc: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--no-env ignores HTTP_PROXY and friends but still reads netrc (its own switch); the
    credentials are masked in -v like any others."""
    server = await keepalive_server()
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    result = await run("--no-env", "-v", f"{server.url}/echo")
    assert result.code == 0, result.err
    assert "Authorization: Basic ****" in result.stdout.decode()
    assert "s3cret" not in result.stdout.decode() + result.err
