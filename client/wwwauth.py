"""``WWW-Authenticate`` field values parsed into challenges (RFC 9110 §11.2, §11.6.1).

One field line may hold several challenges (``Basic realm="x", Digest realm="y", ...``)
and a response may carry several lines; each challenge is a scheme (a token) followed by
``name=value`` parameters or a token68. Servers in the wild bend the grammar, so the
parser is lenient where that is harmless: unquoted values may hold ``/``, ``=`` or ``:``,
an unterminated quoted-string runs to the end of the line, and a malformed element is
skipped up to the next comma instead of failing the whole field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

__all__ = ["field_lines", "parse_challenges"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
# An unquoted value: a token by the grammar, but servers put '/', '=' or ':' in nonces.
_BARE_VALUE = re.compile(r'[^\s,"]+')
_OWS = " \t"


def parse_challenges(lines: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """Every challenge in these field lines as (lower-cased scheme, params).

    Parameter names are lower-cased and quoted-string values unescaped; the first of a
    repeated parameter wins. A token68 (``Negotiate abc==``) is skipped; malformed
    elements are skipped up to the next comma.
    """
    challenges: list[tuple[str, dict[str, str]]] = []
    for line in lines:
        _parse_line(line, challenges)
    return challenges


def _parse_line(text: str, out: list[tuple[str, dict[str, str]]]) -> None:
    end = len(text)
    pos = 0
    params: dict[str, str] | None = None
    while True:
        while pos < end and (text[pos] in _OWS or text[pos] == ","):
            pos += 1
        if pos >= end:
            return
        match = _TOKEN.match(text, pos)
        if match is None:
            pos = _next_comma(text, pos)
            continue
        name = match.group()
        after = _skip_ows(text, match.end())
        if params is not None and after < end and text[after] == "=":
            value, pos = _param_value(text, _skip_ows(text, after + 1))
            if value is None:
                pos = _next_comma(text, pos)
            else:
                params.setdefault(name.lower(), value)
            continue
        # Not "name=value": a new challenge's scheme, maybe followed by a token68.
        params = {}
        out.append((name.lower(), params))
        pos = _skip_token68(text, after) if after > match.end() else after


def _param_value(text: str, pos: int) -> tuple[str | None, int]:
    """The value at ``pos`` (quoted-string or bare) and where it ends."""
    end = len(text)
    if pos >= end or text[pos] == ",":
        return "", pos  # "name=" with nothing: an empty value
    if text[pos] == '"':
        match = _QUOTED.match(text, pos)
        if match is None:  # unterminated: the rest of the line is the value
            return _UNESCAPE.sub(r"\1", text[pos + 1 :]), end
        return _UNESCAPE.sub(r"\1", match.group(1)), match.end()
    bare = _BARE_VALUE.match(text, pos)
    if bare is None:
        return None, pos
    return bare.group(), bare.end()


def _skip_token68(text: str, pos: int) -> int:
    """Past a token68 at ``pos`` if that is what stands there alone, else ``pos``."""
    match = _TOKEN68.match(text, pos)
    if match is None:
        return pos
    after = _skip_ows(text, match.end())
    # "realm=x" also matches the token68 pattern up to "="; a token68 ends the element.
    if after >= len(text) or text[after] == ",":
        return after
    return pos


def _skip_ows(text: str, pos: int) -> int:
    end = len(text)
    while pos < end and text[pos] in _OWS:
        pos += 1
    return pos


def _next_comma(text: str, pos: int) -> int:
    comma = text.find(",", pos)
    return len(text) if comma < 0 else comma + 1


def field_lines(headers: Mapping[str, str]) -> list[str]:
    """Every ``WWW-Authenticate`` line of ``headers``.

    A multidict gives each repeated line; a plain mapping (a response built by hand, say
    in a middleware) gives its value under any spelling of the name.
    """
    getall = getattr(headers, "getall", None)
    if getall is not None:
        return list(getall("WWW-Authenticate", ()))
    return [value for name, value in headers.items() if name.lower() == "www-authenticate"]
