"""certinfo: every field against the openssl CLI (and cryptography), hand-built DER for the
corners trustme never makes, hostile bytes (only ValueError), pins, and a real handshake."""

from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import ipaddress
import json
import re
import ssl
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from client.certinfo import (
    CertificateInfo,
    parse_certificate,
    parse_fingerprint,
    parse_pin,
    parse_pins,
)
from tests.servers import require_binary

pytestmark = pytest.mark.timeout(30)

UTC = datetime.UTC
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def openssl(*args: str, data: bytes | None = None) -> bytes:
    done = subprocess.run(
        [require_binary("openssl"), *args], input=data, capture_output=True, timeout=20, check=True
    )
    return done.stdout


# -- certificates made by trustme -------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    der: bytes
    pem: Path


def _made(blob: trustme.Blob, path: Path) -> Made:
    blob.write_to_path(str(path))
    return Made(ssl.PEM_cert_to_DER_cert(blob.bytes().decode("ascii")), path)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Made]:
    directory = tmp_path_factory.mktemp("certinfo")
    rsa_ca = trustme.CA(key_type=trustme.KeyType.RSA)
    ec_ca = trustme.CA(key_type=trustme.KeyType.ECDSA)
    intermediate = ec_ca.create_child_ca(key_type=trustme.KeyType.RSA)
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    names = ("localhost", "127.0.0.1", "::1", "*.example.test", "2001:db8::8:800:200c:417a")
    leaves = {
        "rsa-ca-ec-leaf": rsa_ca.issue_cert(*names, common_name="localhost"),
        "rsa-ca-rsa-leaf": rsa_ca.issue_cert(
            "localhost", "10.1.2.3", key_type=trustme.KeyType.RSA
        ),
        "ec-ca-ec-leaf": ec_ca.issue_cert(*names, organization_name="Zurl, Inc. <test>"),
        "intermediate-leaf": intermediate.issue_cert("127.0.0.1"),
        "expired": ec_ca.issue_cert(
            "localhost",
            not_before=now - datetime.timedelta(days=30),
            not_after=now - datetime.timedelta(days=1),
        ),
        # RFC 5280 §4.1.2.5: GeneralizedTime from 2050 on, UTCTime 19YY before 2000.
        "generalized-time": ec_ca.issue_cert(
            "localhost",
            not_before=datetime.datetime(1999, 12, 31, 23, 59, 58, tzinfo=UTC),
            not_after=datetime.datetime(2050, 1, 1, 0, 0, 1, tzinfo=UTC),
        ),
    }
    out = {
        name: _made(leaf.cert_chain_pems[0], directory / f"{name}.pem")
        for name, leaf in leaves.items()
    }
    out["rsa-ca"] = _made(rsa_ca.cert_pem, directory / "rsa-ca.pem")
    out["ec-ca"] = _made(ec_ca.cert_pem, directory / "ec-ca.pem")
    out["intermediate"] = _made(intermediate.cert_pem, directory / "intermediate.pem")
    return out


NAMES = [
    "rsa-ca-ec-leaf",
    "rsa-ca-rsa-leaf",
    "ec-ca-ec-leaf",
    "intermediate-leaf",
    "expired",
    "generalized-time",
    "rsa-ca",
    "ec-ca",
    "intermediate",
]


def openssl_view(pem: Path) -> dict[str, str]:
    """What ``openssl x509`` prints, by field; subject/issuer in RFC 2253 order."""
    text = openssl(
        "x509", "-in", str(pem), "-noout", "-fingerprint", "-sha256", "-subject",
        "-issuer", "-serial", "-dates", "-dateopt", "iso_8601", "-nameopt", "RFC2253",
        "-ext", "subjectAltName",
    ).decode()  # fmt: skip
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith(" "):
            # "sha256 Fingerprint" in OpenSSL 3, "SHA256 Fingerprint" in 1.1
            fields["fingerprint" if key.lower() == "sha256 fingerprint" else key] = value
    sans = [
        item for line in text.splitlines() if line.startswith(" ") for item in line.split(", ")
    ]
    fields["san"] = ",".join(item.strip() for item in sans)
    details = openssl("x509", "-in", str(pem), "-noout", "-text").decode()
    for key, pattern in {
        "version": r"Version: (\d+)",
        "signature": r"Signature Algorithm: (\S+)",
        "key": r"Public Key Algorithm: (\S+)",
        "bits": r"Public-Key: \((\d+) bit\)",
        "curve": r"ASN1 OID: (\S+)",
    }.items():
        found = re.search(pattern, details)
        fields[key] = found.group(1) if found else ""
    return fields


