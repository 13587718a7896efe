"""Certificate and public-key pins (``--fingerprint``, ``--pin-pubkey``), checked on the
target's TLS handshake.

Rules:
- Pins are checked by a trace handler on ``on_tls_handshake_end``: the engine runs it after
  the handshake and before writing the request, and aborts the transport when it raises,
  so a mismatch sends zero request bytes. Several pins of a kind are any-match
  (certificate rotation).
- The TLS handshake of an https:// proxy is not the target's: it is never pin-checked.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from cli.exitcodes import ExitCode
from cli.run.plans import TLSPlan

if TYPE_CHECKING:
    import client


class PinMismatch(Exception):
    """The server's certificate or key is not one of the pinned ones."""

    zurl_exit_code = ExitCode.PIN_MISMATCH

    def __init__(self, message: str, der: bytes = b"") -> None:
        super().__init__(message)
        self.peer_certificate = der  # what the server presented, for --show-cert


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
