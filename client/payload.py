"""Request bodies: bytes, text, JSON, files, async streams and HTML forms.

Rules / theory of operation:

- A ``Payload`` describes one body: its default ``content_type``, its exact ``size`` on the
  wire (``None`` makes the writer use chunked transfer coding), extra ``headers`` it implies
  and whether it is ``replayable`` (can be sent again after a 307/308 or a retry on a stale
  connection).
- ``in_memory()`` returns the whole body when it is already in memory, so the writer can
  send head and body in one write; otherwise ``chunks()`` streams it. Every payload supports
  ``chunks()``; they produce exactly ``size`` bytes when ``size`` is known.
- Nothing here touches sockets; files are read in ``FILE_CHUNK_SIZE`` pieces in the loop's
  default executor (see ``FilePayload``).
"""

from __future__ import annotations

import asyncio
import io
import json
import mimetypes
import os
import stat
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from typing import IO, Any, NamedTuple

from .exceptions import NonReplayableBodyError
from .multipart import (
    closing_delimiter,
    content_disposition,
    make_boundary,
    multipart_content_type,
    part_head,
    urlencoded,
)

__all__ = [
    "FILE_CHUNK_SIZE",
    "AsyncIterablePayload",
    "BytesPayload",
    "FilePayload",
    "FormData",
    "JsonBytesPayload",
    "JsonPayload",
    "Payload",
    "StringPayload",
    "compress_payload",
    "payload_from_data",
]

# 64 KiB: the size of a typical socket send buffer slice and what aiohttp and httpx read.
FILE_CHUNK_SIZE = 1 << 16

_OCTET_STREAM = "application/octet-stream"


class Payload:
    """One request body (see the module rules)."""

    content_type: str | None = None
    size: int | None = None
    replayable: bool = True
    filename: str | None = None  # the file name a multipart part reports, if any

    def __init__(self) -> None:
        self.headers: dict[str, str] = {}

    def in_memory(self) -> bytes | None:
        """The whole body if it is already in memory, else ``None``."""
        return None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, as an async generator of non-empty chunks."""
        body = self.in_memory()
        if body is None:
            raise NotImplementedError(f"{type(self).__name__} must implement chunks()")
        if body:
            yield body


class BytesPayload(Payload):
    """A body already in memory (copied once from a bytearray or memoryview, so later
    changes by the caller cannot break the announced size)."""

    def __init__(
        self, value: bytes | bytearray | memoryview, *, content_type: str = _OCTET_STREAM
    ) -> None:
        super().__init__()
        if not isinstance(value, (bytes, bytearray, memoryview)):
            raise TypeError(f"BytesPayload needs bytes, not {type(value).__name__}")
        self._value = value if isinstance(value, bytes) else bytes(value)
        self.size = len(self._value)
        self.content_type = content_type

    def in_memory(self) -> bytes:
        return self._value


class StringPayload(BytesPayload):
    """Text, encoded once; the default Content-Type names the charset used."""

    def __init__(
        self, value: str, *, encoding: str = "utf-8", content_type: str | None = None
    ) -> None:
        if not isinstance(value, str):
            raise TypeError(f"StringPayload needs str, not {type(value).__name__}")
        if content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(value.encode(encoding), content_type=content_type)


class JsonPayload(BytesPayload):
    """``dumps(value)`` as UTF-8 (RFC 8259 §8.1); ``dumps`` may return str or bytes."""

    def __init__(
        self,
        value: Any,
        *,
        dumps: Callable[[Any], str | bytes] = json.dumps,
        content_type: str = "application/json",
    ) -> None:
        text = dumps(value)
        body = text.encode("utf-8") if isinstance(text, str) else bytes(text)
        super().__init__(body, content_type=content_type)


class JsonBytesPayload(JsonPayload):
    """aiohttp 3.12's payload for encoders that return bytes (``orjson.dumps``): sent as is."""

    def __init__(
        self,
        value: Any,
        dumps: Callable[[Any], bytes],
        content_type: str = "application/json",
    ) -> None:
        super().__init__(value, dumps=dumps, content_type=content_type)


