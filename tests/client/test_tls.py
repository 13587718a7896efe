"""TLS control against real TLS servers on loopback with trustme certificates."""

from __future__ import annotations

import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import trustme

import client
from tests.servers import tls
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def test_verification_is_on_by_default(
    keepalive_server: KeepAliveServerFactory, server_ssl_context: ssl.SSLContext
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorCertificateError) as info:
            await session.get(server.url)
    error = info.value
    assert isinstance(error, ssl.CertificateError)
    assert isinstance(error, client.ClientSSLError)
    assert error.host == "127.0.0.1"
    assert isinstance(error.certificate_error, ssl.SSLCertVerificationError)
    assert "certificate" in error.verify_message


async def test_ssl_false_and_a_custom_ca_both_succeed(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    async with client.ClientSession() as session:
        async with session.get(server.url, ssl=False) as resp:
            assert await resp.text() == "ok"
            assert resp.tls_info is not None
            assert resp.tls_info.verified is False
        async with session.get(server.url, ssl=client_ssl_context) as resp:
            assert await resp.text() == "ok"
            assert resp.tls_info is not None
            assert resp.tls_info.verified is True
            assert resp.tls_info.version in ("TLSv1.2", "TLSv1.3")


async def test_connector_ssl_is_overridden_per_request(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    connector = client.TCPConnector(ssl=client_ssl_context)
    async with client.ClientSession(connector=connector) as session:
        async with session.get(server.url) as resp:
            assert resp.status == 200
        bad = ssl.create_default_context()  # does not trust the test CA
        with pytest.raises(client.ClientConnectorCertificateError):
            await session.get(server.url, ssl=bad)


async def test_hostname_mismatch_fails_verification(
    keepalive_server: KeepAliveServerFactory,
    tls_ca: trustme.CA,
    client_ssl_context: ssl.SSLContext,
) -> None:
    wrong = tls.server_context(tls.issue_wrong_host_cert(tls_ca))
    server = await keepalive_server(ssl=wrong)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorCertificateError) as info:
            await session.get(server.url, ssl=client_ssl_context)
    assert "mismatch" in info.value.verify_message.lower() or "match" in str(info.value)


async def test_expired_certificate_is_reported_as_expired(
    keepalive_server: KeepAliveServerFactory,
    tls_ca: trustme.CA,
    client_ssl_context: ssl.SSLContext,
) -> None:
    expired = tls.server_context(tls.issue_expired_cert(tls_ca))
    server = await keepalive_server(ssl=expired)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorCertificateError) as info:
            await session.get(server.url, ssl=client_ssl_context)
    assert "expired" in info.value.verify_message


async def test_fingerprint_pin_accepts_a_self_signed_server(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    pin = client.Fingerprint(tls.fingerprint_sha256(tls_cert))
    async with client.ClientSession() as session:
        async with session.get(server.url, ssl=pin) as resp:
            assert await resp.text() == "ok"
            assert resp.tls_info is not None
            assert resp.tls_info.peer_certificate == tls.cert_der(tls_cert)


async def test_fingerprint_mismatch_sends_not_one_byte(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await raw_server([OK], ssl=server_ssl_context)
    wrong = client.Fingerprint(b"\x01" * 32)
    async with client.ClientSession() as session:
        with pytest.raises(client.FingerprintMismatch) as info:
            await session.get(
                server.url.replace("http://", "https://") + "/secret",
                ssl=wrong,
                headers={"Authorization": "Bearer do-not-leak"},
            )
    error = info.value
    assert error.expected == b"\x01" * 32
    assert error.got == tls.fingerprint_sha256(tls_cert)
    assert (error.host, error.port) == ("127.0.0.1", server.port)
    assert b"".join(server.received) == b""


async def test_md5_and_sha1_fingerprints_are_refused() -> None:
    with pytest.raises(ValueError, match="sha256"):
        client.Fingerprint(b"\0" * 16)
    with pytest.raises(ValueError, match="sha256"):
        client.Fingerprint(b"\0" * 20)


async def test_pinned_connection_is_not_reused_without_the_pin(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    pin = client.Fingerprint(tls.fingerprint_sha256(tls_cert))
    async with client.ClientSession() as session:
        async with session.get(server.url, ssl=pin) as resp:
            await resp.read()
        async with session.get(server.url, ssl=pin) as resp:
            await resp.read()
            assert resp.reused_connection
        async with session.get(server.url, ssl=client_ssl_context) as resp:
            await resp.read()
            assert not resp.reused_connection
    assert server.connections_opened == 2


def test_ssl_cert_file_is_honoured(tmp_path: Path) -> None:
    # The default context is built once per process, so a fresh process reads the variable.
    script = tmp_path / "probe.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys, client, trustme
            from tests.servers.keepalive import KeepAliveServer
            from tests.servers import tls

            async def main():
                pem, key = (open(p, "rb").read() for p in sys.argv[1:3])
                cert = tls.issue_loopback_cert(trustme.CA.from_pem(pem, key))
                server = await KeepAliveServer(ssl=tls.server_context(cert)).start()
                try:
                    async with client.ClientSession() as s:
                        async with s.get(server.url) as r:
                            print(r.status)
                finally:
                    await server.close()

            asyncio.run(main())
            """
        )
    )
    ca = trustme.CA()
    ca_cert = tmp_path / "ca.pem"
    ca_key = tmp_path / "ca.key"
    ca.cert_pem.write_to_path(str(ca_cert))
    ca.private_key_pem.write_to_path(str(ca_key))
    root = Path(__file__).parents[2]
    env = {"SSL_CERT_FILE": str(ca_cert), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}
    result = subprocess.run(
        [sys.executable, str(script), str(ca_cert), str(ca_key)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd=root,
    )
    assert result.stdout.strip() == "200", result.stderr


async def test_a_handshake_failure_names_the_openssl_reason(
    tls_cert: trustme.LeafCert, client_ssl_context: ssl.SSLContext
) -> None:
    # A real TLS server limited to 1.2 answers a 1.3-only client with a protocol_version
    # alert; the error says so instead of passing OpenSSL's error class off as an errno.
    only_12 = tls.server_context(tls_cert)
    only_12.maximum_version = ssl.TLSVersion.TLSv1_2
    client_ssl_context.minimum_version = ssl.TLSVersion.TLSv1_3
    with tls.handshake_server(only_12) as server:
        async with client.ClientSession() as session:
            with pytest.raises(client.ClientConnectorSSLError) as info:
                await session.get(f"https://127.0.0.1:{server.port}/", ssl=client_ssl_context)
    error = info.value
    assert not isinstance(error, client.ClientProxyConnectionError)
    assert error.reason == "TLSV1_ALERT_PROTOCOL_VERSION"
    assert error.library == "SSL"
    assert str(error) == (
        f"Cannot connect to host 127.0.0.1:{server.port} ssl:SSLContext "
        "[TLSV1_ALERT_PROTOCOL_VERSION: tlsv1 alert protocol version]"
    )
    assert isinstance(error.os_error, ssl.SSLError)  # aiohttp's: the original error


async def test_ssl_cert_file_set_later_in_the_process_is_honoured(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    ca_bundle_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorCertificateError):
            await session.get(server.url)  # the default context now exists...
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle_path))
        async with session.get(server.url) as resp:  # ...and follows the variable
            assert resp.status == 200
    monkeypatch.delenv("SSL_CERT_FILE")
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorCertificateError):
            await session.get(server.url)
