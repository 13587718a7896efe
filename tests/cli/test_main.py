"""The zurl command in-process against httpbin on loopback: items land where they should,
output follows terminal/pipe rules, options and usage errors behave."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import __version__
from cli.exitcodes import ExitCode
from cli.main import command
from tests.cli.conftest import Result, zurl

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def echoed(result: Result) -> Any:
    assert result.code == 0, result.err
    return json.loads(result.stdout)


def fetch(url: str) -> bytes:
    # The reference bytes, straight from the server: no proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as resp:
        return bytes(resp.read())


# --- request items end up where they should ------------------------------------------


def test_headers_and_query(httpbin: Any) -> None:
    got = echoed(zurl(f"{httpbin.url}/anything", "X-One:1", "X-Empty;", "q==a b", "q==2"))
    assert got["method"] == "GET"
    assert got["headers"]["X-One"] == "1"
    assert got["headers"]["X-Empty"] == ""
    assert got["args"] == {"q": ["a b", "2"]}
    assert got["headers"]["User-Agent"] == f"zurl/{__version__}"


def test_host_header_can_be_replaced(httpbin: Any) -> None:
    got = echoed(zurl(f"{httpbin.url}/anything", "Host:api.example"))
    assert got["headers"]["Host"] == "api.example"


def test_head_request(httpbin: Any) -> None:
    result = zurl("-h", "HEAD", f"{httpbin.url}/json")
    assert result.code == 0
    assert result.stdout.startswith(b"HTTP/1.1 200 OK\n")
    assert b"slideshow" not in result.stdout


def test_unset_header_is_not_sent(httpbin: Any) -> None:
    got = echoed(zurl(f"{httpbin.url}/anything", "User-Agent:", "Accept:"))
    assert "User-Agent" not in got["headers"]
    assert "Accept" not in got["headers"]


def test_json_fields(httpbin: Any) -> None:
    got = echoed(
        zurl(f"{httpbin.url}/anything", "name=pie", "n:=3", "tags[]=a", "tags[]=b", "m[x]:=null")
    )
    assert got["method"] == "POST"
    assert got["json"] == {"name": "pie", "n": 3, "tags": ["a", "b"], "m": {"x": None}}
    assert got["headers"]["Content-Type"] == "application/json"


def test_form_fields(httpbin: Any) -> None:
    got = echoed(zurl("--form", f"{httpbin.url}/anything", "a=1", "b=x&y"))
    assert got["form"] == {"a": "1", "b": "x&y"}


def test_file_fields(httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "bio.txt").write_text("hi there")
    (tmp_path / "obj.json").write_text('{"deep": [true]}')
    got = echoed(
        zurl(
            f"{httpbin.url}/anything",
            f"bio=@{tmp_path / 'bio.txt'}",
            f"obj:=@{tmp_path / 'obj.json'}",
        )
    )
    assert got["json"] == {"bio": "hi there", "obj": {"deep": [True]}}


def test_multipart_upload(httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("file content")
    got = echoed(zurl(f"{httpbin.url}/anything", "title=T", f"doc@{tmp_path / 'notes.txt'}"))
    assert got["files"] == {"doc": "file content"}
    assert got["form"] == {"title": "T"}
    assert got["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


def test_whole_body_from_file(httpbin: Any, tmp_path: Path) -> None:
    (tmp_path / "b.xml").write_bytes(b"<a>1</a>")
    got = echoed(zurl("PUT", f"{httpbin.url}/anything", f"@{tmp_path / 'b.xml'}"))
    assert (got["method"], got["data"]) == ("PUT", "<a>1</a>")


def test_stdin_body(httpbin: Any) -> None:
    got = echoed(zurl("POST", f"{httpbin.url}/anything", stdin=b"piped!", stdin_has_data=True))
    assert got["data"] == "piped!"
    got = echoed(zurl(f"{httpbin.url}/anything", "@-", stdin=b"asked", stdin_has_data=True))
    assert got["data"] == "asked"


def test_implicit_get_ignores_piped_stdin(httpbin: Any) -> None:
    result = zurl(f"{httpbin.url}/anything", stdin=b"never", stdin_has_data=True)
    assert (echoed(result)["method"], echoed(result)["data"]) == ("GET", "")
    # Data was waiting and left unread: one line says so (and how to send it).
    assert result.err.count("\n") == 1
    assert "standard input was not read" in result.err and "@-" in result.err


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("--ignore-stdin",), b"x"),  # asked not to read
        (("POST",), b"x"),  # read: it is the body
        ((), b""),  # a pipe with nothing waiting (sleep 60 | zurl URL)
    ],
)
def test_no_stdin_note_unless_data_is_left(
    httpbin: Any, args: tuple[str, ...], stdin: bytes
) -> None:
    method = [a for a in args if a.isupper()]
    flags = [a for a in args if not a.isupper()]
    result = zurl(*flags, *method, f"{httpbin.url}/anything", stdin=stdin, stdin_has_data=True)
    assert result.code == 0, result.err
    assert result.err == ""


def test_basic_auth(httpbin: Any) -> None:
    assert echoed(zurl("-a", "u:p", f"{httpbin.url}/basic-auth/u/p")) == {
        "authenticated": True,
        "user": "u",
    }
    wrong = zurl("--check-status", "-a", "u:x", f"{httpbin.url}/basic-auth/u/p")
    assert wrong.code == ExitCode.HTTP_4XX


def test_digest_auth(httpbin: Any) -> None:
    url = f"{httpbin.url}/digest-auth/auth/u/p/SHA-256"
    assert echoed(zurl("-A", "digest", "-a", "u:p", url)) == {"authenticated": True, "user": "u"}
    verbose = zurl("-v", "--show-secrets", "-A", "digest", "-a", "u:p", url)
    assert verbose.code == 0 and b'Authorization: Digest username="u"' in verbose.stdout
    wrong = zurl("--check-status", "-A", "digest", "-a", "u:x", url)
    assert wrong.code == ExitCode.HTTP_4XX


def test_bearer_auth(httpbin: Any) -> None:
    assert echoed(zurl("-A", "bearer", "-a", "t0ken", f"{httpbin.url}/bearer")) == {
        "authenticated": True,
        "token": "t0ken",
    }
    planned = zurl("--offline", "--show-secrets", "-A", "bearer", "-a", "t0ken", "example.org")
    assert b"Authorization: Bearer t0ken" in planned.stdout
    masked = zurl("--offline", "-A", "bearer", "-a", "t0ken", "example.org")
    assert b"Authorization: Bearer ****" in masked.stdout and b"t0ken" not in masked.stdout
    missing = zurl("--offline", "-A", "bearer", "example.org")
    assert missing.code == ExitCode.USAGE and "needs the credentials" in missing.err


def test_auth_without_password_and_no_terminal() -> None:
    result = zurl("-a", "user", "--offline", "example.org")
    assert result.code == ExitCode.USAGE
    assert "no password" in result.err


# --- output ---------------------------------------------------------------------------


def test_piped_output_is_the_body_byte_for_byte(httpbin: Any) -> None:
    url = f"{httpbin.url}/bytes/2048?seed=7"
    result = zurl(url)
    assert result.code == 0
    assert result.stdout == fetch(url)
    assert result.stderr == b""


def test_piped_json_is_not_reformatted(httpbin: Any) -> None:
    url = f"{httpbin.url}/json"
    assert zurl(url).stdout == fetch(url)


def test_terminal_output(httpbin: Any) -> None:
    result = zurl(f"{httpbin.url}/json", tty=True)
    assert result.code == 0
    assert b"\x1b[" in result.stdout
    text = ANSI.sub("", result.stdout.decode())
    assert text.startswith("HTTP/1.1 200 OK\n")
    assert "Content-Type: application/json" in text
    assert '\n{\n    "slideshow": {\n' in text


def test_no_color_on_a_terminal(httpbin: Any) -> None:
    """NO_COLOR keeps formatting but drops colours, unless --pretty asks for them."""
    plain = zurl(f"{httpbin.url}/json", tty=True, colors="none")
    assert b"\x1b[" not in plain.stdout
    assert plain.stdout.startswith(b"HTTP/1.1 200 OK\n")
    assert b'\n{\n    "slideshow"' in plain.stdout
    forced = zurl("--pretty", "all", f"{httpbin.url}/json", tty=True, colors="none")
    assert b"\x1b[" in forced.stdout


def test_terminal_binary_body_is_not_dumped(httpbin: Any) -> None:
    result = zurl(f"{httpbin.url}/image/png", tty=True)
    text = ANSI.sub("", result.stdout.decode())
    assert "binary data not shown" in text
    assert b"\x89PNG" not in result.stdout


def test_verbose_shows_the_request_as_sent(httpbin: Any) -> None:
    result = zurl("-v", f"{httpbin.url}/post", "a=1")
    text = result.stdout.decode()
    head, _, rest = text.partition("\n\n")
    assert head.startswith("POST /post HTTP/1.1\n")
    assert "Content-Type: application/json" in head
    assert rest.startswith('{"a": "1"}\n\nHTTP/1.1 200 OK\n')


def test_print_letters_and_meta(httpbin: Any) -> None:
    text = zurl("-p", "hm", f"{httpbin.url}/get").stdout.decode()
    assert text.startswith("HTTP/1.1 200 OK\n")
    assert "\nElapsed time: " in text
    assert "Remote address: 127.0.0.1:" in text
    assert zurl("-q", f"{httpbin.url}/get").stdout == b""
    assert zurl("-h", f"{httpbin.url}/get").stdout.decode().endswith("\n")


def test_pretty_format_when_piped(httpbin: Any) -> None:
    out = zurl("--pretty", "format", f"{httpbin.url}/json").stdout.decode()
    assert out.startswith('{\n    "slideshow"')
    assert "\x1b[" not in out


def test_raw_headers(httpbin: Any) -> None:
    out = zurl("--raw-headers", "-h", f"{httpbin.url}/response-headers?X-Mixed-Case=1")
    assert "X-Mixed-Case: 1" in out.stdout.decode()


def test_check_status(httpbin: Any) -> None:
    for status, code in ((302, 3), (404, 4), (500, 5)):
        result = zurl("--check-status", f"{httpbin.url}/status/{status}")
        assert result.code == code
        assert result.err.startswith(f"zurl: warning: HTTP {status}")
    assert zurl(f"{httpbin.url}/status/500").code == 0
    assert zurl("--fail", f"{httpbin.url}/status/204").code == 0


def test_report_file(httpbin: Any, tmp_path: Path) -> None:
    report = tmp_path / "r.jsonl"
    result = zurl("--report", str(report), f"{httpbin.url}/get?a=1")
    assert result.code == 0
    (line,) = report.read_text().splitlines()
    obj = json.loads(line)
    assert obj["method"] == "GET"
    assert obj["url"] == f"{httpbin.url}/get?a=1"
    assert (obj["status"], obj["reason"], obj["http_version"]) == (200, "OK", "1.1")
    assert obj["headers"]["Content-Type"] == "application/json"
    assert obj["remote_address"].startswith("127.0.0.1:")
    assert obj["elapsed"] >= 0
    assert obj["body_size"] == len(result.stdout) > 0
    assert obj["redirects"] == []


def test_report_to_stdout_replaces_the_body(httpbin: Any) -> None:
    result = zurl("--report", "-", f"{httpbin.url}/status/418")
    assert json.loads(result.stdout)["status"] == 418


def test_offline_sends_nothing(closed_port: int) -> None:
    result = zurl("--offline", f"127.0.0.1:{closed_port}/x", "a=1", "q==2", "X-A:b")
    assert result.code == 0
    assert result.stdout.decode() == (
        "POST /x?q=2 HTTP/1.1\n"
        f"Host: 127.0.0.1:{closed_port}\n"
        "User-Agent: zurl/0.1.0\n"
        "Accept: application/json, */*;q=0.5\n"
        "Content-Type: application/json\n"
        "X-A: b\n"
        "Content-Length: 10\n\n"
        '{"a": "1"}\n'
    )


def test_unknown_style_is_a_usage_error() -> None:
    result = zurl("--style", "nope", "--offline", "example.org", tty=True)
    assert result.code == ExitCode.USAGE
    assert result.err == "zurl: error: --style 'nope': no such theme (try monokai or ansi_light)\n"


def test_double_dash_ends_options() -> None:
    result = zurl("--offline", "-p", "B", "--", "example.org", "-x=1", "--y=2")
    assert json.loads(result.stdout) == {"-x": "1", "--y": "2"}


# --- usage errors: exit 2, one line -------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("example.org", "not-an-item"),
        ("example.org", "Bad Header:x"),
        ("example.org", "a:={broken"),
        ("example.org", "a=@/no/such/file"),
        ("example.org", "a=1", "a[b]=2"),
        ("ftp://example.org/",),
        ("--print", "xyz", "example.org"),
        ("--no-such-flag", "example.org"),
        ("--timeout", "-1", "example.org"),
        ("--pretty", "loud", "example.org"),
        ("--form", "--json", "example.org", "a=1"),
        (),
    ],
)
def test_usage_errors_are_one_line(args: tuple[str, ...]) -> None:
    result = zurl("--offline", *args) if args else zurl()
    assert result.code == ExitCode.USAGE
    assert result.stdout == b""
    assert result.err.startswith("zurl: error: ")
    assert result.err.count("\n") == 1


def test_help_lists_exit_codes_and_examples() -> None:
    result = CliRunner().invoke(command, ["--help"], prog_name="zurl")
    assert result.exit_code == 0
    assert "Usage: zurl [OPTIONS] [METHOD] URL [ITEM]..." in result.output
    assert "Exit codes:" in result.output
    for code in ExitCode:
        assert re.search(rf"^\s+{int(code)}\s+\S", result.output, re.M), code
    assert "Examples:" in result.output


def test_version() -> None:
    result = CliRunner().invoke(command, ["--version"], prog_name="zurl")
    assert (result.exit_code, result.output) == (0, f"zurl {__version__}\n")


def test_options_mirror_the_click_parameters() -> None:
    """A new flag is one click option plus one Options field: nothing else to wire."""

    from cli.command.options import Options

    params = {p.name for p in command.params if p.expose_value}
    assert params == set(Options._fields)


def test_chunked_stream_piped_byte_for_byte(gunicorn_httpbin: Any) -> None:
    """gunicorn sends /stream-bytes chunked: the pieces are joined exactly."""
    url = f"{gunicorn_httpbin.url}/stream-bytes/70000?seed=5&chunk_size=999"
    result = zurl(url)
    assert result.code == 0, result.err
    assert len(result.stdout) == 70000
    assert result.stdout == fetch(url)


def test_short_option_with_equals_takes_the_value() -> None:
    """``-A=bearer`` is ``-A bearer`` (argparse and httpie read it so; click alone would
    read ``=bearer``). After ``--`` words stay as they are (test_double_dash_ends_options)."""
    result = zurl("--offline", "--show-secrets", "-A=bearer", "-a=tok", "-p=H", "example.org")
    assert result.code == 0, result.err
    assert "Authorization: Bearer tok\n" in result.stdout.decode()
