"""Per-hop phase timings as values: curl's ``-w`` times, httpstat's bars.

Rules:
- A request's ``RequestTrace`` (the trace_config_ctx that ``cli/run/tracing.py`` gives
  it) holds one ``Hop`` per redirect hop: the ``perf_counter`` time of every mark the
  engine's trace signals carry, plus what they say (peer, TLS version, status, body size).
- A hop starts at ``request_start`` (the first) or at the previous hop's end; a new hop
  begins when a connection is asked for after the current hop's response head arrived.
- Phases are differences of consecutive cumulative marks (as curl's time_namelookup,
  time_connect, time_appconnect, ... are), each clamped to the one before, so they are never
  negative and add up to the hop's total exactly. Small gaps (handing a new connection
  over) count towards the phase that follows them.

A leaf: no engine, no rendering; ``record`` files one signal's time on its hop.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from cli.messages import format_address, version_text

# The phases in the order they happen (keys of ``Hop.phases`` and of the report's timings).
PHASES = ("queue", "dns", "connect", "tls", "send", "wait", "transfer")
LABELS = {
    "queue": "queue wait",
    "dns": "DNS lookup",
    "connect": "TCP connect",
    "tls": "TLS handshake",
    "send": "request sent",
    "wait": "server processing",
    "transfer": "content transfer",
}


@dataclasses.dataclass
class Hop:
    """One request/response exchange of a request (the first, or one per redirect)."""

    start: float
    method: str = ""
    url: str = ""
    queued: float | None = None  # waiting for a free pool slot began / ended
    dequeued: float | None = None
    reused: bool | None = None
    reuse_at: float | None = None
    create_start: float | None = None
    dns_cache_hit: bool | None = None  # None: no lookup at all (an IP literal, a socket)
    dns_start: float | None = None
    dns_end: float | None = None
    tcp_start: float | None = None
    tcp_end: float | None = None
    peer: Any = None
    tls_start: float | None = None
    tls_end: float | None = None
    tls_version: str | None = None
    tls_cipher: str | None = None
    alpn: str | None = None  # what ALPN chose ("h2", "http/1.1"), on a new TLS connection
    http_version: str | None = None  # the response's: "1.1", "2"
    server_hostname: str | None = None
    ready: float | None = None  # the connection is ours (created or reused)
    sent: float | None = None  # headers, then each body chunk, written
    body_sent: int = 0
    first_byte: float | None = None
    head: float | None = None  # the response head was parsed (request_end / redirect)
    status: int | None = None
    end: float | None = None  # the body was read to its end
    body_size: int | None = None

    def cumulative(self) -> list[float]:
        """The end of each phase, as seconds from ``start``, never decreasing."""
        first_mark = [
            t
            for t in (self.create_start, self.reuse_at, self.dns_start, self.ready, self.sent)
            if t is not None
        ]
        connected = self.tcp_end
        if connected is None and self.create_start is not None and self.tls_end is None:
            connected = self.ready  # a Unix socket: no TCP signals, connecting is all of it
        marks = [
            first_mark[0] if first_mark else self.start,  # queue ends: connection work begins
            self.dns_end,
            connected,
            self.tls_end,
            self.sent,
            self.first_byte,
            self.finished(),
        ]
        out: list[float] = []
        last = self.start
        for mark in marks:
            last = max(last, mark if mark is not None else last)
            out.append(last - self.start)
        return out

    def finished(self) -> float:
        """When the hop ended: its body's end, else the last mark it reached."""
        for mark in (self.end, self.head, self.first_byte, self.sent, self.ready):
            if mark is not None:
                return mark
        return self.start

    def phases(self) -> dict[str, float]:
        """Each phase's duration in seconds, plus ``total``."""
        ends = self.cumulative()
        starts = [0.0, *ends[:-1]]
        durations = {name: b - a for name, a, b in zip(PHASES, starts, ends, strict=True)}
        durations["total"] = ends[-1]
        return durations

    def offsets(self) -> dict[str, float]:
        """When each phase began, in seconds from ``start`` (for the waterfall's bars)."""
        return dict(zip(PHASES, [0.0, *self.cumulative()[:-1]], strict=True))


