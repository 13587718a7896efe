"""``--stream/-S``: a response body printed line by line as it arrives (``tail -f``).

Automatic for ``text/event-stream`` (server-sent events never end, so gathering the body
for highlighting would print nothing, ever). Each complete line is written and flushed
at once; a partial line waits for its end (or the body's). On a terminal the text is
decoded with the response's charset and a binary body is replaced by a note; piped, the
bytes pass through untouched.
"""

from __future__ import annotations

import contextlib
from typing import BinaryIO

from cli.messages import Message, ResponseEnd, ResponseMessage, header
from cli.output.formatting import BINARY_NOTE, charset_of
from cli.output.parts import OutputSpec, blocks_for
from cli.output.plain import Renderer

EVENT_STREAM = "text/event-stream"


def is_event_stream(content_type: str | None) -> bool:
    return (content_type or "").split(";", 1)[0].strip().lower() == EVENT_STREAM


class LineRenderer:
    """Wraps a renderer: bodies to stream by line bypass it, everything else goes through."""

    def __init__(
        self, inner: Renderer, stream: BinaryIO, out: OutputSpec, *, always: bool
    ) -> None:
        self._inner = inner
        self._stream = stream
        self._out = out
        self._always = always
        self.streams = always or inner.streams
        self._lines = False
        self._pending = b""
        self._shown = False  # has anything been printed yet (a blank line separates)
        self._started = False
        self._charset = "utf-8"
        self._binary = False

    def message(self, msg: Message) -> None:
        self._inner.message(msg)
        self._shown = self._shown or bool(blocks_for(msg, self._out.parts))
        if not isinstance(msg, ResponseMessage) or not msg.streamed:
            return
        ctype = header(msg.headers, "Content-Type")
        self._lines = "b" in self._out.parts and (self._always or is_event_stream(ctype))
        self._pending, self._started, self._binary = b"", False, False
        self._charset = charset_of(ctype or "") or "utf-8"

    def chunk(self, data: bytes) -> None:
        if not self._lines:
            self._inner.chunk(data)
            return
        data = self._pending + data
        cut = data.rfind(b"\n") + 1
        self._pending = data[cut:]
        if cut:
            self._write(data[:cut])

    def end(self, end: ResponseEnd) -> None:
        if self._lines:
            if self._pending:
                self._write(self._pending + (b"\n" if self._out.terminal else b""))
            self._lines, self._pending = False, b""
        self._inner.end(end)

    def close(self) -> None:
        self._inner.close()

    def _write(self, data: bytes) -> None:
        if self._binary:
            return
        if not self._started:
            self._started = True
            if self._shown:
                self._stream.write(b"\n")
        if self._out.terminal:
            if b"\0" in data:
                self._binary = True
                data = (BINARY_NOTE + "\n").encode()
            else:
                with contextlib.suppress(LookupError):  # an unknown charset: bytes as they are
                    data = data.decode(self._charset, "replace").encode("utf-8", "replace")
        self._stream.write(data)
        self._stream.flush()
