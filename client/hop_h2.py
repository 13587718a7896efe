"""One request as an HTTP/2 stream: the fields, the body and the wait for the head.

Rules:
- The request goes out as it would over HTTP/1.1 (the same headers, body and ``Expect``),
  turned into an HTTP/2 field block by ``http2.request_fields``: no connection-specific
  header, ``Host`` as ``:authority``, ``Transfer-Encoding`` dropped (DATA frames frame
  the body).
- A body is written by the request's own writer (``ClientRequest.start_body``: the
  compression, Content-Length checks, upload tracker and ``100 Continue`` of HTTP/1.1)
  into the stream's ``H2Upload``, as a task while the head is awaited, so an early
  answer is heard; the lease cancels it when the exchange ends.
- Which failures may be sent again (``retryable``): a stream the server did not process
  (GOAWAY above its last id, REFUSED_STREAM) when the request is idempotent with a body
  that can be replayed, or always if not one byte of it was sent; and, as over HTTP/1.1,
  a reused connection that broke before any byte of the answer, for idempotent requests.
  The trace signals are those of HTTP/1.1; waiting for a stream slot (the server's
  ``MAX_CONCURRENT_STREAMS``) is a queued wait.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from multidict import CIMultiDictProxy

from .headers import host_header
from .headwait import await_head
from .http2 import request_fields
from .http2_stream import StreamRefusedError

if TYPE_CHECKING:
    from .client_request import ClientRequest
    from .deadlines import CoarseTimers
    from .http1 import ResponseHead
    from .http2_connection import H2Protocol
    from .http2_stream import H2Lease
    from .streams import StreamReader

__all__ = ["exchange_h2", "retryable"]


async def exchange_h2(
    lease: H2Lease, req: ClientRequest, settings: Any, timers: CoarseTimers
) -> tuple[ResponseHead, StreamReader]:
    """Send ``req`` on a new stream of the lease's connection; return head and body."""
    live = cast("H2Protocol", lease.connection)
    if not live.accepting:
        raise StreamRefusedError("The connection takes no new stream", sent=False)
    url = req.url
    fields = request_fields(
        req.method, url.scheme, host_header(url), url.raw_path_qs or "/", req.headers.items()
    )
    end_stream = req.body is None
    traces = req.traces
    queued = bool(traces) and not live.has_room
    if queued:
        for trace in traces:
            await trace.send_connection_queued_start()
    stream = await live.open_stream(req.method, fields, settings, end_stream=end_stream)
    lease.stream = stream
    if queued:
        for trace in traces:
            await trace.send_connection_queued_end()
    continue_event = asyncio.Event() if req.expect100 else None
    if continue_event is not None:

        def informational(head: ResponseHead) -> None:
            if head.status == 100:
                continue_event.set()

        stream.informational = informational
    for trace in traces:
        await trace.send_request_headers_sent(req.method, url, CIMultiDictProxy(req.headers))
    if not end_stream:
        lease.body_task = req.start_body(live.upload(stream), continue_event, lease)
    return await await_head(stream.head, req, live, settings.timeout, timers)


def retryable(exc: BaseException, lease: H2Lease, req: ClientRequest, may_repeat: bool) -> bool:
    """Whether the request may be sent again on another stream after ``exc``."""
    if isinstance(exc, StreamRefusedError):
        return not exc.sent or may_repeat
    stream = lease.stream
    return lease.reused and may_repeat and (stream is None or not stream.got_bytes)
