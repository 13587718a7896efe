"""aiohttp's ``MultipartWriter``: multipart bodies (RFC 2046 §5.1) built part by part.

Rules / theory of operation:

- A writer is a ``Payload``, so ``data=writer`` sends it with the Content-Type in its
  ``headers``. Its parts are ``PartPayload``s: a body with its own header block (a
  ``CIMultiDict`` that starts with the body's Content-Type). ``append`` returns the part,
  so scripts can set headers and ``set_content_disposition`` on it; a nested writer is its
  own part.
- Part heads are built whenever the body is measured (``size``) or sent, never kept from
  ``append``: headers set after ``append`` count, and a nested writer filled after it was
  appended is measured as it is then. The request reads ``size`` before it writes a byte,
  so a bad header (CR, LF or NUL, a name that is not a token), an unknown coding or a
  form-data part without a name is a ``ValueError`` before anything is sent. ``append``
  checks the same things early; only ``chunked=True``, which skips ``size``, finds a
  header broken after ``append`` when the body is sent.
- multipart/form-data (RFC 7578): every part needs ``Content-Disposition`` with a
  ``name`` (``form-data; name="section-N"`` by default, as aiohttp); Content-Length,
  Content-Encoding and Content-Transfer-Encoding are refused (§4.7, §4.8).
- Other subtypes, as aiohttp: a part of known size sent as is gets a Content-Length line.
  ``Content-Encoding: gzip|deflate`` and ``Content-Transfer-Encoding: base64|
  quoted-printable`` in a part's headers are applied while streaming, and the body's size
  is then unknown (chunked). Part "deflate" is raw deflate: the one common reader that
  decodes part codings, aiohttp's ``BodyPartReader``, expects exactly that.
- Streaming: bodies already in memory are gathered into writes of up to
  ``FILE_CHUNK_SIZE``; the others (files, streams, nested writers holding them) are
  streamed chunk by chunk, so a file part is never read whole.
"""

from __future__ import annotations

import binascii
import io
import re
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, NamedTuple

from multidict import CIMultiDict

from .multipart import (
    check_part_header,
    closing_delimiter,
    make_boundary,
    mime_disposition,
    multipart_content_type,
    part_head,
    urlencoded,
)
from .payload import (
    FILE_CHUNK_SIZE,
    AsyncIterablePayload,
    BytesPayload,
    FilePayload,
    ForeignPayload,
    JsonPayload,
    Payload,
    StringPayload,
    charset_of,
    is_foreign_payload,
)

__all__ = ["BodyPart", "MultipartWriter", "PartPayload"]

# A part's Content-Encoding -> zlib wbits ("identity": sent as is).
_COMPRESS_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "deflate": -zlib.MAX_WBITS}
# RFC 2045 §6.1; the three identity codings send the body as is.
_TRANSFER_CODINGS = {"7bit", "8bit", "binary", "base64", "quoted-printable"}
_FORM_DATA_REFUSED = ("Content-Length", "Content-Encoding", "Content-Transfer-Encoding")
_BASE64_LINE = 57  # input bytes per 76-character base64 line (RFC 2045 §6.8)
_NAME_PARAM = re.compile(r";\s*name\*?\s*=", re.IGNORECASE)


class PartPayload(Payload):
    """A payload with its own MIME header block: what ``MultipartWriter.append`` returns.
    (Every ``Payload`` has ``headers`` and ``set_content_disposition``; a part sends them.)"""


