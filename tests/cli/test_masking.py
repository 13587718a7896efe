"""Secrets are masked in one place (cli/masking.py) for every channel: stdout's header
blocks, stderr's event log, history and error lines, and the report; --show-secrets
shows them."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from cli.exitcodes import ExitCode
from cli.masking import mask_record, mask_text, mask_url
from tests.cli.conftest import Result, run_process, zurl
from tests.servers.raw import RawConnection, RawServerFactory

pytestmark = pytest.mark.timeout(60)

PASSWORD = "PwS3cret"
TOKEN = "T0kenS3cret"
SENT_COOKIE = "CookieS3cret"
SET_COOKIE_1 = "SetCookieOneS3cret"
SET_COOKIE_2 = "SetCookieTwoS3cret"
BASIC = base64.b64encode(f"me:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, BASIC, TOKEN, SENT_COOKIE, SET_COOKIE_1, SET_COOKIE_2)


def test_mask_text_masks_urls_and_quoted_credentials() -> None:
    line = "invalid URL 'http://me:pw@h:99999/x': bad; 'Authorization: Bearer abc' too"
    assert mask_text(line) == (
        "invalid URL 'http://me:****@h:99999/x': bad; 'Authorization: Bearer ****' too"
    )
    assert mask_text(line, show=True) == line
    assert mask_text("no secrets at http://h/a@b") == "no secrets at http://h/a@b"
    assert "pw" not in mask_text("--proxy 'http://u:pw@[::1'")
    assert mask_url("https://me@h/") == "https://me@h/"  # a user name alone is not masked


def test_mask_record_masks_urls_headers_and_errors() -> None:
    record = {
        "url": "http://me:pw@h/",
        "headers": {"Set-Cookie": ["a=1", "b=2"], "X-Api-Token": "t", "Server": "s"},
        "redirects": [{"url": "http://me:pw@h/old"}],
        "error": "cannot connect to http://me:pw@h/",
        "status": 200,
    }
    assert mask_record(record) == {
        "url": "http://me:****@h/",
        "headers": {"Set-Cookie": ["a=****", "b=****"], "X-Api-Token": "****", "Server": "s"},
        "redirects": [{"url": "http://me:****@h/old"}],
        "error": "cannot connect to http://me:****@h/",
        "status": 200,
    }


async def _chain(raw_server: RawServerFactory) -> str:
    """A redirect that sets a cookie, then a response that sets another."""

    async def script(conn: RawConnection) -> None:
        while True:
            head = await conn.read_request()
            if not head:
                return
            if b" /start " in head:
                conn.write(
                    b"HTTP/1.1 302 Found\r\nLocation: /next\r\n"
                    + f"Set-Cookie: sid={SET_COOKIE_1}; Path=/\r\n".encode()
                    + b"Content-Length: 0\r\n\r\n"
                )
            else:
                conn.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                    + f"Set-Cookie: other={SET_COOKIE_2}\r\n".encode()
                    + b"Content-Length: 2\r\n\r\nok"
                )

    server = await raw_server(script)
    return f"{server.url}/start"


def _leaks(result: Result, report: Path | None = None) -> list[str]:
    channels = {"stdout": result.stdout.decode(errors="replace"), "stderr": result.err}
    if report is not None:
        channels["report"] = report.read_text()
    return [f"{secret} on {name}" for secret in SECRETS for name, text in channels.items()
            if secret in text]  # fmt: skip


@pytest.mark.parametrize(
    "shown",
    [("-v", "--all"), ("--print", "HBhbm", "--all"), ("-p", "Hh"), ("--offline",)],
)
async def test_no_secret_reaches_any_channel(
    raw_server: RawServerFactory, tmp_path: Path, shown: tuple[str, ...]
) -> None:
    url = await _chain(raw_server)
    report = tmp_path / "report.json"
    args = (
        *shown, "-F", "--history", "--report", str(report), "--trace", "-a", f"me:{PASSWORD}",
        "--cookie", f"c={SENT_COOKIE}", url, f"X-Api-Token:{TOKEN}",
    )  # fmt: skip
    result = await asyncio.to_thread(zurl, *args)
    assert result.code == 0, result.err
    assert _leaks(result, report if report.exists() else None) == []
    assert b"****" in result.stdout
    # --show-secrets shows them: the request as sent, the cookies as received.
    clear = await asyncio.to_thread(zurl, "--show-secrets", *args)
    assert clear.code == 0, clear.err
    assert f"Authorization: Basic {BASIC}".encode() in clear.stdout
    assert f"c={SENT_COOKIE}".encode() in clear.stdout
    if "--offline" not in shown:
        assert SET_COOKIE_2 in report.read_text()


async def test_a_bearer_token_is_masked_too(raw_server: RawServerFactory) -> None:
    url = await _chain(raw_server)
    result = await asyncio.to_thread(zurl, "-v", "-F", "-A", "bearer", "-a", TOKEN, url)
    assert result.code == 0, result.err
    assert _leaks(result) == []
    assert b"Authorization: Bearer ****" in result.stdout
    assert "Authorization: Bearer ****" in result.err


def test_error_lines_and_usage_errors_mask_url_passwords(closed_port: int, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    refused = zurl(
        "-v", "--report", str(report), f"http://me:{PASSWORD}@127.0.0.1:{closed_port}/x"
    )
    assert refused.code == ExitCode.CONNECT
    assert _leaks(refused, report) == []
    usage = zurl(f"http://me:{PASSWORD}@127.0.0.1:99999/")
    assert usage.code == ExitCode.USAGE
    assert "me:****@127.0.0.1:99999" in usage.err and PASSWORD not in usage.err
    cookie = zurl("--offline", "--cookie", f"c={SENT_COOKIE} x", "example.org")
    assert cookie.code == ExitCode.USAGE and SENT_COOKIE not in cookie.err
    shown = zurl("--show-secrets", f"http://me:{PASSWORD}@127.0.0.1:99999/")
    assert PASSWORD in shown.err


@pytest.mark.parametrize(
    "args",
    [
        ("--proxy", f"me:{PASSWORD}@127.0.0.1:99999", "127.0.0.1:9/x"),  # no scheme
        (f"me:{PASSWORD}@127.0.0.1:99999",),
        ("--pretty", f"http://me:{PASSWORD}@h/", "127.0.0.1:9/x"),  # click's own message
    ],
)
def test_usage_errors_of_the_real_process_mask_passwords(args: tuple[str, ...]) -> None:
    """click quotes the value it refused; the process's stderr goes through the same mask."""
    done = run_process(args)
    assert done.returncode == ExitCode.USAGE, done.stderr
    err = done.stderr.decode()
    assert err.count("\n") == 1 and PASSWORD not in err and "me:****@" in err, err


def test_mask_text_masks_user_password_without_a_scheme() -> None:
    assert mask_text("--proxy 'u:pw@host:99999': invalid port") == (
        "--proxy 'u:****@host:99999': invalid port"
    )
    assert mask_text("'u:p:w@[::1'") == "'u:****@[::1'"
    assert mask_text("http://u:****@h/") == "http://u:****@h/"  # masked once, left alone
    assert mask_text("user: me@example.org") == "user: me@example.org"
