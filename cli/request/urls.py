"""The URL and the method of a request: httpie's ``[METHOD] URL`` guess and URL sugar.

Rules:
- ``:8080/x`` means ``http://localhost:8080/x``; a URL without a scheme gets ``http://``;
  only http:// and https:// are requests: a ws:// or wss:// URL is its handshake's
  http(s):// URL (``as_http``) until the conversation starts (``ws_url``).
- The first word is a method when it is letters only and either a known method, all
  capitals, or followed by something that can only be the URL.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from cli.exitcodes import UsageError
from cli.request.items import looks_like_item

KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_WS_SCHEMES = {"ws": "http", "wss": "https"}
_HTTP_SCHEMES = {"http": "ws", "https": "wss"}


def split_args(args: tuple[str, ...]) -> tuple[str | None, str, tuple[str, ...]]:
    """``[METHOD] URL [ITEM ...]`` → (method or None, url, items).

    The first word is a method when it is letters only and either a known method, all
    capitals, or followed by a URL with a scheme or a word that is not an item
    (``zurl purge example.org``); ``zurl localhost a=1`` is a URL with an item, where
    httpie would take ``localhost`` for a method.
    """
    if not args:
        raise UsageError("missing URL (usage: zurl [METHOD] URL [ITEM ...])")
    first = args[0]
    if len(args) >= 2 and first.isascii() and first.isalpha():
        upper = first.upper()
        nxt = args[1]
        if upper in KNOWN_METHODS or first.isupper() or _looks_like_url(nxt):
            return upper, args[1], args[2:]
    return None, first, args[1:]


def _looks_like_url(word: str) -> bool:
    """A word after a would-be method that must be the URL, not an item."""
    return bool(SCHEME.match(word)) or not looks_like_item(word)


def normalize_url(url: str) -> str:
    """Add http:// when no scheme is given; ``:8080/x`` means localhost."""
    if SCHEME.match(url):
        scheme = url.split("://", 1)[0].lower()
        if scheme not in ("http", "https"):
            raise UsageError(f"unsupported URL scheme {scheme!r} in {url!r}")
        return url
    if url.startswith(":"):
        rest = url[1:]
        if rest[:1].isdigit():
            return "http://localhost:" + rest
        return "http://localhost" + rest
    if not url or url.startswith("/"):
        raise UsageError(f"invalid URL {url!r}: no host")
    return "http://" + url


def with_query(url: str, params: list[tuple[str, str]]) -> str:
    from yarl import URL

    try:
        parsed = URL(url)
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    if not parsed.host:
        raise UsageError(f"invalid URL {url!r}: no host")
    if params:
        parsed = parsed.extend_query(params)
    return str(parsed)


def target_of(url: str) -> str:
    """The request target of an origin-form request line (RFC 9112 §3.2.1)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def host_header(url: str) -> str:
    """The Host header for ``url``: the port only when it is not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    port = parts.port
    return host if port in (None, default) else f"{host}:{port}"


def as_http(args: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The arguments with a ws:// or wss:// URL as http(s)://, and whether one was found."""
    for index, word in enumerate(args[:2]):
        scheme, sep, rest = word.partition("://")
        if sep and scheme.lower() in _WS_SCHEMES:
            http = f"{_WS_SCHEMES[scheme.lower()]}://{rest}"
            return (*args[:index], http, *args[index + 1 :]), True
    return args, False


def ws_url(http_url: str) -> str:
    scheme, _, rest = http_url.partition("://")
    return f"{_HTTP_SCHEMES.get(scheme.lower(), scheme)}://{rest}"
