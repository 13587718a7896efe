"""Type aliases shared by the engine's signatures."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeAlias

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

StrOrURL: TypeAlias = "str | URL"
LooseHeaders: TypeAlias = (
    "Mapping[str, str] | CIMultiDict[str] | CIMultiDictProxy[str] | MultiDict[str]"
    " | MultiDictProxy[str] | Iterable[tuple[str, str]]"
)
LooseCookies: TypeAlias = "Mapping[str, Any] | Iterable[tuple[str, Any]]"
Query: TypeAlias = "str | Mapping[str, Any] | Iterable[tuple[str, Any]] | None"
# One getaddrinfo() result (family, type, proto, canonname, sockaddr), as aiohappyeyeballs
# names it; a ``socket_factory`` (aiohttp 3.12) makes the socket for one of them.
AddrInfoType: TypeAlias = tuple[int, int, int, str, tuple[Any, ...]]
SocketFactoryType: TypeAlias = Callable[[AddrInfoType], socket.socket]

__all__ = [
    "AddrInfoType",
    "LooseCookies",
    "LooseHeaders",
    "Query",
    "SocketFactoryType",
    "StrOrURL",
]
