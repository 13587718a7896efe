"""The ``zurl`` console script and ``python -m cli``: the click command of cli/command/."""

from cli.command.flags import PROG
from cli.command.parser import command

__all__ = ["command", "main"]


def main() -> None:
    """Console-script entry point."""
    command.main(prog_name=PROG)
