"""``ClientResponse``: status and headers at once, the body on demand.

Rules:
- The connection goes back to the pool the moment the body has been received in full
  (the protocol calls back), or is closed on ``close()`` / an unread ``release()``.
- ``read()`` keeps the body; ``text()`` and ``json()`` decode that same body.
- The session's ``total`` timeout, if any, is a single timer here that fails the stream and
  drops the transport: reading a stalled body can never outlive it.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json as _json
import re
import warnings
import weakref
from collections.abc import Callable, Generator, Sequence
from http.cookies import SimpleCookie
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

from .config import RequestInfo
from .exceptions import (
    ClientConnectionError,
    ClientPayloadError,
    ClientResponseError,
    ContentTypeError,
    ServerTimeoutError,
)
from .http1 import HttpVersion, ResponseHead, raw_header_pairs
from .streams import StreamReader

if TYPE_CHECKING:
    from .client_request import ClientRequest
    from .connection import Connection
    from .disposition import ContentDisposition
    from .proxy import ProxyDecision
    from .tls import TLSInfo
    from .tracing import Trace

__all__ = ["ClientResponse", "discard"]

# A response dropped on the way to another request (a redirect, a 401 answered) has its
# body read, so the keep-alive connection carries the next one, only when this small.
DISCARD_READ_LIMIT = 1 << 16

# RFC 8288 §3: <target>; param=value; param="quoted", <next> ...
_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,\s=]+(?:\s*=\s*(?:\"[^\"]*\"|[^;,]*))?)*)")
_LINK_PARAM = re.compile(r";\s*([^;,\s=]+)(?:\s*=\s*(?:\"([^\"]*)\"|([^;,]*)))?")
# RFC 8259 §8.1: JSON is UTF-8; "+json" structured syntax suffixes (RFC 6839) count too.
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+?\+)?json")


def _parse_content_type(value: str | None) -> tuple[str, dict[str, str]]:
    if not value:
        return "application/octet-stream", {}
    mime, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for part in rest.split(";"):
        name, eq, val = part.partition("=")
        if eq:
            params[name.strip().lower()] = val.strip().strip('"')
    return mime.strip().lower(), params


def _call_body_done(ref: weakref.ref[ClientResponse]) -> None:
    response = ref()
    if response is not None:
        response._body_done()


def _call_total_timeout(ref: weakref.ref[ClientResponse]) -> None:
    response = ref()
    if response is not None:
        response._on_total_timeout()


class _Released:
    """What ``release()`` returns: awaiting it does nothing, so aiohttp 2-era code that
    writes ``await resp.release()`` keeps working (aiohttp 3 returns such an object too)."""

    __slots__ = ()

    def __await__(self) -> Generator[None, None, None]:
        return
        yield  # makes this a generator


_RELEASED = _Released()


def default_charset_resolver(response: ClientResponse, body: bytes) -> str:
    return "utf-8"


class ClientResponse:
    """A response to one request (one hop of a redirect chain)."""

    # Declared on the class as aiohttp's are, so that mock.create_autospec(ClientResponse,
    # spec_set=True) -- how scripts fake a response in their tests -- accepts them.
    status: int = 0
    reason: str = ""
    # HTTP/2 trailer fields (RFC 9110 §6.5), set once the body is complete; None without.
    trailers: CIMultiDictProxy[str] | None = None

    def __init__(
        self,
        method: str,
        url: URL,
        *,
        head: ResponseHead,
        request: ClientRequest | None = None,
        request_info: RequestInfo | None = None,
        connection: Connection | None,
        content: StreamReader,
        history: tuple[ClientResponse, ...] = (),
        session: Any = None,
        traces: Sequence[Trace] = (),
        charset_resolver: Callable[[ClientResponse, bytes], str] = default_charset_resolver,
        deadline: float | None = None,
        peername: Any = None,
        tls: TLSInfo | None = None,
    ) -> None:
        self.method = method
        self._url = url
        self._real_url = url
        self._head = head
        self.version: HttpVersion = head.version
        self.status = head.status
        self.reason = head.reason
        self._headers = head.headers
        self._raw_headers: tuple[tuple[bytes, bytes], ...] | None = None
        self._request = request
        self._request_info = request_info
        self._connection = connection
        self.content = content
        self._history = history
        self._session = session
        self._traces = traces
        self._charset_resolver = charset_resolver
        self._body: bytes | None = None
        self._cookies: SimpleCookie | None = None
        self._closed = False
        self._released = False
        self._in_context = False  # inside ``async with``: raise_for_status() leaves it open
        self._kept = False  # a redirect's body read by discard(): readable after release
        self._end_sent = False
        self._timer: asyncio.TimerHandle | None = None
        self.peername = peername
        self.tls_info = tls  # handshake details (version, cipher, peer certificate) or None
        # For a redirect in ``history``: the headers not carried to the next hop, and why.
        self.redirect_dropped: tuple[Any, ...] = ()
        self.reused_connection = False
        if connection is not None:
            self.reused_connection = connection.reused
            if deadline is not None and not content.is_eof():
                loop = asyncio.get_running_loop()
                self._timer = loop.call_at(deadline, _call_total_timeout, weakref.ref(self))
        if content.is_eof():
            self._body_done()
        else:
            # A weak link: a response dropped unread must be collectable, so that __del__
            # gives its connection back (the protocol holds the stream, not the response).
            ref = weakref.ref(self)
            content.on_eof(lambda: _call_body_done(ref))

    def __repr__(self) -> str:
        return f"<ClientResponse({self._url}) [{self.status} {self.reason}]>"

    def __del__(self) -> None:
        # Dropped without release(): free the pool slot (the connection cannot be reused
        # mid-body). aiohttp does the same.
        connection = getattr(self, "_connection", None)
        if connection is not None:
            self._connection = None
            timer = getattr(self, "_timer", None)
            if timer is not None:
                timer.cancel()
            connection.close()

    # -- the head ------------------------------------------------------------------

    @property
    def url(self) -> URL:
        return self._url

    @property
    def real_url(self) -> URL:
        return self._real_url

    @property
    def host(self) -> str:
        return self._url.host or ""

    @property
    def headers(self) -> CIMultiDictProxy[str]:
        return self._headers

    @property
    def raw_headers(self) -> tuple[tuple[bytes, bytes], ...]:
        """Header lines as received: original case and order, as bytes."""
        if self._raw_headers is None:
            self._raw_headers = raw_header_pairs(self._head.raw_fields)
        return self._raw_headers

    @property
    def request_info(self) -> RequestInfo:
        if self._request_info is None:
            assert self._request is not None
            self._request_info = self._request.request_info
        return self._request_info

    @property
    def request_head(self) -> bytes | None:
        """zurl: this hop's request line and header block exactly as they were written."""
        return self._request.sent_head if self._request is not None else None

    @property
    def proxy_decision(self) -> ProxyDecision | None:
        """zurl: which proxy this hop used and why (no credentials inside)."""
        return self._request.proxy_decision if self._request is not None else None

    @property
    def history(self) -> tuple[ClientResponse, ...]:
        return self._history

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def content_type(self) -> str:
        return _parse_content_type(self._headers.get("Content-Type"))[0]

    @property
    def charset(self) -> str | None:
        return _parse_content_type(self._headers.get("Content-Type"))[1].get("charset")

    @property
    def content_length(self) -> int | None:
        if self._head.content_length is not None:
            return self._head.content_length
        # A HEAD response (or 304) has no body but may still say how long it would be; a
        # list of equal values is one value (RFC 9110 §8.6).
        values = {v.strip() for v in self._headers.get("Content-Length", "").split(",")}
        value = values.pop() if len(values) == 1 else ""
        return int(value) if value.isascii() and value.isdigit() else None

    @property
    def content_disposition(self) -> ContentDisposition | None:
        """The parsed ``Content-Disposition`` (``.type``, ``.parameters``, ``.filename``)."""
        raw = self._headers.get("Content-Disposition")
        if raw is None:
            return None
        from .disposition import content_disposition

        return content_disposition(raw)

    @property
    def links(self) -> MultiDictProxy[MultiDictProxy[str | URL]]:
        """The ``Link`` header (RFC 8288) by relation: each a dict with ``url`` and params."""
        links: MultiDict[MultiDictProxy[str | URL]] = MultiDict()
        for value in self._headers.getall("Link", ()):
            for match in _LINK.finditer(value):
                target, params_text = match.group(1), match.group(2)
                link: MultiDict[str | URL] = MultiDict()
                for name, quoted, bare in _LINK_PARAM.findall(params_text):
                    link.add(name.lower(), quoted or bare)
                key = link.get("rel") or target
                link.add("url", self._url.join(URL(target)))
                links.add(str(key), MultiDictProxy(link))
        return MultiDictProxy(links)

    @property
    def cookies(self) -> SimpleCookie:
        """The cookies set by this response only (the jar keeps them all)."""
        if self._cookies is None:
            from .cookieparse import parse_set_cookie_headers

            jar = SimpleCookie()
            # The jar's parser: reserved words ("path", "secure") are names too, and a
            # malformed field is ignored, as browsers do.
            jar.update(parse_set_cookie_headers(self._headers.getall("Set-Cookie", ())))
            self._cookies = jar
        return self._cookies

    @property
    def connection(self) -> Connection | None:
        return self._connection

    @property
    def output_size(self) -> int:
        """Bytes of the request written so far (deprecated by aiohttp 3.14.4)."""
        warnings.warn(
            "ClientResponse.output_size is deprecated, use aiohttp.UploadTracker instead",
            DeprecationWarning,
            stacklevel=2,
        )
        return 0 if self._request is None else self._request.output_size

    @property
    def upload_complete(self) -> asyncio.Future[None]:
        """Set once the request body has stopped going out (deprecated by aiohttp 3.14.4)."""
        warnings.warn(
            "ClientResponse.upload_complete is deprecated, use aiohttp.UploadTracker instead",
            DeprecationWarning,
            stacklevel=2,
        )
        if self._request is None:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return self._request.upload_done()

    @property
    def closed(self) -> bool:
        return self._closed

    def get_encoding(self) -> str:
        mime, params = _parse_content_type(self._headers.get("Content-Type"))
        encoding = params.get("charset")
        if encoding:
            try:
                return codecs.lookup(encoding).name
            except (LookupError, ValueError):  # unknown, or not even text ("\udcff", NUL)
                pass
        if mime == "application/json" or _JSON_TYPE.match(mime):
            return "utf-8"
        if self._body is None:
            raise RuntimeError("Cannot compute fallback encoding of a not yet read body")
        return self._charset_resolver(self, self._body)

    # -- the body ------------------------------------------------------------------

    async def read(self) -> bytes:
        """The whole body (kept, so ``text()``/``json()`` can follow).

        After ``release()`` (or leaving ``async with``) the body is gone, as in aiohttp:
        ``ClientConnectionError("Connection closed")``, even if it had been read before.
        """
        if self._body is None:
            if self._released:
                raise ClientConnectionError("Connection closed")
            if self._head.upgraded:
                # 101 / CONNECT: no HTTP body; the bytes that follow are another protocol's.
                self._body = b""
                return self._body
            try:
                self._body = await self.content.read()
            except BaseException:
                self.close()
                raise
            for trace in self._traces:
                await trace.send_response_chunk_received(self.method, self._url, self._body)
            await self._send_end_traces()
            await self._end_upload()
        elif self._released and not self._kept:
            raise ClientConnectionError("Connection closed")
        return self._body

    async def text(self, encoding: str | None = None, errors: str = "strict") -> str:
        body = await self.read()
        if encoding is None:
            encoding = self.get_encoding()
        return body.decode(encoding, errors=errors)

    async def json(
        self,
        *,
        encoding: str | None = None,
        loads: Callable[[str], Any] = _json.loads,
        content_type: str | None = "application/json",
    ) -> Any:
        body = await self.read()
        if content_type:
            actual = self.content_type
            expected = content_type.lower()
            matches = (
                _JSON_TYPE.match(actual) is not None
                if expected == "application/json"
                else expected == actual
            )
            if not matches:
                raise ContentTypeError(
                    self.request_info,
                    self._history,
                    status=self.status,
                    message=f"Attempt to decode JSON with unexpected mimetype: {actual}",
                    headers=self._headers,
                )
        if not body.strip():
            return None
        if encoding is None:
            encoding = self.get_encoding()
        return loads(body.decode(encoding))

    def raise_for_status(self) -> None:
        if self.status >= 400:
            reason = self.reason
            if not self._in_context:
                self.release()  # inside ``async with`` the block's exit releases it
            raise ClientResponseError(
                self.request_info,
                self._history,
                status=self.status,
                message=reason,
                headers=self._headers,
            )

    # -- lifetime ------------------------------------------------------------------

    def _body_done(self) -> None:
        """The whole body is buffered: the connection may serve someone else now."""
        self._closed = True  # aiohttp's meaning: the response holds no connection any more
        self._cancel_timer()
        connection = self._connection
        if connection is not None:
            self._connection = None
            connection.release()

    def _on_total_timeout(self) -> None:
        self._timer = None
        connection = self._connection
        if connection is not None and connection.protocol is not None:
            connection.protocol.abort(ServerTimeoutError("Total timeout while reading the body"))
        else:
            self.content.set_exception(ServerTimeoutError("Total timeout"))
        self.close()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def release(self) -> _Released:
        """Done with this response. An unread body costs the connection, not correctness.

        The body cannot be read any more (aiohttp's rule): reads of ``content`` raise
        ``ClientConnectionError("Connection closed")``.
        """
        if not self._released:
            self._released = True
            self._poison_content()
        self._closed = True
        self._cancel_timer()
        connection = self._connection
        if connection is not None:
            self._connection = None
            if self.content.is_eof():
                connection.release()
            else:
                connection.close()
        return _RELEASED

    def _poison_content(self) -> None:
        """Unread body bytes are gone once released: reads raise (a body read to its end
        has nothing left to refuse, so the usual path allocates nothing here)."""
        content = self.content
        if content.exception() is None and not content.at_eof():
            content.set_exception(ClientConnectionError("Connection closed"))

    def close(self) -> None:
        """Drop the connection now, whatever state the body is in."""
        if not self._released:
            self._released = True
            self._poison_content()
        self._closed = True
        self._cancel_timer()
        connection = self._connection
        if connection is not None:
            self._connection = None
            connection.close()

    async def wait_for_close(self) -> None:
        self.release()
        await self._end_upload()

    async def _end_upload(self) -> None:
        """A request body still going out once its response is over is stopped, and its
        writer waited for (aiohttp's rule): no upload task outlives the exchange, say a
        streamed body still waiting for its source's last read when the server answered."""
        request = self._request
        if request is not None and request.writing:
            await request.stop_writing()

    async def __aenter__(self) -> ClientResponse:
        self._in_context = True
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._in_context = False
        await self._send_end_traces()
        self.release()
        await self._end_upload()

    async def _send_end_traces(self) -> None:
        """``on_response_end`` once the body is in, however it was consumed."""
        if not self._traces or self._end_sent or not self.content.is_eof():
            return
        self._end_sent = True
        size = len(self._body) if self._body is not None else self.content.total_bytes
        for trace in self._traces:
            await trace.send_response_end(self.method, self._url, size)


async def discard(resp: ClientResponse) -> None:
    """Done with a response nobody will read (a redirect, an answered challenge): a small
    body is read so the connection is reused, a big or broken one costs the connection.
    Nobody reads it, so ``on_response_chunk_received`` does not fire for it (as in
    aiohttp); zurl's own ``on_response_end`` still closes the hop's timings."""
    length = resp.content_length
    if length is not None and length <= DISCARD_READ_LIMIT:
        with contextlib.suppress(ClientConnectionError, ClientPayloadError):
            # If this fails, release() below closes the connection.
            resp._body = await resp.content.read()
            resp._kept = True  # read by the engine: stays readable from ``history``
            await resp._send_end_traces()
    resp.release()
