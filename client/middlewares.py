"""Client middlewares (aiohttp 3.12's API): code that wraps sending each request.

A middleware is ``async def mw(request, handler) -> ClientResponse``. ``handler(request)``
sends the request (connection, head, body) and returns the response once its head is in;
a middleware may change ``request.headers`` first, look at the response, send the request
again (when ``request.replayable``) or answer with another response. It runs once per hop:
each request of a redirect chain goes through the whole chain of middlewares.

The first middleware in the sequence is the outermost: it sees the request first and the
response last.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .client_request import ClientRequest
    from .response import ClientResponse

__all__ = ["ClientHandlerType", "ClientMiddlewareType", "chain_middlewares"]

ClientHandlerType = Callable[["ClientRequest"], Awaitable["ClientResponse"]]
ClientMiddlewareType = Callable[["ClientRequest", ClientHandlerType], Awaitable["ClientResponse"]]


def chain_middlewares(
    handler: ClientHandlerType, middlewares: Sequence[ClientMiddlewareType]
) -> ClientHandlerType:
    """``handler`` wrapped by ``middlewares``, the first one outermost."""
    for middleware in reversed(middlewares):
        handler = _wrap(middleware, handler)
    return handler


def _wrap(middleware: ClientMiddlewareType, inner: ClientHandlerType) -> ClientHandlerType:
    async def wrapped(request: ClientRequest) -> ClientResponse:
        return await middleware(request, inner)

    return wrapped
