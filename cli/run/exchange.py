"""Runs a ``RequestSpec`` on the engine and yields plain messages; prints nothing.

Rules:
- ``client`` is imported inside ``run`` only, so ``--offline``, ``--help`` and usage
  errors never pay for the engine (or its TLS setup).
- Only names that aiohttp's client also has are used, plus the engine's documented extras
  (``resp.peername``, ``resp.reused_connection``, ``resp.raw_headers``), read with
  ``getattr`` so a response without them still renders.
- Engine exceptions propagate unchanged; ``failures`` turns them into exit codes.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from cli.messages import (
    BodyChunk,
    Event,
    RequestMessage,
    ResponseEnd,
    ResponseMessage,
    format_address,
)
from cli.output.streaming import is_event_stream
from cli.request.spec import RequestSpec

if TYPE_CHECKING:
    import client
    from cli.output.certview import TLSDetails


def target_of(url: str) -> str:
    """The request target of an origin-form request line (RFC 9112 §3.2.1)."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def host_header(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = 443 if parts.scheme == "https" else 80
    port = parts.port
    return host if port in (None, default) else f"{host}:{port}"


def where(url: str) -> str:
    """``host:port`` for messages about ``url``."""
    parts = urlsplit(url)
    host = parts.hostname or url
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def planned_request(spec: RequestSpec) -> RequestMessage:
    """The request as it would be sent, without the engine (``--offline``).

    The engine may add headers of its own (Accept-Encoding, for one) when it really sends.
    """
    headers = [("Host", host_header(spec.url)), *spec.headers]
    if spec.auth is not None and spec.auth_type == "basic":
        import base64

        creds = base64.b64encode(f"{spec.auth[0]}:{spec.auth[1]}".encode("latin-1")).decode()
        headers.append(("Authorization", f"Basic {creds}"))
    elif spec.auth is not None and spec.auth_type == "bearer":
        headers.append(("Authorization", f"Bearer {spec.auth[0]}"))
    # Digest credentials answer the server's challenge: nothing to plan before it comes.
    if spec.body is not None and spec.chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    elif spec.body is not None:
        headers.append(("Content-Length", str(len(spec.body))))
    return RequestMessage(spec.method, spec.url, target_of(spec.url), tuple(headers), spec.body)


def _request_message(resp: client.ClientResponse, body: bytes | None) -> RequestMessage:
    info = resp.request_info
    url = str(info.real_url)
    headers = tuple((str(k), str(v)) for k, v in info.headers.items())
    return RequestMessage(info.method, url, target_of(url), headers, body)


def _version(resp: Any) -> str:
    version = getattr(resp, "version", None)
    if version is None:
        return "1.1"
    return f"{version[0]}.{version[1]}"


def _tls_details(info: Any) -> TLSDetails | None:
    """``resp.tls_info`` (client.TLSInfo) as plain values; None for plain http."""
    if info is None:
        return None
    from cli.output.certview import TLSDetails

    return TLSDetails(
        info.version,
        info.cipher,
        info.alpn,
        info.server_hostname,
        info.verified,
        info.peer_certificate,
    )


def _response_message(
    resp: client.ClientResponse, body: bytes, elapsed: float, streamed: bool = False
) -> ResponseMessage:
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
        dropped=tuple((d.name, d.reason) for d in getattr(resp, "redirect_dropped", ())),
        tls=_tls_details(getattr(resp, "tls_info", None)),
    )


def _session_options(spec: RequestSpec) -> dict[str, Any]:
    """Keyword arguments for ``ClientSession``; options about connections go here."""
    import client

    options: dict[str, Any] = {
        "timeout": client.ClientTimeout(total=spec.timeout, connect=spec.connect_timeout)
    }
    if spec.connect is not None:
        from cli.command.connect import connector

        options["connector"] = connector(spec.connect)
    if spec.download:  # a file may be legitimately larger than the in-memory bomb limit
        options["max_decompressed_size"] = None
    if spec.cookie_jar is not None:  # --cookie-jar: loaded here, saved when run() ends
        from cli.request.cookies import load_jar

        options["cookie_jar"] = load_jar(spec.cookie_jar)
    if spec.proxy is not None and spec.proxy.trust_env:  # the environment picks, per hop
        options["trust_env"] = True
    if spec.auth is not None and spec.auth_type == "digest":
        # On the session, so later requests of a multi-URL run reuse the nonce (no 401 each).
        from client.digest import DigestAuthMiddleware

        options["middlewares"] = (DigestAuthMiddleware(spec.auth[0], spec.auth[1]),)
    return options


