"""Pure helpers for one redirect hop (RFC 9110 §15.4): the next method, URL and headers.

Rules:
- 303 turns every method but HEAD into GET (§15.4.4); 301 and 302 turn POST into GET, as
  browsers and aiohttp do (§15.4.2, §15.4.3); 307 and 308 keep method and body (§15.4.8,
  §15.4.9). The body is resent only when the method is unchanged and the status is not 303.
- A Location may be relative (resolved per RFC 3986 §5, non-strict: "http:/x" from an
  http URL is relative too) and inherits the current fragment when it has none
  (§10.2.2); it must lead to http or https, never to ftp:, file:, …
- Credentials (Authorization, Proxy-Authorization, Cookie) never follow a redirect to
  another origin, i.e. scheme, host and port (§15.4, RFC 6454 §4); the jar's own cookies
  are matched for the new URL by the session, not carried here.
- Headers that describe a body are removed with it (§15.4); Host always goes, so the next
  request computes it from its own URL.
"""

from __future__ import annotations

import dataclasses
import http
import re
from typing import TYPE_CHECKING, NamedTuple

from multidict import CIMultiDict
from yarl import URL

from .exceptions import (
    InvalidUrlRedirectClientError,
    NonHttpUrlRedirectClientError,
    NonReplayableBodyError,
)

if TYPE_CHECKING:
    from .payload import Payload

__all__ = (
    "REDIRECT_STATUSES",
    "DroppedHeader",
    "NextHop",
    "is_downgrade",
    "keeps_body",
    "next_hop",
    "next_request_headers",
    "redirect_method",
    "resolve_location",
    "same_origin",
)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

_CREDENTIALS = ("authorization", "proxy-authorization", "cookie")
# §15.4's content-specific fields, plus the framing of the body that is no longer sent.
_BODY_HEADERS = (
    "content-type",
    "content-length",
    "content-encoding",
    "content-language",
    "content-location",
    "transfer-encoding",
    "digest",
    "last-modified",
)
_CTL = re.compile(r"[\x00-\x1f\x7f]")
# aiohttp's words for an unparsable Location (scripts match on them).
_NOT_A_URL = "Server attempted redirecting to a location that does not look like a URL"


@dataclasses.dataclass(frozen=True, slots=True)
class DroppedHeader:
    """A request header not carried to the next hop, and why (shown by ``--history``)."""

    name: str
    reason: str


def redirect_method(status: int, method: str) -> str:
    """The method of the request that follows a ``status`` redirect of ``method``."""
    method = method.upper()
    if status == 303 and method != "HEAD":  # §15.4.4: "See Other" is fetched with GET
        return "GET"
    if status in (301, 302) and method == "POST":  # §15.4.2/3: what user agents do
        return "GET"
    return method


def keeps_body(status: int, old_method: str, new_method: str) -> bool:
    """Whether the request body is sent again on the next hop."""
    return status != 303 and old_method.upper() == new_method.upper()


def resolve_location(current: URL, location: str, *, requote: bool = True) -> URL:
    """The absolute URL a Location field value points to from ``current``.

    ``requote=False`` (the session's ``requote_redirect_url``) takes its percent-encoding
    as sent instead of normalising it.

    Raises ``InvalidUrlRedirectClientError`` for an empty or unparsable location and
    ``NonHttpUrlRedirectClientError`` for any scheme other than http and https.
    """
    location = location.strip(" \t")
    if not location:
        raise InvalidUrlRedirectClientError(location, "empty Location in a redirect")
    if _CTL.search(location):
        raise InvalidUrlRedirectClientError(location, "control character in Location")
    try:
        parsed = URL(location, encoded=not requote)
        scheme = parsed.scheme
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(location, f"{_NOT_A_URL} ({exc})") from exc
    if scheme not in ("http", "https", ""):
        raise NonHttpUrlRedirectClientError(location, f"redirect to a {scheme}: URL refused")
    rest = location[len(scheme) + 1 :] if scheme else location
    if scheme == current.scheme and not rest.startswith("//"):
        # RFC 3986 §5.2.2's non-strict reading, as browsers and aiohttp resolve it:
        # "http:/ok" or "http:ok" from an http URL is a reference relative to it.
        scheme = ""
        try:
            parsed = URL(rest, encoded=not requote)
        except ValueError as exc:
            raise InvalidUrlRedirectClientError(location, f"{_NOT_A_URL} ({exc})") from exc
    try:
        target = parsed if scheme else current.join(parsed)
        if "#" not in location and current.raw_fragment:
            target = target.with_fragment(current.fragment)  # RFC 9110 §10.2.2
        if not target.raw_host:
            raise ValueError("no host")
        target.origin()  # validates the port too
    except ValueError as exc:
        raise InvalidUrlRedirectClientError(
            location, f"Invalid redirect URL origin ({exc})"
        ) from exc
    return target