class FilePayload(Payload):
    """A file object or path, streamed from its current position, never read whole.

    Reads run in the loop's default executor: a 64 KiB read from the page cache costs
    microseconds, but one from a network file system or a cold disk can block for
    milliseconds, which would stall every other request and timer on the loop. The
    executor hop (~50 µs) is small next to sending 64 KiB.

    The size is the file's size (``fstat``, or seeking to the end) minus the start
    position, and exactly that many bytes are sent even if the file grows meanwhile.
    A path is opened anew for every send; a seekable file object seeks back to its start,
    so both are replayable. Text files are encoded with their own encoding (size unknown).
    """

    def __init__(
        self,
        file: IO[bytes] | IO[str] | str | os.PathLike[str],
        *,
        content_type: str | None = None,
        filename: str | None = None,
        chunk_size: int = FILE_CHUNK_SIZE,
    ) -> None:
        super().__init__()
        self._chunk_size = chunk_size
        self._path: str | None = None
        self._file: IO[Any] | None = None
        self._start: int | None = None
        if isinstance(file, (str, os.PathLike)):
            self._path = os.fspath(file)
            self.size = os.stat(self._path).st_size
            name: Any = self._path
        else:
            self._file = file
            self._measure(file)
            name = getattr(file, "name", None)
        if filename is None and isinstance(name, str) and name:
            filename = os.path.basename(name)
        self.filename = filename
        if content_type is None:
            guessed = mimetypes.guess_type(filename)[0] if filename else None
            if isinstance(file, io.TextIOBase):  # we send its characters in its encoding
                guessed = f"{guessed or 'text/plain'}; charset={file.encoding or 'utf-8'}"
            content_type = guessed
        self.content_type = content_type or _OCTET_STREAM

    def _measure(self, file: IO[Any]) -> None:
        seekable = file.seekable()
        self._start = file.tell() if seekable else None
        self.replayable = seekable
        if isinstance(file, io.TextIOBase) or self._start is None:
            return  # characters are not bytes; a pipe has no size
        try:
            info = os.fstat(file.fileno())
        except (OSError, AttributeError, io.UnsupportedOperation):
            end = file.seek(0, os.SEEK_END)  # in memory (BytesIO): seek to learn the size
            file.seek(self._start)
        else:
            if not stat.S_ISREG(info.st_mode):
                return  # a device or socket: its size says nothing about what it yields
            end = info.st_size
        self.size = max(end - self._start, 0)

    async def chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        file = open(self._path, "rb") if self._path is not None else self._file  # noqa: SIM115
        assert file is not None
        try:
            if self._start is not None:
                file.seek(self._start)
            encoding = getattr(file, "encoding", None) or "utf-8"
            left = self.size
            while left is None or left > 0:
                want = self._chunk_size if left is None else min(self._chunk_size, left)
                data = await loop.run_in_executor(None, file.read, want)
                if not data:
                    break
                chunk = data.encode(encoding) if isinstance(data, str) else bytes(data)
                if left is not None:
                    left -= len(chunk)
                yield chunk
            if left:
                raise OSError(
                    f"{self.filename or 'file'} shrank while sending: {left} bytes short"
                )
        finally:
            if self._path is not None:
                file.close()


class AsyncIterablePayload(Payload):
    """A one-shot stream of bytes chunks (size unknown: sent chunked)."""

    replayable = False

    def __init__(
        self, iterable: AsyncIterable[bytes], *, content_type: str = _OCTET_STREAM
    ) -> None:
        super().__init__()
        if not isinstance(iterable, AsyncIterable):
            raise TypeError(
                f"AsyncIterablePayload needs an async iterable, not {type(iterable).__name__}"
            )
        self._iterable: AsyncIterable[bytes] | None = iterable
        self.content_type = content_type

    async def chunks(self) -> AsyncIterator[bytes]:
        iterable, self._iterable = self._iterable, None
        if iterable is None:
            raise NonReplayableBodyError("the request body stream was already sent once")
        async for chunk in iterable:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(f"body stream yielded {type(chunk).__name__}, not bytes")
            if chunk:
                yield bytes(chunk)


# --- compression (aiohttp's ``compress=``) -----------------------------------------


def _compressor(encoding: str) -> Any:
    """A fresh zlib compressor for a request ``Content-Encoding``."""
    if encoding == "deflate":  # RFC 9110 §8.4.1.2: the zlib format
        return zlib.compressobj(wbits=zlib.MAX_WBITS)
    if encoding == "gzip":  # RFC 9110 §8.4.1.3
        return zlib.compressobj(wbits=16 + zlib.MAX_WBITS)
    raise ValueError(f"cannot compress a request body with {encoding!r} (use gzip or deflate)")


class _CompressedPayload(Payload):
    def __init__(self, inner: Payload, encoding: str) -> None:
        super().__init__()
        compressor = _compressor(encoding)  # an unknown coding fails now, not mid-send
        self._inner = inner
        self._encoding = encoding
        self.content_type = inner.content_type
        self.filename = inner.filename
        self.replayable = inner.replayable
        self.headers = {**inner.headers, "Content-Encoding": encoding}
        self._body: bytes | None = None
        body = inner.in_memory()
        if body is not None:
            # Already in memory: compress once, so Content-Length can be sent and servers
            # that refuse chunked request bodies still work.
            self._body = compressor.compress(body) + compressor.flush()
            self.size = len(self._body)

    def in_memory(self) -> bytes | None:
        return self._body

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._body is not None:
            yield self._body
            return
        compressor = _compressor(self._encoding)
        async for chunk in self._inner.chunks():
            out = compressor.compress(chunk)
            if out:
                yield out
        yield compressor.flush()


def compress_payload(payload: Payload, encoding: str) -> Payload:
    """``payload`` compressed with ``encoding`` ("gzip" or "deflate"), Content-Encoding set.

    An in-memory body is compressed at once and keeps an exact size; a streamed one is
    compressed chunk by chunk and has no size (chunked).
    """
    return _CompressedPayload(payload, encoding.strip().lower())


# --- forms ---------------------------------------------------------------------------


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

    def _part(self, field: _Field, *, first: bool) -> tuple[bytes, Payload]:
        body = _part_payload(field.value, self._charset or "utf-8")
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
            content_type = guessed or body.content_type or _OCTET_STREAM
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
    if isinstance(data, FormData):
        return data.payload()
    if isinstance(data, (bytes, bytearray, memoryview)):
        return BytesPayload(data)
    if isinstance(data, str):
        return StringPayload(data)
    if isinstance(data, (Mapping, list, tuple)):
        return FormData(data).payload()
    if isinstance(data, io.IOBase):
        return FilePayload(data)  # type: ignore[arg-type]
    if isinstance(data, AsyncIterable):
        return AsyncIterablePayload(data)
    raise TypeError(
        f"data= cannot be a {type(data).__module__}.{type(data).__qualname__}: pass bytes, "
        "str, a dict or list of form fields, FormData, a binary file or an async iterable"
    )
