"""``ClientSession``: default headers, cookies, timeouts and one pool for many requests.

Rules:
- This module is the API surface: the constructor, aiohttp's properties, the verbs and the
  session's lifetime. A request's arguments are made canonical by ``request_args``; its
  redirect chain is walked by ``redirect_loop`` (one ``ClientRequest`` per hop, decided by
  the pure helpers in ``redirects``).
- Timeouts (``ClientTimeout``) map onto the phases: ``connect`` bounds getting a connection
  (pool wait + connect), ``sock_connect`` each connect, ``sock_read`` each wait for bytes,
  ``total`` the whole exchange including the body.
- With no trace configs the hot path builds no trace objects at all (``traces`` is empty);
  with no middlewares no handler chain is built either.
- ``close()`` returns only when every transport is gone (see ``connector``).
- aiohttp's deprecated spellings (``read_timeout``, ``conn_timeout``, ``ssl_shutdown_timeout``)
  are resolved once in ``__init__``, so they cost a request nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json as _json
import ssl
import sys
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict
from yarl import URL

from .client_request import BuiltRequest, ClientRequest
from .config import UNSET, BasicAuth, ClientTimeout, session_timeout
from .connector import SSL_SHUTDOWN_TIMEOUT_DEPRECATED, BaseConnector, TCPConnector
from .contexts import RequestContextManager
from .deadlines import CoarseTimers
from .decoders import ACCEPT_ENCODING, DEFAULT_MAX_DECOMPRESSED_SIZE, decompression_ratios
from .headers import auto_headers, merge_headers
from .hop import HopSettings
from .http1 import HttpVersion11
from .proxy import ProxySettings, check_proxy_ssl, parse_no_proxy
from .redirect_loop import RequestPlan, follow, hop_request
from .request_args import (
    WS_SCHEMES,
    build_url,
    choose_auth,
    choose_ssl,
    make_body,
    request_timeout,
)
from .response import ClientResponse, default_charset_resolver

if TYPE_CHECKING:
    from .cookiejar import AbstractCookieJar
    from .middlewares import ClientMiddlewareType
    from .tracing import Trace, TraceConfig
    from .upload import UploadTracker
    from .ws import ClientWebSocketResponse

__all__ = ["ClientSession"]


class ClientSession:
    """The aiohttp-compatible client session."""

    def __init_subclass__(cls) -> None:
        warnings.warn(
            f"Inheritance class {cls.__name__} from ClientSession is discouraged",
            DeprecationWarning,
            stacklevel=2,
        )

    def __init__(
        self,
        base_url: str | URL | None = None,
        *,
        connector: BaseConnector | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        cookies: Any = None,
        headers: Any = None,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        json_serialize: Callable[[Any], str] = _json.dumps,
        json_serialize_bytes: Callable[[Any], bytes] | None = None,
        cookie_jar: AbstractCookieJar | None = None,
        connector_owner: bool = True,
        raise_for_status: bool | Callable[[ClientResponse], Awaitable[None]] = False,
        read_timeout: float | None = UNSET,
        conn_timeout: float | None = None,
        timeout: ClientTimeout | object = UNSET,
        auto_decompress: bool = True,
        trust_env: bool = False,
        requote_redirect_url: bool = True,
        trace_configs: list[TraceConfig] | None = None,
        read_bufsize: int = 2**16,
        max_line_size: int = 8190,
        max_field_size: int = 8190,
        max_headers: int = 128,
        middlewares: Sequence[ClientMiddlewareType] = (),
        fallback_charset_resolver: Callable[[ClientResponse, bytes], str] = (
            default_charset_resolver
        ),
        version: Any = HttpVersion11,
        max_decompressed_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
        max_decompression_ratio: float | None = UNSET,
        ssl_shutdown_timeout: float | None = UNSET,
        request_class: type[ClientRequest] = ClientRequest,
        response_class: type[ClientResponse] = ClientResponse,
        ws_response_class: type[ClientWebSocketResponse] | None = None,
        proxy_ssl: bool | ssl.SSLContext = True,
        no_proxy: str | Iterable[str] | None = None,
        http2: bool = False,
        http2_prior_knowledge: bool = False,
        netrc: bool | None = None,
    ) -> None:
        if loop is None and connector is not None:
            loop = connector._loop
        self._loop = loop or asyncio.get_running_loop()
        if connector is not None and connector._loop is not self._loop:
            raise RuntimeError("Session and connector has to use same event loop")
        if base_url is None or isinstance(base_url, URL):
            self._base_url: URL | None = base_url
        else:
            self._base_url = URL(base_url)
        if self._base_url is not None:
            if not self._base_url.is_absolute():
                raise ValueError("base_url must be an absolute URL")
            if not self._base_url.path.endswith("/"):
                # aiohttp's rule: RFC 3986 joining would drop a last segment without "/".
                raise ValueError("base_url must have a trailing '/'")
        self._base_origin = self._base_url.origin() if self._base_url is not None else None
        self._timeout = session_timeout(timeout, read_timeout, conn_timeout)
        if ssl_shutdown_timeout is not UNSET:
            warnings.warn(SSL_SHUTDOWN_TIMEOUT_DEPRECATED, DeprecationWarning, stacklevel=2)
        if connector is None:
            connector = TCPConnector(
                loop=self._loop, http2=http2, http2_prior_knowledge=http2_prior_knowledge
            )
            if ssl_shutdown_timeout is not UNSET:
                # aiohttp hands it to the connector it makes (warned about once, above).
                connector._ssl_shutdown_timeout = ssl_shutdown_timeout
        elif (http2 or http2_prior_knowledge) and connector._http2 is None:
            raise ValueError(
                "http2=True needs a connector made with http2=True (or no connector: "
                "the session then makes one)"
            )
        self._connector: BaseConnector | None = connector
        self._connector_owner = connector_owner
        # The default jar is made when first needed: a run that never sees a cookie never
        # imports the cookie machinery (start-up cost).
        self._cookie_jar: AbstractCookieJar | None = cookie_jar
        if cookies is not None:
            self.cookie_jar.update_cookies(cookies)
        self._default_headers: CIMultiDict[str] = CIMultiDict(headers or ())
        self._skip_auto_headers = frozenset(h.lower() for h in (skip_auto_headers or ()))
        self._accept_encoding = ACCEPT_ENCODING if auto_decompress else None
        self._auto_headers = auto_headers(self._skip_auto_headers, self._accept_encoding)
        self._with_host = "host" not in self._skip_auto_headers
        self._default_auth = auth
        self._default_proxy = URL(proxy) if proxy is not None else None
        self._default_proxy_auth = proxy_auth
        # zurl: the https:// proxy's own TLS, and hosts reached directly (see ``proxy``).
        self._default_proxy_ssl = check_proxy_ssl(proxy_ssl)
        self._default_no_proxy = parse_no_proxy(no_proxy)
        self._proxies: ProxySettings | None = UNSET  # made on first use
        self._json_serialize = json_serialize
        # aiohttp 3.12: a bytes encoder (orjson.dumps), when given, makes the json= bodies.
        self._json_dumps: Callable[[Any], str | bytes] = (
            json_serialize if json_serialize_bytes is None else json_serialize_bytes
        )
        self._raise_for_status = raise_for_status
        self._auto_decompress = auto_decompress
        self._trust_env = trust_env
        # zurl: the server's credentials from netrc per hop; None follows trust_env (aiohttp).
        self._netrc = trust_env if netrc is None else bool(netrc)
        self._requote_redirect_url = requote_redirect_url
        self._trace_configs = list(trace_configs or ())
        for trace_config in self._trace_configs:
            trace_config.freeze()
        self._read_bufsize = read_bufsize
        self._max_line_size = max_line_size
        self._max_field_size = max_field_size
        self._max_headers = max_headers
        self._middlewares = tuple(middlewares)
        self._resolve_charset = fallback_charset_resolver
        self._version = version
        # zurl's guard against decompression bombs (aiohttp has none): None lifts it.
        self._max_decompressed_size = max_decompressed_size
        # And its ratio bound (decoders.ExpansionMeter): by default for bodies read whole
        # only; a number bounds every read, None none.
        self._ratios = decompression_ratios(max_decompression_ratio)
        self._request_class = request_class
        self._response_class = response_class
        self._ws_response_class = ws_response_class  # None: ClientWebSocketResponse
        self._closed = False
        self._source_traceback = (
            traceback.extract_stack(sys._getframe(1)) if self._loop.get_debug() else None
        )
        self._url_cache: dict[str, URL] = {}
        self._default_settings: HopSettings | None = None  # a request with no overrides
        self._coarse_timers = CoarseTimers(self._loop)

    def __del__(self, _warnings: Any = warnings) -> None:
        # aiohttp's rule: a session dropped without close() is reported, to warnings and
        # to the loop's exception handler (with where it was made, in debug mode).
        connector = getattr(self, "_connector", None)
        if getattr(self, "_closed", True) or connector is None or connector.closed:
            return
        _warnings.warn(f"Unclosed client session {self!r}", ResourceWarning, source=self)
        context: dict[str, Any] = {"client_session": self, "message": "Unclosed client session"}
        if self._source_traceback is not None:
            context["source_traceback"] = self._source_traceback
        if not self._loop.is_closed():
            self._loop.call_exception_handler(context)

    # -- properties (aiohttp's) ----------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed or self._connector is None or self._connector.closed

    @property
    def connector(self) -> BaseConnector | None:
        return self._connector

    @property
    def cookie_jar(self) -> AbstractCookieJar:
        if self._cookie_jar is None:
            from .cookiejar import CookieJar

            self._cookie_jar = CookieJar()
        return self._cookie_jar

    @property
    def headers(self) -> CIMultiDict[str]:
        return self._default_headers

    @property
    def skip_auto_headers(self) -> frozenset[str]:
        return self._skip_auto_headers

    @property
    def auth(self) -> BasicAuth | None:
        return self._default_auth

    @property
    def timeout(self) -> ClientTimeout:
        return self._timeout

    @property
    def json_serialize(self) -> Callable[[Any], str]:
        return self._json_serialize

    @property
    def connector_owner(self) -> bool:
        return self._connector_owner

    @property
    def raise_for_status(self) -> bool | Callable[[ClientResponse], Awaitable[None]]:
        return self._raise_for_status

    @property
    def auto_decompress(self) -> bool:
        return self._auto_decompress

    @property
    def trust_env(self) -> bool:
        return self._trust_env

    @property
    def trace_configs(self) -> list[TraceConfig]:
        return self._trace_configs

    @property
    def requote_redirect_url(self) -> bool:
        return self._requote_redirect_url

    @requote_redirect_url.setter
    def requote_redirect_url(self, value: bool) -> None:
        warnings.warn(
            "session.requote_redirect_url modification is deprecated #2778",
            DeprecationWarning,
            stacklevel=2,
        )
        self._requote_redirect_url = value

    @property
    def version(self) -> Any:
        return self._version

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        warnings.warn("client.loop property is deprecated", DeprecationWarning, stacklevel=2)
        return self._loop

    # -- lifetime ------------------------------------------------------------------

    async def __aenter__(self) -> ClientSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the session; returns once every owned transport has closed."""
        if not self._closed:
            self._closed = True
            self._coarse_timers.close()
            if self._connector is not None and self._connector_owner:
                await self._connector.close()
            self._connector = None

    def detach(self) -> None:
        """Forget the connector without closing it."""
        self._connector = None

    # -- verbs ---------------------------------------------------------------------

    def request(
        self, method: str, url: str | URL, **kwargs: Any
    ) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(self._request(method, url, **kwargs))

    def get(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(
            self._request("GET", url, allow_redirects=allow_redirects, **kwargs)
        )

    def options(
        self, url: str | URL, *, allow_redirects: bool = True, **kwargs: Any
    ) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(
            self._request("OPTIONS", url, allow_redirects=allow_redirects, **kwargs)
        )

    def head(
        self, url: str | URL, *, allow_redirects: bool = False, **kwargs: Any
    ) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(
            self._request("HEAD", url, allow_redirects=allow_redirects, **kwargs)
        )

    def post(
        self, url: str | URL, *, data: Any = None, **kwargs: Any
    ) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(self._request("POST", url, data=data, **kwargs))

    def put(
        self, url: str | URL, *, data: Any = None, **kwargs: Any
    ) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(self._request("PUT", url, data=data, **kwargs))

    def patch(
        self, url: str | URL, *, data: Any = None, **kwargs: Any
    ) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(self._request("PATCH", url, data=data, **kwargs))

    def delete(self, url: str | URL, **kwargs: Any) -> RequestContextManager[ClientResponse]:
        return RequestContextManager(self._request("DELETE", url, **kwargs))

    def ws_connect(self, url: str | URL, **kwargs: Any) -> RequestContextManager[Any]:
        from .ws import ws_connect

        return RequestContextManager(ws_connect(self, url, **kwargs))

    # -- the work ------------------------------------------------------------------

    def _prepare_headers(self, headers: Any) -> CIMultiDict[str]:
        """The session's default headers with ``headers`` replacing same-named ones."""
        return CIMultiDict(merge_headers(self._default_headers, headers))

    def _build_url(self, str_or_url: str | URL) -> URL:
        """The absolute URL a request for ``str_or_url`` goes to (``base_url`` applied)."""
        return build_url(self._url_cache, self._base_url, str_or_url)

    async def _request(self, method: str, str_or_url: str | URL, **kwargs: Any) -> ClientResponse:
        upload_tracker: UploadTracker | None = kwargs.get("upload_tracker")
        if upload_tracker is not None:
            upload_tracker._bind()  # outside the try: a second request must not settle it
        try:
            plan = self._plan(method, str_or_url, **kwargs)
            connector = self._connector
            assert connector is not None
            return await follow(self, connector, plan)
        finally:
            if upload_tracker is not None:
                upload_tracker._finalize()

    def build_request(self, method: str, str_or_url: str | URL, **kwargs: Any) -> BuiltRequest:
        """The request ``request(method, url, **kwargs)`` would send first, built and not
        sent (zurl): its head is the bytes the wire would get (before any middleware).

        Nothing is connected and no trace signal is sent; the cookie jar is only read.
        """
        plan = self._plan(method, str_or_url, **kwargs)
        req = hop_request(self, plan, *plan[:6])
        return BuiltRequest.of(req)

    def _plan(
        self,
        method: str,
        str_or_url: str | URL,
        *,
        params: Any = None,
        data: Any = None,
        json: Any = None,
        cookies: Any = None,
        headers: Any = None,
        skip_auto_headers: Iterable[str] | None = None,
        auth: BasicAuth | None = None,
        allow_redirects: bool = True,
        max_redirects: int = 10,
        compress: str | bool | None = None,
        chunked: bool | None = None,
        expect100: bool = False,
        raise_for_status: Any = None,
        read_until_eof: bool = True,
        proxy: str | URL | None = None,
        proxy_auth: BasicAuth | None = None,
        timeout: ClientTimeout | object = UNSET,
        ssl: Any = True,
        server_hostname: str | None = None,
        proxy_headers: Any = None,
        proxy_ssl: bool | ssl.SSLContext | None = None,
        no_proxy: str | Iterable[str] | None = None,
        trace_request_ctx: Any = None,
        read_bufsize: int | None = None,
        auto_decompress: bool | None = None,
        max_line_size: int | None = None,
        max_field_size: int | None = None,
        max_headers: int | None = None,
        middlewares: Sequence[ClientMiddlewareType] | None = None,
        verify_ssl: bool | None = None,
        fingerprint: bytes | None = None,
        ssl_context: Any = None,
        upload_tracker: UploadTracker | None = None,
    ) -> RequestPlan:
        """A request's arguments made canonical: what ``follow`` builds every hop from."""
        if self.closed:
            raise RuntimeError("Session is closed")
        ssl = choose_ssl(ssl, verify_ssl, fingerprint, ssl_context)
        if chunked is not None and chunked is not True and chunked is not False:
            warnings.warn("Chunk size is deprecated #1615", DeprecationWarning, stacklevel=3)
        method = method.upper()
        url = build_url(self._url_cache, self._base_url, str_or_url)
        if params is not None:
            url = url.extend_query(params)
        url, auth = choose_auth(url, auth)
        if proxy is None and proxy_auth is None and not proxy_headers and no_proxy is None:
            proxies = self._proxies
            if proxies is UNSET or proxy_ssl is not None:
                proxies = self._proxy_settings(None, None, None, None, proxy_ssl)
                if proxy_ssl is None:
                    self._proxies = proxies
        else:
            proxies = self._proxy_settings(proxy, proxy_auth, proxy_headers, no_proxy, proxy_ssl)
        if url.scheme in WS_SCHEMES:  # ws_connect: ws:// and wss:// go out as http(s)
            url = url.with_scheme("https" if url.scheme == "wss" else "http")
            if proxies is not None:
                proxies = dataclasses.replace(proxies, websocket=True)
        timeout = request_timeout(timeout, self._timeout)
        auto = self._auto_headers
        with_host = self._with_host
        skip = self._skip_auto_headers
        if skip_auto_headers:
            skip = self._skip_auto_headers | {h.lower() for h in skip_auto_headers}
            auto = auto_headers(skip, self._accept_encoding)
            with_host = "host" not in skip
        base_headers = (
            merge_headers(self._default_headers, headers) if headers else (self._default_headers)
        )
        body = (
            make_body(data, json, self._json_dumps)
            if data is not None or json is not None
            else None
        )
        traces: list[Trace] = []
        if self._trace_configs:
            from .tracing import make_traces

            traces = make_traces(self, self._trace_configs, trace_request_ctx)
        if auto_decompress is None:
            auto_decompress = self._auto_decompress
        plain = (
            timeout is self._timeout
            and auto_decompress is self._auto_decompress
            and read_until_eof
            and not (read_bufsize or max_line_size or max_field_size or max_headers)
        )
        settings = self._default_settings if plain else None
        if settings is None:
            settings = HopSettings(
                timeout,
                read_bufsize or self._read_bufsize,
                auto_decompress,
                self._max_decompressed_size,
                self._resolve_charset,
                max_line_size or self._max_line_size,
                max_field_size or self._max_field_size,
                read_until_eof,
                max_headers or self._max_headers,
                self._response_class,
                *self._ratios,
            )
            if plain:
                self._default_settings = settings  # a request with no overrides: built once
        return RequestPlan(
            method,
            url,
            base_headers,
            body,
            auth,
            cookies,
            auto,
            with_host,
            skip,
            proxies,
            ssl,
            server_hostname,
            chunked,
            compress,
            expect100,
            allow_redirects,
            max_redirects,
            raise_for_status,
            settings,
            self._middlewares if middlewares is None else tuple(middlewares),
            traces,
            self._loop.time() + timeout.total if timeout.total else None,
            upload_tracker,
        )

    def _proxy_settings(
        self,
        proxy: str | URL | None,
        proxy_auth: BasicAuth | None,
        proxy_headers: Any,
        no_proxy: str | Iterable[str] | None,
        proxy_ssl: bool | ssl.SSLContext | None,
    ) -> ProxySettings | None:
        """The request's proxy arguments over the session's (None: every hop is direct)."""
        return ProxySettings.make(
            proxy if proxy is not None else self._default_proxy,
            proxy_auth if proxy_auth is not None else self._default_proxy_auth,
            proxy_headers,
            no_proxy if no_proxy is not None else self._default_no_proxy,
            self._trust_env,
            proxy_ssl if proxy_ssl is not None else self._default_proxy_ssl,
        )
