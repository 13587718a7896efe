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

cookies.txt (curl's Netscape format): one cookie per line, 7 TAB-separated fields — domain
(a leading dot for domain cookies; a ``#HttpOnly_`` prefix for HttpOnly ones), subdomains
TRUE/FALSE, path, secure TRUE/FALSE, expiry (epoch seconds, 0 for session), name, value.
Other ``#`` lines are comments. Shared cookies use a ``#Shared_`` prefix, which curl skips
as a comment while zurl reads them back.
"""

from __future__ import annotations

import abc
import contextlib
import dataclasses
import datetime
import email.utils
import functools
import importlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from http.cookies import BaseCookie, Morsel, SimpleCookie
from typing import TYPE_CHECKING, Any

from yarl import URL

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
)

_NO_URL = URL()  # cookies stored without a response URL are shared by every host
ClearCookiePredicate = Callable[["Morsel[str]"], bool]
PathLike = str | os.PathLike[str]

# The latest time a datetime can hold (9999-12-31T23:59:59Z): Max-Age overflow stops here.
MAX_EXPIRY = 253402300799.0
_CTL = re.compile(r"[\x00-\x1f\x7f]")
_BAD_NAME = re.compile(r"[\x00-\x20\x7f;=,]")
_MAX_AGE = re.compile(r"-?[0-9]+")  # §5.2.2: a "-" or digit, then digits only
_ATTRIBUTES = ("expires", "max-age", "secure", "httponly", "samesite", "comment", "version")
_HEADER = (
    "# Netscape HTTP Cookie File\n"
    "# Written by zurl. curl reads this file with -b and writes it with -c.\n\n"
)

# --- RFC 6265 algorithms ---------------------------------------------------------------

_DATE_DELIMITER = re.compile(r"[\x09\x20-\x2f\x3b-\x40\x5b-\x60\x7b-\x7e]+")
_DATE_TIME = re.compile(r"([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[^0-9].*)?", re.S)
_DATE_DAY = re.compile(r"([0-9]{1,2})(?:[^0-9].*)?", re.S)
_DATE_YEAR = re.compile(r"([0-9]{2,4})(?:[^0-9].*)?", re.S)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def parse_cookie_date(text: str) -> float | None:
    """An Expires value as epoch seconds, by the lenient algorithm of §5.1.1; else None."""
    hms: tuple[int, int, int] | None = None
    day = month = year = None
    for token in _DATE_DELIMITER.split(text):
        if not token:
            continue
        if hms is None and (m := _DATE_TIME.fullmatch(token)):
            hms = (int(m[1]), int(m[2]), int(m[3]))
        elif day is None and (m := _DATE_DAY.fullmatch(token)):
            day = int(m[1])
        elif month is None and token[:3].lower() in _MONTHS:
            month = _MONTHS.index(token[:3].lower()) + 1
        elif year is None and (m := _DATE_YEAR.fullmatch(token)):
            year = int(m[1])
    if hms is None or day is None or month is None or year is None:
        return None
    year += 1900 if 70 <= year <= 99 else 2000 if year <= 69 else 0  # §5.1.1 steps 3-4
    hour, minute, second = hms
    if not 1 <= day <= 31 or year < 1601 or hour > 23 or minute > 59 or second > 59:
        return None
    try:
        moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.UTC)
    except ValueError:  # a day the month lacks (§5.1.1 step 6)
        return None
    return moment.timestamp()


def domain_match(host: str, domain: str) -> bool:
    """Whether ``host`` domain-matches cookie ``domain`` (§5.1.3); both lowercase."""
    if host == domain:
        return True
    return host.endswith(domain) and host[-len(domain) - 1] == "." and not is_ip_address(host)


def path_match(request_path: str, cookie_path: str) -> bool:
    """Whether ``request_path`` path-matches ``cookie_path`` (§5.1.4)."""
    if not request_path.startswith(cookie_path):
        return False
    return (
        len(request_path) == len(cookie_path)
        or cookie_path.endswith("/")
        or request_path[len(cookie_path)] == "/"
    )


def _default_path(url: URL) -> str:
    """The directory of the request path (§5.1.4 default-path)."""
    path = url.raw_path
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rfind("/")]


# Used when the optional ``publicsuffixlist`` package is absent: every single label (the
# list's default rule "*") plus the multi-label suffixes that are most often met.
_FALLBACK_LIST = (
    "co.uk org.uk ac.uk gov.uk ltd.uk plc.uk me.uk net.uk sch.uk nhs.uk "
    "com.au net.au org.au edu.au gov.au co.nz net.nz org.nz co.za co.jp ne.jp or.jp ac.jp "
    "go.jp co.kr or.kr com.cn net.cn org.cn gov.cn com.hk com.tw com.sg com.my co.in net.in "
    "org.in co.id com.br net.br org.br com.mx com.ar com.tr co.il com.ua com.pl "
    "github.io gitlab.io herokuapp.com blogspot.com appspot.com web.app firebaseapp.com "
    "netlify.app vercel.app pages.dev workers.dev azurewebsites.net cloudfront.net "
    "s3.amazonaws.com readthedocs.io ngrok.io ngrok-free.app fly.dev onrender.com"
)
_FALLBACK_SUFFIXES = frozenset(_FALLBACK_LIST.split())


@functools.cache
def _psl_checker() -> Callable[[str], bool] | None:
    try:
        module = importlib.import_module("publicsuffixlist")
    except ImportError:
        return None
    checker: Callable[[str], bool] = module.PublicSuffixList().is_public
    return checker


def is_public_suffix(domain: str) -> bool:
    """Whether cookies may not be set for ``domain`` as a whole (``com``, ``co.uk``, …)."""
    checker = _psl_checker()
    if checker is not None:
        return bool(checker(domain))
    return "." not in domain or domain in _FALLBACK_SUFFIXES


def _morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    # Morsel.set() refuses names such as "path" or "a[b]" that servers do send; setting
    # the state directly keeps them, as aiohttp does.
    morsel: Morsel[str] = Morsel()
    morsel.__setstate__({"key": name, "value": value, "coded_value": coded_value})  # type: ignore[attr-defined]
    return morsel


def _decode(coded_value: str) -> str:
    return SimpleCookie().value_decode(coded_value)[0]


def parse_set_cookie_headers(headers: Sequence[str]) -> list[tuple[str, Morsel[str]]]:
    """Parse raw Set-Cookie values (§5.2) into (name, Morsel); malformed ones are dropped."""
    parsed = []
    for header in headers:
        pair, _, attributes = header.partition(";")
        name, has_eq, coded = pair.partition("=")
        name, coded = name.strip(" \t"), coded.strip(" \t")
        # §5.2 step 2: no "=" means no cookie; control characters are refused outright.
        if not has_eq or not name or _BAD_NAME.search(name) or _CTL.search(header.strip()):
            continue
        morsel = _morsel(name, _decode(coded), coded)
        for attribute in attributes.split(";"):
            key, _, value = attribute.partition("=")
            key, value = key.strip(" \t").lower(), value.strip(" \t")
            if key == "expires" and parse_cookie_date(value) is not None:  # §5.2.1
                morsel["expires"] = value
            elif key == "max-age" and _MAX_AGE.fullmatch(value):  # §5.2.2
                morsel["max-age"] = value
            elif key == "domain" and value:  # §5.2.3
                morsel["domain"] = value
            elif key == "path":  # §5.2.4: anything not starting with "/" means the default
                morsel["path"] = value if value.startswith("/") else ""
            elif key in ("secure", "httponly"):  # §5.2.5, §5.2.6
                morsel[key] = True
            elif key == "samesite":
                morsel["samesite"] = value
        parsed.append((name, morsel))
    return parsed


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


@dataclasses.dataclass(slots=True)
class _Cookie:
    morsel: Morsel[str]
    host_only: bool
    expires: float | None
    created: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.morsel["domain"], self.morsel["path"], self.morsel.key)


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
        self._cookies: dict[str, dict[tuple[str, str], _Cookie]] = {}
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
                self._store(name, _morsel(name, decoded, coded), response_url)

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
                filtered[m.key] = _morsel(m.key, m.value, coded)
        return filtered

    # --- storage (§5.3) ---

    def _store(self, name: str, given: Morsel[str], url: URL) -> None:
        coded = given.coded_value
        if coded is None or not name or _BAD_NAME.search(name) or _CTL.search(coded):
            return
        host = url.raw_host or ""
        domain = _canonical_domain(str(given["domain"] or ""))
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
            path = _default_path(url)  # §5.3 step 7
        morsel = _morsel(name, str(given.value), coded)
        for attribute in _ATTRIBUTES:
            if given[attribute]:
                morsel[attribute] = given[attribute]
        morsel["domain"], morsel["path"] = domain, path
        self._put(_Cookie(morsel, host_only, _expiry(given), 0))

    def _put(self, cookie: _Cookie) -> None:
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

    def _remove(self, doomed: Callable[[_Cookie], bool]) -> None:
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
        lines = [_netscape_line(c) for c in sorted(kept, key=lambda c: c.created)]
        _write_private(os.fspath(file_path), _HEADER + "".join(lines))

    def load(self, file_path: PathLike) -> None:
        """Replace the jar's cookies by a cookies.txt file's; on error keep them all.

        Raises ``CookieFileError`` naming the file and line of the first bad entry.
        """
        cookies = _parse_cookies_txt(os.fspath(file_path))
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
        _write_private(os.fspath(file_path), _HEADER)

    def load(self, file_path: PathLike) -> None:
        """Check the file (``CookieFileError`` if it is not cookies.txt), keep nothing."""
        _parse_cookies_txt(os.fspath(file_path))


def _canonical_domain(domain: str) -> str | None:
    """The Domain attribute as stored: lowercase ASCII, no leading dot; None if unusable."""
    if domain.endswith("."):
        return ""  # aiohttp ignores a Domain with a trailing dot: the cookie is host-only
    domain = domain.removeprefix(".").lower()  # §5.2.3
    if domain.isascii():
        return domain
    try:
        return URL.build(scheme="http", host=domain).raw_host or None
    except ValueError:
        return None


def _expiry(morsel: Morsel[str]) -> float | None:
    """Absolute expiry: Max-Age wins over Expires (§5.3 step 3); None for a session cookie."""
    max_age = str(morsel["max-age"] or "")
    if _MAX_AGE.fullmatch(max_age):
        seconds = int(max_age)
        return -1.0 if seconds <= 0 else min(time.time() + seconds, MAX_EXPIRY)  # §5.2.2
    expires: Any = morsel["expires"]
    if isinstance(expires, int | float) and not isinstance(expires, bool):
        return time.time() + expires  # Morsel's own meaning: seconds from now
    if expires:
        return parse_cookie_date(str(expires))
    return None


def _netscape_line(c: _Cookie) -> str:
    m = c.morsel
    domain: str = m["domain"]
    if not domain:
        prefix = "#Shared_"
    else:
        prefix = "#HttpOnly_" if m["httponly"] else ""
        prefix += "" if c.host_only else "."
    fields = (
        "FALSE" if c.host_only or not domain else "TRUE",
        m["path"],
        "TRUE" if m["secure"] else "FALSE",
        str(int(c.expires)) if c.expires is not None else "0",
        m.key,
        m.coded_value,
    )
    return prefix + domain + "\t" + "\t".join(fields) + "\n"


def _write_private(path: str, text: str) -> None:
    """Replace ``path`` atomically by ``text``, mode 0600: a crash leaves old or new."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".cookies-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(text)
            stream.flush()
            os.fchmod(stream.fileno(), 0o600)
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _parse_cookies_txt(path: str) -> list[_Cookie]:
    """Every live cookie of a cookies.txt file, in file order; all or nothing."""
    with open(path, "rb") as stream:
        data = stream.read()
    now = time.time()
    cookies = []
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            cookie = _parse_line(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise CookieFileError(path, number, "not UTF-8 text") from None
        except ValueError as exc:
            raise CookieFileError(path, number, str(exc)) from None
        if cookie is not None and (cookie.expires is None or cookie.expires > now):
            cookies.append(cookie)
    return cookies


def _parse_line(line: str) -> _Cookie | None:
    """One cookies.txt line as a cookie, None for a comment; ValueError says what is wrong."""
    shared, httponly = line.startswith("#Shared_"), line.startswith("#HttpOnly_")
    if shared or httponly:
        line = line.removeprefix("#Shared_").removeprefix("#HttpOnly_")
    elif not line.strip() or line.startswith("#"):
        return None
    fields = line.split("\t")
    if len(fields) != 7:
        raise ValueError(f"expected 7 TAB-separated fields, found {len(fields)}")
    domain, subdomains, path, secure, expiry, name, value = fields
    for label, flag in (("subdomains", subdomains), ("secure", secure)):
        if flag.upper() not in ("TRUE", "FALSE"):
            raise ValueError(f"{label} field must be TRUE or FALSE, not {flag!r}")
    if not (expiry.isascii() and expiry.isdigit()):
        raise ValueError(f"expiry must be whole epoch seconds, not {expiry!r}")
    domain = domain.removeprefix(".").lower()
    if shared != (not domain) or _BAD_NAME.search(domain):
        raise ValueError(f"bad domain {fields[0]!r}")
    if not path.startswith("/") or _CTL.search(path):
        raise ValueError(f"path must start with '/', not {path!r}")
    if not name or _BAD_NAME.search(name) or _CTL.search(value):
        raise ValueError(f"bad cookie name or value for {name!r}")
    morsel = _morsel(name, _decode(value), value)
    morsel["domain"], morsel["path"] = domain, path
    if secure.upper() == "TRUE":
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    expires = float(min(int(expiry), int(MAX_EXPIRY))) or None
    if expires is not None:
        morsel["expires"] = email.utils.formatdate(expires, usegmt=True)
    host_only = bool(domain) and subdomains.upper() == "FALSE"
    return _Cookie(morsel, host_only, expires, 0)
