"""Cookie storage (RFC 6265) with aiohttp's ``CookieJar`` API, saved as curl's cookies.txt.

Rules (what every method keeps true):
- A cookie is identified by (domain, path, name) (§5.3 step 11): storing it again replaces
  it and keeps the old creation time, which orders cookies of equal path length (§5.4).
- ``domain`` is lowercase, without a leading dot; ``host_only`` says whether it is sent to
  that exact host only (no Domain attribute, §5.3 step 6) or to its subdomains too.
- A Domain attribute must domain-match the response host (§5.1.3) and must not be a public
  suffix unless it is the host itself (§5.3 step 5).
- Hosts that are IP addresses neither set nor receive cookies unless ``unsafe=True``
  (aiohttp's rule); "shared" cookies (domain ``""``, stored by ``update_cookies`` without
  a response URL) go to every host.
- Expiry is an absolute epoch time, or None for a session cookie; it is checked each time
  the jar is read, never by a timer. A cookie already expired when stored deletes its twin.
- Secure cookies go to https/wss and ``treat_as_secure_origin`` origins only; like aiohttp,
  http://localhost is not secure unless listed.
- Names and values never hold control characters: they would inject into the Cookie header
  or break cookies.txt lines.

The RFC 6265 algorithms are in ``cookierules``, the cookies.txt format in ``cookiefile``.
"""

from __future__ import annotations

import abc
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import TYPE_CHECKING

from yarl import URL

from .cookiefile import HEADER, netscape_line, parse_cookies_txt, write_private
from .cookierules import (
    BAD_NAME,
    CONTROL_CHARS,
    COOKIE_ATTRIBUTES,
    MAX_EXPIRY,
    StoredCookie,
    canonical_domain,
    default_path,
    domain_match,
    expiry_of,
    is_public_suffix,
    make_morsel,
    parse_cookie_date,
    parse_set_cookie_headers,
    path_match,
)
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
)

_NO_URL = URL()  # cookies stored without a response URL are shared by every host
ClearCookiePredicate = Callable[["Morsel[str]"], bool]
PathLike = str | os.PathLike[str]

# The latest time a datetime can hold (9999-12-31T23:59:59Z): Max-Age overflow stops here.
# --- the jars --------------------------------------------------------------------------


class AbstractCookieJar(abc.ABC):
    """What a session needs from a cookie jar (aiohttp's ``abc.AbstractCookieJar``)."""

    def __init__(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        del loop  # accepted for aiohttp compatibility; a jar needs no event loop

    @property
    @abc.abstractmethod
    def quote_cookie(self) -> bool: ...

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Morsel[str]]: ...

    @abc.abstractmethod
    def clear(self, predicate: ClearCookiePredicate | None = None) -> None: ...

    @abc.abstractmethod
    def clear_domain(self, domain: str) -> None: ...

    @abc.abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: URL = _NO_URL) -> None: ...

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of a response's raw Set-Cookie header values."""
        if headers:
            self.update_cookies(parse_set_cookie_headers(headers), response_url)

    @abc.abstractmethod
    def filter_cookies(self, request_url: URL) -> BaseCookie[str]: ...


