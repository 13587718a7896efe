"""Request bodies as bytes: JSON, urlencoded forms and multipart/form-data.

zurl serialises bodies itself so the bytes shown by ``-v``/``--offline`` are exactly the
bytes sent, whatever the engine would have chosen.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any
from urllib.parse import urlencode

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


@dataclasses.dataclass(frozen=True, slots=True)
class Upload:
    """One file part of a multipart body."""

    field: str
    filename: str
    content: bytes
    content_type: str


def encode_json(value: Any) -> bytes:
    # Compact separators like curl users expect on the wire; rendering re-indents.
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def encode_form(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode("ascii")


def _quote(name: str) -> str:
    # HTML's multipart/form-data encoding: escape what would end the quoted string.
    return name.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def encode_multipart(
    fields: list[tuple[str, str]], uploads: list[Upload], boundary: str | None = None
) -> tuple[bytes, str]:
    """The body and its Content-Type (RFC 7578), fields first, then files."""
    if boundary is None:
        import secrets

        boundary = secrets.token_hex(16)
    out = bytearray()
    for name, value in fields:
        disposition = f'form-data; name="{_quote(name)}"'
        out += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        out += value.encode("utf-8") + b"\r\n"
    for up in uploads:
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(up.field)}"; '
            f'filename="{_quote(up.filename)}"\r\nContent-Type: {up.content_type}\r\n\r\n'
        ).encode()
        out += up.content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"
