"""The connection pool against real loopback servers: reuse, limits, waiters, staleness."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import socket
import ssl
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest

import client
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory, pattern_bytes
from tests.servers.raw import RawConnection, RawServerFactory

pytestmark = pytest.mark.timeout(30)

OK_KEEPALIVE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def get_text(session: client.ClientSession, url: str, **kwargs: object) -> str:
    async with session.get(url, **kwargs) as resp:  # type: ignore[arg-type]
        return await resp.text()


async def wait_until(predicate: object, timeout: float = 5.0) -> None:
    """Poll ``predicate`` (a callable) until true; the bound keeps a broken case finite."""
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- reuse --------------------------------------------------------------------------------


async def test_hundred_sequential_requests_one_connection(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        for i in range(100):
            async with session.get(f"{server.url}/echo?i={i}") as resp:
                assert (await resp.json())["query"] == [["i", str(i)]]
    assert server.requests == 100
    assert server.connections_opened == 1
    assert len(server.peers) == 1


async def test_reuse_over_tls(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    connector = client.TCPConnector(ssl=client_ssl_context)
    async with client.ClientSession(connector=connector) as session:
        for _ in range(10):
            assert await get_text(session, server.url + "/") == "ok"
    assert server.connections_opened == 1


async def test_response_reports_reused_connection(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        async with session.get(server.url + "/") as first:
            await first.read()
        async with session.get(server.url + "/") as second:
            await second.read()
    assert first.reused_connection is False
    assert second.reused_connection is True


async def test_connection_close_response_is_not_reused(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        for _ in range(3):
            assert await get_text(session, server.url + "/close") == "ok"
    assert server.connections_opened == 3


async def test_server_max_requests_opens_new_connections(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server(max_requests=2)
    async with client.ClientSession() as session:
        for _ in range(5):
            assert await get_text(session, server.url + "/") == "ok"
    assert server.requests == 5
    assert server.connections_opened == 3


async def test_chunked_body_connection_reused(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        for _ in range(5):
            text = await get_text(session, server.url + "/chunked/3")
            assert text == "chunk 0\nchunk 1\nchunk 2\n"
    assert server.connections_opened == 1


# -- limits -------------------------------------------------------------------------------


async def test_limit_three_never_exceeded(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=3)
    async with client.ClientSession(connector=connector) as session:
        results = await asyncio.gather(
            *(get_text(session, server.url + "/delay/0.05") for _ in range(15))
        )
    assert results == ["ok"] * 15
    assert server.max_active == 3
    assert server.connections_opened == 3


async def test_limit_zero_means_no_limit(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=0)
    async with client.ClientSession(connector=connector) as session:
        await asyncio.gather(*(get_text(session, server.url + "/delay/0.5") for _ in range(12)))
    assert server.max_active == 12


async def test_default_limit_is_100() -> None:
    connector = client.TCPConnector()
    try:
        assert connector.limit == 100
        assert connector.limit_per_host == 0
    finally:
        await connector.close()


async def test_limit_per_host_two_hosts(keepalive_server: KeepAliveServerFactory) -> None:
    first = await keepalive_server()
    second = await keepalive_server()
    connector = client.TCPConnector(limit_per_host=2)
    async with client.ClientSession(connector=connector) as session:
        jobs = [
            get_text(session, server.url + "/delay/0.05")
            for _ in range(8)
            for server in (first, second)
        ]
        assert await asyncio.gather(*jobs) == ["ok"] * 16
    assert first.max_active == 2
    assert second.max_active == 2


async def test_limit_per_host_names_differ_on_one_server(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """127.0.0.1 and localhost are two pool keys: 2 each, so the server sees up to 4."""
    server = await keepalive_server()
    connector = client.TCPConnector(limit_per_host=2)
    urls = [
        f"http://127.0.0.1:{server.port}/delay/0.1",
        f"http://localhost:{server.port}/delay/0.1",
    ]
    async with client.ClientSession(connector=connector) as session:
        await asyncio.gather(*(get_text(session, url) for _ in range(6) for url in urls))
    assert server.max_active == 4


async def test_global_limit_evicts_idle_connection_of_another_host(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    first = await keepalive_server()
    second = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    timeout = client.ClientTimeout(connect=5)
    async with client.ClientSession(connector=connector, timeout=timeout) as session:
        assert await get_text(session, first.url + "/") == "ok"
        assert await get_text(session, second.url + "/") == "ok"
        await wait_until(lambda: first.active == 0)
        assert await get_text(session, first.url + "/") == "ok"


async def test_waiters_served_in_fifo_order(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    async with client.ClientSession(connector=connector) as session:
        holder = asyncio.ensure_future(get_text(session, server.url + "/delay/0.2"))
        await wait_until(lambda: server.requests == 1)
        waiters = []
        for i in range(6):
            waiters.append(asyncio.ensure_future(get_text(session, f"{server.url}/echo?i={i}")))
            await asyncio.sleep(0.01)
        await holder
        await asyncio.gather(*waiters)
    targets = [target for _index, _method, target in server.log[1:]]
    assert targets == [f"/echo?i={i}" for i in range(6)]


async def test_pool_wait_honours_connect_timeout(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    async with client.ClientSession(connector=connector) as session:
        holder = asyncio.ensure_future(get_text(session, server.url + "/delay/3"))
        await wait_until(lambda: server.requests == 1)
        with pytest.raises(client.ConnectionTimeoutError) as info:
            await session.get(server.url + "/", timeout=client.ClientTimeout(connect=0.2))
        assert isinstance(info.value, asyncio.TimeoutError)
        assert isinstance(info.value, client.ServerTimeoutError)
        holder.cancel()
        with pytest.raises(asyncio.CancelledError):
            await holder
        # The cancelled holder and the timed-out waiter both gave their slot back.
        assert await get_text(session, server.url + "/") == "ok"


async def test_cancelled_waiter_gives_its_place_back(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    async with client.ClientSession(connector=connector) as session:
        holder = asyncio.ensure_future(get_text(session, server.url + "/delay/0.2"))
        await wait_until(lambda: server.requests == 1)
        waiter = asyncio.ensure_future(get_text(session, server.url + "/"))
        await asyncio.sleep(0.02)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert await holder == "ok"
        async with asyncio.timeout(5):
            assert await get_text(session, server.url + "/") == "ok"


# -- stale and expiring connections -------------------------------------------------------


async def stale_second_request(conn: RawConnection) -> None:
    """Connection 0 answers once, then reads the next request and closes unanswered."""
    if conn.index == 0:
        await conn.read_request()
        conn.write(OK_KEEPALIVE)
        await conn.read_request()
        conn.close()
    else:
        while await conn.read_request():
            conn.write(OK_KEEPALIVE)


async def test_stale_connection_get_retried_silently(raw_server: RawServerFactory) -> None:
    server = await raw_server(stale_second_request)
    async with client.ClientSession() as session:
        assert await get_text(session, server.url + "/one") == "ok"
        assert await get_text(session, server.url + "/two") == "ok"
    assert server.connections_opened == 2
    assert server.received[1].startswith(b"GET /two ")


async def test_stale_connection_post_with_body_not_retried(raw_server: RawServerFactory) -> None:
    server = await raw_server(stale_second_request)
    async with client.ClientSession() as session:
        assert await get_text(session, server.url + "/one") == "ok"
        with pytest.raises(client.ServerDisconnectedError):
            await session.post(server.url + "/two", data=b"payload")
    assert server.connections_opened == 1, "a POST is never sent twice"


async def stale_reset(conn: RawConnection) -> None:
    """Like ``stale_second_request`` but the second request is answered with an RST."""
    if conn.index == 0:
        await conn.read_request()
        conn.write(OK_KEEPALIVE)
        await conn.read_request()
        conn.abort()
    else:
        while await conn.read_request():
            conn.write(OK_KEEPALIVE)


async def test_stale_connection_reset_get_retried(raw_server: RawServerFactory) -> None:
    server = await raw_server(stale_reset)
    async with client.ClientSession() as session:
        assert await get_text(session, server.url + "/one") == "ok"
        assert await get_text(session, server.url + "/two") == "ok"
    assert server.connections_opened == 2


async def test_stale_connection_put_with_one_shot_stream_not_retried(
    raw_server: RawServerFactory,
) -> None:
    server = await raw_server(stale_second_request)

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    async with client.ClientSession() as session:
        assert await get_text(session, server.url + "/one") == "ok"
        with pytest.raises(client.ClientConnectionError):
            await session.put(server.url + "/two", data=body())
    assert server.connections_opened == 1, "a consumed stream cannot be sent again"


async def test_stale_connection_put_with_bytes_retried(raw_server: RawServerFactory) -> None:
    server = await raw_server(stale_second_request)
    async with client.ClientSession() as session:
        assert await get_text(session, server.url + "/one") == "ok"
        async with session.put(server.url + "/two", data=b"again") as resp:
            assert await resp.text() == "ok"
    assert server.connections_opened == 2
    assert server.received[1].endswith(b"\r\n\r\nagain")


async def test_drop_on_reused_connection_retried_once(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """/drop closes without answering: a GET on a reused connection is resent exactly once."""
    server = await keepalive_server()
    async with client.ClientSession() as session:
        assert await get_text(session, server.url + "/") == "ok"
        with pytest.raises(client.ServerDisconnectedError):
            await session.get(server.url + "/drop")
    drops = [(index, target) for index, _m, target in server.log if target == "/drop"]
    assert drops == [(0, "/drop"), (1, "/drop")]


async def test_drop_on_fresh_connection_not_retried(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        with pytest.raises(client.ServerDisconnectedError):
            await session.get(server.url + "/drop")
    assert server.requests == 1


async def test_server_idle_timeout_closed_connection_replaced(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server(idle_timeout=0.1)
    async with client.ClientSession() as session:
        assert await get_text(session, server.url + "/") == "ok"
        await wait_until(lambda: server.active == 0)
        assert await get_text(session, server.url + "/") == "ok"
        post = await session.post(server.url + "/echo", data=b"body")
        assert (await post.json())["body"] == "body"
    assert server.connections_opened == 2


async def test_force_close_opens_a_connection_per_request(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(force_close=True)
    assert connector.force_close
    async with client.ClientSession(connector=connector) as session:
        for _ in range(4):
            assert await get_text(session, server.url + "/") == "ok"
        await wait_until(lambda: server.active == 0)
    assert server.connections_opened == 4


async def test_force_close_and_keepalive_timeout_conflict() -> None:
    with pytest.raises(ValueError):
        client.TCPConnector(force_close=True, keepalive_timeout=10)


async def test_keepalive_timeout_expiry_closes_idle_connection(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(keepalive_timeout=0.1)
    async with client.ClientSession(connector=connector) as session:
        assert await get_text(session, server.url + "/") == "ok"
        await wait_until(lambda: server.active == 0)  # the client closed it
        assert await get_text(session, server.url + "/") == "ok"
    assert server.connections_opened == 2


async def test_idle_connection_within_keepalive_timeout_reused(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(keepalive_timeout=30)
    async with client.ClientSession(connector=connector) as session:
        assert await get_text(session, server.url + "/") == "ok"
        await asyncio.sleep(0.2)
        assert await get_text(session, server.url + "/") == "ok"
    assert server.connections_opened == 1


# -- ownership and closing ----------------------------------------------------------------


async def test_connector_owner_false_leaves_connector_open(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector()
    try:
        async with client.ClientSession(connector=connector, connector_owner=False) as first:
            assert await get_text(first, server.url + "/") == "ok"
        assert first.closed
        assert not connector.closed
        async with client.ClientSession(connector=connector, connector_owner=False) as second:
            assert await get_text(second, server.url + "/") == "ok"
        assert server.connections_opened == 1, "the second session reused the first's connection"
    finally:
        await connector.close()
    assert connector.closed
    await wait_until(lambda: server.active == 0)


async def test_session_close_closes_owned_connector(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector()
    session = client.ClientSession(connector=connector)
    assert await get_text(session, server.url + "/") == "ok"
    await session.close()
    assert connector.closed
    assert session.closed
    await wait_until(lambda: server.active == 0)
    with pytest.raises(RuntimeError):
        await session.get(server.url + "/")


async def test_closing_connector_fails_waiters(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    session = client.ClientSession(connector=connector)
    holder = asyncio.ensure_future(get_text(session, server.url + "/delay/2"))
    await wait_until(lambda: server.requests == 1)
    waiter = asyncio.ensure_future(get_text(session, server.url + "/"))
    await asyncio.sleep(0.02)
    await connector.close()
    with pytest.raises(client.ClientConnectionError):
        await waiter
    with pytest.raises(client.ClientError):
        await holder
    await session.close()


# -- connect errors -----------------------------------------------------------------------


async def test_refused_port_is_connector_error() -> None:
    port = closed_port()
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorError) as info:
            await session.get(f"http://127.0.0.1:{port}/")
    error = info.value
    assert error.host == "127.0.0.1"
    assert error.port == port
    assert isinstance(error.os_error, ConnectionRefusedError)
    assert error.errno == errno.ECONNREFUSED
    assert isinstance(error, OSError)
    assert isinstance(error, client.ClientOSError)
    assert f"127.0.0.1:{port}" in str(error)


# -- unix sockets and named pipes ---------------------------------------------------------


async def test_unix_connector(
    keepalive_server: KeepAliveServerFactory, unix_socket_path: str
) -> None:
    server: KeepAliveServer = await keepalive_server(unix_path=unix_socket_path)
    connector = client.UnixConnector(path=unix_socket_path)
    assert connector.path == unix_socket_path
    async with client.ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.get("http://localhost/echo") as resp:
                echo = await resp.json()
            assert echo["headers"]["Host"] == "localhost"
    assert server.connections_opened == 1


async def test_unix_connector_missing_socket(unix_socket_path: str) -> None:
    connector = client.UnixConnector(path=unix_socket_path)
    async with client.ClientSession(connector=connector) as session:
        with pytest.raises(client.UnixClientConnectorError) as info:
            await session.get("http://localhost/")
    assert info.value.path == unix_socket_path
    assert isinstance(info.value, client.ClientConnectorError)
    assert isinstance(info.value.os_error, FileNotFoundError)


async def test_named_pipe_connector_refused_on_linux() -> None:
    with pytest.raises(RuntimeError):
        client.NamedPipeConnector(path=r"\\.\pipe\zurl-test")


# -- which responses leave a reusable connection ------------------------------------------


def serve_each(response: bytes) -> Callable[[RawConnection], Awaitable[None]]:
    """Answer every request on a connection with ``response`` until the client closes."""

    async def script(conn: RawConnection) -> None:
        while await conn.read_request():
            conn.write(response)

    return script


@pytest.mark.parametrize(
    ("response", "connections"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1),
        (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok", 1),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n", 1),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok", 3),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 3),
        pytest.param(
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokGARBAGE",
            3,
        ),
    ],
    ids=["1.1", "1.0-keep-alive", "chunked", "connection-close", "1.0", "bytes-after-body"],
)
async def test_reuse_rules(
    raw_server: RawServerFactory, response: bytes, connections: int
) -> None:
    server = await raw_server(serve_each(response))
    async with client.ClientSession() as session:
        for _ in range(3):
            assert await get_text(session, server.url + "/") == "ok"
    assert server.connections_opened == connections


async def test_informational_response_before_the_final_one(raw_server: RawServerFactory) -> None:
    early_hints = b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
    server = await raw_server(
        serve_each(early_hints + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    )
    async with client.ClientSession() as session:
        for _ in range(2):
            async with session.get(server.url + "/") as resp:
                assert resp.status == 200
                assert "Link" not in resp.headers
                assert await resp.text() == "ok"
    assert server.connections_opened == 1


async def test_connection_free_once_body_received_before_it_is_read(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """limit=1: a fully received but unread body does not hold the only connection."""
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    timeout = client.ClientTimeout(connect=5)
    async with client.ClientSession(connector=connector, timeout=timeout) as session:
        first = await session.get(server.url + "/bytes/100")
        await wait_until(lambda: first.content.is_eof())
        assert await get_text(session, server.url + "/") == "ok"
        assert await first.read() == bytes(range(100))
        first.release()
    assert server.connections_opened == 1


async def test_tls_settings_are_part_of_the_pool_key(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    tls_ca: object,
) -> None:
    """A connection is never reused under another security context."""
    server = await keepalive_server(ssl=server_ssl_context)
    other_context = ssl.create_default_context()
    tls_ca.configure_trust(other_context)  # type: ignore[attr-defined]
    async with client.ClientSession() as session:
        for ssl_value in (client_ssl_context, client_ssl_context, other_context, False, False):
            assert await get_text(session, server.url + "/", ssl=ssl_value) == "ok"
    assert server.connections_opened == 3


# -- addresses ----------------------------------------------------------------------------


async def test_local_addr(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    port = closed_port()
    connector = client.TCPConnector(local_addr=("127.0.0.1", port))
    async with client.ClientSession(connector=connector) as session:
        assert await get_text(session, server.url + "/") == "ok"
    assert server.peers == {port}


async def test_ipv6_loopback(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server(host="::1")  # skips without IPv6 loopback
    async with client.ClientSession() as session:
        async with session.get(server.url + "/echo") as resp:
            assert (await resp.json())["headers"]["Host"] == f"[::1]:{server.port}"
            assert resp.url.host == "::1"


async def test_family_restricts_resolution(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(family=socket.AF_INET)
    assert connector.family == socket.AF_INET
    async with client.ClientSession(connector=connector) as session:
        assert await get_text(session, f"http://localhost:{server.port}/") == "ok"


async def test_total_timeout_while_waiting_for_the_pool(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    async with client.ClientSession(connector=connector) as session:
        holder = asyncio.ensure_future(get_text(session, server.url + "/delay/0.6"))
        await wait_until(lambda: server.requests == 1)
        with pytest.raises(client.ServerTimeoutError):
            await session.get(server.url + "/", timeout=client.ClientTimeout(total=0.2))
        assert await holder == "ok"
        assert await get_text(session, server.url + "/") == "ok"
    assert server.connections_opened == 1, "the timed-out waiter left no slot behind"


async def test_request_connection_close_is_not_reused(raw_server: RawServerFactory) -> None:
    server = await raw_server(serve_each(OK_KEEPALIVE))
    async with client.ClientSession() as session:
        for _ in range(2):
            text = await get_text(session, server.url + "/", headers={"Connection": "close"})
            assert text == "ok"
    assert server.connections_opened == 2


async def test_abandoned_response_gives_its_slot_back(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    async with client.ClientSession(connector=connector) as session:

        async def forget() -> None:
            await session.get(server.url + f"/bytes/{4 << 20}")  # never read nor released

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)  # a warning is welcome here
            await forget()
            gc.collect()
        text = await get_text(session, server.url + "/", timeout=client.ClientTimeout(connect=2))
        assert text == "ok"


async def test_session_close_ends_in_flight_requests(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    session = client.ClientSession()
    waiting = asyncio.ensure_future(session.get(server.url + "/delay/5"))
    streaming = await session.get(server.url + "/chunked/100?delay=0.1")
    await wait_until(lambda: server.requests == 2)
    async with asyncio.timeout(3):
        await session.close()
        with pytest.raises(client.ServerDisconnectedError):
            await waiting
        with pytest.raises(client.ClientPayloadError):
            await streaming.read()
    assert session.closed


async def test_pooled_connection_not_left_paused_by_an_unread_body(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    size = 16 * 1024  # one loopback segment, eight times the high-water mark below
    async with client.ClientSession(read_bufsize=1024) as session:
        first = await session.get(server.url + f"/bytes/{size}")
        await wait_until(lambda: first.content.is_eof())  # all of it buffered, unread
        second = await session.get(server.url + "/", timeout=client.ClientTimeout(total=3))
        assert await second.text() == "ok"
        assert await first.read() == pattern_bytes(size)
    assert server.connections_opened == 1


async def test_close_twice_is_harmless(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    session = client.ClientSession()
    assert await get_text(session, server.url + "/") == "ok"
    await session.close()
    await session.close()
    connector = client.TCPConnector()
    await connector.close()
    await connector.close()
    assert connector.closed
    orphan = client.ClientSession(connector=connector)
    assert orphan.closed, "a session on a closed connector is closed (as in aiohttp)"
    with pytest.raises(RuntimeError):
        await orphan.get(server.url + "/")
    await orphan.close()


# --- Happy Eyeballs (RFC 8305) -----------------------------------------------------------


@contextlib.contextmanager
def blackhole(port: int, host: str = "127.0.0.2") -> Iterator[None]:
    """``host:port`` silently drops connection attempts: a listener whose accept queue is
    full (Linux then ignores new SYNs), like a route that eats packets."""
    listener = socket.socket()
    listener.bind((host, port))
    listener.listen(0)
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect((host, port))
        fillers.append(filler)
    try:
        yield
    finally:
        for sock in (*fillers, listener):
            sock.close()


async def test_a_silent_first_address_costs_only_the_delay(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()  # 127.0.0.1 only
    resolver = client.StaticResolver({("dual.test", server.port): ["127.0.0.2", "127.0.0.1"]})
    connector = client.TCPConnector(resolver=resolver, happy_eyeballs_delay=0.1)
    timeout = client.ClientTimeout(sock_connect=10)
    with blackhole(server.port):
        async with client.ClientSession(connector=connector, timeout=timeout) as session:
            started = asyncio.get_running_loop().time()
            async with session.get(f"http://dual.test:{server.port}/") as resp:
                assert await resp.text() == "ok"
                assert resp.peername[0] == "127.0.0.1"
            assert asyncio.get_running_loop().time() - started < 5  # not the 10 s bound
    assert server.connections_opened == 1


async def test_without_happy_eyeballs_a_silent_address_takes_the_connect_timeout(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    resolver = client.StaticResolver({("dual.test", server.port): ["127.0.0.2", "127.0.0.1"]})
    connector = client.TCPConnector(resolver=resolver, happy_eyeballs_delay=None)
    timeout = client.ClientTimeout(sock_connect=0.5)
    with blackhole(server.port):
        async with client.ClientSession(connector=connector, timeout=timeout) as session:
            with pytest.raises(client.ConnectionTimeoutError):
                await session.get(f"http://dual.test:{server.port}/")
    assert server.connections_opened == 0


async def test_a_refused_address_starts_the_next_at_once(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """A failure does not wait out the delay (RFC 8305 §5): a long delay costs nothing."""
    server = await keepalive_server()
    resolver = client.StaticResolver({("dual.test", server.port): ["127.0.0.2", "127.0.0.1"]})
    connector = client.TCPConnector(resolver=resolver, happy_eyeballs_delay=30)
    starts: list[float] = []

    async def on_start(*_: object) -> None:
        starts.append(asyncio.get_running_loop().time())

    trace = client.TraceConfig()
    trace.on_tcp_connect_start.append(on_start)
    async with client.ClientSession(connector=connector, trace_configs=[trace]) as session:
        assert await get_text(session, f"http://dual.test:{server.port}/") == "ok"
    assert len(starts) == 2 and starts[1] - starts[0] < 5


async def test_every_address_failing_is_one_connector_error() -> None:
    port = closed_port()
    resolver = client.StaticResolver({("dual.test", port): ["127.0.0.2", "127.0.0.1"]})
    connector = client.TCPConnector(resolver=resolver)
    async with client.ClientSession(connector=connector) as session:
        with pytest.raises(client.ClientConnectorError) as caught:
            await session.get(f"http://dual.test:{port}/")
    assert caught.value.os_error.errno == errno.ECONNREFUSED


def test_families_interleave_after_the_first_count() -> None:
    from client.connector import interleave_families

    def addr(host: str, family: int) -> Any:
        return {"host": host, "family": family}

    v6 = [addr(f"::{i}", socket.AF_INET6) for i in range(1, 4)]
    v4 = [addr(f"10.0.0.{i}", socket.AF_INET) for i in range(1, 3)]
    hosts = [a["host"] for a in interleave_families([*v6, *v4], 1)]
    assert hosts == ["::1", "10.0.0.1", "::2", "10.0.0.2", "::3"]
    hosts = [a["host"] for a in interleave_families([*v6, *v4], 2)]
    assert hosts == ["::1", "::2", "10.0.0.1", "::3", "10.0.0.2"]
    assert interleave_families([*v6, *v4], 0) == [*v6, *v4]


async def test_conns_is_aiohttps_idle_map_read_only(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector()
    async with client.ClientSession(connector=connector) as session:
        assert connector._conns == {}
        async with session.get(server.url + "/") as resp:
            await resp.read()
        (idle,) = connector._conns.values()
        assert len(idle) == 1
        protocol, last_used = idle[0]
        assert isinstance(last_used, float)
        connector._conns.clear()  # a snapshot: the pool is not changed through it
        async with session.get(server.url + "/") as resp:
            await resp.read()
        assert next(iter(connector._conns.values()))[0][0] is protocol
    assert server.connections_opened == 1


async def test_close_with_abort_ssl(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    connector = client.TCPConnector(ssl=client_ssl_context)
    async with client.ClientSession(connector=connector, connector_owner=False) as session:
        async with session.get(server.url.replace("127.0.0.1", "localhost") + "/") as resp:
            assert await resp.text() == "ok"
    assert connector._conns
    await connector.close(abort_ssl=True)  # aiohttp 3.14's spelling
    assert connector.closed and not connector._conns
