"""A real DNS server for tests: asyncio UDP on loopback, answers from a dict (dnspython).

Rules:
- It binds 127.0.0.1 port 0, and ::1 port 0 too when this machine has IPv6 loopback; it
  never forwards anything anywhere: a name it does not know is NXDOMAIN.
- ``records`` maps a name to one address or a list of them; A or AAAA is chosen from each
  address's form. A known name asked for a type it has no address of gets an empty NOERROR
  answer (NODATA), as a real authoritative server would send.
- Names in ``silent`` are never answered (to test timeouts and retries), names in
  ``servfail`` get SERVFAIL.
- Every query is recorded as (name, type) — lower case, no trailing dot, type as "A"/"AAAA" —
  in ``server.queries``, so tests can count lookups (for example a DNS cache's hits).

Use ``async with start_dns_server({...}) as server`` or the ``dns_server`` fixture, a factory:
``server = await dns_server({"app.test": "127.0.0.1"})``; test modules that want the fixture
declare ``pytest_plugins = ["tests.servers.dns"]`` or import it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import cast

import dns.flags
import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest_asyncio

from tests.servers import has_ipv6_loopback

Records = Mapping[str, str | Sequence[str]]


def _name(text: str) -> str:
    return text.lower().rstrip(".")


class DNSServer:
    """The running server: where it listens, what it answers, what it was asked."""

    def __init__(
        self,
        records: Records,
        *,
        ttl: int = 60,
        silent: Iterable[str] = (),
        servfail: Iterable[str] = (),
    ) -> None:
        self.records: dict[str, list[str]] = {}
        for name, value in records.items():
            self.set(name, value)
        self.ttl = ttl
        self.silent = {_name(n) for n in silent}
        self.servfail = {_name(n) for n in servfail}
        self.queries: list[tuple[str, str]] = []
        self.addresses: list[tuple[str, int]] = []
        self._transports: list[asyncio.DatagramTransport] = []

    # --- what tests use ---------------------------------------------------------------

    @property
    def port(self) -> int:
        """The IPv4 listener's port."""
        return self.addresses[0][1]

    @property
    def nameserver(self) -> str:
        """``"127.0.0.1:port"``, ready for ``AsyncResolver(nameservers=[...])``."""
        return f"127.0.0.1:{self.port}"

    @property
    def nameservers(self) -> list[str]:
        """Every listener as ``"ip:port"`` / ``"[v6]:port"``."""
        return [f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}" for ip, port in self.addresses]

    def set(self, name: str, value: str | Sequence[str]) -> None:
        """Add or replace the addresses of ``name`` (while the server runs, too)."""
        addrs = [value] if isinstance(value, str) else list(value)
        for addr in addrs:
            ipaddress.ip_address(addr)  # a typo in a test should fail loudly
        self.records[_name(name)] = addrs

    def count(self, name: str, rdtype: str | None = None) -> int:
        """How many queries asked for ``name`` (of type ``rdtype`` if given)."""
        wanted = _name(name)
        return sum(1 for n, t in self.queries if n == wanted and rdtype in (None, t))

    # --- serving -----------------------------------------------------------------------

    def answer(self, wire: bytes) -> bytes | None:
        """The reply to one query datagram, or None to stay silent."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:
            return None  # garbage: a real server drops it too
        if not query.question:
            return None
        question = query.question[0]
        name = _name(question.name.to_text())
        rdtype = dns.rdatatype.to_text(question.rdtype)
        self.queries.append((name, rdtype))
        if name in self.silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self.servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name not in self.records:
            response.set_rcode(dns.rcode.NXDOMAIN)
        else:
            version = {"A": 4, "AAAA": 6}.get(rdtype)
            addrs = [a for a in self.records[name] if ipaddress.ip_address(a).version == version]
            if addrs:
                rrset = dns.rrset.from_text_list(
                    question.name, self.ttl, dns.rdataclass.IN, question.rdtype, addrs
                )
                response.answer.append(rrset)
        return response.to_wire()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        hosts = ["127.0.0.1"] + (["::1"] if has_ipv6_loopback() else [])
        for host in hosts:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _Protocol(self), local_addr=(host, 0), family=family
            )
            self._transports.append(transport)
            sockname = transport.get_extra_info("sockname")
            self.addresses.append((host, int(sockname[1])))

    async def close(self) -> None:
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        await asyncio.sleep(0)  # let the transports' connection_lost run


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: DNSServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Selector datagram transports do not subclass DatagramTransport in 3.11.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self._server.answer(data)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)


@contextlib.asynccontextmanager
async def start_dns_server(
    records: Records,
    *,
    ttl: int = 60,
    silent: Iterable[str] = (),
    servfail: Iterable[str] = (),
) -> AsyncIterator[DNSServer]:
    """Run a DNS server answering ``records`` for the duration of the block."""
    server = DNSServer(records, ttl=ttl, silent=silent, servfail=servfail)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


DNSServerFactory = Callable[..., Awaitable[DNSServer]]


@pytest_asyncio.fixture
async def dns_server() -> AsyncIterator[DNSServerFactory]:
    """A factory: ``await dns_server(records, ttl=..., silent=..., servfail=...)``."""
    async with contextlib.AsyncExitStack() as stack:

        async def factory(records: Records, **options: object) -> DNSServer:
            return await stack.enter_async_context(start_dns_server(records, **options))  # type: ignore[arg-type]

        yield factory
