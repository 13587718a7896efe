"""What a session needs from a cookie jar (aiohttp's ``abc.AbstractCookieJar``), and the
jar that keeps nothing (``DummyCookieJar``). ``cookiejar`` holds the real one."""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Iterator, Sequence
from http.cookies import BaseCookie, Morsel, SimpleCookie
from types import MappingProxyType
from typing import TYPE_CHECKING

from yarl import URL

from .cookiefile import HEADER, is_json, parse_aiohttp_json, parse_cookies_txt, write_private
from .cookieparse import parse_set_cookie_headers
from .typedefs import LooseCookies

if TYPE_CHECKING:
    import asyncio

__all__ = ["NO_URL", "AbstractCookieJar", "ClearCookiePredicate", "DummyCookieJar", "PathLike"]

NO_URL = URL()  # cookies stored without a response URL are shared by every host
ClearCookiePredicate = Callable[["Morsel[str]"], bool]
PathLike = str | os.PathLike[str]


class AbstractCookieJar(abc.ABC):
    """What a session needs from a cookie jar (aiohttp's ``abc.AbstractCookieJar``)."""

    def __init__(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        del loop  # accepted for aiohttp compatibility; a jar needs no event loop

    @property
    @abc.abstractmethod
    def unsafe(self) -> bool:
        """Whether cookies are taken from and sent to IP addresses."""

    @property
    @abc.abstractmethod
    def quote_cookie(self) -> bool:
        """Whether values are sent quoted as the ``http.cookies`` module quotes them."""

    @property
    def treat_as_secure_origin(self) -> frozenset[URL]:
        """Origins that get Secure cookies over plain http."""
        return frozenset()

    @property
    @abc.abstractmethod
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        """The stored cookies by (domain, path)."""

    @property
    @abc.abstractmethod
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        """The (domain, path, name) of every host-only cookie."""

    @abc.abstractmethod
    def __len__(self) -> int: ...

    @abc.abstractmethod
    def __iter__(self) -> Iterator[Morsel[str]]: ...

    @abc.abstractmethod
    def clear(self, predicate: ClearCookiePredicate | None = None) -> None: ...

    @abc.abstractmethod
    def clear_domain(self, domain: str) -> None: ...

    @abc.abstractmethod
    def update_cookies(self, cookies: LooseCookies, response_url: URL = NO_URL) -> None: ...

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        """Store the cookies of a response's raw Set-Cookie header values."""
        if headers and (parsed := parse_set_cookie_headers(headers)):
            self.update_cookies(parsed, response_url)

    @abc.abstractmethod
    def filter_cookies(self, request_url: URL) -> BaseCookie[str]: ...


class DummyCookieJar(AbstractCookieJar):
    """A jar that stores nothing: for sessions that must not keep cookies."""

    @property
    def unsafe(self) -> bool:
        return False

    @property
    def quote_cookie(self) -> bool:
        return True

    @property
    def cookies(self) -> MappingProxyType[tuple[str, str], SimpleCookie]:
        return MappingProxyType({})

    @property
    def host_only_cookies(self) -> frozenset[tuple[str, str, str]]:
        return frozenset()

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        pass

    def clear_domain(self, domain: str) -> None:
        pass

    def update_cookies(self, cookies: LooseCookies, response_url: URL = NO_URL) -> None:
        pass

    def update_cookies_from_headers(self, headers: Sequence[str], response_url: URL) -> None:
        pass  # not even parsed

    def filter_cookies(self, request_url: URL = NO_URL) -> BaseCookie[str]:
        return SimpleCookie()

    def save(self, file_path: PathLike, *, keep_session_cookies: bool = True) -> None:
        """Write a cookies.txt file holding no cookie."""
        write_private(os.fspath(file_path), HEADER)

    def load(self, file_path: PathLike) -> None:
        """Check the file (``CookieFileError`` if it is no cookie file), keep nothing."""
        path = os.fspath(file_path)
        with open(path, "rb") as stream:
            data = stream.read()
        if is_json(data):
            parse_aiohttp_json(path, data)
        else:
            parse_cookies_txt(path, data)
