"""The RFC 6265 algorithms behind the cookie jar: dates, domain and path matching, public
suffixes, Set-Cookie parsing, and the stored-cookie record.

Pure functions; ``cookiejar`` applies them. Section numbers are RFC 6265's.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import importlib
import re
import time
from collections.abc import Callable, Sequence
from http.cookies import Morsel, SimpleCookie
from typing import Any

from yarl import URL

from .hosts import is_ip_address

__all__ = [
    "BAD_NAME",
    "CONTROL_CHARS",
    "COOKIE_ATTRIBUTES",
    "MAX_AGE_FORM",
    "MAX_EXPIRY",
    "StoredCookie",
    "canonical_domain",
    "decode_value",
    "default_path",
    "domain_match",
    "expiry_of",
    "is_public_suffix",
    "make_morsel",
    "parse_cookie_date",
    "parse_set_cookie_headers",
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


def make_morsel(name: str, value: str, coded_value: str) -> Morsel[str]:
    # Morsel.set() refuses names such as "path" or "a[b]" that servers do send; setting
    # the state directly keeps them, as aiohttp does.
    morsel: Morsel[str] = Morsel()
    morsel.__setstate__({"key": name, "value": value, "coded_value": coded_value})  # type: ignore[attr-defined]
    return morsel


def decode_value(coded_value: str) -> str:
    return SimpleCookie().value_decode(coded_value)[0]


def parse_set_cookie_headers(headers: Sequence[str]) -> list[tuple[str, Morsel[str]]]:
    """Parse raw Set-Cookie values (§5.2) into (name, Morsel); malformed ones are dropped."""
    parsed = []
    for header in headers:
        pair, _, attributes = header.partition(";")
        name, has_eq, coded = pair.partition("=")
        name, coded = name.strip(" \t"), coded.strip(" \t")
        # §5.2 step 2: no "=" means no cookie; control characters are refused outright.
        if not has_eq or not name or BAD_NAME.search(name) or CONTROL_CHARS.search(header.strip()):
            continue
        morsel = make_morsel(name, decode_value(coded), coded)
        for attribute in attributes.split(";"):
            key, _, value = attribute.partition("=")
            key, value = key.strip(" \t").lower(), value.strip(" \t")
            if key == "expires" and parse_cookie_date(value) is not None:  # §5.2.1
                morsel["expires"] = value
            elif key == "max-age" and MAX_AGE_FORM.fullmatch(value):  # §5.2.2
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


@dataclasses.dataclass(slots=True)
class StoredCookie:
    morsel: Morsel[str]
    host_only: bool
    expires: float | None
    created: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.morsel["domain"], self.morsel["path"], self.morsel.key)


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
    """Absolute expiry: Max-Age wins over Expires (§5.3 step 3); None for a session cookie."""
    max_age = str(morsel["max-age"] or "")
    if MAX_AGE_FORM.fullmatch(max_age):
        seconds = int(max_age)
        return -1.0 if seconds <= 0 else min(time.time() + seconds, MAX_EXPIRY)  # §5.2.2
    expires: Any = morsel["expires"]
    if isinstance(expires, int | float) and not isinstance(expires, bool):
        return time.time() + expires  # Morsel's own meaning: seconds from now
    if expires:
        return parse_cookie_date(str(expires))
    return None
