"""Bodies read from file objects (aiohttp's ``IOBasePayload`` family) or from a path.

Rules:

- A file is streamed from the position it had when the payload was made, in
  ``FILE_CHUNK_SIZE`` reads, never read whole. Reads of real files run in the loop's
  default executor: one from a network file system or a cold disk can block for
  milliseconds, which would stall every other request and timer on the loop; the hop
  (~50 µs) is small next to sending 64 KiB. In-memory files (``BytesIO``, ``StringIO``)
  are read in place.
- The size is the bytes from that position to the end (``fstat`` of a regular file, or
  seeking to the end), and exactly that many bytes are sent even if the file grows
  meanwhile; a file that shrinks fails the upload instead of breaking the framing. A
  device, pipe, socket or text file has no size (sent chunked).
- A seekable file (``seekable()`` true and ``tell()`` working) is replayable: every send
  seeks back to the start position. Anything else (a pipe, tarfile's streaming members
  whose ``seekable()`` raises) is one-shot. A path is opened anew for every send.
- Text is encoded with the payload's ``encoding`` (``TextIOPayload``), else the file's own.
- ``close()`` closes the file object, as aiohttp 3.12+ does once the request is done; a
  payload made from a path closes what it opens itself.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import stat
from collections.abc import AsyncIterator
from typing import IO, Any

from ..exceptions import NonReplayableBodyError
from .base import _UNSET, FILE_CHUNK_SIZE, Payload, register_payload
from .values import StringPayload, charset_of

__all__ = [
    "BufferedReaderPayload",
    "BytesIOPayload",
    "FilePayload",
    "IOBasePayload",
    "StringIOPayload",
    "TextIOPayload",
    "guess_filename",
]


def guess_filename(value: Any, default: str | None = None) -> str | None:
    """The base name of ``value.name``, unless it is a pseudo name like ``<stdin>``."""
    name = getattr(value, "name", None)
    if isinstance(name, (str, os.PathLike)):
        name = os.fspath(name)
        if name and not (name.startswith("<") and name.endswith(">")):
            return os.path.basename(name)
    return default


def _seekable(file: Any) -> bool:
    try:
        return bool(file.seekable())
    except (AttributeError, OSError, ValueError):
        return False  # e.g. tarfile's streaming members: their stream has no seekable()


class IOBasePayload(Payload):
    """A file object (or a path) streamed from its current position (see the rules)."""

    _autoclose = False
    _in_place = False  # read without the executor (in-memory files)
    _closed = False

    def __init__(
        self,
        value: IO[Any] | str | os.PathLike[str],
        disposition: str | None = "attachment",
        *args: Any,
        chunk_size: int = FILE_CHUNK_SIZE,
        **kwargs: Any,
    ) -> None:
        self._path: str | None = None
        self._file: Any = None
        if isinstance(value, (str, os.PathLike)):
            self._path = os.fspath(value)
            kwargs.setdefault("filename", os.path.basename(self._path))
        else:
            self._file = value
            kwargs.setdefault("filename", guess_filename(value))
        super().__init__(value, *args, **kwargs)
        self._chunk_size = chunk_size
        self._start: int | None = None
        if self._path is not None:
            self.size = os.stat(self._path).st_size
        else:
            self._measure(self._file)
        filename = self.filename
        if (
            disposition is not None
            and filename is not None
            and "Content-Disposition" not in self.headers
        ):
            self.set_content_disposition(disposition, filename=filename)

    def _measure(self, file: Any) -> None:
        start = None
        if _seekable(file):
            try:
                start = file.tell()
            except (AttributeError, OSError, ValueError):
                start = None
        self._start = start
        self.replayable = start is not None
        if start is None or isinstance(file, io.TextIOBase):
            return  # no position to measure from; characters are not bytes
        try:
            info = os.fstat(file.fileno())
        except (OSError, AttributeError, ValueError):
            end = file.seek(0, os.SEEK_END)  # in memory (BytesIO): seek to learn the size
            file.seek(start)
        else:
            if not stat.S_ISREG(info.st_mode):
                return  # a device or socket: its size says nothing about what it yields
            end = info.st_size
        self.size = max(end - start, 0)

    def _text_encoding(self, file: Any) -> str:
        return self.encoding or getattr(file, "encoding", None) or "utf-8"

    def _open(self) -> Any:
        if self._path is not None:
            return open(self._path, "rb")
        if self._closed:
            raise ValueError(f"{type(self).__name__}: the file was closed")
        if self._consumed:
            raise NonReplayableBodyError(
                f"{type(self).__name__}: the file cannot be rewound and was already sent"
            )
        if not self.replayable:
            self._consumed = True
        elif self._start is not None:
            self._file.seek(self._start)
        return self._file

    async def chunks(self) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        file = self._open()
        try:
            encoding = self._text_encoding(file)
            left = self.size
            while left is None or left > 0:
                want = self._chunk_size if left is None else min(self._chunk_size, left)
                if self._in_place:
                    data = file.read(want)
                else:
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

    def _read_all(self) -> bytes:
        file = self._open()
        try:
            data = file.read() if self.size is None else file.read(self.size)
        finally:
            if self._path is not None:
                file.close()
        return data.encode(self._text_encoding(file)) if isinstance(data, str) else bytes(data)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        if self._in_place:
            return self._read_all()
        return await asyncio.get_running_loop().run_in_executor(None, self._read_all)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The whole file as text (reads it: blocking I/O for a real file)."""
        return self._read_all().decode(self.encoding or encoding, errors)

    def _close(self) -> None:
        if self._file is not None and not self._closed:
            self._file.close()
        self._closed = self._consumed = self._file is not None


