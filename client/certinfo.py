"""What a peer certificate says, read from its DER bytes: no I/O, no OpenSSL, no recursion.

``ssl_object.getpeercert()`` returns ``{}`` when the connection was not verified, so the
connector reads ``getpeercert(binary_form=True)`` here instead; the CLI renders the result
(``--show-cert``) and writes ``to_dict()`` into ``--report``. Pins typed by users are parsed
here too: ``parse_fingerprint`` (SHA-256 of the DER certificate) and ``parse_pin(s)``
(curl's ``sha256//BASE64`` of the SubjectPublicKeyInfo).

Rules / theory of operation:
- The reader knows the one shape of RFC 5280 §4.1 and walks it with hand-written steps, each
  a fixed depth; SEQUENCE OF loops advance at least two bytes per item. So hostile input can
  neither recurse nor loop: every failure is a ``ValueError`` naming the byte offset.
- Structure is checked strictly (X.690 §10: definite lengths, no trailing bytes, tags in
  order; only a long-form length that could have been shorter is let pass). Semantics are
  not (no signature check, no path building, no policy): this module describes a
  certificate, it never decides whether to trust it.
- Names keep DER order in ``subject``/``issuer`` (as OpenSSL and ``getpeercert()`` list
  them) with their values as decoded; ``*_text`` is RFC 4514 §2 (last RDN first, special
  characters escaped) and also escapes control and format characters, so it is safe to
  print on a terminal. Decoded values and DNS names are not: escape them before display.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, NoReturn

__all__ = (
    "CertificateInfo",
    "parse_certificate",
    "parse_fingerprint",
    "parse_pin",
    "parse_pins",
)

Name = tuple[tuple[str, str], ...]

# Universal tags (X.690 §8.1.2, X.680 §8.4).
_BOOLEAN = 0x01
_INTEGER = 0x02
_BIT_STRING = 0x03
_OCTET_STRING = 0x04
_OID = 0x06
_UTC_TIME = 0x17
_GENERALIZED_TIME = 0x18
_SEQUENCE = 0x30
_SET = 0x31
# Context-specific tags of TBSCertificate (RFC 5280 §4.1) and GeneralName (§4.2.1.6).
_VERSION = 0xA0
_ISSUER_UID = 0x81
_SUBJECT_UID = 0x82
_EXTENSIONS = 0xA3
_SAN_DNS = 0x82
_SAN_IP = 0x87

# String types allowed in DirectoryString and friends (RFC 5280 §4.1.2.4, Appendix A).
_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x12: "ascii",  # NumericString
    0x13: "ascii",  # PrintableString
    0x14: "latin-1",  # TeletexString: in practice Latin-1, as OpenSSL reads it
    0x16: "ascii",  # IA5String
    0x1A: "ascii",  # VisibleString
    0x1C: "utf-32-be",  # UniversalString
    0x1E: "utf-16-be",  # BMPString
}

# Attribute types by the short names of RFC 4514 §3, then OpenSSL's for the rest.
_ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.42": "GN",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}

# Signature and public key algorithms by OpenSSL's long names (RFC 3279, 4055, 5758, 8410).
_ALGORITHM_NAMES = {
    "1.2.840.113549.1.1.1": "rsaEncryption",
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.10040.4.1": "dsaEncryption",
    "1.2.840.10040.4.3": "dsa_with_SHA1",
    "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
    "1.2.840.10045.2.1": "id-ecPublicKey",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
}
_RSA_KEYS = ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10")  # rsaEncryption, RSASSA-PSS
_EC = "1.2.840.10045.2.1"
# Named curves (RFC 5480 §2.1.1.1) with their sizes; fixed sizes of RFC 8410 keys.
_CURVES = {
    "1.2.840.10045.3.1.7": ("prime256v1", 256),
    "1.3.132.0.34": ("secp384r1", 384),
    "1.3.132.0.35": ("secp521r1", 521),
    "1.3.132.0.10": ("secp256k1", 256),
    "1.3.36.3.3.2.8.1.1.7": ("brainpoolP256r1", 256),
    "1.3.36.3.3.2.8.1.1.11": ("brainpoolP384r1", 384),
    "1.3.36.3.3.2.8.1.1.13": ("brainpoolP512r1", 512),
}
_FIXED_KEY_BITS = {"1.3.101.110": 253, "1.3.101.111": 448, "1.3.101.112": 256, "1.3.101.113": 456}
_SUBJECT_ALT_NAME = "2.5.29.17"

_PIN_PREFIX = "sha256//"
_FINGERPRINT_PREFIX = re.compile(r"^(sha-?256)(\s*fingerprint)?\s*[:=]\s*", re.IGNORECASE)
_WEAK_PREFIX = re.compile(r"^(md5|sha-?1)(\s*fingerprint)?\s*[:=]", re.IGNORECASE)
_INSECURE = "md5/sha1 are insecure, use SHA-256"


@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The fields of one X.509 certificate that a person or a pin check needs."""

    version: int  # 1, 2 or 3 (the encoded value plus one, RFC 5280 §4.1.2.1)
    serial_number: int
    signature_algorithm: str  # a friendly name, or the dotted OID when unknown
    signature_algorithm_oid: str
    issuer: Name
    issuer_text: str
    not_before: datetime.datetime  # aware, UTC
    not_after: datetime.datetime
    subject: Name
    subject_text: str
    public_key_algorithm: str
    public_key_algorithm_oid: str
    public_key_curve: str | None  # the named curve of an EC key
    public_key_bits: int | None
    san_dns: tuple[str, ...]
    san_ip: tuple[str, ...]
    sha256_fingerprint: bytes  # SHA-256 of the whole DER certificate
    spki_sha256: bytes  # SHA-256 of the DER SubjectPublicKeyInfo

    @property
    def serial_hex(self) -> str:
        """Upper-case hex of the magnitude, whole bytes, as ``openssl x509 -serial``."""
        magnitude = abs(self.serial_number)
        text = magnitude.to_bytes(max(1, (magnitude.bit_length() + 7) // 8), "big").hex()
        return ("-" if self.serial_number < 0 else "") + text.upper()

    @property
    def fingerprint_hex_colons(self) -> str:
        return self.sha256_fingerprint.hex(":").upper()

    @property
    def spki_pin(self) -> str:
        """curl's ``--pinnedpubkey`` form: ``sha256//`` and the base64 SPKI digest."""
        return _PIN_PREFIX + base64.b64encode(self.spki_sha256).decode("ascii")

    @property
    def is_self_signed(self) -> bool:
        """Self-issued (RFC 5280 §3.2: issuer equals subject); the signature is not checked."""
        return self.issuer == self.subject

    def days_left(self, now: datetime.datetime | None = None) -> int:
        """Whole days until notAfter, truncated toward zero: 0 in the last day before and the
        first day after it (``is_expired`` tells them apart), -N once N whole days past."""
        left = self.not_after - _now(now)
        return left.days if left >= datetime.timedelta(0) else -(-left).days

    def is_expired(self, now: datetime.datetime | None = None) -> bool:
        return _now(now) > self.not_after

    def is_not_yet_valid(self, now: datetime.datetime | None = None) -> bool:
        return _now(now) < self.not_before

    def to_dict(self, now: datetime.datetime | None = None) -> dict[str, Any]:
        """A JSON-ready summary for ``--report``: ISO 8601 dates, hex digests."""
        return {
            "subject": self.subject_text,
            "subject_attributes": [list(pair) for pair in self.subject],
            "issuer": self.issuer_text,
            "issuer_attributes": [list(pair) for pair in self.issuer],
            "version": self.version,
            "serial_number": str(self.serial_number),  # decimal text: JSON readers lose bits
            "serial_hex": self.serial_hex,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "days_left": self.days_left(now),
            "expired": self.is_expired(now),
            "not_yet_valid": self.is_not_yet_valid(now),
            "san_dns": list(self.san_dns),
            "san_ip": list(self.san_ip),
            "signature_algorithm": self.signature_algorithm,
            "signature_algorithm_oid": self.signature_algorithm_oid,
            "public_key_algorithm": self.public_key_algorithm,
            "public_key_algorithm_oid": self.public_key_algorithm_oid,
            "public_key_curve": self.public_key_curve,
            "public_key_bits": self.public_key_bits,
            "sha256_fingerprint": self.fingerprint_hex_colons,
            "spki_sha256": self.spki_sha256.hex(),
            "spki_pin": self.spki_pin,
            "self_signed": self.is_self_signed,
        }


def _now(now: datetime.datetime | None) -> datetime.datetime:
    if now is None:
        return datetime.datetime.now(datetime.UTC)
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


# -- DER reading (X.690) --------------------------------------------------------------------


def _fail(offset: int, message: str) -> NoReturn:
    raise ValueError(f"malformed certificate at byte {offset}: {message}")


def _tlv(der: bytes, pos: int, end: int) -> tuple[int, int, int]:
    """The element at ``pos`` inside ``[pos, end)``: its tag, content start and content end."""
    if end - pos < 2:
        _fail(pos, "truncated: expected a tag and a length")
    tag = der[pos]
    if tag & 0x1F == 0x1F:
        _fail(pos, f"tag 0x{tag:02x} uses the high-tag-number form, not used by X.509")
    first = der[pos + 1]
    start = pos + 2
    if first < 0x80:  # short form (X.690 §8.1.3.4)
        length = first
    elif first == 0x80:
        _fail(pos + 1, "indefinite length is not DER (X.690 §10.1)")
    else:  # long form (§8.1.3.5); four octets already allow 4 GiB
        count = first & 0x7F
        if count > 4:
            _fail(pos + 1, f"a length of {count} octets is too long")
        if end - start < count:
            _fail(pos + 1, "truncated length")
        length = int.from_bytes(der[start : start + count], "big")
        start += count
    if length > end - start:
        _fail(pos, f"length {length} runs past the end of its container ({end - start} left)")
    return tag, start, start + length


def _expect(der: bytes, pos: int, end: int, tag: int, what: str) -> tuple[int, int]:
    got, start, stop = _tlv(der, pos, end)
    if got != tag:
        _fail(pos, f"{what}: expected tag 0x{tag:02x}, found 0x{got:02x}")
    return start, stop


def _done(pos: int, end: int, what: str) -> None:
    if pos != end:
        _fail(pos, f"unexpected bytes at the end of {what}")


def _integer(der: bytes, start: int, stop: int) -> int:
    if start == stop:  # X.690 §8.3.1: at least one content octet
        _fail(start, "empty INTEGER")
    return int.from_bytes(der[start:stop], "big", signed=True)


def _oid(der: bytes, start: int, stop: int) -> str:
    """Dotted text of an OBJECT IDENTIFIER's contents (X.690 §8.19)."""
    if start == stop:
        _fail(start, "empty OBJECT IDENTIFIER")
    if der[stop - 1] & 0x80:
        _fail(stop - 1, "truncated OBJECT IDENTIFIER")
    arcs: list[int] = []
    value = 0
    for pos in range(start, stop):
        octet = der[pos]
        if value == 0 and octet == 0x80:  # §8.19.2: subidentifiers use the fewest octets
            _fail(pos, "OBJECT IDENTIFIER arc with a leading 0x80 octet")
        value = (value << 7) | (octet & 0x7F)
        if not octet & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)  # §8.19.4: the first two arcs share one subidentifier
    return ".".join(map(str, (first, arcs[0] - 40 * first, *arcs[1:])))


def _algorithm(der: bytes, pos: int, end: int, what: str) -> tuple[str, int, int]:
    """AlgorithmIdentifier (RFC 5280 §4.1.1.2): its OID and the parameters' range."""
    start, stop = _expect(der, pos, end, _SEQUENCE, what)
    oid_start, oid_stop = _expect(der, start, stop, _OID, f"{what} algorithm")
    return _oid(der, oid_start, oid_stop), oid_stop, stop


# -- Names (RFC 5280 §4.1.2.4, RFC 4514) ------------------------------------------------------


def _string(der: bytes, pos: int, end: int) -> tuple[str, bool, int]:
    """An attribute value: decoded text, or ``#`` and the hex of its DER (RFC 4514 §2.4)."""
    tag, start, stop = _tlv(der, pos, end)
    codec = _STRING_CODECS.get(tag)
    if codec is None:
        return "#" + der[pos:stop].hex(), False, stop
    try:
        return der[start:stop].decode(codec), True, stop
    except UnicodeDecodeError as exc:
        _fail(start + exc.start, f"invalid {codec} text in a string value")


def _escape(value: str) -> str:
    """RFC 4514 §2.4, plus ``\\XX`` for control and format characters."""
    out: list[str] = []
    last = len(value) - 1
    for index, char in enumerate(value):
        if char in '"+,;<>\\' or (index == 0 and char in " #") or (index == last and char == " "):
            out.append("\\" + char)
        elif unicodedata.category(char) in ("Cc", "Cf"):
            out.append("".join(f"\\{octet:02X}" for octet in char.encode("utf-8", "replace")))
        else:
            out.append(char)
    return "".join(out)


def _name(der: bytes, pos: int, end: int, what: str) -> tuple[Name, str, int]:
    """Name ::= SEQUENCE OF SET OF AttributeTypeAndValue: the pairs, the text, the end."""
    start, stop = _expect(der, pos, end, _SEQUENCE, what)
    pairs: list[tuple[str, str]] = []
    rdns: list[str] = []
    pos = start
    while pos < stop:
        set_start, set_stop = _expect(der, pos, stop, _SET, f"{what} RDN")
        if set_start == set_stop:
            _fail(pos, f"{what}: empty RelativeDistinguishedName")
        parts: list[str] = []
        item = set_start
        while item < set_stop:
            atv_start, atv_stop = _expect(der, item, set_stop, _SEQUENCE, f"{what} attribute")
            oid_start, oid_stop = _expect(der, atv_start, atv_stop, _OID, f"{what} type")
            oid = _oid(der, oid_start, oid_stop)
            key = _ATTRIBUTE_NAMES.get(oid, oid)
            value, is_text, value_stop = _string(der, oid_stop, atv_stop)
            _done(value_stop, atv_stop, f"{what} attribute")
            pairs.append((key, value))
            parts.append(f"{key}={_escape(value) if is_text else value}")
            item = atv_stop
        rdns.append("+".join(parts))
        pos = set_stop
    return tuple(pairs), ",".join(reversed(rdns)), stop


# -- Validity (RFC 5280 §4.1.2.5) -----------------------------------------------------------


def _time(der: bytes, pos: int, end: int) -> tuple[datetime.datetime, int]:
    tag, start, stop = _tlv(der, pos, end)
    text = der[start:stop]
    if tag == _UTC_TIME:  # §4.1.2.5.1: YYMMDDHHMMSSZ; YY >= 50 means 19YY
        width = 12
    elif tag == _GENERALIZED_TIME:  # §4.1.2.5.2: YYYYMMDDHHMMSSZ, no fractions
        width = 14
    else:
        _fail(pos, f"validity: expected UTCTime or GeneralizedTime, found tag 0x{tag:02x}")
    if len(text) != width + 1 or not text[:width].isdigit() or text[width:] != b"Z":
        _fail(start, f"time {text[:32]!r} is not in the form RFC 5280 §4.1.2.5 requires")
    if width == 12:
        year = int(text[:2])
        year += 1900 if year >= 50 else 2000
        text = text[2:]
    else:
        year = int(text[:4])
        text = text[4:]
    month, day, hour, minute, second = (int(text[i : i + 2]) for i in range(0, 10, 2))
    try:
        moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
        return moment, stop
    except ValueError as exc:
        _fail(start, f"invalid date: {exc}")


# -- Public key (RFC 5280 §4.1.2.7) ---------------------------------------------------------


def _public_key(der: bytes, pos: int, end: int) -> tuple[str, str | None, int | None, int]:
    """SubjectPublicKeyInfo: algorithm OID, curve name, key size and the end offset."""
    start, stop = _expect(der, pos, end, _SEQUENCE, "subjectPublicKeyInfo")
    oid, params, alg_stop = _algorithm(der, start, stop, "subjectPublicKeyInfo")
    key_start, key_stop = _expect(der, alg_stop, stop, _BIT_STRING, "subjectPublicKey")
    _done(key_stop, stop, "subjectPublicKeyInfo")
    if key_start == key_stop or der[key_start] != 0:
        _fail(key_start, "subjectPublicKey must be a whole number of octets")
    curve: str | None = None
    bits = _FIXED_KEY_BITS.get(oid)
    if oid == _EC and params < alg_stop and der[params] == _OID:
        curve_start, curve_stop = _expect(der, params, alg_stop, _OID, "namedCurve")
        curve_oid = _oid(der, curve_start, curve_stop)
        curve, bits = _CURVES.get(curve_oid, (curve_oid, None))
    elif oid in _RSA_KEYS:  # RSAPublicKey ::= SEQUENCE { modulus, publicExponent } (RFC 3279)
        rsa_start, rsa_stop = _expect(der, key_start + 1, key_stop, _SEQUENCE, "RSAPublicKey")
        mod_start, mod_stop = _expect(der, rsa_start, rsa_stop, _INTEGER, "RSA modulus")
        bits = _integer(der, mod_start, mod_stop).bit_length()
    return oid, curve, bits, stop


# -- Extensions (RFC 5280 §4.2) -------------------------------------------------------------


def _extensions(der: bytes, start: int, stop: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension: the DNS and IP alternative names."""
    list_start, list_stop = _expect(der, start, stop, _SEQUENCE, "extensions")
    _done(list_stop, stop, "extensions")
    seen: set[str] = set()
    dns: list[str] = []
    ips: list[str] = []
    pos = list_start
    while pos < list_stop:
        ext_start, ext_stop = _expect(der, pos, list_stop, _SEQUENCE, "extension")
        oid_start, oid_stop = _expect(der, ext_start, ext_stop, _OID, "extnID")
        oid = _oid(der, oid_start, oid_stop)
        if oid in seen:  # §4.2: at most one instance of an extension
            _fail(pos, f"extension {oid} appears twice")
        seen.add(oid)
        item = oid_stop
        if der[item : item + 1] == bytes([_BOOLEAN]):
            _expect(der, item, ext_stop, _BOOLEAN, "critical")
            item = _tlv(der, item, ext_stop)[2]
        value_start, value_stop = _expect(der, item, ext_stop, _OCTET_STRING, "extnValue")
        _done(value_stop, ext_stop, "extension")
        if oid == _SUBJECT_ALT_NAME:
            _alt_names(der, value_start, value_stop, dns, ips)
        pos = ext_stop
    return tuple(dns), tuple(ips)


def _alt_names(der: bytes, start: int, stop: int, dns: list[str], ips: list[str]) -> None:
    """GeneralNames (§4.2.1.6): keeps dNSName (IA5String) and iPAddress (4 or 16 octets)."""
    names_start, names_stop = _expect(der, start, stop, _SEQUENCE, "subjectAltName")
    _done(names_stop, stop, "subjectAltName")
    pos = names_start
    while pos < names_stop:
        tag, value_start, value_stop = _tlv(der, pos, names_stop)
        value = der[value_start:value_stop]
        if tag == _SAN_DNS:
            try:
                dns.append(value.decode("ascii"))
            except UnicodeDecodeError:
                _fail(value_start, "dNSName is not an IA5String")
        elif tag == _SAN_IP:
            if len(value) not in (4, 16):
                _fail(pos, f"iPAddress of {len(value)} octets (4 or 16 expected)")
            ips.append(str(ipaddress.ip_address(value)))
        pos = value_stop


# -- Certificate (RFC 5280 §4.1) ------------------------------------------------------------


def parse_certificate(der: bytes | bytearray | memoryview) -> CertificateInfo:
    """Read one DER certificate; ``ValueError`` with the byte offset when it is malformed."""
    der = bytes(der)
    cert_start, cert_stop = _expect(der, 0, len(der), _SEQUENCE, "Certificate")
    _done(cert_stop, len(der), "the input (one certificate expected)")
    tbs_start, tbs_stop = _expect(der, cert_start, cert_stop, _SEQUENCE, "tbsCertificate")
    sig_oid, _params, sig_stop = _algorithm(der, tbs_stop, cert_stop, "signatureAlgorithm")
    value_stop = _expect(der, sig_stop, cert_stop, _BIT_STRING, "signatureValue")[1]
    _done(value_stop, cert_stop, "Certificate")

    pos = tbs_start
    version = 1  # [0] EXPLICIT Version DEFAULT v1 (§4.1.2.1)
    if der[pos : pos + 1] == bytes([_VERSION]):
        outer_start, outer_stop = _expect(der, pos, tbs_stop, _VERSION, "version")
        int_start, int_stop = _expect(der, outer_start, outer_stop, _INTEGER, "version")
        _done(int_stop, outer_stop, "version")
        encoded = _integer(der, int_start, int_stop)
        if encoded not in (0, 1, 2):
            _fail(int_start, f"unknown certificate version {encoded}")
        version = encoded + 1
        pos = outer_stop
    serial_start, serial_stop = _expect(der, pos, tbs_stop, _INTEGER, "serialNumber")
    serial = _integer(der, serial_start, serial_stop)
    pos = _algorithm(der, serial_stop, tbs_stop, "signature")[2]
    issuer, issuer_text, pos = _name(der, pos, tbs_stop, "issuer")
    validity_start, validity_stop = _expect(der, pos, tbs_stop, _SEQUENCE, "validity")
    not_before, pos = _time(der, validity_start, validity_stop)
    not_after, pos = _time(der, pos, validity_stop)
    _done(pos, validity_stop, "validity")
    subject, subject_text, pos = _name(der, validity_stop, tbs_stop, "subject")
    spki_start = pos
    key_oid, curve, bits, pos = _public_key(der, pos, tbs_stop)
    spki = der[spki_start:pos]

    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    for tag in (_ISSUER_UID, _SUBJECT_UID, _EXTENSIONS):  # optional, in this order
        if pos < tbs_stop and der[pos] == tag:
            start, stop = _expect(der, pos, tbs_stop, tag, "tbsCertificate")
            if tag == _EXTENSIONS:
                dns, ips = _extensions(der, start, stop)
            pos = stop
    _done(pos, tbs_stop, "tbsCertificate")

    return CertificateInfo(
        version=version,
        serial_number=serial,
        signature_algorithm=_ALGORITHM_NAMES.get(sig_oid, sig_oid),
        signature_algorithm_oid=sig_oid,
        issuer=issuer,
        issuer_text=issuer_text,
        not_before=not_before,
        not_after=not_after,
        subject=subject,
        subject_text=subject_text,
        public_key_algorithm=_ALGORITHM_NAMES.get(key_oid, key_oid),
        public_key_algorithm_oid=key_oid,
        public_key_curve=curve,
        public_key_bits=bits,
        san_dns=dns,
        san_ip=ips,
        sha256_fingerprint=hashlib.sha256(der).digest(),
        spki_sha256=hashlib.sha256(spki).digest(),
    )


# -- Pins typed by people -------------------------------------------------------------------


def parse_fingerprint(text: str) -> bytes:
    """A SHA-256 certificate fingerprint: hex, with or without ``:``/spaces, any case, and an
    optional ``sha256:``/``SHA256=`` prefix (also OpenSSL's ``sha256 Fingerprint=``)."""
    stripped = text.strip()
    if _WEAK_PREFIX.match(stripped):
        raise ValueError(f"fingerprint {text!r}: {_INSECURE}")
    digits = _FINGERPRINT_PREFIX.sub("", stripped, count=1)
    digits = re.sub(r"[\s:]", "", digits)
    if not digits:
        raise ValueError(f"fingerprint {text!r} is empty")
    bad = re.search(r"[^0-9A-Fa-f]", digits)
    if bad:
        raise ValueError(f"fingerprint {text!r}: {bad.group()!r} is not a hex digit")
    if len(digits) % 2:
        raise ValueError(f"fingerprint {text!r} has an odd number of hex digits")
    digest = bytes.fromhex(digits)
    if len(digest) in (16, 20):
        raise ValueError(f"fingerprint {text!r} is {len(digest)} bytes: {_INSECURE}")
    if len(digest) != 32:
        raise ValueError(
            f"fingerprint {text!r} is {len(digest)} bytes; SHA-256 has 32 (64 hex digits)"
        )
    return digest


def parse_pin(text: str) -> bytes:
    """One curl public-key pin, ``sha256//`` and the base64 SHA-256 of the SPKI."""
    stripped = text.strip()
    if stripped[: len(_PIN_PREFIX)].lower() != _PIN_PREFIX:
        raise ValueError(f"public key pin {text!r} must start with {_PIN_PREFIX!r}")
    encoded = stripped[len(_PIN_PREFIX) :]
    encoded += "=" * (-len(encoded) % 4)
    try:
        digest = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"public key pin {text!r} is not valid base64: {exc}") from None
    if len(digest) != 32:
        raise ValueError(f"public key pin {text!r} is {len(digest)} bytes; SHA-256 has 32")
    return digest


def parse_pins(text: str) -> list[bytes]:
    """Several pins joined with ``;``, as curl's ``--pinnedpubkey`` takes them."""
    pins = [parse_pin(part) for part in text.split(";") if part.strip()]
    if not pins:
        raise ValueError(f"no public key pin in {text!r}")
    return pins
