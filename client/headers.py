"""The request head a session builds for each hop: defaults, auto headers, cookies, auth.

Pure functions of their arguments; the session keeps the state (defaults, the jar).
Rules: per-request headers replace same-named defaults (aiohttp's merge), auto headers
(Host, Accept, Accept-Encoding, User-Agent) are added only when absent and not skipped,
an explicit ``auth=`` always wins over an ``Authorization`` header.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict
from yarl import URL

if TYPE_CHECKING:
    from .config import BasicAuth
    from .cookiejar import AbstractCookieJar

__all__ = ["USER_AGENT", "auto_headers", "cookie_header", "hop_headers", "merge_headers"]

USER_AGENT = f"Python/{sys.version_info[0]}.{sys.version_info[1]} zurl/0.1"


def merge_headers(defaults: CIMultiDict[str], headers: Any) -> CIMultiDict[str]:
    """Session defaults with per-request ``headers`` replacing same-named ones.

    With no per-request headers the defaults object itself is returned: callers never
    mutate what this returns (``hop_headers`` copies it).
    """
    if not headers:
        return defaults
    result = CIMultiDict(defaults)
    if not isinstance(headers, CIMultiDict | CIMultiDictProxy | MultiDict):
        headers = CIMultiDict(headers)
    added: set[str] = set()
    for name, value in headers.items():
        lowered = name.lower()
        if lowered in added:
            result.add(name, value)
        else:
            result[name] = value
            added.add(lowered)
    return result


def auto_headers(skip: frozenset[str], accept_encoding: str | None) -> tuple[tuple[str, str], ...]:
    """The headers added when absent, minus the skipped ones (lower-case names)."""
    candidates = (
        ("Accept", "*/*"),
        ("Accept-Encoding", accept_encoding),
        ("User-Agent", USER_AGENT),
    )
    return tuple(
        (name, value)
        for name, value in candidates
        if value is not None and name.lower() not in skip
    )


def hop_headers(
    base: CIMultiDict[str],
    url: URL,
    auto: tuple[tuple[str, str], ...],
    with_host: bool,
    auth: BasicAuth | None,
    cookies: str,
) -> CIMultiDict[str]:
    """The headers of one hop, in the order they are sent.

    ``Host`` comes first (RFC 9110 §7.2: a user agent SHOULD send it as the first field;
    RFC 9112 §3.2 makes it mandatory), whether it is ours or one the caller set; then the
    caller's and the session's headers in their order, the auto headers that are absent,
    credentials and cookies. The body's framing headers follow (``ClientRequest``).
    """
    if "Host" in base:
        if next(iter(base)).lower() == "host" and len(base.getall("Host")) == 1:
            headers = CIMultiDict(base)
        else:  # the caller's Host, moved to the front
            headers = CIMultiDict((k, v) for k, v in base.items() if k.lower() == "host")
            headers.extend((k, v) for k, v in base.items() if k.lower() != "host")
    elif with_host:
        headers = CIMultiDict(Host=host_header(url))
        headers.extend(base)
    else:
        headers = CIMultiDict(base)
    for name, value in auto:
        if name not in headers:
            headers[name] = value
    if auth is not None:
        headers["Authorization"] = auth.encode()
    if cookies:
        headers["Cookie"] = cookies
    return headers


def host_header(url: URL) -> str:
    """RFC 9110 §7.2: host, bracketed if IPv6, and the port unless it is the default."""
    host = url.raw_host or ""
    if ":" in host:
        host = f"[{host}]"
    if url.explicit_port is not None and not url.is_default_port():
        return f"{host}:{url.explicit_port}"
    return host


def cookie_header(
    jar: AbstractCookieJar | None, url: URL, cookies: Any, explicit: str | None
) -> str:
    """The Cookie header: an explicit one, then the jar's matches, then per-request cookies.

    Per-request cookies follow aiohttp: shared cookies of a jar with the session jar's
    settings, so a Morsel goes under its own name, its Secure/Domain/Path apply, and one
    replaces the jar's cookie of the same name.
    """
    pairs: dict[str, str] = {}
    if jar is not None:  # asked even when empty: a custom jar sees every request URL
        for name, morsel in jar.filter_cookies(url).items():
            pairs[name] = morsel.coded_value
    if cookies:
        from .cookiejar import request_cookies  # only when cookies are in play

        for name, morsel in request_cookies(cookies, url, jar).items():
            pairs[name] = morsel.coded_value
    if not pairs:
        return explicit or ""
    joined = "; ".join(f"{name}={value}" for name, value in pairs.items())
    return f"{explicit}; {joined}" if explicit else joined
