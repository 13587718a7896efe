"""The URL and the method of a request: httpie's ``[METHOD] URL`` guess and URL sugar.

Rules:
- ``:8080/x`` means ``http://localhost:8080/x``; a URL without a scheme gets ``http://``;
  a pasted ``://host/x`` is ``host/x``; only http:// and https:// are requests: a ws:// or
  wss:// URL is its handshake's http(s):// URL (``as_http``) until the conversation starts
  (``ws_url``).
- The path and query go out as typed: a percent-escape stays as it is (``%2F`` is not
  ``/``), and only what RFC 3986 does not allow there is escaped (a space is ``%20``,
  ``[x]`` is ``%5Bx%5D``, other characters their UTF-8 bytes). ``.`` and ``..`` segments
  are resolved (RFC 3986 §5.2.4), as curl and httpie do. ``name==value`` items are added
  form-encoded (``a b`` is ``a+b``), after the URL's own query. The fragment is not sent.
  The engine gets the result as an already-encoded URL (``engine_url``), so nothing
  re-encodes it.
- The first word is a method when it is letters only and either a known method, all
  capitals, or followed by something that can only be the URL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlencode, urlsplit

from cli.exitcodes import UsageError
from cli.request.items import looks_like_item

if TYPE_CHECKING:
    from yarl import URL

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
    if url.startswith("://"):  # pasted after "http": zurl ://example.org
        url = url[3:]
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


# What a path or query may hold as it is (RFC 3986 §3.3-3.4: unreserved, sub-delims and
# ":@/?"); "%" only as the start of an escape.
_TARGET_SAFE = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?"
)
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")


def _requote(text: str) -> str:
    """``text`` with what a request target cannot hold percent-encoded; escapes kept."""
    out: list[str] = []
    for index, ch in enumerate(text):
        if ch in _TARGET_SAFE or (ch == "%" and _ESCAPE.match(text, index)):
            out.append(ch)
        else:
            out.extend(f"%{byte:02X}" for byte in ch.encode("utf-8", "surrogatepass"))
    return "".join(out)


def _without_dot_segments(path: str) -> str:
    """RFC 3986 §5.2.4: ``/a/b/../c/./d`` is ``/a/c/d``."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for index, segment in enumerate(segments):
        last = index == len(segments) - 1
        if segment == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        elif segment == ".":
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/".join(out) if out != [""] else "/"


def with_query(url: str, params: list[tuple[str, str]]) -> str:
    """The URL to send: its origin checked, its path and query as typed (see the rules),
    then the ``name==value`` items."""
    from yarl import URL

    scheme, _, rest = url.partition("://")
    authority = re.match(r"[^/?#]*", rest).group()  # type: ignore[union-attr]
    target = rest[len(authority) :].partition("#")[0]
    path, _, query = target.partition("?")
    try:
        origin = URL(f"{scheme}://{authority}")
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    if not origin.raw_host:
        raise UsageError(f"invalid URL {url!r}: no host")
    query = _requote(query)
    if params:
        query = f"{query}&{urlencode(params)}" if query else urlencode(params)
    path = _without_dot_segments(_requote(path)) or "/"
    return f"{str(origin).rstrip('/')}{path}{'?' + query if query else ''}"


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without ``user:password@`` and the credentials, percent-decoded."""
    scheme, sep, rest = url.partition("://")
    authority = re.match(r"[^/?#]*", rest).group()  # type: ignore[union-attr]
    userinfo, at, hostport = authority.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    bare = f"{scheme}{sep}{hostport}{rest[len(authority) :]}"
    return bare, (unquote(user, errors="strict"), unquote(password, errors="strict"))


def engine_url(url: str) -> URL:
    """``url`` (from ``with_query``) as the engine takes it: already encoded."""
    from yarl import URL

    return URL(url, encoded=True)


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
