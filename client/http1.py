"""Sans-IO HTTP/1.1 for a client: request heads out, response messages in.

Rules / theory of operation:
- ``serialize_request_head`` turns a method, target and header pairs into bytes and refuses
  anything that would let a value inject a line (CR, LF, NUL) or break the request line.
- ``ResponseParser`` is fed bytes exactly as they arrive and calls its sink: ``on_head``
  once per final response (``on_informational`` for each 1xx before it), ``on_body`` with
  body bytes (slices of what was fed — never one object per chunk the sink did not ask for),
  ``on_chunk_end`` (if the sink has it) where a chunk of a chunked body ends, then
  ``on_complete``. ``feed`` returns bytes it did not consume: after a 101/CONNECT
  tunnel they belong to the next protocol; after a complete message they are a server bug.
- The header block is parsed in one pass once its terminating empty line is seen; a block
  bigger than ``max_head_size`` is refused before it is buffered further.
- Framing follows RFC 9112 §6.3, in order: no body for HEAD, 1xx, 204, 304 and a 2xx to
  CONNECT; Transfer-Encoding with chunked last is chunked; any other Transfer-Encoding is
  close-delimited; a valid Content-Length is exact; otherwise the body runs to EOF.
- Every violation raises ``ProtocolError`` (a remote error); the connection translates it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import NamedTuple, Protocol

from multidict import CIMultiDict, CIMultiDictProxy

from .exceptions import InvalidRequestHeaderError, ProtocolError

__all__ = [
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "ResponseHead",
    "ResponseParser",
    "raw_header_pairs",
    "serialize_request_head",
]


class HttpVersion(NamedTuple):
    major: int
    minor: int


HttpVersion10 = HttpVersion(1, 0)
HttpVersion11 = HttpVersion(1, 1)

# Limits. 8190 per line is Apache's LimitRequestFieldSize and aiohttp's default; a whole
# header block of 64 KiB and 256 fields is well above what real servers send (nginx's
# largest default buffer set is 32 KiB) while bounding what a hostile one can make us hold.
MAX_LINE_SIZE = 8190
MAX_HEAD_SIZE = 64 * 1024
MAX_HEADER_COUNT = 256
# A chunk-size line is hex digits plus extensions; anything this long is an attack.
MAX_CHUNK_LINE = 4096

# RFC 9110 §5.6.2: token = 1*tchar
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN_STR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
# Parsed status lines by their bytes (with any CR): the same few lines come back all the
# time. Only valid lines are kept, and the line limit is checked before one is stored.
_status_cache: dict[bytes, tuple[HttpVersion, int, str]] = {}
_DIGITS = re.compile(rb"[0-9]+")
# Parsed heads by their bytes and everything else the result depends on: a server sends
# the same block for the same resource (its Date changes once a second), and parsing it is
# most of what a small response costs. Only small blocks; cleared when full. Sharing is
# safe: a ResponseHead is a tuple, its headers a read-only proxy.
_parsed_heads: dict[tuple[bytes, str, int, int, int], ResponseHead] = {}
_PARSED_HEADS_SIZE = 128
_PARSED_HEAD_MAX = 2048


class ResponseHead(NamedTuple):
    """A parsed status line and header block."""

    version: HttpVersion
    status: int
    reason: str
    headers: CIMultiDictProxy[str]
    raw_fields: bytes  # the header block as received; see raw_header_pairs()
    should_close: bool
    chunked: bool
    content_length: int | None
    upgraded: bool


class ResponseSink(Protocol):
    def on_informational(self, head: ResponseHead) -> None: ...
    def on_head(self, head: ResponseHead) -> None: ...
    def on_body(self, data: bytes) -> None: ...
    def on_complete(self) -> None: ...

    # Optionally also ``on_chunk_end()``: called where a chunk of a chunked body ends.


# --- request ----------------------------------------------------------------------

_valid_names: set[str] = set()


def _check_name(name: str) -> None:
    if name in _valid_names:
        return
    if not _TOKEN_STR.fullmatch(name):
        raise InvalidRequestHeaderError(f"Invalid header name {name!r}")
    if len(_valid_names) < 1024:
        _valid_names.add(name)


_BAD_TARGET = re.compile(r"[ \r\n\x00]")
# Heads already built: a client repeats the same request (polling, --repeat, benchmarks,
# redirects back and forth) far more often than not. Bounded; cleared when full.
_head_cache: dict[tuple[str, str, HttpVersion, tuple[tuple[str, str], ...]], bytes] = {}
_HEAD_CACHE_SIZE = 256


def serialize_request_head(
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    version: HttpVersion = HttpVersion11,
) -> bytes:
    """``METHOD target HTTP/x.y`` plus header lines, as bytes (RFC 9112 §3, §5)."""
    fields = tuple(headers)
    key = (method, target, version, fields)
    cached = _head_cache.get(key)
    if cached is not None:
        return cached
    if method not in _valid_names:
        if not _TOKEN_STR.fullmatch(method):
            raise InvalidRequestHeaderError(f"Invalid method {method!r}")
        if len(_valid_names) < 1024:
            _valid_names.add(method)
    if not target or _BAD_TARGET.search(target):
        raise InvalidRequestHeaderError(f"Invalid request target {target!r}")
    parts = [f"{method} {target} HTTP/{version[0]}.{version[1]}\r\n"]
    valid = _valid_names
    for name, value in fields:
        if name not in valid:
            _check_name(name)
        parts.append(f"{name}: {value}\r\n")
    parts.append("\r\n")
    head = "".join(parts)
    # One scan each instead of per-value checks: every CR and LF must be a line ending we
    # wrote, so their counts equal the number of lines (request line + headers + blank).
    lines = len(parts)
    if head.count("\r") != lines or head.count("\n") != lines or "\x00" in head:
        raise InvalidRequestHeaderError(
            "Newline, carriage return or NUL in a header value: refusing to send it"
        )
    data = head.encode("utf-8", "surrogateescape")
    if len(_head_cache) >= _HEAD_CACHE_SIZE:
        _head_cache.clear()
    _head_cache[key] = data
    return data


# --- response ---------------------------------------------------------------------

_HEAD = 0
_BODY_LENGTH = 1
_BODY_EOF = 2
_CHUNK_SIZE = 3
_CHUNK_DATA = 4
_CHUNK_CRLF = 5
_TRAILERS = 6
_DONE = 7
_TUNNEL = 8


def _find_head_end(data: bytes, start: int) -> tuple[int, int]:
    """Where the header block ends: (index of the blank line, index after it), or (-1, -1).

    RFC 9112 §2.2 lets a recipient accept a bare LF as a line terminator; servers do send it.
    """
    crlf = data.find(b"\n\r\n", start)
    lf = data.find(b"\n\n", start)
    if crlf < 0 and lf < 0:
        return -1, -1
    if lf < 0 or (0 <= crlf < lf):
        return crlf, crlf + 3
    return lf, lf + 2


class ResponseParser:
    """Parses the responses on one connection, one at a time."""

    __slots__ = (
        "_chunk_left",
        "_head_buf",
        "_method",
        "_on_chunk_end",
        "_read_until_eof",
        "_remaining",
        "_scan",
        "_sink",
        "_state",
        "_tail",
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
        self._tail = b""
        self._head_buf = bytearray()  # an incomplete head, growing in place
        self._scan = 0  # where to look for its end next time
        self._remaining = 0
        self._chunk_left = 0

    def start(self, method: str, *, read_until_eof: bool = True) -> None:
        """Expect the response to a request made with ``method``.

        ``read_until_eof=False`` treats a body with no framing as empty (aiohttp's option).
        """
        self._method = method
        self._read_until_eof = read_until_eof
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
        blank, after = _find_head_end(data, pos)
        if blank < 0:
            self._head_buf += memoryview(data)[pos:]
            self._scan = 0
            self._head_complete(self._head_buf)  # checks the limits, records the scan point
            return -1
        if blank + 1 - pos > self.max_head_size:
            raise ProtocolError(f"Response header block larger than {self.max_head_size}")
        block = data[pos : blank + 1]
        head = self._build_head(block)
        status = head.status
        if 100 <= status < 200 and status != 101:
            self._sink.on_informational(head)
            self._state = _HEAD
            return after
        self._begin_body(head)
        self._sink.on_head(head)
        if self._state == _DONE:
            self._sink.on_complete()
        return after

    def _build_head(self, block: bytes) -> ResponseHead:
        key = (block, self._method, self.max_line_size, self.max_field_size, self.max_header_count)
        head = _parsed_heads.get(key)
        if head is None:
            head = self._parse_block(block)
            if len(block) <= _PARSED_HEAD_MAX:
                if len(_parsed_heads) >= _PARSED_HEADS_SIZE:
                    _parsed_heads.clear()
                _parsed_heads[key] = head
        return head

    def _parse_block(self, block: bytes) -> ResponseHead:
        eol = block.find(b"\n")
        status_line = block[:eol]
        status = _status_cache.get(status_line)
        if status is None or len(status_line) > self.max_line_size + 1:
            status = self._parse_status_line(status_line.rstrip(b"\r"))
            if len(_status_cache) < 64:  # a server sends a handful of distinct lines
                _status_cache[status_line] = status
        version, code, reason = status
        fields = block[eol + 1 :]
        pairs = self._parse_fields(fields)
        headers = CIMultiDictProxy(CIMultiDict(pairs))
        return _framing(version, code, reason, headers, fields, self._method)

    def _parse_status_line(self, status_line: bytes) -> tuple[HttpVersion, int, str]:
        """RFC 9112 §4: ``HTTP/1.x SP 3DIGIT SP [reason]``."""
        if len(status_line) > self.max_line_size:
            raise ProtocolError(f"Status line longer than {self.max_line_size} bytes")
        match = _STATUS_LINE.fullmatch(status_line)
        if match is None:
            raise ProtocolError(f"Invalid status line {status_line[:100]!r}")
        major, minor, code, reason_b = match.groups()
        if major != b"1":
            raise ProtocolError(f"Unsupported HTTP version {major.decode()}.{minor.decode()}")
        version = HttpVersion11 if minor == b"1" else HttpVersion(1, int(minor))
        reason = reason_b.decode("utf-8", "surrogateescape").strip() if reason_b else ""
        return version, int(code), reason

    def _parse_fields(self, fields: bytes) -> list[tuple[str, str]]:
        """Header pairs of a field block (each line ending in LF), decoded, in order."""
        text = fields.decode("utf-8", "surrogateescape")
        # Fast path: one C-level match validates every line (names are tokens, no CR/NUL
        # inside values, each line within the limit), one findall extracts the pairs.
        if _valid_fields(self.max_field_size).fullmatch(text):
            pairs: list[tuple[str, str]] = _FIELD.findall(text)
        else:
            pairs = [
                (name.decode("ascii"), value.decode("utf-8", "surrogateescape"))
                for name, value in _fields_slowly(fields, self.max_field_size)
            ]
        if len(pairs) > self.max_header_count:
            raise ProtocolError(f"More than {self.max_header_count} response headers")
        return pairs

    def _begin_body(self, head: ResponseHead) -> None:
        if head.upgraded:
            self._state = _TUNNEL
        elif head.chunked:
            self._state = _CHUNK_SIZE
        elif head.content_length is not None:
            self._remaining = head.content_length
            self._state = _BODY_LENGTH if head.content_length else _DONE
        elif _has_no_body(head.status, self._method) or not self._read_until_eof:
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
        blank, after = _find_head_end(data, pos)
        if blank < 0:
            if len(data) - pos > self.max_head_size:
                raise ProtocolError("Trailer section too large")
            self._tail = data[pos:]
            return -1
        # Trailers are validated but not merged into the headers (RFC 9110 §6.5.1).
        self._parse_fields(data[pos : blank + 1])
        self._finish()
        return after


_TCHAR = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
# name ":" OWS value OWS, the value with no leading/trailing blanks (RFC 9112 §5.1).
_FIELD = re.compile("(" + _TCHAR + r"+):[ \t]*((?:[^\r\n]*[^ \t\r\n])?)[ \t]*\r?\n")


@functools.lru_cache(maxsize=8)
def _valid_fields(max_line: int) -> re.Pattern[str]:
    line = rf"(?=[^\r\n]{{0,{max_line}}}\r?\n){_TCHAR}+:[^\r\n\x00]*\r?\n"
    return re.compile(f"(?:{line})*")


def _fields_slowly(fields: bytes, max_line: int) -> list[tuple[bytes, bytes]]:
    """Line by line: handles obs-fold and says exactly what is wrong with a bad line."""
    raw: list[tuple[bytes, bytes]] = []
    for line in fields.split(b"\n")[:-1]:
        if line.endswith(b"\r"):
            line = line[:-1]
        if len(line) > max_line:
            raise ProtocolError(f"Header line longer than {max_line} bytes")
        if line[:1] in (b" ", b"\t"):
            # obs-fold: RFC 9112 §5.2 lets a user agent replace it with a space.
            if not raw:
                raise ProtocolError("Continuation line before the first header")
            name, value = raw[-1]
            raw[-1] = (name, value + b" " + line.strip(b" \t"))
            continue
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name):
            raise ProtocolError(f"Invalid header line {line[:100]!r}")
        value = value.strip(b" \t")
        if b"\r" in value or b"\x00" in value:
            raise ProtocolError(f"Invalid character in header {name.decode()!r}")
        raw.append((name, value))
    return raw


def raw_header_pairs(fields: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """The header lines exactly as received (original case and order), as byte pairs."""
    return tuple(_fields_slowly(fields, len(fields) + 1))


# Builds a ResponseHead without the generated ``__new__`` (its argument handling shows on
# the hot path): the tuple of its fields in order.
_tuple_new = tuple.__new__


def _has_no_body(status: int, method: str) -> bool:
    return method == "HEAD" or status in (204, 304) or 100 <= status < 200


def _framing(
    version: HttpVersion,
    status: int,
    reason: str,
    headers: CIMultiDictProxy[str],
    raw: bytes,
    method: str,
) -> ResponseHead:
    """How the body is delimited, and whether the connection survives (RFC 9112 §6.3, §9.3)."""
    # Every Connection line counts: "close" may come on a later one (RFC 9110 §7.6.1).
    if "Connection" in headers:
        connection = ",".join(headers.getall("Connection")).lower()
        if version is HttpVersion11 or version == HttpVersion11:
            should_close = "close" in connection
        else:
            should_close = "keep-alive" not in connection
    else:
        should_close = not (version is HttpVersion11 or version == HttpVersion11)
    upgraded = status == 101 or (method == "CONNECT" and 200 <= status < 300)
    chunked = False
    length: int | None = None
    if upgraded or method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return _tuple_new(
            ResponseHead,
            (version, status, reason, headers, raw, should_close, False, None, upgraded),
        )
    te_lines = headers.getall("Transfer-Encoding", ()) if "Transfer-Encoding" in headers else ()
    if te_lines:
        te = ",".join(te_lines)  # one list across field lines (RFC 9110 §5.3)
        codings = [c.strip().lower() for c in te.split(",")]
        if codings[-1] == "chunked":
            chunked = True
        else:
            should_close = True  # body runs to EOF (§6.3 item 4)
        if "Content-Length" in headers:
            should_close = True  # §6.3: TE overrides CL and the message is suspect
    else:
        values = headers.getall("Content-Length", ())
        if len(values) == 1 and values[0].isascii() and values[0].isdigit():
            if len(values[0]) > 18:
                raise ProtocolError(f"Invalid Content-Length {values[0][:40]!r}")
            length = int(values[0])  # the common case: one plain number
        elif values:
            # §6.3 item 5: a list of identical values is one value; anything else is fatal.
            found = {v.strip() for value in values for v in value.split(",")}
            if len(found) != 1:
                raise ProtocolError(f"Conflicting Content-Length values {sorted(found)}")
            text = found.pop()
            if not _DIGITS.fullmatch(text.encode()) or len(text) > 18:
                raise ProtocolError(f"Invalid Content-Length {text[:40]!r}")
            length = int(text)
        else:
            should_close = True  # close-delimited
    return _tuple_new(
        ResponseHead,
        (version, status, reason, headers, raw, should_close, chunked, length, upgraded),
    )
