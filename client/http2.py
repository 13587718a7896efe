"""Sans-IO HTTP/2 message rules (RFC 9113 §8): request fields out, response heads in.

Rules / theory of operation:
- Frames, HPACK, stream states and flow-control arithmetic belong to python-hyper's ``h2``
  (the ``zurl[http2]`` extra). ``h2`` is told not to check or rewrite fields; the message
  rules live here instead, applied in one pass, so a malformed response is a *stream*
  error (RFC 9113 §8.1.1: that request fails with ``MalformedResponseError``, the
  connection and its other streams carry on) rather than ``h2``'s connection error.
- A request (§8.2, §8.3.1) goes out with the four pseudo-header fields first, then the
  fields in the caller's order with lower-case names. The connection-specific fields
  (``Connection``, ``Keep-Alive``, ``Proxy-Connection``, ``Transfer-Encoding``,
  ``Upgrade``) are dropped, ``TE`` is kept only as ``trailers`` (§8.2.2) and ``Host``
  becomes ``:authority`` (§8.3.1). A name that is no token, or CR, LF or NUL in a value,
  is refused (``InvalidRequestHeaderError``) before anything is sent; blanks around a
  value are trimmed (§8.2.1). Credentials are marked never-indexed for HPACK (RFC 7541
  §7.1.3), so they never enter a compression table an attacker could probe.
- A response head (§8.2, §8.3.2) must carry exactly one ``:status`` of three digits,
  before every other field and with no other pseudo-header; names must be lower-case
  tokens, values free of CR, LF, NUL and surrounding blanks, connection-specific fields
  absent, and ``Content-Length`` one plain number (repeats must agree). Trailers follow
  the same rules with no pseudo-header at all. Anything else raises ``ProtocolError``.
- Parsed heads are remembered by their fields (a server repeats them); the result is
  shared safely, as in ``http1_head``: a tuple holding a read-only proxy.
"""

from __future__ import annotations

import http
import re
from collections.abc import Iterable, Sequence

from multidict import CIMultiDict, CIMultiDictProxy

from .exceptions import InvalidRequestHeaderError, ProtocolError
from .http1_head import HttpVersion, ResponseHead, has_no_body

__all__ = [
    "CONNECTION_SPECIFIC",
    "Field",
    "HttpVersion20",
    "parse_response_head",
    "parse_trailers",
    "reason_phrase",
    "request_fields",
]

HttpVersion20 = HttpVersion(2, 0)

Field = tuple[bytes, bytes]

# RFC 9113 §8.2.2: fields that only mean something to one HTTP/1.1 connection.
CONNECTION_SPECIFIC = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"}
)
_CONNECTION_SPECIFIC_B = frozenset(name.encode() for name in CONNECTION_SPECIFIC)
# RFC 7541 §7.1.3 and what h2 itself marks: short cookies are guessable, so never indexed.
_SENSITIVE = frozenset({"authorization", "proxy-authorization"})
_SHORT_COOKIE = 20

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_LOWER_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")
_BAD_VALUE = re.compile(rb"[\r\n\x00]|^[ \t]|[ \t]$")
_DIGITS = re.compile(rb"[0-9]{1,18}")

# Request field lists already built, by everything they depend on. Bounded; cleared when full.
_RequestKey = tuple[str, str, str, str, tuple[tuple[str, str], ...]]
_request_cache: dict[_RequestKey, tuple[Field, ...]] = {}
_REQUEST_CACHE_SIZE = 256
# Parsed response heads by their fields, method and field limit. Small heads only.
_head_cache: dict[tuple[tuple[Field, ...], str, int], ResponseHead] = {}
_HEAD_CACHE_SIZE = 128
_HEAD_CACHE_MAX_FIELDS = 32


