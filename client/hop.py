"""One hop of a request: a pooled connection, the request written, the response head read.

Rules:
- The head wait has one timer: whichever comes first of ``sock_read`` and the total
  deadline; the error says which phase stalled.
- One silent retry, always on a NEW connection (another idle one may be just as stale),
  announced by the ``on_request_retry`` trace signal, in exactly two cases:
  1. the connection turned out closed before one byte of the request was written to it
     (any method: the server cannot have seen it);
  2. a kept-alive (reused) connection failed — closed by the server (FIN) or reset (RST) —
     after the request was written but before any byte of a response, and the method is
     idempotent (RFC 9110 §9.2.2) with a body that can be sent again: RFC 9112 §9.3.1
     allows this automatic retry, since a server may close an idle connection at any time.
  Anything else surfaces: a POST that may have reached the server is never sent twice.
- Whatever goes wrong, the connection is closed and a streamed body stops being written.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple

from .decoders import WHOLE_READ_RATIO
from .exceptions import (
    ClientConnectionResetError,
    MalformedResponseError,
    ServerDisconnectedError,
)
from .headwait import unwatch, watch_head
from .hop_h2 import exchange_h2, retryable
from .http2_stream import H2Lease, H2Stream, StreamRefusedError
from .response import ClientResponse

if TYPE_CHECKING:
    from .client_request import ClientRequest
    from .config import ClientTimeout
    from .connection import Connection, ResponseProtocol
    from .deadlines import CoarseTimers
    from .http1 import ResponseHead
    from .http2_pool import H2Origins
    from .pool import BaseConnector
    from .streams import StreamReader

__all__ = ["HopSettings", "send_hop"]

# RFC 9110 §9.2.2: methods whose repetition is harmless — a stale-connection retry is safe.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
_STALE = (ServerDisconnectedError, ClientConnectionResetError, ConnectionResetError)


class HopSettings(NamedTuple):
    """The session's reading settings for one request."""

    timeout: ClientTimeout
    read_bufsize: int
    auto_decompress: bool
    max_decompressed_size: int | None
    charset_resolver: Callable[[ClientResponse, bytes], str]
    max_line_size: int
    max_field_size: int
    read_until_eof: bool
    max_headers: int
    response_class: type[ClientResponse] = ClientResponse  # ClientSession(response_class=)
    # The expansion ratio bounds of a compressed body (decoders.ExpansionMeter): for a body
    # read whole, and for any read; None: no bound.
    whole_read_ratio: float | None = WHOLE_READ_RATIO
    stream_ratio: float | None = None


class _Unsent(Exception):
    """Carries the error of a connection found closed before the request was written."""


async def send_hop(
    connector: BaseConnector,
    req: ClientRequest,
    settings: HopSettings,
    history: tuple[ClientResponse, ...],
    session: Any,
    *,
    first: Connection | None = None,
) -> ClientResponse:
    """Send ``req`` and return its response as soon as the head has arrived.

    ``first``: an HTTP/1.1 connection already acquired for it (by the HTTP/2 side, for an
    origin that turned out to speak HTTP/1.1).
    """
    h2 = connector._http2
    if h2 is not None and first is None and h2.applies(req):
        return await _send_h2(h2, connector, req, settings, history, session)
    retry = False
    while True:
        if first is None:  # a connection handed over by the HTTP/2 side is its attempt
            req.begin_attempt()
        conn = None if req.traces or retry else connector.connect_now(req)
        if first is not None:
            conn, first = first, None
        if conn is None:
            conn = await connector.connect(req, req.traces, settings.timeout, fresh=retry)
        if conn.reused and not _may_repeat(req) and _heard_from_peer(conn):
            # Not retryable once sent: never on a connection the server has just closed.
            conn.close()
            conn = await connector.connect(req, req.traces, settings.timeout, fresh=True)
        protocol = conn.protocol
        peername = protocol.peername if protocol is not None else None
        tls = protocol.tls if protocol is not None else None
        try:
            head, stream = await _exchange(conn, req, settings, session._coarse_timers)
        except (_Unsent, *_STALE) as exc:
            await req.stop_writing()  # a retry reads the payload again from its start
            conn.close()
            sent = not isinstance(exc, _Unsent)
            error = exc if sent else exc.args[0]
            if retry or (sent and not _stale_and_safe(conn, protocol, req)):
                raise error from None
            retry = True
            for trace in req.traces:
                await trace.send_request_retry(req.method, req.url, error)
            continue
        except MalformedResponseError as exc:
            conn.close()
            raise MalformedResponseError(
                req.request_info, history, status=exc.status, message=exc.message
            ) from exc.__cause__  # None unless an unexpected error was wrapped
        except BaseException:
            req.terminate()
            conn.close()
            raise
        break
    for trace in req.traces:
        await trace.send_response_first_byte(req.method, req.url)
    return settings.response_class(
        req.method,
        req.url,
        head=head,
        request=req,
        connection=conn,
        content=stream,
        history=history,
        session=session,
        traces=req.traces,
        charset_resolver=settings.charset_resolver,
        deadline=req.deadline,
        peername=peername,
        tls=tls,
    )


