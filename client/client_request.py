"""One request as it goes on the wire: its head, its body, and writing both.

Rules:
- Everything that can be refused is refused before the first byte is written: a bad
  method, header or URL raises here, a fingerprint pin is checked by the connector.
- A body already in memory goes out in the same ``write`` as the head (one segment for
  small requests); a streamed body is written by a task while the response is awaited,
  so a server that answers early (413, 401) is heard without waiting for the upload.
- ``Content-Length`` is sent when the payload knows its size and chunked encoding was not
  asked for; otherwise ``Transfer-Encoding: chunked`` (RFC 9112 §7.1).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import TYPE_CHECKING

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .config import BasicAuth, ConnectionKey, RequestInfo
from .http1 import HttpVersion, HttpVersion11, serialize_request_head

if TYPE_CHECKING:
    import ssl

    from .connection import ResponseProtocol
    from .payload import Payload
    from .proxy import ProxyDecision
    from .tls import SSLValue
    from .tracing import Trace

__all__ = ["ClientRequest"]

# Methods for which an absent body still means "empty body": send Content-Length: 0.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# How long to wait for "100 Continue" before sending the body anyway (curl's default).
EXPECT_CONTINUE_WAIT = 1.0


class ClientRequest:
    """The request for one hop. The session builds it; ``send`` writes it."""

    __slots__ = (
        "_body_task",
        "_inline",
        "_key",
        "_skip",
        "auth",
        "body",
        "chunked",
        "compress",
        "deadline",
        "expect100",
        "headers",
        "method",
        "original_url",
        "proxy",
        "proxy_auth",
        "proxy_decision",
        "proxy_headers",
        "proxy_ssl",
        "server_hostname",
        "ssl",
        "traces",
        "url",
        "version",
    )

    def __init__(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        body: Payload | None,
        *,
        chunked: bool | None = None,
        compress: str | bool | None = None,
        expect100: bool = False,
        ssl: SSLValue = True,
        server_hostname: str | None = None,
        proxy: URL | None = None,
        proxy_auth: BasicAuth | None = None,
        proxy_headers: CIMultiDict[str] | None = None,
        proxy_ssl: bool | ssl.SSLContext = True,
        proxy_decision: ProxyDecision | None = None,
        traces: Sequence[Trace] = (),
        original_url: URL | None = None,
        skip_auto_headers: frozenset[str] = frozenset(),
        version: HttpVersion = HttpVersion11,
    ) -> None:
        self.method = method
        self.url = url
        self.original_url = original_url if original_url is not None else url
        self.headers = headers
        self.chunked = chunked
        self.compress = compress
        self.expect100 = expect100
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.proxy = proxy
        self.proxy_auth = proxy_auth
        self.proxy_headers = proxy_headers
        self.proxy_ssl = proxy_ssl  # the https:// proxy's own TLS settings
        self.proxy_decision = proxy_decision  # which proxy this hop uses and why
        self.traces = traces
        self.version = version
        self._skip = skip_auto_headers
        self.auth: BasicAuth | None = None
        self.deadline: float | None = None  # the total timeout, in loop time
        self._body_task: asyncio.Task[None] | None = None
        self._inline: bytes | None = None
        self._key: ConnectionKey | None = None  # computed once, on first use
        self.body = self._prepare_body(body)

    # -- what the connector needs --------------------------------------------------

    @property
    def host(self) -> str:
        return self.url.raw_host or ""

    @property
    def port(self) -> int:
        port = self.url.port
        return port if port is not None else DEFAULT_PORTS.get(self.url.scheme, 80)

    def is_ssl(self) -> bool:
        return self.url.scheme in ("https", "wss")

    @property
    def connection_key(self) -> ConnectionKey:
        key = self._key
        if key is None:
            proxy_headers_hash = None
            if self.proxy_headers:
                proxy_headers_hash = hash(tuple(self.proxy_headers.items()))
            key = self._key = ConnectionKey(
                self.host,
                self.port,
                self.is_ssl(),
                self.ssl,
                self.proxy,
                self.proxy_auth,
                proxy_headers_hash,
                self.proxy_ssl if self.proxy is not None else True,
            )
        return key

    @property
    def request_info(self) -> RequestInfo:
        return RequestInfo(
            self.url, self.method, CIMultiDictProxy(self.headers), self.original_url
        )

    @property
    def replayable(self) -> bool:
        return self.body is None or self.body.replayable

    # -- body framing --------------------------------------------------------------

    def _prepare_body(self, body: Payload | None) -> Payload | None:
        headers = self.headers
        if body is None:
            if self.method in BODY_METHODS and "Content-Length" not in headers:
                headers["Content-Length"] = "0"
            return None
        if self.compress:
            if "Content-Encoding" in headers:
                raise ValueError("compress can not be set if Content-Encoding header is set")
            from .payload import compress_payload

            encoding = self.compress if isinstance(self.compress, str) else "deflate"
            body = compress_payload(body, encoding)
        for name, value in body.headers.items():
            headers.setdefault(name, value)
        if (
            body.content_type
            and "Content-Type" not in headers
            and "content-type" not in self._skip
        ):
            headers["Content-Type"] = body.content_type
        if self.chunked:
            if "Content-Length" in headers:
                raise ValueError("chunked can not be set if Content-Length header is set")
            headers["Transfer-Encoding"] = "chunked"
        elif "Transfer-Encoding" in headers:
            self.chunked = "chunked" in headers["Transfer-Encoding"].lower()
        elif body.size is not None:
            headers.setdefault("Content-Length", str(body.size))
        elif "Content-Length" not in headers:
            self.chunked = True
            headers["Transfer-Encoding"] = "chunked"
        if self.expect100:
            headers["Expect"] = "100-continue"
        return body

    # -- writing -------------------------------------------------------------------

    def request_target(self) -> str:
        """origin-form, or absolute-form through a plain HTTP proxy (RFC 9112 §3.2)."""
        url = self.url
        if self.proxy is not None and not self.is_ssl():
            return str(url.with_fragment(None))
        return url.raw_path_qs or "/"

    def head_bytes(self) -> bytes:
        return serialize_request_head(
            self.method, self.request_target(), self.headers.items(), self.version
        )

    def start(self, protocol: ResponseProtocol, continue_event: asyncio.Event | None) -> None:
        """Write the head and, unless it must wait for ``100 Continue``, the body.

        An in-memory body goes out in the same write as the head; a streamed one is written
        by a task, so the response can be awaited (and arrive early) meanwhile.
        """
        head = self.head_bytes()
        body = self.body
        inline = body.in_memory() if body is not None and not self.chunked else None
        if body is None or (inline is not None and continue_event is None):
            protocol.write(head + inline if inline else head)
            self._inline = inline
            return
        protocol.write(head)
        protocol.writing_body = True
        self._body_task = asyncio.get_running_loop().create_task(
            self._write_body(protocol, body, continue_event)
        )

    async def trace_sent(self) -> None:
        """The headers-sent (and in-memory chunk-sent) signals, after ``start``."""
        for trace in self.traces:
            await trace.send_request_headers_sent(
                self.method, self.url, CIMultiDictProxy(self.headers)
            )
        if self._inline:
            for trace in self.traces:
                await trace.send_request_chunk_sent(self.method, self.url, self._inline)

    async def _write_body(
        self, protocol: ResponseProtocol, body: Payload, continue_event: asyncio.Event | None
    ) -> None:
        try:
            if continue_event is not None:
                # Like curl: a server that ignores Expect gets the body after a second.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(continue_event.wait(), EXPECT_CONTINUE_WAIT)
                if protocol.exception is not None or not protocol.is_connected:
                    return  # a final response came instead of 100: the body is not wanted
            chunked = self.chunked
            async for chunk in body.chunks():
                if not chunk:
                    continue
                if chunked:
                    protocol.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                else:
                    protocol.write(chunk)
                for trace in self.traces:
                    await trace.send_request_chunk_sent(self.method, self.url, chunk)
                await protocol.drain()
            if chunked:
                protocol.write(b"0\r\n\r\n")
        except asyncio.CancelledError:
            protocol.should_close = True  # the body was cut off mid-message
            raise
        except Exception as exc:
            # The request can't complete; failing the connection wakes the response side.
            protocol.abort(exc)
        finally:
            protocol.writing_body = False

    def terminate(self) -> None:
        """Stop writing the body (the response is being dropped)."""
        task = self._body_task
        if task is not None and not task.done():
            task.cancel()
        self._body_task = None
