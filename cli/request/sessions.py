"""``--session NAME_OR_PATH`` and ``--session-read-only``: headers, credentials and cookies
kept per host between runs, in httpie 3.2's session file layout.

Rules (httpie's, unless said):
- A NAME (letters, digits, ``_ . -``) is ``sessions/HOST_PORT/NAME.json`` in zurl's config
  folder (``cli.env.config_dir``), HOST_PORT from the first URL (``localhost_8000``); a
  word with a path separator is the file itself. A named session zurl does not have yet is
  read from httpie's folder when httpie has it (moving over), then kept in zurl's.
- Read: ``headers`` (a list of ``{"name", "value"}``, or httpie 2's object), ``auth``
  (``{"type", "raw_auth"}``, or the older ``username``/``password``) and ``cookies`` (a
  list of ``{"name", "value", "domain", "path", "secure", "expires"}``, or httpie 2's
  object by name). Other keys are kept as they are.
- Applied: the session's headers are defaults the request items override; its credentials
  are used when the command line gives none (and no ``Authorization`` item); its cookies
  go into the run's cookie jar (cli/run/jar.py), for their domain, or the session's host
  when they name none.
- Saved after the run (not with ``--session-read-only``, which never writes): the
  session's headers updated by the items', except the per-request ones (``Content-*``,
  ``If-*``, ``Transfer-Encoding``, zurl's own ``User-Agent`` and ``Accept``); a ``Cookie``
  item's cookies go to the cookies; the command line's credentials replace the session's;
  the cookies are the jar's at the end. Atomically, mode 0600 (the file holds secrets).
- A session file that is not JSON or not a session is a usage error naming it; nothing is
  written over it.
"""

from __future__ import annotations

import os
import re
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from cli import __version__
from cli.env import config_dir
from cli.exitcodes import UsageError
from cli.request.spec import JSON_ACCEPT, USER_AGENT, RequestSpec

Headers = tuple[tuple[str, str], ...]
Cookie = dict[str, Any]  # httpie's: name, value, domain, path, secure, expires

_NAME = re.compile(r"^[a-zA-Z0-9_.-]+$")
_PER_REQUEST_PREFIXES = ("content-", "if-")
_PER_REQUEST = frozenset({"transfer-encoding", "cookie", "host"})


