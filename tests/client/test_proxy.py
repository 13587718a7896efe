"""Proxies through a real proxy server (proxy.py) on loopback: plain, CONNECT, auth, env."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
import trustme
from yarl import URL

import client
from tests.servers import tls
from tests.servers.gunicorn import GunicornServer
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.proxy import ProxyServer
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)


async def test_plain_http_goes_through_the_proxy_in_absolute_form(
    proxy_server: ProxyServer, raw_server: RawServerFactory
) -> None:
    target = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"])
    async with client.ClientSession() as session:
        async with session.get(target.url + "/path?q=1", proxy=proxy_server.url) as resp:
            assert resp.status == 200
            assert await resp.text() == "hi"
    # The proxy rewrote the absolute-form target into origin form for the server.
    assert target.received[0].startswith(b"GET /path?q=1 HTTP/1.1\r\n")


async def test_https_through_connect_verifies_the_target(
    proxy_server: ProxyServer,
    gunicorn_httpbin_factory: object,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server: GunicornServer = gunicorn_httpbin_factory(tls=True)  # type: ignore[operator]
    async with client.ClientSession() as session:
        async with session.get(
            server.url + "/get", proxy=proxy_server.url, ssl=client_ssl_context
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["url"].startswith("https://")
        # Without the test CA the target's certificate does not verify, tunnel or not.
        with pytest.raises(client.ClientConnectorCertificateError):
            await session.get(server.url + "/get", proxy=proxy_server.url)


async def test_https_through_connect_with_a_fingerprint_pin(
    proxy_server: ProxyServer, gunicorn_httpbin_factory: object, tls_cert: trustme.LeafCert
) -> None:
    server: GunicornServer = gunicorn_httpbin_factory(tls=True)  # type: ignore[operator]
    good = client.Fingerprint(tls.fingerprint_sha256(tls_cert))
    async with client.ClientSession() as session:
        async with session.get(server.url + "/get", proxy=proxy_server.url, ssl=good) as resp:
            assert resp.status == 200
        with pytest.raises(client.ServerFingerprintMismatch) as info:
            await session.get(
                server.url + "/get", proxy=proxy_server.url, ssl=client.Fingerprint(b"\0" * 32)
            )
    assert info.value.got == tls.fingerprint_sha256(tls_cert)


async def test_proxy_credentials_right_and_wrong(
    auth_proxy_server: ProxyServer, gunicorn_httpbin: GunicornServer
) -> None:
    async with client.ClientSession() as session:
        async with session.get(
            gunicorn_httpbin.url + "/headers",
            proxy=auth_proxy_server.url,
            proxy_auth=client.BasicAuth("user", "pass"),
        ) as resp:
            assert resp.status == 200
            seen = (await resp.json())["headers"]
        # The target never sees the proxy's credentials.
        assert "Proxy-Authorization" not in seen
        async with session.get(
            gunicorn_httpbin.url + "/get", proxy=auth_proxy_server.url_with_credentials
        ) as resp:
            assert resp.status == 200
        async with session.get(
            gunicorn_httpbin.url + "/get",
            proxy=auth_proxy_server.url,
            proxy_auth=client.BasicAuth("user", "wrong"),
        ) as resp:
            assert resp.status == 407


async def test_connect_refused_by_the_proxy_is_http_proxy_error(
    auth_proxy_server: ProxyServer, gunicorn_httpbin_factory: object
) -> None:
    server: GunicornServer = gunicorn_httpbin_factory(tls=True)  # type: ignore[operator]
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientHttpProxyError) as info:
            await session.get(server.url + "/get", proxy=auth_proxy_server.url, ssl=False)
    assert info.value.status == 407


async def test_connect_never_carries_the_target_authorization(
    raw_server: RawServerFactory,
) -> None:
    # A scripted "proxy" that records the CONNECT it receives, then refuses it.
    proxy = await raw_server([b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"])
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientHttpProxyError):
            await session.get(
                "https://example.test/",
                proxy=proxy.url,
                proxy_auth=client.BasicAuth("puser", "ppass"),
                auth=client.BasicAuth("target", "secret"),
                headers={"Cookie": "a=b"},
            )
    connect = proxy.received[0].decode()
    assert connect.startswith("CONNECT example.test:443 HTTP/1.1\r\n")
    assert "Proxy-Authorization: Basic " in connect
    assert "Authorization: Basic dGFyZ2V0" not in connect
    assert "Cookie" not in connect


async def test_unreachable_proxy_is_proxy_connection_error(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
    server = await keepalive_server()
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientProxyConnectionError):
            await session.get(server.url, proxy=f"http://127.0.0.1:{dead_port}")


async def test_https_proxy_carries_https_request_tls_in_tls(
    tls_proxy_server: ProxyServer,
    gunicorn_httpbin_factory: object,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server: GunicornServer = gunicorn_httpbin_factory(tls=True)  # type: ignore[operator]
    async with client.ClientSession() as session:
        async with session.get(
            server.url + "/get",
            proxy=tls_proxy_server.url,
            ssl=client_ssl_context,
            proxy_ssl=client_ssl_context,
        ) as resp:
            assert resp.status == 200
            assert resp.connection is None or resp.connection.transport is not None
    # The proxy's own log shows the tunnel: the request was not sent around it.
    assert await logged(tls_proxy_server, f"CONNECT 127.0.0.1:{URL(server.url).port}")


async def test_env_proxy_with_trust_env_and_no_proxy(
    proxy_server: ProxyServer,
    raw_server: RawServerFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    monkeypatch.setenv("HTTP_PROXY", proxy_server.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
    async with client.ClientSession(trust_env=True) as session:
        async with session.get(target.url + "/via-proxy") as resp:
            assert resp.status == 200
    # What shows the request went through the proxy: the proxy's access log names it.
    assert await logged(proxy_server, "/via-proxy")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with client.ClientSession(trust_env=True) as session:
        async with session.get(target.url + "/direct") as resp:
            assert resp.status == 200
    assert not await logged(proxy_server, "/direct", wait=0.3)
    # trust_env=False (the default) ignores the environment entirely.
    monkeypatch.delenv("NO_PROXY")
    async with client.ClientSession() as session:
        async with session.get(target.url + "/ignored") as resp:
            assert resp.status == 200
    assert not await logged(proxy_server, "/ignored", wait=0.3)


async def test_netrc_supplies_proxy_credentials(
    auth_proxy_server: ProxyServer,
    gunicorn_httpbin: GunicornServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTP_PROXY", auth_proxy_server.url)
    for name in ("http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    async with client.ClientSession(trust_env=True) as session:
        async with session.get(gunicorn_httpbin.url + "/get") as resp:
            assert resp.status == 200


def redirect_to(url: str) -> list[bytes | float]:
    return [f"HTTP/1.1 302 Found\r\nLocation: {url}\r\nContent-Length: 0\r\n\r\n".encode()]


OK_SCRIPT: list[bytes | float] = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
PROXY_CREDENTIALS = client.BasicAuth("user", "pass")


async def test_a_redirect_to_a_no_proxy_host_goes_direct(
    auth_proxy_server: ProxyServer, raw_server: RawServerFactory
) -> None:
    direct = await raw_server(OK_SCRIPT, host="localhost")
    proxied = await raw_server(redirect_to(f"http://localhost:{direct.port}/direct"))
    async with client.ClientSession() as session:
        async with session.get(
            proxied.url + "/via-proxy",
            proxy=auth_proxy_server.url,
            proxy_auth=PROXY_CREDENTIALS,
            no_proxy="localhost",
        ) as resp:
            assert await resp.text() == "ok"
    first, last = resp.history[0].proxy_decision, resp.proxy_decision
    assert first is not None and last is not None
    assert first.proxy == URL(auth_proxy_server.url)
    assert (first.source, first.authenticated, first.tunnel) == ("proxy=", True, False)
    assert last.proxy is None
    assert (last.source, last.no_proxy, last.no_proxy_source) == (
        "proxy=",
        "localhost",
        "no_proxy=",
    )
    # The direct hop reached the server in origin form, with no proxy credentials...
    assert direct.received[0].startswith(b"GET /direct HTTP/1.1\r\n")
    assert b"proxy-authorization" not in direct.received[0].lower()
    # ...and the proxy carried the first hop only (its access log names what it served).
    assert await logged(auth_proxy_server, "/via-proxy")
    assert not await logged(auth_proxy_server, "/direct", wait=0.3)


async def test_a_redirect_from_a_no_proxy_host_goes_through_the_proxy(
    auth_proxy_server: ProxyServer, raw_server: RawServerFactory
) -> None:
    proxied = await raw_server(OK_SCRIPT)
    direct = await raw_server(redirect_to(proxied.url + "/then-proxied"), host="localhost")
    async with client.ClientSession(
        proxy=auth_proxy_server.url, proxy_auth=PROXY_CREDENTIALS, no_proxy=["localhost"]
    ) as session:
        async with session.get(direct.url + "/first-direct") as resp:
            assert await resp.text() == "ok"
    assert resp.history[0].proxy_decision is not None
    assert resp.history[0].proxy_decision.no_proxy == "localhost"
    assert resp.proxy_decision is not None
    assert resp.proxy_decision.proxy == URL(auth_proxy_server.url)
    assert direct.received[0].startswith(b"GET /first-direct HTTP/1.1\r\n")
    assert b"proxy-authorization" not in direct.received[0].lower()
    assert await logged(auth_proxy_server, "/then-proxied")
    assert not await logged(auth_proxy_server, "/first-direct", wait=0.3)


async def test_the_environment_is_read_per_hop_and_named(
    proxy_server: ProxyServer, raw_server: RawServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("http_proxy", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy_server.url.replace("http://", "http://u:secret@"))
    monkeypatch.setenv("NO_PROXY", "example.invalid, localhost")
    direct = await raw_server(OK_SCRIPT, host="localhost")
    proxied = await raw_server(redirect_to(f"http://localhost:{direct.port}/env-direct"))
    async with client.ClientSession(trust_env=True) as session:
        async with session.get(proxied.url + "/env-proxied") as resp:
            assert resp.status == 200
    first, last = resp.history[0].proxy_decision, resp.proxy_decision
    assert first is not None and last is not None
    assert (first.proxy, first.source, first.authenticated) == (
        URL(proxy_server.url),
        "HTTP_PROXY",
        True,
    )
    assert (last.proxy, last.source, last.no_proxy, last.no_proxy_source) == (
        None,
        "HTTP_PROXY",
        "localhost",
        "NO_PROXY",
    )
    # Safe to print: the decisions never hold the credentials.
    for decision in (first, last):
        assert "secret" not in f"{decision} {decision!r}"
    assert (
        str(first) == f"via {proxy_server.url} (absolute-form, from HTTP_PROXY, with credentials)"
    )
    assert str(last) == "direct: NO_PROXY lists localhost (proxy from HTTP_PROXY)"
    assert await logged(proxy_server, "/env-proxied")
    assert not await logged(proxy_server, "/env-direct", wait=0.3)
    # no_proxy= replaces NO_PROXY for environment proxies too.
    async with client.ClientSession(trust_env=True, no_proxy="127.0.0.1") as session:
        async with session.get(proxied.url + "/arg-wins", allow_redirects=False) as resp:
            assert resp.proxy_decision is not None
            assert resp.proxy_decision.no_proxy_source == "no_proxy="
    assert proxied.received[-1].startswith(b"GET /arg-wins HTTP/1.1\r\n")


async def test_no_proxy_star_bypasses_an_explicit_proxy(
    proxy_server: ProxyServer, raw_server: RawServerFactory
) -> None:
    target = await raw_server(OK_SCRIPT)
    async with client.ClientSession(proxy=proxy_server.url) as session:
        async with session.get(target.url + "/star", no_proxy="*") as resp:
            assert resp.status == 200
            assert resp.proxy_decision is not None
            assert resp.proxy_decision.no_proxy == "*"
    assert target.received[0].startswith(b"GET /star HTTP/1.1\r\n")
    async with client.ClientSession() as session:
        async with session.get(target.url + "/none") as resp:
            assert resp.proxy_decision == client.ProxyDecision()
            assert str(resp.proxy_decision) == "direct"


async def test_ws_proxy_and_wss_proxy_are_read_for_websockets(
    raw_server: RawServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    refuse = [b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"]
    ws_proxy = await raw_server(refuse)
    wss_proxy = await raw_server(refuse)
    http_proxies = await raw_server(refuse)  # HTTP(S)_PROXY: not for ws:// and wss://
    for name in ("ws_proxy", "wss_proxy", "http_proxy", "https_proxy", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WS_PROXY", ws_proxy.url)
    monkeypatch.setenv("WSS_PROXY", wss_proxy.url)
    monkeypatch.setenv("HTTP_PROXY", http_proxies.url)
    monkeypatch.setenv("HTTPS_PROXY", http_proxies.url)
    async with client.ClientSession(trust_env=True) as session:
        with pytest.raises(client.WSServerHandshakeError):
            await session.ws_connect("ws://127.0.0.1:9/chat")
        with pytest.raises(client.ClientHttpProxyError):
            await session.ws_connect("wss://127.0.0.1:9/chat")
    assert ws_proxy.received[0].startswith(b"GET http://127.0.0.1:9/chat HTTP/1.1\r\n")
    assert wss_proxy.received[0].startswith(b"CONNECT 127.0.0.1:9 HTTP/1.1\r\n")
    assert http_proxies.received == []


async def test_proxy_authorization_never_enters_the_connect_tunnel(
    auth_proxy_server: ProxyServer,
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    # The target is a raw TLS server: it records the request exactly as the tunnel
    # delivered it, after the proxy had its CONNECT with credentials.
    target = await raw_server(OK_SCRIPT, ssl=server_ssl_context)
    async with client.ClientSession() as session:
        async with session.get(
            target.url + "/inside",
            proxy=auth_proxy_server.url,
            proxy_auth=PROXY_CREDENTIALS,
            proxy_headers={"X-Proxy-Only": "tenant-7"},
            ssl=client_ssl_context,
        ) as resp:
            assert await resp.text() == "ok"
            assert resp.proxy_decision is not None and resp.proxy_decision.tunnel
    request = target.received[0]
    assert request.startswith(b"GET /inside HTTP/1.1\r\n")
    assert b"proxy-authorization" not in request.lower()
    assert b"x-proxy-only" not in request.lower()
    assert await logged(auth_proxy_server, f"CONNECT 127.0.0.1:{target.port}")


async def logged(proxy: ProxyServer, needle: str, wait: float = 5.0) -> bool:
    """Whether the proxy's access log names ``needle`` (it is written after the response)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while needle not in proxy.log():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


@pytest.mark.parametrize(
    ("proxy", "error"), [(42, TypeError), ("http://[invalid", client.InvalidURL)]
)
async def test_a_wrong_proxy_is_refused_before_any_hop(
    raw_server: RawServerFactory, proxy: object, error: type[Exception]
) -> None:
    # A proxy of the wrong type is aiohttp's TypeError; one that does not parse InvalidURL.
    target = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    async with client.ClientSession() as session:
        with pytest.raises(error):
            await session.get(target.url + "/", proxy=proxy)  # type: ignore[arg-type]
    assert target.connections_opened == 0
