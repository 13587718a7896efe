"""ClientSession against real loopback servers: the everyday request/response surface."""

from __future__ import annotations

import asyncio

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
