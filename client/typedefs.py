"""Type aliases shared by the engine's signatures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Union

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import URL

StrOrURL = Union[str, URL]
LooseHeaders = Union[
    Mapping[str, str],
    CIMultiDict[str],
    CIMultiDictProxy[str],
    MultiDict[str],
    MultiDictProxy[str],
    Iterable[tuple[str, str]],
]
LooseCookies = Union[Mapping[str, Any], Iterable[tuple[str, Any]]]
Query = Union[str, Mapping[str, Any], Iterable[tuple[str, Any]], None]
JSONEncoder = Any  # Callable[[Any], str]; kept loose as aiohttp does
