"""``--history``: the redirect chain as a table on stderr, and the ``"redirects"`` records
of ``--report``.

Per hop: status, method, URL, time, and what was not carried to the next hop and why. The
engine records the headers it dropped on each redirect (``resp.redirect_dropped``, in
``ResponseMessage.dropped``); comparing the Cookie and Authorization headers that two
consecutive hops really sent adds what the jar stopped matching (a cookie set for the old
origin). Cookie values are never shown, only names.

The table and the records are built from ``cli.messages`` values (the hops' times come
from ``cli/run/tracing.py``'s hop clock); rich is imported only when the table is drawn.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cli.masking import mask_text, mask_url
from cli.messages import RequestMessage, ResponseMessage, header
from cli.messages import where as where_of

if TYPE_CHECKING:
    from rich.console import RenderableType

Hop = tuple[RequestMessage, ResponseMessage]
# What the history reports: credentials and cookies (Host is always recomputed).
_SHOWN = frozenset({"authorization", "proxy-authorization", "cookie"})


@dataclasses.dataclass(frozen=True, slots=True)
class Dropped:
    """A header (or some cookies) not sent on the next hop, and why."""

    name: str
    reason: str
    cookies: tuple[str, ...] = ()

    def text(self) -> str:
        label = f"{self.name} ({', '.join(self.cookies)})" if self.cookies else self.name
        return f"{label}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "reason": self.reason}
        if self.cookies:
            out["cookies"] = list(self.cookies)
        return out


@dataclasses.dataclass(frozen=True, slots=True)
class HopRow:
    index: int
    status: int
    method: str
    url: str
    elapsed: float
    dropped: tuple[Dropped, ...]


def cookie_names(headers: Sequence[tuple[str, str]]) -> list[str]:
    """The cookie names of every Cookie header, in order, without their values."""
    names: list[str] = []
    for key, value in headers:
        if key.lower() == "cookie":
            for pair in value.split(";"):
                name = pair.split("=", 1)[0].strip()
                if name and name not in names:
                    names.append(name)
    return names


def dropped_between(
    request: RequestMessage, response: ResponseMessage, nxt: RequestMessage
) -> tuple[Dropped, ...]:
    """What ``request`` sent that ``nxt`` (the request its redirect led to) did not."""
    recorded = {name.lower(): (name, reason) for name, reason in response.dropped}
    out: list[Dropped] = []
    gone = [n for n in cookie_names(request.headers) if n not in cookie_names(nxt.headers)]
    for lowered, (name, reason) in recorded.items():
        if lowered not in _SHOWN:
            continue
        if lowered == "cookie":
            out.append(Dropped("Cookie", reason, tuple(gone)))
            gone = []
        else:
            out.append(Dropped(name, reason))
    where = where_of(nxt.url)
    for name in ("Authorization", "Proxy-Authorization"):
        if (
            name.lower() not in recorded
            and header(request.headers, name) is not None
            and header(nxt.headers, name) is None
        ):
            out.append(Dropped(name, f"not sent to {where}"))
    if gone:
        out.append(Dropped("Cookie", f"jar cookies not matched for {where}", tuple(gone)))
    return tuple(out)


def hop_rows(hops: Sequence[Hop]) -> list[HopRow]:
    """One row per request of the chain, the final one last (its time net of the hops'; a
    chain cut short, by --max-redirects for one, ends in a hop timed on its own)."""
    rows = []
    spent = 0.0
    for index, (request, response) in enumerate(hops):
        dropped: tuple[Dropped, ...] = ()
        elapsed = response.elapsed
        if index + 1 < len(hops):
            dropped = dropped_between(request, response, hops[index + 1][0])
            spent += elapsed
        elif index and not response.redirect_hop:
            elapsed = max(0.0, elapsed - spent)
        rows.append(
            HopRow(index + 1, response.status, request.method, request.url, elapsed, dropped)
        )
    return rows


def report_hops(chain: Sequence[Hop], include_last: bool = False) -> list[dict[str, Any]]:
    """The report's ``"redirects"``: every hop of ``chain`` before the final response (all
    of them for a chain that ended in an error)."""
    return [
        {
            "method": row.method,
            "url": row.url,
            "status": row.status,
            "elapsed": round(row.elapsed, 6),
            "dropped": [d.to_dict() for d in row.dropped],
        }
        for row in (hop_rows(chain) if include_last else hop_rows(chain)[:-1])
    ]


def table(
    rows: Sequence[HopRow], final_note: str = "", *, show_secrets: bool = False
) -> RenderableType:
    """The chain as a rich table; ``final_note`` for a chain that ended in an error.
    URLs and the note are masked unless ``show_secrets`` (cli/masking.py)."""
    from rich.table import Table
    from rich.text import Text

    grid = Table(title="redirect history", title_justify="left", show_lines=False)
    grid.add_column("#", justify="right")
    grid.add_column("Status", justify="right")
    grid.add_column("Method")
    grid.add_column("URL", overflow="fold")
    grid.add_column("Time", justify="right", no_wrap=True)
    grid.add_column("Not carried to the next hop", overflow="fold")
    for row in rows:
        style = "green" if row.status < 300 else "yellow" if row.status < 400 else "red"
        dropped = "\n".join(d.text() for d in row.dropped) or "-"
        grid.add_row(
            str(row.index),
            Text(str(row.status), style),
            row.method,
            mask_url(row.url, show=show_secrets),
            f"{row.elapsed * 1000:.1f} ms",
            Text(dropped, "magenta" if row.dropped else "dim"),
        )
    if final_note:
        grid.caption = mask_text(final_note, show=show_secrets)
    return grid
