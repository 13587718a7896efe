"""httpie's request-item grammar: one command-line word in, one ``Item`` out.

Rules:
- A word splits at its *earliest* unescaped separator; when several separators start
  there, the *longest* wins (``a:=b`` is raw JSON, not a header ``a`` with ``=b``).
- A backslash before a separator character (``: ; = @``) makes it literal and never a
  separator; before any other character, another backslash included, both characters are
  kept as typed (Windows paths survive), as httpie does. ``\\[``, ``\\]`` and ``\\\\`` are
  escapes of nested-JSON keys only (cli/request/nested.py), so a query, form or header name
  ``a\\[b\\]`` keeps its backslashes.
- This module only parses words: reading files and building bodies belong to ``spec``.
"""

import enum
from typing import NamedTuple


class ItemError(ValueError):
    """A word that is not a valid request item (a usage error)."""


class Kind(enum.Enum):
    HEADER = "Name:Value"
    HEADER_UNSET = "Name:"
    HEADER_EMPTY = "Name;"
    HEADER_FILE = "Name:@file"
    QUERY = "name==value"
    QUERY_FILE = "name==@file"
    DATA = "field=value"
    DATA_FILE = "field=@file"
    JSON = "field:=json"
    JSON_FILE = "field:=@file"
    FILE = "field@file"
    BODY_FILE = "@file"


# Separator → what it builds. Longer separators sharing a start are preferred.
SEPARATORS: dict[str, Kind] = {
    ":": Kind.HEADER,
    ";": Kind.HEADER_EMPTY,
    ":@": Kind.HEADER_FILE,
    "==": Kind.QUERY,
    "==@": Kind.QUERY_FILE,
    "=": Kind.DATA,
    "=@": Kind.DATA_FILE,
    ":=": Kind.JSON,
    ":=@": Kind.JSON_FILE,
    "@": Kind.FILE,
}
# The characters of the separators: only these can be escaped here.
SPECIAL = frozenset("".join(SEPARATORS))
FILE_TYPE_MARK = ";type="

HEADER_KINDS = frozenset({Kind.HEADER, Kind.HEADER_UNSET, Kind.HEADER_EMPTY, Kind.HEADER_FILE})
QUERY_KINDS = frozenset({Kind.QUERY, Kind.QUERY_FILE})
DATA_KINDS = frozenset({Kind.DATA, Kind.DATA_FILE, Kind.JSON, Kind.JSON_FILE})
JSON_KINDS = frozenset({Kind.JSON, Kind.JSON_FILE})
FILE_KINDS = frozenset({Kind.FILE})

# RFC 9110 §5.6.2 token characters, allowed in a header name.
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# One character of a word and whether a backslash made it literal.
Char = tuple[str, bool]


class Item(NamedTuple):
    """One parsed request item (``key`` still holds the backslashes nested JSON reads)."""

    kind: Kind
    key: str
    value: str
    word: str
    mime: str | None = None


def tokenize(word: str) -> list[Char]:
    """Characters of ``word`` with backslash escapes resolved."""
    chars: list[Char] = []
    i = 0
    while i < len(word):
        ch = word[i]
        if ch == "\\" and i + 1 < len(word):
            nxt = word[i + 1]
            if nxt in SPECIAL:
                chars.append((nxt, True))
            else:  # kept as typed; "\\\\" is a pair, so "\\\\=" still splits at "="
                chars.extend((("\\", False), (nxt, False)))
            i += 2
            continue
        chars.append((ch, False))
        i += 1
    return chars


def escape(text: str) -> str:
    """The word that parses back to ``text`` with no separator in it.

    Not every text has one: a backslash right before a separator character (``a\\=``) or
    at the end (which would escape the separator after it) cannot always be written; see
    ``representable``.
    """
    return "".join("\\" + ch if ch in SPECIAL else ch for ch in text)


def representable(text: str) -> bool:
    """True when ``escape(text)`` followed by a separator parses back to ``text``."""
    chars = tokenize(escape(text) + "=")
    if chars[-1] != ("=", False):
        return False
    chars.pop()
    return _text(chars) == text and all(escaped or ch not in SPECIAL for ch, escaped in chars)


def _find_separator(chars: list[Char]) -> tuple[int, str] | None:
    """The earliest unescaped separator; the longest one when several start there."""
    for i, (_, escaped) in enumerate(chars):
        if escaped:
            continue
        best = ""
        for sep in SEPARATORS:
            if len(sep) > len(best) and _matches(chars, i, sep):
                best = sep
        if best:
            return i, best
    return None


def _matches(chars: list[Char], at: int, sep: str) -> bool:
    if at + len(sep) > len(chars):
        return False
    return all(chars[at + k][0] == sep[k] and not chars[at + k][1] for k in range(len(sep)))


def _text(chars: list[Char] | tuple[Char, ...]) -> str:
    return "".join(ch for ch, _ in chars)


def parse_item(word: str) -> Item:
    """Parse one request item, raising ``ItemError`` with a one-line reason."""
    chars = tokenize(word)
    found = _find_separator(chars)
    if found is None:
        raise ItemError(
            f"{word!r} is not a request item "
            "(expected Name:Value, name==value, field=value, field:=json or field@file)"
        )
    at, sep = found
    value_chars = chars[at + len(sep) :]
    key, value = _text(chars[:at]), _text(value_chars)
    kind = SEPARATORS[sep]
    mime = None
    if kind in HEADER_KINDS:
        kind = _header_kind(word, kind, key, value)
    elif kind is Kind.FILE:
        value, mime = _split_mime(value_chars)
        if not key:
            kind = Kind.BODY_FILE
        if not value:
            raise ItemError(f"{word!r}: no file name after '@'")
    elif kind in (Kind.DATA_FILE, Kind.JSON_FILE, Kind.QUERY_FILE) and not value:
        raise ItemError(f"{word!r}: no file name after '@'")
    return Item(kind, key, value, word, mime)


def _header_kind(word: str, kind: Kind, name: str, value: str) -> Kind:
    if not name:
        raise ItemError(f"{word!r}: empty header name")
    bad = sorted(set(name) - _TOKEN)
    if bad:
        raise ItemError(f"{word!r}: header name contains {''.join(bad)!r}")
    if kind is Kind.HEADER_EMPTY and value:
        raise ItemError(f"{word!r}: to send an empty header write {name + ';'!r}")
    if kind is Kind.HEADER and not value:
        return Kind.HEADER_UNSET
    if kind is Kind.HEADER_FILE and not value:
        raise ItemError(f"{word!r}: no file name after ':@'")
    return kind


def _split_mime(value_chars: list[Char]) -> tuple[str, str | None]:
    """``path;type=mime`` → (path, mime); only an unescaped ``;`` starts the type."""
    mark = len(FILE_TYPE_MARK)
    for i in range(len(value_chars) - mark, -1, -1):
        if _matches(value_chars, i, FILE_TYPE_MARK):
            mime = _text(value_chars[i + mark :]).strip()
            return _text(value_chars[:i]), mime or None
    return _text(value_chars), None


def parse_items(words: list[str] | tuple[str, ...]) -> list[Item]:
    """Parse every word, failing on the first bad one."""
    return [parse_item(word) for word in words]


def looks_like_item(word: str) -> bool:
    """True when ``word`` parses as an item (used to tell METHOD from URL)."""
    try:
        parse_item(word)
    except ItemError:
        return False
    return True
