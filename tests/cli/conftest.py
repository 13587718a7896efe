"""Run zurl in-process with an injected terminal-or-pipe environment, or as a process."""

from __future__ import annotations

import dataclasses
import io
import os
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from cli.env import Environment
from cli.main import command

ROOT = Path(__file__).resolve().parents[2]
ZURL = Path(sys.executable).with_name("zurl")


@dataclasses.dataclass
class Result:
    code: int
    stdout: bytes
    stderr: bytes

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


def zurl(
    *args: str,
    tty: bool = False,
    stdin: bytes = b"",
    stdin_has_data: bool = False,
    stdin_isatty: bool = False,
    colors: str = "auto",
    columns: int = 100,
) -> Result:
    """``zurl ARGS`` in this process; ``tty`` makes stdout and stderr look like terminals
    (``columns`` wide: also what $COLUMNS or the 80-column default gives a pipe)."""
    env = Environment(
        stdin=io.BytesIO(stdin),
        stdout=io.BytesIO(),
        stderr=io.BytesIO(),
        stdin_isatty=stdin_isatty,
        stdin_has_data=stdin_has_data,
        stdout_isatty=tty,
        stderr_isatty=tty,
        columns=columns,
        colors=colors,
    )
    code = command.main(list(args), obj=env, standalone_mode=False)
    assert isinstance(code, int)
    return Result(code, env.stdout.getvalue(), env.stderr.getvalue())  # type: ignore[attr-defined]


def run_process(
    args: Sequence[str],
    *,
    stdin: int | None = subprocess.DEVNULL,
    timeout: float = 30,
    module: bool = False,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """The installed ``zurl`` (or ``python -m cli``) as a real process."""
    argv = [sys.executable, "-m", "cli", *args] if module else [str(ZURL), *args]
    return subprocess.run(
        argv,
        stdin=stdin,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy", "ws_proxy", "wss_proxy")


@pytest.fixture(autouse=True)
def _no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """zurl honours HTTP_PROXY and friends as curl does: a machine's proxy settings must not
    route these loopback tests (tests that want a proxy variable set it themselves)."""
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.fixture(autouse=True)
def _no_user_files(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The user's ~/.netrc and zurl config (default options, sessions) stay out of the
    tests: NETRC names a file that does not exist, ZURL_CONFIG_DIR an empty folder (tests
    that want either set it themselves)."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("NETRC", str(home / "no-netrc"))
    monkeypatch.setenv("ZURL_CONFIG_DIR", str(home / "config"))


@pytest.fixture
def closed_port() -> int:
    """A loopback port that was just bound and closed: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# A label over 63 bytes cannot be encoded as a DNS name, so the lookup fails inside this
# process: nothing is sent to the machine's resolver (a plain ``.invalid`` name would be).
UNRESOLVABLE = "x" * 64 + ".invalid"
