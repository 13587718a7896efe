"""``Content-Disposition`` (RFC 6266) read into aiohttp's ``ContentDisposition`` value.

Rules:
- The disposition type is a token; parameter names are case-insensitive (kept lower-case);
  values are tokens or quoted strings (RFC 9110 §5.6.4, backslash escapes undone).
- ``name*=charset'lang'pct-encoded`` (RFC 8187) is decoded with its charset; a value that
  does not decode is dropped. Continuations (RFC 2231: ``name*0``, ``name*1*`` ...) are
  joined by ``content_disposition_filename``.
- ``filename*`` wins over ``filename`` (RFC 6266 §4.3).
- Server text is never trusted as a path here: callers that save files sanitise it.
- A malformed header yields what could be read (no exception): a response is never refused
  for its Content-Disposition.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple
from urllib.parse import unquote

__all__ = ["ContentDisposition", "content_disposition_filename", "parse_content_disposition"]

# RFC 9110 §5.6.2 tchar
_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


class ContentDisposition(NamedTuple):
    """aiohttp's ``resp.content_disposition``: the type, its parameters, the file name."""

    type: str | None
    parameters: MappingProxyType[str, str]
    filename: str | None


def _is_token(text: str) -> bool:
    return bool(text) and all(ch in _TCHAR for ch in text)


def _split(header: str) -> list[str]:
    """The ``;``-separated parts, a ``;`` inside a quoted string kept."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in header:
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = value[1:-1]
        out: list[str] = []
        escaped = False
        for ch in inner:
            if escaped or ch != "\\":
                out.append(ch)
                escaped = False
            else:
                escaped = True
        return "".join(out)
    return value


def _extended(value: str) -> str | None:
    """RFC 8187 ``charset'lang'pct-encoded`` → text, or None when it does not decode."""
    charset, sep, rest = value.partition("'")
    _lang, sep2, encoded = rest.partition("'")
    if not sep or not sep2:
        return None
    try:
        charset = codecs.lookup(charset.strip() or "utf-8").name  # an unknown one: dropped
        return unquote(encoded, charset, errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None


def parse_content_disposition(header: str | None) -> tuple[str | None, dict[str, str]]:
    """aiohttp's ``parse_content_disposition``: the type and the parameters."""
    if not header:
        return None, {}
    disposition, *parts = _split(header)
    disposition = disposition.strip()
    if not _is_token(disposition):
        return None, {}
    params: dict[str, str] = {}
    for part in parts:
        name, eq, raw = part.partition("=")
        name = name.strip().lower()
        if not eq or not _is_token(name) or name in params:
            continue
        value = raw.strip()
        if name.endswith("*") and not name[:-1].rpartition("*")[2].isdigit():
            decoded = _extended(value)  # name*=charset'lang'value
            if decoded is None:
                continue
            value = decoded
        elif name.endswith("*"):
            decoded = _extended(value)  # a continuation piece, name*N*=...
            value = decoded if decoded is not None else unquote(value)
        else:
            value = _unquote(value)
        params[name] = value
    return disposition.lower(), params


def content_disposition_filename(params: Mapping[str, str], name: str = "filename") -> str | None:
    """The value of ``name`` (``filename`` by default): ``name*`` first, then ``name``, then
    RFC 2231 continuations ``name*0``, ``name*1`` ... joined."""
    if not params:
        return None
    if f"{name}*" in params:
        return params[f"{name}*"]
    if name in params:
        return params[name]
    pieces: list[str] = []
    index = 0
    while True:
        piece = params.get(f"{name}*{index}", params.get(f"{name}*{index}*"))
        if piece is None:
            break
        pieces.append(piece)
        index += 1
    return "".join(pieces) or None


def content_disposition(header: str | None) -> ContentDisposition | None:
    """The ``ContentDisposition`` of a header value, or None without one."""
    if header is None:
        return None
    disposition, params = parse_content_disposition(header)
    return ContentDisposition(
        disposition, MappingProxyType(params), content_disposition_filename(params)
    )
