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
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from .config import BasicAuth, ConnectionKey, RequestInfo
from .exceptions import ClientConnectionError, ClientError, ClientOSError
from .http1 import HttpVersion, HttpVersion11, serialize_request_head
from .upload import BodySink, BodyWriter, compress_bytes, compressor

if TYPE_CHECKING:
    import ssl

    from .connection import Connection, ResponseProtocol
    from .http2_writer import H2Upload
    from .payload import Payload
    from .proxy import ProxyDecision
    from .tls import SSLValue
    from .tracing import Trace
    from .upload import UploadTracker

__all__ = ["BuiltRequest", "ClientRequest"]

# Methods for which an absent body still means "empty body": send Content-Length: 0.
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# How long to wait for "100 Continue" before sending the body anyway (curl's default).
EXPECT_CONTINUE_WAIT = 1.0


class ClientRequest:
    """The request for one hop. The session builds it; ``start`` writes it."""

    __slots__ = (
        "_body",
        "_body_closed",
        "_body_done_at",
        "_body_task",
        "_chunked_arg",
        "_continue",
        "_inline",
        "_key",
        "_output_size",
        "_over",
        "_sent_head",
        "_session",
        "_set_encoding",
        "_skip",
        "_stream_coding",
        "_terminated",
        "_upload_done",
        "_upload_gen",
        "_upload_tracker",
        "_wire_body",
        "_writer",
        "auth",
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
        session: Any = None,
        upload_tracker: UploadTracker | None = None,
    ) -> None:
        self.method = method
        self.url = url
        self.original_url = original_url if original_url is not None else url
        self.headers = headers
        self.chunked = self._chunked_arg = chunked
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
        self._session = session
        self._upload_tracker = upload_tracker
        self._upload_gen = 0
        self.auth: BasicAuth | None = None
        self.deadline: float | None = None  # the total timeout, in loop time
        self._body_task: asyncio.Task[None] | None = None
        self._continue: asyncio.Event | None = None
        self._inline: bytes | None = None
        self._sent_head: bytes | None = None  # the head as last written (request_head)
        self._key: ConnectionKey | None = None  # computed once, on first use
        self._body_done_at = 0.0  # loop time the streamed body finished (for sock_read)
        self._writer: BodyWriter | None = None  # while a streamed body goes out
        self._output_size = 0  # bytes of head and body written, once no writer is live
        self._upload_done: asyncio.Future[None] | None = None
        self._over = self._terminated = self._body_closed = False
        self._set_body(body)

    @property
    def session(self) -> Any:
        """The ``ClientSession`` sending this request (for middlewares to reuse)."""
        return self._session

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
    def sent_head(self) -> bytes | None:
        """The request line and header block exactly as written; None before ``start``."""
        return self._sent_head

    @property
    def replayable(self) -> bool:
        return self._body is None or self._body.replayable

    # -- the body ------------------------------------------------------------------

    @property
    def body(self) -> Payload | None:
        """The request's payload (``None`` without a body)."""
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        # aiohttp's synchronous spelling: prefer ``await update_body()``, which can wait
        # for the old payload to close.
        if self._body is not None:
            self._body._close()
        self._replace_body(value)

    async def update_body(self, body: Any) -> None:
        """Send ``body`` instead (anything ``data=`` takes, or ``None``): the old payload
        is closed and Content-Length / Transfer-Encoding are worked out again."""
        if self._body is not None:
            await self._body.close()
        self._replace_body(body)

    def _replace_body(self, data: Any) -> None:
        headers = self.headers
        headers.popall("Content-Length", None)
        if self.chunked:
            headers.popall("Transfer-Encoding", None)
        if self._set_encoding:
            headers.popall("Content-Encoding", None)
        self.chunked = self._chunked_arg
        payload = None
        if data is not None:
            from .formdata import payload_from_data

            payload = payload_from_data(data)
        self._set_body(payload)

    def _set_body(self, body: Payload | None) -> None:
        self._body = body
        self._wire_body = None
        self._stream_coding = None
        self._set_encoding = False
        headers = self.headers
        if self.expect100:
            headers["Expect"] = "100-continue"
        if body is None:
            if self.method in BODY_METHODS and "Content-Length" not in headers:
                headers["Content-Length"] = "0"
            return
        size = body.size
        if self.compress:
            if "Content-Encoding" in headers:
                raise ValueError("compress can not be set if Content-Encoding header is set")
            encoding = self.compress if isinstance(self.compress, str) else "deflate"
            encoding = encoding.strip().lower()
            compressor(encoding)  # an unknown coding fails now, not mid-send
            headers["Content-Encoding"] = encoding
            self._set_encoding = True
            data = body.in_memory()
            if data is not None:
                # Already in memory: compressed once, so Content-Length can be sent and
                # servers that refuse chunked request bodies still work.
                self._wire_body = compress_bytes(data, encoding)
                size = len(self._wire_body)
            else:
                self._stream_coding = encoding
                size = None
        skip = self._skip
        for name, value in body.headers.items():
            if name not in headers and name.lower() not in skip:
                headers[name] = value
        if self.chunked:
            if "Content-Length" in headers:
                raise ValueError("chunked can not be set if Content-Length header is set")
            headers["Transfer-Encoding"] = "chunked"
        elif "Transfer-Encoding" in headers:
            self.chunked = "chunked" in headers["Transfer-Encoding"].lower()
        elif size is not None:
            headers.setdefault("Content-Length", str(size))
        elif "Content-Length" not in headers:
            self.chunked = True
            headers["Transfer-Encoding"] = "chunked"

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

    def begin_attempt(self) -> None:
        """A hop is about to be sent (the upload tracker counts attempts)."""
        tracker = self._upload_tracker
        if tracker is not None:
            self._upload_gen = tracker._attempt_started()

    def start(
        self,
        protocol: ResponseProtocol,
        continue_event: asyncio.Event | None,
        conn: Connection | None = None,
    ) -> None:
        """Write the head and, unless it must wait for ``100 Continue``, the body.

        A body in memory goes out in the same write as the head; a streamed one is written
        by a task (``write_bytes``), so the response can be awaited (and arrive early)
        meanwhile.
        """
        head = self._sent_head = self.head_bytes()
        body = self._body
        tracker = self._upload_tracker
        inline = None
        if body is not None and not self.chunked:
            inline = self._wire_body if self._wire_body is not None else body.in_memory()
        if body is None or (inline is not None and continue_event is None):
            protocol.write(head + inline if inline else head)
            self._inline = inline
            self._output_size = len(head) + len(inline or b"")
            if tracker is not None:
                sent = 0 if body is None else len(body.in_memory() or b"")
                tracker._attempt_finished(self._upload_gen, sent)
            return
        protocol.write(head)
        self._start_writer(protocol, continue_event, conn, bool(self.chunked), len(head))

    def start_body(
        self, sink: H2Upload, continue_event: asyncio.Event | None, conn: Any
    ) -> asyncio.Task[None]:
        """HTTP/2: write the body of a request whose head went out as a HEADERS frame.

        The same writer as ``start`` (compression, Content-Length checks, traces, the
        upload tracker, ``100 Continue``), never chunked: DATA frames delimit the body.
        ``sink.end_body()`` follows the last byte.
        """
        return self._start_writer(sink, continue_event, conn, False, 0, end=sink.end_body)

    def _start_writer(
        self,
        protocol: BodySink,
        continue_event: asyncio.Event | None,
        conn: Any,
        chunked: bool,
        output_size: int,
        *,
        end: Callable[[], Awaitable[None]] | None = None,
    ) -> asyncio.Task[None]:
        protocol.writing_body = True
        length = None
        if not self.chunked and "Content-Length" in self.headers:
            with contextlib.suppress(ValueError):
                length = int(self.headers["Content-Length"])
        writer = BodyWriter(
            protocol,
            self.method,
            self.url,
            chunked=chunked,
            length=length,
            compress=self._stream_coding,
            traces=self.traces,
            tracker=self._upload_tracker,
            gen=self._upload_gen,
            output_size=output_size,
            end=end,
        )
        self._continue = continue_event
        self._writer = writer
        task = self._body_task = asyncio.get_running_loop().create_task(
            self.write_bytes(writer, conn, length)
        )
        return task

    async def trace_sent(self) -> None:
        """The headers-sent (and in-memory chunk-sent) signals, after ``start``."""
        for trace in self.traces:
            await trace.send_request_headers_sent(
                self.method, self.url, CIMultiDictProxy(self.headers), self._sent_head or b""
            )
        if self._inline:
            for trace in self.traces:
                await trace.send_request_chunk_sent(self.method, self.url, self._inline)

    async def write_bytes(
        self, writer: BodyWriter, conn: Connection | None, content_length: int | None = None
    ) -> None:
        """Write the body through ``writer`` (after ``100 Continue``, if one is awaited).

        A failure of the body (its file, its generator) fails the request with a
        ``ClientOSError`` or ``ClientConnectionError`` and drops the connection, as
        aiohttp does; cancellation (the response was dropped) drops it too.
        """
        protocol = writer._protocol
        tracker = writer.tracker
        if tracker is not None:
            tracker._attempt_writing(writer.gen, writer)
        try:
            continue_event = self._continue
            if continue_event is not None:
                # Like curl: a server that ignores Expect gets the body after a second.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(continue_event.wait(), EXPECT_CONTINUE_WAIT)
                if protocol.exception is not None or not protocol.is_connected:
                    # A final response came instead of 100: the body is not wanted.
                    if tracker is not None:
                        tracker._attempt_failed(writer.gen, None)
                    return
            try:
                body = self._body
                if self._wire_body is not None and body is not None:
                    await writer.write_encoded(self._wire_body, len(body.in_memory() or b""))
                elif body is not None:
                    await body.write(writer)
                writer.finish()
                await writer.end()
            except ClientError as exc:
                protocol.abort(exc)
                if tracker is not None:
                    tracker._attempt_failed(writer.gen, exc)
            except OSError as exc:
                failure: ClientError = ClientOSError(
                    exc.errno, f"Can not write request body for {self.url}: {exc}"
                )
                failure.__cause__ = exc
                protocol.abort(failure)
                if tracker is not None:
                    tracker._attempt_failed(writer.gen, failure)
            except Exception as exc:
                failure = ClientConnectionError(
                    f"Failed to send bytes into the underlying connection {conn}: {exc!r}"
                )
                failure.__cause__ = exc
                protocol.abort(failure)
                if tracker is not None:
                    tracker._attempt_failed(writer.gen, failure)
            else:
                if tracker is not None:
                    tracker._attempt_finished(writer.gen)
        except BaseException as exc:
            protocol.should_close = True  # the body was cut off mid-message
            if tracker is not None:
                cut = isinstance(exc, asyncio.CancelledError)
                tracker._attempt_failed(writer.gen, None if cut else exc)
            raise
        finally:
            protocol.writing_body = False
            self._body_done_at = protocol._loop.time()
            if self._writer is writer:
                self._output_size = writer.output_size
                self._writer = None
            if self._upload_done is not None and not self._upload_done.done():
                self._upload_done.set_result(None)
            if self._over:
                await self._close_body()

    @property
    def output_size(self) -> int:
        """Bytes of this request written so far: its head and body, after framing."""
        writer = self._writer
        return writer.output_size if writer is not None else self._output_size

    def upload_done(self) -> asyncio.Future[None]:
        """A future set once the body has stopped going out (at once if it has)."""
        future = self._upload_done
        if future is None:
            future = self._upload_done = asyncio.get_running_loop().create_future()
            if not self.writing:
                future.set_result(None)
        return future

    @property
    def writing(self) -> bool:
        """Whether a streamed body is still being written."""
        task = self._body_task
        return task is not None and not task.done()

    def terminate(self) -> None:
        """Stop writing the body (the response is being dropped)."""
        task = self._body_task
        if task is not None and not task.done():
            task.cancel()
            self._terminated = True
        self._body_task = None

    async def stop_writing(self) -> None:
        """``terminate()`` and wait until the writer has let go of the payload (before the
        payload is sent again, by the next hop of a redirect)."""
        task = self._body_task
        self.terminate()
        if task is not None and not task.done():
            await asyncio.wait((task,))

    async def close(self) -> None:
        """The request is over: its payload is closed now, or as soon as a body that is
        still going out has been written (aiohttp closes payloads after the request)."""
        self._over = True
        if self.writing and not self._terminated:
            return  # write_bytes closes it when it ends
        await self._close_body()

    async def _close_body(self) -> None:
        body = self._body
        if body is not None and not self._body_closed:
            self._body_closed = True
            await body.close()


