"""Request bodies: aiohttp's ``payload`` module (``aiohttp.payload.BytesPayload`` and the
rest) with the engine's additions.

| module | holds |
| --- | --- |
| ``base`` | ``Payload`` (the interface every body has), ``get_payload`` and its registry |
| ``values`` | bodies in memory: bytes, text, JSON |
| ``files`` | file objects and paths, streamed (``IOBasePayload`` and its subclasses) |
| ``streams`` | async iterables, ``@streamer``, objects with aiohttp's payload interface |

HTML forms are ``client.formdata.FormData``; multipart bodies ``client.mpwriter``. Nothing
here touches a socket: a payload writes into whatever writer it is given.
"""

from __future__ import annotations

from .base import (
    FILE_CHUNK_SIZE,
    OCTET_STREAM,
    PAYLOAD_REGISTRY,
    LookupError,
    Order,
    Payload,
    PayloadRegistry,
    PayloadWriter,
    get_payload,
    payload_type,
    register_payload,
)
from .files import (
    BufferedReaderPayload,
    BytesIOPayload,
    FilePayload,
    IOBasePayload,
    StringIOPayload,
    TextIOPayload,
    guess_filename,
)
from .streams import (
    AsyncIterablePayload,
    ForeignPayload,
    StreamPayload,
    StreamWrapperPayload,
    is_foreign_payload,
    streamer,
)
from .values import BytesPayload, JsonBytesPayload, JsonPayload, StringPayload, charset_of

__all__ = [
    "FILE_CHUNK_SIZE",
    "OCTET_STREAM",
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "FilePayload",
    "ForeignPayload",
    "IOBasePayload",
    "JsonBytesPayload",
    "JsonPayload",
    "LookupError",
    "Order",
    "Payload",
    "PayloadRegistry",
    "PayloadWriter",
    "StreamPayload",
    "StreamWrapperPayload",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "charset_of",
    "get_payload",
    "guess_filename",
    "is_foreign_payload",
    "payload_type",
    "register_payload",
    "streamer",
]
