"""Coloured output with rich: status line, headers, highlighted body, meta.

Imported only when colours are on; pygments (through ``rich.syntax``) only when a text
body has a lexer. Never imports ``client``: it renders ``cli.messages`` values.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from rich.console import Console
from rich.text import Text

from cli.messages import Message, RequestMessage, ResponseEnd, ResponseMessage
from cli.output.formatting import (
    BINARY_NOTE,
    SNIFF_BYTES,
    decode_body,
    format_body,
    header_pairs,
    is_binary,
    lexer_for,
)
from cli.output.parts import Block, OutputError, OutputSpec, blocks_for, body_of

HEADER_NAME = "blue"
DIM = "dim"
# rich's own themes that follow the terminal's palette; anything else is a Pygments style.
TERMINAL_THEMES = ("ansi_dark", "ansi_light")


def check_style(name: str) -> None:
    """Refuse an unknown theme up front (rich would silently fall back to another)."""
    if name in TERMINAL_THEMES:
        return
    # pygments comes with rich (rich.syntax is built on it); it ships no type stubs.
    from pygments.styles import get_style_by_name  # type: ignore[import-untyped]
    from pygments.util import ClassNotFound  # type: ignore[import-untyped]

    try:
        get_style_by_name(name)
    except ClassNotFound:
        raise OutputError(f"--style {name!r}: no such theme (try monokai or ansi_light)") from None


def status_style(status: int) -> str:
    if status < 300:
        return "green"
    if status < 400:
        return "yellow"
    return "red"


def first_line(msg: Message) -> Text:
    if isinstance(msg, RequestMessage):
        return Text.assemble(
            (msg.method, "bold green"),
            " ",
            (msg.target, "cyan"),
            " ",
            (f"HTTP/{msg.http_version}", DIM),
        )
    style = status_style(msg.status)
    line = Text.assemble(
        (f"HTTP/{msg.http_version}", DIM), " ", (str(msg.status), "bold " + style)
    )
    if msg.reason:
        line.append(" ")
        line.append(msg.reason, style)
    return line


def head(msg: Message, *, raw: bool, sort: bool, show_secrets: bool = False) -> Text:
    text = first_line(msg)
    for name, value in header_pairs(msg, raw=raw, sort=sort, show_secrets=show_secrets):
        text.append("\n")
        text.append(name, HEADER_NAME)
        text.append(": ")
        text.append(value)
    return text


def meta(msg: ResponseMessage) -> Text:
    text = Text.assemble(("Elapsed time", HEADER_NAME), f": {msg.elapsed:.6f}s")
    if msg.remote_address:
        text.append("\n")
        text.append_text(Text.assemble(("Remote address", HEADER_NAME), f": {msg.remote_address}"))
    if msg.reused_connection is not None:
        state = "reused" if msg.reused_connection else "new"
        text.append("\n")
        text.append_text(Text.assemble(("Connection", HEADER_NAME), f": {state}"))
    return text


def body(msg: Message, out: OutputSpec) -> Text:
    """The body as styled text; binary data becomes a note, never raw bytes."""
    data, ctype = body_of(msg)
    decoded = decode_body(data, ctype)
    if decoded is None:
        return Text(BINARY_NOTE, DIM)
    lexer = lexer_for(ctype)
    if out.format:
        decoded, lexer = format_body(decoded, ctype)
    if lexer is None:
        return Text(decoded)
    from rich.syntax import Syntax

    syntax = Syntax(decoded, lexer, theme=out.style)
    highlighted = syntax.highlight(decoded)
    highlighted.rstrip()
    return highlighted


class RichRenderer:
    """Blocks as rich text on a console, one blank line apart."""

    def __init__(self, console: Console, out: OutputSpec, wrapper: io.TextIOWrapper | None = None):
        self._console = console
        self._out = out
        self._wrapper = wrapper
        self._written = 0
        self._streaming: ResponseMessage | None = None
        self._chunks: list[bytes] = []
        self._gathered = 0
        self._binary = False
        # Highlighting needs a whole text body, so a streamed one is gathered; a binary one
        # is dropped as soon as its first bytes show it (``zurl big.iso`` on a terminal).
        self.streams = True

    @classmethod
    def for_stream(cls, stream: BinaryIO, out: OutputSpec, columns: int) -> RichRenderer:
        wrapper = io.TextIOWrapper(stream, encoding="utf-8", errors="replace", write_through=True)
        console = Console(
            file=wrapper, force_terminal=True, width=columns or 80, highlight=False, soft_wrap=True
        )
        return cls(console, out, wrapper)

    def message(self, msg: Message) -> None:
        for block in blocks_for(msg, self._out.parts):
            if self._written:
                self._console.print()
            self._console.print(self._block(block, msg))
            self._written += 1
        if isinstance(msg, ResponseMessage) and msg.streamed:
            self._streaming, self._chunks, self._gathered, self._binary = msg, [], 0, False

    def chunk(self, data: bytes) -> None:
        if self._binary or "b" not in self._out.parts:
            return
        if self._gathered < SNIFF_BYTES and is_binary(b"".join(self._chunks) + data):
            self._binary = True
            self._chunks = [b"\0"]  # enough for body() to show the binary note
            return
        self._chunks.append(data)
        self._gathered += len(data)

    def end(self, end: ResponseEnd) -> None:
        if self._streaming is None:
            return
        whole = self._streaming._replace(
            body=b"".join(self._chunks), elapsed=end.elapsed, streamed=False
        )
        self._streaming, self._chunks = None, []
        for block in blocks_for(whole, self._out.parts.replace("h", "")):
            if self._written:
                self._console.print()
            self._console.print(self._block(block, whole))
            self._written += 1

    def _block(self, block: Block, msg: Message) -> Text:
        if block == "head":
            out = self._out
            return head(msg, raw=out.raw_headers, sort=out.format, show_secrets=out.show_secrets)
        if block == "meta":
            assert isinstance(msg, ResponseMessage)
            return meta(msg)
        return body(msg, self._out)

    def close(self) -> None:
        self._console.file.flush()
        if self._wrapper is not None:
            # Hand the binary stream back un-closed: it is the process's stdout.
            self._wrapper.detach()