class BufferedReaderPayload(IOBasePayload):
    """A binary file opened for reading (``open(path, "rb")``)."""


class BytesIOPayload(IOBasePayload):
    """An ``io.BytesIO``, from its current position."""

    _in_place = True


class TextIOPayload(IOBasePayload):
    """A text file, encoded in ``encoding`` (else the charset its ``content_type`` names,
    else UTF-8); sent chunked."""

    def __init__(
        self,
        value: IO[str],
        *args: Any,
        encoding: str | None = None,
        content_type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if encoding is None:
            encoding = charset_of(content_type) or "utf-8"
        if content_type is None:
            content_type = f"text/plain; charset={encoding}"
        super().__init__(value, *args, encoding=encoding, content_type=content_type, **kwargs)
        self._in_place = isinstance(value, io.StringIO)


class StringIOPayload(StringPayload):
    """An ``io.StringIO``: its text from the current position, read once, with an exact
    Content-Length."""

    def __init__(self, value: IO[str], *args: Any, **kwargs: Any) -> None:
        super().__init__(value.read(), *args, **kwargs)


class FilePayload(IOBasePayload):
    """zurl's file body: a path or any file object, with no Content-Disposition; a text
    file is sent in its own encoding and its Content-Type names that charset."""

    def __init__(
        self,
        file: IO[bytes] | IO[str] | str | os.PathLike[str],
        *,
        content_type: str | None = None,
        filename: str | None = None,
        chunk_size: int = FILE_CHUNK_SIZE,
    ) -> None:
        if filename is None:
            filename = (
                os.path.basename(os.fspath(file))
                if isinstance(file, (str, os.PathLike))
                else guess_filename(file)
            )
        if content_type is None and isinstance(file, io.TextIOBase):
            guessed = mimetypes.guess_type(filename)[0] if filename else None
            content_type = f"{guessed or 'text/plain'}; charset={file.encoding or 'utf-8'}"
        super().__init__(
            file,
            None,
            content_type=_UNSET if content_type is None else content_type,
            filename=filename,
            chunk_size=chunk_size,
        )
        self._in_place = isinstance(file, (io.BytesIO, io.StringIO))


register_payload(StringIOPayload, io.StringIO)
register_payload(TextIOPayload, io.TextIOBase)
register_payload(BytesIOPayload, io.BytesIO)
register_payload(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
register_payload(IOBasePayload, io.IOBase)
