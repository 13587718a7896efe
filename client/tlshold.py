"""Holding a TLS connection's first bytes until ALPN has chosen the protocol that reads them.

A server that negotiated ``h2`` sends its SETTINGS right after the handshake, often in the
same read that completes it: asyncio hands those bytes to the application protocol before
the coroutine awaiting ``start_tls`` runs again. An HTTP/1.1 protocol would take them for
a stray response. So an HTTP/2-capable handshake gives ``start_tls`` a ``HandshakeHold``
as its protocol; it keeps what arrives (bytes, end of file, loss) and hands all of it, in
order, to the protocol chosen once the ALPN result is known.
"""

from __future__ import annotations

import asyncio

__all__ = ["HandshakeHold"]


class HandshakeHold(asyncio.Protocol):
    """A transport's protocol while the real one is being chosen."""

    def __init__(self) -> None:
        self._data: list[bytes] = []
        self._eof = False
        self._lost = False
        self._exc: Exception | None = None

    def data_received(self, data: bytes) -> None:
        self._data.append(data)

    def eof_received(self) -> bool | None:
        self._eof = True
        return True  # keep the transport open: the protocol handed over decides

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._exc = exc

    def hand_over(
        self,
        transport: asyncio.BaseTransport,
        protocol: asyncio.Protocol,
        *,
        connection_made: bool = False,
    ) -> None:
        """Make ``protocol`` the transport's own and replay what arrived meanwhile."""
        transport.set_protocol(protocol)
        if connection_made:
            protocol.connection_made(transport)
        data, self._data = self._data, []
        for chunk in data:
            protocol.data_received(chunk)
        if self._eof and not protocol.eof_received():
            transport.close()
        if self._lost:
            protocol.connection_lost(self._exc)
