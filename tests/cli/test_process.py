"""zurl as a real process: the console script and ``python -m cli``, real pipes, signals."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from typing import Any

from cli import __version__
from cli.exitcodes import ExitCode
from tests.cli.conftest import ROOT, ZURL, run_process


def fetch(url: str) -> bytes:
    # The reference bytes, straight from the server: no proxy from the environment.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=10) as resp:
        return bytes(resp.read())


def test_console_script_pipes_the_body_byte_for_byte(httpbin: Any) -> None:
    url = f"{httpbin.url}/bytes/4096?seed=3"
    proc = run_process([url])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == fetch(url)
    assert proc.stderr == b""


def test_python_dash_m_cli(httpbin: Any) -> None:
    version = run_process(["--version"], module=True)
    assert version.stdout.decode() == f"zurl {__version__}\n"
    proc = run_process([f"{httpbin.url}/anything", "a=1"], module=True)
    assert json.loads(proc.stdout)["json"] == {"a": "1"}


def test_an_open_stdin_pipe_is_not_waited_for(httpbin: Any) -> None:
    """``sleep 60 | zurl URL``: the writer never closes, zurl must not read."""
    read_end, write_end = os.pipe()
    try:
        proc = run_process([f"{httpbin.url}/get"], stdin=read_end, timeout=30)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["url"].endswith("/get")
    assert proc.stderr == b""  # nothing was waiting: nothing to say


def test_unread_piped_data_is_noted_and_left_in_the_pipe(httpbin: Any) -> None:
    """``echo x | zurl URL``: GET, a one-line note, and the pipe's bytes untouched."""
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"left alone")
        proc = run_process([f"{httpbin.url}/get"], stdin=read_end, timeout=30)
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr.count(b"\n") == 1
        assert b"standard input was not read" in proc.stderr
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"left alone"
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_a_closed_stdin_pipe_gives_an_empty_body(httpbin: Any) -> None:
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        proc = run_process(["POST", f"{httpbin.url}/anything"], stdin=read_end)
    finally:
        os.close(read_end)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["data"] == ""


def test_piped_stdin_becomes_the_body(httpbin: Any) -> None:
    proc = subprocess.run(
        [str(ZURL), "PUT", f"{httpbin.url}/anything"],
        input=b"from a pipe",
        capture_output=True,
        timeout=30,
        cwd=ROOT,
        check=False,
    )
    assert json.loads(proc.stdout)["data"] == "from a pipe"


def test_exit_codes_reach_the_shell(httpbin: Any, closed_port: int) -> None:
    assert run_process(["--check-status", f"{httpbin.url}/status/404"]).returncode == 4
    refused = run_process([f"http://127.0.0.1:{closed_port}/"])
    assert refused.returncode == ExitCode.CONNECT
    assert refused.stderr.decode().count("\n") == 1
    bad = run_process(["example.org", "nonsense"])
    assert bad.returncode == ExitCode.USAGE
    assert bad.stderr.decode().startswith("zurl: error: ")
    assert bad.stderr.decode().count("\n") == 1


def test_plain_http_run_skips_rich_and_tls_setup(httpbin: Any) -> None:
    """Piped output needs no rich/pygments; an http:// URL loads no CA bundle (certifi)."""
    code = (
        "import sys\n"
        "from cli.main import command\n"
        "try:\n"
        f"    command.main([{httpbin.url + '/json'!r}], standalone_mode=False)\n"
        "finally:\n"
        "    print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('rich', 'pygments', 'certifi')), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=30, cwd=ROOT, check=False
    )
    assert proc.stderr.decode().strip() == "[]"


def test_plain_http_run_loads_only_what_it_uses(httpbin: Any) -> None:
    """Start-up: modules for flags that were not given stay unloaded (bench/cli.py)."""
    unused = (
        "cli.output.download", "cli.output.retype", "cli.output.report", "cli.output.history",
        "cli.request.body_options", "cli.request.cookies", "cli.run.jar", "cli.timings",
        "cli.masking",
    )  # fmt: skip
    code = (
        "import sys\n"
        "from cli.main import command\n"
        f"command.main([{httpbin.url + '/json'!r}], standalone_mode=False)\n"
        f"print(sorted(m for m in {unused!r} if m in sys.modules), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=30, cwd=ROOT, check=False
    )
    assert proc.stderr.decode().strip() == "[]"


def test_offline_never_imports_the_engine() -> None:
    code = (
        "import sys\n"
        "from cli.main import command\n"
        "command.main(['--offline', 'example.org', 'a=1'], standalone_mode=False)\n"
        "print([m for m in sys.modules if m == 'client' or m.startswith('client.')],"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=30, cwd=ROOT, check=False
    )
    assert proc.stderr.decode().strip() == "[]"


async def test_ctrl_c_exits_130(raw_server: Any) -> None:
    server = await raw_server([60.0])
    proc = await asyncio.create_subprocess_exec(
        str(ZURL),
        f"{server.url}/",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        async with asyncio.timeout(20):
            while not server.received or b"\r\n\r\n" not in server.received[0]:
                await asyncio.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(20):
            stdout, stderr = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == ExitCode.INTERRUPTED
    assert stderr.decode() == "zurl: interrupted\n"
    assert stdout == b""


def test_a_reader_that_goes_away_is_not_an_error_message(httpbin: Any) -> None:
    """``zurl URL | head -c 0``: the pipe's reader is gone; stop quietly with exit 18."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [str(ZURL), f"{httpbin.url}/bytes/1024"],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            timeout=30,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == ExitCode.OUTPUT
    assert proc.stderr == b""


def test_terminal_binary_body_skips_highlighting(httpbin: Any) -> None:
    """A binary body on a terminal is a note: pygments is never imported for it."""
    code = (
        "import io, sys\n"
        "from cli.env import Environment\n"
        "from cli.main import command\n"
        "env = Environment(io.BytesIO(), io.BytesIO(), io.BytesIO(), stdout_isatty=True)\n"
        f"command.main([{httpbin.url + '/image/png'!r}], obj=env, standalone_mode=False)\n"
        "assert b'binary data not shown' in env.stdout.getvalue()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pygments'), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, timeout=30, cwd=ROOT, check=False
    )
    assert proc.stderr.decode().strip() == "[]"


PTY_SPAWN = "import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn(sys.argv[1:])))"


def test_terminal_output_on_a_real_pty(httpbin: Any) -> None:
    """Colours and headers on a pseudo-terminal nobody sized (0 columns, as under CI)."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "NO_COLOR")}
    proc = subprocess.run(
        [sys.executable, "-c", PTY_SPAWN, str(ZURL), f"{httpbin.url}/json"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=30,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert proc.returncode == 0
    text = proc.stdout.decode().replace("\r\n", "\n")
    assert "\x1b[" in text
    plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert plain.startswith("HTTP/1.1 200 OK\n")
    assert '"slideshow": {' in plain


def test_auth_prompts_for_the_password_on_a_terminal(httpbin: Any) -> None:
    """``-a user`` on a terminal asks for the password (on the tty, not echoed)."""
    spawn = PTY_SPAWN
    url = f"{httpbin.url}/basic-auth/u/secret"
    proc = subprocess.Popen(
        [sys.executable, "-c", spawn, str(ZURL), "-a", "u", "--check-status", "-q", url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        seen = b""
        while b"password for u: " not in seen:
            chunk = os.read(proc.stdout.fileno(), 1024)
            assert chunk, seen
            seen += chunk
        proc.stdin.write(b"secret\n")
        proc.stdin.flush()
        rest, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0  # with --check-status: the server accepted the password
    assert b"secret" not in seen + rest  # never echoed
