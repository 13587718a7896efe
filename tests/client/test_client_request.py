"""The request as sent: Host first on the wire, the head each hop wrote, and a request built
without sending it that equals, byte for byte, what a raw loopback server receives."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from yarl import URL

import client
from tests.servers.raw import RawServerFactory, parse_head

pytestmark = pytest.mark.timeout(30)

OK = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]


def form_with_fixed_boundary() -> client.FormData:
    form = client.FormData(boundary="zurl-fixed-boundary")
    form.add_field("name", "pie")
    form.add_field("file", b"\x00\x01binary", filename="a.bin", content_type="application/x-a")
    return form


# (method, request kwargs) pairs: each is built, then sent, and the two must agree.
REPRESENTATIVE: dict[str, tuple[str, dict[str, Any]]] = {
    "get": ("GET", {"params": {"q": "1 2"}}),
    "json": ("POST", {"json": {"name": "pie", "n": [1, None]}}),
    "form": ("POST", {"data": {"a": "1", "b": "x y&z"}}),
    "multipart": ("POST", {"data": form_with_fixed_boundary}),
    "headers": (
        "PUT",
        {
            "headers": [("X-Second", "2"), ("Host", "example.test"), ("X-Third", "3")],
            "data": b"raw bytes",
        },
    ),
    "auth": ("DELETE", {"auth": client.BasicAuth("user", "pa:ss")}),
    "cookies": ("GET", {"cookies": {"per": "request"}}),
    "chunked": ("PATCH", {"data": b"chunk me", "chunked": True}),
    "skip": ("GET", {"skip_auto_headers": ["User-Agent", "Accept-Encoding"]}),
}


def fresh(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The kwargs with factories called: a body object is sent once."""
    return {k: v() if callable(v) else v for k, v in kwargs.items()}


@pytest.mark.parametrize("case", sorted(REPRESENTATIVE))
async def test_a_built_request_is_byte_identical_to_the_one_sent(
    raw_server: RawServerFactory, case: str
) -> None:
    method, kwargs = REPRESENTATIVE[case]
    server = await raw_server(OK)
    jar = client.CookieJar(unsafe=True)  # IP-address hosts keep cookies
    jar.update_cookies({"from_jar": "j1"}, URL(server.url))
    async with client.ClientSession(cookie_jar=jar, headers={"X-Session": "default"}) as session:
        built = session.build_request(method, server.url + "/path", **fresh(kwargs))
        assert server.connections_opened == 0  # building sends nothing
        async with session.request(method, server.url + "/path", **fresh(kwargs)) as resp:
            assert await resp.read() == b"ok"
            assert resp.request_head == built.head
    assert server.received[0] == built.to_bytes()
    request_line, *lines = built.head.decode("latin-1").split("\r\n")
    assert request_line == f"{method} {built.target} HTTP/1.1"
    assert tuple(lines[:-2]) == tuple(f"{k}: {v}" for k, v in built.headers)
    assert built.proxy_decision == client.ProxyDecision()


async def test_host_is_the_first_header_on_the_wire(raw_server: RawServerFactory) -> None:
    server = await raw_server(OK)
    async with client.ClientSession(headers={"X-Default": "d"}) as session:
        async with session.get(server.url + "/a", headers={"X-Mine": "1"}) as resp:
            await resp.read()
        # A Host the caller sets in the middle is sent, first, with the caller's value.
        async with session.get(
            server.url + "/b", headers=[("X-Mine", "1"), ("Host", "virtual.test")]
        ) as resp:
            await resp.read()
        async with session.get(server.url + "/c", skip_auto_headers=["Host"]) as resp:
            await resp.read()
    heads = [parse_head(received) for received in server.received]
    assert heads[0][2][:2] == [("Host", f"127.0.0.1:{server.port}"), ("X-Default", "d")]
    assert ("X-Mine", "1") in heads[0][2]
    assert heads[1][2][0] == ("Host", "virtual.test")
    assert [name for name, _ in heads[1][2]].count("Host") == 1
    assert "Host" not in [name for name, _ in heads[2][2]]


async def test_each_hop_reports_the_head_it_wrote(raw_server: RawServerFactory) -> None:
    target = await raw_server(OK)
    start = await raw_server(
        [f"HTTP/1.1 302 Found\r\nLocation: {target.url}/end\r\nContent-Length: 0\r\n\r\n".encode()]
    )
    sent_heads: list[bytes] = []

    async def on_headers_sent(
        session: object, ctx: object, params: client.TraceRequestHeadersSentParams
    ) -> None:
        sent_heads.append(params.head)

    trace = client.TraceConfig()
    trace.on_request_headers_sent.append(on_headers_sent)
    async with client.ClientSession(trace_configs=[trace]) as session:
        async with session.get(start.url + "/begin", auth=client.BasicAuth("u", "p")) as resp:
            await resp.read()
    first, last = resp.history[0].request_head, resp.request_head
    assert first is not None and last is not None
    assert start.received[0] == first
    assert target.received[0] == last
    assert sent_heads == [first, last]
    assert first.startswith(b"GET /begin HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"Authorization: Basic " in first
    assert b"Authorization" not in last  # a cross-origin redirect drops the credentials


async def test_built_through_a_plain_proxy_matches_what_the_proxy_receives(
    raw_server: RawServerFactory,
) -> None:
    proxy = await raw_server(OK)
    kwargs: dict[str, Any] = {
        "proxy": proxy.url,
        "proxy_auth": client.BasicAuth("puser", "ppass"),
        "proxy_headers": {"X-Via": "zurl"},
        "json": [1, 2],
    }
    async with client.ClientSession() as session:
        built = session.build_request("POST", "http://127.0.0.1:9/x?y=1", **kwargs)
        async with session.post("http://127.0.0.1:9/x?y=1", **kwargs) as resp:
            await resp.read()
    assert built.target == "http://127.0.0.1:9/x?y=1"
    assert built.proxy_decision is not None and built.proxy_decision.proxy == URL(proxy.url)
    assert proxy.received[0] == built.to_bytes()
    assert b"\r\nProxy-Authorization: Basic " in built.head


async def test_a_streamed_body_is_built_but_not_read(raw_server: RawServerFactory) -> None:
    read: list[bytes] = []

    async def stream() -> AsyncIterator[bytes]:
        read.append(b"x")
        yield b"x"

    async with client.ClientSession() as session:
        built = session.build_request("POST", "http://127.0.0.1:9/up", data=stream())
    assert (built.streamed, built.body, built.chunked) == (True, None, True)
    assert ("Transfer-Encoding", "chunked") in built.headers
    assert read == []
    with pytest.raises(ValueError, match="streamed"):
        built.to_bytes()
