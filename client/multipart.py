"""Wire formatting of form and multipart bodies: urlencoded fields, multipart part heads.

Pure string and bytes functions; ``payload.FormData`` and ``mpwriter.MultipartWriter``
assemble bodies from them.

Rules (RFC 2046, RFC 7578 and the WHATWG HTML "multipart/form-data encoding algorithm"):

- Each part opens with ``--boundary CRLF``, its header lines, a blank line, then the body
  and a CRLF; the body ends with ``--boundary-- CRLF`` (RFC 2046 §5.1.1).
- ``Content-Disposition: form-data; name="..."`` names every part (RFC 7578 §4.2); a file
  part adds ``filename="..."``. Names are sent as UTF-8, with ``"``, CR and LF written as
  ``%22``, ``%0D`` and ``%0A`` as browsers do. A non-ASCII file name also gets
  ``filename*=UTF-8''...`` (RFC 8187): RFC 7578 §4.2 discourages it, but aiohttp sends it
  and servers that read it (Werkzeug, Django) then see the exact name, while servers that
  do not still read the browser-style ``filename``.
- A part header's name is a token and its value holds no CR, LF or NUL (RFC 9110 §5.1,
  §5.5): either could end the header block early and smuggle in headers or whole parts.
- ``mime_disposition`` writes a MIME part's Content-Disposition (RFC 2183) as aiohttp's
  ``set_content_disposition`` does: a ``filename`` percent-encoded inside quotes, other
  7-bit values as quoted strings, anything else as ``key*=utf-8''...`` (RFC 2231 §4).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping
from urllib.parse import quote, urlencode

__all__ = [
    "check_part_header",
    "closing_delimiter",
    "content_disposition",
    "make_boundary",
    "mime_disposition",
    "multipart_content_type",
    "part_head",
    "urlencoded",
]

# RFC 2046 §5.1.1: 1 to 70 characters from bchars, not ending with a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_WHATWG_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A"})
_HEADER_UNSAFE = re.compile(r"[\r\n\x00]")
# Printable ASCII and tab: what a 7-bit quoted-string holds once \ and " are escaped
# (RFC 5322 §3.2.4).
_QUOTABLE = re.compile(r"[\t\x20-\x7e]*")


def make_boundary(boundary: str | None = None) -> str:
    """A fresh random boundary (128 bits: it will not occur in the parts), or ``boundary``
    after checking it against RFC 2046 §5.1.1."""
    if boundary is None:
        return secrets.token_hex(16)
    if not _BOUNDARY.fullmatch(boundary):
        raise ValueError(f"invalid multipart boundary {boundary!r} (RFC 2046 §5.1.1)")
    return boundary


def multipart_content_type(boundary: str, subtype: str = "form-data") -> str:
    """``multipart/<subtype>; boundary=...``, quoting the boundary when it needs it."""
    if not _TOKEN.fullmatch(subtype):
        raise ValueError(f"invalid multipart subtype {subtype!r} (RFC 2046 §5.1.1)")
    value = boundary if _TOKEN.fullmatch(boundary) else f'"{boundary}"'
    return f"multipart/{subtype}; boundary={value}"


def _quoted(value: str, quote_fields: bool) -> str:
    if quote_fields:
        return '"' + value.translate(_WHATWG_ESCAPES) + '"'
    if _HEADER_UNSAFE.search(value):
        raise ValueError(f"CR, LF or NUL in a form field name: {value!r}")
    return f'"{_escaped(value)}"'


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


def mime_disposition(
    disptype: str,
    params: Mapping[str, str],
    *,
    quote_fields: bool = True,
    charset: str = "utf-8",
) -> str:
    """A MIME part's ``Content-Disposition`` value (RFC 2183), as aiohttp writes it.

    With ``quote_fields=False`` values go as quoted strings in UTF-8, unencoded."""
    if not _TOKEN.fullmatch(disptype):
        raise ValueError(f"invalid content disposition type {disptype!r}")
    out = [disptype]
    for key, val in params.items():
        if not _TOKEN.fullmatch(key):
            raise ValueError(f"invalid content disposition parameter {key!r}")
        if not isinstance(val, str):
            raise TypeError(f"content disposition {key!r} must be str, not {type(val).__name__}")
        if not quote_fields:
            if _HEADER_UNSAFE.search(val):
                raise ValueError(f"CR, LF or NUL in content disposition {key!r}: {val!r}")
            out.append(f'{key}="{_escaped(val)}"')
        elif key.lower() == "filename":
            out.append(f'{key}="{quote(val, safe="", encoding=charset)}"')
        elif _QUOTABLE.fullmatch(val):
            out.append(f'{key}="{_escaped(val)}"')
        else:
            out.append(f"{key}*={charset}''{quote(val, safe='', encoding=charset)}")
    return "; ".join(out)


def _escaped(value: str) -> str:
    """The inside of an RFC 9110 §5.6.4 quoted-string."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def check_part_header(name: str, value: str) -> None:
    """``ValueError`` unless ``name: value`` is one safe header line (see the rules)."""
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"invalid multipart part header name {name!r}")
    if _HEADER_UNSAFE.search(value):
        raise ValueError(f"CR, LF or NUL in multipart part header {name!r}: {value!r}")


def part_head(boundary: str, headers: Iterable[tuple[str, str]], *, first: bool) -> bytes:
    """The delimiter and header block that open a part; a CRLF closes the previous part."""
    lines = [f"--{boundary}"]
    for key, val in headers:
        check_part_header(key, val)
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
