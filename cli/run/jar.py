"""``--cookie-jar FILE``: curl's cookies.txt, loaded before the run and saved after it.

Rules:
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
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from cli.exitcodes import ExitCode, UsageError

if TYPE_CHECKING:
    import client


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


@contextlib.asynccontextmanager
async def saving_jar(session: client.ClientSession, path: str | None) -> AsyncIterator[None]:
    """Save ``session``'s jar to ``path`` when the block ends, however it ends."""
    try:
        yield
    finally:
        if path is not None:
            save_jar(session.cookie_jar, path)  # type: ignore[arg-type]
