"""The one masking rule for secrets, used by every channel that shows a request or a URL.

Rules:
- ``Authorization`` and ``Proxy-Authorization`` keep only their scheme (``Basic ****``).
- ``Cookie`` and ``Set-Cookie`` keep the cookie names, never a value (``a=****; b=****``).
- A header whose name says it carries a secret (token, secret, api-key, password,
  session, ...) is masked whole.
- A URL keeps its user name and loses its password (``http://me:****@host/``).
- A line of text (an error, a usage error) gets both: every URL in it (also a
  ``user:password@host`` written without a scheme), and every ``Authorization: …``/
  ``Cookie: …`` it quotes.
- ``--show-secrets`` turns all of it off: callers pass ``show`` and get the text unchanged.

The channels: stdout's header blocks (``cli/output/formatting.header_pairs``), stderr's
event log and error lines (``cli/env.Environment.error``), the report
(``cli/output/report.Report``), the history table and the proxy line.

A leaf: imports nothing of zurl's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

MASK = "****"
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
_COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
# Header names that by convention carry a secret as their whole value.
_SECRET_WORDS = ("token", "secret", "api-key", "apikey", "password", "session")
# A URL inside a line of text, up to a blank or a quote.
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")
# ``user:password@host`` without a scheme (``--proxy u:pw@host:3128``), at the start of a
# word or a quote; the password runs to the last '@' before the host.
_USERINFO_IN_TEXT = re.compile(r"(?<![^\s'\"(=])([^\s'\"<>/@:]+):([^\s'\"<>/]*)@(?=[\w\[])")
# A quoted credential header inside a line of text: its value runs to the quote or the end.
_HEADER_IN_TEXT = re.compile(
    r"(?i)\b(proxy-authorization|authorization|set-cookie|cookie)(\s*[:;=]\s*)([^'\"\n]*)"
)


def mask_header(name: str, value: str) -> str:
    """``value`` of header ``name`` with its secret part replaced by ``****``."""
    lowered = name.lower()
    if lowered in _CREDENTIAL_HEADERS:
        scheme, _, rest = value.partition(" ")
        return f"{scheme} {MASK}" if rest else MASK
    if lowered in _COOKIE_HEADERS:
        pairs = []
        for pair in value.split(";"):
            key, eq, _ = pair.strip().partition("=")
            pairs.append(f"{key}={MASK}" if eq else key)
        return "; ".join(pairs)
    if any(word in lowered for word in _SECRET_WORDS):
        return MASK
    return value


def mask_headers(
    headers: Iterable[tuple[str, str]], *, show: bool = False
) -> tuple[tuple[str, str], ...]:
    """Every header of ``headers`` masked (in order), or as they are with ``show``."""
    if show:
        return tuple(headers)
    return tuple((name, mask_header(name, value)) for name, value in headers)


def mask_url(url: str, *, show: bool = False) -> str:
    """``http://user:pass@host/`` → ``http://user:****@host/``; unchanged with ``show``."""
    if show or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # not a URL we can take apart: keep only what follows the '@'
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}{MASK}@{rest.rpartition('@')[2]}" if sep else url
    if password is None:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostport}"))


def mask_text(text: str, *, show: bool = False) -> str:
    """A line of text with the secrets it quotes masked: URL passwords, credential headers."""
    if show:
        return text
    if "://" in text:
        text = _URL_IN_TEXT.sub(lambda m: mask_url(m.group(0)), text)
    if "@" in text:
        text = _USERINFO_IN_TEXT.sub(lambda m: f"{m.group(1)}:{MASK}@", text)
    return _HEADER_IN_TEXT.sub(
        lambda m: m.group(1) + m.group(2) + mask_header(m.group(1), m.group(3)), text
    )


def mask_record(value: Any) -> Any:
    """A JSON-able report record with its secrets masked: every ``url``, every
    ``headers`` object (name → value or list of values), every ``error`` line."""
    if isinstance(value, list):
        return [mask_record(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key == "url" and isinstance(item, str):
            out[key] = mask_url(item)
        elif key == "error" and isinstance(item, str):
            out[key] = mask_text(item)
        elif key == "headers" and isinstance(item, dict):
            out[key] = {
                name: [mask_header(name, v) for v in values]
                if isinstance(values, list)
                else mask_header(name, values)
                for name, values in item.items()
            }
        else:
            out[key] = mask_record(item)
    return out