@dataclasses.dataclass
class RequestTrace:
    """The trace_config_ctx of one request: its hops and how it ended."""

    label: Any = None  # the request's trace_request_ctx (multi mode: its index)
    hops: list[Hop] = dataclasses.field(default_factory=list)
    error: BaseException | None = None
    attempt: int = 1  # --retry: 2 for the request's second sending, and so on

    @property
    def hop(self) -> Hop:
        if not self.hops:
            self.hops.append(Hop(start=time.perf_counter()))
        return self.hops[-1]

    def next_hop(self, now: float) -> Hop:
        """The hop a connection is being asked for: a new one after a redirect's head."""
        current = self.hop
        if current.head is None:
            return current
        hop = Hop(start=current.finished(), method=current.method, url=current.url)
        self.hops.append(hop)
        return hop


def record(ctx: RequestTrace, name: str, params: Any, now: float) -> None:
    """Put one signal's time and details on the hop it belongs to."""
    if name == "request_start":
        ctx.hops.append(Hop(start=now, method=params.method, url=str(params.url)))
        return
    if name in ("connection_queued_start", "connection_reuseconn", "connection_create_start"):
        hop = ctx.next_hop(now)
    else:
        hop = ctx.hop
    if name == "connection_queued_start":
        hop.queued = now
    elif name == "connection_queued_end":
        hop.dequeued = now
    elif name == "connection_reuseconn":
        hop.reused, hop.reuse_at, hop.ready = True, now, now
    elif name == "connection_create_start":
        hop.reused, hop.create_start = False, now
    elif name in ("dns_cache_hit", "dns_cache_miss"):
        hop.dns_cache_hit = name == "dns_cache_hit"
    elif name == "dns_resolvehost_start":
        hop.dns_start = now
    elif name == "dns_resolvehost_end":
        hop.dns_end = now
    elif name == "tcp_connect_start":
        hop.tcp_start = now  # the last address tried: earlier failures count as DNS-to-connect
    elif name == "tcp_connect_end":
        hop.tcp_end, hop.peer = now, params.peername
    elif name == "tls_handshake_start":
        hop.tls_start, hop.server_hostname = now, params.server_hostname
    elif name == "tls_handshake_end":
        hop.tls_end, hop.tls_version, hop.tls_cipher = now, params.version, params.cipher
        hop.alpn = getattr(params, "alpn", None)
    elif name == "connection_create_end":
        hop.ready = now
    elif name == "request_headers_sent":
        hop.sent, hop.method, hop.url = now, params.method, str(params.url)
    elif name == "request_chunk_sent":
        hop.sent = now
        hop.body_sent += len(params.chunk)
    elif name == "response_first_byte":
        hop.first_byte = now
    elif name in ("request_end", "request_redirect"):
        resp = params.response
        hop.head, hop.status = now, getattr(resp, "status", None)
        # A reused connection sent no connect/TLS signals: the response still knows both.
        hop.peer = hop.peer or getattr(resp, "peername", None)
        tls = getattr(resp, "tls_info", None)
        hop.tls_version = hop.tls_version or getattr(tls, "version", None)
        hop.alpn = hop.alpn or getattr(tls, "alpn", None)
        version = getattr(resp, "version", None)
        if version is not None:
            hop.http_version = version_text(version)
    elif name == "response_end":
        hop.end, hop.body_size = now, params.body_size
    elif name == "request_exception":
        ctx.error = params.exception
        hop.end = hop.end or now


def milliseconds(seconds: float) -> float:
    return round(seconds * 1000, 3)


def report_timings(trace: RequestTrace | None) -> list[dict[str, Any]]:
    """``--report``'s ``"timings"``: one object per hop, phases in milliseconds."""
    if trace is None:
        return []
    out: list[dict[str, Any]] = []
    for hop in trace.hops:
        entry: dict[str, Any] = {"url": hop.url, "status": hop.status}
        entry.update({name: milliseconds(value) for name, value in hop.phases().items()})
        entry["reused_connection"] = hop.reused
        entry["dns_cache_hit"] = hop.dns_cache_hit
        entry["remote_address"] = format_address(hop.peer)
        if hop.tls_version is not None:
            entry["tls_version"] = hop.tls_version
        if hop.http_version is not None:
            entry["http_version"] = hop.http_version
        out.append(entry)
    return out
