"""One frozen description of what to send, built from options and request items.

Rules:
- Everything the user typed is checked here; a mistake is a ``UsageError`` (exit 2)
  before any connection is made. Header values (typed or read from a file) hold no CR,
  LF or NUL; leading and trailing whitespace is dropped, as httpie does.
- Files named by items and standard input are read here, so the spec holds final bytes;
  which body is sent is cli/request/content.py's rule.
- Credentials come from ``-a``, else from the URL's ``user:password@`` (percent-decoded);
  the URL never carries them further, and they replace an ``Authorization`` item, as
  httpie's do. Basic credentials are UTF-8.
- ``Content-Length`` is the body's: a user one is replaced by the real length, and on a
  request without a body anything but ``0`` is refused (it would leave the server waiting
  for bytes, or read the next request as this one's body).
"""

from collections.abc import Callable
from typing import NamedTuple

from cli import __version__
from cli.exitcodes import UsageError
from cli.request.content import Content, Mode, content, read_file, read_text
from cli.request.items import HEADER_KINDS, Item, ItemError, Kind, parse_items
from cli.request.urls import normalize_url, split_args, split_userinfo, with_query

USER_AGENT = f"zurl/{__version__}"
JSON_ACCEPT = "application/json, */*;q=0.5"
STDIN_NOTE = (
    "note: standard input was not read: it is the body only with @-, or with an explicit "
    "POST, PUT or PATCH and no body items (--ignore-stdin silences this)"
)
_BAD_VALUE = frozenset("\r\n\x00")


class RequestSpec(NamedTuple):
    """What to send: one request. How to connect is the run's session plan
    (cli/run/plans.py); what to show and where to write are other plans."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    skip_auto_headers: tuple[str, ...] = ()
    body: bytes | None = None
    auth: tuple[str, str] | None = None
    auth_type: str = "basic"  # --auth-type: basic, digest or bearer (auth[0] is the token)
    # --chunked: Transfer-Encoding: chunked instead of Content-Length.
    chunked: bool = False
    # --follow, --max-redirects: redirects are followed only when asked (as httpie does).
    follow: bool = False
    max_redirects: int = 30
    # Data was piped in and left unread (the command layer may say so: STDIN_NOTE).
    stdin_unread: bool = False
    # ``auth`` came from this URL's user:password@ (so it is this URL's alone).
    auth_from_url: bool = False


class Inputs(NamedTuple):
    """The request's part of the command line, as the command layer collected it."""

    args: tuple[str, ...]
    form: bool = False
    multipart: bool = False
    json: bool = False
    auth: tuple[str, str] | None = None
    auth_type: str = "basic"
    ignore_stdin: bool = False
    stdin_has_data: bool = False
    read_stdin: Callable[[], bytes] = lambda: b""
    raw: str | None = None  # --raw TEXT: the body verbatim
    boundary: str | None = None  # --boundary: the multipart boundary
    # A --session's headers: defaults that the items override (httpie's base headers).
    base_headers: tuple[tuple[str, str], ...] = ()


def build_spec(inputs: Inputs) -> RequestSpec:
    """Check and combine the command line into a ``RequestSpec``."""
    method, url, words = split_args(inputs.args)
    try:
        items = parse_items(words)
    except ItemError as exc:
        raise UsageError(str(exc)) from None
    # Checked with its credentials (a usage error quotes the URL as typed, masked by the
    # output layer), then sent without them.
    full_url, url_auth = url_credentials(with_query(normalize_url(url), _params(items)))
    mode = Mode(
        form=inputs.form,
        multipart=inputs.multipart,
        json=inputs.json,
        raw=inputs.raw,
        boundary=inputs.boundary,
        ignore_stdin=inputs.ignore_stdin,
        stdin_has_data=inputs.stdin_has_data,
        read_stdin=inputs.read_stdin,
        user_type=_last_header(items, "content-type"),
    )
    body = content(items, mode, method)
    if method is None:
        method = "POST" if body.body is not None else "GET"
    auth = inputs.auth if inputs.auth is not None else url_auth
    defaults = _defaults(body, inputs.base_headers)
    headers, skip = _headers(items, defaults, drop_authorization=auth is not None)
    if body.completes_user_type:  # the user's multipart type, with the body's boundary
        headers = tuple(
            (k, body.content_type if k.lower() == "content-type" else v) for k, v in headers
        )
    if body.body is not None and not any(k.lower() == "content-type" for k, _ in headers):
        skip = (*skip, "Content-Type")  # no type is no type: the engine adds none either
    return RequestSpec(
        method=method,
        url=full_url,
        headers=_content_length(headers, body.body),
        skip_auto_headers=skip,
        body=body.body,
        auth=auth,
        auth_type=inputs.auth_type if inputs.auth is not None else "basic",
        stdin_unread=body.stdin_unread,
        auth_from_url=inputs.auth is None and url_auth is not None,
    )


