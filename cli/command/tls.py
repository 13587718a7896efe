"""TLS flags → the request's ``ssl`` value and the pin checks (``--verify``, ``--insecure``,
``--cert``, ``--cert-key``, ``--cert-key-pass``, ``--tls-min``, ``--fingerprint``,
``--pin-pubkey``).

Rules:
- Everything is checked while the spec is built: a bad pin, a missing CA bundle or a client
  key that does not load is a usage error (exit 2) before any connection is made.
- ``--fingerprint`` replaces chain verification, as the engine's ``Fingerprint`` does (a
  self-signed certificate can be pinned) unless ``--verify`` is given explicitly too.
  ``--pin-pubkey`` is checked in addition to verification (curl's ``--pinnedpubkey``).
- Pins are checked by a trace handler on ``on_tls_handshake_end``: the engine runs it after
  the handshake and before writing the request, and aborts the transport when it raises,
  so a mismatch sends zero request bytes. The engine's ``Fingerprint`` takes one digest;
  several (certificate rotation) are any-match here.
- The TLS handshake of an https:// proxy is not the target's: it is never pin-checked.
- ``ssl`` and ``client`` load only when a flag needs them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import TYPE_CHECKING, Any

from cli.exitcodes import ExitCode
from cli.request.spec import UsageError

if TYPE_CHECKING:
    import ssl

    import client
    from cli.run.app import Options

YES = frozenset({"yes", "true", "1", "on"})
NO = frozenset({"no", "false", "0", "off"})


class PinMismatch(Exception):
    """The server's certificate or key is not one of the pinned ones."""

    zurl_exit_code = ExitCode.PIN_MISMATCH

    def __init__(self, message: str, der: bytes = b"") -> None:
        super().__init__(message)
        self.peer_certificate = der  # what the server presented, for --show-cert


@dataclasses.dataclass(frozen=True, slots=True)
class TLSPlan:
    """How to verify the server and which pins it must match."""

    # True (default verification), False (none), or a context built from the flags.
    ssl: Any = True
    fingerprints: tuple[bytes, ...] = ()
    pubkey_pins: tuple[bytes, ...] = ()

    @property
    def has_pins(self) -> bool:
        return bool(self.fingerprints or self.pubkey_pins)


def plan_from(opts: Options) -> TLSPlan | None:
    """The TLS plan the flags ask for; None when they are all left at their defaults."""
    if not (
        opts.verify is not None
        or opts.insecure
        or opts.cert
        or opts.cert_key
        or opts.cert_key_pass is not None
        or opts.tls_min
        or opts.fingerprint
        or opts.pin_pubkey
    ):
        return None
    fingerprints = tuple(_parse("--fingerprint", value) for value in opts.fingerprint)
    pins = tuple(pin for value in opts.pin_pubkey for pin in _parse_pins(value))
    verify, ca = _verify_mode(opts.verify, opts.insecure)
    if fingerprints and opts.verify is None:
        verify = False  # the pin is the trust anchor (a self-signed certificate is fine)
    if opts.cert is None and (opts.cert_key or opts.cert_key_pass is not None):
        raise UsageError("--cert-key and --cert-key-pass need --cert FILE")
    if ca is None and opts.cert is None and opts.tls_min is None:
        return TLSPlan(verify, fingerprints, pins)
    return TLSPlan(_context(verify, ca, opts), fingerprints, pins)


def _parse(flag: str, value: str) -> bytes:
    import client

    try:
        return client.parse_fingerprint(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _parse_pins(value: str) -> list[bytes]:
    import client

    try:
        return client.parse_pins(value)
    except ValueError as exc:
        raise UsageError(f"--pin-pubkey: {exc}") from None


def _verify_mode(value: str | None, insecure: bool) -> tuple[bool, str | None]:
    """(verify?, CA bundle path or None) from ``--verify`` and ``--insecure``."""
    if value is None:
        return not insecure, None
    lowered = value.strip().lower()
    if lowered in NO:
        return False, None
    if insecure:
        raise UsageError(f"--insecure contradicts --verify {value}")
    if lowered in YES:
        return True, None
    path = os.path.expanduser(value)
    if not os.path.exists(path):
        raise UsageError(f"--verify {value!r}: no such CA bundle (use yes, no or a PEM file)")
    return True, path


def _context(verify: bool, ca: str | None, opts: Options) -> ssl.SSLContext:
    import ssl

    if not verify:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca is not None:
        # A bundle given by the user is the only trust, as curl's --cacert and httpie's
        # --verify=PATH: a private CA must not also accept every public one.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks host names
        try:
            if os.path.isdir(ca):
                context.load_verify_locations(capath=ca)
            else:
                context.load_verify_locations(cafile=ca)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"--verify {ca!r}: not a PEM CA bundle ({exc})") from None
    else:
        import certifi

        # The engine's default trust: the system store plus certifi's bundle.
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    if opts.tls_min is not None:
        context.minimum_version = ssl.TLSVersion[f"TLSv1_{opts.tls_min.split('.')[1]}"]
    if opts.cert is not None:
        try:
            context.load_cert_chain(opts.cert, opts.cert_key, opts.cert_key_pass)
        except (OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
            raise UsageError(f"--cert {opts.cert!r}: cannot load: {reason}") from None
    return context


# -- pin checks ------------------------------------------------------------------------------


def colon_hex(digest: bytes) -> str:
    """``AB:CD:…``: the form ``openssl x509 -fingerprint -sha256`` prints."""
    return digest.hex(":").upper()


def check_pins(plan: TLSPlan, der: bytes, where: str) -> None:
    """Raise ``PinMismatch`` unless ``der`` matches the plan's pins (any of each kind)."""
    if plan.fingerprints:
        got = hashlib.sha256(der).digest()
        if got not in plan.fingerprints:
            expected = " or ".join(f"sha256:{colon_hex(d)}" for d in plan.fingerprints)
            raise PinMismatch(
                f"{where}: certificate fingerprint mismatch: expected {expected}, "
                f"got sha256:{colon_hex(got)}",
                der,
            )
    if plan.pubkey_pins:
        import base64

        import client

        try:
            spki = client.parse_certificate(der).spki_sha256
        except ValueError as exc:
            raise PinMismatch(
                f"{where}: unreadable certificate, no key to pin: {exc}", der
            ) from None
        if spki not in plan.pubkey_pins:
            expected = ";".join(
                "sha256//" + base64.b64encode(p).decode() for p in plan.pubkey_pins
            )
            got_pin = "sha256//" + base64.b64encode(spki).decode()
            raise PinMismatch(
                f"{where}: public key pin mismatch: expected {expected}, got {got_pin}", der
            )


def pin_trace_config(plan: TLSPlan, proxy: tuple[str, int] | None) -> client.TraceConfig:
    """A trace config that refuses a handshake whose certificate misses the pins.

    ``proxy`` is the https:// proxy's (host, port), whose own handshake is skipped.
    """
    import client

    async def on_handshake_end(
        session: object, ctx: object, params: client.TraceTlsHandshakeEndParams
    ) -> None:
        if proxy is not None and (params.host, params.port) == proxy:
            return
        host = f"[{params.host}]" if ":" in params.host else params.host
        check_pins(plan, params.peer_certificate or b"", f"{host}:{params.port}")

    config = client.TraceConfig()
    config.on_tls_handshake_end.append(on_handshake_end)
    return config


def certificate_summary(der: bytes) -> dict[str, Any] | None:
    """``CertificateInfo.to_dict()`` of ``der``; None when it cannot be read."""
    import client

    try:
        return client.parse_certificate(der).to_dict()
    except ValueError:
        return None