@dataclasses.dataclass(frozen=True, slots=True)
class BuiltRequest:
    """A request built and not sent (``ClientSession.build_request``), as the wire gets it.

    ``head`` is the request line and header block byte for byte (``Host`` first, the auto
    headers, credentials, cookies, ``Content-Type``/``Content-Length``); ``headers`` the
    same fields as pairs in that order and ``target`` the request-target (origin-form, or
    absolute-form through a plain proxy). ``body`` is the body when it is in memory; a
    streamed one (a file, an async iterable) is produced while sending: ``body`` is None
    and ``streamed`` True. ``chunked`` bodies go out in chunked framing
    (``Transfer-Encoding: chunked`` in ``headers``).
    """

    method: str
    url: URL
    target: str
    headers: tuple[tuple[str, str], ...]
    head: bytes
    body: bytes | None
    streamed: bool
    chunked: bool
    proxy_decision: ProxyDecision | None

    @classmethod
    def of(cls, req: ClientRequest) -> BuiltRequest:
        payload = req.body
        body = req._wire_body  # a compressed in-memory body, as it goes out
        if body is None and payload is not None and req._stream_coding is None:
            body = payload.in_memory()
        return cls(
            req.method,
            req.url,
            req.request_target(),
            tuple(req.headers.items()),
            req.head_bytes(),
            body,
            payload is not None and body is None,
            bool(req.chunked),
            req.proxy_decision,
        )

    def to_bytes(self) -> bytes:
        """Head and in-memory body as one message, chunk-framed when ``chunked``
        (``ValueError`` for a streamed body, which only exists while it is sent)."""
        if self.streamed:
            raise ValueError("a streamed body is produced while it is sent")
        body = self.body or b""
        if not self.chunked:
            return self.head + body
        framed = b"%x\r\n%b\r\n" % (len(body), body) if body else b""
        return self.head + framed + b"0\r\n\r\n"
