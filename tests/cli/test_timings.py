"""Phase timings from the trace signals: the Recorder on real requests (plain, TLS, reused,
DNS cache hit, redirect, queued, refused) and the ``"timings"`` of ``--report``."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import Any

import pytest

import client
from cli.exitcodes import ExitCode
from cli.run.tracing import Recorder
from cli.timings import PHASES, Hop, report_timings
from tests.cli.conftest import Result, zurl
from tests.servers.keepalive import KeepAliveServerFactory

pytestmark = pytest.mark.timeout(60)


async def run(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


def check_adds_up(timing: dict[str, Any]) -> None:
    """Each phase (ms) is non-negative and together they are the total within 1 ms."""
    assert all(timing[name] >= 0 for name in PHASES), timing
    assert abs(sum(timing[name] for name in PHASES) - timing["total"]) < 1, timing


def report_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_report_timings_over_tls_and_no_tls_on_a_reused_connection(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    ca_bundle_path: Path,
    tmp_path: Path,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    report = tmp_path / "r.jsonl"
    result = await run(
        "--verify", str(ca_bundle_path), "--repeat", "2", "--limit", "1",
        "--report", str(report), "-q", f"{server.url}/bytes/100",
    )  # fmt: skip
    assert result.code == 0, result.err
    first, second = report_lines(report)
    (new,) = first["timings"]
    (reused,) = second["timings"]
    check_adds_up(new)
    check_adds_up(reused)
    assert new["reused_connection"] is False and reused["reused_connection"] is True
    assert new["tls"] > 0
    assert new["tls_version"].startswith("TLSv1.")
    assert reused["tls"] == 0 and reused["connect"] == 0 and reused["dns"] == 0
    assert server.connections_opened == 1
    assert new["remote_address"] == reused["remote_address"] == f"127.0.0.1:{server.port}"
    assert reused["tls_version"] == new["tls_version"]  # from the response: no handshake


async def test_single_request_report_has_one_timing_per_hop(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    server = await keepalive_server()
    report = tmp_path / "r.jsonl"
    target = f"{server.url}/redirect?to=/echo"
    result = await run("--follow", "--report", str(report), "-q", target)
    assert result.code == 0, result.err
    (record,) = report_lines(report)
    hops = record["timings"]
    assert [(h["url"], h["status"]) for h in hops] == [
        (target, 302),
        (f"{server.url}/echo", 200),
    ]
    for hop in hops:
        check_adds_up(hop)
    assert [h["reused_connection"] for h in hops] == [False, True]


async def test_dns_cache_miss_then_hit(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    """/close retires each connection, so the second request resolves again: from the cache."""
    server = await keepalive_server()
    report = tmp_path / "r.jsonl"
    result = await run(
        "--resolve", f"app.test:{server.port}:127.0.0.1", "--repeat", "2", "--limit", "1",
        "--report", str(report), "-q", f"http://app.test:{server.port}/close",
    )  # fmt: skip
    assert result.code == 0, result.err
    first, second = (line["timings"][0] for line in report_lines(report))
    assert first["dns_cache_hit"] is False and second["dns_cache_hit"] is True
    assert second["dns"] == 0
    assert second["reused_connection"] is False


async def trace_requests(
    urls: list[str], *, connector: client.BaseConnector | None = None, concurrent: bool = False
) -> Recorder:
    recorder = Recorder()
    async with client.ClientSession(connector=connector, trace_configs=[recorder.config()]) as s:

        async def fetch(index: int, url: str) -> None:
            async with s.get(url, trace_request_ctx=index) as resp:
                await resp.read()

        if concurrent:
            await asyncio.gather(*(fetch(i, u) for i, u in enumerate(urls)))
        else:
            for index, url in enumerate(urls):
                await fetch(index, url)
    return recorder


async def test_recorder_over_tls(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    connector = client.TCPConnector(ssl=client_ssl_context)
    recorder = await trace_requests([f"{server.url}/", f"{server.url}/"], connector=connector)
    first, second = (trace.hops[0] for trace in recorder.requests)
    assert first.tls_start is not None and first.tls_end is not None
    assert first.tls_version is not None and first.tls_cipher is not None
    assert first.server_hostname == "127.0.0.1"
    assert first.phases()["tls"] > 0 and second.phases()["tls"] == 0
    assert second.reused is True and second.tls_start is None
    assert first.status == second.status == 200
    assert first.body_size == 2


async def test_queue_wait_is_recorded(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    connector = client.TCPConnector(limit=1)
    urls = [f"{server.url}/delay/0.05"] * 2
    recorder = await trace_requests(urls, connector=connector, concurrent=True)
    hops = [recorder.find(index).hops[0] for index in (0, 1)]  # type: ignore[union-attr]
    waited = [hop for hop in hops if hop.queued is not None]
    assert len(waited) == 1
    assert waited[0].dequeued is not None and waited[0].reused is True
    for hop in hops:
        check_adds_up(report_timings_of(hop))


def report_timings_of(hop: Hop) -> dict[str, Any]:
    return {name: value * 1000 for name, value in hop.phases().items()}


async def test_refused_trace_keeps_its_error(closed_port: int) -> None:
    recorder = Recorder()
    async with client.ClientSession(trace_configs=[recorder.config()]) as session:
        with pytest.raises(client.ClientConnectorError):
            await session.get(f"http://127.0.0.1:{closed_port}/")
    (trace,) = recorder.requests
    assert isinstance(trace.error, client.ClientConnectorError)
    (timing,) = report_timings(trace)
    check_adds_up(timing)
    assert timing["status"] is None


def test_phases_are_never_negative_even_for_odd_marks() -> None:
    hop = Hop(start=10.0, dns_start=10.1, dns_end=10.05, tcp_end=10.3, sent=10.2, end=10.5)
    phases = hop.phases()
    assert all(phases[name] >= 0 for name in PHASES)
    assert phases["total"] == pytest.approx(0.5)
    assert sum(phases[name] for name in PHASES) == pytest.approx(phases["total"])


def test_failure_report_exit_code_is_unchanged(closed_port: int) -> None:
    result = zurl("--report", "-", f"http://127.0.0.1:{closed_port}/")
    assert result.code == ExitCode.CONNECT
    assert json.loads(result.stdout)["status"] is None