def reason_phrase(status: int) -> str:
    """HTTP/2 has no reason phrase (§8.3.2): the standard one for the code, as httpx shows."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


# -- requests --------------------------------------------------------------------------


def request_fields(
    method: str,
    scheme: str,
    authority: str,
    path: str,
    headers: Iterable[tuple[str, str]],
) -> tuple[Field, ...]:
    """The field block of a request: pseudo-header fields, then the caller's fields.

    ``authority`` is used unless the headers carry a ``Host`` (the caller's override).
    The result is cached and shared: a tuple of ``(name, value)`` byte pairs, credentials
    as ``hpack``'s never-indexed pairs.
    """
    pairs = tuple(headers)
    key = (method, scheme, authority, path, pairs)
    cached = _request_cache.get(key)
    if cached is not None:
        return cached
    if not _TOKEN.fullmatch(method):
        raise InvalidRequestHeaderError(f"Invalid method {method!r}")
    if not path or any(c in path for c in " \r\n\x00"):
        raise InvalidRequestHeaderError(f"Invalid request target {path!r}")
    regular: list[Field] = []
    for name, value in pairs:
        if not _TOKEN.fullmatch(name):
            raise InvalidRequestHeaderError(f"Invalid header name {name!r}")
        lower = name.lower()
        if "\r" in value or "\n" in value or "\x00" in value:
            raise InvalidRequestHeaderError(
                "Newline, carriage return or NUL in a header value: refusing to send it"
            )
        value = value.strip(" \t")
        if lower == "host":
            authority = value
            continue
        if lower in CONNECTION_SPECIFIC:
            continue
        if lower == "te" and value.lower() != "trailers":
            continue
        field = (lower.encode("ascii"), value.encode("utf-8", "surrogateescape"))
        if lower in _SENSITIVE or (lower == "cookie" and len(value) < _SHORT_COOKIE):
            field = _never_indexed(*field)
        regular.append(field)
    if not authority or any(c in authority for c in " \r\n\x00/"):
        raise InvalidRequestHeaderError(f"Invalid authority {authority!r}")
    fields = (
        (b":method", method.encode("ascii")),
        (b":scheme", scheme.encode("ascii")),
        (b":authority", authority.encode("utf-8", "surrogateescape")),
        (b":path", path.encode("utf-8", "surrogateescape")),
        *regular,
    )
    if len(_request_cache) >= _REQUEST_CACHE_SIZE:
        _request_cache.clear()
    _request_cache[key] = fields
    return fields


def _never_indexed(name: bytes, value: bytes) -> Field:
    from hpack import NeverIndexedHeaderTuple  # h2's own dependency: present with h2

    return NeverIndexedHeaderTuple(name, value)


# -- responses -------------------------------------------------------------------------


def parse_response_head(fields: Sequence[Field], method: str, max_headers: int) -> ResponseHead:
    """The ``ResponseHead`` of a response (or 1xx) field block to ``method``."""
    small = len(fields) <= _HEAD_CACHE_MAX_FIELDS
    if small:
        key = (tuple(fields), method, max_headers)
        head = _head_cache.get(key)
        if head is not None:
            return head
    head = _parse_head(fields, method, max_headers)
    if small:
        if len(_head_cache) >= _HEAD_CACHE_SIZE:
            _head_cache.clear()
        _head_cache[key] = head
    return head


def _parse_head(fields: Sequence[Field], method: str, max_headers: int) -> ResponseHead:
    if not fields or fields[0][0] != b":status":
        raise ProtocolError("Response without :status as its first field")
    status_b = fields[0][1]
    if len(status_b) != 3 or not status_b.isdigit():
        raise ProtocolError(f"Invalid :status {status_b[:20]!r}")
    status = int(status_b)
    regular = fields[1:]
    if len(regular) > max_headers:
        raise ProtocolError(f"More than {max_headers} response headers")
    headers, raw = _check_fields(regular)
    length: int | None = None
    if not has_no_body(status, method) and "Content-Length" in headers:
        length = _content_length(headers.getall("Content-Length"))
    return ResponseHead(
        version=HttpVersion20,
        status=status,
        reason=reason_phrase(status),
        headers=headers,
        raw_fields=raw,
        should_close=False,
        chunked=False,
        content_length=length,
        upgraded=False,
        transfer_coding="",  # HTTP/2 has no transfer codings (RFC 9113 §8.2.2)
    )


def parse_trailers(fields: Sequence[Field], max_headers: int) -> CIMultiDictProxy[str]:
    """A trailer section (§8.1): regular fields only."""
    if len(fields) > max_headers:
        raise ProtocolError(f"More than {max_headers} trailer fields")
    return _check_fields(fields)[0]


def _check_fields(fields: Sequence[Field]) -> tuple[CIMultiDictProxy[str], bytes]:
    """Validate regular fields (§8.2); return them decoded and as HTTP/1-style lines."""
    pairs: list[tuple[str, str]] = []
    lines: list[bytes] = []
    for name, value in fields:
        if not _LOWER_TOKEN.fullmatch(name):
            if name.startswith(b":"):
                raise ProtocolError(f"Pseudo-header field {name[:40]!r} out of place")
            raise ProtocolError(f"Invalid field name {name[:40]!r} (names are lower-case)")
        if name in _CONNECTION_SPECIFIC_B:
            raise ProtocolError(f"Connection-specific field {name.decode()!r} in HTTP/2")
        if value and _BAD_VALUE.search(value):
            raise ProtocolError(f"Invalid value of field {name.decode()!r}")
        pairs.append((name.decode("ascii"), value.decode("utf-8", "surrogateescape")))
        lines.append(b"%s: %s\r\n" % (name, value))
    return CIMultiDictProxy(CIMultiDict(pairs)), b"".join(lines)


def _content_length(values: list[str]) -> int:
    found = {v.strip() for value in values for v in value.split(",")}
    if len(found) != 1:
        raise ProtocolError(f"Conflicting Content-Length values {sorted(found)}")
    text = found.pop().encode()
    if not _DIGITS.fullmatch(text):
        raise ProtocolError(f"Invalid Content-Length {text[:40]!r}")
    return int(text)
