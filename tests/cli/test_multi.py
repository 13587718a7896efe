"""Many requests in one zurl run: several URLs, --urls-from, --repeat, limits, --summary.

zurl runs in a worker thread (its own event loop) while the keep-alive server serves on
the test's loop, so the server's own counters can be compared with what zurl reports.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from cli.exitcodes import ExitCode
from tests.cli.conftest import Result, zurl
from tests.servers.keepalive import KeepAliveServerFactory

pytestmark = pytest.mark.timeout(60)
ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


async def run(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def documents(data: bytes) -> list[Any]:
    """Consecutive JSON documents on stdout (one response body each)."""
    decoder = json.JSONDecoder()
    text, pos, found = data.decode(), 0, []
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        value, pos = decoder.raw_decode(text, pos)
        found.append(value)
    return found


async def test_repeat_with_limit_per_host_summary_agrees_with_the_server(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    server = await keepalive_server()
    report = tmp_path / "report.jsonl"
    result = await run(
        "--repeat", "200", "--limit-per-host", "4", "--summary", "--report", str(report),
        f"{server.url}/bytes/10",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert server.requests == 200
    assert server.connections_opened <= 4
    assert server.max_active <= 4
    table = result.stdout.decode()
    host = server.url.removeprefix("http://")
    assert host in table
    assert "200×200" in table
    for column in ("p50 ms", "p90 ms", "p99 ms", "max ms", "opened", "reused", "bytes"):
        assert column in table
    lines = records(report)
    assert len(lines) == 201
    assert all(line["status"] == 200 for line in lines[:200])
    opened = sum(1 for line in lines[:200] if line["reused_connection"] is False)
    assert opened == server.connections_opened
    (summary,) = lines[200]["summary"]["hosts"]
    assert summary["host"] == host
    assert summary["requests"] == server.requests == 200
    assert summary["statuses"] == {"200": 200}
    assert summary["connections_opened"] == server.connections_opened
    assert summary["connections_reused"] == 200 - server.connections_opened
    assert summary["bytes"] == 2000
    latency = summary["latency_ms"]
    assert 0 <= latency["p50"] <= latency["p90"] <= latency["p99"] <= latency["max"]


async def test_several_urls_keep_the_command_line_order(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    # The first answer is the slowest: the output must still start with it.
    result = await run(
        "--pretty", "none", "POST", f"{server.url}/delay/0.3", f"{server.url}/echo?n=2",
        f":{server.port}/echo?n=3", "X-Tag:all", "q==v", "a=1",
    )  # fmt: skip
    assert result.code == 0, result.err
    text = result.stdout.decode()
    assert text.startswith("ok")
    echoes = documents(text.removeprefix("ok").encode())
    assert [e["query"] for e in echoes] == [[["n", "2"], ["q", "v"]], [["n", "3"], ["q", "v"]]]
    assert all(e["method"] == "POST" and e["body"] == '{"a": "1"}' for e in echoes)
    assert all(e["headers"]["X-Tag"] == "all" for e in echoes)
    assert server.requests == 3


async def test_urls_from_a_file_and_from_stdin(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    server = await keepalive_server()
    listing = tmp_path / "urls.txt"
    listing.write_text(f"# smoke check\n{server.url}/status/204\n\n{server.url}/status/201\n")
    report = tmp_path / "r.jsonl"
    result = await run("--urls-from", str(listing), "--report", str(report), "HEAD")
    assert result.code == 0, result.err
    assert [(r["method"], r["status"]) for r in records(report)] == [("HEAD", 204), ("HEAD", 201)]
    piped = await run(
        "--urls-from", "-", "--report", "-", stdin=f"{server.url}/status/202\n".encode()
    )
    assert piped.code == 0, piped.err
    assert [json.loads(line)["status"] for line in piped.stdout.splitlines()] == [202]


async def test_urls_from_errors_are_usage_errors(tmp_path: Path) -> None:
    missing = await run("--urls-from", str(tmp_path / "nope.txt"))
    assert missing.code == ExitCode.USAGE
    assert "--urls-from" in missing.err and missing.err.count("\n") == 1
    (tmp_path / "empty.txt").write_text("# nothing\n")
    empty = await run("--urls-from", str(tmp_path / "empty.txt"))
    assert empty.code == ExitCode.USAGE
    assert "no URLs" in empty.err


def test_offline_shows_every_request() -> None:
    result = zurl("--offline", "example.org/a", "https://example.com/b", ":8080/c", "X-A:1")
    assert result.code == 0, result.err
    text = result.stdout.decode()
    assert text.count("X-A: 1") == 3
    assert "GET /a HTTP/1.1\nHost: example.org" in text
    assert "GET /b HTTP/1.1\nHost: example.com" in text
    assert "GET /c HTTP/1.1\nHost: localhost:8080" in text


def test_a_word_with_a_port_after_the_first_url_is_an_item() -> None:
    result = zurl("--offline", "example.org", "api:8080")
    assert result.stdout.decode().count("GET / HTTP/1.1") == 1
    assert "api: 8080" in result.stdout.decode()
    assert result.err == ""  # api is no host name: a header, and nothing to say


@pytest.mark.parametrize("word", ["127.0.0.1:1/x", "example.org:8080", "localhost:81/y?q=1"])
def test_a_host_and_port_read_as_an_item_gets_a_one_line_hint(word: str) -> None:
    result = zurl("--offline", ":8000/a", word)
    assert result.code == 0
    assert result.stdout.decode().count("GET /a HTTP/1.1") == 1  # still one request
    host = word.split(":", 1)[0]
    assert result.err == (
        f"zurl: note: {word!r} is read as a header ({host}); write http://{word} for another URL\n"
    )


async def test_failures_are_grouped_and_give_the_exit_code(closed_port: int) -> None:
    result = await run("--repeat", "3", f"http://127.0.0.1:{closed_port}/")
    assert result.code == ExitCode.CONNECT
    assert result.err.count("\n") == 1
    assert f"cannot connect to 127.0.0.1:{closed_port}" in result.err
    assert "(3 requests)" in result.err


async def test_check_status_takes_the_first_failing_response(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    result = await run(
        "--check-status", "-q", f"{server.url}/status/200", f"{server.url}/status/503",
        f"{server.url}/status/404",
    )  # fmt: skip
    assert result.code == ExitCode.HTTP_5XX
    assert result.err.splitlines() == [
        f"zurl: warning: HTTP 503 Service Unavailable from {server.url}/status/503",
        f"zurl: warning: HTTP 404 Not Found from {server.url}/status/404",
    ]


async def test_the_exit_code_is_the_first_failed_requests_in_command_line_order(
    keepalive_server: KeepAliveServerFactory, closed_port: int
) -> None:
    """A 404 listed before a refused connection gives 4, not 11, and both are reported."""
    server = await keepalive_server()
    refused = f"http://127.0.0.1:{closed_port}/"
    result = await run("--check-status", "-q", f"{server.url}/status/404", refused, refused)
    assert result.code == ExitCode.HTTP_4XX
    assert result.err.splitlines() == [
        f"zurl: warning: HTTP 404 Not Found from {server.url}/status/404",
        f"zurl: cannot connect to 127.0.0.1:{closed_port}: Connection refused (2 requests)",
    ]
    reverse = await run("--check-status", "-q", refused, f"{server.url}/status/404")
    assert reverse.code == ExitCode.CONNECT
    assert len(reverse.err.splitlines()) == 2
    # Without --check-status a status is no failure: the refused request decides.
    plain = await run("-q", f"{server.url}/status/404", refused)
    assert plain.code == ExitCode.CONNECT
    assert len(plain.err.splitlines()) == 1


async def test_summary_counts_failures_and_statuses_per_host(
    keepalive_server: KeepAliveServerFactory, closed_port: int, tmp_path: Path
) -> None:
    server = await keepalive_server()
    report = tmp_path / "r.jsonl"
    result = await run(
        "--summary", "--report", str(report), f"{server.url}/status/404", f"{server.url}/",
        f"http://127.0.0.1:{closed_port}/",
    )  # fmt: skip
    assert result.code == ExitCode.CONNECT
    hosts = {h["host"]: h for h in records(report)[-1]["summary"]["hosts"]}
    assert hosts[server.url.removeprefix("http://")]["statuses"] == {"200": 1, "404": 1}
    assert hosts[f"127.0.0.1:{closed_port}"]["statuses"] == {"error": 1}
    assert hosts["all"]["requests"] == 3
    assert "error×1" in result.stdout.decode()


async def test_progress_bar_only_on_a_terminal(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    on_tty = await run("--summary", "--repeat", "5", server.url, tty=True)
    assert on_tty.code == 0, on_tty.err
    assert "requests" in ANSI.sub("", on_tty.err)
    assert "5/5" in ANSI.sub("", on_tty.err)
    piped = await run("--summary", "--repeat", "5", server.url)
    assert piped.stderr == b""


async def test_limit_caps_connections_across_hosts(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    one, two = await keepalive_server(), await keepalive_server()
    result = await run(
        "-q", "--limit", "1", "--repeat", "5", f"{one.url}/delay/0.01", f"{two.url}/delay/0.01"
    )
    assert result.code == 0, result.err
    assert one.requests == two.requests == 5
    assert one.max_active <= 1 and two.max_active <= 1


def test_new_flags_complete() -> None:
    from click.testing import CliRunner

    from cli.main import command

    env = {"_ZURL_COMPLETE": "bash_complete", "COMP_WORDS": "zurl --limit-p", "COMP_CWORD": "1"}
    result = CliRunner().invoke(command, [], prog_name="zurl", env=env)
    assert "--limit-per-host" in result.output


def test_url_credentials_stay_with_their_url(tmp_path: Path) -> None:
    """``-a`` goes to every URL; a URL's own user:password@ only to that URL."""
    from tests.cli.wire import parse
    from tests.servers.capture import CaptureServer

    with CaptureServer() as server:
        base = f"127.0.0.1:{server.port}"
        own = zurl(f"http://me:pw@{base}/a", f"http://{base}/b", f"http://x:y@{base}/c")
        assert own.code == 0, own.err
        sent = {parse(r).line.split()[1]: parse(r).header("authorization") for r in server.take()}
        assert sent == {b"/a": [b"Basic bWU6cHc="], b"/b": [], b"/c": [b"Basic eDp5"]}
        given = zurl("-a", "u:p", f"http://me:pw@{base}/a", f"http://{base}/b")
        assert given.code == 0, given.err
        sent = {parse(r).line.split()[1]: parse(r).header("authorization") for r in server.take()}
        assert sent == {b"/a": [b"Basic dTpw"], b"/b": [b"Basic dTpw"]}