def openssl_spki_sha256(pem: Path) -> bytes:
    public_pem = openssl("x509", "-in", str(pem), "-noout", "-pubkey")
    return hashlib.sha256(openssl("pkey", "-pubin", "-outform", "DER", data=public_pem)).digest()


def openssl_date(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%SZ").replace(tzinfo=UTC)


@pytest.mark.parametrize("name", NAMES)
def test_every_field_matches_openssl(made: dict[str, Made], name: str) -> None:
    cert = made[name]
    info = parse_certificate(cert.der)
    view = openssl_view(cert.pem)
    assert view["fingerprint"] == info.fingerprint_hex_colons
    assert info.sha256_fingerprint == hashlib.sha256(cert.der).digest()
    assert view["subject"] == info.subject_text
    assert view["issuer"] == info.issuer_text
    assert view["serial"] == info.serial_hex
    assert int(view["serial"], 16) == info.serial_number
    assert openssl_date(view["notBefore"]) == info.not_before
    assert openssl_date(view["notAfter"]) == info.not_after
    assert info.not_before.tzinfo is UTC and info.not_after.tzinfo is UTC
    sans = [item for item in view["san"].split(",") if item]
    assert [s.removeprefix("DNS:") for s in sans if s.startswith("DNS:")] == list(info.san_dns)
    ips = [ipaddress.ip_address(s.removeprefix("IP Address:")) for s in sans if s.startswith("IP")]
    assert [str(ip) for ip in ips] == list(info.san_ip)
    assert int(view["version"]) == info.version == 3
    assert view["signature"] == info.signature_algorithm
    assert view["key"] == info.public_key_algorithm
    assert int(view["bits"]) == info.public_key_bits
    assert (view["curve"] or None) == info.public_key_curve
    spki = openssl_spki_sha256(cert.pem)
    assert spki == info.spki_sha256
    assert info.spki_pin == "sha256//" + base64.b64encode(spki).decode()
    assert info.is_self_signed is (name in ("rsa-ca", "ec-ca"))


@pytest.mark.parametrize("name", NAMES)
def test_every_field_matches_cryptography(made: dict[str, Made], name: str) -> None:
    x509 = pytest.importorskip("cryptography.x509")
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    info = parse_certificate(made[name].der)
    theirs = x509.load_der_x509_certificate(made[name].der)
    assert theirs.subject.rfc4514_string() == info.subject_text
    assert theirs.issuer.rfc4514_string() == info.issuer_text
    assert theirs.serial_number == info.serial_number
    assert theirs.not_valid_before_utc == info.not_before
    assert theirs.not_valid_after_utc == info.not_after
    assert theirs.signature_algorithm_oid.dotted_string == info.signature_algorithm_oid
    spki = theirs.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert hashlib.sha256(spki).digest() == info.spki_sha256
    try:
        san = theirs.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        assert info.san_dns == info.san_ip == ()
    else:
        assert tuple(san.get_values_for_type(x509.DNSName)) == info.san_dns
        assert tuple(str(ip) for ip in san.get_values_for_type(x509.IPAddress)) == info.san_ip


def test_trustme_shapes(made: dict[str, Made]) -> None:
    info = parse_certificate(made["rsa-ca-ec-leaf"].der)
    assert info.subject[0] == ("O", "trustme v1.2.1")
    assert info.subject[-1] == ("CN", "localhost")  # DER order: CN is the last RDN here
    assert info.subject_text.startswith("CN=localhost,OU=Testing cert #")  # RFC 4514 order
    assert info.san_dns == ("localhost", "*.example.test")
    assert info.san_ip == ("127.0.0.1", "::1", "2001:db8::8:800:200c:417a")
    assert (info.signature_algorithm, info.signature_algorithm_oid) == (
        "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.11",
    )
    assert (info.public_key_algorithm, info.public_key_curve) == ("id-ecPublicKey", "prime256v1")
    rsa = parse_certificate(made["rsa-ca-rsa-leaf"].der)
    assert rsa.public_key_algorithm == "rsaEncryption" and rsa.public_key_curve is None
    assert rsa.san_ip == ("10.1.2.3",)
    escaped = parse_certificate(made["ec-ca-ec-leaf"].der)
    assert ("O", "Zurl, Inc. <test>") in escaped.subject
    assert escaped.subject_text.endswith(",O=Zurl\\, Inc. \\<test\\>")
    assert escaped.signature_algorithm == "ecdsa-with-SHA256"
    assert not parse_certificate(made["intermediate"].der).is_self_signed


def test_validity(made: dict[str, Made]) -> None:
    expired = parse_certificate(made["expired"].der)
    assert expired.is_expired() and not expired.is_not_yet_valid()
    assert expired.days_left() == -1  # ended a day and some seconds ago
    at = expired.not_after
    assert not expired.is_expired(at) and expired.is_expired(at + datetime.timedelta(seconds=1))
    assert expired.days_left(at) == 0
    assert expired.days_left(at - datetime.timedelta(days=3, seconds=1)) == 3
    assert expired.days_left(at - datetime.timedelta(hours=23)) == 0
    assert expired.days_left(at + datetime.timedelta(hours=23)) == 0
    assert expired.days_left(at + datetime.timedelta(days=2, hours=23)) == -2
    assert expired.is_not_yet_valid(expired.not_before - datetime.timedelta(seconds=1))
    berlin = datetime.timezone(datetime.timedelta(hours=1))
    assert expired.days_left(at.astimezone(berlin)) == 0
    with pytest.raises(ValueError, match="timezone-aware"):
        expired.days_left(datetime.datetime(2030, 1, 1))
    long = parse_certificate(made["generalized-time"].der)
    assert long.not_before == datetime.datetime(1999, 12, 31, 23, 59, 58, tzinfo=UTC)
    assert long.not_after == datetime.datetime(2050, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert b"\x18\x0f20500101000001Z" in made["generalized-time"].der
    assert b"\x17\x0d991231235958Z" in made["generalized-time"].der
    assert not parse_certificate(made["ec-ca-ec-leaf"].der).is_expired()


def test_to_dict_is_json(made: dict[str, Made]) -> None:
    info = parse_certificate(made["rsa-ca-ec-leaf"].der)
    now = datetime.datetime(2030, 6, 1, tzinfo=UTC)
    data = json.loads(json.dumps(info.to_dict(now)))
    assert data["subject"] == info.subject_text
    assert data["subject_attributes"] == [list(pair) for pair in info.subject]
    assert data["issuer"] == info.issuer_text
    assert data["serial_number"] == str(info.serial_number)
    assert data["serial_hex"] == info.serial_hex
    assert datetime.datetime.fromisoformat(data["not_before"]) == info.not_before
    assert datetime.datetime.fromisoformat(data["not_after"]) == info.not_after
    assert data["days_left"] == info.days_left(now)
    assert data["expired"] is False and data["not_yet_valid"] is False
    assert data["san_dns"] == list(info.san_dns) and data["san_ip"] == list(info.san_ip)
    assert data["sha256_fingerprint"] == info.fingerprint_hex_colons
    assert bytes.fromhex(data["spki_sha256"]) == info.spki_sha256
    assert data["spki_pin"] == info.spki_pin
    assert data["self_signed"] is False
    assert data["signature_algorithm"] == "sha256WithRSAEncryption"
    assert data["public_key_bits"] == 256


def test_value_object(made: dict[str, Made]) -> None:
    info = parse_certificate(made["ec-ca"].der)
    assert parse_certificate(bytearray(made["ec-ca"].der)) == info
    with pytest.raises(AttributeError):
        info.serial_number = 1  # type: ignore[misc]
    assert isinstance(info, CertificateInfo) and not hasattr(info, "__dict__")


# -- hand-built DER for what trustme never makes (X.690 encoders, test side only) --------------


def tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    octets = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(octets)]) + octets + content


