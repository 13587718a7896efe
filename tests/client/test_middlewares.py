"""Client middlewares, ``max_headers`` and ``hdrs``: aiohttp 3.12+'s session surface, against
the keep-alive server and the raw server on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

import client
from client import hdrs
from client.client_request import ClientRequest
from client.middlewares import ClientHandlerType
from client.response import ClientResponse
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.raw import RawConnection, RawServerFactory

pytestmark = pytest.mark.timeout(30)


async def add_tag(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
    request.headers["X-Tag"] = "mw"
    return await handler(request)


async def test_a_middleware_changes_what_is_sent(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession(middlewares=(add_tag,)) as session:
        async with session.get(server.url + "/echo") as resp:
            echoed = await resp.json()
    assert echoed["headers"]["X-Tag"] == "mw"


async def test_the_first_middleware_is_outermost(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    calls: list[str] = []

    def recorder(name: str) -> client.ClientMiddlewareType:
        async def middleware(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
            calls.append(f"{name} in")
            resp = await handler(request)
            calls.append(f"{name} out {resp.status}")
            return resp

        return middleware

    async with client.ClientSession(middlewares=(recorder("a"), recorder("b"))) as session:
        async with session.get(server.url + "/") as resp:
            assert await resp.text() == "ok"
    assert calls == ["a in", "b in", "b out 200", "a out 200"]


async def test_per_request_middlewares_replace_the_sessions(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    seen: list[str] = []

    async def other(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        seen.append("other")
        return await handler(request)

    async with client.ClientSession(middlewares=(add_tag,)) as session:
        async with session.get(server.url + "/echo", middlewares=(other,)) as resp:
            assert "X-Tag" not in (await resp.json())["headers"]
        async with session.get(server.url + "/echo", middlewares=()) as resp:
            assert "X-Tag" not in (await resp.json())["headers"]
    assert seen == ["other"]


async def test_middlewares_run_for_every_redirect_hop(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    hops: list[str] = []

    async def record(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        hops.append(request.url.path)
        return await handler(request)

    target = server.url + "/echo"
    first = f"{server.url}/redirect?to={server.url}/redirect?to={target}"
    async with client.ClientSession(middlewares=(record,)) as session:
        async with session.get(first) as resp:
            assert resp.status == 200 and len(resp.history) == 2
    assert hops == ["/redirect", "/redirect", "/echo"]


async def test_a_retrying_middleware_sends_the_body_again(raw_server: RawServerFactory) -> None:
    async def script(conn: RawConnection) -> None:
        for status in (503, 200):
            await conn.read_request()
            conn.write(f"HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nhi".encode())

    server = await raw_server(script)
    statuses: list[int] = []

    async def retry(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        for _ in range(3):
            resp = await handler(request)
            statuses.append(resp.status)
            if resp.status != 503 or not request.replayable:
                return resp
            await resp.read()  # a small body: keep the connection for the next try
            resp.release()
        return resp

    async with client.ClientSession(middlewares=(retry,)) as session:
        async with session.post(server.url + "/", data=b"payload") as resp:
            assert resp.status == 200 and await resp.read() == b"hi"
    assert statuses == [503, 200]
    sent = server.received[0]
    assert sent.count(b"POST / HTTP/1.1") == 2 and sent.count(b"\r\n\r\npayload") == 2


async def test_a_one_shot_body_is_not_replayable(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 503 X\r\nContent-Length: 0\r\n\r\n"])
    seen: list[bool] = []

    async def look(request: ClientRequest, handler: ClientHandlerType) -> ClientResponse:
        seen.append(request.replayable)
        return await handler(request)

    async def body() -> AsyncIterator[bytes]:
        yield b"once"

    async with client.ClientSession(middlewares=(look,)) as session:
        async with session.post(server.url + "/", data=body()) as resp:
            assert resp.status == 503
    assert seen == [False]


async def test_max_headers_limits_a_response_head(raw_server: RawServerFactory) -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(10))
    server = await raw_server([b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n"])
    async with client.ClientSession(max_headers=5) as session:
        with pytest.raises(client.ClientResponseError, match="More than 5 response headers"):
            await session.get(server.url + "/")
        async with session.get(server.url + "/", max_headers=20) as resp:
            assert resp.headers["X-9"] == "v"


async def test_hdrs_names_work_as_header_keys(keepalive_server: KeepAliveServerFactory) -> None:
    import client as aiohttp  # the way an aiohttp script spells it

    server = await keepalive_server()
    async with aiohttp.ClientSession() as session:
        headers = {aiohttp.hdrs.ACCEPT_LANGUAGE: "de"}
        async with session.get(server.url + "/echo", headers=headers) as resp:
            assert resp.headers[hdrs.CONTENT_TYPE].startswith("application/json")
            assert json.loads(await resp.text())["headers"]["Accept-Language"] == "de"
    assert hdrs.METH_GET in hdrs.METH_ALL and hdrs.CONTENT_TYPE == "Content-Type"