class BodyPart(PartPayload):
    """One part: ``payload``'s body under a header block of its own."""

    def __init__(self, payload: Payload, headers: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.payload = payload
        self.size = payload.size
        self.replayable = payload.replayable
        self.filename = payload.filename
        if payload.content_type:
            self.headers["Content-Type"] = payload.content_type
        self.headers.update(payload.headers)
        if headers:
            self.headers.update(headers)

    def in_memory(self) -> bytes | None:
        return self.payload.in_memory()

    def chunks(self) -> AsyncIterator[bytes]:
        return self.payload.chunks()

    async def close(self) -> None:
        await self.payload.close()


class _Slot(NamedTuple):
    head: bytes  # the delimiter and header block
    part: PartPayload
    coding: str | None  # Content-Encoding to apply while sending
    transfer: str | None  # Content-Transfer-Encoding to apply while sending
    size: int | None  # the body's size on the wire, if known


class MultipartWriter(PartPayload):
    """A multipart/<subtype> body; a sync context manager, as in aiohttp.

    ``close_boundary=False`` leaves out the closing delimiter (for a stream of parts that
    goes on, multipart/x-mixed-replace style)."""

    def __init__(
        self, subtype: str = "mixed", boundary: str | None = None, close_boundary: bool = True
    ) -> None:
        super().__init__()
        self._boundary = make_boundary(boundary)
        self.headers["Content-Type"] = multipart_content_type(self._boundary, subtype)
        self._form_data = subtype.lower() == "form-data"
        self._close_boundary = close_boundary
        self._parts: list[PartPayload] = []

    def __enter__(self) -> MultipartWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    @property
    def boundary(self) -> str:
        return self._boundary

    def __len__(self) -> int:
        return len(self._parts)

    def __bool__(self) -> bool:
        return True  # an empty writer is still a body (its closing delimiter)

    def __iter__(self) -> Iterator[tuple[PartPayload, str | None, str | None]]:
        """``(part, content coding, transfer coding)`` per part, as aiohttp's writer."""
        for part in self._parts:
            coding, transfer = self._codings(part)
            yield part, coding, transfer

    # -- building -----------------------------------------------------------------

    def append(self, obj: Any, headers: Mapping[str, str] | None = None) -> PartPayload:
        """Add ``obj`` (str, bytes, a file object, an async iterable, a Payload or another
        MultipartWriter) as the next part; ``headers`` override its defaults."""
        if isinstance(obj, PartPayload):
            if headers:
                obj.headers.update(headers)
            return self.append_payload(obj)
        return self.append_payload(BodyPart(_body_of(obj, headers), headers))

    def append_payload(self, payload: Payload) -> PartPayload:
        """Add ``payload`` as the next part and return the part."""
        part = payload if isinstance(payload, PartPayload) else BodyPart(payload)
        if part is self or (isinstance(part, MultipartWriter) and part._holds(self)):
            raise ValueError("a multipart writer cannot contain itself")
        if "Content-Disposition" not in part.headers:
            params = {} if part.filename is None else {"filename": part.filename}
            if self._form_data:
                params = {"name": f"section-{len(self)}", **params}
            if params:
                kind = "form-data" if self._form_data else "attachment"
                part.headers["Content-Disposition"] = mime_disposition(kind, params)
        for name, value in part.headers.items():
            check_part_header(name, value)
        self._codings(part)
        self._parts.append(part)
        return part

    def append_json(self, obj: Any, headers: Mapping[str, str] | None = None) -> PartPayload:
        """Add ``json.dumps(obj)`` as an application/json part."""
        return self.append_payload(BodyPart(JsonPayload(obj), headers))

    def append_form(
        self,
        obj: Sequence[tuple[str, Any]] | Mapping[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> PartPayload:
        """Add an application/x-www-form-urlencoded part; a list value repeats its key."""
        if not isinstance(obj, (Sequence, Mapping)) or isinstance(obj, (str, bytes)):
            raise TypeError(f"append_form needs a mapping or pairs, not {type(obj).__name__}")
        items = obj.items() if isinstance(obj, Mapping) else obj
        pairs = [
            (key, str(item))
            for key, value in items
            for item in (value if isinstance(value, (list, tuple)) else (value,))
        ]
        body = BytesPayload(urlencoded(pairs), content_type="application/x-www-form-urlencoded")
        return self.append_payload(BodyPart(body, headers))

    def _holds(self, writer: MultipartWriter) -> bool:
        return any(
            part is writer or (isinstance(part, MultipartWriter) and part._holds(writer))
            for part in self._parts
        )

    # -- the wire -----------------------------------------------------------------

    def _codings(self, part: PartPayload) -> tuple[str | None, str | None]:
        """The codings to apply to ``part``; ``ValueError`` for what may not be sent."""
        headers = part.headers
        if self._form_data:
            refused = next((name for name in _FORM_DATA_REFUSED if name in headers), None)
            if refused is not None:
                raise ValueError(f"a multipart/form-data part cannot have {refused} (RFC 7578)")
            if not _NAME_PARAM.search(headers.get("Content-Disposition", "")):
                raise ValueError(
                    "a multipart/form-data part needs a Content-Disposition with a name "
                    "(RFC 7578 §4.2): part.set_content_disposition('form-data', name=...)"
                )
            return None, None
        coding = headers.get("Content-Encoding", "identity").strip().lower()
        if coding != "identity" and coding not in _COMPRESS_WBITS:
            raise ValueError(f"cannot send a multipart part with Content-Encoding {coding!r}")
        transfer = headers.get("Content-Transfer-Encoding", "binary").strip().lower()
        if transfer not in _TRANSFER_CODINGS:
            raise ValueError(
                f"cannot send a multipart part with Content-Transfer-Encoding {transfer!r}"
            )
        return (
            None if coding == "identity" else coding,
            transfer if transfer in ("base64", "quoted-printable") else None,
        )

    def _layout(self) -> list[_Slot]:
        slots = []
        for index, part in enumerate(self._parts):
            coding, transfer = self._codings(part)
            size = None if coding or transfer else part.size
            lines = list(part.headers.items())
            if size is not None and not self._form_data and "Content-Length" not in part.headers:
                lines.append(("Content-Length", str(size)))
            head = part_head(self._boundary, lines, first=index == 0)
            slots.append(_Slot(head, part, coding, transfer, size))
        return slots

    def _tail(self) -> bytes:
        if self._close_boundary:
            return closing_delimiter(self._boundary, empty=not self._parts)
        return b"\r\n" if self._parts else b""  # the CRLF that ends the last part

    @property
    def size(self) -> int | None:
        """The exact body size; ``None`` (sent chunked) if a part's size is unknown."""
        total = len(self._tail())
        for slot in self._layout():  # builds (and checks) every head before returning
            if slot.size is None:
                return None
            total += len(slot.head) + slot.size
        return total

    @size.setter
    def size(self, value: int | None) -> None:
        raise AttributeError("a MultipartWriter's size is computed from its parts")

    @property
    def replayable(self) -> bool:
        return all(part.replayable for part in self._parts)

    @replayable.setter
    def replayable(self, value: bool) -> None:
        raise AttributeError("a MultipartWriter is replayable when all its parts are")

    async def close(self) -> None:
        """Close every part's payload (their files), once the request is done with them."""
        self._consumed = True
        for part in self._parts:
            await part.close()

    def in_memory(self) -> bytes | None:
        out: list[bytes] = []
        for slot in self._layout():
            data = None if slot.coding or slot.transfer else slot.part.in_memory()
            if data is None:
                return None
            out += (slot.head, data)
        out.append(self._tail())
        return b"".join(out)

    async def chunks(self) -> AsyncIterator[bytes]:
        pending: list[bytes] = []
        pending_size = 0
        for slot in self._layout():
            pending.append(slot.head)
            pending_size += len(slot.head)
            data = None if slot.coding or slot.transfer else slot.part.in_memory()
            if data is not None and pending_size + len(data) < FILE_CHUNK_SIZE:
                pending.append(data)
                pending_size += len(data)
                continue
            yield b"".join(pending)
            pending, pending_size = [], 0
            if data is not None:
                if data:
                    yield data  # big: sent as it is, not copied into a join
                continue
            async for chunk in _encoded(slot.part.chunks(), slot.coding, slot.transfer):
                yield chunk
        pending.append(self._tail())
        tail = b"".join(pending)
        if tail:
            yield tail


def _body_of(obj: Any, headers: Mapping[str, str] | None) -> Payload:
    """The payload aiohttp's writer makes of ``obj`` (text in the charset ``headers``
    declare, UTF-8 by default)."""
    if isinstance(obj, Payload):
        return obj
    if is_foreign_payload(obj):
        return ForeignPayload(obj)
    if isinstance(obj, (str, io.StringIO)):
        declared = CIMultiDict(headers or {}).get("Content-Type")
        text = obj if isinstance(obj, str) else obj.read()
        return StringPayload(text, encoding=charset_of(declared) or "utf-8")
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return BytesPayload(obj)
    if isinstance(obj, io.IOBase):
        return FilePayload(obj)  # type: ignore[arg-type]
    if isinstance(obj, AsyncIterable):
        return AsyncIterablePayload(obj)
    raise TypeError(f"cannot make a multipart part of a {type(obj).__name__}")


def _encoded(
    chunks: AsyncIterator[bytes], coding: str | None, transfer: str | None
) -> AsyncIterator[bytes]:
    """``chunks`` compressed with ``coding``, then transfer-encoded with ``transfer``."""
    if coding is not None:
        chunks = _compressed(chunks, _COMPRESS_WBITS[coding])
    if transfer == "base64":
        chunks = _base64_lines(chunks)
    elif transfer == "quoted-printable":
        chunks = _quoted_printable(chunks)
    return chunks


async def _compressed(chunks: AsyncIterator[bytes], wbits: int) -> AsyncIterator[bytes]:
    compressor = zlib.compressobj(wbits=wbits)
    async for chunk in chunks:
        if out := compressor.compress(chunk):
            yield out
    yield compressor.flush()


async def _base64_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Base64 in 76-character lines joined by CRLF (RFC 2045 §6.8)."""
    rest = b""
    separator = b""
    async for chunk in chunks:
        data = rest + chunk
        cut = len(data) - len(data) % _BASE64_LINE
        rest = data[cut:]
        if cut:
            yield separator + _base64(data[:cut])
            separator = b"\r\n"
    if rest:
        yield separator + _base64(rest)


def _base64(data: bytes) -> bytes:
    step = _BASE64_LINE
    lines = (
        binascii.b2a_base64(data[i : i + step], newline=False) for i in range(0, len(data), step)
    )
    return b"\r\n".join(lines)


async def _quoted_printable(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    async for chunk in chunks:  # chunk by chunk, as aiohttp: a line may run on across two
        if out := binascii.b2a_qp(chunk):
            yield out