class Session(NamedTuple):
    """A session as read, and what the run will write back."""

    path: str
    host: str  # the host cookies without a domain belong to (no port)
    read_only: bool = False
    headers: Headers = ()
    auth: tuple[str, str] | None = None
    auth_type: str = "basic"
    cookies: tuple[Cookie, ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()  # other keys of the file, kept as they are
    # Cookies of a Cookie item: sent as typed this time, kept for the next runs.
    item_cookies: tuple[Cookie, ...] = ()
    note: str = ""  # a line to show (read from httpie's folder)


def session_path(name: str, url: str, folder: str | None = None) -> str:
    """Where session ``name`` for ``url`` lives (a path is itself)."""
    if os.sep in name or (os.altsep and os.altsep in name):
        return os.path.expanduser(name)
    if not _NAME.match(name):
        raise UsageError(
            f"--session {name!r}: a name is letters, digits, '_', '.' and '-' "
            "(or give a path, with a '/')"
        )
    netloc = urlsplit(url).netloc.rpartition("@")[2]
    return os.path.join(
        folder or config_dir(), "sessions", netloc.replace(":", "_"), f"{name}.json"
    )


def httpie_folder() -> str:
    """httpie's config folder ($HTTPIE_CONFIG_DIR, ~/.httpie, or the XDG one)."""
    explicit = os.environ.get("HTTPIE_CONFIG_DIR")
    if explicit:
        return explicit
    legacy = os.path.expanduser("~/.httpie")
    if os.path.isdir(legacy):
        return legacy
    if os.name == "nt":
        return os.path.join(os.path.expandvars("%APPDATA%"), "httpie")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return os.path.join(xdg, "httpie")


def load(name: str, url: str, *, read_only: bool = False) -> Session:
    """The session ``name`` (or at a path) for ``url``; an empty one when it does not exist."""
    path = session_path(name, url)
    host = urlsplit(url).hostname or "localhost"
    source, note = path, ""
    if not os.path.exists(path) and os.sep not in name:
        theirs = session_path(name, url, httpie_folder())
        if os.path.isfile(theirs):
            source = theirs
            note = f"note: session {name!r} read from httpie's {theirs}"
            note += "" if read_only else f"; zurl keeps it in {path}"
    data = _read(source)
    if data is None:
        return Session(path, host, read_only)
    known = {"headers", "cookies", "auth", "__meta__"}
    auth, auth_type = _auth(data.get("auth"), source)
    return Session(
        path=path,
        host=host,
        read_only=read_only,
        headers=_headers(data.get("headers"), source),
        auth=auth,
        auth_type=auth_type,
        cookies=_cookies(data.get("cookies"), source),
        extra=tuple((k, v) for k, v in data.items() if k not in known),
        note=note,
    )


def _read(path: str) -> dict[str, Any] | None:
    try:
        with open(path, "rb") as stream:
            raw = stream.read()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise UsageError(f"--session {path}: {exc.strerror or exc}") from None
    import json

    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"--session {path}: not a session file (not JSON: {exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"--session {path}: not a session file (not a JSON object)")
    return data


def _bad(path: str, what: str) -> UsageError:
    return UsageError(f"--session {path}: not a session file ({what})")


def _headers(value: Any, path: str) -> Headers:
    if not value:
        return ()
    if isinstance(value, dict):  # httpie 2 and 3.0/3.1: name -> value
        pairs = list(value.items())
    elif isinstance(value, list) and all(isinstance(h, dict) for h in value):
        pairs = [(h.get("name"), h.get("value")) for h in value]
    else:
        raise _bad(path, "headers")
    if not all(isinstance(n, str) and isinstance(v, str) for n, v in pairs):
        raise _bad(path, "headers")
    return tuple((n, v) for n, v in pairs if not any(c in n + v for c in "\r\n\0"))


def _auth(value: Any, path: str) -> tuple[tuple[str, str] | None, str]:
    if not value or not isinstance(value, dict) or not value.get("type"):
        return None, "basic"
    kind = str(value["type"]).lower()
    if kind not in ("basic", "digest", "bearer"):
        raise _bad(path, f"auth type {value['type']!r}; zurl has basic, digest and bearer")
    raw = value.get("raw_auth")
    if isinstance(raw, str):  # httpie 3: "user:pass", or the token
        if kind == "bearer":
            return (raw, ""), kind
        login, _, secret = raw.partition(":")
        return (login, secret), kind
    user, password = value.get("username"), value.get("password")
    if not isinstance(user, str):
        return None, "basic"
    return (user, password if isinstance(password, str) else ""), kind


def _cookies(value: Any, path: str) -> tuple[Cookie, ...]:
    if not value:
        return ()
    if isinstance(value, dict):  # httpie before 3.1: name -> attributes
        value = [{"name": k, **v} for k, v in value.items() if isinstance(v, dict)]
    if not isinstance(value, list) or not all(isinstance(c, dict) for c in value):
        raise _bad(path, "cookies")
    out = []
    for cookie in value:
        if not isinstance(cookie.get("name"), str) or not isinstance(cookie.get("value"), str):
            raise _bad(path, "a cookie without a name or value")
        out.append(cookie)
    return tuple(out)


def apply(spec: RequestSpec, session: Session) -> tuple[RequestSpec, Session]:
    """``spec`` with the session's credentials when the command line gave none; the
    session as the run will save it (headers, credentials and a Cookie item's cookies)."""
    auth, auth_type = session.auth, session.auth_type
    if spec.auth is not None:
        auth, auth_type = spec.auth, spec.auth_type
    elif auth is not None and not any(n.lower() == "authorization" for n, _ in spec.headers):
        spec = spec._replace(auth=auth, auth_type=auth_type)
    defaults = (("User-Agent", USER_AGENT), ("Accept", "*/*"), ("Accept", JSON_ACCEPT))
    saved = session._replace(
        headers=kept_headers(session, spec.headers, defaults),
        auth=auth,
        auth_type=auth_type,
        item_cookies=cookie_items(spec.headers, session.host),
    )
    return spec, saved


def kept_headers(session: Session, request: Headers, defaults: Headers) -> Headers:
    """The session's headers after a request that sent ``request`` (items and the
    session's), without the per-request ones and zurl's own ``defaults``."""

    def kept(name: str, value: str) -> bool:
        lowered = name.lower()
        return not (
            lowered.startswith(_PER_REQUEST_PREFIXES)
            or lowered in _PER_REQUEST
            or (name, value) in defaults
        )

    new = [(n, v) for n, v in request if kept(n, v)]
    names = {n.lower() for n, _ in new}
    # Headers the request did not send (a "Name:" item dropped them this time) stay.
    return (*new, *((n, v) for n, v in session.headers if n.lower() not in names))


def cookie_items(headers: Headers, host: str) -> tuple[Cookie, ...]:
    """The cookies of ``Cookie`` items, as session cookies for ``host`` (httpie keeps them
    in the session too)."""
    cookies: list[Cookie] = []
    for name, value in headers:
        if name.lower() != "cookie":
            continue
        for pair in value.split(";"):
            key, eq, val = pair.strip().partition("=")
            if eq and key:
                cookies.append(
                    {"name": key.strip(), "value": val.strip(), "domain": host, "path": "/"}
                )
    return tuple(cookies)


def document(session: Session, cookies: list[Cookie]) -> str:
    """The session file's text, in httpie 3.2's layout (cli/run/jar.py writes it)."""
    import json

    auth, auth_type = session.auth, session.auth_type
    if auth is None:
        auth_object: dict[str, Any] = {"type": None, "username": None, "password": None}
    else:
        raw = auth[0] if auth_type == "bearer" else f"{auth[0]}:{auth[1]}"
        auth_object = {"type": auth_type, "raw_auth": raw}
    content: dict[str, Any] = {
        "__meta__": {"about": "zurl session file (httpie 3.2's layout)", "zurl": __version__},
        **dict(session.extra),
        "auth": auth_object,
        "cookies": cookies,
        "headers": [{"name": n, "value": v} for n, v in session.headers],
    }
    return json.dumps(content, indent=4, ensure_ascii=False) + "\n"
