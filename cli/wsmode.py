"""WebSocket mode: ``zurl ws://host/path`` (placeholder while it is written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.env import Environment
from cli.output import OutputSpec
from cli.spec import RequestSpec

if TYPE_CHECKING:
    from cli.app import Options

_WS_SCHEMES = {"ws": "http", "wss": "https"}


def as_http(args: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The arguments with a ws:// or wss:// URL as http(s)://, and whether one was found."""
    for index, word in enumerate(args[:2]):
        scheme, sep, rest = word.partition("://")
        if sep and scheme.lower() in _WS_SCHEMES:
            http = f"{_WS_SCHEMES[scheme.lower()]}://{rest}"
            return (*args[:index], http, *args[index + 1 :]), True
    return args, False


def run(env: Environment, opts: Options, spec: RequestSpec, out: OutputSpec) -> int:
    raise NotImplementedError
