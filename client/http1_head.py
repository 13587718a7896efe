"""Sans-IO HTTP/1.1 response heads: the status line, the header block and the framing.

Rules / theory of operation:
- ``parse_head`` turns one complete header block (status line through the last field
  line, each ending in LF) into a ``ResponseHead`` in one pass: one regular-expression
  match validates every field line, one ``findall`` extracts the pairs; only a block that
  fails the fast check is walked line by line (obs-fold, and the exact complaint).
- Framing follows RFC 9112 §6.3, in order: no body for HEAD, 1xx, 204, 304 and a 2xx to
  CONNECT; Transfer-Encoding with chunked last is chunked; any other Transfer-Encoding is
  close-delimited; a valid Content-Length is exact; otherwise the body runs to EOF.
- Transfer codings other than chunked (RFC 9112 §7: gzip, x-gzip, deflate; identity is
  dropped) are named in ``transfer_coding`` for the connection to undo, before any
  Content-Encoding. A coding we cannot undo, or chunked anywhere but last, is refused:
  passing the body on still encoded would hand the caller bytes nobody asked for.
- Every violation raises ``ProtocolError`` (a remote error).
- Parsed heads are remembered by their bytes and everything else the result depends on;
  sharing is safe because a ``ResponseHead`` is a tuple and its headers a read-only proxy.
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from multidict import CIMultiDict, CIMultiDictProxy

from .exceptions import ProtocolError

__all__ = [
    "MAX_HEADER_COUNT",
    "MAX_HEAD_SIZE",
    "MAX_LINE_SIZE",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "ResponseHead",
    "find_head_end",
    "parse_head",
    "raw_header_pairs",
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

# RFC 9110 §5.6.2: token = 1*tchar
_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_STATUS_LINE = re.compile(rb"HTTP/(\d)\.(\d) (\d{3})(?: (.*))?")
# Parsed status lines by their bytes (with any CR): the same few lines come back all the
# time. Only valid lines are kept, and the line limit is checked before one is stored.
_status_cache: dict[bytes, tuple[HttpVersion, int, str]] = {}
# Parsed heads by their bytes and everything else the result depends on: a server sends
# the same block for the same resource (its Date changes once a second), and parsing it is
# most of what a small response costs. Only small blocks; cleared when full.
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
    # Transfer codings to undo besides chunked, in the order applied; "" for none (always
    # for HTTP/2, which has no transfer codings).
    transfer_coding: str = ""


def find_head_end(data: bytes, start: int) -> tuple[int, int]:
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


def parse_head(
    block: bytes, method: str, max_line_size: int, max_field_size: int, max_header_count: int
) -> ResponseHead:
    """The head of a response to ``method`` from its block (status line to last LF)."""
    key = (block, method, max_line_size, max_field_size, max_header_count)
    head = _parsed_heads.get(key)
    if head is None:
        head = _parse_block(block, method, max_line_size, max_field_size, max_header_count)
        if len(block) <= _PARSED_HEAD_MAX:
            if len(_parsed_heads) >= _PARSED_HEADS_SIZE:
                _parsed_heads.clear()
            _parsed_heads[key] = head
    return head


def _parse_block(
    block: bytes, method: str, max_line_size: int, max_field_size: int, max_header_count: int
) -> ResponseHead:
    eol = block.find(b"\n")
    status_line = block[:eol]
    status = _status_cache.get(status_line)
    if status is None or len(status_line) > max_line_size + 1:
        status = _parse_status_line(status_line.rstrip(b"\r"), max_line_size)
        if len(_status_cache) < 64:  # a server sends a handful of distinct lines
            _status_cache[status_line] = status
    version, code, reason = status
    fields = block[eol + 1 :]
    pairs = parse_fields(fields, max_field_size, max_header_count)
    headers = CIMultiDictProxy(CIMultiDict(pairs))
    return _framing(version, code, reason, headers, fields, method)


def _parse_status_line(status_line: bytes, max_line_size: int) -> tuple[HttpVersion, int, str]:
    """RFC 9112 §4: ``HTTP/1.x SP 3DIGIT SP [reason]``."""
    if len(status_line) > max_line_size:
        raise ProtocolError(f"Status line longer than {max_line_size} bytes")
    match = _STATUS_LINE.fullmatch(status_line)
    if match is None:
        raise ProtocolError(f"Invalid status line {status_line[:100]!r}")
    major, minor, code, reason_b = match.groups()
    if major != b"1":
        raise ProtocolError(f"Unsupported HTTP version {major.decode()}.{minor.decode()}")
    version = HttpVersion11 if minor == b"1" else HttpVersion(1, int(minor))
    reason = reason_b.decode("utf-8", "surrogateescape").strip() if reason_b else ""
    return version, int(code), reason


def parse_fields(
    fields: bytes, max_field_size: int, max_header_count: int
) -> list[tuple[str, str]]:
    """Header pairs of a field block (each line ending in LF), decoded, in order."""
    text = fields.decode("utf-8", "surrogateescape")
    # Fast path: one C-level match validates every line (names are tokens, no CR/NUL
    # inside values, each line within the limit), one findall extracts the pairs.
    if _valid_fields(max_field_size).fullmatch(text):
        pairs: list[tuple[str, str]] = _FIELD.findall(text)
    else:
        pairs = [
            (name.decode("ascii"), value.decode("utf-8", "surrogateescape"))
            for name, value in _fields_slowly(fields, max_field_size)
        ]
    if len(pairs) > max_header_count:
        raise ProtocolError(f"More than {max_header_count} response headers")
    return pairs


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


def has_no_body(status: int, method: str) -> bool:
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
    transfer_coding = ""
    if upgraded or method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        return _tuple_new(
            ResponseHead,
            (version, status, reason, headers, raw, should_close, False, None, upgraded, ""),
        )
    te_lines = headers.getall("Transfer-Encoding", ()) if "Transfer-Encoding" in headers else ()
    if te_lines:
        te = ",".join(te_lines)  # one list across field lines (RFC 9110 §5.3)
        codings = [c.strip().lower() for c in te.split(",")]
        if codings[-1] == "chunked":
            chunked = True
            codings.pop()
        else:
            should_close = True  # body runs to EOF (§6.3 item 4)
        if codings:
            transfer_coding = _transfer_codings(codings)
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
            # Values were decoded with surrogateescape: test the text itself, never encode
            # it back (a stray byte would raise), and only ASCII digits count (int() takes
            # "²" or Arabic-Indic digits too).
            if not (text.isascii() and text.isdigit()) or len(text) > 18:
                raise ProtocolError(f"Invalid Content-Length {text[:40]!r}")
            length = int(text)
        else:
            should_close = True  # close-delimited
    return _tuple_new(
        ResponseHead,
        (
            version,
            status,
            reason,
            headers,
            raw,
            should_close,
            chunked,
            length,
            upgraded,
            transfer_coding,
        ),
    )


# Transfer codings we can undo (RFC 9112 §7; the connection's decoders do the work).
TRANSFER_CODINGS = frozenset({"gzip", "x-gzip", "deflate"})


def _transfer_codings(codings: list[str]) -> str:
    """The codings besides a final chunked, checked, as a Content-Encoding-style list."""
    kept = [coding for coding in codings if coding and coding != "identity"]
    for coding in kept:
        if coding == "chunked":
            raise ProtocolError("Transfer-Encoding: chunked is not the final coding")
        if coding not in TRANSFER_CODINGS:
            raise ProtocolError(f"Unsupported transfer coding {coding[:40]!r}")
    return ", ".join(kept)
