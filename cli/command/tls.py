"""TLS flags → the engine's ``ssl=`` value for the target (``--verify``, ``--insecure``,
``--cert``, ``--cert-key``, ``--cert-key-pass``, ``--tls-min``, ``--fingerprint``,
``--pin-pubkey``) and its ``proxy_ssl=`` value for an https:// proxy (``--proxy-cacert``,
``--proxy-insecure``, ``--proxy-cert``, ``--proxy-key``).

Rules:
- Everything is checked while the plans are made: a bad pin, a missing CA bundle or a client
  key that does not load is a usage error (exit 2) before any connection is made.
- Pins are the engine's ``client.Pins``, checked on the target's handshake before a byte
  of the request is written; several of a kind (certificate rotation) are any-match.
  ``--fingerprint`` replaces chain verification (a self-signed certificate can be pinned)
  unless ``--verify`` is given explicitly too; ``--pin-pubkey`` is checked in addition to
  verification (curl's ``--pinnedpubkey``).
- The target's settings never reach an https:// proxy (curl's rule): ``-k``, pins,
  ``--verify CA`` and ``--cert`` are the target's; the proxy is verified with the default
  trust unless a ``--proxy-*`` flag says otherwise.
- ``ssl`` and ``client`` load only when a flag needs them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from cli.command.options import Options
from cli.exitcodes import UsageError
from cli.run.plans import TLSPlan

if TYPE_CHECKING:
    import ssl

YES = frozenset({"yes", "true", "1", "on"})
NO = frozenset({"no", "false", "0", "off"})


def tls_plan(opts: Options) -> TLSPlan | None:
    """The target's TLS plan; None when every TLS flag is left at its default."""
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
    trust: bool | ssl.SSLContext = verify
    if ca is not None or opts.cert is not None or opts.tls_min is not None:
        trust = _context(verify, ca, "--verify", opts.tls_min)
        if opts.cert is not None:
            _load_cert(trust, "--cert", opts.cert, opts.cert_key, opts.cert_key_pass)
    if not (fingerprints or pins):
        return TLSPlan(trust)
    import client

    return TLSPlan(client.Pins(fingerprints, pins, verify=trust))


def proxy_ssl(opts: Options) -> bool | ssl.SSLContext | None:
    """An https:// proxy's own TLS (None: the engine's default trust)."""
    if opts.proxy_key is not None and opts.proxy_cert is None:
        raise UsageError("--proxy-key needs --proxy-cert FILE")
    if opts.proxy_insecure and opts.proxy_cacert is not None:
        raise UsageError("--proxy-insecure contradicts --proxy-cacert")
    if opts.proxy_cacert is None and opts.proxy_cert is None:
        return False if opts.proxy_insecure else None
    ca = None
    if opts.proxy_cacert is not None:
        ca = os.path.expanduser(opts.proxy_cacert)
        if not os.path.exists(ca):
            raise UsageError(f"--proxy-cacert {opts.proxy_cacert!r}: no such CA bundle")
    context = _context(not opts.proxy_insecure, ca, "--proxy-cacert", None)
    if opts.proxy_cert is not None:
        _load_cert(context, "--proxy-cert", opts.proxy_cert, opts.proxy_key, None)
    return context


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


def _context(verify: bool, ca: str | None, flag: str, tls_min: str | None) -> ssl.SSLContext:
    """A new context: no verification, only the CA bundle ``ca``, or the default trust."""
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
            raise UsageError(f"{flag} {ca!r}: not a PEM CA bundle ({exc})") from None
    else:
        import certifi

        # The engine's default trust: the system store plus certifi's bundle.
        context = ssl.create_default_context()
        context.load_verify_locations(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    if tls_min is not None:
        context.minimum_version = ssl.TLSVersion[f"TLSv1_{tls_min.split('.')[1]}"]
    return context


def _load_cert(
    context: ssl.SSLContext, flag: str, cert: str, key: str | None, password: str | None
) -> None:
    import ssl

    try:
        context.load_cert_chain(cert, key, password)
    except (OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "strerror", None) or getattr(exc, "reason", None) or exc
        raise UsageError(f"{flag} {cert!r}: cannot load: {reason}") from None
