"""The seed's examples ("Advanced Client Usage"), run as written against local httpbin.

Sections: Client Session, Custom Request Headers (and the cookies that follow it), Response
Headers and Cookies, Disabling content type validation for JSON responses, Limiting
connection pool size, Graceful Shutdown. The code is the seed's with only the URL changed
(httpbin.org -> a loopback httpbin) — that is the point: ``import client as aiohttp``.
"""

from __future__ import annotations

import asyncio
import gc
import ssl
import warnings
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDictProxy

import client as aiohttp
from client import ClientSession
from tests.servers.gunicorn import GunicornServer
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(60)


def localhost(server: GunicornServer) -> str:
    """The server's URL by name: cookies are not kept for bare IP addresses."""
    return f"http://localhost:{server.port}"


# -- Client Session -----------------------------------------------------------------------


async def test_client_session_shares_cookies_and_connections(
    gunicorn_httpbin: GunicornServer,
) -> None:
    base = localhost(gunicorn_httpbin)
    created: list[int] = []

    async def on_create(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        created.append(1)

    trace_config = aiohttp.TraceConfig()
    trace_config.on_connection_create_end.append(on_create)
    async with aiohttp.ClientSession(trace_configs=[trace_config]) as session:
        await session.get(base + "/cookies/set?my_cookie=my_value")
        # A str URL works and warns, as in aiohttp 3.14 (it wants a yarl.URL).
        with pytest.warns(DeprecationWarning, match="yarl.URL"):
            filtered = session.cookie_jar.filter_cookies(base)  # type: ignore[arg-type]
        assert filtered["my_cookie"].value == "my_value"
        async with session.get(base + "/cookies") as r:
            json_body = await r.json()
            assert json_body["cookies"]["my_cookie"] == "my_value"
        # The seed's first response is never read, so its connection may still be busy
        # when the next request starts; from then on the pool serves every request.
        opened = len(created)
        for _ in range(3):
            async with session.get(base + "/get") as r:
                await r.read()
    assert opened <= 2
    assert len(created) == opened, "the pooled keep-alive connections served the rest"


async def test_custom_connector_owned_and_shared(gunicorn_httpbin: GunicornServer) -> None:
    conn = aiohttp.TCPConnector()
    session = aiohttp.ClientSession(connector=conn)
    async with session.get(gunicorn_httpbin.url + "/get") as resp:
        assert resp.status == 200
    await session.close()
    assert conn.closed, "by default the session owns (and closes) its connector"

    shared = aiohttp.TCPConnector()
    for _ in range(2):
        async with aiohttp.ClientSession(connector=shared, connector_owner=False) as session:
            async with session.get(gunicorn_httpbin.url + "/get") as resp:
                assert resp.status == 200
        assert not shared.closed
    await shared.close()


# -- Custom Request Headers ---------------------------------------------------------------


async def test_custom_request_headers(gunicorn_httpbin: GunicornServer) -> None:
    url = gunicorn_httpbin.url + "/post"
    payload = b"GIF89a\x01\x00\x01\x00\x00\xff\x00,\x00\x00"
    headers = {"content-type": "image/gif"}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=payload, headers=headers) as resp:
            body = await resp.json()
    assert body["headers"]["Content-Type"] == "image/gif"
    assert body["headers"]["Content-Length"] == str(len(payload))


async def test_default_session_headers(gunicorn_httpbin: GunicornServer) -> None:
    headers = {"Authorization": "Basic bG9naW46cGFzcw=="}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(gunicorn_httpbin.url + "/headers") as r:
            json_body = await r.json()
            assert json_body["headers"]["Authorization"] == "Basic bG9naW46cGFzcw=="


async def test_json_keyword_and_text_body(gunicorn_httpbin: GunicornServer) -> None:
    url = gunicorn_httpbin.url + "/post"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"example": "text"}) as resp:
            body = await resp.json()
            assert body["json"] == {"example": "text"}
            assert body["headers"]["Content-Type"] == "application/json"
        async with session.post(url, data="Привет, Мир!") as resp:
            body = await resp.json()
            assert body["data"] == "Привет, Мир!"
            assert body["headers"]["Content-Type"].startswith("text/plain")


async def test_custom_cookies(gunicorn_httpbin: GunicornServer) -> None:
    url = gunicorn_httpbin.url + "/cookies"
    cookies = {"cookies_are": "working"}
    async with ClientSession(cookies=cookies) as session:
        async with session.get(url) as resp:
            assert await resp.json() == {"cookies": {"cookies_are": "working"}}


# -- Response Headers and Cookies ---------------------------------------------------------