def seq(*parts: bytes) -> bytes:
    return tlv(0x30, b"".join(parts))


def oid(dotted: str) -> bytes:
    arcs = [int(arc) for arc in dotted.split(".")]
    body = b""
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return tlv(0x06, body)


def integer(value: int) -> bytes:
    size = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def rdn(*pairs: tuple[str, bytes]) -> bytes:
    return tlv(0x31, b"".join(seq(oid(kind), value) for kind, value in pairs))


def name(*rdns: bytes) -> bytes:
    return seq(*rdns)


def utf8(text: str) -> bytes:
    return tlv(0x0C, text.encode())


def printable(text: str) -> bytes:
    return tlv(0x13, text.encode())


def utc_time(text: str) -> bytes:
    return tlv(0x17, text.encode())


def generalized(text: str) -> bytes:
    return tlv(0x18, text.encode())


def extension(kind: str, value: bytes, critical: bool = False) -> bytes:
    flag = tlv(0x01, b"\xff") if critical else b""
    return seq(oid(kind), flag, tlv(0x04, value))


def san(*general_names: bytes) -> bytes:
    return extension("2.5.29.17", seq(*general_names))


CN = "2.5.4.3"
O = "2.5.4.10"  # noqa: E741
ED25519 = "1.3.101.112"
ED25519_SPKI = seq(seq(oid(ED25519)), tlv(0x03, b"\x00" + bytes(range(32))))
RSA_SPKI = seq(
    seq(oid("1.2.840.113549.1.1.1"), tlv(0x05, b"")),
    tlv(0x03, b"\x00" + seq(integer((1 << 2047) + 12345), integer(65537))),
)


