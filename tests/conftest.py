"""Fixtures shared by every test: loopback servers and TLS material.

Servers (see tests/servers/):
    raw_server            async factory: ``await raw_server(script, host=, ssl=, unix_path=)``
    keepalive_server      async factory: ``await keepalive_server(host=, ssl=, unix_path=,
                          idle_timeout=, max_requests=)``
    gunicorn_httpbin      session: httpbin under gunicorn gthread on 127.0.0.1
    gunicorn_httpbin_factory   session: ``factory(tls=False, unix=False, host="127.0.0.1")``
    httpbin, httpbin_secure    from the pytest-httpbin plugin (Connection: close only)
    unix_socket_path      a short socket path (sun_path is limited to 107 bytes)
TLS (see tests/servers/tls.py):
    tls_ca, tls_cert, ca_bundle_path (session); server_ssl_context, client_ssl_context
    (fresh per test, so a test may change one freely)
HTTP/2 (see tests/servers/h2server.py, hypercorn_server.py):
    h2_server             async factory: ``await h2_server(handler, ssl=, max_concurrent_streams=,
                          initial_window=, max_frame_size=)``, a scripted server on ``h2``
    hypercorn_server      async factory: ``await hypercorn_server(tls=True, alpn=, host=)``
    nginx_h2              session: Debian's nginx, h2 by ALPN (``.https``), h2c (``.h2c``),
                          HTTP/1.1 (``.http``); ``/files/100m.bin`` is ``pattern_bytes(BIG)``
Helpers (import from tests.servers): require_binary(name), has_ipv6_loopback(),
    require_ipv6_loopback(), skip_or_fail(message) (skips; fails under ZURL_REQUIRE_SERVERS=1).
"""

from __future__ import annotations

import os
import shutil
import ssl as ssl_module
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import trustme
from hypothesis import settings

from tests.servers import tls
from tests.servers.gunicorn import GunicornServer, start_gunicorn_httpbin
from tests.servers.h2server import H2Server
from tests.servers.hypercorn_server import HypercornServer
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory, pattern_bytes
from tests.servers.nginx import NginxServer
from tests.servers.proxy import ProxyServer, running_proxy
from tests.servers.raw import RawServer, RawServerFactory, Script

GunicornFactory = Callable[..., GunicornServer]

# Warnings raised inside libraries we only use as servers; the project's own code stays
# under filterwarnings=error. Added here so pyproject needs no edit when they change.
_LIBRARY_WARNING_FILTERS = (
    "ignore::DeprecationWarning:httpbin.*",
    "ignore::DeprecationWarning:flasgger.*",
    "ignore::DeprecationWarning:werkzeug.*",
    "ignore::DeprecationWarning:flask.*",
    "ignore:.*pkg_resources.*:DeprecationWarning",
    "ignore:.*pkg_resources.*:UserWarning",
)


# Property tests: no per-example deadline (a shared 2-core machine makes timings jitter),
# and under CI the same examples every run, so a submission's CI result is reproducible.
settings.register_profile("zurl", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, database=None)
settings.load_profile("ci" if os.environ.get("CI") else "zurl")


def pytest_configure(config: pytest.Config) -> None:
    for line in _LIBRARY_WARNING_FILTERS:
        config.addinivalue_line("filterwarnings", line)


@pytest.fixture
def unix_socket_path() -> Iterator[str]:
    directory = tempfile.mkdtemp(prefix="zurl-", dir="/tmp")
    try:
        yield f"{directory}/s.sock"
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest_asyncio.fixture
async def raw_server() -> AsyncIterator[RawServerFactory]:
    servers: list[RawServer] = []

    async def factory(
        script: Script,
        *,
        host: str = "127.0.0.1",
        ssl: ssl_module.SSLContext | None = None,
        unix_path: str | os.PathLike[str] | None = None,
    ) -> RawServer:
        server = RawServer(script, host=host, ssl=ssl, unix_path=unix_path)
        await server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.close()
    errors = [error for server in servers for error in server.errors]
    if errors:
        raise errors[0]


@pytest_asyncio.fixture
async def keepalive_server() -> AsyncIterator[KeepAliveServerFactory]:
    servers: list[KeepAliveServer] = []

    async def factory(
        *,
        host: str = "127.0.0.1",
        ssl: ssl_module.SSLContext | None = None,
        unix_path: str | os.PathLike[str] | None = None,
        idle_timeout: float | None = None,
        max_requests: int | None = None,
    ) -> KeepAliveServer:
        server = KeepAliveServer(
            host=host,
            ssl=ssl,
            unix_path=unix_path,
            idle_timeout=idle_timeout,
            max_requests=max_requests,
        )
        await server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.close()


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_cert(tls_ca: trustme.CA) -> trustme.LeafCert:
    return tls.issue_loopback_cert(tls_ca)