async def test_response_headers(gunicorn_httpbin: GunicornServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(gunicorn_httpbin.url + "/get") as resp:
            assert isinstance(resp.headers, CIMultiDictProxy)
            assert resp.headers["Content-Type"] == "application/json"
            assert resp.headers.get("content-type") == "application/json"
            assert resp.headers["CONTENT-TYPE"] == "application/json"
            assert resp.headers["content-length"] == str(len(await resp.read()))
            assert "gunicorn" in resp.headers["SERVER"]
            # raw_headers: the same fields, as undecoded bytes, in the server's order.
            assert all(isinstance(n, bytes) and isinstance(v, bytes) for n, v in resp.raw_headers)
            decoded = [(n.decode(), v.decode()) for n, v in resp.raw_headers]
            assert decoded == list(resp.headers.items())


async def test_response_cookies(gunicorn_httpbin: GunicornServer) -> None:
    url = gunicorn_httpbin.url + "/response-headers?Set-Cookie=example_cookie_name%3Dvalue"
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as resp:
            assert resp.cookies["example_cookie_name"].value == "value"


async def test_response_cookies_are_the_last_hop_only(gunicorn_httpbin: GunicornServer) -> None:
    base = localhost(gunicorn_httpbin)
    async with aiohttp.ClientSession() as session:
        async with session.get(base + "/cookies/set?hop=first") as resp:
            assert resp.status == 200
            assert len(resp.history) == 1
            assert "hop" in resp.history[0].cookies
            assert "hop" not in resp.cookies, "the final response set no cookie"
            assert (await resp.json())["cookies"] == {"hop": "first"}
        assert {c.key for c in session.cookie_jar} == {"hop"}, "the session gathers them all"


# -- Disabling content type validation for JSON responses ---------------------------------


async def test_json_content_type_validation(gunicorn_httpbin: GunicornServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(gunicorn_httpbin.url + "/html") as resp:
            assert resp.content_type == "text/html"
            with pytest.raises(aiohttp.ContentTypeError):
                await resp.json()


def json_as(content_type: str) -> list[bytes | float]:
    """A server that sends JSON under a wrong (or custom) Content-Type, as the seed says."""
    body = b'{"served": "%s"}' % content_type.encode()
    head = "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n"
    return [(head % (content_type, len(body))).encode() + body]


@pytest.mark.parametrize(
    ("served", "kwargs", "accepted"),
    [
        ("application/json", {}, True),
        ("application/vnd.custom-type+json", {}, True),
        ("text/html", {}, False),
        ("custom/type", {"content_type": "custom/type"}, True),
        ("custom/xxx+type", {"content_type": "custom/type"}, False),
        ("text/html", {"content_type": None}, True),
        ("custom/xxx+type", {"content_type": None}, True),
    ],
)
async def test_json_content_type_workarounds(
    raw_server: RawServerFactory, served: str, kwargs: dict[str, Any], accepted: bool
) -> None:
    server = await raw_server(json_as(served))
    async with aiohttp.ClientSession() as session, session.get(server.url) as resp:
        if accepted:
            assert await resp.json(**kwargs) == {"served": served}
        else:
            with pytest.raises(aiohttp.ContentTypeError):
                await resp.json(**kwargs)


# -- Limiting connection pool size --------------------------------------------------------


def counting_trace() -> tuple[aiohttp.TraceConfig, list[str]]:
    hosts: list[str] = []

    async def on_create(session: Any, ctx: SimpleNamespace, params: Any) -> None:
        hosts.append(ctx.trace_request_ctx or "")

    trace_config = aiohttp.TraceConfig()
    trace_config.on_connection_create_end.append(on_create)
    return trace_config, hosts


async def test_limit(gunicorn_httpbin: GunicornServer) -> None:
    conn = aiohttp.TCPConnector(limit=3)
    assert conn.limit == 3
    trace_config, created = counting_trace()
    async with aiohttp.ClientSession(connector=conn, trace_configs=[trace_config]) as session:

        async def one() -> int:
            async with session.get(gunicorn_httpbin.url + "/delay/0.2") as resp:
                await resp.read()
                return resp.status

        assert await asyncio.gather(*(one() for _ in range(7))) == [200] * 7
    assert len(created) == 3, "seven requests in parallel, never more than three connections"


async def test_limit_default_and_zero() -> None:
    conn = aiohttp.TCPConnector()
    assert conn.limit == 100
    await conn.close()
    conn = aiohttp.TCPConnector(limit=0)
    assert conn.limit == 0
    await conn.close()


async def test_limit_per_host(gunicorn_httpbin: GunicornServer) -> None:
    conn = aiohttp.TCPConnector(limit_per_host=2)
    assert conn.limit_per_host == 2
    trace_config, created = counting_trace()
    endpoints = [gunicorn_httpbin.url, localhost(gunicorn_httpbin)]
    async with aiohttp.ClientSession(connector=conn, trace_configs=[trace_config]) as session:

        async def one(base: str) -> None:
            async with session.get(base + "/delay/0.2", trace_request_ctx=base) as resp:
                await resp.read()

        await asyncio.gather(*(one(base) for _ in range(4) for base in endpoints))
    assert sorted(created) == sorted(endpoints * 2), "two connections per endpoint"


# -- Graceful Shutdown --------------------------------------------------------------------


async def read_website(url: str, **kwargs: Any) -> bytes:
    """The seed's example, minus its ``await asyncio.sleep(...)`` workaround."""
    async with aiohttp.ClientSession() as session:
        async with session.get(url, **kwargs) as resp:
            return await resp.read()


def resource_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


async def test_graceful_shutdown_without_sleep(gunicorn_httpbin: GunicornServer) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert await read_website(gunicorn_httpbin.url + "/get")
        gc.collect()
    assert resource_warnings(caught) == []


async def test_graceful_shutdown_tls_without_sleep(
    gunicorn_httpbin_factory: Any, client_ssl_context: ssl.SSLContext
) -> None:
    server = gunicorn_httpbin_factory(tls=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert await read_website(server.url + "/get", ssl=client_ssl_context)
        gc.collect()
    assert resource_warnings(caught) == []


async def test_authorization_removed_on_redirect_to_another_host(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """'Authorization header will be removed if you get redirected to a different host.'"""
    server = await keepalive_server()
    other_host = f"http://localhost:{server.port}/echo"
    same_host = f"{server.url}/echo"
    headers = {"Authorization": "Basic bG9naW46cGFzcw=="}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(server.url + "/redirect", params={"to": same_host}) as r:
            assert (await r.json())["headers"]["Authorization"] == headers["Authorization"]
        async with session.get(server.url + "/redirect", params={"to": other_host}) as r:
            assert r.url.host == "localhost"
            assert "Authorization" not in (await r.json())["headers"]
