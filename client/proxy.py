"""HTTP proxies: which proxy each hop uses and why, and the CONNECT tunnel through one.

Rules / theory of operation:
- The choice is made per hop — every request and every redirect hop — by
  ``ProxySettings.decide(url)``, one pure function of the hop's URL, the request's proxy
  arguments and (with ``trust_env``) the environment at that moment:
  1. ``no_proxy=`` lists the host: direct, whatever ``proxy=`` or the environment say
     (curl's ``--noproxy``). Its syntax is NO_PROXY's (``environ.no_proxy_match``).
  2. ``proxy=`` (the request's, else the session's): that proxy. As in aiohttp, the
     environment is not read for an explicit proxy, NO_PROXY included.
  3. ``trust_env=True``: the proxy named for the URL's scheme (HTTP_PROXY, HTTPS_PROXY, and
     WS_PROXY / WSS_PROXY for ``ws_connect``'s ws:// / wss://; urllib's precedence), unless
     NO_PROXY lists the host — or ``no_proxy=``, which replaces NO_PROXY when given.
  4. Otherwise direct.
- Credentials: ``proxy_auth=`` wins, then the proxy URL's userinfo, then (for a proxy from
  the environment) netrc. They go to the proxy only, never into a ``ProxyDecision``.
- ``http://`` targets go to the proxy in absolute form with ``Proxy-Authorization`` in the
  request head (RFC 9112 §3.2.2); ``https://`` (and ``wss://``) targets get a CONNECT
  tunnel (RFC 9110 §9.3.6) and then TLS to the target inside it.
- A CONNECT carries only what is meant for the proxy: its credentials and the caller's
  ``proxy_headers`` — never the target's ``Authorization`` or cookies. Inside the tunnel the
  target gets neither ``Proxy-Authorization`` nor ``proxy_headers``.
- An ``https://`` proxy's TLS is its own, set by ``proxy_ssl``: ``True`` (default trust, the
  default), ``False`` (not verified) or an ``ssl.SSLContext`` (its CA, a client certificate
  for the proxy). The target's ``ssl=`` — ``False``, ``Fingerprint``, ``Pins``, a context
  with a client certificate — never applies to the proxy. A failing proxy handshake raises
  ``ClientProxyCertificateError`` / ``ClientProxySSLError`` naming the proxy.
- A non-2xx answer to CONNECT is ``ClientHttpProxyError`` with the proxy's status.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .config import BasicAuth, RequestInfo
from .exceptions import ClientHttpProxyError, InvalidURL, SocketTimeoutError
from .http1 import serialize_request_head

if TYPE_CHECKING:
    from .config import ClientTimeout
    from .connection import ResponseProtocol

__all__ = ["DIRECT", "ProxyDecision", "ProxySettings", "open_tunnel", "parse_no_proxy"]

PROXY_SCHEMES = frozenset({"http", "https"})
_WS_ENV_SCHEMES = {"http": "ws", "https": "wss"}
# What a proxy_ssl= value may be: the proxy's own TLS settings.
ProxySSL = bool | ssl.SSLContext


@dataclasses.dataclass(frozen=True, slots=True)
class ProxyDecision:
    """Which proxy one hop used and why; holds no credentials, so it is safe to print.

    ``proxy``: the proxy URL (no userinfo), or None when the hop went direct.
    ``source``: where the proxy setting came from, also when it was bypassed: ``"proxy="``
    (the argument) or the environment variable as spelled (``"HTTPS_PROXY"``); None when no
    proxy applied to the hop at all. ``no_proxy``: the no-proxy entry that sent the hop
    direct (``"*"``, ``"internal.test"``, ``"10.0.0.0/8"``), from ``no_proxy_source``:
    ``"no_proxy="`` (the argument) or the variable as spelled (``"NO_PROXY"``).
    ``authenticated``: credentials were sent to the proxy. ``tunnel``: a CONNECT tunnel
    (https:// and wss:// targets) rather than an absolute-form request.
    """

    proxy: URL | None = None
    source: str | None = None
    no_proxy: str | None = None
    no_proxy_source: str | None = None
    authenticated: bool = False
    tunnel: bool = False

    def __str__(self) -> str:
        if self.proxy is not None:
            how = "CONNECT tunnel" if self.tunnel else "absolute-form"
            auth = ", with credentials" if self.authenticated else ""
            return f"via {self.proxy} ({how}, from {self.source}{auth})"
        if self.no_proxy is not None:
            return (
                f"direct: {self.no_proxy_source} lists {self.no_proxy} (proxy from {self.source})"
            )
        return "direct"


DIRECT = ProxyDecision()


def parse_no_proxy(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``no_proxy=`` as entries: a NO_PROXY string (commas or blanks) or an iterable."""
    if value is None:
        return None
    if isinstance(value, str):
        return tuple(value.replace(",", " ").split())
    entries: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise TypeError(f"no_proxy entries are str, not {type(item).__name__}")
        entries.extend(item.replace(",", " ").split())
    return tuple(entries)


def check_proxy_ssl(value: Any) -> ProxySSL:
    if value is None:
        return True
    if not isinstance(value, bool | ssl.SSLContext):
        raise TypeError(
            f"proxy_ssl is True, False or an ssl.SSLContext, not {type(value).__name__}"
        )
    return value


def _explicit_proxy(
    proxy: URL | str, proxy_auth: BasicAuth | None
) -> tuple[URL, BasicAuth | None]:
    """The proxy URL without userinfo (checked) and the credentials it should get."""
    try:
        url = proxy if isinstance(proxy, URL) else URL(proxy)
    except ValueError as exc:  # "http://[invalid": refused before any hop
        raise InvalidURL(proxy, str(exc)) from exc  # (a proxy=42 stays aiohttp's TypeError)
    if url.scheme not in PROXY_SCHEMES or not url.raw_host:
        raise InvalidURL(url, "only http:// and https:// proxies are supported")
    url_auth = BasicAuth.from_url(url)
    if url_auth is not None:
        url = url.with_user(None)
        proxy_auth = proxy_auth or url_auth
    return url, proxy_auth


@dataclasses.dataclass(frozen=True, slots=True)
class ProxySettings:
    """A request's proxy arguments, made once; ``decide`` applies them to each hop."""

    proxy: URL | None = None
    proxy_auth: BasicAuth | None = None
    proxy_headers: CIMultiDict[str] | None = None
    no_proxy: tuple[str, ...] | None = None
    trust_env: bool = False
    proxy_ssl: ProxySSL = True
    websocket: bool = False  # ws_connect: the environment is read for ws:// / wss://

    @classmethod
    def make(
        cls,
        proxy: URL | str | None,
        proxy_auth: BasicAuth | None,
        proxy_headers: Any,
        no_proxy: str | Iterable[str] | None,
        trust_env: bool,
        proxy_ssl: Any,
    ) -> ProxySettings | None:
        """The settings, or None when no proxy can apply (every hop goes direct)."""
        if proxy is None and not trust_env:
            return None
        if proxy is not None:
            proxy, proxy_auth = _explicit_proxy(proxy, proxy_auth)
        return cls(
            proxy,
            proxy_auth,
            CIMultiDict(proxy_headers) if proxy_headers else None,
            parse_no_proxy(no_proxy),
            trust_env,
            check_proxy_ssl(proxy_ssl),
        )

    def decide(self, url: URL) -> tuple[ProxyDecision, BasicAuth | None]:
        """The proxy for one hop to ``url``, and the credentials to send it."""
        from .environ import env_no_proxy, env_proxy, no_proxy_match

        tunnel = url.scheme in ("https", "wss")
        if self.proxy is not None:
            entry = no_proxy_match(url, self.no_proxy) if self.no_proxy else None
            if entry is not None:
                return ProxyDecision(None, "proxy=", entry, "no_proxy="), None
            auth = self.proxy_auth
            return ProxyDecision(self.proxy, "proxy=", None, None, auth is not None, tunnel), auth
        if not self.trust_env:
            return DIRECT, None
        scheme = url.scheme
        if self.websocket:
            scheme = _WS_ENV_SCHEMES.get(scheme, scheme)
        found = env_proxy(scheme)
        if found is None:
            return DIRECT, None
        info, variable = found
        if self.no_proxy is not None:
            entry, listed_by = no_proxy_match(url, self.no_proxy), "no_proxy="
        else:
            named = env_no_proxy()
            entry = no_proxy_match(url, named[1]) if named is not None else None
            listed_by = named[0] if named is not None else ""
        if entry is not None:
            return ProxyDecision(None, variable, entry, listed_by), None
        auth = self.proxy_auth or info.proxy_auth
        return ProxyDecision(info.proxy, variable, None, None, auth is not None, tunnel), auth


def connect_headers(
    host: str, port: int, proxy_auth: BasicAuth | None, extra: CIMultiDict[str] | None
) -> CIMultiDict[str]:
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    headers: CIMultiDict[str] = CIMultiDict(Host=authority)
    if extra:
        headers.extend(extra)
    if proxy_auth is not None:
        headers["Proxy-Authorization"] = proxy_auth.encode()
    return headers


async def open_tunnel(protocol: ResponseProtocol, req: Any, timeout: ClientTimeout) -> None:
    """Ask the proxy on ``protocol`` for a tunnel to the request's host (CONNECT)."""
    headers = connect_headers(req.host, req.port, req.proxy_auth, req.proxy_headers)
    target = headers["Host"]
    head_fut = protocol.begin("CONNECT")
    protocol.write(serialize_request_head("CONNECT", target, headers.items()))
    try:
        async with asyncio.timeout(timeout.sock_read or None):
            head, _stream = await head_fut
    except TimeoutError as exc:
        protocol.abort()
        raise SocketTimeoutError(f"Proxy did not answer CONNECT {target}") from exc
    if not 200 <= head.status < 300:
        protocol.abort()
        info = RequestInfo(
            URL.build(scheme="https", host=req.host, port=req.port),
            "CONNECT",
            CIMultiDictProxy(headers),
            req.proxy,
        )
        raise ClientHttpProxyError(
            info, (), status=head.status, message=head.reason, headers=head.headers
        )
