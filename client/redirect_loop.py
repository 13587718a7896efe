"""A request's walk along its redirect chain: one ``ClientRequest`` per hop until a final answer.

Rules:
- Each hop is built from the request's canonical arguments (``request_args``) and the
  session's state, sent on one pooled connection (``hop.send_hop``), through the
  middlewares when there are any. What changes between hops (method, body, headers,
  credentials) is decided by ``redirects.next_hop``; this module only applies it.
- Cookies a response sets are stored before the next hop is built, so the next hop sends
  them. Per-request ``cookies=`` are sent to the request's origin only: a hop to another
  origin drops them for the rest of the chain.
  ``raise_for_status`` acts on the final response only.
- ``max_redirects`` counts redirect responses as aiohttp does: the one that reaches it
  ends the chain with ``TooManyRedirects`` (so ``max_redirects - 1`` are followed; 0 means
  no limit), carrying the first request's ``request_info`` and every redirect seen.
- Credentials per hop: the request's own (``auth=`` / URL userinfo, kept only on the same
  origin, replaced by userinfo in a Location), else the session's ``auth`` (to every
  origin, or to ``base_url``'s origin only), else netrc for that host (``netrc=``, by
  default ``trust_env``).
- With no trace configs nothing here builds a trace object; with no middlewares no
  handler chain is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .client_request import ClientRequest
from .config import BasicAuth
from .exceptions import TooManyRedirects
from .headers import cookie_header, hop_headers
from .hop import HopSettings, send_hop
from .proxy import DIRECT
from .response import ClientResponse, discard

if TYPE_CHECKING:
    from .cookiejar import AbstractCookieJar
    from .deadlines import CoarseTimers
    from .middlewares import ClientHandlerType, ClientMiddlewareType
    from .payload import Payload
    from .pool import BaseConnector
    from .proxy import ProxySettings
    from .tracing import Trace
    from .upload import UploadTracker

__all__ = ["RequestPlan", "SessionState", "follow", "hop_request"]


class SessionState(Protocol):
    """What the loop reads from its session (``ClientSession`` provides it)."""

    _cookie_jar: AbstractCookieJar | None
    _default_auth: BasicAuth | None
    _base_origin: URL | None
    _trust_env: bool
    _netrc: bool
    _requote_redirect_url: bool
    _version: Any
    _request_class: type[ClientRequest]
    _raise_for_status: Any
    _coarse_timers: CoarseTimers

    @property
    def cookie_jar(self) -> AbstractCookieJar: ...


class RequestPlan(NamedTuple):
    """A request's canonical arguments (``ClientSession._plan``): what every hop is built
    from. ``method`` to ``cookies`` start the chain; redirects replace them hop by hop."""

    method: str
    url: URL
    base_headers: CIMultiDict[str]
    body: Payload | None
    auth: BasicAuth | None
    cookies: Any
    auto: tuple[tuple[str, str], ...]
    with_host: bool
    skip: frozenset[str]
    proxies: ProxySettings | None
    ssl: Any
    server_hostname: str | None
    chunked: bool | None
    compress: str | bool | None
    expect100: bool
    allow_redirects: bool
    max_redirects: int
    raise_for_status: Any
    settings: HopSettings
    chain: tuple[ClientMiddlewareType, ...]
    traces: list[Trace]
    deadline: float | None
    upload_tracker: UploadTracker | None = None


def hop_request(
    session: SessionState,
    plan: RequestPlan,
    method: str,
    url: URL,
    base_headers: CIMultiDict[str],
    body: Payload | None,
    auth: BasicAuth | None,
    cookies: Any,
) -> ClientRequest:
    """The ``ClientRequest`` of one hop, built and not sent: what the wire will get.

    ``ClientSession.build_request`` returns the first hop's without sending it, so a
    request shown before it is sent is the one sent, byte for byte.
    """
    cookies_sent = ""
    if session._cookie_jar is not None or cookies or "Cookie" in base_headers:
        cookies_sent = cookie_header(session._cookie_jar, url, cookies, base_headers.get("Cookie"))
    hop_auth = auth
    if auth is not None or session._default_auth is not None or session._netrc:
        hop_auth = _hop_auth(session, url, auth, base_headers)
    hop = hop_headers(base_headers, url, plan.auto, plan.with_host, hop_auth, cookies_sent)
    # The proxy is chosen for each hop from its own URL (``proxy`` rules).
    proxies = plan.proxies
    decision, hop_proxy_auth = proxies.decide(url) if proxies is not None else (DIRECT, None)
    hop_proxy = decision.proxy
    proxy_headers = proxies.proxy_headers if proxies is not None and hop_proxy else None
    if hop_proxy is not None and not decision.tunnel:
        # Absolute-form through the proxy: its headers ride on the request.
        if proxy_headers:
            hop.extend(proxy_headers)
        if hop_proxy_auth is not None:
            hop["Proxy-Authorization"] = hop_proxy_auth.encode()
    req = session._request_class(
        method,
        url.with_fragment(None) if url.raw_fragment else url,
        hop,
        body,
        chunked=plan.chunked,
        compress=plan.compress,
        expect100=plan.expect100,
        ssl=plan.ssl,
        server_hostname=plan.server_hostname,
        proxy=hop_proxy,
        proxy_auth=hop_proxy_auth,
        proxy_headers=proxy_headers,
        proxy_ssl=proxies.proxy_ssl if proxies is not None and hop_proxy else True,
        proxy_decision=decision,
        traces=plan.traces,
        original_url=url,
        skip_auto_headers=plan.skip,
        version=session._version,
        session=session,
        upload_tracker=plan.upload_tracker,
    )
    req.deadline = plan.deadline
    return req


async def follow(
    session: SessionState, connector: BaseConnector, plan: RequestPlan
) -> ClientResponse:
    """Send the request, follow its redirects and return the final response.

    The request's payload is closed once the chain is over (after its last upload, when
    that is still going out), whatever the outcome, as aiohttp does. The arguments come as
    one ``RequestPlan`` tuple, built positionally: matching two dozen keyword arguments
    cost more per request than the rest of the call (measured).
    """
    method, url, base_headers, body, auth, cookies = plan[:6]
    traces, chain, settings = plan.traces, plan.chain, plan.settings
    history: list[ClientResponse] = []
    if traces:
        # aiohttp hands on_request_start the request's own headers: a handler may add some.
        base_headers = CIMultiDict(base_headers)
        await _start_traces(traces, method, url, base_headers)
    resp: ClientResponse | None = None
    req: ClientRequest | None = None
    try:
        while True:
            req = hop_request(session, plan, method, url, base_headers, body, auth, cookies)
            hop_history = tuple(history) if history else ()
            if chain:
                resp = await _send_through(session, chain, connector, req, settings, hop_history)
            else:
                resp = await send_hop(connector, req, settings, hop_history, session)
            if "Set-Cookie" in resp.headers:
                _store_cookies(session, resp)
            if not plan.allow_redirects or not 300 <= resp.status < 400:
                break
            from . import redirects

            if resp.status not in redirects.REDIRECT_STATUSES:
                break
            location = resp.headers.get("Location") or resp.headers.get("URI")
            if location is None:
                break
            for trace in traces:
                await trace.send_request_redirect(method, url, CIMultiDictProxy(req.headers), resp)
            history.append(resp)
            if req.writing:
                await req.stop_writing()  # the payload may be read again by the next hop
            max_redirects = plan.max_redirects
            if max_redirects and len(history) >= max_redirects:
                # aiohttp's count: the max_redirects-th redirect is not followed (0: no limit).
                resp.close()
                raise TooManyRedirects(
                    history[0].request_info,
                    tuple(history),
                    status=resp.status,
                    message=f"Exceeded {max_redirects} redirects",
                    headers=resp.headers,
                )
            await discard(resp)
            step = redirects.next_hop(
                resp.status,
                method,
                url,
                location,
                base_headers,
                body,
                has_auth=auth is not None,
                requote=session._requote_redirect_url,
            )
            resp.redirect_dropped = step.dropped
            if not step.keeps_auth:
                auth = None
            if cookies and not redirects.same_origin(url, step.url):
                cookies = None  # per-request cookies stay with the origin (as aiohttp)
            if not step.keeps_body:
                await req.close()  # dropped by the redirect: closed now
                body = None
            method, url, base_headers = step.method, step.url, step.headers
            if url.raw_user is not None or url.raw_password is not None:
                # Credentials in the Location win over the request's (aiohttp's rule).
                url_auth = BasicAuth.from_url(url)
                url = url.with_user(None)
                if url_auth is not None:
                    auth = url_auth
    except BaseException as exc:
        if resp is not None:
            resp.close()  # a cookie jar or a trace handler failed: the connection goes too
        if req is not None:
            req.terminate()
            await req.close()
        elif body is not None:
            await body.close()
        for trace in traces:
            await trace.send_request_exception(method, url, CIMultiDictProxy(base_headers), exc)
        raise
    assert req is not None
    await req.close()
    resp._real_url = url  # with its fragment (resp.url has none)
    if history:
        resp._history = tuple(history)
    if plan.raise_for_status is not None or session._raise_for_status:
        await _check_status(session, resp, plan.raise_for_status)
    for trace in traces:
        await trace.send_request_end(method, url, CIMultiDictProxy(base_headers), resp)
    return resp


async def _start_traces(
    traces: list[Trace], method: str, url: URL, headers: CIMultiDict[str]
) -> None:
    """``on_request_start`` for each trace; if one fails, the ones that had started hear
    ``on_request_exception`` (the failing one and those after it hear nothing)."""
    started = 0
    try:
        for trace in traces:
            await trace.send_request_start(method, url, headers)
            started += 1
    except BaseException as exc:
        for trace in traces[:started]:
            await trace.send_request_exception(method, url, headers, exc)
        raise


def _hop_auth(
    session: SessionState, url: URL, auth: BasicAuth | None, base_headers: CIMultiDict[str]
) -> BasicAuth | None:
    """The hop's credentials: the request's own, else the session's ``auth`` (sent to
    every origin, or only to ``base_url``'s when there is one, as aiohttp does), else with
    ``netrc`` (``trust_env`` unless the session says otherwise) the netrc entry for this
    hop's host. An ``Authorization`` header beside
    ``auth=`` or the session's auth is a ``ValueError`` (aiohttp's rule)."""
    if auth is None:
        default = session._default_auth
        if default is not None and (
            session._base_origin is None or session._base_origin == url.origin()
        ):
            auth = default
        elif session._netrc and url.raw_host and "Authorization" not in base_headers:
            from .environ import netrc_auth

            return netrc_auth(url.host or url.raw_host)  # a fallback: never a conflict
    if auth is not None and "Authorization" in base_headers:
        raise ValueError(
            "Cannot combine AUTHORIZATION header with AUTH argument or credentials encoded in URL"
        )
    return auth


async def _send_through(
    session: SessionState,
    chain: Sequence[ClientMiddlewareType],
    connector: BaseConnector,
    req: ClientRequest,
    settings: HopSettings,
    history: tuple[ClientResponse, ...],
) -> ClientResponse:
    """One hop through the middlewares; the innermost handler sends the request."""
    from .middlewares import chain_middlewares

    async def send(request: ClientRequest) -> ClientResponse:
        return await send_hop(connector, request, settings, history, session)

    handler: ClientHandlerType = chain_middlewares(send, chain)
    return await handler(req)


async def _check_status(session: SessionState, resp: ClientResponse, per_request: Any) -> None:
    check = session._raise_for_status if per_request is None else per_request
    if check is True:
        resp.raise_for_status()
    elif callable(check):
        await check(resp)


def _store_cookies(session: SessionState, resp: ClientResponse) -> None:
    set_cookies = resp.headers.getall("Set-Cookie", ())
    if set_cookies:
        session.cookie_jar.update_cookies_from_headers(list(set_cookies), resp.url)
