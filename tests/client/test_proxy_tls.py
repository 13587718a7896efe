"""An https:// proxy's own TLS (``proxy_ssl``): verified on its own terms, never the target's.

Refusals are checked on what the proxy itself received: a scripted TLS proxy records every
byte its connections deliver after the handshake, so "no Proxy-Authorization, no request"
is asserted on the proxy's side, not inferred from the client's error.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable

import pytest
import trustme

import client
from tests.client.test_proxy import logged
from tests.servers import tls
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.proxy import ProxyServer
from tests.servers.raw import RawConnection, RawServer, RawServerFactory

pytestmark = pytest.mark.timeout(30)

PROXIED = b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\nproxied"
REFUSED = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
PROXY_AUTH = client.BasicAuth("puser", "psecret")
# Never connected to: every test here stops at the proxy.
UNREACHED = "127.0.0.1:9"


async def scripted_proxy(
    raw_server: RawServerFactory, context: ssl.SSLContext
) -> tuple[RawServer, list[object]]:
    """A TLS "proxy" that answers absolute-form requests itself and refuses CONNECT;
    it also records the client certificate each connection presented (None: none)."""
    certificates: list[object] = []

    async def script(conn: RawConnection) -> None:
        certificates.append(conn.peer_certificate)
        request = await conn.read_request()
        conn.write(REFUSED if request.startswith(b"CONNECT ") else PROXIED)

    return await raw_server(script, ssl=context), certificates


TargetSSL = Callable[[trustme.LeafCert, ssl.SSLContext], object]
TARGET_SSL: dict[str, TargetSSL] = {
    "ssl=False": lambda cert, trusting: False,
    "Fingerprint": lambda cert, trusting: client.Fingerprint(tls.fingerprint_sha256(cert)),
    "Pins": lambda cert, trusting: client.Pins(tls.fingerprint_sha256(cert), verify=False),
    "a context trusting the proxy's CA": lambda cert, trusting: trusting,
}


@pytest.mark.parametrize("target_ssl", sorted(TARGET_SSL))
@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_an_untrusted_proxy_is_refused_whatever_the_target_ssl_says(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
    target_ssl: str,
    scheme: str,
) -> None:
    # The proxy's certificate comes from the test CA, which no default trust store has.
    proxy, _ = await scripted_proxy(raw_server, server_ssl_context)
    value = TARGET_SSL[target_ssl](tls_cert, client_ssl_context)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientProxyCertificateError) as info:
            await session.get(
                f"{scheme}://{UNREACHED}/secret",
                proxy=proxy.url,
                proxy_auth=PROXY_AUTH,
                ssl=value,
                headers={"Authorization": "Bearer target-secret"},
            )
    error = info.value
    assert isinstance(error, client.ClientProxyConnectionError)
    assert isinstance(error, client.ClientConnectorCertificateError)
    assert (error.host, error.port) == ("127.0.0.1", proxy.port)  # the proxy, not the target
    assert f"proxy 127.0.0.1:{proxy.port}" in str(error)
    assert "certificate verify failed" in str(error)
    # The proxy's side: the handshake never completed, so not one byte reached it.
    assert b"".join(proxy.received) == b""


async def test_proxy_ssl_false_or_a_trusting_context_accepts_it(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    proxy, _ = await scripted_proxy(raw_server, server_ssl_context)
    async with client.ClientSession(proxy=proxy.url, proxy_auth=PROXY_AUTH) as session:
        async with session.get(f"http://{UNREACHED}/a", proxy_ssl=False) as resp:
            assert await resp.text() == "proxied"
            assert resp.tls_info is None  # the proxy's handshake is not the target's
        async with session.get(f"http://{UNREACHED}/b", proxy_ssl=client_ssl_context) as resp:
            assert await resp.text() == "proxied"
        with pytest.raises(client.ClientHttpProxyError):
            await session.get(f"https://{UNREACHED}/c", proxy_ssl=client_ssl_context)
    # proxy_ssl=False is a different security setting: its connection is not reused for /b.
    assert proxy.connections_opened == 3
    first, second, third = (bytes(r) for r in proxy.received)
    assert first.startswith(b"GET http://127.0.0.1:9/a HTTP/1.1\r\n")
    assert b"\r\nProxy-Authorization: Basic " in first
    assert second.startswith(b"GET http://127.0.0.1:9/b HTTP/1.1\r\n")
    assert third.startswith(b"CONNECT 127.0.0.1:9 HTTP/1.1\r\n")
    assert b"\r\nProxy-Authorization: Basic " in third


async def test_proxy_ssl_as_the_session_default(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    proxy, _ = await scripted_proxy(raw_server, server_ssl_context)
    async with client.ClientSession(proxy=proxy.url, proxy_ssl=client_ssl_context) as session:
        async with session.get(f"http://{UNREACHED}/") as resp:
            assert resp.status == 200
        with pytest.raises(client.ClientProxyCertificateError):
            await session.get(f"http://{UNREACHED}/", proxy_ssl=True)
    with pytest.raises(TypeError):
        client.ClientSession(proxy_ssl="yes")  # type: ignore[arg-type]


async def test_the_target_client_certificate_is_never_shown_to_the_proxy(
    raw_server: RawServerFactory,
    tls_ca: trustme.CA,
    tls_cert: trustme.LeafCert,
    client_ssl_context: ssl.SSLContext,
) -> None:
    # A proxy that asks every client for a certificate issued by the test CA.
    asking = tls.server_context(tls_cert)
    asking.verify_mode = ssl.CERT_OPTIONAL
    tls_ca.configure_trust(asking)
    proxy, certificates = await scripted_proxy(raw_server, asking)
    target_identity = tls_ca.issue_cert("target-client.zurl.test")
    proxy_identity = tls_ca.issue_cert("proxy-client.zurl.test")
    target_ssl = tls.client_context(tls_ca)
    target_identity.configure_cert(target_ssl)
    proxy_ssl = tls.client_context(tls_ca)
    proxy_identity.configure_cert(proxy_ssl)
    async with client.ClientSession(proxy=proxy.url) as session:
        async with session.get(
            f"http://{UNREACHED}/", ssl=target_ssl, proxy_ssl=client_ssl_context
        ) as resp:
            assert resp.status == 200
        with pytest.raises(client.ClientHttpProxyError):
            await session.get(
                f"https://{UNREACHED}/", ssl=target_ssl, proxy_ssl=client_ssl_context
            )
        async with session.get(f"http://{UNREACHED}/", ssl=target_ssl, proxy_ssl=proxy_ssl) as r:
            assert r.status == 200
    assert certificates[:2] == [None, None]
    subject = dict(item[0] for item in certificates[2]["subject"])  # type: ignore[index]
    assert "proxy-client.zurl.test" in str(certificates[2])
    assert "target-client.zurl.test" not in str(certificates[2])
    assert subject  # a verified certificate with a subject


async def test_a_proxy_handshake_failure_names_the_proxy_and_the_openssl_reason(
    tls_cert: trustme.LeafCert, client_ssl_context: ssl.SSLContext
) -> None:
    only_12 = tls.server_context(tls_cert)
    only_12.maximum_version = ssl.TLSVersion.TLSv1_2
    client_ssl_context.minimum_version = ssl.TLSVersion.TLSv1_3
    with tls.handshake_server(only_12) as proxy:
        async with client.ClientSession() as session:
            with pytest.raises(client.ClientProxySSLError) as info:
                await session.get(
                    f"https://{UNREACHED}/",
                    proxy=f"https://127.0.0.1:{proxy.port}",
                    proxy_ssl=client_ssl_context,
                )
    outcomes = proxy.outcomes  # complete now: closing the server joined its handlers
    error = info.value
    assert isinstance(error, client.ClientProxyConnectionError)
    assert isinstance(error, client.ClientConnectorSSLError)
    assert error.port == proxy.port
    assert error.reason == "TLSV1_ALERT_PROTOCOL_VERSION"
    assert f"proxy 127.0.0.1:{proxy.port}" in str(error)
    assert "TLSV1_ALERT_PROTOCOL_VERSION" in str(error)
    assert len(outcomes) == 1 and isinstance(outcomes[0], ssl.SSLError)


async def test_a_real_https_proxy_carries_pinned_requests_and_logs_them(
    tls_proxy_server: ProxyServer,
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    pins = client.Pins(tls.fingerprint_sha256(tls_cert), verify=False)
    async with client.ClientSession(proxy=tls_proxy_server.url) as session:
        with pytest.raises(client.ClientProxyCertificateError):
            await session.get(server.url + "/refused", ssl=pins)
        async with session.get(
            server.url + "/echo", ssl=pins, proxy_ssl=client_ssl_context
        ) as resp:
            await resp.read()  # read to the end: the connection goes back to the pool
            assert resp.status == 200
            assert resp.proxy_decision is not None
            assert resp.proxy_decision.tunnel
            # resp.tls_info is the target's handshake inside the tunnel.
            assert resp.tls_info is not None
            assert resp.tls_info.peer_certificate == tls.cert_der(tls_cert)
        async with session.get(server.url + "/echo", ssl=pins, proxy_ssl=client_ssl_context) as r:
            assert r.reused_connection
        async with session.get(server.url + "/echo", ssl=pins, proxy_ssl=False) as resp:
            assert resp.status == 200
            assert not resp.reused_connection  # another proxy_ssl: another connection
    # Not bypassed: the proxy's own access log names the tunnels (written when they close).
    assert await logged(tls_proxy_server, f"CONNECT 127.0.0.1:{server.port}")
    assert server.connections_opened == 2
