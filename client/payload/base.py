"""``Payload``, the base of every request body, and the registry that picks one for a value.

Rules / theory of operation:

- A payload has aiohttp's public shape: ``headers`` (a ``CIMultiDict`` that always holds
  its ``Content-Type``), ``size`` (exact bytes on the wire, ``None``: sent chunked),
  ``filename``, ``encoding``, ``consumed``, ``autoclose``, ``set_content_disposition()``,
  ``decode()``, ``await as_bytes()``, ``await write(writer)``, ``await close()``.
- Two ways to produce the bytes, and every payload has both: the engine's pull form,
  ``in_memory()`` (the whole body when it is already in memory, so the request can send
  head and body in one write) and ``chunks()`` (an async generator of non-empty chunks),
  and aiohttp's push form, ``write(writer)`` (``await writer.write(chunk)`` per chunk).
  The built-in payloads implement the pull form and inherit ``write``; a subclass written
  for aiohttp implements only ``write`` and gets ``chunks()`` through a one-chunk handoff.
- ``replayable`` says whether the body can be produced again (a 307/308, a middleware that
  resends, a retry on a stale connection); aiohttp's ``consumed`` is true once a body that
  is not replayable has been used, or once the payload was closed.
- ``close()`` releases what the payload holds (a file); the request closes its payload once
  it is done with it, as aiohttp 3.12+ does. Payloads of values in memory hold nothing.
- ``get_payload(value)`` asks ``PAYLOAD_REGISTRY``: factories registered ``try_first``,
  then an exact type match, then ``isinstance`` in registration order, then ``try_last``
  ones; ``LookupError`` when nothing fits. The built-in payload modules register their
  classes when ``client.payload`` is imported.
"""

from __future__ import annotations

import asyncio
import enum
import mimetypes
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

from multidict import CIMultiDict

from ..multipart import mime_disposition

__all__ = [
    "FILE_CHUNK_SIZE",
    "OCTET_STREAM",
    "PAYLOAD_REGISTRY",
    "LookupError",
    "Order",
    "Payload",
    "PayloadRegistry",
    "PayloadWriter",
    "get_payload",
    "payload_type",
    "register_payload",
]

# 64 KiB: the size of a typical socket send buffer slice and what aiohttp and httpx read.
FILE_CHUNK_SIZE = 1 << 16
OCTET_STREAM = "application/octet-stream"


class PayloadWriter(Protocol):
    """What ``Payload.write`` writes into (the request's body writer, for one)."""

    async def write(self, chunk: bytes | bytearray | memoryview) -> None: ...


class _Unset:
    pass


_UNSET: Any = _Unset()