def _feature_traces(spec: RequestSpec) -> list[Any]:
    """Trace configs that flags need: hop times for --follow, pin checks for TLS pins."""
    configs: list[Any] = []
    if spec.follow:
        from cli.output.history import hop_trace_config

        configs.append(hop_trace_config())
    if spec.tls is not None and spec.tls.has_pins:
        from cli.command.proxy import https_proxy_endpoint
        from cli.command.tls import pin_trace_config

        configs.append(pin_trace_config(spec.tls, https_proxy_endpoint(spec.proxy)))
    return configs


def open_session(spec: RequestSpec, trace_configs: Sequence[Any] = ()) -> client.ClientSession:
    """The session ``run`` opens; multi-URL mode shares one across its requests."""
    import client

    configs = [*trace_configs, *_feature_traces(spec)]
    return client.ClientSession(**_session_options(spec), trace_configs=configs)


def _request_options(spec: RequestSpec) -> dict[str, Any]:
    """Keyword arguments for ``session.request``; options about one request go here."""
    from multidict import CIMultiDict

    import client

    options: dict[str, Any] = {
        "headers": CIMultiDict(spec.headers),
        "allow_redirects": spec.follow,
    }
    if spec.follow:
        # The engine counts as aiohttp does (the max_redirects-th redirect is not followed);
        # --max-redirects N follows N.
        options["max_redirects"] = spec.max_redirects + 1
    if spec.tls is not None:
        options["ssl"] = spec.tls.ssl
    if spec.proxy is not None:
        from cli.command.proxy import request_options

        options.update(request_options(spec.proxy))
    if spec.skip_auto_headers:
        options["skip_auto_headers"] = spec.skip_auto_headers
    if spec.body is not None:
        options["data"] = spec.body
    if spec.chunked:
        options["chunked"] = True
    if spec.auth is not None and spec.auth_type == "basic":
        options["auth"] = client.BasicAuth(spec.auth[0], spec.auth[1])
    elif spec.auth is not None and spec.auth_type == "bearer":
        options["headers"].setdefault("Authorization", f"Bearer {spec.auth[0]}")
    return options


def hop_messages(
    hop: client.ClientResponse, body: bytes
) -> tuple[RequestMessage, ResponseMessage]:
    """A followed redirect's request and response, marked as hops (shown with --all)."""
    from cli.output.history import hop_seconds

    request = dataclasses.replace(_request_message(hop, None), redirect_hop=True)
    response = _response_message(hop, body, hop_seconds(hop))
    return request, dataclasses.replace(response, redirect_hop=True)


def failed_chain(exc: BaseException) -> list[tuple[RequestMessage, ResponseMessage]]:
    """The hops of a chain that ended in ``TooManyRedirects`` (for --history)."""
    return [hop_messages(hop, b"") for hop in getattr(exc, "history", ()) or ()]


async def run(
    spec: RequestSpec,
    *,
    stream: bool = False,
    session: client.ClientSession | None = None,
    trace_configs: Sequence[Any] = (),
    trace_request_ctx: Any = None,
) -> AsyncGenerator[Event, None]:
    """Send ``spec``; yield the request as sent, then the response, for every hop.

    With ``stream`` the final body is yielded in pieces as it arrives instead of being
    held in memory (``zurl URL > big.iso``). ``session`` is a shared one (left open);
    otherwise a session with ``trace_configs`` is opened and closed here.
    """
    from cli.request.cookies import saving_jar

    owned = open_session(spec, trace_configs) if session is None else nullcontext(session)
    async with owned as session, saving_jar(session, spec.cookie_jar):
        started = time.perf_counter()
        options = {**_request_options(spec), "trace_request_ctx": trace_request_ctx}
        async with session.request(spec.method, spec.url, **options) as resp:
            for hop in resp.history:
                for message in hop_messages(hop, await hop.read()):
                    yield message
            yield _request_message(resp, spec.body)
            # server-sent events never end: always streamed (cli/output/streaming.py prints them)
            if not stream and not is_event_stream(resp.headers.get("Content-Type")):
                body = await resp.read()
                yield _response_message(resp, body, time.perf_counter() - started)
                return
            yield _response_message(resp, b"", time.perf_counter() - started, streamed=True)
            size = 0
            async for data in resp.content.iter_any():
                size += len(data)
                yield BodyChunk(data)
            yield ResponseEnd(time.perf_counter() - started, size)
