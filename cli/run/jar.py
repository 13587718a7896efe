"""``--cookie-jar FILE``: curl's cookies.txt, loaded before the run and saved after it;
and a ``--session``'s cookies, which share the run's jar and are saved with the session.

Rules:
- The jar accepts cookies from IP hosts (``CookieJar(unsafe=True)``), as curl does: people
  test against 127.0.0.1.
- The jar file is loaded before any connection; a corrupt one is a usage error (exit 2)
  naming the line, and the file is left untouched (nothing is saved).
- It is saved at the end of the run, also when the exchange failed after cookies arrived
  (a timeout on the last hop of a redirect chain, Ctrl-C); saving is atomic (temporary file
  and rename, by the engine), so a killed run leaves the old file or the new, never half.
- A session's cookies (cli/request/sessions.py) go into the same jar, each for its domain
  (a leading dot: the subdomains too) or the session's host; the session file is written
  back the same way (atomically, mode 0600), unless it is read-only.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from cli.exitcodes import ExitCode, UsageError

if TYPE_CHECKING:
    import client
    from cli.request.sessions import Cookie, Session
    from cli.run.plans import SessionPlan


class JarError(Exception):
    """A cookie jar file that cannot be read or written."""

    zurl_exit_code = ExitCode.USAGE


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


def run_jar(plan: SessionPlan) -> client.CookieJar | None:
    """The run's jar: --cookie-jar's file and a session's cookies (None: neither)."""
    if plan.cookie_jar is None and plan.session_file is None:
        return None
    import client

    jar = load_jar(plan.cookie_jar) if plan.cookie_jar else client.CookieJar(unsafe=True)
    if plan.session_file is not None:
        add_cookies(jar, plan.session_file.cookies, plan.session_file.host)
    return jar


def add_cookies(jar: client.CookieJar, cookies: tuple[Cookie, ...], host: str) -> None:
    """Session cookies into ``jar``: for their domain, else ``host``."""
    import email.utils
    from http.cookies import Morsel

    from yarl import URL

    for cookie in cookies:
        domain = str(cookie.get("domain") or host)
        morsel: Morsel[str] = Morsel()
        try:
            morsel.set(cookie["name"], cookie["value"], cookie["value"])
        except Exception:  # http.cookies.CookieError: a name it will not take
            continue
        if domain.startswith("."):
            morsel["domain"] = domain
        morsel["path"] = str(cookie.get("path") or "/")
        if cookie.get("secure"):
            morsel["secure"] = True
        expires = cookie.get("expires")
        if isinstance(expires, int | float) and not isinstance(expires, bool):
            morsel["expires"] = email.utils.formatdate(expires, usegmt=True)
        try:
            url = URL.build(scheme="https", host=domain.lstrip("."), path="/")
        except ValueError:
            continue
        jar.update_cookies([(cookie["name"], morsel)], url)


def jar_cookies(jar: client.AbstractCookieJar) -> list[Cookie]:
    """The jar's cookies in httpie's session form (host-only ones without a dot)."""
    import time

    from client.cookierules import parse_cookie_date, path_key

    host_only: frozenset[tuple[str, str, str]] = getattr(jar, "host_only_cookies", frozenset())
    out: list[Cookie] = []
    for morsel in jar:
        domain, path = str(morsel["domain"]), str(morsel["path"]) or "/"
        expires: float | None = None
        if morsel["max-age"]:
            expires = time.time() + int(morsel["max-age"])
        elif morsel["expires"]:
            expires = parse_cookie_date(str(morsel["expires"]))
        only = (domain, path_key(path), morsel.key) in host_only
        out.append(
            {
                "name": morsel.key,
                "value": morsel.coded_value,
                "domain": domain if only or not domain else f".{domain}",
                "path": path,
                "secure": bool(morsel["secure"]),
                "expires": None if expires is None else int(expires),
            }
        )
    return out


def save_session(jar: client.AbstractCookieJar, session: Session) -> None:
    """Write ``session`` back with the jar's cookies (and the Cookie items' not replaced by
    the server meanwhile); atomic, mode 0600."""
    from cli.request.sessions import document
    from client.cookiefile import write_private

    cookies = jar_cookies(jar)
    seen = {(c["name"], c["domain"].lstrip("."), c["path"]) for c in cookies}
    extra = [
        c
        for c in session.item_cookies
        if (c["name"], str(c["domain"]).lstrip("."), c["path"]) not in seen
    ]
    try:
        os.makedirs(os.path.dirname(os.path.abspath(session.path)), mode=0o700, exist_ok=True)
        write_private(session.path, document(session, [*cookies, *extra]))
    except OSError as exc:
        raise JarError(f"--session {session.path!r}: cannot save: {exc.strerror or exc}") from None


@contextlib.asynccontextmanager
async def saving_jar(session: client.ClientSession, plan: SessionPlan) -> AsyncIterator[None]:
    """Save ``session``'s jar (--cookie-jar) and the --session file when the block ends,
    however it ends."""
    try:
        yield
    finally:
        if plan.cookie_jar is not None:
            save_jar(session.cookie_jar, plan.cookie_jar)  # type: ignore[arg-type]
        if plan.session_file is not None and not plan.session_file.read_only:
            save_session(session.cookie_jar, plan.session_file)