class Payload:
    """One request body (see the module rules)."""

    _default_content_type = OCTET_STREAM
    size: int | None = None
    replayable: bool = True
    _consumed = False
    _autoclose = True

    def __init__(
        self,
        value: Any = None,
        headers: Any = None,
        content_type: str | None = _UNSET,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: Any,
    ) -> None:
        self._value = value
        self.filename = filename
        self.encoding = encoding
        self.headers: CIMultiDict[str] = CIMultiDict()
        if content_type is _UNSET or content_type is None:
            content_type = self._default_content_type
            if filename is not None:
                content_type = mimetypes.guess_type(filename)[0] or content_type
        self.headers["Content-Type"] = content_type
        if headers:
            self.headers.update(headers)

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        if value is None:
            self.headers.popall("Content-Type", None)
        else:
            self.headers["Content-Type"] = value

    @property
    def consumed(self) -> bool:
        """True once the body cannot be produced again (aiohttp's name)."""
        return self._consumed

    @property
    def autoclose(self) -> bool:
        """True when the payload holds nothing that ``close()`` must release."""
        return self._autoclose

    def set_content_disposition(
        self, disptype: str, quote_fields: bool = True, _charset: str = "utf-8", **params: str
    ) -> None:
        """Set ``Content-Disposition``, e.g. ``("attachment", filename="report.pdf")``."""
        self.headers["Content-Disposition"] = mime_disposition(
            disptype, params, quote_fields=quote_fields, charset=_charset
        )

    # -- the bytes -----------------------------------------------------------------

    def in_memory(self) -> bytes | None:
        """The whole body if it is already in memory, else ``None``."""
        return None

    def chunks(self) -> AsyncIterator[bytes]:
        """The body, as an async generator of non-empty chunks."""
        body = self.in_memory()
        if body is not None:
            return _once(body)
        if type(self).write is not Payload.write:
            return _pull(self)  # an aiohttp-style subclass: only write() is its own
        raise NotImplementedError(f"{type(self).__name__} must implement chunks() or write()")

    async def write(self, writer: PayloadWriter) -> None:
        """Write the body into ``writer`` (aiohttp's ``Payload.write``)."""
        body = self.in_memory()
        if body is not None:
            if body:
                await writer.write(body)
            return
        async for chunk in self.chunks():
            await writer.write(chunk)

    async def write_with_length(self, writer: PayloadWriter, content_length: int | None) -> None:
        """Write at most ``content_length`` bytes of the body (all of it for ``None``)."""
        if content_length is None:
            await self.write(writer)
        else:
            await self.write(_Limited(writer, content_length))

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The whole body (read from files and streams if it has to be)."""
        body = self.in_memory()
        if body is not None:
            return body
        return b"".join([chunk async for chunk in self.chunks()])

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """The body as text, for a body in memory (aiohttp's ``Payload.decode``)."""
        body = self.in_memory()
        if body is None:
            raise TypeError(
                f"{type(self).__name__} is not in memory: await as_bytes() to read it first"
            )
        return body.decode(self.encoding or encoding, errors)

    def _close(self) -> None:
        """Release what the payload holds without waiting (aiohttp's sync close)."""

    async def close(self) -> None:
        """Release what the payload holds (a file); never waits for I/O."""
        self._close()


async def _once(body: bytes) -> AsyncIterator[bytes]:
    if body:
        yield body


class _Limited:
    """A writer that lets through only the first ``left`` bytes."""

    def __init__(self, writer: PayloadWriter, left: int) -> None:
        self._writer = writer
        self._left = left

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        if self._left > 0 and chunk:
            chunk = chunk[: self._left]
            self._left -= len(chunk)
            await self._writer.write(chunk)


class _Handoff:
    """The writer a push-style payload writes into while ``_pull`` reads: each chunk is
    handed over and the writer waits until it was taken, so at most one chunk waits."""

    def __init__(self, queue: asyncio.Queue[tuple[bytes, asyncio.Future[None]] | None]) -> None:
        self._queue = queue

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        if chunk:
            taken = asyncio.get_running_loop().create_future()
            self._queue.put_nowait((bytes(chunk), taken))
            await taken

    async def drain(self) -> None:
        return None


async def _pull(payload: Payload) -> AsyncIterator[bytes]:
    """``payload.write()`` turned into a generator of chunks (for multipart parts,
    compression and anything else that pulls)."""
    queue: asyncio.Queue[tuple[bytes, asyncio.Future[None]] | None] = asyncio.Queue()

    async def produce() -> None:
        try:
            await payload.write(_Handoff(queue))
        finally:
            queue.put_nowait(None)

    task = asyncio.get_running_loop().create_task(produce())
    try:
        while (item := await queue.get()) is not None:
            chunk, taken = item
            taken.set_result(None)
            yield chunk
        await task  # raises what write() raised
    finally:
        if not task.done():
            task.cancel()


# --- the registry (aiohttp's get_payload / payload_type) ----------------------------


class LookupError(Exception):
    """No payload factory is registered for the value's type."""


class Order(enum.StrEnum):
    normal = "normal"
    try_first = "try_first"
    try_last = "try_last"


_Entry = tuple[Any, Any]  # (factory, type or tuple of types)


class PayloadRegistry:
    """Payload factories by the type of value they accept (see the module rules)."""

    __slots__ = ("_exact", "_first", "_last", "_normal")

    def __init__(self) -> None:
        self._first: list[_Entry] = []
        self._normal: list[_Entry] = []
        self._last: list[_Entry] = []
        self._exact: dict[type, Any] = {}

    def get(self, data: Any, *args: Any, **kwargs: Any) -> Payload:
        for factory, types in self._first:
            if isinstance(data, types):
                return factory(data, *args, **kwargs)  # type: ignore[no-any-return]
        factory = self._exact.get(type(data))
        if factory is not None:
            return factory(data, *args, **kwargs)  # type: ignore[no-any-return]
        if isinstance(data, Payload):
            return data
        for factory, types in (*self._normal, *self._last):
            if isinstance(data, types):
                return factory(data, *args, **kwargs)  # type: ignore[no-any-return]
        raise LookupError(f"no payload for a {type(data).__module__}.{type(data).__qualname__}")

    def register(self, factory: Any, type: Any, *, order: Order = Order.normal) -> None:
        if order is Order.try_first:
            self._first.append((factory, type))
        elif order is Order.normal:
            self._normal.append((factory, type))
            for each in type if isinstance(type, Iterable) else (type,):
                self._exact[each] = factory
        elif order is Order.try_last:
            self._last.append((factory, type))
        else:
            raise ValueError(f"unsupported order {order!r}")


PAYLOAD_REGISTRY = PayloadRegistry()


def get_payload(data: Any, *args: Any, **kwargs: Any) -> Payload:
    """The payload for ``data`` (``LookupError`` if no factory takes its type)."""
    return PAYLOAD_REGISTRY.get(data, *args, **kwargs)


def register_payload(factory: Any, type: Any, *, order: Order = Order.normal) -> None:
    PAYLOAD_REGISTRY.register(factory, type, order=order)


class payload_type:
    """``@payload_type(MyType)`` registers the decorated payload class for ``MyType``."""

    def __init__(self, type: Any, *, order: Order = Order.normal) -> None:
        self.type = type
        self.order = order

    def __call__(self, factory: type[Payload]) -> type[Payload]:
        register_payload(factory, self.type, order=self.order)
        return factory
