"""Sans-IO HTTP/1.1 response parser: the state machine from bytes to sink callbacks.

Rules / theory of operation:
- ``ResponseParser`` is fed bytes exactly as they arrive and calls its sink: ``on_head``
  once per final response (``on_informational`` for each 1xx before it), ``on_body`` with
  body bytes (slices of what was fed — never one object per chunk the sink did not ask for),
  ``on_chunk_end`` (if the sink has it) where a chunk of a chunked body ends, then
  ``on_complete``. ``feed`` returns bytes it did not consume: after a 101/CONNECT
  tunnel they belong to the next protocol; after a complete message they are a server bug.
- The header block is parsed (``http1_head.parse_head``) once its terminating empty line is
  seen; a block bigger than ``max_head_size`` is refused before it is buffered further.
- At most ``MAX_INFORMATIONAL`` 1xx responses precede a final one; a 101 answers only a
  request that asked to upgrade (``start(upgrade=True)``), anything else is an error
  rather than a connection waiting for a body that will never be framed.
- Every violation raises ``ProtocolError`` (a remote error); the connection translates it.
"""

from __future__ import annotations

import re
from typing import Protocol

from .exceptions import ProtocolError
from .http1_head import (
    MAX_HEAD_SIZE,
    MAX_HEADER_COUNT,
    MAX_LINE_SIZE,
    ResponseHead,
    find_head_end,
    has_no_body,
    parse_fields,
    parse_head,
)

__all__ = ["MAX_CHUNK_LINE", "MAX_INFORMATIONAL", "ResponseParser", "ResponseSink"]

# A chunk-size line is hex digits plus extensions; anything this long is an attack.
MAX_CHUNK_LINE = 4096
# Interim responses before the final one: a 100 Continue, a few 103 Early Hints, 102
# Processing sent now and then during a long operation fit well under it; a server that
# sends more is making us parse heads for nothing (100,000 of them took 18 s of CPU).
MAX_INFORMATIONAL = 100
_HEX = re.compile(rb"[0-9A-Fa-f]+")


class ResponseSink(Protocol):
    def on_informational(self, head: ResponseHead) -> None: ...
    def on_head(self, head: ResponseHead) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_complete(self) -> None: ...

    # Optionally also ``on_chunk_end()``: called where a chunk of a chunked body ends.


_HEAD = 0
_BODY_LENGTH = 1
_BODY_EOF = 2
_CHUNK_SIZE = 3
_CHUNK_DATA = 4
_CHUNK_CRLF = 5
_TRAILERS = 6
_DONE = 7
_TUNNEL = 8


