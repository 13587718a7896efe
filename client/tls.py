"""TLS contexts for the connector: built once, chosen per request by its ``ssl=`` value.

Default trust is the system store plus certifi's bundle, so both a fresh machine and a
corporate CA verify (DESIGN.md, deliberate difference 5). OpenSSL itself honours
``SSL_CERT_FILE``/``SSL_CERT_DIR`` when the system store is loaded.
"""

from __future__ import annotations

import functools
import ssl

from .config import Fingerprint

__all__ = ["SSLValue", "context_for", "default_context", "insecure_context"]

SSLValue = bool | ssl.SSLContext | Fingerprint | None


@functools.cache
def default_context() -> ssl.SSLContext:
    import certifi

    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


@functools.cache
def insecure_context() -> ssl.SSLContext:
    """No verification at all: for ``ssl=False`` and for fingerprint pins, which replace it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["http/1.1"])
    return context


def context_for(value: SSLValue) -> ssl.SSLContext:
    if isinstance(value, ssl.SSLContext):
        return value
    if value is False or isinstance(value, Fingerprint):
        return insecure_context()
    return default_context()
