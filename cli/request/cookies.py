"""``--cookie NAME=VALUE`` and ``--cookie-jar FILE`` (curl's cookies.txt, read and written).

Rules:
- ``--cookie`` values become one ``Cookie`` request header, so they are what the user
  typed for this run's origin: the engine drops them on a cross-origin redirect like any
  credential, and they are never written to the jar.
- The jar accepts cookies from IP hosts (``CookieJar(unsafe=True)``), as curl does: people
  test against 127.0.0.1.
- The jar file is loaded before any connection; a corrupt one is a usage error (exit 2)
  naming the line, and the file is left untouched (nothing is saved).
- It is saved at the end of the run, also when the exchange failed after cookies arrived
  (a timeout on the last hop of a redirect chain, Ctrl-C); saving is atomic (temporary file
  and rename, by the engine), so a killed run leaves the old file or the new, never half.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from cli.exitcodes import ExitCode
from cli.request.spec import UsageError

if TYPE_CHECKING:
    import client

# RFC 6265 §4.1.1: a cookie name is an RFC 2616 token; a value has no CTL, space, DQUOTE,
# comma, semicolon or backslash (it may be wrapped in one pair of DQUOTEs).
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r'[\x00-\x20\x7f",;\\]')


class JarError(Exception):
    """A cookie jar file that cannot be read or written."""

    zurl_exit_code = ExitCode.USAGE


def cookie_header(values: tuple[str, ...]) -> str | None:
    """``--cookie`` values (each ``NAME=VALUE`` or curl's ``a=1; b=2``) as a Cookie value."""
    pairs: list[str] = []
    for value in values:
        for part in filter(None, (p.strip() for p in value.split(";"))):
            name, sep, text = (piece.strip() for piece in part.partition("="))
            if not sep or not _TOKEN.match(name):
                raise UsageError(f"--cookie {value!r}: expected NAME=VALUE")
            # cookie-value = *cookie-octet / DQUOTE *cookie-octet DQUOTE (§4.1.1)
            quoted = len(text) >= 2 and text[0] == text[-1] == '"'
            if _BAD_VALUE.search(text[1:-1] if quoted else text):
                raise UsageError(
                    f"--cookie {value!r}: a cookie value cannot hold spaces, quotes, commas, "
                    "semicolons, backslashes or control characters"
                )
            pairs.append(f"{name}={text}")
    if values and not pairs:
        raise UsageError(f"--cookie {values[0]!r}: expected NAME=VALUE")
    return "; ".join(pairs) if pairs else None


def with_cookies(
    headers: tuple[tuple[str, str], ...], values: tuple[str, ...]
) -> tuple[tuple[str, str], ...]:
    """``headers`` with the ``--cookie`` values added to (or as) the Cookie header."""
    joined = cookie_header(values)
    if joined is None:
        return headers
    out = list(headers)
    for index, (name, value) in enumerate(out):
        if name.lower() == "cookie":
            out[index] = (name, f"{value}; {joined}" if value else joined)
            return tuple(out)
    out.append(("Cookie", joined))
    return tuple(out)


def check_jar_path(path: str) -> str:
    """The jar path, checked as far as possible before the run (it may not exist yet)."""
    expanded = os.path.expanduser(path)
    if os.path.isdir(expanded):
        raise UsageError(f"--cookie-jar {path!r} is a directory")
    parent = os.path.dirname(os.path.abspath(expanded))
    if not os.path.isdir(parent):
        raise UsageError(f"--cookie-jar {path!r}: no such directory {parent!r}")
    return expanded


def load_jar(path: str) -> client.CookieJar:
    """A jar with the file's cookies when it exists; ``JarError`` if it cannot be read."""
    import client

    jar = client.CookieJar(unsafe=True)
    if not os.path.exists(path):
        return jar
    try:
        jar.load(path)
    except client.CookieFileError as exc:
        raise JarError(f"--cookie-jar: {exc} (the file was left as it is)") from None
    except OSError as exc:
        raise JarError(f"--cookie-jar {path!r}: {exc.strerror or exc}") from None
    return jar


def save_jar(jar: client.CookieJar, path: str) -> None:
    """Write the jar back atomically (mode 0600), as curl's ``-c`` does."""
    try:
        jar.save(path)
    except OSError as exc:
        raise JarError(f"--cookie-jar {path!r}: cannot save: {exc.strerror or exc}") from None


@contextlib.asynccontextmanager
async def saving_jar(session: client.ClientSession, path: str | None) -> AsyncIterator[None]:
    """Save ``session``'s jar to ``path`` when the block ends, however it ends."""
    try:
        yield
    finally:
        if path is not None:
            save_jar(session.cookie_jar, path)  # type: ignore[arg-type]
