"""The RFC 6265 algorithms behind the cookie jar: dates, domain and path matching, public
suffixes, expiry, and the stored-cookie record.

Pure functions; ``cookiejar`` applies them, ``cookieparse`` reads Set-Cookie fields.
Section numbers are RFC 6265's.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import importlib
import re
import time
from collections.abc import Callable
from http.cookies import Morsel, SimpleCookie
from typing import Any

from yarl import URL

from .hosts import is_ip_address

__all__ = [
    "BAD_NAME",
    "BUILT_IN_SUFFIXES",
    "CONTROL_CHARS",
    "COOKIE_ATTRIBUTES",
    "MAX_AGE_FORM",
    "MAX_EXPIRY",
    "StoredCookie",
    "builtin_public_suffix",
    "canonical_domain",
    "decode_value",
    "default_path",
    "domain_match",
    "expiry_of",
    "is_public_suffix",
    "make_morsel",
    "parse_cookie_date",
    "path_key",
    "path_match",
]

MAX_EXPIRY = 253402300799.0
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
BAD_NAME = re.compile(r"[\x00-\x20\x7f;=,]")
MAX_AGE_FORM = re.compile(r"-?[0-9]+")  # §5.2.2: a "-" or digit, then digits only
COOKIE_ATTRIBUTES = ("expires", "max-age", "secure", "httponly", "samesite", "comment", "version")

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
    """Whether ``host`` domain-matches cookie ``domain`` (§5.1.3); both lowercase.

    Only host names have parent domains: an IP address matches itself alone, whether it
    is the host (§5.1.3's last condition) or the domain (``127.0.0.1`` is no parent of the
    host name ``1.127.0.0.1``).
    """
    if host == domain:
        return True
    return (
        bool(domain)
        and host.endswith(domain)
        and host[-len(domain) - 1] == "."
        and not is_ip_address(host)
        and not is_ip_address(domain)
    )


def path_match(request_path: str, cookie_path: str) -> bool:
    """Whether ``request_path`` path-matches ``cookie_path`` (§5.1.4)."""
    if not request_path.startswith(cookie_path):
        return False
    return (
        len(request_path) == len(cookie_path)
        or cookie_path.endswith("/")
        or request_path[len(cookie_path)] == "/"
    )


def path_key(path: str) -> str:
    """The path part of a cookie's identity: its path without trailing slashes, as
    aiohttp keys its jar (``/`` is ``""``, ``/a/`` and ``/a`` are one cookie)."""
    return path.rstrip("/")


def default_path(url: URL) -> str:
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
BUILT_IN_SUFFIXES = frozenset(_FALLBACK_LIST.split())


@functools.cache
def _psl_checker() -> Callable[[str], bool] | None:
    try:
        module = importlib.import_module("publicsuffixlist")
    except ImportError:
        return None
    checker: Callable[[str], bool] = module.PublicSuffixList().is_public
    return checker


def builtin_public_suffix(domain: str) -> bool:
    """The built-in answer used without ``publicsuffixlist``: every single label (the
    list's default rule "*") and the common multi-label suffixes above."""
    return "." not in domain or domain in BUILT_IN_SUFFIXES


def is_public_suffix(domain: str) -> bool:
    """Whether cookies may not be set for ``domain`` as a whole (``com``, ``co.uk``, …).

    The full public suffix list when the optional ``publicsuffixlist`` package is
    installed (``zurl[psl]``), ``builtin_public_suffix`` otherwise.
    """
    checker = _psl_checker()
    if checker is not None:
        return bool(checker(domain))
    return builtin_public_suffix(domain)


def make_morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    # Morsel.set() refuses names such as "path" or "a[b]" that servers do send; setting
    # the state directly keeps them, as aiohttp does.
    morsel: Morsel[str] = Morsel()
    morsel.__setstate__({"key": name, "value": value, "coded_value": coded_value})  # type: ignore[attr-defined]
    return morsel


def decode_value(coded_value: str) -> str:
    return SimpleCookie().value_decode(coded_value)[0]


@dataclasses.dataclass(slots=True)
class StoredCookie:
    """A cookie in the jar: its Morsel (domain and path as stored) and its bookkeeping."""

    name: str  # its name in the jar; the Morsel's own key is the name sent (aiohttp's rule)
    morsel: Morsel[str]
    host_only: bool  # sent to the domain itself only (no Domain attribute, §5.3 step 6)
    expires: float | None  # absolute epoch seconds; None for a session cookie
    created: int = 0  # creation order: ties of equal path length go oldest first (§5.4)
    used: int = 0  # last stored or sent: the least recently used is evicted first

    @property
    def key(self) -> tuple[str, str, str]:
        """The cookie's identity (§5.3 step 11): domain, path key, name."""
        return (self.morsel["domain"], path_key(self.morsel["path"]), self.name)


def canonical_domain(domain: str) -> str | None:
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


def expiry_of(morsel: Morsel[str]) -> float | None:
    """Absolute expiry: Max-Age wins over Expires (§5.3 step 3); None for a session cookie.

    A Max-Age of zero or less means "already expired" (-1); a huge one is capped at the
    latest time a datetime holds, never an ``OverflowError`` (§5.2.2).
    """
    max_age = str(morsel["max-age"] or "")
    if MAX_AGE_FORM.fullmatch(max_age):
        digits = max_age.lstrip("-").lstrip("0")
        if max_age.startswith("-") or not digits:
            return -1.0
        seconds = MAX_EXPIRY if len(digits) > 15 else int(digits)
        return min(time.time() + seconds, MAX_EXPIRY)
    expires: Any = morsel["expires"]
    if isinstance(expires, int | float) and not isinstance(expires, bool):
        if expires != expires:  # NaN: no usable lifetime
            return None
        # Morsel's own meaning of a number: seconds from now.
        return min(time.time() + max(min(expires, MAX_EXPIRY), -1.0), MAX_EXPIRY)
    if expires:
        return parse_cookie_date(str(expires))
    return None
