"""The awaitable context manager that ``session.get(...)`` and the other verbs return.

``session.get(...)`` may be awaited or used with ``async with``; leaving the block releases
the response (or closes it when the block raised: its body may be half read).
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

from .response import ClientResponse

__all__ = ["RequestContextManager"]

_T = TypeVar("_T")


class RequestContextManager(Generic[_T]):
    """``await session.get(...)`` and ``async with session.get(...) as resp`` both work."""

    __slots__ = ("_coro", "_resp")

    def __init__(self, coro: Coroutine[Any, Any, _T]) -> None:
        self._coro = coro
        self._resp: _T | None = None

    def __await__(self) -> Generator[Any, None, _T]:
        return self._coro.__await__()

    async def __aenter__(self) -> _T:
        self._resp = await self._coro
        return self._resp

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
