"""HTML forms (aiohttp's ``FormData``) and the ``data=`` argument made a payload.

Rules (RFC 7578 and the WHATWG HTML form encodings; the wire format is in ``multipart``):

- A form is urlencoded while every field is text, and multipart/form-data as soon as a
  field is a file, bytes, a stream or a payload, or has a content type or file name.
- Text fields go in the form's ``charset``, else the charset their part's Content-Type
  names, else UTF-8; that is what a server decoding the part by its declared charset reads.
- File fields are measured when added, so the form can be sent again (a 307, a resend)
  from the same start positions; a form holding a stream is one-shot.
- Multipart parts in memory are gathered into writes of up to ``FILE_CHUNK_SIZE``; file
  and stream parts are streamed as they come; the size is exact when every part's is.
- ``payload_from_data`` is what ``data=`` becomes: a payload as it is, a ``FormData``'s
  body, a mapping or list of pairs as a form, anything else through ``get_payload``.
"""

from __future__ import annotations

import io
import mimetypes
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import Any, NamedTuple

from .multipart import (
    closing_delimiter,
    content_disposition,
    make_boundary,
    multipart_content_type,
    part_head,
    urlencoded,
)
from .payload.base import FILE_CHUNK_SIZE, OCTET_STREAM, LookupError, Payload, get_payload
from .payload.files import FilePayload
from .payload.streams import AsyncIterablePayload, ForeignPayload, is_foreign_payload
from .payload.values import BytesPayload, charset_of

__all__ = ["FormData", "payload_from_data"]


class _Field(NamedTuple):
    name: str
    value: Any
    content_type: str | None
    filename: str | None
    transfer_encoding: str | None


class FormData:
    """An HTML form: urlencoded while every field is text, multipart/form-data (RFC 7578)
    as soon as a field is a file, bytes, a stream, or has a content type or file name."""

    def __init__(
        self,
        fields: Any = (),
        quote_fields: bool = True,
        charset: str | None = None,
        *,
        boundary: str | None = None,
        default_to_multipart: bool = False,
    ) -> None:
        self._fields: list[_Field] = []
        self._quote_fields = quote_fields
        self._charset = charset
        self._boundary = make_boundary(boundary)
        self._is_multipart = default_to_multipart
        if isinstance(fields, Mapping):
            fields = list(fields.items())  # a MultiDict's items() keeps repeated keys
        elif not isinstance(fields, (list, tuple)):
            fields = (fields,)
        self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        """Append one field; repeated names are kept in order."""
        if not isinstance(name, str):
            raise TypeError(f"form field name must be str, not {type(name).__name__}")
        for label, opt in (("content_type", content_type), ("filename", filename)):
            if opt is not None and not isinstance(opt, str):
                raise TypeError(f"{label} must be str, not {type(opt).__name__}")
        if isinstance(value, (bytes, bytearray, memoryview)):
            # aiohttp 3.x sends a bytes value as a file named after the field.
            if filename is None and content_transfer_encoding is None:
                filename = name
            self._is_multipart = True
        elif isinstance(value, io.IOBase):
            if filename is None:
                filename = _guess_filename(value, name)
            # Measured now, so the form can be sent again from the same start position.
            value = FilePayload(value, filename=filename)  # type: ignore[arg-type]
            self._is_multipart = True
        elif is_foreign_payload(value):
            value = ForeignPayload(value)
            filename = filename if filename is not None else value.filename
            self._is_multipart = True
        elif isinstance(value, (Payload, AsyncIterable)):
            if filename is None and isinstance(value, Payload):
                filename = value.filename
            self._is_multipart = True
        elif isinstance(value, (str, int, float)):
            value = str(value)
        else:
            raise TypeError(f"cannot send a {type(value).__name__} as form field {name!r}")
        if content_type is not None or filename is not None or content_transfer_encoding:
            self._is_multipart = True
        self._fields.append(_Field(name, value, content_type, filename, content_transfer_encoding))

    def _add_repeated(self, name: str, value: Any) -> None:
        # A list value repeats the field, as urlencode(doseq=True) does (aiohttp too).
        for item in value if isinstance(value, (list, tuple)) else (value,):
            self.add_field(name, item)

    def add_fields(self, *fields: Any) -> None:
        """Append files (named after themselves), mappings, MultiDicts or ``(name, value)``."""
        for rec in fields:
            if isinstance(rec, io.IOBase):
                self.add_field(_guess_filename(rec, "unknown"), rec)
            elif isinstance(rec, Mapping):
                for key, val in rec.items():
                    self._add_repeated(key, val)
            elif isinstance(rec, (list, tuple)) and len(rec) == 2:
                self._add_repeated(rec[0], rec[1])
            else:
                raise TypeError(
                    f"form fields must be (name, value) pairs, mappings or files, not {rec!r}"
                )

    def payload(self) -> Payload:
        """The body: urlencoded, or multipart streamed part by part."""
        if not self._is_multipart:
            content_type = "application/x-www-form-urlencoded"
            if self._charset:
                content_type += f"; charset={self._charset}"
            pairs = ((f.name, f.value) for f in self._fields)
            return BytesPayload(urlencoded(pairs, self._charset), content_type=content_type)
        parts = [self._part(field, first=i == 0) for i, field in enumerate(self._fields)]
        return _MultipartPayload(parts, self._boundary)

    def __call__(self) -> Payload:
        """The body (aiohttp's spelling of ``payload()``)."""
        return self.payload()

    def _part(self, field: _Field, *, first: bool) -> tuple[bytes, Payload]:
        # Text goes in the form's charset, else the one its part's Content-Type names.
        charset = self._charset or charset_of(field.content_type) or "utf-8"
        body = _part_payload(field.value, charset)
        headers = [
            (
                "Content-Disposition",
                content_disposition(field.name, field.filename, quote_fields=self._quote_fields),
            )
        ]
        # RFC 7578 §4.4: a file part names its type; a text field goes without (text/plain).
        content_type = field.content_type
        if content_type is None and isinstance(field.value, Payload):
            content_type = field.value.content_type
        if content_type is None and field.filename is not None:
            guessed = mimetypes.guess_type(field.filename)[0]
            content_type = guessed or body.content_type or OCTET_STREAM
        if content_type is not None:
            headers.append(("Content-Type", content_type))
        if field.transfer_encoding:
            headers.append(("Content-Transfer-Encoding", field.transfer_encoding))
        return part_head(self._boundary, headers, first=first), body


