"""A request's arguments made canonical before the first hop: URL, credentials, TLS, body.

Pure functions of their arguments (the session passes its defaults in); nothing here
touches a socket. Rules, as aiohttp applies them:
- A relative URL joins the session's ``base_url``; only http(s) and ws(s) URLs with a host
  are sent (``InvalidUrlClientError`` / ``NonHttpUrlClientError`` otherwise).
- A request's own credentials come from ``auth=`` or the URL's userinfo, never both
  (``ValueError``).
- ``verify_ssl=False``, ``fingerprint=`` and ``ssl_context=`` (aiohttp's deprecated
  spellings) fold into the one ``ssl`` value.
"""

from __future__ import annotations

from ssl import SSLContext
from typing import TYPE_CHECKING, Any

from yarl import URL

from .config import UNSET, BasicAuth, ClientTimeout, Fingerprint
from .exceptions import InvalidUrlClientError, NonHttpUrlClientError
from .pins import Pins

if TYPE_CHECKING:
    from collections.abc import Callable

    from .payload import Payload

__all__ = [
    "HTTP_SCHEMES",
    "WS_SCHEMES",
    "build_url",
    "check_url",
    "choose_auth",
    "choose_ssl",
    "make_body",
    "request_timeout",
]

HTTP_SCHEMES = frozenset({"http", "https"})
_SSL_TYPES = (SSLContext, Fingerprint, Pins)
WS_SCHEMES = frozenset({"ws", "wss"})
# Parsed request URLs kept per session (a client repeats its URLs); cleared when full.
_URL_CACHE_SIZE = 256


def build_url(cache: dict[str, URL], base_url: URL | None, str_or_url: str | URL) -> URL:
    """The absolute, checked URL for ``str_or_url``; parsed strings are kept in ``cache``."""
    cached = cache.get(str_or_url) if isinstance(str_or_url, str) else None
    if cached is not None:
        return cached
    try:
        url = str_or_url if isinstance(str_or_url, URL) else URL(str_or_url)
    except (ValueError, TypeError) as exc:
        raise InvalidUrlClientError(str_or_url, str(exc)) from exc
    if base_url is not None and not url.is_absolute():
        url = base_url.join(url)
    check_url(url, str_or_url)
    if isinstance(str_or_url, str):
        if len(cache) >= _URL_CACHE_SIZE:
            cache.clear()
        cache[str_or_url] = url
    return url


def check_url(url: URL, original: Any) -> None:
    """Refuse a URL that cannot be sent: no scheme, another scheme, or no host."""
    if url.scheme not in HTTP_SCHEMES and url.scheme not in WS_SCHEMES:
        if not url.scheme:
            raise InvalidUrlClientError(original, "URL has no scheme")
        raise NonHttpUrlClientError(original, f"unsupported scheme {url.scheme!r}")
    if not url.raw_host:
        raise InvalidUrlClientError(original, "URL has no host")


def choose_auth(url: URL, auth: BasicAuth | None) -> tuple[URL, BasicAuth | None]:
    """The URL without userinfo and the request's own credentials (``auth=`` or the URL's).

    The session's ``auth`` and netrc are applied per hop by the redirect loop.
    """
    if url.raw_user is not None or url.raw_password is not None:
        url_auth = BasicAuth.from_url(url)
        if url_auth is not None:
            if auth is not None:
                raise ValueError("Cannot combine AUTH argument with credentials encoded in URL")
            url, auth = url.with_user(None), url_auth
    return url, auth


def choose_ssl(ssl: Any, verify_ssl: bool | None, fingerprint: bytes | None, context: Any) -> Any:
    """One ``ssl`` value from aiohttp's current and deprecated TLS arguments."""
    if verify_ssl is False:
        ssl = False
    if fingerprint is not None:
        ssl = Fingerprint(fingerprint)
    if context is not None:
        ssl = context
    if ssl is True or ssl is None:
        return True
    if ssl is not False and not isinstance(ssl, _SSL_TYPES):
        raise TypeError(
            f"ssl should be SSLContext, Fingerprint, Pins or bool, got {ssl!r} instead."
        )
    return ssl


def request_timeout(timeout: ClientTimeout | object, default: ClientTimeout) -> ClientTimeout:
    """The request's ``ClientTimeout``: the session's unless given (a number means total)."""
    if timeout is UNSET or timeout is None:
        return default
    if isinstance(timeout, int | float):
        return ClientTimeout(total=timeout)  # aiohttp 3.x still accepts a number
    assert isinstance(timeout, ClientTimeout)
    return timeout


def make_body(data: Any, json: Any, dumps: Callable[[Any], str | bytes]) -> Payload | None:
    """The request body for ``data=`` or ``json=`` (never both)."""
    if data is not None and json is not None:
        raise ValueError("data and json parameters can not be used at the same time")
    if json is None and data is None:
        return None
    from .formdata import payload_from_data
    from .payload import JsonPayload

    if json is not None:
        return JsonPayload(json, dumps=dumps)
    return payload_from_data(data)
