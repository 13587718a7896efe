"""Body options that are not request items: ``--compress``, ``--response-mime``/``-charset``.

``--compress/-x`` deflates the request body here, in the CLI, so ``-v`` and ``--offline``
show exactly the bytes sent. httpie's semantics: the body is replaced (and
``Content-Encoding: deflate`` added) only when that makes it smaller; ``-xx`` always.
"deflate" is the zlib format (RFC 9110 §8.4.1.2, RFC 1950), as httpie and curl send it.

``--response-mime``/``--response-charset`` change how the response body is shown, never
what is saved or reported: they rewrite the Content-Type the renderer sees.
"""

from __future__ import annotations

import codecs
import dataclasses
import re
import zlib

from cli.messages import Message, ResponseEnd, ResponseMessage
from cli.output.plain import Renderer
from cli.request.spec import RequestSpec, UsageError


def compress(spec: RequestSpec, level: int) -> RequestSpec:
    """The spec with its body deflated (``level`` 1: only if smaller; 2+: always)."""
    if not level or spec.body is None:
        return spec
    if any(k.lower() == "content-encoding" for k, _ in spec.headers):
        raise UsageError("--compress: the body already has a Content-Encoding header")
    deflated = zlib.compress(spec.body)
    if len(deflated) >= len(spec.body) and level < 2:
        return spec  # it would not shrink: send it as it is (-xx forces it)
    headers = (*spec.headers, ("Content-Encoding", "deflate"))
    return dataclasses.replace(spec, body=deflated, headers=headers)


# RFC 2046 §5.1.1: 1-70 characters from this set, not ending in a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def check_boundary(boundary: str | None) -> None:
    if boundary is not None and not _BOUNDARY.fullmatch(boundary):
        raise UsageError(
            f"--boundary {boundary!r}: 1-70 letters, digits or '()+_,-./:=? (RFC 2046)"
        )


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
            msg = dataclasses.replace(msg, headers=tuple(headers))
        self._inner.message(msg)

    def chunk(self, data: bytes) -> None:
        self._inner.chunk(data)

    def end(self, end: ResponseEnd) -> None:
        self._inner.end(end)

    def close(self) -> None:
        self._inner.close()