def _guess_filename(value: Any, default: str) -> str:
    name = getattr(value, "filename", None) or getattr(value, "name", None)
    if isinstance(name, str) and name and not (name.startswith("<") and name.endswith(">")):
        return os.path.basename(name)
    return default


def _part_payload(value: Any, charset: str) -> Payload:
    if isinstance(value, Payload):
        return value
    if isinstance(value, str):
        return BytesPayload(value.encode(charset))
    if is_foreign_payload(value):
        return ForeignPayload(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return BytesPayload(value)
    return AsyncIterablePayload(value)


class _MultipartPayload(Payload):
    """multipart/form-data: small parts are gathered into one write, file and stream parts
    are streamed as they come; the size is exact when every part's size is known."""

    def __init__(self, parts: list[tuple[bytes, Payload]], boundary: str) -> None:
        super().__init__()
        self._parts = parts
        self._tail = closing_delimiter(boundary, empty=not parts)
        self.content_type = multipart_content_type(boundary)
        self.replayable = all(body.replayable for _, body in parts)
        sizes = [body.size for _, body in parts]
        if all(size is not None for size in sizes):
            total = sum(len(head) for head, _ in parts) + len(self._tail)
            self.size = total + sum(size for size in sizes if size is not None)

    def in_memory(self) -> bytes | None:
        out: list[bytes] = []
        for head, body in self._parts:
            data = body.in_memory()
            if data is None:
                return None
            out += (head, data)
        out.append(self._tail)
        return b"".join(out)

    async def close(self) -> None:
        """Close the parts' payloads (their files), once the request is done with them."""
        self._consumed = True
        for _, body in self._parts:
            await body.close()

    async def chunks(self) -> AsyncIterator[bytes]:
        pending: list[bytes] = []
        pending_size = 0
        for head, body in self._parts:
            data = body.in_memory()
            pending.append(head)
            pending_size += len(head)
            if data is not None:
                pending.append(data)
                pending_size += len(data)
                if pending_size < FILE_CHUNK_SIZE:
                    continue
            yield b"".join(pending)
            pending, pending_size = [], 0
            if data is None:
                async for chunk in body.chunks():
                    yield chunk
        pending.append(self._tail)
        yield b"".join(pending)


def payload_from_data(data: Any) -> Payload:
    """The payload for aiohttp's ``data=`` argument; ``TypeError`` for what cannot be sent."""
    if isinstance(data, Payload):
        return data
    if type(data) is bytes:
        return BytesPayload(data)
    if isinstance(data, FormData):
        return data.payload()
    try:
        return get_payload(data, disposition=None)
    except LookupError:
        pass
    if isinstance(data, (Mapping, list, tuple)):
        return FormData(data).payload()
    if is_foreign_payload(data):
        return ForeignPayload(data)
    raise TypeError(
        f"data= cannot be a {type(data).__module__}.{type(data).__qualname__}: pass bytes, "
        "str, a dict or list of form fields, FormData, a file object, an async iterable "
        "or a payload"
    )