# A stream refused again and again (each time by a GOAWAY, say) is sent at most this often.
H2_ATTEMPTS = 3


async def _send_h2(
    h2: H2Origins,
    connector: BaseConnector,
    req: ClientRequest,
    settings: HopSettings,
    history: tuple[ClientResponse, ...],
    session: Any,
) -> ClientResponse:
    """``send_hop`` over HTTP/2: a stream on the origin's connection (``hop_h2``)."""
    attempt = 1
    while True:
        req.begin_attempt()
        conn = await h2.connect(req, req.traces, settings.timeout)
        if not isinstance(conn, H2Lease):  # the origin speaks HTTP/1.1
            return await send_hop(connector, req, settings, history, session, first=conn)
        try:
            head, stream = await exchange_h2(conn, req, settings, session._coarse_timers)
        except _STALE as exc:
            conn.close()
            await req.stop_writing()  # a retry reads the payload again from its start
            if attempt >= H2_ATTEMPTS or not retryable(exc, conn, req, _may_repeat(req)):
                if isinstance(exc, StreamRefusedError) and exc.sent:
                    raise StreamRefusedError(
                        f"{exc} (a {req.method} request is not sent again by itself)"
                    ) from None
                raise
            attempt += 1
            for trace in req.traces:
                await trace.send_request_retry(req.method, req.url, exc)
            continue
        except MalformedResponseError as exc:
            conn.close()
            raise MalformedResponseError(
                req.request_info, history, status=exc.status, message=exc.message
            ) from exc.__cause__
        except BaseException:
            conn.close()
            raise
        break
    for trace in req.traces:
        await trace.send_response_first_byte(req.method, req.url)
    live = conn.connection
    resp = settings.response_class(
        req.method,
        req.url,
        head=head,
        request=req,
        connection=conn,  # type: ignore[arg-type]  # a stream's lease, Connection's surface
        content=stream,
        history=history,
        session=session,
        traces=req.traces,
        charset_resolver=settings.charset_resolver,
        deadline=req.deadline,
        peername=live.peername,
        tls=live.tls,
    )
    h2_stream = conn.stream
    if h2_stream is not None and not stream.is_eof():
        stream.on_eof(partial(_keep_trailers, weakref.ref(resp), h2_stream))
    elif h2_stream is not None:
        resp.trailers = h2_stream.trailers
    return resp


def _keep_trailers(ref: weakref.ref[ClientResponse], stream: H2Stream) -> None:
    resp = ref()
    if resp is not None:
        resp.trailers = stream.trailers


def _stale_and_safe(
    conn: Connection, protocol: ResponseProtocol | None, req: ClientRequest
) -> bool:
    """A reused connection closed before any response byte, and the request may be repeated."""
    return conn.reused and protocol is not None and not protocol.got_bytes and _may_repeat(req)


def _may_repeat(req: ClientRequest) -> bool:
    """An idempotent method (RFC 9110 §9.2.2) with a body that can be sent again."""
    return req.method in IDEMPOTENT_METHODS and req.replayable


def _heard_from_peer(conn: Connection) -> bool:
    protocol = conn.protocol
    return protocol is None or not protocol.is_connected or protocol.heard_from_peer()


async def _exchange(
    conn: Connection, req: ClientRequest, settings: HopSettings, timers: CoarseTimers
) -> tuple[ResponseHead, StreamReader]:
    protocol = conn.protocol
    if protocol is None or not protocol.is_connected:
        raise _Unsent(ServerDisconnectedError("Connection closed before the request was sent"))
    continue_event = asyncio.Event() if req.expect100 else None
    informational = None
    if continue_event is not None:

        def informational(head: ResponseHead) -> None:
            if head.status == 100:
                continue_event.set()

    timeout = settings.timeout
    head_fut = protocol.begin_with(
        req.method, settings, conn.released_by, upgrade="Upgrade" in req.headers
    )
    if informational is not None:
        protocol._informational = informational
    try:
        req.start(protocol, continue_event, conn)
    except ClientConnectionResetError as exc:  # the transport was closing: nothing written
        raise _Unsent(exc) from None
    if "close" in req.headers.get("Connection", "").lower():
        protocol.should_close = True  # we said so: no further request on it (RFC 9112 §9.6)
    if req.traces:
        await req.trace_sent()
    armed = watch_head(head_fut, req, protocol, timeout, timers, protocol._loop)
    try:
        head, stream = await head_fut
    finally:
        unwatch(timers, armed)
    if continue_event is not None and not continue_event.is_set():
        # A final answer came instead of 100 Continue: the body must not follow, and the
        # server may still expect it, so the connection is not reused.
        req.terminate()
        protocol.should_close = True
    return head, stream
