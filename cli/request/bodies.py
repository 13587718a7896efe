"""Request bodies as bytes: JSON, urlencoded forms and multipart/form-data.

zurl serialises bodies itself so the bytes shown by ``-v``/``--offline`` are exactly the
bytes sent, whatever the engine would have chosen.

Rules:
- JSON goes out as httpie sends it (``", "`` and ``": "`` separators, non-ASCII as
  ``\\uXXXX``); a raw ``:=`` value keeps what the user typed that a round trip through
  Python would lose: numbers as written (``1e3``, ``1.50``) and repeated object keys.
- Multipart parts go in argument order; names are quoted as browsers do (WHATWG: ``"``,
  CR and LF percent-encoded) and a part's Content-Type can hold no CR or LF.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any, NamedTuple
from urllib.parse import urlencode

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


class RawNumber(str):
    """A JSON number exactly as the user wrote it."""

    __slots__ = ()
    json_type = "a number"


@dataclasses.dataclass(frozen=True, slots=True)
class RepeatedKeys:
    """A JSON object whose keys repeat (``{"x": 1, "x": 2}``), kept as written."""

    pairs: tuple[tuple[str, Any], ...]
    json_type = "an object with repeated keys"


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any] | RepeatedKeys:
    obj = dict(pairs)
    return obj if len(obj) == len(pairs) else RepeatedKeys(tuple(pairs))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """A raw JSON value (``:=``); ValueError (RecursionError too) when it is not one."""
    return json.loads(
        text,
        object_pairs_hook=_object,
        parse_int=RawNumber,
        parse_float=RawNumber,
        parse_constant=_no_constant,
    )


def _chunks(value: Any) -> Iterator[str]:
    if isinstance(value, RawNumber):
        yield str(value)
    elif isinstance(value, dict | RepeatedKeys):
        pairs = value.pairs if isinstance(value, RepeatedKeys) else tuple(value.items())
        yield "{"
        for index, (key, item) in enumerate(pairs):
            yield (", " if index else "") + json.dumps(key) + ": "
            yield from _chunks(item)
        yield "}"
    elif isinstance(value, list):
        yield "["
        for index, item in enumerate(value):
            if index:
                yield ", "
            yield from _chunks(item)
        yield "]"
    else:
        yield json.dumps(value)


def encode_json(value: Any) -> bytes:
    """``value`` as httpie sends JSON; RecursionError when it nests too deeply to write."""
    return "".join(_chunks(value)).encode("ascii")


def encode_form(fields: list[tuple[str, str]]) -> bytes:
    return urlencode(fields).encode("ascii")


class Part(NamedTuple):
    """One part of a multipart body: a field (``filename`` None) or a file."""

    name: str
    content: bytes
    filename: str | None = None
    content_type: str | None = None


def _quote(text: str) -> str:
    # WHATWG's multipart/form-data encoding of names: what would end the quoted string.
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def new_boundary() -> str:
    import secrets

    return secrets.token_hex(16)


def encode_multipart(parts: list[Part], boundary: str) -> bytes:
    """The multipart/form-data body of ``parts`` (RFC 7578), in their order."""
    out = bytearray()
    for part in parts:
        disposition = f'form-data; name="{_quote(part.name)}"'
        if part.filename is not None:
            disposition += f'; filename="{_quote(part.filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if part.content_type is not None:
            head += f"Content-Type: {part.content_type}\r\n"
        out += (head + "\r\n").encode("utf-8") + part.content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out)
