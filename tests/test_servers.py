"""Self-tests of the server fixtures with stdlib clients only.

The engine in client/ is not used here, so when an engine test fails against one of these
servers the failure is the engine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import socket
import ssl
from collections.abc import Callable
from pathlib import Path

import pytest
import trustme

from tests.servers import (
    has_ipv6_loopback,
    require_binary,
    require_ipv6_loopback,
    servers_required,
    skip_or_fail,
)
from tests.servers.gunicorn import GunicornServer
from tests.servers.keepalive import KeepAliveServerFactory, chunk_bytes, pattern_bytes
from tests.servers.raw import RawConnection, RawServer, RawServerFactory, parse_head
from tests.servers.tls import (
    WRONG_HOST,
    cert_der,
    client_context,
    fingerprint_sha256,
    issue_expired_cert,
    issue_wrong_host_cert,
    server_context,
)

pytestmark = pytest.mark.timeout(30)

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


async def exchange(
    port: int,
    data: bytes,
    *,
    host: str = "127.0.0.1",
    ssl_context: ssl.SSLContext | None = None,
    unix_path: str | None = None,
) -> bytes:
    """Send ``data``, half-close unless TLS, and read until the server closes."""
    if unix_path is not None:
        reader, writer = await asyncio.open_unix_connection(unix_path, ssl=ssl_context)
    else:
        reader, writer = await asyncio.open_connection(host, port, ssl=ssl_context)
    writer.write(data)
    if ssl_context is None:
        writer.write_eof()
    response = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return response


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """One response head and its Content-Length or chunked body (enough for these tests)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lower = head.lower()
    if b"transfer-encoding: chunked" in lower:
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            data = await reader.readexactly(size + 2)
            if size == 0:
                return head, bytes(body)
            body += data[:-2]
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return head, await reader.readexactly(int(line.split(b":")[1]))
    return head, b""


# -- raw_server ------------------------------------------------------------------------------


async def test_raw_list_script_records_request(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\n", 0.01, b"Content-Length: 2\r\n\r\nhi"])
    response = await exchange(server.port, GET)
    assert response == b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    assert server.received == [GET]
    assert server.connections_opened == 1
    assert server.url == f"http://127.0.0.1:{server.port}"


async def test_raw_handler_reads_bodies(raw_server: RawServerFactory) -> None:
    requests: list[bytes] = []

    async def handler(conn: RawConnection) -> None:
        for _ in range(2):
            requests.append(await conn.read_request())
        conn.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await conn.drain()

    server = await raw_server(handler)
    first = b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
    second = b"POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n"
    response = await exchange(server.port, first + second)
    assert response.startswith(b"HTTP/1.1 204")
    assert requests == [first, second]
    assert parse_head(first) == ("POST", "/a", [("Content-Length", "3")])


async def test_raw_records_unread_bytes_and_counts(raw_server: RawServerFactory) -> None:
    release = asyncio.Event()

    async def handler(conn: RawConnection) -> None:
        await conn.read(1)
        await release.wait()

    server = await raw_server(handler)
    writers = []
    for _ in range(3):
        _, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"hello")
        writers.append(writer)
    while server.connections_opened < 3 or any(len(r) < 5 for r in server.received):
        await asyncio.sleep(0.01)
    assert server.max_concurrent == 3
    assert server.received == [b"hello"] * 3
    release.set()
    for writer in writers:
        writer.close()


async def test_raw_abort_sends_reset(raw_server: RawServerFactory) -> None:
    async def handler(conn: RawConnection) -> None:
        await conn.read_request()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
        await conn.drain()
        await conn.sleep(0.05)
        conn.abort()

    server = await raw_server(handler)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(GET)
    received = b""
    with pytest.raises(ConnectionResetError):
        while chunk := await reader.read(1024):
            received += chunk
    assert received.endswith(b"partial")
    writer.close()


async def test_raw_tls_and_unix(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    unix_socket_path: str,
) -> None:
    script = [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]
    secure = await raw_server(script, ssl=server_ssl_context)
    assert secure.url.startswith("https://127.0.0.1:")
    client_ssl_context.check_hostname = False  # no SNI name for an IP here; trust still checked
    response = await exchange(secure.port, GET, ssl_context=client_ssl_context)
    assert response.startswith(b"HTTP/1.1 200 OK")
    unix = await raw_server(script, unix_path=unix_socket_path)
    assert unix.url == "http://localhost"
    response = await exchange(0, GET, unix_path=unix_socket_path)
    assert response.startswith(b"HTTP/1.1 200 OK") and unix.received == [GET]


async def test_raw_ipv6(raw_server: RawServerFactory) -> None:
    require_ipv6_loopback()
    server = await raw_server([b"HTTP/1.1 200 OK\r\n\r\n"], host="::1")
    assert server.url == f"http://[::1]:{server.port}"
    assert (await exchange(server.port, GET, host="::1")).startswith(b"HTTP/1.1 200")


