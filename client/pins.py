"""``Pins``: the target's certificate pinned by several fingerprints and public-key pins.

Rules / theory of operation:
- A ``Pins`` value is accepted wherever ``ssl=`` is (the connector's default, each request).
  It names the TARGET only: an https:// proxy's own handshake follows ``proxy_ssl`` and is
  never pin-checked, and a pin never switches the proxy's verification off.
- Two kinds of pin, each a SHA-256 digest: of the whole DER certificate (``fingerprints``,
  what ``openssl x509 -fingerprint -sha256`` prints) and of its DER SubjectPublicKeyInfo
  (``spki``, RFC 7469 §2.4, curl's ``--pinnedpubkey sha256//BASE64``; it survives a
  renewal that keeps the key).
- Within a kind any pin matches (old and new during a rotation); when both kinds are given
  each kind must match: the certificate is one of these AND its key is one of those.
- ``verify`` says what else the handshake checks. ``True``: the chain and the host name
  with the default trust, then the pins (curl's ``--pinnedpubkey``). ``False``: the pins
  replace verification (a pinned self-signed certificate). An ``ssl.SSLContext``: the
  handshake runs with it exactly as given (its CA, client certificate, TLS versions and
  its own verification), then the pins.
- The connector checks the pins right after the target's handshake, before the connection
  is handed to a request: a mismatch aborts the transport and raises ``PinMismatch`` (a
  ``ServerFingerprintMismatch``) with the certificate the server presented; not one request
  byte is written. ``Fingerprint`` keeps aiohttp's behaviour (one digest, no verification).
- Values compare and hash by their pins and ``verify``: the pool keeps connections made
  under different pins apart (``ConnectionKey.ssl``).
"""

from __future__ import annotations

import hashlib
import ssl
from collections.abc import Iterable

from .exceptions import PinMismatch

__all__ = ["Pins"]

_DIGEST_SIZE = 32  # SHA-256


def _digests(values: Iterable[bytes | str] | bytes | str, parse: str) -> tuple[bytes, ...]:
    """32-byte digests from bytes, or from text as people type it (``parse`` picks how)."""
    if isinstance(values, bytes | bytearray | str):
        values = [values]  # one pin given alone
    from . import certinfo  # only when a pin is given as text

    out: list[bytes] = []
    for value in values:
        if isinstance(value, str):
            if parse == "spki":
                out.extend(certinfo.parse_pins(value))
            else:
                out.append(certinfo.parse_fingerprint(value))
            continue
        if not isinstance(value, bytes | bytearray):
            raise TypeError(f"a pin is bytes or str, not {type(value).__name__}")
        if len(value) in (16, 20):
            raise ValueError("md5 and sha1 are insecure and not supported. Use sha256.")
        if len(value) != _DIGEST_SIZE:
            raise ValueError(f"a SHA-256 pin has 32 bytes, not {len(value)}")
        out.append(bytes(value))
    return tuple(dict.fromkeys(out))  # in the order given, without repeats


class Pins:
    """SHA-256 pins of the target's certificate and public key (see the module rules).

    ``fingerprints``: digests of the DER certificate (32 bytes each, or text such as
    ``"sha256:AB:CD:…"``). ``spki``: digests of the SubjectPublicKeyInfo (32 bytes each, or
    curl's ``"sha256//BASE64"``, several joined with ``;``). At least one pin is required.
    """

    __slots__ = ("_fingerprints", "_hash", "_spki", "_verify")

    def __init__(
        self,
        fingerprints: Iterable[bytes | str] | bytes | str = (),
        spki: Iterable[bytes | str] | bytes | str = (),
        *,
        verify: bool | ssl.SSLContext = True,
    ) -> None:
        self._fingerprints = _digests(fingerprints, "fingerprint")
        self._spki = _digests(spki, "spki")
        if not self._fingerprints and not self._spki:
            raise ValueError("Pins needs at least one fingerprint or public key pin")
        if not isinstance(verify, bool | ssl.SSLContext):
            raise TypeError("verify is True, False or an ssl.SSLContext")
        self._verify = verify
        self._hash = hash((self._fingerprints, self._spki, verify))

    @property
    def fingerprints(self) -> tuple[bytes, ...]:
        return self._fingerprints

    @property
    def spki(self) -> tuple[bytes, ...]:
        return self._spki

    @property
    def verify(self) -> bool | ssl.SSLContext:
        return self._verify

    def check(self, der: bytes, host: str, port: int | None) -> None:
        """Raise ``PinMismatch`` unless the DER certificate ``der`` matches (see the rules)."""
        if self._fingerprints:
            got = hashlib.sha256(der).digest()
            if got not in self._fingerprints:
                raise PinMismatch(
                    "certificate",
                    self._fingerprints,
                    got,
                    host,
                    port,
                    peer_certificate=der,
                    pins=self,
                )
        if self._spki:
            key = _spki_digest(der)
            if key is None or key not in self._spki:
                raise PinMismatch(
                    "public key",
                    self._spki,
                    key or b"",
                    host,
                    port,
                    peer_certificate=der,
                    pins=self,
                )

    def matches(self, der: bytes) -> bool:
        """Whether the DER certificate ``der`` satisfies these pins."""
        try:
            self.check(der, "", None)
        except PinMismatch:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        # A context is the same setting only as the same object (SSLContext has no equality).
        return (
            isinstance(other, Pins)
            and other._fingerprints == self._fingerprints
            and other._spki == self._spki
            and other._verify is self._verify
        )

    def __hash__(self) -> int:
        return self._hash

    def __repr__(self) -> str:
        parts = [f"sha256:{d.hex()}" for d in self._fingerprints]
        parts += [f"spki:{d.hex()}" for d in self._spki]
        verify = self._verify if isinstance(self._verify, bool) else "context"
        return f"<Pins {' '.join(parts)} verify={verify}>"


def _spki_digest(der: bytes) -> bytes | None:
    """SHA-256 of the certificate's SubjectPublicKeyInfo; None when it cannot be read."""
    from .certinfo import parse_certificate

    try:
        return parse_certificate(der).spki_sha256
    except ValueError:
        return None
