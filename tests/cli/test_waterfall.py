"""``--trace``: the waterfall on stderr (one row group per hop) and the per-request table of
multi-URL mode; rendered on a recorded rich Console and end to end through zurl."""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import Any

import pytest
from rich.console import Console

import client
from cli.output.waterfall import request_table, waterfall
from cli.run.tracing import Recorder
from cli.timings import Hop, RequestTrace
from tests.cli.conftest import Result, zurl
from tests.servers.keepalive import KeepAliveServerFactory

pytestmark = pytest.mark.timeout(60)
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
LABELS = (
    "queue wait",
    "DNS lookup",
    "TCP connect",
    "TLS handshake",
    "request sent",
    "server processing",
    "content transfer",
    "total",
)


async def run(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


def rendered(renderable: Any, width: int = 100) -> str:
    console = Console(record=True, width=width, force_terminal=True)
    console.print(renderable)
    return console.export_text()


def row(text: str, label: str) -> str:
    (line,) = [line for line in text.splitlines() if line.startswith(label)]
    return line


async def traced(urls: list[str], **connector: Any) -> Recorder:
    recorder = Recorder()
    async with client.ClientSession(
        connector=client.TCPConnector(**connector), trace_configs=[recorder.config()]
    ) as session:
        for index, url in enumerate(urls, 1):
            async with session.get(url, trace_request_ctx=index) as resp:
                await resp.read()
    return recorder


async def test_tls_waterfall_new_then_reused(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    recorder = await traced([f"{server.url}/bytes/64"] * 2, ssl=client_ssl_context)
    first, second = (rendered(waterfall(t)) for t in recorder.requests)
    assert first.startswith(f"GET {server.url}/bytes/64  200  127.0.0.1:{server.port}")
    assert "new connection" in first and "TLSv1." in first.splitlines()[0]
    for label in LABELS:
        assert label in first
    assert row(first, "TLS handshake").split()[3] == "ms"  # a number, not "-"
    assert "█" in row(first, "TLS handshake")
    assert "reused connection" in second
    assert row(second, "TLS handshake").split()[2] == "-"
    assert row(second, "TCP connect").split()[2] == "-"


def test_dns_cache_hit_and_plain_http_rows() -> None:
    hop = Hop(
        start=0.0, method="GET", url="http://app.test/", reused=False, create_start=0.001,
        dns_cache_hit=True, tcp_start=0.001, tcp_end=0.003, ready=0.003, sent=0.004,
        first_byte=0.010, head=0.010, status=200, end=0.012, peer=("127.0.0.1", 80),
    )  # fmt: skip
    text = rendered(waterfall(RequestTrace(hops=[hop])))
    assert "cache hit" in row(text, "DNS lookup")
    assert row(text, "TLS handshake").split()[2] == "-"
    assert row(text, "server processing").split()[2:4] == ["6.0", "ms"]
    assert row(text, "total").split()[1:3] == ["12.0", "ms"]


async def test_cli_trace_redirect_has_a_group_per_hop(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    result = await run("--trace", "--follow", f"{server.url}/redirect?to=/echo")
    assert result.code == 0, result.err
    assert result.stdout.startswith(b"{")  # stdout is still just the body
    text = result.err
    assert "hop 1/2  GET" in text and "302" in text
    assert f"hop 2/2  GET {server.url}/echo  200" in text
    assert text.count("server processing") == 2
    assert "reused connection" in text
    assert "\x1b[" not in text  # stderr is not a terminal: no colours


async def test_cli_trace_on_a_terminal_is_coloured(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    result = await run("--trace", "-q", f"{server.url}/", tty=True)
    assert result.code == 0, result.err
    assert "\x1b[" in result.err
    assert "content transfer" in ANSI.sub("", result.err)


async def test_cli_trace_multi_prints_one_table(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    result = await run("--trace", "-q", "--repeat", "3", "--limit", "1", f"{server.url}/echo")
    assert result.code == 0, result.err
    lines = result.err.splitlines()
    assert lines[0].strip() == f"timings (ms) {server.url}"
    rows = [line.split() for line in lines if line[:1].isdigit()]
    assert [r[:5] for r in rows] == [
        ["1", "GET", "/echo", "200", "new"],
        ["2", "GET", "/echo", "200", "reused"],
        ["3", "GET", "/echo", "200", "reused"],
    ]
    assert "server processing" not in result.err  # the table, not one waterfall each


async def test_cli_trace_shows_the_failure(closed_port: int) -> None:
    result = await run("--trace", f"http://127.0.0.1:{closed_port}/")
    assert result.code != 0
    assert "failed: ClientConnectorError" in result.err
    assert "cannot connect" in result.err.splitlines()[0]


def test_request_table_keeps_numbers_on_narrow_terminals() -> None:
    hop = Hop(start=0.0, method="GET", url="http://a.test/" + "x" * 200, status=200, end=0.5)
    other = Hop(start=0.0, method="GET", url="http://b.test/", status=404, end=0.25)
    text = rendered(request_table([RequestTrace(1, [hop]), RequestTrace(2, [other])], 90), 90)
    assert "…" in text
    assert all(len(line) <= 90 for line in text.splitlines())
    assert "500.0" in text and "250.0" in text


async def test_piped_trace_tables_keep_every_column_whole(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """Piped (a CI log), at 80 columns and below: no "req…", no "ope…", the whole path of
    each request and every phase column; one request's waterfall keeps its long URL too."""
    server = await keepalive_server()
    long_path = "/echo/" + "segment-" * 12
    other = server.url.replace("127.0.0.1", "localhost")
    for columns in (80, 40):
        result = await run(
            "--trace", "-q", f"{server.url}{long_path}", f"{other}/echo", columns=columns
        )
        assert result.code == 0, result.err
        lines = result.err.splitlines()
        header = next(line for line in lines if line.lstrip().startswith("#")).split()
        assert header == [
            "#", "request", "status", "conn", "queue", "dns", "tcp", "tls", "send", "wait",
            "xfer", "total",
        ]  # fmt: skip
        rows = [line.split() for line in lines if line[:1].isdigit()]
        assert rows[0][:4] == ["1", "GET", f"{server.url}{long_path}", "200"]
        assert rows[1][:4] == ["2", "GET", f"{other}/echo", "200"]
        assert all(len(row) == 13 for row in rows)  # the request is "GET URL"
        assert "…" not in result.err
    single = await run("--trace", "-q", f"{server.url}{long_path}", columns=40)
    assert f"{server.url}{long_path}" in single.err
