"""``--summary``'s arithmetic (nearest-rank percentiles, per-host counts) and its table."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from rich.console import Console

from cli.exitcodes import ExitCode
from cli.output.summary import Outcome, percentile, report_object, summarize, table
from tests.cli.conftest import zurl
from tests.servers.keepalive import KeepAliveServerFactory

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


@pytest.mark.parametrize(
    ("p", "expected"),
    [(50, 50.0), (90, 90.0), (99, 99.0), (100, 100.0), (1, 1.0), (0, 1.0)],
)
def test_nearest_rank_percentiles(p: float, expected: float) -> None:
    values = [float(v) for v in range(100, 0, -1)]  # order does not matter
    assert percentile(values, p) == expected


def test_percentiles_of_few_values() -> None:
    assert percentile([], 50) == 0
    assert percentile([0.3], 99) == 0.3
    assert percentile([0.1, 0.2, 0.3, 0.4], 50) == 0.2
    assert percentile([0.1, 0.2, 0.3, 0.4], 90) == 0.4


def outcomes() -> list[Outcome]:
    a, b = "a.test:80", "b.test:443"
    return [
        Outcome(a, 200, latency=0.010, body_size=5, reused=(False,)),
        Outcome(a, 200, latency=0.020, body_size=5, reused=(True,)),
        Outcome(a, 503, latency=0.030, body_size=0, reused=(True,)),
        Outcome(b, 301, latency=0.040, body_size=7, reused=(False, True)),
        Outcome(b, None, error="cannot connect", reused=()),
    ]


def test_summarize_counts_per_host_then_all() -> None:
    rows = summarize(outcomes())
    assert [row.host for row in rows] == ["a.test:80", "b.test:443", "all"]
    a, b, both = rows
    assert (a.requests, a.statuses, a.opened, a.reused, a.bytes) == (
        3,
        {"200": 2, "503": 1},
        1,
        2,
        10,
    )
    assert a.latency == {"p50": 20.0, "p90": 30.0, "p99": 30.0, "max": 30.0}
    assert b.statuses == {"301": 1, "error": 1}
    assert (b.opened, b.reused) == (1, 1)
    assert b.latency["max"] == 40.0  # the failed request has no latency
    assert both.requests == 5 and both.opened == 2 and both.reused == 3


def test_one_host_has_no_all_row() -> None:
    assert [row.host for row in summarize(outcomes()[:3])] == ["a.test:80"]


def test_report_object() -> None:
    (host,) = report_object(summarize(outcomes()[:3]))["summary"]["hosts"]
    assert host == {
        "host": "a.test:80",
        "requests": 3,
        "statuses": {"200": 2, "503": 1},
        "connections_opened": 1,
        "connections_reused": 2,
        "http2_streams": 0,
        "latency_ms": {"p50": 20.0, "p90": 30.0, "p99": 30.0, "max": 30.0},
        "bytes": 10,
    }


def test_table_rendering() -> None:
    console = Console(record=True, width=120, force_terminal=True)
    console.print(table(summarize(outcomes())))
    text = console.export_text()
    header = next(line for line in text.splitlines() if "host" in line)
    for column in ("requests", "statuses", "opened", "reused", "p50 ms", "p99 ms", "bytes"):
        assert column in header
    (a_row,) = [line for line in text.splitlines() if "a.test:80" in line]
    assert "200×2 503×1" in a_row and "20.0" in a_row and "30.0" in a_row
    assert "error×1" in text


def test_summary_on_a_terminal_is_coloured(closed_port: int) -> None:
    result = zurl("--summary", f"http://127.0.0.1:{closed_port}/", tty=True)
    assert "\x1b[" in result.stdout.decode()
    assert "error×1" in ANSI.sub("", result.stdout.decode())
    piped = zurl("--summary", f"http://127.0.0.1:{closed_port}/")
    assert "\x1b[" not in piped.stdout.decode()
    assert f"127.0.0.1:{closed_port}" in piped.stdout.decode()


# --- CI logs: never cut to a width nobody sees ------------------------------------------------


async def test_piped_summary_keeps_every_column_whole(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """A CI log is not a terminal: at 80 columns (and 40) every header, host and number is
    printed whole, one row a line; a terminal of the same width gets a table that fits."""
    server = await keepalive_server()
    host = server.url.removeprefix("http://")
    url = f"{server.url}/bytes/46800"
    for columns in (80, 40):
        result = await asyncio.to_thread(zurl, "--summary", "--repeat", "3", url, columns=columns)
        assert result.code == 0, result.err
        lines = result.stdout.decode().splitlines()
        header = next(line for line in lines if "requests" in line).split()
        assert header == [
            "host", "requests", "statuses", "opened", "reused",
            "p50", "ms", "p90", "ms", "p99", "ms", "max", "ms", "bytes",
        ]  # fmt: skip
        (row,) = [line.split() for line in lines if line.startswith(host)]
        assert row[:3] == [host, "3", "200×3"]
        assert row[-1] == str(3 * 46800)
        assert all(line == line.rstrip() for line in lines)
    on_terminal = await asyncio.to_thread(
        zurl, "--summary", "--repeat", "3", url, columns=80, tty=True, colors="none"
    )
    assert all(len(line) <= 80 for line in on_terminal.stdout.decode().splitlines())


async def test_all_refused_opens_nothing_and_measures_nothing(closed_port: int) -> None:
    result = await asyncio.to_thread(
        zurl, "--summary", "--repeat", "5", "--report", "-", f"http://127.0.0.1:{closed_port}/"
    )
    assert result.code == ExitCode.CONNECT
    summary = json.loads(result.stdout.splitlines()[-1])["summary"]["hosts"][0]
    assert (summary["connections_opened"], summary["connections_reused"]) == (0, 0)
    assert summary["latency_ms"] == {"p50": None, "p90": None, "p99": None, "max": None}
    table = await asyncio.to_thread(zurl, "--summary", f"http://127.0.0.1:{closed_port}/")
    (row,) = [line.split() for line in table.stdout.decode().splitlines() if "error" in line]
    assert row[1:] == ["1", "error×1", "0", "0", "-", "-", "-", "-", "0"]
