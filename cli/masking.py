"""The one masking rule for secrets, used by every channel that shows a request or a URL.

Rules:
- ``Authorization`` and ``Proxy-Authorization`` keep only their scheme (``Basic ****``).
- ``Cookie`` and ``Set-Cookie`` keep the cookie names, never a value (``a=****; b=****``).
- A header whose name says it carries a secret (token, secret, api-key, password,
  session, ...) is masked whole.
- A URL keeps its user name and loses its password (``http://me:****@host/``).
- ``--show-secrets`` turns all of it off: callers pass ``show`` and get the text unchanged.

A leaf: imports nothing of zurl's.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "****"
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
_COOKIE_HEADERS = frozenset({"cookie", "set-cookie"})
# Header names that by convention carry a secret as their whole value.
_SECRET_WORDS = ("token", "secret", "api-key", "apikey", "password", "session")


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