def build(
    *,
    version: int | None = 2,
    serial: int | bytes = 0x1234,
    issuer: bytes = name(rdn((CN, utf8("Test CA")))),
    subject: bytes = name(rdn((CN, utf8("leaf")))),
    not_before: bytes = utc_time("240101000000Z"),
    not_after: bytes = utc_time("340101000000Z"),
    spki: bytes = ED25519_SPKI,
    unique_ids: bytes = b"",
    extensions: list[bytes] | None = None,
    algorithm: str = ED25519,
) -> bytes:
    tbs = [
        tlv(0xA0, integer(version)) if version is not None else b"",
        serial if isinstance(serial, bytes) else integer(serial),
        seq(oid(algorithm)),
        issuer,
        seq(not_before, not_after),
        subject,
        spki,
        unique_ids,
        tlv(0xA3, seq(*extensions)) if extensions is not None else b"",
    ]
    return seq(seq(*tbs), seq(oid(algorithm)), tlv(0x03, b"\x00" + b"\x5a" * 64))


def test_hand_built_matches_openssl(tmp_path: Path) -> None:
    der = build(
        version=None,
        serial=-0x1F,
        issuer=name(rdn((O, printable("Issuer"))), rdn((CN, utf8("Root")))),
        not_before=generalized("19491231235959Z"),
        not_after=generalized("99991231235959Z"),  # §4.1.2.5: "no well-defined expiration"
        spki=RSA_SPKI,
    )
    path = tmp_path / "v1.der"
    path.write_bytes(der)
    text = openssl("x509", "-inform", "DER", "-in", str(path), "-noout", "-serial", "-text")
    info = parse_certificate(der)
    assert f"serial={info.serial_hex}" in text.decode() and info.serial_hex == "-1F"
    assert info.version == 1 and b"Version: 1 (0x0)" in text
    assert info.issuer_text == "CN=Root,O=Issuer"
    assert info.not_before == datetime.datetime(1949, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert info.not_after == datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert (info.public_key_algorithm, info.public_key_bits) == ("rsaEncryption", 2048)
    assert b"Public-Key: (2048 bit)" in text
    assert info.signature_algorithm == "Ed25519" and b"ED25519" in text
    assert (info.public_key_curve, info.san_dns, info.san_ip) == (None, (), ())
    public_pem = openssl("x509", "-inform", "DER", "-in", str(path), "-noout", "-pubkey")
    spki = openssl("pkey", "-pubin", "-outform", "DER", data=public_pem)
    assert spki == RSA_SPKI and info.spki_sha256 == hashlib.sha256(spki).digest()


def test_ed25519_and_unknown_algorithms() -> None:
    assert parse_certificate(build(algorithm="2.999.1")).signature_algorithm_oid == "2.999.1"
    assert parse_certificate(build(algorithm="0.39.1")).signature_algorithm_oid == "0.39.1"
    info = parse_certificate(build())
    assert (info.public_key_algorithm, info.public_key_bits) == ("Ed25519", 256)
    assert info.spki_sha256 == hashlib.sha256(ED25519_SPKI).digest()
    odd_key = seq(seq(oid("1.2.3.4.99999")), tlv(0x03, b"\x00\x01"))
    odd = parse_certificate(build(spki=odd_key, algorithm="1.2.3.4.5"))
    assert odd.signature_algorithm == odd.signature_algorithm_oid == "1.2.3.4.5"
    assert odd.public_key_algorithm == "1.2.3.4.99999" and odd.public_key_bits is None
    ec_key = seq(seq(oid("1.2.840.10045.2.1"), oid("1.3.132.0.34")), tlv(0x03, b"\x00\x04"))
    ec = parse_certificate(build(spki=ec_key, algorithm="1.2.840.10045.4.3.3"))
    assert (ec.public_key_curve, ec.public_key_bits) == ("secp384r1", 384)
    assert ec.signature_algorithm == "ecdsa-with-SHA384"


@pytest.mark.parametrize(
    ("encoded", "expected"),
    [
        (utc_time("491231235959Z"), datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC)),
        (utc_time("500101000000Z"), datetime.datetime(1950, 1, 1, tzinfo=UTC)),
        (generalized("20500101000000Z"), datetime.datetime(2050, 1, 1, tzinfo=UTC)),
        (utc_time("000229120000Z"), datetime.datetime(2000, 2, 29, 12, tzinfo=UTC)),
    ],
)
def test_times(encoded: bytes, expected: datetime.datetime) -> None:
    assert parse_certificate(build(not_before=encoded)).not_before == expected


