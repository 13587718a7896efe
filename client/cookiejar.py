"""Cookie storage (RFC 6265) with aiohttp's ``CookieJar`` API, saved as curl's cookies.txt.

Rules (what every method keeps true):
- A cookie is identified by (domain, path, name) (§5.3 step 11), the path without trailing
  slashes as aiohttp keys it: storing it again replaces it and keeps the old creation
  time, which orders cookies of equal path length (§5.4). ``cookies`` is a live read-only
  view {(domain, path): SimpleCookie}, ``host_only_cookies`` the identities of host-only
  cookies.
- ``domain`` is lowercase, without a leading dot; a host-only cookie (no Domain attribute,
  §5.3 step 6) goes to that exact host, a domain cookie to its subdomains too. A Domain
  attribute must domain-match the response host (§5.1.3) and must not be a public suffix
  unless it is the host itself (§5.3 step 5). An IP address has no subdomains: a cookie
  for ``127.0.0.1`` never goes to the host name ``1.127.0.0.1``.
- Hosts that are IP addresses neither set nor receive cookies unless ``unsafe=True``
  (aiohttp's rule); "shared" cookies (domain ``""``, stored by ``update_cookies`` without
  a response URL) go to every host.
- Expiry is an absolute epoch time, or None for a session cookie; it is checked each time
  the jar is read, never by a timer. A cookie already expired when stored deletes its twin
  and is not stored. A Max-Age beyond any date is capped, never an ``OverflowError``.
- Secure cookies go to https/wss and ``treat_as_secure_origin`` origins only; like aiohttp,
  http://localhost is not secure unless listed.
- A stored cookie can always be sent and saved: name, value and path have no control
  character and are valid UTF-8 (a non-UTF-8 byte from a response is dropped with its
  cookie).
- Limits (§6.1 allows them; the numbers are Firefox's, as in aiohttp): a domain holding 180
  cookies is trimmed to 150 before one more is added, expired ones first, then the least
  recently stored or sent, non-secure before secure (a non-secure cookie never evicts a
  secure one); the jar as a whole is trimmed from 3300 to 3000 the same way. A request
  gets at most 150 cookies in a Cookie header of at most 8190 octets, the most specific
  (longest domain, then path) admitted first. A deletion never evicts anything.
- When two matching cookies share a name, the one sent is the most specific (longest
  domain, then longest path); the header lists longer paths first, then older cookies
  (§5.4 step 2).

The RFC 6265 algorithms are in ``cookierules``, Set-Cookie parsing in ``cookieparse``, the
file formats in ``cookiefile``, the abstract jar and ``DummyCookieJar`` in ``cookiebase``.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from http.cookies import BaseCookie, Morsel, SimpleCookie
from types import MappingProxyType
from typing import TYPE_CHECKING, ClassVar

from yarl import URL

from .cookiebase import NO_URL, AbstractCookieJar, ClearCookiePredicate, DummyCookieJar, PathLike
from .cookiefile import (
    HEADER,
    is_json,
    netscape_line,
    parse_aiohttp_json,
    parse_cookies_txt,
    write_private,
)
from .cookieparse import CONTROL_CHARS, encoded_length, log, parse_set_cookie_headers
from .cookierules import (
    BAD_NAME,
    MAX_AGE_FORM,
    MAX_EXPIRY,
    StoredCookie,
    canonical_domain,
    default_path,
    domain_match,
    expiry_of,
    is_public_suffix,
    make_morsel,
    parse_cookie_date,
    path_key,
    path_match,
)
from .exceptions import CookieFileError
from .hosts import is_ip_address
from .typedefs import LooseCookies, StrOrURL

if TYPE_CHECKING:
    import asyncio

__all__ = (
    "AbstractCookieJar",
    "CookieJar",
    "DummyCookieJar",
    "domain_match",
    "is_public_suffix",
    "parse_cookie_date",
    "parse_set_cookie_headers",
    "path_match",
    "request_cookies",
)

CookieKey = tuple[str, str, str]

_MAX_PER_DOMAIN, _QUOTA_PER_DOMAIN = 180, 150
_MAX_TOTAL, _QUOTA_TOTAL = 3300, 3000
_MAX_PER_REQUEST = 150
_MAX_HEADER = 8190  # the whole "Cookie: ..." line: aiohttp's and common servers' field limit
_HEADER_PREFIX = len("Cookie: ")
_ATTRIBUTES = tuple(a for a in Morsel._reserved if a not in ("domain", "path"))  # type: ignore[attr-defined]


class CookieJar(AbstractCookieJar):
    """Cookie storage adhering to RFC 6265, with curl-compatible ``save``/``load``."""

    _limited: ClassVar[bool] = True  # False for per-request cookies (``request_cookies``)

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: StrOrURL | Iterable[StrOrURL] | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(loop=loop)
        self._unsafe = unsafe
        self._quote_cookie = quote_cookie
        if treat_as_secure_origin is None:
            origins: list[StrOrURL] = []
        elif isinstance(treat_as_secure_origin, str | URL):
            origins = [treat_as_secure_origin]
        else:
            origins = list(treat_as_secure_origin)
        self._secure_origins = frozenset(URL(o).origin() for o in origins)
        # (domain, path key) -> name -> Morsel: the ``cookies`` view, and a request's
        # lookup (its host's suffixes times its path's prefixes).
        self._cookies: dict[tuple[str, str], SimpleCookie] = {}
        self._records: dict[CookieKey, StoredCookie] = {}
        self._domain_counts: dict[str, int] = {}
        self._clock = 0  # orders creation (§5.4) and use (eviction)
        self._next_expiry = MAX_EXPIRY  # no scan for expired cookies before this time

    @property
    def unsafe(self) -> bool:
        return self._unsafe

    @property
    def quote_cookie(self) -> bool:
        return self._quote_cookie

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        return self._secure_origins

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        """A live read-only view of the stored cookies by (domain, path key)."""
        return MappingProxyType(self._cookies)

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        return frozenset(key for key, c in self._records.items() if c.host_only)

    def __len__(self) -> int:
        self._expire()
        return len(self._records)

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._expire()
        return iter([m for bucket in self._cookies.values() for m in bucket.values()])

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie, or those ``predicate`` picks (and any that expired)."""
        if predicate is None:
            self._cookies.clear()  # in place: ``cookies`` views stay live
            self._records.clear()
            self._domain_counts.clear()
            self._next_expiry = MAX_EXPIRY
            return
        doomed = [key for key, c in self._records.items() if predicate(c.morsel)]
        for key in doomed:
            self._delete(key)
        self._purge_expired()

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of its subdomains."""
        domain = domain.lower()
        self.clear(lambda m: domain_match(m["domain"], domain))

    def update_cookies(self, cookies: LooseCookies, response_url: URL = NO_URL) -> None:
        """Store cookies (a mapping, pairs or Morsels) as set by ``response_url``."""
        host = response_url.raw_host or ""
        if host and is_ip_address(host) and not self._unsafe:
            return
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            if isinstance(value, Morsel):  # kept under ``name``, sent as its own key
                self._admit(name, value, response_url)
            else:
                decoded, coded = SimpleCookie().value_encode(value)
                self._admit(name, make_morsel(name, decoded, coded), response_url)
        self._expire()

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        host = response_url.raw_host or ""
        if host and is_ip_address(host) and not self._unsafe:
            return  # refused before any parsing
        if headers and (parsed := parse_set_cookie_headers(headers)):
            self.update_cookies(parsed, response_url)

    def filter_cookies(self, request_url: URL = NO_URL) -> BaseCookie[str]:
        """The cookies to send to ``request_url`` (§5.4), within the per-request limits."""
        filtered: BaseCookie[str] = BaseCookie()
        if not isinstance(request_url, URL):
            warnings.warn(
                "filter_cookies() expects a yarl.URL, not " + type(request_url).__name__,
                DeprecationWarning,
                stacklevel=2,
            )
            request_url = URL(request_url)
        self._expire()
        if not self._records:
            return filtered
        chosen = self._matching(request_url)
        if self._limited:
            chosen = self._within_limits(chosen, request_url.raw_host or "")
            self._clock += 1
            for c in chosen:
                c.used = self._clock
        chosen.sort(key=lambda c: (-len(c.morsel["path"]), c.created))
        for c in chosen:
            m = c.morsel
            coded = m.coded_value if self._quote_cookie else m.value
            dict.__setitem__(filtered, m.key, make_morsel(m.key, m.value, coded))
        return filtered

    # --- sending (§5.4) ---

    def _matching(self, url: URL) -> list[StoredCookie]:
        """The cookies ``url`` gets, the most specific one of each name."""
        host = url.raw_host or ""
        domains = [""]  # least specific first: a later match of a name replaces an earlier
        if host and is_ip_address(host):
            domains += [host] if self._unsafe else []
        elif host:
            labels = host.split(".")
            suffixes = (".".join(labels[i:]) for i in range(len(labels) - 1, -1, -1))
            domains += [d for d in suffixes if d == host or not is_ip_address(d)]
        path = url.raw_path or "/"
        # The path keys a matching cookie can have: "", each directory, the path itself.
        keys = {"", path.rstrip("/")}
        keys.update(path[:i] for i in range(1, len(path)) if path[i] == "/")
        prefixes = sorted(keys, key=len)
        secure = url.scheme in ("https", "wss") or self._is_secure_origin(url)
        best: dict[str, StoredCookie] = {}
        for domain in domains:
            for prefix in prefixes:
                bucket = self._cookies.get((domain, prefix))
                if bucket is None:
                    continue
                for name in bucket:
                    c = self._records[(domain, prefix, name)]
                    if (
                        (not c.host_only or domain == host)
                        and path_match(path, c.morsel["path"])
                        and (secure or not c.morsel["secure"])
                    ):
                        best[c.morsel.key] = c
        return list(best.values())

    def _within_limits(self, chosen: list[StoredCookie], host: str) -> list[StoredCookie]:
        size = _HEADER_PREFIX - 2 + sum(2 + self._pair_length(c.morsel) for c in chosen)
        if len(chosen) <= _MAX_PER_REQUEST and size <= _MAX_HEADER:
            return chosen
        # The most specific first (a host's own cookies before its parent domain's), newer
        # before older among equals; a cookie that does not fit leaves room for smaller ones.
        ranked = sorted(
            chosen,
            key=lambda c: (len(c.morsel["domain"]), len(path_key(c.morsel["path"])), c.created),
            reverse=True,
        )
        admitted: list[StoredCookie] = []
        size = _HEADER_PREFIX - 2
        for c in ranked:
            if len(admitted) == _MAX_PER_REQUEST:
                break
            if size + 2 + self._pair_length(c.morsel) <= _MAX_HEADER:
                size += 2 + self._pair_length(c.morsel)
                admitted.append(c)
        log.debug(
            "Omitted %d cookie(s) for %s over the %d-cookie or %d-octet Cookie header limit",
            len(chosen) - len(admitted),
            host,
            _MAX_PER_REQUEST,
            _MAX_HEADER,
        )
        return admitted

    def _pair_length(self, morsel: Morsel[str]) -> int:
        """Octets of the cookie's ``name=value`` in the Cookie header."""
        sent = morsel.coded_value if self._quote_cookie else morsel.value
        return encoded_length(f"{morsel.key}={sent}") or 0

    def _is_secure_origin(self, url: URL) -> bool:
        if not self._secure_origins:
            return False
        try:
            return url.origin() in self._secure_origins
        except ValueError:
            return False

    # --- storage (§5.3) ---

    def _admit(
        self, name: str, given: Morsel[str], url: URL, deadline: float | None = None
    ) -> None:
        """Store ``given`` as set by ``url`` if §5.3 allows it; ``deadline`` (absolute, from
        a saved jar) replaces its Max-Age and Expires."""
        key, value, coded = given.key or name, given.value, given.coded_value
        if value is None or coded is None or not name or BAD_NAME.search(name + key):
            return
        host = url.raw_host or ""
        domain = canonical_domain(str(given["domain"] or ""))
        if domain is None:
            return
        if domain and host and not is_ip_address(host) and is_public_suffix(domain):
            if domain != host:  # §5.3 step 5
                return
            domain = ""
        if domain and host and not domain_match(host, domain):  # §5.3 step 6
            return
        host_only = not domain and bool(host)
        domain = domain or host
        path = str(given["path"] or "")
        if not path.startswith("/"):
            path = default_path(url)  # §5.3 step 7
        text = f"{key}={value}{coded}{path}"
        if CONTROL_CHARS.search(text) or encoded_length(text) is None:
            log.debug(
                "Dropped cookie %r for %s: it can't be sent in a Cookie header", name, domain
            )
            return
        morsel = make_morsel(key, value, coded)
        for attribute in _ATTRIBUTES:
            if given[attribute]:
                morsel[attribute] = given[attribute]
        if not MAX_AGE_FORM.fullmatch(str(morsel["max-age"])):
            morsel["max-age"] = ""  # kept only in their effective form, as parsed
        if isinstance(morsel["expires"], str) and parse_cookie_date(morsel["expires"]) is None:
            morsel["expires"] = ""
        morsel["domain"], morsel["path"] = domain, path
        expires = expiry_of(given) if deadline is None else deadline
        self._put(StoredCookie(name, morsel, host_only, expires))

    def _put(self, cookie: StoredCookie) -> None:
        key = cookie.key
        old = self._records.get(key)
        if cookie.expires is not None and cookie.expires <= time.time():
            if old is not None:  # storing an expired cookie deletes its twin (§5.3 step 11)
                self._delete(key)
            return
        if old is None and self._limited and not self._make_room(cookie):
            log.debug(
                "Dropped cookie %r for %s: its domain is full of Secure cookies", key[2], key[0]
            )
            return
        self._clock += 1
        if old is not None:
            cookie.created = old.created  # §5.3 step 11.3
        else:
            cookie.created = self._clock
            self._domain_counts[key[0]] = self._domain_counts.get(key[0], 0) + 1
        cookie.used = self._clock
        self._records[key] = cookie
        bucket = self._cookies.setdefault(key[:2], SimpleCookie())
        dict.__setitem__(bucket, key[2], cookie.morsel)
        if cookie.expires is not None:
            self._next_expiry = min(self._next_expiry, cookie.expires)

    def _make_room(self, cookie: StoredCookie) -> bool:
        """Evict for one more cookie (Firefox's policy); False: the cookie is dropped."""
        domain = cookie.key[0]
        if self._domain_counts.get(domain, 0) >= _MAX_PER_DOMAIN:
            self._purge_expired()
            count = self._domain_counts.get(domain, 0)
            excess = count - _QUOTA_PER_DOMAIN + 1
            if excess <= 0:
                return True
            own = [c for key, c in self._records.items() if key[0] == domain]
            candidates = [c for c in own if not c.morsel["secure"]]
            if not candidates:
                if count < _MAX_PER_DOMAIN:  # expired cookies made the room
                    return True
                if not cookie.morsel["secure"]:
                    return False
                candidates = own
            self._evict(candidates, excess)
            log.debug(
                "Evicted %d cookie(s) for %s over the %d-cookie domain limit",
                excess,
                domain,
                _MAX_PER_DOMAIN,
            )
        elif len(self._records) >= _MAX_TOTAL:
            self._purge_expired()
            excess = len(self._records) - _QUOTA_TOTAL
            if excess > 0:
                self._evict(list(self._records.values()), excess)
                log.debug(
                    "Evicted %d cookie(s) over the %d-cookie total limit", excess, _MAX_TOTAL
                )
        return True

    def _evict(self, candidates: list[StoredCookie], count: int) -> None:
        candidates.sort(key=lambda c: c.used)  # least recently stored or sent first
        for c in candidates[:count]:
            self._delete(c.key)

    def _delete(self, key: CookieKey) -> None:
        if self._records.pop(key, None) is None:
            return
        domain = key[0]
        if (left := self._domain_counts[domain] - 1) > 0:
            self._domain_counts[domain] = left
        else:
            del self._domain_counts[domain]
        bucket = self._cookies[key[:2]]
        dict.__delitem__(bucket, key[2])
        if not bucket:
            del self._cookies[key[:2]]

    def _purge_expired(self) -> None:
        now = time.time()
        self._next_expiry = MAX_EXPIRY
        for key, c in list(self._records.items()):
            if c.expires is None:
                continue
            if c.expires <= now:
                self._delete(key)
            else:
                self._next_expiry = min(self._next_expiry, c.expires)

    def _expire(self) -> None:
        if time.time() >= self._next_expiry:
            self._purge_expired()

    # --- files ---

    def save(self, file_path: PathLike, *, keep_session_cookies: bool = True) -> None:
        """Write the jar atomically as a curl cookies.txt file, readable by its owner only."""
        self._expire()
        # Oldest first: load() numbers cookies in file order, so the send order of
        # same-named cookies (§5.4: older first) survives a round trip.
        kept = sorted(
            (c for c in self._records.values() if keep_session_cookies or c.expires is not None),
            key=lambda c: c.created,
        )
        lines = [netscape_line(c) for c in kept]
        # A cookie that is not valid UTF-8 is never stored; this keeps one that slipped in
        # from breaking the whole file (curl too drops it and saves the rest).
        text = HEADER + "".join(line for line in lines if encoded_length(line) is not None)
        write_private(os.fspath(file_path), text)

    def load(self, file_path: PathLike) -> None:
        """Replace the jar's cookies by a file's: curl's cookies.txt (as ``save`` writes)
        or the JSON aiohttp 3.14's ``save`` writes. On error keep them all.

        Raises ``CookieFileError`` naming the file and the first bad line or record.
        """
        path = os.fspath(file_path)
        with open(path, "rb") as stream:
            data = stream.read()
        fresh = type(self)(
            unsafe=self._unsafe,
            quote_cookie=self._quote_cookie,
            treat_as_secure_origin=self._secure_origins,
        )
        if is_json(data):
            for saved in parse_aiohttp_json(path, data):
                try:
                    url = URL.build(scheme="https", host=saved.domain) if saved.domain else NO_URL
                except ValueError:
                    raise CookieFileError(path, None, f"bad domain {saved.domain!r}") from None
                fresh._admit(saved.name, saved.morsel, url, saved.expires)
        else:
            for cookie in parse_cookies_txt(path, data):
                fresh._put(cookie)
        self._cookies.clear()  # in place: ``cookies`` views stay live
        self._cookies.update(fresh._cookies)
        self._records, self._domain_counts = fresh._records, fresh._domain_counts
        self._clock, self._next_expiry = fresh._clock, fresh._next_expiry


class _RequestCookieJar(CookieJar):
    """Per-request cookies: the jar's rules without its limits."""

    _limited = False


def request_cookies(
    cookies: LooseCookies, request_url: URL, like: AbstractCookieJar | None = None
) -> BaseCookie[str]:
    """Per-request ``cookies=`` as sent to ``request_url``, as aiohttp sends them.

    They are shared cookies (no response URL) of a jar with ``like``'s settings: a Morsel
    goes under its own name, its Domain, Path and Secure attributes apply (a Secure one
    never goes over plain http unless the origin is treated as secure), no limits apply.
    """
    jar = _RequestCookieJar(
        unsafe=bool(getattr(like, "unsafe", False)),
        quote_cookie=bool(getattr(like, "quote_cookie", True)),
        treat_as_secure_origin=getattr(like, "treat_as_secure_origin", None),
    )
    jar.update_cookies(cookies)
    return jar.filter_cookies(request_url)
