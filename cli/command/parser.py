"""The ``zurl`` click command: the command line in, one-line usage errors, exit codes.

With cli/command/flags.py the only users of click. Module-level imports stay minimal
(click and small leaves): the engine, rich and the renderers load inside the command,
when needed. The command hands ``Options`` to cli/command/plan.py and returns its code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from cli.command.flags import EPILOG, PROG, with_options
from cli.exitcodes import ExitCode


class ZurlCommand(click.Command):
    """A click command whose usage errors are one line and whose exit codes are ours.

    ``-A=digest`` means ``-A digest``, as with httpie (argparse) and long options; click
    alone would read the value as ``=digest``. The config file's default options go first
    (cli/command/config.py).
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        source = ""
        if not ctx.resilient_parsing:  # completion and --help's probing read no config
            from cli.command.config import with_defaults

            args, source = with_defaults(args, self.params)
        try:
            return super().parse_args(ctx, _short_equals(self.params, args))
        except click.UsageError as exc:
            if not source:
                raise
            note = f"with the default_options of {source} (--no-config ignores them)"
            raise click.UsageError(f"{exc.format_message()}; {note}", exc.ctx) from None

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            code = super().main(args, prog_name or PROG, complete_var, False, **extra)
        except click.UsageError as exc:
            hint = "" if exc.ctx is None else f" (see '{PROG} --help')"
            _error(extra.get("obj"), f"error: {exc.format_message()}{hint}")
            code = ExitCode.USAGE
        except (click.Abort, KeyboardInterrupt):
            _error(extra.get("obj"), "interrupted")
            code = ExitCode.INTERRUPTED
        if not standalone_mode:
            return code
        sys.exit(int(code) if isinstance(code, int) else 0)


def _short_equals(params: list[click.Parameter], args: list[str]) -> list[str]:
    """``-X=VALUE`` split into ``-X VALUE`` for the short options that take a value."""
    short = {
        name
        for param in params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in param.opts
        if len(name) == 2
    }
    out: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return out + args[index:]
        if arg[:2] in short and arg[2:3] == "=":
            out += [arg[:2], arg[3:]]
        else:
            out.append(arg)
    return out


def _error(env: object, line: str) -> None:
    """One line on the injected environment's stderr, or the process's: either way through
    ``Environment.error`` (secrets masked: click's messages quote the values given)."""
    from cli.env import Environment

    (env if isinstance(env, Environment) else Environment.from_system()).error(line)


def _complete_request(
    ctx: click.Context, param: click.Parameter, incomplete: str
) -> list[click.shell_completion.CompletionItem]:
    """Method names for the first word (URLs and items are the user's own)."""
    from click.shell_completion import CompletionItem

    from cli.request.urls import KNOWN_METHODS

    if ctx.params.get("request"):
        return []
    upper = incomplete.upper()
    return [CompletionItem(m) for m in sorted(KNOWN_METHODS) if m.startswith(upper)]


@click.command(
    PROG,
    cls=ZurlCommand,
    epilog=EPILOG,
    context_settings={"help_option_names": ["--help"], "max_content_width": 100},
)
@click.argument(
    "request", nargs=-1, metavar="[METHOD] URL [ITEM]...", shell_complete=_complete_request
)
@with_options
@click.pass_context
def command(ctx: click.Context, /, **params: Any) -> int:
    """Send an HTTP request and show the response: httpie's grammar on zurl's engine.

    On a terminal the status line, headers and a highlighted body are shown; piped,
    only the body's bytes. Errors go to stderr as one line.
    """
    from cli.command.options import Options
    from cli.command.plan import execute
    from cli.env import Environment

    env = ctx.obj if isinstance(ctx.obj, Environment) else Environment.from_system()
    return execute(env, Options(**params))
