"""Connection flags against real loopback servers: --unix-socket, --resolve (Host header and
SNI stay on the real name), --dns-server with a real DNS server, the DNS cache, -4/-6,
--local-addr, and the usage errors of each."""

from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import Any

import pytest
import trustme

from cli.exitcodes import ExitCode
from tests.cli.conftest import Result, run_process, zurl
from tests.servers import dns as dns_servers
from tests.servers.dns import DNSServerFactory
from tests.servers.keepalive import KeepAliveServerFactory

pytestmark = pytest.mark.timeout(60)
dns_server = dns_servers.dns_server


async def run(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


def echoed(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.stdout)


async def test_unix_socket_the_host_is_only_the_host_header(
    keepalive_server: KeepAliveServerFactory, unix_socket_path: str
) -> None:
    server = await keepalive_server(unix_path=unix_socket_path)
    got = echoed(await run("--unix-socket", unix_socket_path, "http://app.test/echo", "q==1"))
    assert got["headers"]["Host"] == "app.test"
    assert got["target"] == "/echo?q=1"
    assert server.requests == 1


async def test_unix_socket_repeat_reuses_one_connection(
    keepalive_server: KeepAliveServerFactory, unix_socket_path: str, tmp_path: Path
) -> None:
    server = await keepalive_server(unix_path=unix_socket_path)
    report = tmp_path / "r.jsonl"
    result = await run(
        "--unix-socket", unix_socket_path, "--repeat", "3", "--limit", "1",
        "--report", str(report), "-q", "http://localhost/",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert server.requests == 3 and server.connections_opened == 1
    reused = [json.loads(line)["reused_connection"] for line in report.read_text().splitlines()]
    assert reused == [False, True, True]


async def test_unix_socket_missing_is_a_connect_error(tmp_path: Path) -> None:
    result = await run("--unix-socket", str(tmp_path / "none.sock"), "http://localhost/")
    assert result.code == ExitCode.CONNECT
    assert result.err.count("\n") == 1


@pytest.fixture
def app_test_cert(tls_ca: trustme.CA) -> trustme.LeafCert:
    return tls_ca.issue_cert("app.test")


async def test_resolve_keeps_host_header_and_sni_on_the_real_name(
    keepalive_server: KeepAliveServerFactory,
    app_test_cert: trustme.LeafCert,
    ca_bundle_path: Path,
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    app_test_cert.configure_cert(context)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    server = await keepalive_server(ssl=context)
    url = f"https://app.test:{server.port}/echo"
    got = echoed(
        await run(
            "--resolve", f"app.test:{server.port}:127.0.0.1", "--verify", str(ca_bundle_path), url
        )
    )
    assert got["headers"]["Host"] == f"app.test:{server.port}"
    assert names == ["app.test"]


async def test_resolve_wildcard_port_and_repeated_entries(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    got = echoed(
        await run(
            "--resolve",
            "other.test:1:127.0.0.9",
            "--resolve",
            "app.test:*:127.0.0.1",
            f"http://app.test:{server.port}/echo",
        )
    )
    assert got["headers"]["Host"] == f"app.test:{server.port}"


async def test_dns_server_answers_a_made_up_name(
    keepalive_server: KeepAliveServerFactory, dns_server: DNSServerFactory
) -> None:
    server = await keepalive_server()
    names = await dns_server({"app.test": "127.0.0.1"})
    got = echoed(
        await run("--dns-server", names.nameserver, "-4", f"http://app.test:{server.port}/echo")
    )
    assert got["headers"]["Host"] == f"app.test:{server.port}"
    assert names.count("app.test", "A") == 1
    assert names.count("app.test", "AAAA") == 0  # -4: only A records are asked for


async def test_dns_server_nxdomain_is_a_dns_error(dns_server: DNSServerFactory) -> None:
    names = await dns_server({})
    result = await run("--dns-server", names.nameserver, "http://nowhere.test/")
    assert result.code == ExitCode.DNS
    assert "nowhere.test" in result.err and result.err.count("\n") == 1


async def test_dns_cache_and_no_dns_cache(
    keepalive_server: KeepAliveServerFactory, dns_server: DNSServerFactory
) -> None:
    """/close makes every request open a new connection, so each one needs the address."""
    server = await keepalive_server()
    names = await dns_server({"app.test": "127.0.0.1"})
    url = f"http://app.test:{server.port}/close"
    base = ("-q", "-4", "--dns-server", names.nameserver, "--repeat", "3", "--limit", "1")
    cached = await run(*base, url)
    assert cached.code == 0, cached.err
    assert server.connections_opened == 3
    assert names.count("app.test", "A") == 1
    uncached = await run(*base, "--no-dns-cache", url)
    assert uncached.code == 0, uncached.err
    assert names.count("app.test", "A") == 1 + 3
    expiring = await run(*base, "--dns-ttl", "0", url)
    assert expiring.code == 0, expiring.err
    assert names.count("app.test", "A") == 1 + 3 + 3


def test_dns_server_without_dnspython_names_the_extra(tmp_path: Path) -> None:
    """A stub ``dns`` package that cannot be imported stands in for a missing dnspython."""
    (tmp_path / "dns").mkdir()
    (tmp_path / "dns" / "__init__.py").write_text("raise ImportError('no dnspython here')\n")
    proc = run_process(
        ["--dns-server", "127.0.0.1:5353", "http://app.test/"], env={"PYTHONPATH": str(tmp_path)}
    )
    assert proc.returncode == ExitCode.USAGE
    err = proc.stderr.decode()
    assert err.count("\n") == 1
    assert 'pip install "zurl[dns]"' in err


async def test_ipv4_only_and_local_addr(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    result = await run("-4", "--local-addr", "127.0.0.1", "-q", f"{server.url}/")
    assert result.code == 0, result.err
    assert server.requests == 1


async def test_ipv6_only_refuses_an_ipv4_literal(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    ipv6_only = await run("-6", "-q", f"{server.url}/")
    assert ipv6_only.code != ExitCode.OK
    assert server.requests == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-4", "-6"), "-4 and -6"),
        (("--resolve", "app.test:80"), "--resolve"),
        (("--resolve", "app.test:99999:127.0.0.1"), "--resolve"),
        (("--resolve", "app.test:80:not-an-ip"), "--resolve"),
        (("--dns-server", "ns.example"), "--dns-server"),
        (("--unix-socket", "/tmp/x.sock", "--resolve", "a:80:127.0.0.1"), "--unix-socket"),
        (("--no-dns-cache", "--dns-ttl", "5"), "--dns-ttl"),
        (("--local-addr", "my-laptop"), "--local-addr"),
        (("--limit", "-1"), "--limit"),
    ],
)
def test_usage_errors(args: tuple[str, ...], message: str) -> None:
    result = zurl(*args, "http://app.test/")
    assert result.code == ExitCode.USAGE
    assert result.err.count("\n") == 1
    assert message in result.err
