"""aiohttp's module-level ``request()``: one request on a session of its own.

``async with client.request("GET", url) as resp`` opens a session that is not kept alive
(``force_close``) and closes it with the response, or at once when the request fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from yarl import URL

from .http1 import HttpVersion11
from .response import ClientResponse
from .session import ClientSession

if TYPE_CHECKING:
    from .config import ClientTimeout
    from .pool import BaseConnector

__all__ = ["request"]


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

    if connector is None:
        connector = TCPConnector(force_close=True)
    session = ClientSession(
        cookies=cookies, version=version, timeout=timeout, connector=connector, loop=loop
    )
    return _SessionRequestContextManager(session._request(method, url, **kwargs), session)
