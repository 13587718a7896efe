"""TLS contexts for the connector: built once, chosen per request by its ``ssl=`` value.

Default trust is the system store plus certifi's bundle, so both a fresh machine and a
corporate CA verify (DESIGN.md, deliberate difference 5). OpenSSL itself honours
``SSL_CERT_FILE``/``SSL_CERT_DIR`` when the system store is loaded, so the default context
is kept per value of those two variables: setting them later in the process (a test, an
embedding program) takes effect for the next connection.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import ssl
from typing import Any

from .config import Fingerprint
from .pins import Pins

__all__ = [
    "ALPN_HTTP2",
    "ALPN_HTTP11",
    "SSLValue",
    "TLSInfo",
    "context_for",
    "default_context",
    "insecure_context",
    "tls_info",
]

SSLValue = bool | ssl.SSLContext | Fingerprint | Pins | None


# ALPN (RFC 7301): what a connection offers. With HTTP/2 on, ``h2`` first, HTTP/1.1 as the
# fallback a server without it picks.
ALPN_HTTP11 = ("http/1.1",)
ALPN_HTTP2 = ("h2", "http/1.1")


def default_context(http2: bool = False) -> ssl.SSLContext:
    """The default trust's context, for the current SSL_CERT_FILE / SSL_CERT_DIR."""
    environ = os.environ
    return _default_context(environ.get("SSL_CERT_FILE"), environ.get("SSL_CERT_DIR"), http2)


@functools.lru_cache(maxsize=8)
def _default_context(cafile: str | None, capath: str | None, http2: bool) -> ssl.SSLContext:
    # The key is what OpenSSL reads from the environment while the system store loads.
    import certifi

    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    context.set_alpn_protocols(ALPN_HTTP2 if http2 else ALPN_HTTP11)
    return context


@functools.cache
def insecure_context(http2: bool = False) -> ssl.SSLContext:
    """No verification at all: for ``ssl=False``, ``Fingerprint`` and ``Pins(verify=False)``,
    whose pins replace it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(ALPN_HTTP2 if http2 else ALPN_HTTP11)
    return context


def context_for(value: SSLValue, *, http2: bool = False) -> ssl.SSLContext:
    """The context a handshake uses. With ``http2``, a caller's own context is made to offer
    ``h2`` too (``set_alpn_protocols`` on it, as httpcore does): ALPN must be offered on
    whatever context a request uses, or HTTP/2 could never be negotiated with it."""
    if isinstance(value, Pins):
        value = value.verify  # the pins are checked after the handshake this context makes
    if isinstance(value, ssl.SSLContext):
        if http2:
            value.set_alpn_protocols(ALPN_HTTP2)
        return value
    if value is False or isinstance(value, Fingerprint):
        return insecure_context(http2)
    return default_context(http2)


@dataclasses.dataclass(frozen=True, slots=True)
class TLSInfo:
    """What a handshake settled, kept on the connection for responses, traces and the CLI.

    ``peer_certificate`` is the server's DER certificate as received, verified or not:
    ``getpeercert()`` returns nothing for unverified connections, so the bytes are kept.
    """

    version: str | None
    cipher: str | None
    alpn: str | None
    server_hostname: str | None
    peer_certificate: bytes | None
    verified: bool


def tls_info(ssl_object: Any, server_hostname: str | None) -> TLSInfo:
    if ssl_object is None:
        return TLSInfo(None, None, None, server_hostname, None, False)
    cipher = ssl_object.cipher()
    return TLSInfo(
        version=ssl_object.version(),
        cipher=cipher[0] if cipher else None,
        alpn=ssl_object.selected_alpn_protocol(),
        server_hostname=server_hostname,
        peer_certificate=ssl_object.getpeercert(binary_form=True),
        verified=ssl_object.context.verify_mode != ssl.CERT_NONE,
    )
