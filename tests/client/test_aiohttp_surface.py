"""aiohttp parameters a script may pass, each with aiohttp's meaning, on loopback servers."""

from __future__ import annotations

import json
from typing import Any

import pytest

import client
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.raw import RawConnection

pytestmark = pytest.mark.timeout(30)


async def stall(conn: RawConnection) -> None:
    """Read whatever comes (a request, a ClientHello) and never answer."""
    while await conn.read():
        pass


# -- json_serialize_bytes --------------------------------------------------------------------


async def test_json_serialize_bytes_makes_the_json_body(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    calls: list[Any] = []

    def dumps_bytes(value: Any) -> bytes:  # what orjson.dumps does: compact, bytes
        calls.append(value)
        return json.dumps(value, separators=(",", ":")).encode()

    def dumps_str(value: Any) -> str:
        raise AssertionError("json_serialize must not be used when the bytes one is given")

    async with (
        client.ClientSession(json_serialize=dumps_str, json_serialize_bytes=dumps_bytes) as s,
        s.post(server.url + "/echo", json={"a": [1, 2], "é": None}) as resp,
    ):
        echo = await resp.json()
    assert echo["body"] == '{"a":[1,2],"\\u00e9":null}'
    assert echo["headers"]["Content-Type"] == "application/json"
    assert calls == [{"a": [1, 2], "é": None}]


async def test_json_serialize_is_used_without_a_bytes_encoder(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with (
        client.ClientSession(json_serialize=lambda v: json.dumps(v, indent=1)) as s,
        s.post(server.url + "/echo", json=[1]) as resp,
    ):
        echo = await resp.json()
    assert echo["body"] == "[\n 1\n]"
