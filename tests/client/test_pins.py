"""``client.Pins``: fingerprints and public-key pins checked on real TLS servers on loopback."""

from __future__ import annotations

import base64
import hashlib
import ssl

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

import client
from tests.servers import tls
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.proxy import ProxyServer
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
WRONG = b"\x01" * 32


def spki_sha256(cert: trustme.LeafCert) -> bytes:
    """The SPKI digest computed by another implementation (cryptography's)."""
    parsed = x509.load_der_x509_certificate(tls.cert_der(cert))
    key = parsed.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(key).digest()


def curl_pin(digest: bytes) -> str:
    return "sha256//" + base64.b64encode(digest).decode()


async def test_a_matching_fingerprint_replaces_verification(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    # The test CA is in no default trust store: only the pin lets this through.
    server = await keepalive_server(ssl=server_ssl_context)
    pins = client.Pins([tls.fingerprint_sha256(tls_cert)], verify=False)
    async with client.ClientSession() as session:
        async with session.get(server.url, ssl=pins) as resp:
            assert await resp.text() == "ok"
            assert resp.tls_info is not None
            assert resp.tls_info.verified is False
            assert resp.tls_info.peer_certificate == tls.cert_der(tls_cert)


async def test_a_mismatch_sends_not_one_byte_and_carries_the_certificate(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await raw_server([OK], ssl=server_ssl_context)
    pins = client.Pins([WRONG, b"\x02" * 32], verify=False)
    async with client.ClientSession() as session:
        with pytest.raises(client.PinMismatch) as info:
            await session.post(
                server.url + "/secret",
                ssl=pins,
                headers={"Authorization": "Bearer do-not-leak"},
                data=b"payload",
            )
    error = info.value
    assert isinstance(error, client.ServerFingerprintMismatch)
    assert error.kind == "certificate"
    assert error.expected_all == (WRONG, b"\x02" * 32)
    assert error.got == tls.fingerprint_sha256(tls_cert)
    assert error.peer_certificate == tls.cert_der(tls_cert)
    assert (error.host, error.port) == ("127.0.0.1", server.port)
    assert error.pins is pins
    assert "sha256:" + WRONG.hex() in str(error)
    assert b"".join(server.received) == b""


async def test_several_pins_any_one_matches(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    rotation = client.Pins(
        [WRONG, tls.fingerprint_sha256(tls_cert)],
        [b"\x03" * 32, spki_sha256(tls_cert)],
        verify=False,
    )
    async with client.ClientSession() as session:
        async with session.get(server.url, ssl=rotation) as resp:
            assert resp.status == 200


async def test_spki_pin_match_and_mismatch(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await raw_server([OK], ssl=server_ssl_context)
    good = client.Pins(spki=curl_pin(spki_sha256(tls_cert)), verify=False)
    bad = client.Pins(spki=curl_pin(WRONG), verify=False)
    async with client.ClientSession() as session:
        async with session.get(server.url, ssl=good) as resp:
            assert await resp.read() == b"ok"
        with pytest.raises(client.PinMismatch) as info:
            await session.get(server.url + "/never", ssl=bad)
    assert info.value.kind == "public key"
    assert info.value.got == spki_sha256(tls_cert)
    assert curl_pin(spki_sha256(tls_cert)) in str(info.value)
    # One connection served the good request; the refused one delivered nothing.
    assert server.received[1] == b""
    assert b"/never" not in b"".join(server.received)


async def test_both_kinds_must_match(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await raw_server([OK], ssl=server_ssl_context)
    right_cert_wrong_key = client.Pins(tls.fingerprint_sha256(tls_cert), WRONG, verify=False)
    async with client.ClientSession() as session:
        with pytest.raises(client.PinMismatch) as info:
            await session.get(server.url, ssl=right_cert_wrong_key)
    assert info.value.kind == "public key"
    assert b"".join(server.received) == b""


async def test_pins_on_top_of_verification(
    raw_server: RawServerFactory,
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    # An untrusted certificate with a matching pin: refused while verification is on.
    raw = await raw_server([OK], ssl=server_ssl_context)
    pin = tls.fingerprint_sha256(tls_cert)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectorCertificateError):
            await session.get(raw.url, ssl=client.Pins(pin))  # verify=True is the default
    assert b"".join(raw.received) == b""
    server = await keepalive_server(ssl=server_ssl_context)
    async with client.ClientSession() as session:
        # Pins replacing verification accept it...
        async with session.get(server.url, ssl=client.Pins(pin, verify=False)) as resp:
            assert resp.status == 200
        # ...and a context that trusts the CA verifies it, then the pin is checked too.
        trusted = client.Pins(pin, verify=client_ssl_context)
        async with session.get(server.url, ssl=trusted) as resp:
            assert resp.status == 200
            assert resp.tls_info is not None and resp.tls_info.verified
        with pytest.raises(client.PinMismatch):
            await session.get(server.url, ssl=client.Pins(WRONG, verify=client_ssl_context))


async def test_pins_as_the_connector_default_and_pool_separation(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    pins = client.Pins(tls.fingerprint_sha256(tls_cert), verify=False)
    other = client.Pins(spki=spki_sha256(tls_cert), verify=False)
    connector = client.TCPConnector(ssl=pins)
    async with client.ClientSession(connector=connector) as session:
        async with session.get(server.url) as resp:
            await resp.read()
        async with session.get(server.url) as resp:
            await resp.read()
            assert resp.reused_connection
        async with session.get(server.url, ssl=other) as resp:
            await resp.read()
            assert not resp.reused_connection  # other pins never reuse that connection
        with pytest.raises(client.PinMismatch):
            await session.get(server.url, ssl=client.Pins(WRONG, verify=False))
    assert server.connections_opened == 3


async def test_pins_name_the_target_not_the_proxy(
    proxy_server: ProxyServer,
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    pins = client.Pins(tls.fingerprint_sha256(tls_cert), verify=False)
    async with client.ClientSession() as session:
        async with session.get(server.url, proxy=proxy_server.url, ssl=pins) as resp:
            assert resp.status == 200
        with pytest.raises(client.PinMismatch) as info:
            await session.get(
                server.url, proxy=proxy_server.url, ssl=client.Pins(WRONG, verify=False)
            )
    assert info.value.port == server.port


def test_pins_parse_text_and_refuse_bad_values(tls_cert: trustme.LeafCert) -> None:
    digest = tls.fingerprint_sha256(tls_cert)
    key = spki_sha256(tls_cert)
    parsed = client.Pins(
        "sha256:" + digest.hex(":").upper(), curl_pin(key) + ";" + curl_pin(WRONG)
    )
    assert parsed.fingerprints == (digest,)
    assert parsed.spki == (key, WRONG)
    assert parsed == client.Pins(digest, [key, WRONG])
    assert hash(parsed) == hash(client.Pins(digest, [key, WRONG]))
    assert parsed != client.Pins(digest, [key, WRONG], verify=False)
    assert parsed.matches(tls.cert_der(tls_cert)) is True
    assert client.Pins(WRONG).matches(tls.cert_der(tls_cert)) is False
    with pytest.raises(ValueError, match="at least one"):
        client.Pins()
    with pytest.raises(ValueError, match="sha256"):
        client.Pins(b"\0" * 20)
    with pytest.raises(ValueError, match="32 bytes"):
        client.Pins(b"\0" * 31)
    with pytest.raises(ValueError):
        client.Pins(spki="sha1//abc")
    with pytest.raises(TypeError):
        client.Pins([1234])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        client.Pins(digest, verify="yes")  # type: ignore[arg-type]
