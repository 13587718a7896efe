"""The config file: default options put before the command line, as httpie's are.

Rules:
- The file is ``config.json`` in zurl's config folder (``cli.env.config_dir``:
  ``$ZURL_CONFIG_DIR``, else the platform's folder), in httpie's shape:
  ``{"default_options": ["--follow", "--timeout=10"]}``. Other keys are left alone
  (httpie's ``__meta__``); a missing file or folder is no config at all.
- The default options go before the command line's words, so a flag typed there wins:
  an option given twice keeps its last value, and ``--no-OPTION`` (httpie's spelling)
  undoes an earlier ``--OPTION`` (with its value), for any option that has no ``--no-…``
  flag of its own (``--no-proxy`` and ``--no-env`` are flags of their own).
- ``--no-config`` anywhere before ``--`` runs without the file (curl's ``-q``).
- A file that cannot be read, is not JSON or has the wrong shape is a usage error naming
  the file; so is a default option the command does not know (the message says it came
  from the file), and a word that is no option or option value: it would be read as the
  method or the URL (request items belong on the command line, or in a ``--session``).
- Cost for a plain run: one failed open() when there is no file; json is loaded by every
  run anyway.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import click

from cli.env import config_dir

CONFIG_FILE = "config.json"
NO_CONFIG = "--no-config"


def config_path() -> str:
    return os.path.join(config_dir(), CONFIG_FILE)


def default_options(path: str) -> list[str]:
    """The ``default_options`` of the config file at ``path`` ([] when there is none)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise click.UsageError(f"config file {path}: {exc.strerror or exc}") from None
    import json

    try:
        config = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise click.UsageError(f"config file {path}: not JSON ({exc})") from None
    if not isinstance(config, dict):
        raise click.UsageError(f"config file {path}: expected a JSON object")
    options = config.get("default_options", [])
    if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
        raise click.UsageError(
            f"config file {path}: default_options must be a list of strings "
            '(["--follow", "--timeout=10"])'
        )
    return options


def with_defaults(args: list[str], params: Iterable[click.Parameter]) -> tuple[list[str], str]:
    """``args`` after the config file's default options, ``--no-OPTION`` applied; and the
    file's path when its options were used ('' otherwise)."""
    words = args[: args.index("--")] if "--" in args else args
    defaults: list[str] = []
    path = ""
    if NO_CONFIG not in words:
        path = config_path()
        defaults = default_options(path)
        _check_words(defaults, params, path)
    combined = [*defaults, *args]
    if any(word.startswith("--no-") for word in combined):
        combined = negate(combined, params)
    return combined, path if defaults else ""


def _check_words(defaults: list[str], params: Iterable[click.Parameter], path: str) -> None:
    """Every default is an option or the value of the option before it."""
    valued = {
        name
        for p in params
        if isinstance(p, click.Option) and not p.is_flag and not p.count
        for name in p.opts
    }
    expects_value = False
    for word in defaults:
        if expects_value:
            expects_value = False
        elif word.startswith("-") and word not in ("-", "--"):
            expects_value = word in valued
        else:
            raise click.UsageError(
                f"config file {path}: {word!r} in default_options is no option (request "
                "items go on the command line, or in a --session)"
            )


def negate(args: list[str], params: Iterable[click.Parameter]) -> list[str]:
    """Each ``--no-OPTION`` (for an option without a ``--no-…`` flag of its own) removes
    the ``OPTION``s before it, values included, and itself."""
    options = [p for p in params if isinstance(p, click.Option)]
    own = {name for p in options for name in (*p.opts, *p.secondary_opts)}
    out: list[str] = []
    for index, word in enumerate(args):
        if word == "--":
            return out + args[index:]
        if not word.startswith("--no-") or word in own:
            out.append(word)
            continue
        target = next((p for p in options if f"--{word[5:]}" in p.opts), None)
        if target is None:
            out.append(word)  # click names the unknown option
            continue
        out = _without(out, target)
    return out


def _without(args: list[str], option: click.Option) -> list[str]:
    """``args`` with every use of ``option`` (``--opt V``, ``--opt=V``, ``-oV``) removed."""
    takes_value = not option.is_flag and not option.count
    longs = [name for name in option.opts if name.startswith("--")]
    shorts = [name for name in option.opts if not name.startswith("--")]
    out: list[str] = []
    skip = False
    for word in args:
        if skip:
            skip = False
            continue
        if word in option.opts:
            skip = takes_value
            continue
        if takes_value and any(word.startswith(f"{name}=") for name in longs):
            continue
        if takes_value and any(word.startswith(name) and len(word) > 2 for name in shorts):
            continue
        out.append(word)
    return out