def same_origin(a: URL, b: URL) -> bool:
    """Whether ``a`` and ``b`` share scheme, host and effective port (RFC 6454 §5)."""
    return (
        a.absolute
        and b.absolute
        and a.scheme == b.scheme
        and a.raw_host == b.raw_host
        and a.port == b.port
    )


class NextHop(NamedTuple):
    """Where a redirect leads, and what of the request goes along."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    keeps_body: bool
    keeps_auth: bool  # an explicit auth= (never re-applied to another origin)
    dropped: tuple[DroppedHeader, ...]


def next_hop(
    status: int,
    method: str,
    url: URL,
    location: str,
    headers: CIMultiDict[str],
    body: Payload | None,
    *,
    has_auth: bool,
    requote: bool = True,
) -> NextHop:
    """The request that follows a ``status`` redirect to ``location`` from ``url``.

    Raises NonReplayableBodyError when the body must go again but was a one-shot stream.
    """
    target = resolve_location(url, location, requote=requote)
    new_method = redirect_method(status, method)
    keeps = keeps_body(status, method, new_method)
    if keeps and body is not None and not body.replayable:
        raise NonReplayableBodyError(
            f"Cannot follow redirect with a consumed request body: {status} redirect to "
            f"{target} needs it again, but it was a one-shot stream (send bytes or a "
            "seekable file, or allow_redirects=False)"
        )
    new_headers, dropped = next_request_headers(
        headers, url, target, body_dropped=not keeps and body is not None, status=status
    )
    keeps_auth = has_auth and same_origin(url, target)
    if has_auth and not keeps_auth:
        why = f"auth= not re-applied across origins ({target.host}:{target.port})"
        dropped.append(DroppedHeader("Authorization", why))
    return NextHop(new_method, target, new_headers, keeps, keeps_auth, tuple(dropped))


def is_downgrade(current: URL, target: URL) -> bool:
    """Whether the hop leaves TLS (https → http, wss → ws)."""
    return (current.scheme, target.scheme) in (("https", "http"), ("wss", "ws"))


def next_request_headers(
    headers: CIMultiDict[str],
    current: URL,
    target: URL,
    body_dropped: bool,
    *,
    status: int | None = None,
) -> tuple[CIMultiDict[str], list[DroppedHeader]]:
    """The headers for the request to ``target``, and those left out with the reason.

    ``headers`` is not changed. ``status`` only words the reasons.
    """
    reasons: dict[str, str] = {"host": f"recomputed for {_host_port(target)}"}
    if body_dropped:
        after = f"{status} {_phrase(status)}" if status is not None else "the redirect"
        reasons.update(dict.fromkeys(_BODY_HEADERS, f"body not resent after {after}"))
    if not same_origin(current, target):
        why = f"cross-origin redirect to {_host_port(target)}"
        if current.scheme != target.scheme:
            why += f" ({current.scheme} → {target.scheme})"
        reasons.update(dict.fromkeys(_CREDENTIALS, why))
    kept: CIMultiDict[str] = CIMultiDict()
    dropped: dict[str, DroppedHeader] = {}
    for name, value in headers.items():
        reason = reasons.get(name.lower())
        if reason is None:
            kept.add(name, value)
        elif name.lower() not in dropped:
            dropped[name.lower()] = DroppedHeader(name, reason)
    return kept, list(dropped.values())


def _host_port(url: URL) -> str:
    host = url.raw_host or ""
    return f"[{host}]:{url.port}" if ":" in host else f"{host}:{url.port}"


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "redirect"
