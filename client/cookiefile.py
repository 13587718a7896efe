"""Cookie files for ``CookieJar.save``/``load``: curl's cookies.txt, and aiohttp's JSON.

``save`` writes curl's cookies.txt (the Netscape format) so zurl, curl and wget share
jars; ``load`` reads it, and also the JSON file aiohttp 3.14's ``CookieJar.save`` writes
(told apart by its first character, ``{``). aiohttp's older pickled jars are never read:
unpickling a file runs code.

cookies.txt:

One cookie per line, 7 TAB-separated fields: domain (a leading dot for domain cookies, a
``#HttpOnly_`` prefix for HttpOnly ones), subdomains TRUE/FALSE, path, secure TRUE/FALSE,
expiry (epoch seconds, 0 for a session cookie), name, value. Other ``#`` lines are
comments; shared cookies use a ``#Shared_`` prefix, which curl skips and zurl reads back.
Files are written atomically (temporary file, fsync, rename), readable by their owner only.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator
from http.cookies import Morsel
from typing import Any

from .cookierules import (
    BAD_NAME,
    CONTROL_CHARS,
    MAX_EXPIRY,
    StoredCookie,
    decode_value,
    make_morsel,
)
from .exceptions import CookieFileError

__all__ = [
    "HEADER",
    "SavedCookie",
    "is_json",
    "netscape_line",
    "parse_aiohttp_json",
    "parse_cookies_txt",
    "write_private",
]

HEADER = (
    "# Netscape HTTP Cookie File\n"
    "# Written by zurl. curl reads this file with -b and writes it with -c.\n\n"
)


def netscape_line(c: StoredCookie) -> str:
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


def write_private(path: str, text: str) -> None:
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


def is_json(data: bytes) -> bool:
    """Whether a cookie file's bytes are JSON (aiohttp's form) rather than cookies.txt."""
    return data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{"


def parse_cookies_txt(path: str, data: bytes) -> list[StoredCookie]:
    """Every live cookie of a cookies.txt file, in file order; all or nothing."""
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


def _parse_line(line: str) -> StoredCookie | None:
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
    if shared != (not domain) or BAD_NAME.search(domain):
        raise ValueError(f"bad domain {fields[0]!r}")
    if not path.startswith("/") or CONTROL_CHARS.search(path):
        raise ValueError(f"path must start with '/', not {path!r}")
    if not name or BAD_NAME.search(name) or CONTROL_CHARS.search(value):
        raise ValueError(f"bad cookie name or value for {name!r}")
    morsel = make_morsel(name, decode_value(value), value)
    morsel["domain"], morsel["path"] = domain, path
    if secure.upper() == "TRUE":
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    expires = float(min(int(expiry), int(MAX_EXPIRY))) or None
    if expires is not None:
        morsel["expires"] = email.utils.formatdate(expires, usegmt=True)
    host_only = bool(domain) and subdomains.upper() == "FALSE"
    return StoredCookie(name, morsel, host_only, expires)


# --- aiohttp's JSON form ---------------------------------------------------------------

# {"DOMAIN|PATH": {NAME: {"key", "value", "coded_value", Morsel attributes...,
#   "host_only": true (3.14), "expires_timestamp": absolute epoch seconds (3.14)}}}
_FLAGS = frozenset(("secure", "httponly", "partitioned"))
_ATTRIBUTES = tuple(Morsel._reserved)  # type: ignore[attr-defined]


class SavedCookie:
    """One record of aiohttp's JSON jar: admitted by the jar as if set by ``domain``."""

    __slots__ = ("domain", "expires", "morsel", "name")

    def __init__(self, domain: str, name: str, morsel: Morsel[str], expires: float | None) -> None:
        self.domain = domain  # the "DOMAIN|" part of its key: the host that set it
        self.name = name  # its name in the jar (the Morsel's key is the name sent)
        self.morsel = morsel  # a host-only cookie has no Domain attribute
        self.expires = expires  # the saved absolute deadline, if the file has one


def parse_aiohttp_json(path: str, data: bytes) -> list[SavedCookie]:
    """The records of a JSON file aiohttp's ``CookieJar.save`` wrote; all or nothing.

    Raises ``CookieFileError`` (line None) naming the first record that is not one.
    """
    try:
        tree = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CookieFileError(path, None, "not UTF-8 text") from None
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise CookieFileError(path, line, f"not JSON: {getattr(exc, 'msg', exc)}") from None
    try:
        return list(_records(tree))
    except (TypeError, ValueError) as exc:
        error = CookieFileError(path, None, str(exc))
        raise error from exc


def _records(tree: dict[str, Any]) -> Iterator[SavedCookie]:
    for compound, cookies in tree.items():
        domain, bar, _ = compound.partition("|")
        if not bar or not isinstance(cookies, dict):
            raise ValueError(f"not an aiohttp cookie jar: entry {compound!r}")
        for name, record in cookies.items():
            yield _record(compound, domain, name, record)


def _record(compound: str, domain: str, name: str, record: Any) -> SavedCookie:
    where = f"Cookie {name!r} in {compound!r}"
    if not isinstance(record, dict):
        raise TypeError(f"{where}: not an object")
    key, value, coded = (record.get(k) for k in ("key", "value", "coded_value"))
    if not (isinstance(key, str) and isinstance(value, str) and isinstance(coded, str)):
        raise TypeError(f"{where}: key, value and coded_value must be strings")
    morsel = make_morsel(key, value, coded)
    for attribute in _ATTRIBUTES:
        value = record.get(attribute)
        if value is None or value == "":
            continue
        kinds: tuple[type, ...] = (bool,) if attribute in _FLAGS else (str,)
        if attribute in ("max-age", "expires", "version"):
            kinds = (str, int)
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            raise TypeError(f"{where}: bad {attribute} {value!r}")
        morsel[attribute] = value
    if record.get("host_only") is True:
        morsel["domain"] = ""  # admitted again as host-only for the DOMAIN part
    return SavedCookie(domain, name, morsel, _deadline(where, record.get("expires_timestamp")))


def _deadline(where: str, raw: Any) -> float | None:
    if raw is None:
        return None
    try:
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            raise TypeError(raw)
        deadline = float(raw)
        if not math.isfinite(deadline):
            raise ValueError(raw)
    except (OverflowError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: expiration timestamp must be a finite number") from exc
    return deadline
