"""What to show and the plain (uncoloured) renderer; the rich one lives in ``render``.

Rules:
- Output is a sequence of blocks (a head, a body, a meta block) separated by one blank
  line. A lone body block written to a pipe gets nothing added: ``zurl URL > f`` stores
  exactly the response body.
- rich is imported only when colours are on (see ``make_renderer``).
"""

from __future__ import annotations

import dataclasses
from typing import BinaryIO, Literal, Protocol

from cli.messages import (
    BodyChunk,
    Event,
    Message,
    RequestMessage,
    ResponseEnd,
    ResponseMessage,
    header,
)
from cli.output.formatting import BINARY_NOTE, decode_body, format_body, head_text, meta_text

PRINT_LETTERS = "HBhbm"
Block = Literal["head", "body", "meta"]


class OutputError(ValueError):
    """A bad output option (a usage error)."""


@dataclasses.dataclass(frozen=True, slots=True)
class OutputSpec:
    """Which parts to print and how: httpie's ``--print`` letters plus styling."""

    parts: str
    colors: bool
    format: bool
    style: str = "ansi_dark"
    raw_headers: bool = False
    terminal: bool = False


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


class Renderer(Protocol):
    # True when the renderer writes bodies as they arrive (no formatting to do).
    streams: bool

    def message(self, msg: Message) -> None: ...

    def chunk(self, data: bytes) -> None: ...

    def end(self, end: ResponseEnd) -> None: ...

    def close(self) -> None: ...


def feed(renderer: Renderer, event: Event) -> None:
    """Hand one exchange event to the renderer method for it."""
    if isinstance(event, BodyChunk):
        renderer.chunk(event.data)
    elif isinstance(event, ResponseEnd):
        renderer.end(event)
    else:
        renderer.message(event)


class PlainRenderer:
    """Uncoloured output as bytes; the body is passed through unless formatting is on."""

    def __init__(self, stream: BinaryIO, out: OutputSpec) -> None:
        self._stream = stream
        self._out = out
        self._written = 0
        self._ends_newline = True
        self._streaming: ResponseMessage | None = None
        self._body_open = False
        self.streams = not out.format and not out.terminal

    def message(self, msg: Message) -> None:
        for block in blocks_for(msg, self._out.parts):
            self._separate()
            self._emit(self._block_bytes(block, msg))
        if isinstance(msg, ResponseMessage) and msg.streamed:
            self._streaming, self._body_open = msg, False

    def chunk(self, data: bytes) -> None:
        if "b" not in self._out.parts or not data:
            return
        if not self._body_open:
            self._separate()
            self._written += 1
            self._body_open = True
        self._stream.write(data)
        self._ends_newline = data.endswith(b"\n")

    def end(self, end: ResponseEnd) -> None:
        if self._streaming is not None and "m" in self._out.parts:
            done = dataclasses.replace(self._streaming, elapsed=end.elapsed)
            self._separate()
            self._emit(meta_text(done).encode())
        self._streaming = None

    def close(self) -> None:
        if self._written and not self._ends_newline and (self._written > 1 or self._out.terminal):
            self._stream.write(b"\n")
        self._stream.flush()

    def _separate(self) -> None:
        if self._written:
            self._stream.write(b"\n" if self._ends_newline else b"\n\n")

    def _emit(self, data: bytes) -> None:
        self._stream.write(data)
        self._written += 1
        self._ends_newline = data.endswith(b"\n")

    def _block_bytes(self, block: Block, msg: Message) -> bytes:
        if block == "head":
            return head_text(msg, raw=self._out.raw_headers, sort=self._out.format).encode(
                "utf-8", "replace"
            )
        if block == "meta":
            assert isinstance(msg, ResponseMessage)
            return meta_text(msg).encode()
        body, ctype = body_of(msg)
        if not self._out.format and not self._out.terminal:
            return body
        text = decode_body(body, ctype)
        if text is None:
            return (BINARY_NOTE + "\n").encode() if self._out.terminal else body
        if self._out.format:
            text = format_body(text, ctype)[0]
        return text.encode("utf-8")


def make_renderer(stream: BinaryIO, out: OutputSpec, columns: int = 80) -> Renderer:
    """A rich renderer when colours are on (importing rich only then), else plain bytes."""
    if out.colors:
        from cli.output.styled import RichRenderer

        return RichRenderer.for_stream(stream, out, columns)
    return PlainRenderer(stream, out)
