"""``--cookie NAME=VALUE``: cookies for this run only, as one ``Cookie`` request header.

Rules:
- ``--cookie`` values become one ``Cookie`` request header, so they are what the user
  typed for this run's origin: the engine drops them on a cross-origin redirect like any
  credential, and they are never written to the jar (``--cookie-jar``: cli/run/jar.py).
- Names are RFC 6265 tokens and values cookie-octets (§4.1.1); anything else is a usage
  error (exit 2).
"""

from __future__ import annotations

import re

from cli.exitcodes import UsageError
from cli.masking import mask_header

# RFC 6265 §4.1.1: a cookie name is an RFC 2616 token; a value has no CTL, space, DQUOTE,
# comma, semicolon or backslash (it may be wrapped in one pair of DQUOTEs).
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r'[\x00-\x20\x7f",;\\]')


def cookie_header(values: tuple[str, ...]) -> str | None:
    """``--cookie`` values (each ``NAME=VALUE`` or curl's ``a=1; b=2``) as a Cookie value."""
    pairs: list[str] = []
    for value in values:
        for part in filter(None, (p.strip() for p in value.split(";"))):
            name, sep, text = (piece.strip() for piece in part.partition("="))
            if not sep or not _TOKEN.match(name):
                raise UsageError(f"--cookie {value!r}: expected NAME=VALUE")
            # cookie-value = *cookie-octet / DQUOTE *cookie-octet DQUOTE (§4.1.1)
            quoted = len(text) >= 2 and text[0] == text[-1] == '"'
            if _BAD_VALUE.search(text[1:-1] if quoted else text):
                shown = mask_header("Cookie", value)  # the value itself may be a secret
                raise UsageError(
                    f"--cookie {shown!r}: a cookie value cannot hold spaces, quotes, commas, "
                    "semicolons, backslashes or control characters"
                )
            pairs.append(f"{name}={text}")
    if values and not pairs:
        raise UsageError(f"--cookie {values[0]!r}: expected NAME=VALUE")
    return "; ".join(pairs) if pairs else None


def with_cookies(
    headers: tuple[tuple[str, str], ...], values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``headers`` with the ``--cookie`` values added to (or as) the Cookie header."""
    joined = cookie_header(values)
    if joined is None:
        return headers
    out = list(headers)
    for index, (name, value) in enumerate(out):
        if name.lower() == "cookie":
            out[index] = (name, f"{value}; {joined}" if value else joined)
            return tuple(out)
    out.append(("Cookie", joined))
    return tuple(out)
