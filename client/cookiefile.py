"""curl's cookies.txt (the Netscape format) for ``CookieJar.save``/``load``.

One cookie per line, 7 TAB-separated fields: domain (a leading dot for domain cookies, a
``#HttpOnly_`` prefix for HttpOnly ones), subdomains TRUE/FALSE, path, secure TRUE/FALSE,
expiry (epoch seconds, 0 for a session cookie), name, value. Other ``#`` lines are
comments; shared cookies use a ``#Shared_`` prefix, which curl skips and zurl reads back.
Files are written atomically (temporary file, fsync, rename), readable by their owner only.
"""

from __future__ import annotations

import contextlib
import email.utils
import os
import tempfile
import time

from .cookierules import (
    BAD_NAME,
    CONTROL_CHARS,
    MAX_EXPIRY,
    StoredCookie,
    decode_value,
    make_morsel,
)
from .exceptions import CookieFileError

__all__ = ["HEADER", "netscape_line", "parse_cookies_txt", "write_private"]

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


def parse_cookies_txt(path: str) -> list[StoredCookie]:
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
    return StoredCookie(morsel, host_only, expires, 0)
