"""The awaitable context manager that ``session.get(...)`` and the other verbs return.

``session.get(...)`` may be awaited, used with ``async with`` or handed to
``asyncio.create_task`` (it is a coroutine, as aiohttp's is); leaving the block releases
the response (or closes it when the block raised: its body may be half read).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import Any, TypeVar

from .response import ClientResponse

__all__ = ["RequestContextManager"]

_T = TypeVar("_T")


class RequestContextManager(Coroutine[Any, Any, _T]):
    """``await session.get(...)`` and ``async with session.get(...) as resp`` both work."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, _T]) -> None:
        self._coro = coro
        self._resp: _T | None = None

    def __await__(self) -> Generator[Any, None, _T]:
        return self._coro.__await__()

    # The coroutine protocol, so that ``asyncio.create_task(session.get(url))`` works.
    def send(self, value: Any) -> Any:
        return self._coro.send(value)

    def throw(self, *args: Any) -> Any:
        return self._coro.throw(*args)

    def close(self) -> None:
        self._coro.close()

    async def __aenter__(self) -> _T:
        resp = self._resp = await self._coro
        if isinstance(resp, ClientResponse):
            resp._in_context = True  # raise_for_status() leaves the body to the block
        return resp

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        resp: Any = self._resp
        if resp is None:
            return
        if isinstance(resp, ClientResponse):
            if exc_type is not None:
                resp.close()  # the body may be half read: the connection cannot be reused
            else:
                await resp.__aexit__(exc_type, exc, tb)
        else:  # a WebSocket response
            await resp.close()