@pytest.mark.parametrize(
    "encoded",
    [
        utc_time("2401010000Z"),  # no seconds (§4.1.2.5.1 requires them)
        utc_time("240101000000+0100"),  # offsets are not allowed
        utc_time("240101000000"),  # no Z
        generalized("20240101000000.5Z"),  # no fractional seconds (§4.1.2.5.2)
        utc_time("241301000000Z"),  # month 13
        utc_time("230229000000Z"),  # not a leap year
        utc_time("2401010000+0Z"),
        utc_time("240101000000Z0"),
        tlv(0x17, "２40101000000Z".encode()),  # non-ASCII digits
        utf8("240101000000Z"),
    ],
)
def test_bad_times(encoded: bytes) -> None:
    with pytest.raises(ValueError, match=r"at byte \d+"):
        parse_certificate(build(not_after=encoded))


def test_names_rfc4514() -> None:
    subject = name(
        rdn(("2.5.4.6", printable("DE"))),
        rdn((O, tlv(0x1E, "Bäcker ☕".encode("utf-16-be")))),  # BMPString
        rdn(("2.5.4.11", tlv(0x14, "Café".encode("latin-1")))),  # TeletexString
        rdn(("2.5.4.11", utf8(' #a,b+c"d\\e<f>g;h '))),
        rdn((CN, utf8("x")), ("0.9.2342.19200300.100.1.1", utf8("u1"))),  # multi-valued RDN
        rdn(("1.2.3.4", integer(5))),  # not a string: '#' and hex of the DER
        rdn(("2.5.4.3", utf8("evil\x1b[2J\u202e"))),
    )
    info = parse_certificate(build(subject=subject))
    assert info.subject == (
        ("C", "DE"),
        ("O", "Bäcker ☕"),
        ("OU", "Café"),
        ("OU", ' #a,b+c"d\\e<f>g;h '),
        ("CN", "x"),
        ("UID", "u1"),
        ("1.2.3.4", "#020105"),
        ("CN", "evil\x1b[2J\u202e"),
    )
    assert info.subject_text == (
        "CN=evil\\1B[2J\\E2\\80\\AE,1.2.3.4=#020105,CN=x+UID=u1,"
        'OU=\\ #a\\,b\\+c\\"d\\\\e\\<f\\>g\\;h\\ ,OU=Café,O=Bäcker ☕,C=DE'
    )
    assert not info.is_self_signed
    same = name(rdn((CN, utf8("Test CA"))))
    assert parse_certificate(build(subject=same)).is_self_signed


