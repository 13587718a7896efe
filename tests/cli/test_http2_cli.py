"""``--http2``, ``--http2-prior-knowledge`` and ``--http1.1`` against Debian's nginx."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import zurl
from tests.servers.nginx import NginxServer

pytestmark = pytest.mark.timeout(60)


def records(stdout: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]


def test_the_status_line_names_the_negotiated_protocol(
    nginx_h2: NginxServer, ca_bundle_path: Path
) -> None:
    url = nginx_h2.https + "/small"
    result = zurl("--http2", "--verify", str(ca_bundle_path), "-h", url)
    assert result.code == 0, result.err
    assert result.stdout.startswith(b"HTTP/2 200 OK\n")
    result = zurl("--http2", "--http1.1", "--verify", str(ca_bundle_path), "-h", url)
    assert result.stdout.startswith(b"HTTP/1.1 200 OK\n")  # --http1.1 wins
    result = zurl("--verify", str(ca_bundle_path), "-h", url)
    assert result.stdout.startswith(b"HTTP/1.1 200 OK\n")  # HTTP/2 is asked for, not assumed


def test_prior_knowledge_speaks_h2c(nginx_h2: NginxServer) -> None:
    result = zurl("--http2-prior-knowledge", "-h", nginx_h2.h2c + "/small")
    assert result.code == 0, result.err
    assert result.stdout.startswith(b"HTTP/2 200 OK\n")


def test_report_fields(nginx_h2: NginxServer, ca_bundle_path: Path) -> None:
    result = zurl(
        "--http2", "--verify", str(ca_bundle_path), "--report", "-", nginx_h2.https + "/small"
    )
    (record,) = records(result.stdout)
    assert (record["http_version"], record["alpn"]) == ("2", "h2")
    result = zurl("--http2-prior-knowledge", "--report", "-", nginx_h2.h2c + "/small")
    (record,) = records(result.stdout)
    assert (record["http_version"], record["alpn"]) == ("2", None)


def test_verbose_trace_and_certificate_show_alpn(
    nginx_h2: NginxServer, ca_bundle_path: Path
) -> None:
    result = zurl(
        "--http2",
        "--verify",
        str(ca_bundle_path),
        "-v",
        "--trace",
        "--show-cert",
        nginx_h2.https + "/small",
    )
    assert result.code == 0, result.err
    assert "* ALPN: the server chose h2" in result.err
    assert "> GET /small HTTP/2" in result.err
    assert "< HTTP/2 200 OK" in result.err
    assert "ALPN h2" in result.err  # the waterfall's heading and the certificate panel
    assert "HTTP/2" in result.err.split("queue wait")[0]


def test_repeat_multiplexes_on_one_connection_and_the_summary_says_so(
    nginx_h2: NginxServer, ca_bundle_path: Path
) -> None:
    before = nginx_h2.accepted_connections()
    result = zurl(
        "--http2",
        "--verify",
        str(ca_bundle_path),
        "--repeat",
        "30",
        "--summary",
        "--report",
        "-",
        nginx_h2.https + "/small",
    )
    assert result.code == 0, result.err
    assert nginx_h2.accepted_connections() - before == 1
    *requests, last = records(result.stdout)
    assert len(requests) == 30 and all(r["http_version"] == "2" for r in requests)
    (host,) = last["summary"]["hosts"]  # type: ignore[index]
    assert (host["http2_streams"], host["connections_opened"]) == (30, 1)
    table = zurl(
        "--http2", "--verify", str(ca_bundle_path), "--repeat", "5", "--summary",
        nginx_h2.https + "/small",
    )  # fmt: skip
    assert b"5 streams shared 1 connection" in table.stdout


def test_several_urls_to_one_origin_share_one_connection(
    nginx_h2: NginxServer, ca_bundle_path: Path
) -> None:
    before = nginx_h2.accepted_connections()
    urls = [nginx_h2.https + path for path in ("/small", "/small?a=1", "/files/100m.bin")]
    result = zurl("--http2", "--verify", str(ca_bundle_path), "-h", "HEAD", *urls)
    assert result.code == 0, result.err
    assert result.stdout.count(b"HTTP/2 200 OK") == 3
    assert nginx_h2.accepted_connections() - before == 1


def test_http2_flags_are_refused_where_they_cannot_apply(tmp_path: Path) -> None:
    result = zurl("--http2", "--unix-socket", str(tmp_path / "s.sock"), "http://x/")
    assert result.code == 2
    assert "--unix-socket cannot be combined with --http2" in result.err


def test_a_missing_h2_package_is_a_usage_error() -> None:
    script = (
        "import sys; sys.modules['h2'] = None\n"
        "from cli.main import main\n"
        "sys.argv = ['zurl', '--http2', 'https://127.0.0.1:1/']\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 2
    assert 'pip install "zurl[http2]"' in done.stderr
