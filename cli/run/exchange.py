"""Runs a ``RequestSpec`` on the engine and yields plain messages; prints nothing.

Rules:
- ``client`` is imported inside the functions only, so ``--offline``, ``--help`` and usage
  errors never pay for the engine (or its TLS setup).
- Only names that aiohttp's client also has are used, plus the engine's documented extras
  (``resp.peername``, ``resp.reused_connection``, ``resp.raw_headers``), read with
  ``getattr`` so a response without them still renders.
- Engine exceptions propagate unchanged; ``failures`` turns them into exit codes.
- What the engine reports is turned into ``cli.messages`` values here, and only here:
  the output layer never sees an engine object.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from cli.messages import (
    BodyChunk,
    Event,
    RequestMessage,
    ResponseEnd,
    ResponseMessage,
    TLSDetails,
    format_address,
    version_text,
)
from cli.output.streaming import is_event_stream
from cli.request.spec import RequestSpec
from cli.request.urls import engine_url, target_of
from cli.run.plans import SessionPlan
from cli.run.session import open_session, request_options

if TYPE_CHECKING:
    import client


def request_message(resp: client.ClientResponse, body: bytes | None) -> RequestMessage:
    """The request of ``resp`` as the engine sent it."""
    info = resp.request_info
    url = str(info.real_url)
    headers = tuple((str(k), str(v)) for k, v in info.headers.items())
    return RequestMessage(info.method, url, target_of(url), headers, body, _version(resp))


def _version(resp: Any) -> str:
    return version_text(getattr(resp, "version", None))


def _tls_details(info: Any) -> TLSDetails | None:
    """``resp.tls_info`` (client.TLSInfo) as plain values; None for plain http."""
    if info is None:
        return None
    return TLSDetails(
        info.version,
        info.cipher,
        info.alpn,
        info.server_hostname,
        info.verified,
        info.peer_certificate,
    )


def response_message(
    resp: client.ClientResponse, body: bytes, elapsed: float, streamed: bool = False
) -> ResponseMessage:
    """``resp`` as plain values (``body``: what was read of it, decoded)."""
    raw = tuple((bytes(k), bytes(v)) for k, v in getattr(resp, "raw_headers", ()) or ())
    reused = getattr(resp, "reused_connection", None)
    return ResponseMessage(
        url=str(resp.url),
        status=resp.status,
        reason=resp.reason or "",
        headers=tuple((str(k), str(v)) for k, v in resp.headers.items()),
        body=body,
        http_version=_version(resp),
        raw_headers=raw,
        elapsed=elapsed,
        remote_address=format_address(getattr(resp, "peername", None)),
        reused_connection=reused if isinstance(reused, bool) else None,
        streamed=streamed,
        dropped=tuple((d.name, _reason(d.reason)) for d in getattr(resp, "redirect_dropped", ())),
        tls=_tls_details(getattr(resp, "tls_info", None)),
    )


def _reason(text: str) -> str:
    """The engine's reason for a dropped header, in the command line's words: its
    ``auth=`` is what -a (or the URL's user:password@) became."""
    if text.startswith("auth= "):
        return "credentials (-a) " + text.removeprefix("auth= ").replace("re-applied", "re-sent")
    return text


def hop_messages(
    hop: client.ClientResponse, body: bytes
) -> tuple[RequestMessage, ResponseMessage]:
    """A followed redirect's request and response, marked as hops (shown with --all)."""
    from cli.run.tracing import hop_seconds

    request = request_message(hop, None)._replace(redirect_hop=True)
    response = response_message(hop, body, hop_seconds(hop))
    return request, response._replace(redirect_hop=True)


def failed_chain(exc: BaseException) -> list[tuple[RequestMessage, ResponseMessage]]:
    """The hops of a chain that ended in ``TooManyRedirects`` (for --history)."""
    return [hop_messages(hop, b"") for hop in getattr(exc, "history", ()) or ()]


def _saving(session: client.ClientSession, plan: SessionPlan) -> Any:
    """--cookie-jar and --session: a context that saves them when it ends (else nothing)."""
    if plan.cookie_jar is None and plan.session_file is None:
        return nullcontext()
    from cli.run.jar import saving_jar

    return saving_jar(session, plan)


def certificate_summary(der: bytes) -> dict[str, Any] | None:
    """``CertificateInfo.to_dict()`` of ``der``; None when it cannot be read."""
    import client

    try:
        return client.parse_certificate(der).to_dict()
    except ValueError:
        return None


def certificate_of(response: ResponseMessage) -> dict[str, Any] | None:
    """The summary of ``response``'s certificate for the report (None for http://)."""
    der = response.tls.peer_certificate if response.tls is not None else None
    return certificate_summary(der) if der else None


async def run(
    spec: RequestSpec,
    plan: SessionPlan | None = None,
    *,
    stream: bool = False,
    session: client.ClientSession | None = None,
    trace_configs: Sequence[Any] = (),
    trace_request_ctx: Any = None,
) -> AsyncGenerator[Event, None]:
    """Send ``spec``; yield the request as sent, then the response, for every hop.

    With ``stream`` the final body is yielded in pieces as it arrives instead of being
    held in memory (``zurl URL > big.iso``). ``session`` is a shared one (left open);
    otherwise one for ``plan`` with ``trace_configs`` is opened and closed here.
    """
    plan = plan or SessionPlan()
    if session is None:
        owned: Any = open_session(plan, trace_configs, hop_clock=spec.follow)
    else:
        owned = nullcontext(session)
    async with owned as session, _saving(session, plan):
        started = time.perf_counter()
        options = {**request_options(spec, plan), "trace_request_ctx": trace_request_ctx}
        async with session.request(spec.method, engine_url(spec.url), **options) as resp:
            for hop in resp.history:
                for message in hop_messages(hop, await hop.read()):
                    yield message
            yield request_message(resp, spec.body)
            # server-sent events never end: always streamed (cli/output/streaming.py prints)
            if not stream and not is_event_stream(resp.headers.get("Content-Type")):
                body = await resp.read()
                yield response_message(resp, body, time.perf_counter() - started)
                return
            yield response_message(resp, b"", time.perf_counter() - started, streamed=True)
            size = 0
            async for data in resp.content.iter_any():
                size += len(data)
                yield BodyChunk(data)
            yield ResponseEnd(time.perf_counter() - started, size)
