"""The plain (uncoloured) renderer and the renderer protocol; the rich one is ``styled``.

Rules:
- Blocks are separated by one blank line. A lone body block written to a pipe gets
  nothing added: ``zurl URL > f`` stores exactly the response body.
- rich is imported only when colours are on (see ``make_renderer``).
"""

from __future__ import annotations

from typing import BinaryIO, Protocol

from cli.messages import BodyChunk, Event, Message, ResponseEnd, ResponseMessage
from cli.output.formatting import BINARY_NOTE, decode_body, format_body, head_text, meta_text
from cli.output.parts import Block, OutputSpec, blocks_for, body_of


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
            done = self._streaming._replace(elapsed=end.elapsed)
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
            out = self._out
            head = head_text(
                msg, raw=out.raw_headers, sort=out.format, show_secrets=out.show_secrets
            )
            return head.encode("utf-8", "replace")
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
