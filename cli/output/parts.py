"""What to show: httpie's ``--print`` parts and styling, resolved once into an ``OutputSpec``.

Rules:
- Precedence as httpie's: ``-p`` letters, then ``-q``, then ``-v``, then ``-h``/``-b``;
  by default the response head and body on a terminal, the body alone when piped.
- With ``--offline`` nothing is received: the parts asked for apply to the request.
- Output is a sequence of blocks (a head, a body, a meta block); ``blocks_for`` says which
  blocks of a message the spec asks for, in display order.
"""

from typing import Literal, NamedTuple

from cli.exitcodes import UsageError
from cli.messages import Message, RequestMessage, header

PRINT_LETTERS = "HBhbm"
Block = Literal["head", "body", "meta"]


class OutputError(UsageError):
    """A bad output option (a usage error)."""


class OutputSpec(NamedTuple):
    """Which parts to print and how: httpie's ``--print`` letters plus styling."""

    parts: str
    colors: bool
    format: bool
    style: str = "ansi_dark"
    raw_headers: bool = False
    terminal: bool = False
    show_secrets: bool = False  # header blocks keep credentials and cookie values


def choose_output(
    *,
    print_letters: str | None,
    headers: bool,
    body: bool,
    verbose: bool,
    quiet: bool,
    pretty: str | None,
    style: str,
    raw_headers: bool,
    stdout_isatty: bool,
    offline: bool,
    colors_allowed: bool = True,
    show_secrets: bool = False,
) -> OutputSpec:
    """Resolve the output flags with httpie's precedence: -p, then -v, then -h/-b."""
    if print_letters is not None:
        bad = sorted(set(print_letters) - set(PRINT_LETTERS))
        if bad or not print_letters:
            raise OutputError(
                f"--print takes letters from {PRINT_LETTERS!r}, not {print_letters!r}"
            )
        parts = print_letters
    elif quiet:
        parts = ""
    elif verbose:
        parts = "HBhb"
    elif headers or body:
        parts = ("h" if headers else "") + ("b" if body else "")
    else:
        parts = "hb" if stdout_isatty else "b"
    if offline:
        # Nothing is received: the parts asked for apply to the request (httpie shows HB).
        asked = print_letters is not None or headers or body or verbose
        parts = "".join(dict.fromkeys(ch.upper() for ch in parts if ch in "HBhb"))
        if not asked and not quiet:
            parts = "HB"
    if pretty is None:
        pretty = "all" if stdout_isatty else "none"
    return OutputSpec(
        parts=parts,
        colors=pretty in ("all", "colors") and colors_allowed,
        format=pretty in ("all", "format"),
        style=style,
        raw_headers=raw_headers,
        terminal=stdout_isatty,
        show_secrets=show_secrets,
    )


def blocks_for(msg: Message, parts: str) -> list[Block]:
    """The blocks of ``msg`` that ``parts`` asks for, in display order.

    For a streamed response only the head: its body and meta follow its ResponseEnd.
    """
    if isinstance(msg, RequestMessage):
        wanted: list[Block] = []
        if "H" in parts:
            wanted.append("head")
        if "B" in parts and msg.body:
            wanted.append("body")
        return wanted
    wanted = []
    if "h" in parts:
        wanted.append("head")
    if msg.streamed:
        return wanted
    if "b" in parts and msg.body:
        wanted.append("body")
    if "m" in parts:
        wanted.append("meta")
    return wanted


def body_of(msg: Message) -> tuple[bytes, str]:
    """The body and its Content-Type ('' when there is none)."""
    return msg.body or b"", header(msg.headers, "Content-Type") or ""
