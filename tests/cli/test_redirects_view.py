"""--follow, --max-redirects, --all and --history against loopback servers; the history
table and the report's redirect records."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cli.exitcodes import ExitCode
from cli.messages import RequestMessage, ResponseMessage
from cli.output.history import cookie_names, hop_rows, report_hops, table
from tests.cli.conftest import Result, zurl
from tests.servers.raw import RawConnection, RawServerFactory, header_value, parse_head

pytestmark = pytest.mark.timeout(30)


async def run(*args: str) -> Result:
    """zurl in a worker thread, so servers on this test's event loop keep serving."""
    return await asyncio.to_thread(zurl, *args)


def redirect(location: str, extra: str = "") -> list[bytes]:
    return [
        f"HTTP/1.1 302 Found\r\nLocation: {location}\r\n{extra}"
        "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
    ]


OK = [b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone"]


def sent_headers(raw: bytes) -> list[tuple[str, str]]:
    return parse_head(raw)[2]


# --- following -------------------------------------------------------------------------


def test_redirects_are_not_followed_unless_asked(httpbin: Any) -> None:
    result = zurl("-h", f"{httpbin.url}/redirect/2")
    assert result.code == 0
    assert result.stdout.startswith(b"HTTP/1.1 302 FOUND\n")


def test_follow_prints_only_the_final_response(httpbin: Any) -> None:
    result = zurl("-F", "-h", f"{httpbin.url}/redirect/2")
    assert result.code == 0, result.err
    assert result.stdout.decode().count("HTTP/1.1 ") == 1
    assert result.stdout.startswith(b"HTTP/1.1 200 OK\n")


@pytest.mark.parametrize(
    ("flags", "warning"),
    [
        (("--history",), "--history does"),
        (("--all", "--max-redirects", "3"), "--all and --max-redirects do"),
        (
            ("--history", "--all", "--max-redirects", "0"),
            "--history, --all and --max-redirects do",
        ),
    ],
)
def test_redirect_flags_without_follow_say_they_do_nothing(
    flags: tuple[str, ...], warning: str
) -> None:
    result = zurl("--offline", *flags, ":8000/x")
    assert result.code == 0
    assert result.err == f"zurl: warning: {warning} nothing without --follow/-F\n"
    assert zurl("--offline", "-F", *flags, ":8000/x").err == ""


def test_all_prints_every_hop(httpbin: Any) -> None:
    result = zurl("-F", "--all", "-h", f"{httpbin.url}/redirect/2")
    statuses = [
        line.split()[1] for line in result.stdout.decode().splitlines() if line.startswith("HTTP/")
    ]
    assert statuses == ["302", "302", "200"]


def test_max_redirects_gives_exit_6(httpbin: Any) -> None:
    result = zurl("-F", "--max-redirects", "1", f"{httpbin.url}/redirect/3")
    assert result.code == ExitCode.TOO_MANY_REDIRECTS
    assert result.err.count("\n") == 1
    assert "too many redirects" in result.err


async def test_a_redirect_loop_exits_6_and_the_history_shows_it(
    raw_server: RawServerFactory,
) -> None:
    server = await raw_server(redirect("/loop"))
    result = await run("-F", "--history", "--max-redirects", "4", f"{server.url}/loop")
    assert result.code == ExitCode.TOO_MANY_REDIRECTS
    assert result.stdout == b""
    lines = result.err.splitlines()
    assert lines[0] == f"zurl: 127.0.0.1:{server.port}: too many redirects"
    assert "redirect history" in result.err
    assert result.err.count("/loop") >= 5  # one row per hop
    assert "stopped: " in result.err


async def test_a_hop_cut_off_by_max_redirects_has_its_time(
    raw_server: RawServerFactory,
) -> None:
    async def slow_redirect(conn: RawConnection) -> None:
        await conn.read_request()
        await conn.sleep(0.05)
        conn.write(redirect("/next")[0])

    server = await raw_server(slow_redirect)
    result = await run("-F", "--report", "-", "--max-redirects", "1", f"{server.url}/a")
    assert result.code == ExitCode.TOO_MANY_REDIRECTS
    hops = json.loads(result.stdout)["redirects"]
    assert len(hops) == 2
    assert all(hop["elapsed"] >= 0.05 for hop in hops), hops


async def test_a_redirect_to_another_scheme_is_exit_6_in_words(
    raw_server: RawServerFactory,
) -> None:
    server = await raw_server(redirect("ftp://files.zurl.test/x"))
    result = await run("-F", f"{server.url}/a")
    assert result.code == ExitCode.TOO_MANY_REDIRECTS  # not 2: the command line was fine
    assert result.err == (
        f"zurl: 127.0.0.1:{server.port}: cannot follow the redirect to "
        "ftp://files.zurl.test/x: not an http:// or https:// URL\n"
    )


async def test_a_redirect_loop_in_the_report(raw_server: RawServerFactory) -> None:
    server = await raw_server(redirect("/again"))
    result = await run("-F", "--max-redirects", "2", "--report", "-", f"{server.url}/again")
    assert result.code == ExitCode.TOO_MANY_REDIRECTS
    record = json.loads(result.stdout)
    assert record["status"] is None and record["exit_code"] == ExitCode.TOO_MANY_REDIRECTS
    assert [hop["status"] for hop in record["redirects"]] == [302, 302, 302]


# --- what a cross-origin hop drops ------------------------------------------------------


async def test_history_shows_authorization_dropped_on_a_cross_origin_hop(
    raw_server: RawServerFactory,
) -> None:
    other = await raw_server(OK)
    first = await raw_server(redirect(f"http://127.0.0.1:{other.port}/there"))
    url = f"http://localhost:{first.port}/here"
    result = await run("-F", "--history", "-a", "user:secret", url, "X-Trace:1")
    assert result.code == 0, result.err
    assert result.stdout == b"done"
    # The credentials went to the first origin only.
    assert header_value(sent_headers(first.received[0]), "Authorization") is not None
    assert header_value(sent_headers(other.received[0]), "Authorization") is None
    assert header_value(sent_headers(other.received[0]), "X-Trace") == "1"
    err = result.err
    assert "redirect history" in err
    assert f"localhost:{first.port}/here" in err
    assert f"127.0.0.1:{other.port}/there" in err
    assert "Authorization" in err and f"127.0.0.1:{other.port}" in err
    # In the command line's words, not the engine's (auth=).
    assert "credentials (-a) not re-sent across origins" in " ".join(err.split())
    assert "auth=" not in err
    assert "secret" not in err and "dXNlcjpzZWNyZXQ=" not in err


async def test_history_names_cookies_that_stay_behind(raw_server: RawServerFactory) -> None:
    other = await raw_server(OK)
    first = await raw_server(
        redirect(f"http://127.0.0.1:{other.port}/b", "Set-Cookie: sid=s3cr3t\r\n")
    )
    report_lines: list[str] = []
    result = await run(
        "-F",
        "--history",
        "--report",
        "-",
        "--cookie",
        "pref=dark",
        f"http://localhost:{first.port}/a",
    )
    assert result.code == 0, result.err
    report_lines = result.stdout.decode().splitlines()
    assert header_value(sent_headers(other.received[0]), "Cookie") is None
    assert "pref" in result.err and "s3cr3t" not in result.err and "dark" not in result.err
    record = json.loads(report_lines[-1])
    (hop,) = record["redirects"]
    assert hop["status"] == 302 and hop["url"] == f"http://localhost:{first.port}/a"
    dropped = {d["name"]: d for d in hop["dropped"]}
    assert dropped["Cookie"]["cookies"] == ["pref"]
    assert "cross-origin" in dropped["Cookie"]["reason"]


async def test_a_same_origin_hop_keeps_credentials(raw_server: RawServerFactory) -> None:
    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        if conn.index == 0:
            conn.write(redirect("/next")[0])
        else:
            conn.write(OK[0])

    server = await raw_server(script)
    result = await run("-F", "--report", "-", "-a", "u:p", f"{server.url}/first")
    assert result.code == 0, result.err
    assert all(header_value(sent_headers(r), "Authorization") for r in server.received)
    (hop,) = json.loads(result.stdout)["redirects"]
    assert hop["dropped"] == []


def test_report_lists_hops_with_time(httpbin: Any, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = zurl("-F", "--report", str(report), f"{httpbin.url}/redirect/2")
    assert result.code == 0
    record = json.loads(report.read_text())
    assert [h["status"] for h in record["redirects"]] == [302, 302]
    assert all(h["elapsed"] >= 0 and h["method"] == "GET" for h in record["redirects"])
    assert record["url"].endswith("/get")


# --- the table itself ------------------------------------------------------------------


def _msg_pair(
    url: str,
    status: int,
    headers: tuple[tuple[str, str], ...],
    dropped: tuple[tuple[str, str], ...] = (),
) -> tuple[RequestMessage, ResponseMessage]:
    request = RequestMessage("GET", url, "/", headers)
    response = ResponseMessage(url, status, "", (), b"", elapsed=0.25, dropped=dropped)
    return request, response


def test_rows_compare_consecutive_hops() -> None:
    chain = [
        _msg_pair(
            "http://a.test/",
            301,
            (("Authorization", "Basic x"), ("Cookie", "k=1; j=2")),
            (("Authorization", "cross-origin redirect to b.test:80"), ("Host", "recomputed")),
        ),
        _msg_pair("http://b.test/", 200, (("Cookie", "j=2"),)),
    ]
    rows = hop_rows(chain)
    assert [r.status for r in rows] == [301, 200]
    texts = [d.text() for d in rows[0].dropped]
    assert texts == [
        "Authorization: cross-origin redirect to b.test:80",
        "Cookie (k): jar cookies not matched for b.test:80",
    ]
    assert rows[1].dropped == ()
    assert report_hops(chain)[0]["dropped"][1] == {
        "name": "Cookie",
        "reason": "jar cookies not matched for b.test:80",
        "cookies": ["k"],
    }
    assert cookie_names((("Cookie", "a=1; b=2"), ("cookie", "c=3"))) == ["a", "b", "c"]


def test_table_renders_on_a_recorded_console() -> None:
    chain = [
        _msg_pair("http://a.test/x", 302, (("Authorization", "Basic x"),)),
        _msg_pair("http://b.test/y", 200, ()),
    ]
    console = Console(record=True, width=120)
    console.print(table(hop_rows(chain)))
    text = console.export_text()
    assert "redirect history" in text
    assert "http://a.test/x" in text and "http://b.test/y" in text
    assert "Authorization: not sent to b.test:80" in text
    assert "250.0 ms" in text