class CookieJar(AbstractCookieJar):
    """Cookie storage adhering to RFC 6265, with curl-compatible ``save``/``load``."""

    def __init__(
        self,
        *,
        unsafe: bool = False,
        quote_cookie: bool = True,
        treat_as_secure_origin: StrOrURL | list[StrOrURL] | None = None,
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
        # domain -> (path, name) -> cookie: a request looks up only its host's suffixes.
        self._cookies: dict[str, dict[tuple[str, str], StoredCookie]] = {}
        self._counter = 0
        self._next_expiry = MAX_EXPIRY  # no scan for expired cookies before this time

    @property
    def quote_cookie(self) -> bool:
        return self._quote_cookie

    def __len__(self) -> int:
        self._expire()
        return sum(len(bucket) for bucket in self._cookies.values())

    def __iter__(self) -> Iterator[Morsel[str]]:
        self._expire()
        return iter([c.morsel for bucket in self._cookies.values() for c in bucket.values()])

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        """Remove every cookie, or those ``predicate`` picks (and any that expired)."""
        if predicate is None:
            self._cookies.clear()
            self._next_expiry = MAX_EXPIRY
            return
        self._remove(lambda c: predicate(c.morsel))

    def clear_domain(self, domain: str) -> None:
        """Remove the cookies of ``domain`` and of its subdomains."""
        domain = domain.lower()
        self._remove(lambda c: domain_match(c.morsel["domain"], domain))

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _NO_URL) -> None:
        """Store cookies (a mapping, pairs or Morsels) as set by ``response_url``."""
        host = response_url.raw_host or ""
        if host and is_ip_address(host) and not self._unsafe:
            return
        items = cookies.items() if isinstance(cookies, Mapping) else cookies
        for name, value in items:
            if isinstance(value, Morsel):
                self._store(value.key or name, value, response_url)
            else:
                decoded, coded = SimpleCookie().value_encode(value)
                self._store(name, make_morsel(name, decoded, coded), response_url)

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        """The cookies to send to ``request_url``: longest path first (§5.4 step 2)."""
        request_url = URL(request_url)
        self._expire()
        if not self._cookies:
            return SimpleCookie() if self._quote_cookie else BaseCookie()
        host = request_url.raw_host or ""
        domains = [""]
        if host and is_ip_address(host):
            domains += [host] if self._unsafe else []  # an IP matches only itself (§5.1.3)
        elif host:
            labels = host.split(".")
            domains += [".".join(labels[i:]) for i in range(len(labels))]
        path = request_url.raw_path or "/"
        secure = request_url.scheme in ("https", "wss") or self._is_secure_origin(request_url)
        chosen = [
            c
            for d in domains
            for c in self._cookies.get(d, {}).values()
            if (not c.host_only or d == host)
            and path_match(path, c.morsel["path"])
            and (secure or not c.morsel["secure"])
        ]
        chosen.sort(key=lambda c: (-len(c.morsel["path"]), c.created))
        filtered: BaseCookie[str] = SimpleCookie() if self._quote_cookie else BaseCookie()
        for c in chosen:
            m = c.morsel
            if m.key not in filtered:  # a Cookie header keyed by name keeps the most specific
                coded = m.coded_value if self._quote_cookie else m.value
                filtered[m.key] = make_morsel(m.key, m.value, coded)
        return filtered

    # --- storage (§5.3) ---

    def _store(self, name: str, given: Morsel[str], url: URL) -> None:
        coded = given.coded_value
        if coded is None or not name or BAD_NAME.search(name) or CONTROL_CHARS.search(coded):
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
        morsel = make_morsel(name, str(given.value), coded)
        for attribute in COOKIE_ATTRIBUTES:
            if given[attribute]:
                morsel[attribute] = given[attribute]
        morsel["domain"], morsel["path"] = domain, path
        self._put(StoredCookie(morsel, host_only, expiry_of(given), 0))

    def _put(self, cookie: StoredCookie) -> None:
        domain, path, name = cookie.key
        bucket = self._cookies.setdefault(domain, {})
        old = bucket.pop((path, name), None)
        if cookie.expires is not None and cookie.expires <= time.time():
            if not bucket:  # storing an expired cookie deletes its twin (§5.3 steps 3, 11)
                del self._cookies[domain]
            return
        if old is not None:
            cookie.created = old.created  # §5.3 step 11.3
        else:
            self._counter += 1
            cookie.created = self._counter
        bucket[(path, name)] = cookie
        if cookie.expires is not None:
            self._next_expiry = min(self._next_expiry, cookie.expires)

    def _remove(self, doomed: Callable[[StoredCookie], bool]) -> None:
        """Drop the cookies ``doomed`` picks and every expired one."""
        now = time.time()
        self._next_expiry = MAX_EXPIRY
        for domain, bucket in list(self._cookies.items()):
            for key, c in list(bucket.items()):
                if doomed(c) or (c.expires is not None and c.expires <= now):
                    del bucket[key]
                elif c.expires is not None:
                    self._next_expiry = min(self._next_expiry, c.expires)
            if not bucket:
                del self._cookies[domain]

    def _expire(self) -> None:
        if time.time() >= self._next_expiry:
            self._remove(lambda c: False)

    def _is_secure_origin(self, url: URL) -> bool:
        if not self._secure_origins:
            return False
        try:
            return url.origin() in self._secure_origins
        except ValueError:
            return False

    # --- cookies.txt ---

    def save(self, file_path: PathLike, *, keep_session_cookies: bool = True) -> None:
        """Write the jar atomically as a curl cookies.txt file, readable by its owner only."""
        self._expire()
        # Oldest first: load() numbers cookies in file order, so the send order of
        # same-named cookies (§5.4: older first) survives a round trip.
        kept = [
            c
            for bucket in self._cookies.values()
            for c in bucket.values()
            if keep_session_cookies or c.expires is not None
        ]
        lines = [netscape_line(c) for c in sorted(kept, key=lambda c: c.created)]
        write_private(os.fspath(file_path), HEADER + "".join(lines))

    def load(self, file_path: PathLike) -> None:
        """Replace the jar's cookies by a cookies.txt file's; on error keep them all.

        Raises ``CookieFileError`` naming the file and line of the first bad entry.
        """
        cookies = parse_cookies_txt(os.fspath(file_path))
        self._cookies = {}
        self._counter = 0
        self._next_expiry = MAX_EXPIRY
        for cookie in cookies:
            self._put(cookie)


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing: for sessions that must not keep cookies."""

    @property
    def quote_cookie(self) -> bool:
        return True

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _NO_URL) -> None:
        pass

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        return SimpleCookie()

    def save(self, file_path: PathLike, *, keep_session_cookies: bool = True) -> None:
        """Write a cookies.txt file holding no cookie."""
        write_private(os.fspath(file_path), HEADER)

    def load(self, file_path: PathLike) -> None:
        """Check the file (``CookieFileError`` if it is not cookies.txt), keep nothing."""
        parse_cookies_txt(os.fspath(file_path))
