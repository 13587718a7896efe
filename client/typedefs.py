"""Type aliases shared by the engine's signatures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

__all__ = ["LooseCookies", "LooseHeaders", "Query", "StrOrURL"]