def url_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """``url`` without its ``user:password@``, and those credentials (percent-decoded)."""
    try:
        return split_userinfo(url)
    except UnicodeDecodeError:
        raise UsageError("the URL's user:password@ is not UTF-8 once percent-decoded") from None


def _defaults(body: Content, base: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
    defaults = [("User-Agent", USER_AGENT), ("Accept", JSON_ACCEPT if body.json else "*/*")]
    if base:  # a session's headers replace the defaults they name, in place
        named = {name.lower(): value for name, value in base}
        defaults = [(k, named.pop(k.lower(), v)) for k, v in defaults]
        defaults += [(k, v) for k, v in base if k.lower() in named]
    if body.content_type:
        defaults.append(("Content-Type", body.content_type))
    return defaults


def _last_header(items: list[Item], name: str) -> str | None:
    found = None
    for item in items:
        if item.kind in HEADER_KINDS and item.key.lower() == name:
            found = _header_value(item) if item.kind is not Kind.HEADER_UNSET else None
    return found


def _params(items: list[Item]) -> list[tuple[str, str]]:
    params = []
    for item in items:
        if item.kind is Kind.QUERY:
            params.append((item.key, item.value))
        elif item.kind is Kind.QUERY_FILE:
            params.append((item.key, read_text(item.value, item.word).rstrip("\r\n")))
    return params


def _header_value(item: Item) -> str:
    """An item's header value, checked: no line breaks or NUL, no outer whitespace."""
    value = item.value
    if item.kind is Kind.HEADER_FILE:
        value = read_text(item.value, item.word).rstrip("\r\n")
    elif item.kind is not Kind.HEADER:
        return ""
    if not _BAD_VALUE.isdisjoint(value):
        raise UsageError(f"{item.word!r}: a header value cannot hold CR, LF or NUL")
    return value.strip()


def _headers(
    items: list[Item], defaults: list[tuple[str, str]], *, drop_authorization: bool = False
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Defaults the user did not mention, then the user's headers in order."""
    mentioned = {item.key.lower() for item in items if item.kind in HEADER_KINDS}
    headers = [(k, v) for k, v in defaults if k.lower() not in mentioned]
    skip: list[str] = []
    for item in items:
        if item.kind not in HEADER_KINDS:
            continue
        if drop_authorization and item.key.lower() == "authorization":
            continue  # -a (or the URL's credentials) win, as with httpie
        if item.kind is Kind.HEADER_UNSET:
            headers = [(k, v) for k, v in headers if k.lower() != item.key.lower()]
            skip.append(item.key)
        else:
            headers.append((item.key, _header_value(item)))
    return tuple(headers), tuple(skip)


def _content_length(
    headers: tuple[tuple[str, str], ...], body: bytes | None
) -> tuple[tuple[str, str], ...]:
    """The headers with a user Content-Length checked against the body (see the rules)."""
    given = [v for k, v in headers if k.lower() == "content-length"]
    if not given:
        return headers
    if body is None:
        wrong = [v for v in given if v != "0"]
        if wrong:
            raise UsageError(
                f"Content-Length: {wrong[0]} on a request without a body "
                "(the server would wait for bytes that never come)"
            )
        return headers
    return tuple((k, v) for k, v in headers if k.lower() != "content-length")


__all__ = [
    "JSON_ACCEPT",
    "STDIN_NOTE",
    "USER_AGENT",
    "Inputs",
    "RequestSpec",
    "build_spec",
    "read_file",
    "url_credentials",
]