def test_names_agree_with_cryptography() -> None:
    x509 = pytest.importorskip("cryptography.x509")
    subject = name(
        rdn((O, utf8(' #a,b+c"d\\e<f>g;h '))),
        rdn((CN, utf8("x")), ("2.5.4.5", printable("42"))),
        rdn(("2.5.4.3", utf8("#hash"))),
    )
    der = build(subject=subject, issuer=name())
    info = parse_certificate(der)
    theirs = x509.load_der_x509_certificate(der)
    assert info.subject_text.replace("serialNumber", "2.5.4.5") == (
        theirs.subject.rfc4514_string()
    )
    assert info.issuer == () and info.issuer_text == ""


def test_extensions() -> None:
    der = build(
        extensions=[
            extension("2.5.29.19", seq(tlv(0x01, b"\xff")), critical=True),
            san(
                tlv(0x81, b"me@example.test"),  # rfc822Name: not kept
                tlv(0x82, b"a.example.test"),
                tlv(0x86, b"spiffe://x/y"),  # URI: not kept
                tlv(0xA4, name(rdn((CN, utf8("dir"))))),  # directoryName
                tlv(0xA0, oid("1.2.3") + tlv(0xA0, utf8("other"))),  # otherName
                tlv(0x87, ipaddress.ip_address("192.0.2.1").packed),
                tlv(0x87, ipaddress.ip_address("fe80::1").packed),
                tlv(0x82, b"b.example.test"),
            ),
            extension("1.2.3.4.5.6", b"anything", critical=True),
        ],
        unique_ids=tlv(0x81, b"\x00\x01") + tlv(0x82, b"\x00\x02"),
    )
    info = parse_certificate(der)
    assert info.san_dns == ("a.example.test", "b.example.test")
    assert info.san_ip == ("192.0.2.1", "fe80::1")
    assert parse_certificate(build(extensions=[])).san_dns == ()


