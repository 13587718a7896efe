"""``-v``'s curl-like event log on stderr: built from the trace signals, secrets masked."""

from __future__ import annotations

import asyncio
import io
import ssl
from typing import Any

import pytest

import client
from cli.masking import mask_header, mask_url
from cli.output.eventlog import EventLog
from cli.run.tracing import Recorder
from tests.cli.conftest import Result, zurl
from tests.servers.keepalive import KeepAliveServerFactory

pytestmark = pytest.mark.timeout(60)


async def run(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


def events(result: Result) -> list[str]:
    return result.err.splitlines()


async def test_plain_request_log(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    result = await run("-v", f"{server.url}/echo", "q==1")
    assert result.code == 0, result.err
    lines = events(result)
    assert lines[0] == f"* Connecting to 127.0.0.1 port {server.port}"
    assert lines[1] == f"* Connected to 127.0.0.1 (127.0.0.1) port {server.port}"
    assert lines[2] == "> GET /echo?q=1 HTTP/1.1"
    assert f"> Host: 127.0.0.1:{server.port}" in lines
    started = next(i for i, line in enumerate(lines) if line.startswith("* Response started"))
    assert lines[started - 1] == "* Request sent"
    assert "< HTTP/1.1 200 OK" in lines
    assert lines[-1].startswith("* Response complete: ")
    # The httpie-style exchange on stdout is unchanged.
    assert result.stdout.startswith(b"GET /echo?q=1 HTTP/1.1\n")


async def test_secrets_are_masked_unless_asked(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    args = ("-v", "-a", "user:hunter2", f"{server.url}/echo", "Cookie:sid=abc; theme=dark")
    masked = await run(*args, "X-Api-Token:t0ken")
    assert masked.code == 0, masked.err
    assert "> Authorization: Basic ****" in events(masked)
    assert "> Cookie: sid=****; theme=****" in events(masked)
    assert "> X-Api-Token: ****" in events(masked)
    for secret in ("hunter2", "dXNlcjpodW50ZXIy", "abc", "t0ken"):
        assert secret not in masked.err
    clear = await run(*args, "--show-secrets")
    assert "> Authorization: Basic dXNlcjpodW50ZXIy" in events(clear)
    assert "> Cookie: sid=abc; theme=dark" in events(clear)


async def test_reused_connection_and_multi_numbering(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    result = await run("-v", "-q", "--repeat", "2", "--limit", "1", f"{server.url}/")
    assert result.code == 0, result.err
    lines = events(result)
    assert all(line.startswith(("[1] ", "[2] ")) for line in lines), lines
    second = [line.removeprefix("[2] ") for line in lines if line.startswith("[2] ")]
    assert "* Waiting for a free connection (the pool is at its limit)" in second
    assert f"* Re-using an existing connection for {server.url}/" in second
    assert not any(line.startswith("* Connecting") for line in second)


async def test_request_body_size(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    result = await run("-v", "-q", f"{server.url}/echo", "a=1")
    assert "* Request sent with a 10-byte body" in events(result)


async def test_redirect_line(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    result = await run("-v", "-q", "--follow", f"{server.url}/redirect?to=/echo")
    lines = events(result)
    assert "< HTTP/1.1 302 Found" in lines
    assert "* Redirect to /echo" in lines
    assert "> GET /echo HTTP/1.1" in lines


async def test_tls_established_line(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    stream = io.BytesIO()
    recorder = Recorder()
    recorder.listeners.append(EventLog(stream))
    connector = client.TCPConnector(ssl=client_ssl_context)
    async with client.ClientSession(connector=connector, trace_configs=[recorder.config()]) as s:
        async with s.get(f"{server.url}/") as resp:
            await resp.read()
    lines = stream.getvalue().decode().splitlines()
    assert "* TLS handshake, server name 127.0.0.1" in lines
    (established,) = [line for line in lines if line.startswith("* TLS established: ")]
    version, _, cipher = established.removeprefix("* TLS established: ").partition(" with ")
    assert version.startswith("TLSv1.") and cipher


async def test_refused_connection_line(closed_port: int) -> None:
    result = await run("-v", f"http://127.0.0.1:{closed_port}/")
    lines = events(result)
    assert any(line.startswith("* Failed: ClientConnectorError") for line in lines)
    assert lines[-1].startswith("zurl: cannot connect to")


def test_mask_helpers() -> None:
    assert mask_header("Proxy-Authorization", "Basic abc") == "Basic ****"
    assert mask_header("Authorization", "opaque") == "****"
    assert mask_header("Set-Cookie", "a=1; Path=/; HttpOnly") == "a=****; Path=****; HttpOnly"
    assert mask_header("Accept", "*/*") == "*/*"
    assert mask_url("http://me:pw@host:8080/x?y=1") == "http://me:****@host:8080/x?y=1"
    assert mask_url("http://host/") == "http://host/"
