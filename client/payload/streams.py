"""Bodies produced while they are sent: async iterables, ``@streamer`` coroutines, and
payload objects that only share aiohttp's interface.

Rules:

- An async iterable is one-shot (sent chunked): a second send raises
  ``NonReplayableBodyError``. ``await as_bytes()`` reads it whole and keeps the chunks, after
  which it can be sent (and decoded) any number of times, as in aiohttp.
- ``@streamer`` (deprecated in aiohttp, kept for its scripts) wraps ``async def f(writer,
  ...)``; every send calls ``f`` again with a writer whose ``write`` sends a chunk.
- ``ForeignPayload`` adapts any object with aiohttp's payload interface (``size``,
  ``headers``, ``content_type``, ``async write(writer)``), such as a payload built by
  aiohttp itself or by a library written against its ``Payload`` ABC.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from typing import Any

from ..exceptions import NonReplayableBodyError
from .base import Order, Payload, PayloadWriter, register_payload

__all__ = [
    "AsyncIterablePayload",
    "ForeignPayload",
    "StreamPayload",
    "StreamWrapperPayload",
    "is_foreign_payload",
    "streamer",
]


class AsyncIterablePayload(Payload):
    """A one-shot stream of bytes chunks (size unknown: sent chunked)."""

    replayable = False

    def __init__(self, value: AsyncIterable[bytes], *args: Any, **kwargs: Any) -> None:
        if not isinstance(value, AsyncIterable):
            raise TypeError(
                f"AsyncIterablePayload needs an async iterable, not {type(value).__name__}"
            )
        super().__init__(value, *args, **kwargs)
        self._iterable: AsyncIterable[bytes] | None = value
        self._cached: bytes | None = None

    def in_memory(self) -> bytes | None:
        return self._cached

    async def chunks(self) -> AsyncIterator[bytes]:
        if self._cached is not None:
            if self._cached:
                yield self._cached
            return
        iterable, self._iterable = self._iterable, None
        if iterable is None:
            raise NonReplayableBodyError("the request body stream was already sent once")
        self._consumed = True
        async for chunk in iterable:
            if not isinstance(chunk, (bytes, bytearray, memoryview)):
                raise TypeError(f"body stream yielded {type(chunk).__name__}, not bytes")
            if chunk:
                yield bytes(chunk)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Read the stream whole and keep it: the payload can then be sent again."""
        if self._cached is None:
            self._cached = b"".join([chunk async for chunk in self.chunks()])
            self._consumed = False
            self.replayable = True
            self.size = len(self._cached)
        return self._cached


# --- @streamer (aiohttp.streamer) ----------------------------------------------------


class _StreamCall:
    """``coro`` with the arguments it was called with; ``await call(writer)`` runs it."""

    def __init__(
        self, coro: Callable[..., Awaitable[None]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.coro = coro
        self.args = args
        self.kwargs = kwargs

    async def __call__(self, writer: PayloadWriter) -> None:
        await self.coro(writer, *self.args, **self.kwargs)


class streamer:
    """``@streamer async def send(writer, *args)``: a body written by a coroutine.
    Deprecated by aiohttp in favour of async generators, which need no decorator."""

    def __init__(self, coro: Callable[..., Awaitable[None]]) -> None:
        warnings.warn(
            "@streamer is deprecated, use async generators instead",
            DeprecationWarning,
            stacklevel=2,
        )
        self.coro = coro

    def __call__(self, *args: Any, **kwargs: Any) -> _StreamCall:
        return _StreamCall(self.coro, args, kwargs)


class StreamWrapperPayload(Payload):
    """The body a ``@streamer`` call writes (see the rules)."""

    async def write(self, writer: PayloadWriter) -> None:
        await self._value(writer)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        raise TypeError("a @streamer body cannot be decoded: it is written as it is sent")


class StreamPayload(StreamWrapperPayload):
    """A ``@streamer`` function passed without calling it: called with the writer only."""

    def __init__(self, value: streamer, *args: Any, **kwargs: Any) -> None:
        super().__init__(value(), *args, **kwargs)


# --- objects with aiohttp's payload interface ----------------------------------------


def is_foreign_payload(value: Any) -> bool:
    """Whether ``value`` has aiohttp's payload interface without being one of ours."""
    return (
        not isinstance(value, Payload)
        and callable(getattr(value, "write", None))
        and hasattr(value, "size")
        and hasattr(value, "headers")
        and hasattr(value, "content_type")
    )


class ForeignPayload(Payload):
    """An object with aiohttp's payload interface, sent through its own ``write``."""

    def __init__(self, value: Any) -> None:
        filename = getattr(value, "filename", None)
        super().__init__(value, value.headers, value.content_type, filename)
        self.size = value.size
        self.encoding = getattr(value, "encoding", None)

    @property
    def replayable(self) -> bool:  # type: ignore[override]
        return not getattr(self._value, "consumed", False)

    @property
    def consumed(self) -> bool:
        return bool(getattr(self._value, "consumed", False))

    @property
    def autoclose(self) -> bool:
        return bool(getattr(self._value, "autoclose", True))

    async def write(self, writer: PayloadWriter) -> None:
        write_with_length = getattr(self._value, "write_with_length", None)
        if write_with_length is not None:
            await write_with_length(writer, None)
        else:
            await self._value.write(writer)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        as_bytes = getattr(self._value, "as_bytes", None)
        if as_bytes is not None:
            return bytes(await as_bytes(encoding, errors))
        return await super().as_bytes(encoding, errors)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return str(self._value.decode(encoding, errors))

    async def close(self) -> None:
        close = getattr(self._value, "close", None)
        if close is not None:
            await close()


register_payload(StreamWrapperPayload, _StreamCall)
register_payload(StreamPayload, streamer)
register_payload(AsyncIterablePayload, AsyncIterable, order=Order.try_last)
