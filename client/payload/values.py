"""Bodies already in memory: bytes, text and JSON.

Each holds its bytes once (a bytearray or memoryview is copied, so later changes by the
caller cannot break the announced size), knows its exact size and can be sent any number
of times.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from .base import _UNSET, Payload, register_payload

__all__ = ["BytesPayload", "JsonBytesPayload", "JsonPayload", "StringPayload", "charset_of"]

_CHARSET = re.compile(r';\s*charset\s*=\s*"?([^";\s]+)', re.IGNORECASE)


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type value, if it has one."""
    match = _CHARSET.search(content_type or "")
    return match.group(1) if match else None


class BytesPayload(Payload):
    """Bytes (or a bytearray or memoryview, copied once)."""

    def __init__(
        self,
        value: bytes | bytearray | memoryview,
        headers: Any = None,
        content_type: str | None = _UNSET,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"BytesPayload needs bytes, not {type(value).__name__}")
        data = value if isinstance(value, bytes) else bytes(value)
        super().__init__(data, headers, content_type, filename, encoding)
        self._value: bytes = data
        self.size = len(data)

    def in_memory(self) -> bytes:
        return self._value


class StringPayload(BytesPayload):
    """Text, encoded once: in ``encoding``, else the charset its ``content_type`` names,
    else UTF-8; the default Content-Type names the charset used."""

    def __init__(
        self,
        value: str,
        headers: Any = None,
        *,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(value, str):
            raise TypeError(f"StringPayload needs str, not {type(value).__name__}")
        if encoding is None:
            encoding = charset_of(content_type) or "utf-8"
        if content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(
            value.encode(encoding), headers, content_type=content_type, encoding=encoding, **kwargs
        )


class JsonPayload(BytesPayload):
    """``dumps(value)`` in ``encoding`` (UTF-8, RFC 8259 §8.1); ``dumps`` may return str
    or bytes (bytes are sent as they are)."""

    def __init__(
        self,
        value: Any,
        encoding: str = "utf-8",
        content_type: str = "application/json",
        dumps: Callable[[Any], str | bytes] = json.dumps,
        **kwargs: Any,
    ) -> None:
        text = dumps(value)
        body = text.encode(encoding) if isinstance(text, str) else bytes(text)
        super().__init__(body, content_type=content_type, encoding=encoding, **kwargs)


class JsonBytesPayload(JsonPayload):
    """aiohttp 3.12's payload for encoders that return bytes (``orjson.dumps``)."""

    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
        **kwargs: Any,
    ) -> None:
        super().__init__(value, "utf-8", content_type, dumps, **kwargs)


register_payload(BytesPayload, (bytes, bytearray, memoryview))
register_payload(StringPayload, str)
