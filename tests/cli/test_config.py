"""The config file's default options (httpie's ``default_options``): where it is, how the
command line wins over it, --no-OPTION, --no-config, and its mistakes."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from cli.env import config_dir
from cli.exitcodes import ExitCode
from tests.cli.conftest import Result, run_process, zurl
from tests.servers.keepalive import KeepAliveServerFactory


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "zurl-config"
    folder.mkdir()
    monkeypatch.setenv("ZURL_CONFIG_DIR", str(folder))
    return folder / "config.json"


def write(path: Path, options: object) -> None:
    path.write_text(json.dumps({"__meta__": {"about": "zurl"}, "default_options": options}))


async def run(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


async def test_a_default_applies_and_the_command_line_wins(
    keepalive_server: KeepAliveServerFactory, config: Path
) -> None:
    server = await keepalive_server()
    hop = f"{server.url}/redirect?to=/echo"
    write(config, ["--follow", "--print=h", "--timeout", "5"])
    followed = await run(hop)
    assert followed.code == 0, followed.err
    assert followed.stdout.startswith(b"HTTP/1.1 200 OK")  # -F and --print=h from the file
    assert b'"path"' not in followed.stdout
    # A value given again wins (the last one counts); --no-OPTION undoes a default flag.
    body = await run("--print=b", hop)
    assert json.loads(body.stdout)["path"] == "/echo"
    not_followed = await run("--no-follow", hop)
    assert not_followed.stdout.startswith(b"HTTP/1.1 302 ")
    # --no-config: as if there were no file.
    plain = await run("--no-config", hop)
    assert plain.stdout == b""  # a 302's empty body, piped: neither -F nor --print=h
    assert plain.code == 0


def test_no_option_undoes_a_value_in_every_spelling(config: Path) -> None:
    write(config, ["--offline", "--style=monokai", "-p", "H", "--timeout", "2"])
    result = zurl("--no-print", "--no-timeout", "--no-style", ":8000/x")
    assert result.code == 0, result.err
    assert result.stdout.startswith(b"GET /x HTTP/1.1\nHost: localhost:8000")  # -v-less offline
    # Flags of their own are not negations: --no-proxy still takes its list.
    listed = zurl("--no-proxy", "example.org", ":8000/x")
    assert listed.code == 0, listed.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ("[1]", "expected a JSON object"),
        ('{"default_options": "--follow"}', "default_options must be a list of strings"),
        ('{"default_options": ["--offline", "X-Team:a"]}', "'X-Team:a' in default_options is no"),
    ],
)
def test_a_bad_file_is_a_usage_error_naming_it(config: Path, content: str, message: str) -> None:
    config.write_text(content)
    result = zurl(":8000/x")
    assert result.code == ExitCode.USAGE
    assert result.err.startswith(f"zurl: error: config file {config}: {message}")
    assert result.err.count("\n") == 1
    assert zurl("--no-config", "--offline", ":8000/x").code == 0


def test_an_unknown_default_option_says_where_it_came_from(config: Path) -> None:
    write(config, ["--bogus"])
    result = zurl("--offline", ":8000/x")
    assert result.code == ExitCode.USAGE
    assert "No such option '--bogus'" in result.err
    assert f"with the default_options of {config} (--no-config ignores them)" in result.err


def test_the_config_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ZURL_CONFIG_DIR", str(tmp_path / "explicit"))
    assert config_dir() == str(tmp_path / "explicit")
    monkeypatch.delenv("ZURL_CONFIG_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
        assert config_dir() == str(tmp_path / "xdg" / "zurl")
        monkeypatch.setenv("XDG_CONFIG_HOME", "relative/is/ignored")
        assert config_dir() == str(tmp_path / ".config" / "zurl")
        monkeypatch.delenv("XDG_CONFIG_HOME")
        assert config_dir() == str(tmp_path / ".config" / "zurl")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG is the Linux folder")
def test_a_real_process_reads_the_platform_folder(tmp_path: Path) -> None:
    (tmp_path / "xdg" / "zurl").mkdir(parents=True)
    write(tmp_path / "xdg" / "zurl" / "config.json", ["--offline", "--print=H"])
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "ZURL_CONFIG_DIR": ""}
    done = run_process([":8000/cfg"], env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(b"GET /cfg HTTP/1.1\n")
