"""Sans-IO HTTP/1.1 for a client: request heads out, response messages in.

Rules / theory of operation:
- ``serialize_request_head`` turns a method, target and header pairs into bytes and refuses
  anything that would let a value inject a line (CR, LF, NUL) or break the request line.
- Responses are parsed by ``http1_parser.ResponseParser`` (the state machine: heads, bodies,
  chunked framing) and ``http1_head`` (status line, header block, framing rules); their
  names are re-exported here, so ``client.http1`` stays the one protocol import.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .exceptions import InvalidRequestHeaderError
from .http1_head import (
    MAX_HEAD_SIZE,
    MAX_HEADER_COUNT,
    MAX_LINE_SIZE,
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    ResponseHead,
    raw_header_pairs,
)
from .http1_parser import MAX_CHUNK_LINE, ResponseParser, ResponseSink

__all__ = [
    "MAX_CHUNK_LINE",
    "MAX_HEADER_COUNT",
    "MAX_HEAD_SIZE",
    "MAX_LINE_SIZE",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "ResponseHead",
    "ResponseParser",
    "ResponseSink",
    "raw_header_pairs",
    "serialize_request_head",
]

_TOKEN_STR = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


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
