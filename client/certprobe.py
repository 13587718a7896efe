"""Fetch a server's certificate without trusting it, for ``zurl --show-cert`` after the real
request failed verification (self-signed, expired, wrong host): the user still gets to see
what the server presents and the pins to paste.

Transport layer: one TCP connection, one TLS handshake with verification off, then the
connection is aborted. Not a byte of HTTP is written, so nothing the caller meant to send
(credentials, a body) can reach a server that failed verification.
"""

from __future__ import annotations

import asyncio
import ssl

from .tls import insecure_context

__all__ = ["fetch_peer_certificate"]


async def fetch_peer_certificate(
    host: str, port: int, *, server_hostname: str | None = None, timeout: float = 10.0
) -> bytes:
    """The DER certificate ``host:port`` presents; ``OSError``/``ssl.SSLError`` if none.

    ``server_hostname`` is the SNI name (default ``host``; none for an IP literal, as
    the ssl module decides).
    """
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        transport, _ = await loop.create_connection(
            asyncio.Protocol,
            host,
            port,
            ssl=insecure_context(),
            server_hostname=server_hostname or host,
        )
    try:
        ssl_object = transport.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        transport.abort()
    if not der:
        raise ssl.SSLError(f"{host}:{port} presented no certificate")
    return bytes(der)
