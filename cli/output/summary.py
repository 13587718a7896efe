"""``--summary``: per-host counts and latency percentiles of a multi-request run.

``summarize`` is pure arithmetic over ``Outcome`` values; ``report_object`` is the same
numbers for ``--report``; ``show`` renders them with rich (imported only there).

Latency is a request's time on its connections: from the moment a connection was being
opened or reused to the end of the body, over all its hops. The wait for a free pool slot
is left out (``--limit-per-host 4`` with 200 requests queues most of them), so the numbers
say how fast the server is, not how long the queue was. Percentiles are nearest-rank.
"""

from __future__ import annotations

import collections
import dataclasses
import math
from collections.abc import Sequence
from typing import Any, BinaryIO

PERCENTILES = (50, 90, 99)


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What the summary counts of one request."""

    host: str  # host:port of the request's URL
    status: int | None  # the final status; None when the request failed
    error: str | None = None
    latency: float = 0.0  # seconds (see the module docstring)
    body_size: int = 0
    reused: tuple[bool, ...] = ()  # one per hop: whether its connection was reused
    http2: int = 0  # hops that were HTTP/2 streams


@dataclasses.dataclass(frozen=True, slots=True)
class HostStats:
    host: str
    requests: int
    statuses: dict[str, int]  # "200" → count; failed requests count under "error"
    opened: int
    reused: int
    http2_streams: int  # hops carried as HTTP/2 streams (on the opened and reused connections)
    # "p50", "p90", "p99", "max" in milliseconds; None when no request got a response
    latency: dict[str, float | None]
    bytes: int


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of ``values`` (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def _latencies(values: Sequence[float]) -> dict[str, float | None]:
    """Percentiles and max in milliseconds; None each when there is nothing to measure
    (every request failed): no number is better than a made-up 0.0."""
    if not values:
        return {**{f"p{p}": None for p in PERCENTILES}, "max": None}
    stats: dict[str, float | None] = {
        f"p{p}": round(percentile(values, p) * 1000, 3) for p in PERCENTILES
    }
    stats["max"] = round(max(values) * 1000, 3)
    return stats


def _stats(host: str, outcomes: Sequence[Outcome]) -> HostStats:
    statuses = collections.Counter(
        str(o.status) if o.status is not None else "error" for o in outcomes
    )
    hops = [reused for o in outcomes for reused in o.reused]
    return HostStats(
        host=host,
        requests=len(outcomes),
        statuses=dict(sorted(statuses.items())),
        opened=hops.count(False),
        reused=hops.count(True),
        http2_streams=sum(o.http2 for o in outcomes),
        latency=_latencies([o.latency for o in outcomes if o.status is not None]),
        bytes=sum(o.body_size for o in outcomes),
    )


def summarize(outcomes: Sequence[Outcome]) -> list[HostStats]:
    """One ``HostStats`` per host in the order hosts first appear, then ``all`` if several."""
    by_host: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        by_host.setdefault(outcome.host, []).append(outcome)
    rows = [_stats(host, group) for host, group in by_host.items()]
    if len(rows) > 1:
        rows.append(_stats("all", outcomes))
    return rows


def report_object(rows: Sequence[HostStats]) -> dict[str, Any]:
    """The ``--report`` line that follows the per-request records."""
    return {
        "summary": {
            "hosts": [
                {
                    "host": row.host,
                    "requests": row.requests,
                    "statuses": row.statuses,
                    "connections_opened": row.opened,
                    "connections_reused": row.reused,
                    "http2_streams": row.http2_streams,
                    "latency_ms": row.latency,
                    "bytes": row.bytes,
                }
                for row in rows
            ]
        }
    }


def _statuses(counts: dict[str, int]) -> Any:
    from rich.text import Text

    text = Text()
    for index, (status, count) in enumerate(counts.items()):
        if index:
            text.append(" ")
        style = "red" if status == "error" or status >= "400" else "green"
        text.append(f"{status}×{count}", style)
    return text


def table(rows: Sequence[HostStats]) -> Any:
    """The rich table of ``rows``."""
    from rich import box
    from rich.table import Table

    out = Table(
        title="summary",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    out.add_column("host", no_wrap=True)
    out.add_column("requests", justify="right")
    out.add_column("statuses", min_width=len("statuses"))
    out.add_column("opened", justify="right")
    out.add_column("reused", justify="right")
    for name in (*(f"p{p}" for p in PERCENTILES), "max"):
        out.add_column(f"{name} ms", justify="right")
    out.add_column("bytes", justify="right")
    notes = [
        f"{row.host}: {_streams(row.http2_streams)} shared {_connections(row.opened)}"
        for row in rows
        if row.http2_streams and row.host != "all"
    ]
    if notes:
        out.caption = "HTTP/2: " + "; ".join(notes)
        out.caption_justify = "left"
    for row in rows:
        out.add_row(
            row.host,
            str(row.requests),
            _statuses(row.statuses),
            str(row.opened),
            str(row.reused),
            *("-" if value is None else f"{value:.1f}" for value in row.latency.values()),
            str(row.bytes),
            style="bold" if row.host == "all" else None,
        )
    return out


def _streams(count: int) -> str:
    return f"{count} stream" if count == 1 else f"{count} streams"


def _connections(count: int) -> str:
    return f"{count} connection" if count == 1 else f"{count} connections"


def show(
    stream: BinaryIO, rows: Sequence[HostStats], *, color: bool, width: int, fit: bool = False
) -> None:
    """The table on ``stream``; ``fit`` (not a terminal): every column whole."""
    from cli.output.console import console_for

    with console_for(stream, color=color, width=width, fit=fit) as console:
        console.print(table(rows))
