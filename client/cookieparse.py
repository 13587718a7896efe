"""Set-Cookie fields into (name, Morsel) pairs: RFC 6265 §5.2 with the limits of §6.1.

Rules (what a parsed cookie always satisfies):
- One cookie per field. A field holding a control character other than HTAB (RFC 6265bis
  §5.6 step 1) or a byte that is not UTF-8 (the response head is decoded with
  ``surrogateescape``; such a cookie could be neither sent nor saved) is dropped whole.
- The name is non-empty and made of the characters aiohttp accepts (RFC 6265's token plus
  the ``()<>?@[]{}/:`` real servers use); an illegal one is logged as a warning, as aiohttp
  does. Name and value stay within 4096 octets (§6.1), the value unquoted has no control
  characters; a quoted value may hold ``;``.
- At most 50 cookies are taken from one response (aiohttp's ``_MAX_COOKIES_PER_RESPONSE``;
  §6.1 asks for 50 per domain at least), at most 32 attributes are read per field.
- Attributes are separated by ``;``, and like aiohttp a missing ``;`` between two of them
  is tolerated (``Path=/ Max-Age=1``): a value ends at white space, except a quoted one and
  Expires (a date holds spaces). Unknown attributes are ignored (§5.2), an attribute value
  over 1024 octets too (RFC 6265bis §5.6), a quoted one is unquoted.
- Attributes are kept only in their effective form: Expires only when it parses as a date
  (§5.2.1), Max-Age only as an integer (§5.2.2), Domain only when non-empty (§5.2.3), a
  Path that does not start with "/" as "" (the default path, §5.2.4); the last one wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from http.cookies import Morsel

from .cookierules import MAX_AGE_FORM, make_morsel, parse_cookie_date

__all__ = [
    "CONTROL_CHARS",
    "MAX_COOKIES_PER_RESPONSE",
    "MAX_PAIR_LENGTH",
    "NAME",
    "encoded_length",
    "parse_set_cookie_headers",
    "unquote",
]

log = logging.getLogger("client.cookies")
log.addHandler(logging.NullHandler())  # a library never prints through logging's last resort

MAX_COOKIES_PER_RESPONSE = 50
MAX_PAIR_LENGTH = 4096  # §6.1: at least 4096 octets per cookie
_MAX_ATTRIBUTE_VALUE = 1024  # RFC 6265bis §5.6
_MAX_ATTRIBUTES = 32

NAME = re.compile(r"[!#$%&'()*+\-./0-9:<=>?@A-Z\[\]^_`a-z{|}~]+")
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # HTAB is allowed in a field
_QUOTED_PAIR = re.compile(r"\\(?:([0-3][0-7][0-7])|(.))", re.S)
_QUOTED_PREFIX = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SPACE = " \t"
_FLAGS = ("secure", "httponly", "partitioned")
_KNOWN = frozenset(Morsel._reserved)  # type: ignore[attr-defined]  # by Python version


def encoded_length(text: str) -> int | None:
    """Octets of ``text`` in UTF-8, None if it holds a lone surrogate (a non-UTF-8 byte)."""
    if text.isascii():
        return len(text)
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


def unquote(text: str) -> str:
    """A cookie value or attribute without its DQUOTEs and backslash escapes."""
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text
    return _QUOTED_PAIR.sub(lambda m: chr(int(m[1], 8)) if m[1] else m[2], text[1:-1])


def parse_set_cookie_headers(headers: Sequence[str]) -> list[tuple[str, Morsel[str]]]:
    """Parse raw Set-Cookie values (§5.2) into (name, Morsel); malformed ones are dropped."""
    parsed: list[tuple[str, Morsel[str]]] = []
    for index, field in enumerate(headers):
        if len(parsed) >= MAX_COOKIES_PER_RESPONSE:
            log.debug("Ignored %d Set-Cookie field(s) over the limit", len(headers) - index)
            break
        cookie = _parse_field(field)
        if cookie is not None:
            parsed.append(cookie)
    return parsed


def _parse_field(field: str) -> tuple[str, Morsel[str]] | None:
    if not field or _FORBIDDEN.search(field) or encoded_length(field) is None:
        return None
    name, coded, rest = _split_pair(field)
    if name is None:
        return None
    name, coded = name.strip(_SPACE), coded.strip(_SPACE)
    if not name:
        return None
    if not NAME.fullmatch(name):
        log.warning("Can not load cookies: Illegal cookie name %r", name)
        return None
    value = unquote(coded)
    if len(name) + len(coded) > MAX_PAIR_LENGTH or CONTROL_CHARS.search(value):
        return None
    morsel = make_morsel(name, value, coded)
    for key, raw in _attributes(rest):
        _apply(morsel, key, raw)
    return name, morsel


def _split_pair(field: str) -> tuple[str | None, str, str]:
    """(name, coded value, attribute text); name None when the pair has no "="."""
    end = field.find(";")
    if end == -1:
        end = len(field)
    name, eq, coded = field[:end].partition("=")
    if not eq:
        return None, "", ""
    start = len(name) + 1
    while start < len(field) and field[start] in _SPACE:
        start += 1
    if '"' in coded and (quoted := _QUOTED_PREFIX.match(field, start)) and ";" in quoted[0]:
        # A quoted value holding ";" (aiohttp reads it whole) when only space follows it.
        tail = field[quoted.end() :].lstrip(_SPACE)
        if not tail or tail[0] == ";":
            return name, quoted[0], tail[1:]
    return name, coded, field[end + 1 :]


def _attributes(text: str) -> list[tuple[str, str | None]]:
    """(lowercase name, raw value or None) for each attribute of ``text``, in order."""
    found: list[tuple[str, str | None]] = []
    i, n = 0, len(text)
    while len(found) < _MAX_ATTRIBUTES:
        while i < n and (text[i] == ";" or text[i].isspace()):
            i += 1
        if i >= n:
            break
        start = i
        while i < n and text[i] not in "=;" and not text[i].isspace():
            i += 1
        key = text[start:i].lower()
        j = i
        while j < n and text[j] in _SPACE:
            j += 1
        if j >= n or text[j] != "=":
            found.append((key, None))
            continue
        i = j + 1
        while i < n and text[i] in _SPACE:
            i += 1
        start = i
        if i < n and text[i] == '"' and (quoted := _QUOTED_PREFIX.match(text, i)):
            i = quoted.end()
        elif key == "expires" or (i < n and text[i] == '"'):  # a date, an unclosed quote
            i = text.find(";", i)
            i = n if i == -1 else i
        else:
            while i < n and text[i] != ";" and not text[i].isspace():
                i += 1
        found.append((key, text[start:i].rstrip(_SPACE)))
    return found


def _apply(morsel: Morsel[str], key: str, raw: str | None) -> None:
    """Set one attribute on ``morsel`` in its effective form (§5.2.1-§5.2.6)."""
    if key not in _KNOWN:
        return
    if key in _FLAGS:  # §5.2.5, §5.2.6: a flag's value is ignored
        morsel[key] = True
        return
    value = raw or ""
    if len(value) > _MAX_ATTRIBUTE_VALUE:
        return
    value = unquote(value)
    if CONTROL_CHARS.search(value):
        return
    if key == "expires":
        if parse_cookie_date(value) is not None:
            morsel["expires"] = value
    elif key == "max-age":
        if MAX_AGE_FORM.fullmatch(value):
            morsel["max-age"] = value
    elif key == "domain":
        if value:
            morsel["domain"] = value
    elif key == "path":
        morsel["path"] = value if value.startswith("/") else ""
    else:
        morsel[key] = value