class ResponseParser:
    """Parses the responses on one connection, one at a time."""

    __slots__ = (
        "_chunk_left",
        "_head_buf",
        "_informational",
        "_method",
        "_on_chunk_end",
        "_read_until_eof",
        "_remaining",
        "_scan",
        "_sink",
        "_state",
        "_tail",
        "_upgrade",
        "max_field_size",
        "max_head_size",
        "max_header_count",
        "max_line_size",
    )

    def __init__(
        self,
        sink: ResponseSink,
        *,
        max_line_size: int = MAX_LINE_SIZE,
        max_field_size: int | None = None,
        max_head_size: int = MAX_HEAD_SIZE,
        max_header_count: int = MAX_HEADER_COUNT,
    ) -> None:
        self._sink = sink
        # Optional: only sinks that care about chunk boundaries implement it.
        self._on_chunk_end = getattr(sink, "on_chunk_end", None)
        self.max_line_size = max_line_size  # the status line
        self.max_field_size = max_field_size or max_line_size  # each header line
        self.max_head_size = max_head_size
        self.max_header_count = max_header_count
        self._state = _DONE
        self._method = "GET"
        self._read_until_eof = True
        self._upgrade = False
        self._informational = 0
        self._tail = b""
        self._head_buf = bytearray()  # an incomplete head, growing in place
        self._scan = 0  # where to look for its end next time
        self._remaining = 0
        self._chunk_left = 0

    def start(self, method: str, *, read_until_eof: bool = True, upgrade: bool = False) -> None:
        """Expect the response to a request made with ``method``.

        ``read_until_eof=False`` treats a body with no framing as empty (aiohttp's option).
        ``upgrade``: the request asked to switch protocols; without it a 101 is an error.
        """
        self._method = method
        self._read_until_eof = read_until_eof
        self._upgrade = upgrade
        self._informational = 0
        self._state = _HEAD
        self._tail = b""
        self._head_buf.clear()
        self._scan = 0

    @property
    def in_message(self) -> bool:
        """True between ``start`` and the end of the response."""
        return self._state not in (_DONE, _TUNNEL)

    @property
    def tunneled(self) -> bool:
        """True after a 101 or a CONNECT 2xx: the bytes that follow are another protocol's."""
        return self._state == _TUNNEL

    @property
    def body_to_eof(self) -> bool:
        return self._state == _BODY_EOF

    def feed(self, data: bytes) -> bytes:
        """Consume ``data``; return what belongs to nobody (or to a tunnel)."""
        if self._head_buf:
            # A head arriving in pieces grows in place and is scanned only where it is new:
            # a head trickled byte by byte costs O(n), not O(n²).
            buf = self._head_buf
            buf += data
            if not self._head_complete(buf):
                return b""
            data = bytes(buf)
            buf.clear()
        elif self._tail:
            data = self._tail + data
            self._tail = b""
        pos = 0
        end = len(data)
        sink = self._sink
        while pos < end:
            state = self._state
            if state == _BODY_LENGTH:
                take = end - pos
                if take >= self._remaining:
                    take = self._remaining
                sink.on_body(data if (pos == 0 and take == end) else data[pos : pos + take])
                pos += take
                self._remaining -= take
                if not self._remaining:
                    self._finish()
            elif state == _HEAD:
                pos = self._parse_head(data, pos)
                if pos < 0:
                    return b""
            elif state == _CHUNK_DATA:
                take = min(end - pos, self._chunk_left)
                sink.on_body(data if (pos == 0 and take == end) else data[pos : pos + take])
                pos += take
                self._chunk_left -= take
                if not self._chunk_left:
                    self._state = _CHUNK_CRLF
                    if self._on_chunk_end is not None:
                        self._on_chunk_end()
            elif state == _CHUNK_SIZE:
                pos = self._parse_chunk_size(data, pos)
                if pos < 0:
                    return b""
            elif state == _CHUNK_CRLF:
                if end - pos < 2:
                    if data[pos : pos + 1] != b"\r":
                        if data[pos : pos + 1] == b"\n":  # bare LF, tolerated (§2.2)
                            pos += 1
                            self._state = _CHUNK_SIZE
                            continue
                        raise ProtocolError("Chunk data is not followed by CRLF")
                    self._tail = data[pos:]
                    return b""
                if data[pos : pos + 2] == b"\r\n":
                    pos += 2
                elif data[pos : pos + 1] == b"\n":
                    pos += 1
                else:
                    raise ProtocolError("Chunk data is not followed by CRLF")
                self._state = _CHUNK_SIZE
            elif state == _TRAILERS:
                pos = self._parse_trailers(data, pos)
                if pos < 0:
                    return b""
            elif state == _BODY_EOF:
                sink.on_body(data if pos == 0 else data[pos:])
                return b""
            else:  # _DONE or _TUNNEL: not ours
                return data[pos:]
        return b""

    def feed_eof(self) -> None:
        """The peer closed. Completes a close-delimited body; anything else is truncated."""
        state = self._state
        if state == _BODY_EOF:
            self._finish()
        elif state == _HEAD and not self._head_buf:
            raise ProtocolError("Server disconnected before sending a response")
        elif state in (_HEAD, _BODY_LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS):
            if state == _BODY_LENGTH:
                raise ProtocolError(
                    f"Response payload is not completed: {self._remaining} bytes of the "
                    "Content-Length missing"
                )
            if state == _HEAD:
                raise ProtocolError("Server disconnected in the middle of the response head")
            raise ProtocolError("Response payload is not completed: chunked body cut short")

    # -- pieces --------------------------------------------------------------------

    def _finish(self) -> None:
        self._state = _DONE
        self._sink.on_complete()

    def _head_complete(self, buf: bytearray) -> bool:
        """Whether the buffered head has its blank line yet; enforces the size limits."""
        start = self._scan
        if buf.find(b"\n\r\n", start) >= 0 or buf.find(b"\n\n", start) >= 0:
            return True
        self._scan = max(0, len(buf) - 2)  # a terminator may straddle the next piece
        if len(buf) > self.max_head_size:
            raise ProtocolError(f"Response header block larger than {self.max_head_size}")
        if len(buf) > self.max_line_size + 1 and buf.find(b"\n", 0, self.max_line_size + 2) < 0:
            raise ProtocolError(f"Status line longer than {self.max_line_size} bytes")
        return False

    def _parse_head(self, data: bytes, pos: int) -> int:
        # Skip empty lines a server may send before the status line (RFC 9112 §2.2).
        while data.startswith(b"\r\n", pos) or data.startswith(b"\n", pos):
            pos += 2 if data[pos] == 13 else 1
        if pos >= len(data):
            return -1
        blank, after = find_head_end(data, pos)
        if blank < 0:
            self._head_buf += memoryview(data)[pos:]
            self._scan = 0
            self._head_complete(self._head_buf)  # checks the limits, records the scan point
            return -1
        if blank + 1 - pos > self.max_head_size:
            raise ProtocolError(f"Response header block larger than {self.max_head_size}")
        block = data[pos : blank + 1]
        head = parse_head(
            block, self._method, self.max_line_size, self.max_field_size, self.max_header_count
        )
        status = head.status
        if 100 <= status < 200 and status != 101:
            self._informational += 1
            if self._informational > MAX_INFORMATIONAL:
                raise ProtocolError(f"More than {MAX_INFORMATIONAL} informational (1xx) responses")
            self._sink.on_informational(head)
            self._state = _HEAD
            return after
        if status == 101 and not self._upgrade:
            # RFC 9110 §15.2.2: a server switches only to a protocol the client asked for.
            raise ProtocolError("101 Switching Protocols to a request that asked for no upgrade")
        self._begin_body(head)
        self._sink.on_head(head)
        if self._state == _DONE:
            self._sink.on_complete()
        return after

    def _begin_body(self, head: ResponseHead) -> None:
        if head.upgraded:
            self._state = _TUNNEL
        elif head.chunked:
            self._state = _CHUNK_SIZE
        elif head.content_length is not None:
            self._remaining = head.content_length
            self._state = _BODY_LENGTH if head.content_length else _DONE
        elif has_no_body(head.status, self._method) or not self._read_until_eof:
            self._state = _DONE
        else:
            self._state = _BODY_EOF

    def _parse_chunk_size(self, data: bytes, pos: int) -> int:
        eol = data.find(b"\n", pos)
        if eol < 0:
            if len(data) - pos > MAX_CHUNK_LINE:
                raise ProtocolError("Chunk size line too long")
            self._tail = data[pos:]
            return -1
        line = data[pos:eol]
        if len(line) > MAX_CHUNK_LINE:
            raise ProtocolError("Chunk size line too long")
        size_b = line.partition(b";")[0].strip(b" \t\r")  # chunk-ext ignored (§7.1.1)
        if not _HEX.fullmatch(size_b) or len(size_b) > 16:
            raise ProtocolError(f"Invalid chunk size {line[:40]!r}")
        size = int(size_b, 16)
        if size:
            self._chunk_left = size
            self._state = _CHUNK_DATA
        else:
            self._state = _TRAILERS
        return eol + 1

    def _parse_trailers(self, data: bytes, pos: int) -> int:
        # An empty trailer section is the common case: just the final CRLF.
        if data.startswith(b"\r\n", pos):
            self._finish()
            return pos + 2
        if data.startswith(b"\n", pos):
            self._finish()
            return pos + 1
        blank, after = find_head_end(data, pos)
        if blank < 0:
            if len(data) - pos > self.max_head_size:
                raise ProtocolError("Trailer section too large")
            self._tail = data[pos:]
            return -1
        # Trailers are validated but not merged into the headers (RFC 9110 §6.5.1).
        parse_fields(data[pos : blank + 1], self.max_field_size, self.max_header_count)
        self._finish()
        return after
