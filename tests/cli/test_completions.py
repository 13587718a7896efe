"""completions/ holds exactly what the click command generates for each shell."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli.main import command

COMPLETIONS = Path(__file__).resolve().parents[2] / "completions"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_are_current(shell: str) -> None:
    result = CliRunner().invoke(
        command, [], prog_name="zurl", env={"_ZURL_COMPLETE": f"{shell}_source"}
    )
    assert result.exit_code == 0
    expected = (COMPLETIONS / f"zurl.{shell}").read_text()
    assert result.output == expected, (
        f"completions/zurl.{shell} is stale: regenerate it with "
        f"_ZURL_COMPLETE={shell}_source zurl > completions/zurl.{shell}"
    )


def test_option_names_complete() -> None:
    env = {"_ZURL_COMPLETE": "bash_complete", "COMP_WORDS": "zurl --che", "COMP_CWORD": "1"}
    result = CliRunner().invoke(command, [], prog_name="zurl", env=env)
    assert "--check-status" in result.output


def test_methods_complete_as_the_first_word() -> None:
    env = {"_ZURL_COMPLETE": "bash_complete", "COMP_WORDS": "zurl p", "COMP_CWORD": "1"}
    result = CliRunner().invoke(command, [], prog_name="zurl", env=env)
    assert result.output.split() == ["plain,PATCH", "plain,POST", "plain,PUT"]