@pytest.fixture
def server_ssl_context(tls_cert: trustme.LeafCert) -> ssl_module.SSLContext:
    return tls.server_context(tls_cert)


@pytest.fixture
def client_ssl_context(tls_ca: trustme.CA) -> ssl_module.SSLContext:
    return tls.client_context(tls_ca)


@pytest.fixture(scope="session")
def ca_bundle_path(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tls.write_ca_bundle(tls_ca, tmp_path_factory.mktemp("ca") / "ca.pem")


# -- gunicorn ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def gunicorn_httpbin_factory(
    tls_cert: trustme.LeafCert, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GunicornFactory]:
    """Start (once per session and variant) httpbin under gunicorn: TLS, unix, or ::1."""
    started: dict[tuple[bool, bool, str], GunicornServer] = {}
    directory = Path(tempfile.mkdtemp(prefix="zurl-gu-", dir="/tmp"))

    def factory(
        *, tls: bool = False, unix: bool = False, host: str = "127.0.0.1"
    ) -> GunicornServer:
        key = (tls, unix, host)
        if key not in started:
            certfile = keyfile = None
            if tls:
                cert_dir = tmp_path_factory.mktemp("gunicorn-tls")
                cert_path, key_path = _write_cert(tls_cert, cert_dir)
                certfile, keyfile = str(cert_path), str(key_path)
            unix_path = str(directory / f"g{len(started)}.sock") if unix else None
            started[key] = start_gunicorn_httpbin(
                host=host, unix_path=unix_path, certfile=certfile, keyfile=keyfile
            )
        return started[key]

    yield factory
    for server in started.values():
        server.stop()
    shutil.rmtree(directory, ignore_errors=True)


def _write_cert(cert: trustme.LeafCert, directory: Path) -> tuple[Path, Path]:
    return tls.write_cert_files(cert, directory)


@pytest.fixture(scope="session")
def gunicorn_httpbin(gunicorn_httpbin_factory: GunicornFactory) -> GunicornServer:
    return gunicorn_httpbin_factory()


# -- proxies ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def proxy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyServer]:
    """proxy.py without authentication."""
    with running_proxy(tmp_path_factory.mktemp("proxy-open")) as server:
        yield server


@pytest.fixture(scope="session")
def auth_proxy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyServer]:
    """proxy.py requiring Basic credentials user:pass (407 otherwise)."""
    with running_proxy(tmp_path_factory.mktemp("proxy-auth"), auth=True) as server:
        yield server


@pytest.fixture(scope="session")
def tls_proxy_server(
    tls_cert: trustme.LeafCert, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProxyServer]:
    """proxy.py speaking TLS itself (an https:// proxy) with the test CA's certificate."""
    directory = tmp_path_factory.mktemp("proxy-tls")
    cert = tls.write_cert_files(tls_cert, directory)
    with running_proxy(directory, cert=cert) as server:
        yield server


# -- HTTP/2 -----------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def h2_server() -> AsyncIterator[Callable[..., Awaitable[H2Server]]]:
    servers: list[H2Server] = []

    async def factory(handler: Any = None, **options: Any) -> H2Server:
        server = H2Server(handler, **options)
        await server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.close()
    errors = [error for server in servers for error in server.errors]
    if errors:
        raise errors[0]


@pytest_asyncio.fixture
async def hypercorn_server(
    tls_cert: trustme.LeafCert,
) -> AsyncIterator[Callable[..., Awaitable[HypercornServer]]]:
    servers: list[HypercornServer] = []

    async def factory(
        *, tls: bool = True, alpn: tuple[str, ...] = ("h2", "http/1.1"), host: str = "127.0.0.1"
    ) -> HypercornServer:
        server = HypercornServer(host=host, cert=tls_cert if tls else None, alpn=alpn)
        await server.start()
        servers.append(server)
        return server

    yield factory
    for server in servers:
        await server.close()


NGINX_BIG_FILE = 100 * 1000 * 1000


@pytest.fixture(scope="session")
def nginx_h2(tls_cert: trustme.LeafCert) -> Iterator[NginxServer]:
    directory = Path(tempfile.mkdtemp(prefix="zurl-nginx-", dir="/tmp"))
    files = directory / "files"
    files.mkdir()
    (files / "100m.bin").write_bytes(pattern_bytes(NGINX_BIG_FILE))
    server = NginxServer(directory, files, tls_cert, streams=128)
    try:
        yield server.start()
    finally:
        server.stop()