@pytest.mark.parametrize(
    ("der", "message"),
    [
        (build() + b"\x00", "at byte .*: unexpected bytes at the end of the input"),
        (b"\x30\x80" + build()[2:] + b"\x00\x00", "at byte 1: indefinite length"),
        (b"\x30\x85\x00\x00\x00\x00\x01\x00", "at byte 1: a length of 5 octets"),
        (build()[:-1], "at byte 0: length .* runs past the end"),
        (b"", "at byte 0: truncated"),
        (b"\x1f\x01\x00", "at byte 0: .*high-tag-number"),
        (b"\x31\x00", "at byte 0: Certificate: expected tag 0x30, found 0x31"),
        (build(version=7), "unknown certificate version 7"),
        (build(serial=tlv(0x02, b"")), "empty INTEGER"),
        (
            build(extensions=[san(tlv(0x82, b"x")), san(tlv(0x82, b"y"))]),
            "extension 2.5.29.17 appears twice",
        ),
        (build(extensions=[san(tlv(0x87, b"\x7f\x00\x00"))]), "iPAddress of 3 octets"),
        (build(extensions=[san(tlv(0x82, "é".encode()))]), "not an IA5String"),
        (build(subject=name(rdn((CN, utf8("x")))).replace(b"x", b"\xff")), "invalid utf-8"),
        (build(subject=name(tlv(0x31, b""))), "empty RelativeDistinguishedName"),
        (build(algorithm="1.2").replace(b"\x06\x01\x2a", b"\x06\x01\xaa"), "truncated OBJECT"),
        (build(unique_ids=tlv(0x84, b"")), "unexpected bytes at the end of tbsCertificate"),
        (
            build(spki=seq(seq(oid(ED25519)), tlv(0x03, b"\x07\x00"))),
            "whole number of octets",
        ),
        (build(spki=seq(seq(tlv(0x06, b"")), tlv(0x03, b"\x00"))), "empty OBJECT IDENTIFIER"),
        (build(spki=seq(seq(tlv(0x06, b"\x2a\x80\x01")), tlv(0x03, b"\x00"))), "leading 0x80"),
        (b"\x30\x82\x01", "at byte 1: truncated length"),
        (b"\x30\x81\x03\x02\x01\x00", "at byte 3: tbsCertificate: expected tag 0x30"),
    ],
)
def test_malformed(der: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_certificate(der)


def test_error_offsets_point_at_the_problem() -> None:
    der = build(extensions=[san(tlv(0x87, b"\x7f\x00\x00"))])
    with pytest.raises(ValueError) as caught:
        parse_certificate(der)
    offset = int(re.search(r"at byte (\d+)", str(caught.value)).group(1))  # type: ignore[union-attr]
    assert der[offset : offset + 5] == b"\x87\x03\x7f\x00\x00"


# -- hostile input: only ValueError, never a hang or another exception -------------------------


def only_value_error(data: bytes) -> None:
    try:
        parse_certificate(data)
    except ValueError as exc:
        assert "at byte" in str(exc)


def test_every_truncation(made: dict[str, Made]) -> None:
    der = made["rsa-ca-ec-leaf"].der
    for size in range(len(der)):
        with pytest.raises(ValueError, match="at byte"):
            parse_certificate(der[:size])


def test_deep_nesting_is_not_recursion() -> None:
    nested = b"\x30\x00"
    for _ in range(5000):
        nested = tlv(0x30, nested)
    with pytest.raises(ValueError):
        parse_certificate(nested)


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    only_value_error(data)


@FUZZ
@given(position=st.integers(min_value=0), value=st.integers(0, 255), cut=st.integers(0, 8))
def test_mutated_certificates(made: dict[str, Made], position: int, value: int, cut: int) -> None:
    for der in (made["rsa-ca-ec-leaf"].der, made["rsa-ca-rsa-leaf"].der):
        index = position % len(der)
        only_value_error(der[:index] + bytes([value]) + der[index + 1 :])
        only_value_error(der[:index] + der[index + cut :])
        only_value_error(der[:index] + bytes([value]) * cut + der[index:])


leaf_tags = st.sampled_from([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x17, 0x18, 0x87])
der_trees = st.recursive(
    st.builds(tlv, leaf_tags, st.binary(max_size=16)),
    lambda kids: st.builds(
        lambda tag, items: tlv(tag, b"".join(items)),
        st.sampled_from([0x30, 0x31, 0xA0, 0xA3, 0xA4]),
        st.lists(kids, max_size=6),
    ),
    max_leaves=40,
)


@FUZZ
@given(tree=der_trees, position=st.integers(min_value=0), span=st.integers(0, 64))
def test_grafted_subtrees(made: dict[str, Made], tree: bytes, position: int, span: int) -> None:
    only_value_error(tree)
    only_value_error(seq(tree, seq(oid(ED25519)), tlv(0x03, b"\x00")))
    tbs = build()
    index = position % len(tbs)
    only_value_error(tbs[:index] + tree + tbs[index + span :])


# -- fingerprints and pins typed by people ----------------------------------------------------


DIGEST = bytes(range(0xA0, 0xC0))


@pytest.mark.parametrize(
    "text",
    [
        DIGEST.hex(),
        DIGEST.hex().upper(),
        DIGEST.hex(":"),
        DIGEST.hex(":").upper(),
        DIGEST.hex(" "),
        "sha256:" + DIGEST.hex(),
        "SHA256=" + DIGEST.hex(":").upper(),
        "sha256 Fingerprint=" + DIGEST.hex(":").upper(),  # openssl's line, pasted whole
        "  SHA-256: " + DIGEST.hex(":") + "\n",
    ],
)
def test_parse_fingerprint(text: str) -> None:
    assert parse_fingerprint(text) == DIGEST


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("d41d8cd98f00b204e9800998ecf8427e", "md5/sha1 are insecure, use SHA-256"),
        ("da39a3ee5e6b4b0d3255bfef95601890afd80709", "md5/sha1 are insecure, use SHA-256"),
        ("sha1:" + DIGEST.hex(), "md5/sha1 are insecure"),
        ("MD5 Fingerprint=" + DIGEST.hex(), "md5/sha1 are insecure"),
        (DIGEST.hex() + "00", "33 bytes; SHA-256 has 32"),
        (DIGEST.hex()[:-2], "31 bytes"),
        (DIGEST.hex()[:-1], "odd number of hex digits"),
        (DIGEST.hex()[:-1] + "g", "'g' is not a hex digit"),
        ("sha512:" + DIGEST.hex(), "not a hex digit"),
        ("", "is empty"),
        ("sha256:", "is empty"),
    ],
)
def test_parse_fingerprint_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_fingerprint(text)


