"""The connector's DNS cache: answers kept for a TTL, one lookup shared by a burst.

Rules:
- An entry lives ``ttl`` seconds (``None``: until cleared); a failed lookup is never cached.
- Concurrent requests for a name that is being resolved wait for that one lookup, and are
  told it was a cache hit (aiohttp's signal semantics).
- IP literals are never looked up and emit no DNS signals.
- At most ``max_size`` names are kept; a new one evicts the least recently used (a hit
  counts as a use), as aiohttp's ``dns_cache_max_size`` does. The dict's order is the
  recency order, so no second structure is kept.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .exceptions import ClientConnectionError
from .hosts import is_ip_address
from .resolver import AbstractResolver, ResolveResult

if TYPE_CHECKING:
    from .tracing import Trace

__all__ = ["DEFAULT_DNS_CACHE_MAX_SIZE", "DnsCache"]

# aiohttp's default bound on cached names (``TCPConnector(dns_cache_max_size=1000)``).
DEFAULT_DNS_CACHE_MAX_SIZE = 1000


class DnsCache:
    """Resolution through ``resolver``, cached per (host, port)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        resolver: AbstractResolver,
        *,
        enabled: bool,
        ttl: float | None,
        family: int,
        max_size: int = DEFAULT_DNS_CACHE_MAX_SIZE,
    ) -> None:
        self._loop = loop
        self._resolver = resolver
        self._enabled = enabled
        self._ttl = ttl
        self._family = family
        self._max_size = max_size
        self._entries: dict[tuple[str, int], tuple[list[ResolveResult], float | None]] = {}
        self._inflight: dict[tuple[str, int], asyncio.Future[list[ResolveResult]]] = {}

    def clear(self, host: str | None = None, port: int | None = None) -> None:
        if host is not None and port is not None:
            self._entries.pop((host, port), None)
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._entries.clear()

    async def resolve(self, host: str, port: int, traces: Sequence[Trace]) -> list[ResolveResult]:
        if is_ip_address(host):
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            if self._family and family != self._family:
                # As getaddrinfo (and curl -4/-6) do: a literal of the other family is no
                # address of the asked one.
                raise socket.gaierror(
                    socket.EAI_ADDRFAMILY, f"{host} is not an address of the requested family"
                )
            return [
                {
                    "hostname": host,
                    "host": host,
                    "port": port,
                    "family": family,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            ]
        if not self._enabled:
            return await self._lookup(host, port, traces)
        key = (host, port)
        cached = self._entries.get(key)
        if cached is not None:
            addrs, expires = cached
            if expires is None or expires > self._loop.time():
                entries = self._entries
                entries[key] = entries.pop(key)  # now the most recently used
                for trace in traces:
                    await trace.send_dns_cache_hit(host)
                return addrs
            del self._entries[key]
        inflight = self._inflight.get(key)
        if inflight is not None:
            # Someone is already asking: share their answer (one lookup for a burst).
            for trace in traces:
                await trace.send_dns_cache_hit(host)
            return await asyncio.shield(inflight)
        for trace in traces:
            await trace.send_dns_cache_miss(host)
        fut: asyncio.Future[list[ResolveResult]] = self._loop.create_future()
        self._inflight[key] = fut
        try:
            addrs = await self._lookup(host, port, traces)
        except BaseException as exc:
            fut.set_exception(
                exc if isinstance(exc, Exception) else ClientConnectionError(str(exc))
            )
            fut.exception()  # failures are not cached, and nobody may be waiting
            raise
        finally:
            del self._inflight[key]
        ttl = self._ttl
        entries = self._entries
        entries.pop(key, None)  # a re-resolved name moves to the recent end
        entries[key] = (addrs, None if ttl is None else self._loop.time() + ttl)
        if len(entries) > self._max_size:
            del entries[next(iter(entries))]  # the least recently used
        fut.set_result(addrs)
        return addrs

    async def _lookup(self, host: str, port: int, traces: Sequence[Trace]) -> list[ResolveResult]:
        for trace in traces:
            await trace.send_dns_resolvehost_start(host)
        addrs = await self._resolver.resolve(host, port, family=socket.AddressFamily(self._family))
        for trace in traces:
            await trace.send_dns_resolvehost_end(host)
        return addrs
