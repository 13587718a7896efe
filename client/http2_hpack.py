"""HPACK (RFC 7541) with memory: header blocks a connection repeats are not re-coded.

Rules:
- HPACK coding depends on the header list and the dynamic table, nothing else; a block
  that leaves the table as it found it can be reused while the table stays the same.
- Encoding: a client sends the same fields again and again (``--repeat``, polling, a
  crawl of one origin). Once they are all in the dynamic table, encoding them adds
  nothing to it, so the block is remembered with the table's state (how many entries were
  ever added, its size limit) and returned as long as that state is unchanged.
- Decoding: a server that does not index its response fields (nginx among them) sends
  blocks that neither read nor change the dynamic table; one decoded with the table
  empty before and after is remembered by its bytes. Any other block is decoded anew.
- Both memories are small and cleared when full; entries are copied out, never shared.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import h2.connection
from hpack import Decoder, Encoder, HeaderTuple
from hpack.table import HeaderTable

__all__ = ["install"]

_SIZE = 64


class _CountingTable(HeaderTable):
    """A dynamic table that counts what was added to it (entries leave only by additions
    and by a smaller size limit, so the count and the limit say when it changed)."""

    def __init__(self) -> None:
        super().__init__()
        self.additions = 0

    def add(self, name: bytes, value: bytes) -> None:
        self.additions += 1
        super().add(name, value)


class _Encoder(Encoder):
    def __init__(self) -> None:
        super().__init__()
        self.header_table: _CountingTable = _CountingTable()
        self._blocks: dict[tuple[Any, ...], tuple[tuple[int, int], bytes]] = {}

    def _fingerprint(self) -> tuple[int, int]:
        table = self.header_table
        return (table.additions, table.maxsize)

    def encode(self, headers: Any, huffman: bool = True) -> bytes:
        if isinstance(headers, dict) or self.header_table.resized:
            return super().encode(headers, huffman)
        fields = tuple(headers)
        key = (fields, huffman)
        before = self._fingerprint()
        known = self._blocks.get(key)
        if known is not None and known[0] == before:
            return known[1]
        block = super().encode(fields, huffman)
        if self._fingerprint() == before:
            if len(self._blocks) >= _SIZE:
                self._blocks.clear()
            self._blocks[key] = (before, block)
        return block


class _Decoder(Decoder):
    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[bytes, list[HeaderTuple]] = {}

    def decode(self, data: bytes, raw: bool = False) -> Iterable[HeaderTuple]:
        table = self.header_table.dynamic_entries
        if not raw or table:
            return super().decode(data, raw)
        key = bytes(data)
        known = self._blocks.get(key)
        if known is not None:
            return list(known)
        headers = list(super().decode(data, raw))
        if not table and len(key) <= 4096:
            if len(self._blocks) >= _SIZE:
                self._blocks.clear()
            self._blocks[key] = headers
            return list(headers)
        return headers


def install(connection: h2.connection.H2Connection) -> None:
    """Give a new ``connection`` remembering HPACK coders (before any header is coded)."""
    old = connection.decoder
    decoder = _Decoder()
    decoder.max_header_list_size = old.max_header_list_size
    decoder.max_allowed_table_size = old.max_allowed_table_size
    connection.encoder = _Encoder()
    connection.decoder = decoder
