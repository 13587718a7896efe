"""Wire formatting of HTML form bodies: urlencoded fields and multipart/form-data heads.

Pure string and bytes functions; ``payload.FormData`` assembles bodies from them.

Rules (RFC 7578 and the WHATWG HTML "multipart/form-data encoding algorithm"):

- Each part opens with ``--boundary CRLF``, its header lines, a blank line, then the body
  and a CRLF; the body ends with ``--boundary-- CRLF`` (RFC 2046 §5.1.1).
- ``Content-Disposition: form-data; name="..."`` names every part (RFC 7578 §4.2); a file
  part adds ``filename="..."``. Names are sent as UTF-8, with ``"``, CR and LF written as
  ``%22``, ``%0D`` and ``%0A`` as browsers do. A non-ASCII file name also gets
  ``filename*=UTF-8''...`` (RFC 8187): RFC 7578 §4.2 discourages it, but aiohttp sends it
  and servers that read it (Werkzeug, Django) then see the exact name, while servers that
  do not still read the browser-style ``filename``.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from urllib.parse import quote, urlencode

__all__ = [
    "closing_delimiter",
    "content_disposition",
    "make_boundary",
    "multipart_content_type",
    "part_head",
    "urlencoded",
]

# RFC 2046 §5.1.1: 1 to 70 characters from bchars, not ending with a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_WHATWG_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A"})
_HEADER_UNSAFE = re.compile(r"[\r\n\x00]")


def make_boundary(boundary: str | None = None) -> str:
    """A fresh random boundary (128 bits: it will not occur in the parts), or ``boundary``
    after checking it against RFC 2046 §5.1.1."""
    if boundary is None:
        return secrets.token_hex(16)
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")
    return boundary


def multipart_content_type(boundary: str) -> str:
    """``multipart/form-data; boundary=...``, quoting the boundary when it needs it."""
    value = boundary if _TOKEN.fullmatch(boundary) else f'"{boundary}"'
    return f"multipart/form-data; boundary={value}"


def _quoted(value: str, quote_fields: bool) -> str:
    if quote_fields:
        return '"' + value.translate(_WHATWG_ESCAPES) + '"'
    if _HEADER_UNSAFE.search(value):
        raise ValueError(f"CR, LF or NUL in a form field name: {value!r}")
    # RFC 9110 §5.6.4 quoted-string.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def content_disposition(
    name: str, filename: str | None = None, *, quote_fields: bool = True
) -> str:
    """The ``Content-Disposition`` value of one form part (RFC 7578 §4.2)."""
    value = f"form-data; name={_quoted(name, quote_fields)}"
    if filename is not None:
        value += f"; filename={_quoted(filename, quote_fields)}"
        if not filename.isascii():
            value += "; filename*=UTF-8''" + quote(filename, safe="", encoding="utf-8")
    return value


def part_head(boundary: str, headers: Iterable[tuple[str, str]], *, first: bool) -> bytes:
    """The delimiter and header block that open a part; a CRLF closes the previous part."""
    lines = [f"--{boundary}"]
    for key, val in headers:
        if _HEADER_UNSAFE.search(key) or _HEADER_UNSAFE.search(val):
            raise ValueError(f"CR, LF or NUL in form part header {key!r}")
        lines.append(f"{key}: {val}")
    head = "\r\n".join(lines) + "\r\n\r\n"
    return (head if first else "\r\n" + head).encode("utf-8")


def closing_delimiter(boundary: str, *, empty: bool) -> bytes:
    """The close delimiter; after at least one part it also ends that part's body."""
    return f"--{boundary}--\r\n".encode() if empty else f"\r\n--{boundary}--\r\n".encode()


def urlencoded(fields: Iterable[tuple[str, str]], charset: str | None = None) -> bytes:
    """``application/x-www-form-urlencoded`` (WHATWG URL §5.2): ``+`` for space, UTF-8
    (or ``charset``) percent-encoded, pairs joined with ``&``."""
    return urlencode(list(fields), encoding=charset or "utf-8").encode("ascii")
