"""``--trace``: the timing waterfall on stderr, in the spirit of httpstat.

One row group per hop (a redirect adds one): a heading with the method, URL, status,
remote address and whether the connection was new or reused, then a row per phase with its
milliseconds and a bar placed where the phase sits in the hop. Several requests (multi-URL
mode) get one table with a row per request instead. Imports rich, never ``client``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cli.messages import format_address
from cli.output.console import console_for
from cli.timings import LABELS, PHASES, Hop, RequestTrace, milliseconds

BAR_WIDTH = 40
SHORT = {"connect": "tcp", "transfer": "xfer"}  # the per-request table's narrow headers
COLOURS = {
    "queue": "magenta",
    "dns": "cyan",
    "connect": "green",
    "tls": "yellow",
    "send": "blue",
    "wait": "red",
    "transfer": "bright_green",
}


def _bar(offset: float, duration: float, total: float, colour: str) -> Text:
    if total <= 0:
        return Text("")
    start = round(offset / total * BAR_WIDTH)
    length = max(1, round(duration / total * BAR_WIDTH)) if duration > 0 else 0
    start = min(start, BAR_WIDTH - length)
    return Text.assemble(" " * start, ("█" * length, colour))


def connection_state(hop: Hop) -> str:
    if hop.reused is None:
        return "no connection"
    return "reused connection" if hop.reused else "new connection"


def heading(hop: Hop, index: int, count: int) -> Text:
    text = Text()
    if count > 1:
        text.append(f"hop {index + 1}/{count}  ", "dim")
    text.append(f"{hop.method} ", "bold")
    text.append(hop.url, "cyan")
    if hop.status is not None:
        text.append(f"  {hop.status}", "bold green" if hop.status < 400 else "bold red")
    peer = format_address(hop.peer)
    if peer:
        text.append(f"  {peer}", "dim")
    text.append(f"  {connection_state(hop)}", "dim")
    if hop.http_version:
        text.append(f"  HTTP/{hop.http_version}", "dim")
    if hop.tls_version:
        text.append(f"  {hop.tls_version}", "dim")
    if hop.alpn:
        text.append(f"  ALPN {hop.alpn}", "dim")
    return text


def _shown(hop: Hop, name: str, ms: float) -> str:
    """The phase's milliseconds; ``-`` for a step the hop never took (TLS over http://)."""
    if name == "dns" and hop.dns_cache_hit:
        return "cache hit"
    skipped = {
        "dns": hop.reused or hop.dns_start is None,
        "connect": hop.reused or hop.create_start is None,
        "tls": hop.tls_start is None,
    }
    return "-" if skipped.get(name, False) else f"{ms:.1f} ms"


def hop_table(hop: Hop) -> Table:
    phases = hop.phases()
    offsets = hop.offsets()
    total = phases["total"]
    table = Table(show_header=False, box=None, padding=(0, 1), pad_edge=False)
    table.add_column("phase", style="bold", no_wrap=True)
    table.add_column("ms", justify="right", no_wrap=True)
    table.add_column("bar", no_wrap=True)
    for name in PHASES:
        ms = milliseconds(phases[name])
        bar = _bar(offsets[name], phases[name], total, COLOURS[name])
        table.add_row(LABELS[name], _shown(hop, name, ms), bar)
    table.add_row("total", Text(f"{milliseconds(total):.1f} ms", "bold"), "")
    return table


def waterfall(trace: RequestTrace, attempts: int = 1) -> Group:
    """Every hop of one request: a heading and its phase rows (``attempts`` > 1: the
    attempt it was, with --retry)."""
    parts: list[Text | Table] = []
    if attempts > 1:
        parts.append(Text(f"attempt {trace.attempt} of {attempts}", "bold"))
    for index, hop in enumerate(trace.hops):
        if index:
            parts.append(Text(""))
        parts.append(heading(hop, index, len(trace.hops)))
        parts.append(hop_table(hop))
    if trace.error is not None:
        parts.append(Text(f"failed: {type(trace.error).__name__}: {trace.error}", "red"))
    return Group(*parts)


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


def request_table(traces: Sequence[RequestTrace], width: int = 100) -> Table:
    """Multi-URL mode: one row per request, phases summed over its hops.

    When every request goes to one origin, the title names it and rows show only paths.
    The numbers never shrink: the request column gets what is left and ends in "…".
    """
    from rich import box

    rows = [t for t in traces if t.hops]
    retried: dict[Any, int] = {}
    for trace in rows:
        retried[trace.label] = max(retried.get(trace.label, 1), trace.attempt)
    origins = {_origin(t.hops[0].url) for t in rows}
    shared = origins.pop() if len(origins) == 1 else ""
    table = Table(
        title=f"timings (ms) {shared}".rstrip(),
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    headers = [SHORT.get(name, name) for name in (*PHASES, "total")]
    numbers = sum(max(len(h), 5) + 2 for h in headers)
    label_width = len(str(max((t.label for t in rows if isinstance(t.label, int)), default=1)))
    label_width += max((len(str(t.attempt)) + 1 for t in rows if retried[t.label] > 1), default=0)
    room = max(12, width - numbers - label_width - 2 - 2 * (7 + 2))
    table.add_column("#", no_wrap=True, min_width=label_width)
    table.add_column("request", no_wrap=True, overflow="ellipsis", max_width=room)
    table.add_column("status", no_wrap=True, min_width=6)
    table.add_column("conn", no_wrap=True, min_width=6)
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True, min_width=max(len(header), 5))
    for trace in rows:
        sums = {name: sum(hop.phases()[name] for hop in trace.hops) for name in (*PHASES, "total")}
        statuses = "→".join(str(hop.status) for hop in trace.hops if hop.status is not None)
        first = trace.hops[0]
        label = str(trace.label if trace.label is not None else "")
        if retried.get(trace.label, 1) > 1:
            label += f".{trace.attempt}"  # --retry: 3.1, 3.2 are request 3's attempts
        table.add_row(
            label,
            f"{first.method} {first.url.removeprefix(shared) or '/'}",
            "error" if trace.error is not None else statuses or "-",
            "reused" if first.reused else "new",
            *(f"{milliseconds(sums[name]):.1f}" for name in (*PHASES, "total")),
        )
    return table


def show(
    stream: BinaryIO,
    traces: Sequence[RequestTrace],
    *,
    color: bool,
    width: int,
    table: bool = False,
    fit: bool = False,
) -> None:
    """Print the waterfall of each trace, or with ``table`` one per-request table;
    ``fit`` (not a terminal): nothing shortened to a width."""
    with console_for(stream, color=color, width=width, fit=fit) as console:
        if table:
            console.print(request_table(traces, console.width if fit else width or 80))
            return
        for trace in traces:
            console.print(waterfall(trace, len(traces)))
