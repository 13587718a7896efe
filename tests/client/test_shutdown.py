"""Graceful shutdown: ``await session.close()`` returns only when every transport is closed.

Each case runs a real program in a subprocess under ``python -W error -X dev`` (warnings are
errors, asyncio debug mode, unclosed-resource tracking): it opens a session, makes
keep-alive requests (plain and TLS), closes the session with no ``asyncio.sleep`` and exits.
It must exit 0 with no ResourceWarning and no "Unclosed" message on stderr.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import textwrap
from pathlib import Path

import pytest

import client
from tests.servers.gunicorn import GunicornServer
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory

pytestmark = pytest.mark.timeout(60)

ROOT = Path(client.__file__).resolve().parent.parent

PRELUDE = """
import asyncio
import ssl
import sys

import client

PLAIN, TLS, CAFILE = sys.argv[1:4]
CONTEXT = ssl.create_default_context(cafile=CAFILE)
"""

SCRIPTS = {
    "async-with": """
async def main() -> None:
    async with client.ClientSession() as session:
        for _ in range(3):
            async with session.get(PLAIN + "/") as resp:
                assert await resp.text() == "ok"
            async with session.get(TLS + "/", ssl=CONTEXT) as resp:
                assert await resp.text() == "ok"
""",
    "explicit-close": """
async def main() -> None:
    session = client.ClientSession(connector=client.TCPConnector(ssl=CONTEXT))
    for url in (PLAIN, TLS, PLAIN, TLS):
        resp = await session.get(url + "/bytes/100000")
        assert len(await resp.read()) == 100000
        resp.release()
    await session.close()
""",
    "unread-bodies-and-errors": """
async def main() -> None:
    async with client.ClientSession(raise_for_status=True) as session:
        for base in (PLAIN, TLS):
            async with session.get(base + "/chunked/20?delay=0.01", ssl=CONTEXT) as resp:
                assert resp.status == 200  # the body is left unread
            try:
                await session.get(base + "/status/500", ssl=CONTEXT)
            except client.ClientResponseError as exc:
                assert exc.status == 500
            async with session.get(base + "/close", ssl=CONTEXT) as resp:
                await resp.read()
""",
    "concurrent": """
async def main() -> None:
    connector = client.TCPConnector(limit=4)
    async with client.ClientSession(connector=connector) as session:
        async def one(url: str) -> None:
            async with session.get(url + "/delay/0.05", ssl=CONTEXT) as resp:
                await resp.read()
        await asyncio.gather(*(one(url) for url in (PLAIN, TLS) * 6))
""",
    "shared-connector": """
async def main() -> None:
    connector = client.TCPConnector(ssl=CONTEXT)
    for base in (PLAIN, TLS):
        async with client.ClientSession(connector=connector, connector_owner=False) as s:
            async with s.get(base + "/") as resp:
                await resp.read()
    await connector.close()
""",
    "close-mid-body": """
async def main() -> None:
    session = client.ClientSession(connector=client.TCPConnector(ssl=CONTEXT))
    responses = []
    for base in (PLAIN, TLS):
        resp = await session.get(base + "/chunked/200?delay=0.02")
        await resp.content.read(5)  # the rest is still arriving
        responses.append(resp)
    await session.close()  # with both bodies half read and never released
""",
    "timeouts-and-errors": """
async def main() -> None:
    timeout = client.ClientTimeout(sock_read=0.1)
    async with client.ClientSession(timeout=timeout) as session:
        for base in (PLAIN, TLS):
            try:
                await session.get(base + "/delay/2", ssl=CONTEXT)
            except client.SocketTimeoutError:
                pass
            try:
                await session.get(base + "/drop", ssl=CONTEXT)
            except client.ServerDisconnectedError:
                pass
""",
}

FORGOTTEN = """
async def main() -> None:
    session = client.ClientSession()
    async with session.get(PLAIN + "/") as resp:
        await resp.read()
    # The program forgets ``await session.close()``.
"""

EPILOGUE = """
asyncio.run(main())
print("finished")
"""


async def run_program(body: str, plain: str, tls: str, cafile: Path) -> tuple[int, str, str]:
    """Run PRELUDE + body + EPILOGUE under -W error -X dev; return (rc, stdout, stderr)."""
    source = PRELUDE + textwrap.dedent(body) + EPILOGUE
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONWARNINGS": ""}
    env.pop("PYTHONASYNCIODEBUG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-W",
        "error",
        "-X",
        "dev",
        "-c",
        source,
        plain,
        tls,
        str(cafile),
        cwd=str(ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(45):
            stdout, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def assert_clean(rc: int, stdout: str, stderr: str) -> None:
    assert rc == 0, stderr
    assert stdout.strip().endswith("finished"), stdout
    for marker in ("ResourceWarning", "Unclosed", "unclosed", "Traceback", "Exception ignored"):
        assert marker not in stderr, stderr


@pytest.fixture
async def servers(
    keepalive_server: KeepAliveServerFactory, server_ssl_context: ssl.SSLContext
) -> tuple[KeepAliveServer, KeepAliveServer]:
    return await keepalive_server(), await keepalive_server(ssl=server_ssl_context)


@pytest.mark.parametrize("name", sorted(SCRIPTS))
async def test_program_exits_clean(
    servers: tuple[KeepAliveServer, KeepAliveServer], ca_bundle_path: Path, name: str
) -> None:
    plain, tls = servers
    rc, stdout, stderr = await run_program(SCRIPTS[name], plain.url, tls.url, ca_bundle_path)
    assert_clean(rc, stdout, stderr)
    assert plain.requests > 0 and tls.requests > 0


async def test_program_against_gunicorn_exits_clean(
    gunicorn_httpbin_factory: object, ca_bundle_path: Path
) -> None:
    """The same promise with a server in another process (gunicorn), plain and TLS."""
    plain: GunicornServer = gunicorn_httpbin_factory()  # type: ignore[operator]
    tls: GunicornServer = gunicorn_httpbin_factory(tls=True)  # type: ignore[operator]
    body = """
    async def main() -> None:
        async with client.ClientSession() as session:
            for _ in range(3):
                async with session.get(PLAIN + "/get") as resp:
                    assert (await resp.json())["url"].endswith("/get")
                async with session.get(TLS + "/get", ssl=CONTEXT) as resp:
                    assert (await resp.json())["url"].endswith("/get")
    """
    rc, stdout, stderr = await run_program(body, plain.url, tls.url, ca_bundle_path)
    assert_clean(rc, stdout, stderr)


async def test_forgotten_close_is_reported(
    servers: tuple[KeepAliveServer, KeepAliveServer], ca_bundle_path: Path
) -> None:
    """The check above can fail: a program that never closes its session is told so."""
    plain, tls = servers
    _rc, _stdout, stderr = await run_program(FORGOTTEN, plain.url, tls.url, ca_bundle_path)
    assert "Unclosed client session" in stderr
