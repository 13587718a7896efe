"""ClientSession against real loopback servers: the everyday request/response surface."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

import pytest

import client
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.raw import RawServerFactory


async def test_get_text_and_headers(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert resp.status == 200
        assert resp.reason == "OK"
        assert resp.ok
        assert await resp.text() == "ok"
        assert resp.headers["content-length"] == "2"
        assert resp.version == client.HttpVersion11


async def test_hundred_requests_use_one_connection(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        for _ in range(100):
            async with session.get(server.url + "/") as resp:
                assert await resp.read() == b"ok"
    assert server.connections_opened == 1
    assert server.requests == 100


async def test_post_json_echo(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        async with session.post(server.url + "/echo", json={"a": 1}) as resp:
            echo = await resp.json()
    assert echo["method"] == "POST"
    assert echo["headers"]["Content-Type"] == "application/json"
    assert echo["body"] == '{"a": 1}'


async def test_truncated_body_is_payload_error(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"])
    async with client.ClientSession() as session, session.get(server.url) as resp:
        with pytest.raises(client.ClientPayloadError):
            await resp.read()


async def test_stall_in_head_is_socket_timeout(raw_server: RawServerFactory) -> None:
    server = await raw_server([5.0])
    timeout = client.ClientTimeout(sock_read=0.2)
    async with client.ClientSession(timeout=timeout) as session:
        with pytest.raises(client.SocketTimeoutError):
            await session.get(server.url)


async def test_chunked_response(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        async with session.get(server.url + "/chunked/5") as resp:
            body = await resp.read()
    assert len(body) > 0


async def test_limit_three(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=3)
    async with client.ClientSession(connector=connector) as session:

        async def one() -> None:
            async with session.get(server.url + "/delay/0.05") as resp:
                await resp.read()

        await asyncio.gather(*(one() for _ in range(12)))
    assert server.max_active <= 3
    assert server.requests == 12


# -- aiohttp's API surface: the request object, the constructor, deprecations -------------


async def test_a_request_is_a_coroutine_for_create_task(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        task = asyncio.create_task(session.get(server.url + "/"))
        assert repr(task).startswith("<Task pending")
        resp = await task
        assert await resp.text() == "ok"
        resp.release()


async def test_a_cancelled_request_task_raises_cancelled(raw_server: RawServerFactory) -> None:
    server = await raw_server([30.0])
    async with client.ClientSession() as session:
        task = asyncio.create_task(session.get(server.url + "/"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_base_url_needs_a_trailing_slash() -> None:
    with pytest.raises(ValueError, match="trailing '/'"):
        client.ClientSession(base_url="http://127.0.0.1/api")
    async with client.ClientSession(base_url="http://127.0.0.1/api/") as session:
        assert str(session._build_url("v1")) == "http://127.0.0.1/api/v1"


def test_a_connector_of_another_loop_is_refused() -> None:
    async def make() -> client.TCPConnector:
        return client.TCPConnector()

    other = asyncio.new_event_loop()
    try:
        connector = other.run_until_complete(make())

        async def session_here() -> None:
            client.ClientSession(connector=connector, loop=asyncio.get_running_loop())

        with pytest.raises(RuntimeError, match="same event loop"):
            asyncio.run(session_here())
        other.run_until_complete(connector.close())
    finally:
        other.close()


async def test_deprecations_aiohttp_3_14_emits() -> None:
    with pytest.warns(DeprecationWarning, match="discouraged"):

        class Mine(client.ClientSession):
            pass

    async with client.ClientSession() as session:
        with pytest.warns(DeprecationWarning):
            assert session.loop is asyncio.get_running_loop()
        with pytest.warns(DeprecationWarning):
            session.requote_redirect_url = False
        assert not session.requote_redirect_url


async def test_chunk_size_is_deprecated(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        with pytest.warns(DeprecationWarning, match="Chunk size"):
            async with session.post(server.url + "/echo", data=b"x", chunked=1024) as resp:
                assert resp.status == 200


async def test_request_and_response_classes(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    made: list[str] = []

    class Request(client.ClientRequest):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(str(self.url))

    class Response(client.ClientResponse):
        pass

    async with client.ClientSession(request_class=Request, response_class=Response) as session:
        async with session.get(server.url + "/") as resp:
            assert isinstance(resp, Response)
            assert await resp.text() == "ok"
    assert made == [server.url + "/"]


def test_client_timeout_compares_by_value() -> None:
    class Other:  # another package's ClientTimeout, aiohttp's say
        total, connect, sock_read, sock_connect, ceil_threshold = 300, None, None, 30, 5

    Other.__name__ = "ClientTimeout"
    assert client.ClientTimeout(total=300, sock_connect=30) == Other()
    assert client.ClientTimeout(total=301, sock_connect=30) != Other()
    assert client.ClientTimeout(total=300) != object()


async def test_more_headers_than_aiohttps_default_128_is_an_error(
    raw_server: RawServerFactory,
) -> None:
    many = "".join(f"X-{i}: v\r\n" for i in range(129))
    server = await raw_server([f"HTTP/1.1 200 OK\r\n{many}Content-Length: 0\r\n\r\n".encode()])
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientResponseError):
            await session.get(server.url + "/")
    async with client.ClientSession(max_headers=200) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.headers["X-128"] == "v"


async def test_trace_start_handler_may_add_headers(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()

    async def add(session: object, ctx: object, params: client.TraceRequestStartParams) -> None:
        params.headers["X-Added"] = "yes"  # type: ignore[index]

    trace = client.TraceConfig()
    trace.on_request_start.append(add)
    async with client.ClientSession(trace_configs=[trace], headers={"X-D": "1"}) as session:
        async with session.get(server.url + "/echo") as resp:
            echo = await resp.json()
        assert "X-Added" not in session.headers  # the session's defaults stay as they were
    assert echo["headers"]["X-Added"] == "yes"


async def test_an_unclosed_session_is_reported() -> None:
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    try:
        session = client.ClientSession()
        with pytest.warns(ResourceWarning, match="Unclosed client session"):
            del session
            gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert [r["message"] for r in reports] == ["Unclosed client session"]


async def test_a_failing_cookie_jar_frees_the_connection(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()

    class EvilJar(client.CookieJar):
        def update_cookies_from_headers(self, headers: Any, response_url: Any) -> None:
            raise RuntimeError("boom")

    connector = client.TCPConnector(limit=1)
    async with client.ClientSession(connector=connector, cookie_jar=EvilJar()) as session:
        for _ in range(2):
            with pytest.raises(RuntimeError, match="boom"):
                await session.get(server.url + "/set-cookie?a=1")
        # The only slot is free again: this does not wait forever.
        async with asyncio.timeout(5), session.get(server.url + "/") as resp:
            assert await resp.text() == "ok"
