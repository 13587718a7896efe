"""Exit codes are distinct, documented in --help and in README's table."""

from __future__ import annotations

from pathlib import Path

from cli.exitcodes import MEANINGS, ExitCode, help_table, markdown_table, status_exit_code

README = Path(__file__).resolve().parents[2] / "README.md"


def test_every_code_is_documented_once() -> None:
    assert set(MEANINGS) == set(ExitCode)
    assert len({int(code) for code in ExitCode}) == len(ExitCode)
    assert help_table().count("\n") == len(ExitCode) - 1


def test_fixed_codes() -> None:
    assert [int(c) for c in (ExitCode.OK, ExitCode.USAGE, ExitCode.TOO_MANY_REDIRECTS)] == [
        0,
        2,
        6,
    ]
    assert int(ExitCode.INTERRUPTED) == 130


def test_status_codes() -> None:
    assert [status_exit_code(s) for s in (200, 204, 301, 304, 404, 418, 500, 599)] == [
        ExitCode.OK,
        ExitCode.OK,
        ExitCode.HTTP_3XX,
        ExitCode.HTTP_3XX,
        ExitCode.HTTP_4XX,
        ExitCode.HTTP_4XX,
        ExitCode.HTTP_5XX,
        ExitCode.HTTP_5XX,
    ]


def test_readme_table_is_current() -> None:
    assert markdown_table() in README.read_text(encoding="utf-8")