async def test_raw_refuses_non_loopback(raw_server: RawServerFactory) -> None:
    with pytest.raises(ValueError, match="loopback"):
        await raw_server([], host="0.0.0.0")


# -- keepalive_server ------------------------------------------------------------------------


async def test_keepalive_reuses_one_connection(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    paths = ["/", "/bytes/1000", "/status/418", "/chunked/3?size=5", "/set-cookie?a=1&b=2"]
    results = []
    for path in paths:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        results.append(await read_response(reader))
    assert results[0][1] == b"ok"
    assert results[1][1] == pattern_bytes(1000)
    assert results[2][0].startswith(b"HTTP/1.1 418 I'm a Teapot\r\n")
    assert results[3][1] == b"".join(chunk_bytes(i, 5) for i in range(3))
    assert results[4][0].count(b"Set-Cookie: ") == 2
    assert (server.connections_opened, server.requests, server.max_active) == (1, 5, 1)
    writer.write(b"GET /close HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _ = await read_response(reader)
    assert b"Connection: close" in head
    assert await reader.read() == b""
    writer.close()
    server.reset_counts()
    assert server.requests == 0 and server.peers == set()


async def test_keepalive_echo_bodies(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nX-A: 2\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"
    )
    _, body = await read_response(reader)
    echoed = json.loads(body)
    assert echoed["method"] == "POST" and echoed["path"] == "/echo"
    assert echoed["query"] == [["q", "1"]] and echoed["body"] == "body"
    assert echoed["headers"]["X-A"] == "1, 2"
    writer.write(b"PUT /echo HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc")
    head, body = await read_response(reader)
    assert json.loads(body)["body"] == "abc" and b"Connection: close" in head
    writer.close()


async def test_keepalive_concurrency_and_peers(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()

    async def one() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"GET /delay/0.2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        _, body = await read_response(reader)
        writer.close()
        return body

    assert await asyncio.gather(*(one() for _ in range(4))) == [b"ok"] * 4
    assert server.max_active == 4 and len(server.peers) == 4
    redirect = await exchange(server.port, b"GET /redirect?to=/x&status=307 HTTP/1.0\r\n\r\n")
    assert redirect.startswith(b"HTTP/1.1 307") and b"Location: /x\r\n" in redirect


async def test_keepalive_tls_unix_ipv6(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    unix_socket_path: str,
) -> None:
    secure = await keepalive_server(ssl=server_ssl_context)
    client_ssl_context.check_hostname = False
    response = await exchange(
        secure.port, b"GET / HTTP/1.0\r\n\r\n", ssl_context=client_ssl_context
    )
    assert response.endswith(b"\r\n\r\nok")
    await keepalive_server(unix_path=unix_socket_path)
    response = await exchange(0, b"GET / HTTP/1.0\r\n\r\n", unix_path=unix_socket_path)
    assert response.endswith(b"\r\n\r\nok")
    if has_ipv6_loopback() or servers_required():  # CI: check_host fails without ::1
        v6 = await keepalive_server(host="::1")
        response = await exchange(v6.port, b"GET / HTTP/1.0\r\n\r\n", host="::1")
        assert response.endswith(b"ok") and v6.url.startswith("http://[::1]:")


async def test_keepalive_expect_continue_and_head(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(b"hi")
    _, body = await read_response(reader)
    assert json.loads(body)["body"] == "hi"
    writer.write(b"HEAD /bytes/10 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    head = await reader.readuntil(b"\r\n\r\n")
    assert b"Content-Length: 10" in head
    assert (await read_response(reader))[1] == b"ok"  # no body after the HEAD response
    writer.close()


async def test_keepalive_rejects_garbage(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    response = await exchange(server.port, b"NONSENSE\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 400") and b"Connection: close" in response


async def test_keepalive_idle_timeout_max_requests_drop(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server(idle_timeout=0.1, max_requests=2)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\n\r\n")
    await read_response(reader)
    assert await asyncio.wait_for(reader.read(), 5) == b""  # closed when idle
    writer.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET / HTTP/1.1\r\n\r\n" * 2)
    first, _ = await read_response(reader)
    second, _ = await read_response(reader)
    assert b"Connection: close" not in first and b"Connection: close" in second
    writer.close()
    assert await exchange(server.port, b"GET /drop HTTP/1.1\r\n\r\n") == b""


async def test_raw_script_errors_are_kept() -> None:
    async def broken(conn: RawConnection) -> None:
        raise KeyError("bug in the test script")

    async with RawServer(broken) as server:
        with contextlib.suppress(ConnectionResetError):  # unread input makes close an RST
            assert await exchange(server.port, GET) == b""
    assert [type(error) for error in server.errors] == [KeyError]


# -- TLS helpers -----------------------------------------------------------------------------


def _handshake(context: ssl.SSLContext, server: ssl.SSLContext, name: str) -> bytes:
    """Handshake over a socketpair in memory-free blocking mode; returns the peer's DER."""
    left, right = socket.socketpair()
    with left, right:
        left.settimeout(5)
        right.settimeout(5)
        import threading

        errors: list[BaseException] = []

        def serve() -> None:
            try:
                with server.wrap_socket(right, server_side=True) as tls_server:
                    tls_server.recv(1)
            except (ssl.SSLError, OSError) as exc:
                errors.append(exc)

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with context.wrap_socket(left, server_hostname=name) as tls_client:
                der = tls_client.getpeercert(binary_form=True)
                assert der is not None
                return der
        finally:
            thread.join(5)


def test_tls_fixtures(
    tls_ca: trustme.CA,
    tls_cert: trustme.LeafCert,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    ca_bundle_path: Path,
) -> None:
    der = _handshake(client_ssl_context, server_ssl_context, "localhost")
    assert der == cert_der(tls_cert)
    assert len(fingerprint_sha256(tls_cert)) == 32
    from_bundle = ssl.create_default_context(cafile=str(ca_bundle_path))
    assert _handshake(from_bundle, server_ssl_context, "127.0.0.1") == der


def test_tls_bad_certificates(tls_ca: trustme.CA) -> None:
    expired = server_context(issue_expired_cert(tls_ca))
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _handshake(client_context(tls_ca), expired, "localhost")
    wrong = server_context(issue_wrong_host_cert(tls_ca))
    with pytest.raises(ssl.SSLCertVerificationError, match="mismatch"):
        _handshake(client_context(tls_ca), wrong, "localhost")
    assert _handshake(client_context(tls_ca), wrong, WRONG_HOST)


# -- gunicorn and pytest-httpbin -------------------------------------------------------------


def _get(server: GunicornServer, path: str, context: ssl.SSLContext | None = None) -> bytes:
    connection: http.client.HTTPConnection
    if context is not None:
        connection = http.client.HTTPSConnection(
            "localhost", server.port, timeout=10, context=context
        )
    else:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        assert response.status == 200
        return response.read()
    finally:
        connection.close()


def test_gunicorn_keeps_alive(gunicorn_httpbin: GunicornServer) -> None:
    assert gunicorn_httpbin.url == f"http://127.0.0.1:{gunicorn_httpbin.port}"
    connection = http.client.HTTPConnection("127.0.0.1", gunicorn_httpbin.port, timeout=10)
    ports = set()
    for _ in range(3):
        connection.request("GET", "/get")
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Connection") != "close"
        response.read()
        assert connection.sock is not None
        ports.add(connection.sock.getsockname()[1])
    assert len(ports) == 1
    connection.request("GET", "/stream/3")
    response = connection.getresponse()
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.read().count(b"\n") == 3
    connection.close()


def test_gunicorn_tls_and_unix(
    gunicorn_httpbin_factory: Callable[..., GunicornServer], client_ssl_context: ssl.SSLContext
) -> None:
    secure = gunicorn_httpbin_factory(tls=True)
    assert secure.url.startswith("https://127.0.0.1:")
    assert b'"url"' in _get(secure, "/get", client_ssl_context)
    unix = gunicorn_httpbin_factory(unix=True)
    assert unix.unix_path is not None
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(unix.unix_path)
        sock.sendall(b"GET /get HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 200")


def test_pytest_httpbin_works_under_filterwarnings(httpbin: object) -> None:
    url = str(getattr(httpbin, "url"))  # noqa: B009 - the plugin's server is untyped
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.request("GET", "/gzip")
    assert connection.getresponse().status == 200
    connection.close()


def test_pytest_httpbin_secure(httpbin_secure: object) -> None:
    from pytest_httpbin import certs  # type: ignore[import-untyped]

    context = ssl.create_default_context(cafile=certs.where())
    port = int(str(getattr(httpbin_secure, "port")))  # noqa: B009 - untyped plugin server
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
    connection.request("GET", "/get")
    assert connection.getresponse().status == 200
    connection.close()


# -- require_binary --------------------------------------------------------------------------


def test_require_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    assert require_binary("sh").endswith("/sh")
    monkeypatch.setenv("ZURL_REQUIRE_SERVERS", "0")
    with pytest.raises(pytest.skip.Exception):
        require_binary("zurl-no-such-program")
    monkeypatch.setenv("ZURL_REQUIRE_SERVERS", "1")
    assert servers_required()
    with pytest.raises(pytest.fail.Exception):
        require_binary("zurl-no-such-program")


def test_skip_or_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZURL_REQUIRE_SERVERS", "0")
    with pytest.raises(pytest.skip.Exception, match="no widget"):
        skip_or_fail("no widget")
    monkeypatch.setenv("ZURL_REQUIRE_SERVERS", "1")
    with pytest.raises(pytest.fail.Exception, match="forbids skipping"):
        skip_or_fail("no widget")
