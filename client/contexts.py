"""The awaitable context managers that requests return, and aiohttp's one-shot ``request()``.

``session.get(...)`` may be awaited or used with ``async with``; leaving the block releases
the response (or closes it when the block raised: its body may be half read).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from yarl import URL

from .http1 import HttpVersion11
from .response import ClientResponse

if TYPE_CHECKING:
    from .config import ClientTimeout
    from .pool import BaseConnector
    from .session import ClientSession

__all__ = ["RequestContextManager", "request"]

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


class _SessionRequestContextManager:
    """``async with client.request(...)``: a one-shot session closed with its response."""

    __slots__ = ("_coro", "_resp", "_session")

    def __init__(self, coro: Coroutine[Any, Any, ClientResponse], session: ClientSession) -> None:
        self._coro = coro
        self._session = session
        self._resp: ClientResponse | None = None

    async def __aenter__(self) -> ClientResponse:
        try:
            self._resp = await self._coro
        except BaseException:
            await self._session.close()
            raise
        return self._resp

    async def __aexit__(self, *exc_info: object) -> None:
        if self._resp is not None:
            self._resp.release()
        await self._session.close()


def request(
    method: str,
    url: str | URL,
    *,
    connector: BaseConnector | None = None,
    cookies: Any = None,
    version: Any = HttpVersion11,
    timeout: ClientTimeout | None = None,
    loop: asyncio.AbstractEventLoop | None = None,
    **kwargs: Any,
) -> _SessionRequestContextManager:
    """aiohttp's ``request()``: one request on a session of its own (not kept alive)."""
    from .connector import TCPConnector
    from .session import ClientSession

    if connector is None:
        connector = TCPConnector(force_close=True)
    session = ClientSession(
        cookies=cookies, version=version, timeout=timeout, connector=connector, loop=loop
    )
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
