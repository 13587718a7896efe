"""Upgrading a connection to TLS: the handshake, the pins, and what it settled.

Rules:
- The handshake is bounded by ``sock_connect``; its failures become the engine's errors
  here, naming the proxy when the handshake is an https:// proxy's own.
- A pin (``Fingerprint``, ``Pins``) is checked right after the handshake, before the
  connection is handed to any request: a miss aborts the transport, no request byte out.
- With a ``HandshakeHold`` ALPN offers ``h2``; the hold keeps the server's first bytes
  until the caller knows which protocol reads them, and gives the transport straight back
  to the HTTP/1.1 protocol unless ``h2`` was chosen. Without one, a server choosing
  ``h2`` (a caller's context offering it) is refused: the connection must be HTTP/1.1.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .config import Fingerprint
from .exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientProxyCertificateError,
    ClientProxySSLError,
    ConnectionTimeoutError,
    ServerFingerprintMismatch,
)
from .pins import Pins
from .tls import SSLValue, context_for, tls_info

if TYPE_CHECKING:
    from .config import ClientTimeout, ConnectionKey
    from .connection import ResponseProtocol
    from .tlshold import HandshakeHold
    from .tracing import Trace

__all__ = ["start_tls"]


async def start_tls(
    loop: asyncio.AbstractEventLoop,
    key: ConnectionKey,
    protocol: ResponseProtocol,
    host: str,
    port: int,
    server_hostname: str,
    ssl_value: SSLValue,
    traces: Sequence[Trace],
    timeout: ClientTimeout,
    *,
    shutdown_timeout: float | None = 0,
    to_proxy: bool = False,
    hold: HandshakeHold | None = None,
) -> None:
    """Upgrade ``protocol``'s open transport to TLS, then check the pin.

    ``to_proxy``: the handshake is an https:// proxy's own; its failures name the proxy
    (``ClientProxyCertificateError``/``ClientProxySSLError``) and it leaves
    ``protocol.tls`` to the target's handshake (none for an http:// target).
    ``shutdown_timeout``: asyncio's bound on a graceful TLS shutdown (0: its default).
    """
    context = context_for(ssl_value, http2=hold is not None)
    app_protocol: asyncio.Protocol = hold if hold is not None else protocol
    transport = protocol.transport
    assert transport is not None
    for trace in traces:
        await trace.send_tls_handshake_start(host, port, server_hostname)
    try:
        async with asyncio.timeout(timeout.sock_connect or None):
            if shutdown_timeout:
                tls_transport = await loop.start_tls(
                    transport,
                    app_protocol,
                    context,
                    server_hostname=server_hostname,
                    ssl_shutdown_timeout=shutdown_timeout,
                )
            else:
                tls_transport = await loop.start_tls(
                    transport, app_protocol, context, server_hostname=server_hostname
                )
    except ssl.SSLCertVerificationError as exc:
        transport.abort()
        if to_proxy:
            raise ClientProxyCertificateError(key, exc) from exc
        raise ClientConnectorCertificateError(key, exc) from exc
    except ssl.SSLError as exc:
        transport.abort()
        if to_proxy:
            raise ClientProxySSLError(key, exc) from exc
        raise ClientConnectorSSLError(key, exc) from exc
    except TimeoutError as exc:
        transport.abort()
        what = "proxy " if to_proxy else ""
        raise ConnectionTimeoutError(f"TLS handshake timeout with {what}{host}:{port}") from exc
    except OSError as exc:
        transport.abort()
        raise ClientConnectorError(key, exc) from exc
    if tls_transport is None:  # pragma: no cover - start_tls returns None only on close
        raise ClientConnectorError(key, OSError(0, "Connection closed during TLS handshake"))
    protocol.transport = tls_transport
    ssl_object = tls_transport.get_extra_info("ssl_object")
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if isinstance(ssl_value, Fingerprint):
        got = ssl_value.digest_of(der or b"")
        if got != ssl_value.fingerprint:
            tls_transport.abort()
            raise ServerFingerprintMismatch(
                ssl_value.fingerprint, got, host, port, peer_certificate=der
            )
    elif isinstance(ssl_value, Pins):
        try:
            ssl_value.check(der or b"", host, port)
        except BaseException:
            tls_transport.abort()
            raise
    info = tls_info(ssl_object, server_hostname)
    if info.alpn == "h2" and hold is None:
        # The caller's own context offers h2 (it was given to an HTTP/2 session) on a
        # connection that must be HTTP/1.1: a WebSocket, or a connector without http2.
        tls_transport.abort()
        raise ClientConnectorError(
            key,
            OSError(
                0,
                "The server chose HTTP/2 (ALPN h2) for an HTTP/1.1-only connection: "
                "this SSLContext offers h2; use another one here",
            ),
        )
    if hold is not None and info.alpn != "h2":
        hold.hand_over(tls_transport, protocol)
    if not to_proxy:
        protocol.tls = info
    for trace in traces:
        await trace.send_tls_handshake_end(
            host, port, info.version, info.cipher, info.peer_certificate, info.alpn
        )
