"""``--response-mime``/``--response-charset``: how the response body is shown.

They change how the body is shown, never what is saved or reported: ``Retyped`` rewrites
the Content-Type the renderer it wraps sees.
"""

from __future__ import annotations

import codecs

from cli.exitcodes import UsageError
from cli.messages import Message, ResponseEnd, ResponseMessage
from cli.output.plain import Renderer


def check_response_type(mime: str | None, charset: str | None) -> None:
    if mime is not None and (mime.count("/") != 1 or ";" in mime or not mime.strip("/ ")):
        raise UsageError(f"--response-mime {mime!r}: expected a type like text/html")
    if charset is not None:
        try:
            codecs.lookup(charset)
        except LookupError:
            raise UsageError(f"--response-charset {charset!r}: unknown encoding") from None


def retype(content_type: str | None, mime: str | None, charset: str | None) -> str:
    """``content_type`` with its media type and/or charset replaced."""
    media, *params = (content_type or "").split(";")
    if mime is not None:
        media = mime
    kept = [p.strip() for p in params if p.strip()]
    if charset is not None:
        kept = [p for p in kept if not p.lower().startswith("charset=")]
        kept.append(f"charset={charset}")
    return "; ".join([media.strip(), *kept])


class Retyped:
    """Wraps a renderer; responses reach it with the Content-Type the user asked for."""

    def __init__(self, inner: Renderer, mime: str | None, charset: str | None) -> None:
        self._inner = inner
        self._mime = mime
        self._charset = charset
        self.streams = inner.streams

    def message(self, msg: Message) -> None:
        if isinstance(msg, ResponseMessage):
            old = None
            headers = []
            for name, value in msg.headers:
                if name.lower() == "content-type":
                    old = value if old is None else old
                    continue
                headers.append((name, value))
            headers.append(("Content-Type", retype(old, self._mime, self._charset)))
            msg = msg._replace(headers=tuple(headers))
        self._inner.message(msg)

    def chunk(self, data: bytes) -> None:
        self._inner.chunk(data)

    def end(self, end: ResponseEnd) -> None:
        self._inner.end(end)

    def close(self) -> None:
        self._inner.close()
