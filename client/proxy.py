"""HTTP proxies: which proxy a request uses, and the CONNECT tunnel through one.

Rules:
- ``http://`` targets go to the proxy in absolute form with ``Proxy-Authorization`` in the
  request head (RFC 9112 §3.2.2); ``https://`` (and ``wss://``) targets get a CONNECT
  tunnel (RFC 9110 §9.3.6) and then TLS to the target inside it.
- A CONNECT carries only what is meant for the proxy: its credentials and the caller's
  ``proxy_headers`` — never the target's ``Authorization`` or cookies.
- A non-2xx answer to CONNECT is ``ClientHttpProxyError`` with the proxy's status.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .config import BasicAuth, RequestInfo
from .exceptions import ClientHttpProxyError, InvalidURL, SocketTimeoutError
from .http1 import serialize_request_head

if TYPE_CHECKING:
    from .config import ClientTimeout
    from .connection import ResponseProtocol

__all__ = ["open_tunnel", "resolve_proxy"]

PROXY_SCHEMES = frozenset({"http", "https"})


def resolve_proxy(
    url: URL,
    proxy: URL | None,
    proxy_auth: BasicAuth | None,
    trust_env: bool,
) -> tuple[URL | None, BasicAuth | None]:
    """The proxy for ``url`` (explicit, else from the environment) and its credentials."""
    if proxy is None and trust_env:
        from .environ import get_env_proxy_for_url

        try:
            info = get_env_proxy_for_url(url)
        except LookupError:
            return None, None
        proxy, proxy_auth = info.proxy, proxy_auth or info.proxy_auth
    if proxy is None:
        return None, None
    if proxy.scheme not in PROXY_SCHEMES or not proxy.raw_host:
        raise InvalidURL(proxy, "only http:// and https:// proxies are supported")
    url_auth = BasicAuth.from_url(proxy)
    if url_auth is not None:
        proxy = proxy.with_user(None)
        proxy_auth = proxy_auth or url_auth
    return proxy, proxy_auth


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