@given(
    digest=st.binary(min_size=32, max_size=32),
    upper=st.booleans(),
    sep=st.sampled_from(["", ":", " "]),
)
def test_fingerprint_round_trip(digest: bytes, upper: bool, sep: str) -> None:
    text = digest.hex(sep) if sep else digest.hex()
    assert parse_fingerprint(text.upper() if upper else text) == digest


def test_openssl_fingerprint_line_parses(made: dict[str, Made]) -> None:
    cert = made["ec-ca-ec-leaf"]
    line = openssl("x509", "-in", str(cert.pem), "-noout", "-fingerprint", "-sha256").decode()
    assert parse_fingerprint(line) == parse_certificate(cert.der).sha256_fingerprint


def test_parse_pin(made: dict[str, Made]) -> None:
    info = parse_certificate(made["rsa-ca-rsa-leaf"].der)
    assert parse_pin(info.spki_pin) == info.spki_sha256
    assert parse_pin("  " + info.spki_pin.rstrip("=") + " ") == info.spki_sha256
    assert parse_pin("SHA256//" + info.spki_pin[8:]) == info.spki_sha256
    other = parse_certificate(made["ec-ca"].der)
    joined = f"{info.spki_pin};{other.spki_pin};"
    assert parse_pins(joined) == [info.spki_sha256, other.spki_sha256]
    assert parse_pins(info.spki_pin) == [info.spki_sha256]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sha1//" + base64.b64encode(DIGEST).decode(), "must start with 'sha256//'"),
        (base64.b64encode(DIGEST).decode(), "must start with 'sha256//'"),
        ("sha256//" + base64.b64encode(DIGEST[:20]).decode(), "20 bytes; SHA-256 has 32"),
        ("sha256//not*base64!", "not valid base64"),
        ("sha256//", "0 bytes"),
    ],
)
def test_parse_pin_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_pin(text)


def test_parse_pins_errors() -> None:
    with pytest.raises(ValueError, match="no public key pin"):
        parse_pins(" ; ")
    with pytest.raises(ValueError, match="must start with"):
        parse_pins("sha256//" + base64.b64encode(DIGEST).decode() + ";junk")


@given(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=5))
def test_pins_round_trip(digests: list[bytes]) -> None:
    text = ";".join("sha256//" + base64.b64encode(d).decode() for d in digests)
    assert parse_pins(text) == digests


# -- a real handshake on loopback -----------------------------------------------------------


async def peer_der(server_context: ssl.SSLContext) -> tuple[bytes, dict[str, object]]:
    """Handshake with an unverified client; the DER certificate and ``getpeercert()``."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()
        writer.close()
        await writer.wait_closed()

    client_context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_context.check_hostname = False
    client_context.verify_mode = ssl.CERT_NONE
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_context)
    try:
        async with asyncio.timeout(10):
            port = server.sockets[0].getsockname()[1]
            _reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client_context)
            ssl_object = writer.get_extra_info("ssl_object")
            der = ssl_object.getpeercert(binary_form=True)
            decoded = ssl_object.getpeercert()
            writer.close()
            await writer.wait_closed()
    finally:
        server.close()
        await server.wait_closed()
    return der, decoded


@pytest.mark.parametrize("key_type", [trustme.KeyType.ECDSA, trustme.KeyType.RSA])
async def test_real_handshake(tmp_path: Path, key_type: trustme.KeyType) -> None:
    ca = trustme.CA(key_type=key_type)
    leaf = ca.issue_cert("localhost", "127.0.0.1", "::1", key_type=key_type)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    leaf.configure_cert(context)
    der, decoded = await peer_der(context)
    assert decoded == {}  # why the connector must parse the DER itself
    info = parse_certificate(der)
    assert info.sha256_fingerprint == hashlib.sha256(der).digest()
    pem = tmp_path / "leaf.pem"
    leaf.cert_chain_pems[0].write_to_path(str(pem))
    assert openssl_view(pem)["fingerprint"] == info.fingerprint_hex_colons
    assert info.spki_sha256 == openssl_spki_sha256(pem)
    assert info.san_dns == ("localhost",) and info.san_ip == ("127.0.0.1", "::1")
    issuer = parse_certificate(ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode()))
    assert info.issuer == issuer.subject and issuer.is_self_signed
