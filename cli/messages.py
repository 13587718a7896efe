"""Plain values for one HTTP exchange, shared by ``exchange``, ``render`` and ``report``.

They hold no engine objects, so rendering and reporting never import ``client``.
"""

from __future__ import annotations

import dataclasses

Headers = tuple[tuple[str, str], ...]


@dataclasses.dataclass(frozen=True, slots=True)
class RequestMessage:
    """A request as sent (or, with ``--offline``, as it would be sent)."""

    method: str
    url: str
    target: str
    headers: Headers
    body: bytes | None = None
    http_version: str = "1.1"


@dataclasses.dataclass(frozen=True, slots=True)
class ResponseMessage:
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

    @property
    def content_type(self) -> str:
        return header(self.headers, "Content-Type") or ""


Message = RequestMessage | ResponseMessage


def header(headers: Headers, name: str) -> str | None:
    """The first value of ``name`` (case-insensitive), or None."""
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return None


def format_address(peer: object) -> str | None:
    """``('127.0.0.1', 8080)`` → ``127.0.0.1:8080``; ``[::1]:443`` for IPv6; a unix path as is."""
    if isinstance(peer, tuple) and len(peer) >= 2:
        host, port = str(peer[0]), peer[1]
        return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if isinstance(peer, str) and peer:
        return peer
    return None
