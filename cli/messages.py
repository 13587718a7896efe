"""Plain values for one HTTP exchange, shared by ``exchange``, ``render`` and ``report``.

They hold no engine objects, so rendering and reporting never import ``client``. A
response arrives whole (``body``) or streamed: a ``ResponseMessage`` with ``streamed``
set, its ``BodyChunk`` events, then a ``ResponseEnd``. A leaf: imports nothing of zurl's.
"""

from typing import NamedTuple
from urllib.parse import urlsplit

Headers = tuple[tuple[str, str], ...]


class TLSDetails(NamedTuple):
    """What one TLS handshake settled, as plain values (from ``resp.tls_info``)."""

    version: str | None
    cipher: str | None
    alpn: str | None
    server_hostname: str | None
    verified: bool
    peer_certificate: bytes | None = None  # DER, as received


class RequestMessage(NamedTuple):
    """A request as sent (or, with ``--offline``, as it would be sent)."""

    method: str
    url: str
    target: str
    headers: Headers
    body: bytes | None = None
    http_version: str = "1.1"
    # A request of a redirect chain before the final one (printed only with --all).
    redirect_hop: bool = False


class ResponseMessage(NamedTuple):
    """A response with its whole (decoded) body."""

    url: str
    status: int
    reason: str
    headers: Headers
    body: bytes
    http_version: str = "1.1"
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()
    elapsed: float = 0.0
    remote_address: str | None = None
    reused_connection: bool | None = None
    # True when the body follows as BodyChunk events and a ResponseEnd, not in ``body``.
    streamed: bool = False
    # A redirect that was followed (printed only with --all), and the headers it made the
    # engine drop from the next request: (name, reason), for --history.
    redirect_hop: bool = False
    dropped: tuple[tuple[str, str], ...] = ()
    # The TLS handshake of an https:// response (shown by cli/output/certview.py).
    tls: TLSDetails | None = None


class BodyChunk(NamedTuple):
    """A piece of a streamed response body, as it arrived (decoded)."""

    data: bytes


class ResponseEnd(NamedTuple):
    """The end of a streamed body: the whole exchange's time and the body's size."""

    elapsed: float
    size: int


Message = RequestMessage | ResponseMessage
Event = Message | BodyChunk | ResponseEnd


def version_text(version: tuple[int, int] | None) -> str:
    """``(1, 1)`` → ``"1.1"``; ``(2, 0)`` → ``"2"``: HTTP/2 has no minor version, and curl,
    httpie and the report write it that way. ``None`` (not known) is ``"1.1"``."""
    if not version:
        return "1.1"
    return str(version[0]) if version[0] >= 2 else f"{version[0]}.{version[1]}"


def header(headers: Headers, name: str) -> str | None:
    """The first value of ``name`` (case-insensitive), or None."""
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def where(url: str) -> str:
    """``host:port`` of ``url``, for messages about it (``[v6]:port`` for IPv6)."""
    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or (443 if parts.scheme in ("https", "wss") else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def format_address(peer: object) -> str | None:
    """``('127.0.0.1', 8080)`` → ``127.0.0.1:8080``; ``[::1]:443`` for IPv6; a unix path as is."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = str(peer[0]), peer[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(peer, str) and peer:
        return peer
    return None
