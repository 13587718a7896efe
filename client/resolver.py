"""Name resolution: turn a host name into the addresses the connector dials.

Rules:
- Every resolver returns a list of ``ResolveResult`` (aiohttp's shape), deduplicated and in
  the order the source gave them; ``hostname`` is always the name that was asked for, so TLS
  SNI and certificate checks use the real host even when an override supplied the address.
- An IP literal is returned as is, without any lookup, by every resolver.
- A name that does not resolve raises ``OSError`` (a ``socket.gaierror`` with the libc
  strerror); the connector translates it to ``ClientConnectorDNSError`` exactly once.
- ``AsyncResolver`` asks only the nameservers it is given (dnspython, imported lazily so
  ``import client`` stays cheap); it never falls back to the system resolver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:
    import dns.asyncresolver
    import dns.name

__all__ = (
    "AbstractResolver",
    "AsyncResolver",
    "DefaultResolver",
    "ResolveResult",
    "StaticResolver",
    "ThreadedResolver",
    "parse_nameserver",
    "parse_resolve_option",
)

# The addresses we hand out are numeric: the connector may pass these flags on to
# getaddrinfo/create_connection so nothing is looked up a second time.
NUMERIC_FLAGS = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
_NUMERIC_NAMEINFO = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV

_DNS_MISSING = 'AsyncResolver needs the dnspython package: pip install "zurl[dns]"'


class ResolveResult(TypedDict):
    """One address of ``hostname``, ready for ``loop.create_connection``."""

    hostname: str
    host: str
    port: int
    family: int
    proto: int
    flags: int


class AbstractResolver(ABC):
    """What the connector needs from a resolver."""

    @abstractmethod
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The addresses of ``host``; ``family=0`` (AF_UNSPEC) asks for IPv4 and IPv6."""

    @abstractmethod
    async def close(self) -> None:
        """Release whatever the resolver holds."""


# --- helpers shared by the resolvers -----------------------------------------------


def _parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``text`` as an IP address (brackets and an IPv6 ``%scope`` allowed), else None."""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _family_of(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> socket.AddressFamily:
    return socket.AF_INET6 if addr.version == 6 else socket.AF_INET


def _result(hostname: str, addr: str, port: int, family: int, proto: int = 0) -> ResolveResult:
    return ResolveResult(
        hostname=hostname, host=addr, port=port, family=family, proto=proto, flags=NUMERIC_FLAGS
    )


def _literal(host: str, port: int, family: int) -> list[ResolveResult] | None:
    """The result for an IP literal ``host``, or None when ``host`` is a name."""
    addr = _parse_ip(host)
    if addr is None:
        return None
    addr_family = _family_of(addr)
    if family not in (socket.AF_UNSPEC, addr_family):
        # What getaddrinfo says for "::1" asked as AF_INET.
        raise socket.gaierror(socket.EAI_ADDRFAMILY, "Address family for hostname not supported")
    return [_result(host, str(addr), port, addr_family)]


def _dedupe(results: Iterable[ResolveResult]) -> list[ResolveResult]:
    """Drop repeated (family, host, port) entries, keeping the first occurrence's place."""
    seen: set[tuple[int, str, int]] = set()
    kept: list[ResolveResult] = []
    for item in results:
        key = (item["family"], item["host"], item["port"])
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


def _normalise_name(host: str) -> str:
    # DNS names compare case-insensitively (RFC 4343); "a.example." is "a.example".
    return host.lower().rstrip(".")


def _key_host(host: str) -> str:
    """``host`` in the one spelling used as a table key: IPs compressed, names lowered."""
    addr = _parse_ip(host)
    return str(addr) if addr is not None else _normalise_name(host)


# --- the system resolver -----------------------------------------------------------


def _refuse_invalid(host: str) -> None:
    """RFC 6761 §6.4: ``.invalid`` names never resolve, so they are never asked for.

    Answering locally keeps such a lookup (a typo, a test's "unresolvable" name) off the
    network entirely.
    """
    name = host.rstrip(".").lower()
    if name == "invalid" or name.endswith(".invalid"):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


class ThreadedResolver(AbstractResolver):
    """The system resolver (``getaddrinfo`` in the loop's thread pool): /etc/hosts, DNS, mDNS."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        literal = _literal(host, port, family)
        if literal is not None:
            return literal
        _refuse_invalid(host)
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
        )
        results: list[ResolveResult] = []
        for info_family, _type, proto, _canon, address in infos:
            if info_family == socket.AF_INET6:
                if len(address) < 3:
                    continue  # an IPv6 result from a Python built without IPv6
                if address[3]:
                    # A link-local address needs its scope id ("fe80::1%eth0") to be
                    # dialled; numeric getnameinfo formats it without any lookup.
                    text, service = socket.getnameinfo(address, _NUMERIC_NAMEINFO)
                    results.append(_result(host, text, int(service), info_family, proto))
                    continue
            elif info_family != socket.AF_INET:
                continue
            results.append(_result(host, str(address[0]), int(address[1]), info_family, proto))
        if not results:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return _dedupe(results)

    async def close(self) -> None:
        """Nothing to release: the thread pool belongs to the loop."""


DefaultResolver = ThreadedResolver


# --- custom nameservers (dnspython) --------------------------------------------------


def parse_nameserver(text: str) -> tuple[str, int]:
    """``"ip"``, ``"ip:port"``, ``"v6"`` or ``"[v6]:port"`` as (ip, port); ValueError if not."""
    text = text.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ValueError(f"bad nameserver {text!r}: expected [IPv6]:port")
        port_text = rest[1:]
        if rest and not port_text:
            raise ValueError(f"bad nameserver {text!r}: empty port")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
        if not port_text:
            raise ValueError(f"bad nameserver {text!r}: empty port")
    addr = _parse_ip(host)
    if addr is None:
        raise ValueError(f"bad nameserver {text!r}: not an IP address")
    port = 53
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"bad nameserver {text!r}: port must be 1-65535")
        port = int(port_text)
    return str(addr), port


def _is_localhost(name: str) -> bool:
    # RFC 6761 §6.3: "localhost" and its subdomains are loopback, never sent to DNS.
    return name == "localhost" or name.endswith(".localhost")


class AsyncResolver(AbstractResolver):
    """Queries the given nameservers directly for A and/or AAAA records.

    ``nameservers`` are ``"ip"``, ``"ip:port"`` or ``"[v6]:port"``; ``None`` means the
    servers listed in /etc/resolv.conf (still asked directly, as aiodns does). ``timeout``
    bounds one query to one server and a lookup gives up after ``timeout * tries`` seconds:
    within that budget the servers are asked in turn and asked again (dnspython's backoff).
    """

    def __init__(
        self, nameservers: Sequence[str] | None = None, *, timeout: float = 5.0, tries: int = 2
    ) -> None:
        try:
            import dns.asyncresolver
            import dns.nameserver
            import dns.resolver
        except ImportError as exc:
            raise RuntimeError(_DNS_MISSING) from exc
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if tries < 1:
            raise ValueError("tries must be at least 1")
        if nameservers is None:
            try:
                resolver = dns.asyncresolver.Resolver(configure=True)
            except dns.resolver.NoResolverConfiguration as exc:
                raise RuntimeError("no nameservers given and none in /etc/resolv.conf") from exc
        else:
            servers = [parse_nameserver(item) for item in nameservers]
            if not servers:
                raise ValueError("nameservers must not be empty (pass None for the system's)")
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = [
                dns.nameserver.Do53Nameserver(ip, port) for ip, port in servers
            ]
        resolver.timeout = timeout
        resolver.lifetime = timeout * tries
        # Never apply resolv.conf search domains: the name asked for is the name queried.
        resolver.use_search_by_default = False
        self._resolver: dns.asyncresolver.Resolver = resolver

    @property
    def nameservers(self) -> list[tuple[str, int]]:
        """The (ip, port) pairs this resolver asks, in order."""
        return [(str(ns.address), int(ns.port)) for ns in self._resolver.nameservers]  # type: ignore[union-attr]

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        literal = _literal(host, port, family)
        if literal is not None:
            return literal
        _refuse_invalid(host)
        name = _normalise_name(host)
        wanted = [f for f in (socket.AF_INET, socket.AF_INET6) if family in (0, f)]
        if not wanted:
            raise socket.gaierror(socket.EAI_FAMILY, "ai_family not supported")
        if _is_localhost(name):
            loopback = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
            return [_result(host, loopback[f], port, f) for f in wanted]
        qname = _query_name(name)
        outcomes = await asyncio.gather(
            *(self._query(qname, f) for f in wanted), return_exceptions=True
        )
        results: list[ResolveResult] = []
        errors: list[BaseException] = []
        for fam, outcome in zip(wanted, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                errors.append(outcome)
            else:
                results.extend(_result(host, addr, port, fam) for addr in outcome)
        if results:
            return _dedupe(results)
        raise _dns_error(errors)

    async def _query(self, name: dns.name.Name, family: int) -> list[str]:
        rdtype = "AAAA" if family == socket.AF_INET6 else "A"
        answer = await self._resolver.resolve(name, rdtype, search=False)
        return [str(getattr(rr, "address", rr)) for rr in answer]

    async def close(self) -> None:
        """Nothing to release: dnspython opens one socket per query and closes it."""


def _query_name(name: str) -> dns.name.Name:
    """``name`` as an absolute DNS name; a name DNS cannot carry does not resolve."""
    import dns.exception
    import dns.name

    try:
        qname = dns.name.from_text(name)
    except dns.exception.DNSException as exc:
        raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known ({exc})") from None
    if qname == dns.name.root:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return qname


def _dns_error(errors: Sequence[BaseException]) -> OSError:
    """The getaddrinfo-style error for the worst of the failed queries."""
    import dns.exception
    import dns.resolver

    for exc in errors:
        if not isinstance(exc, Exception):
            raise exc  # CancelledError and friends are not DNS answers
    if any(isinstance(exc, dns.resolver.NXDOMAIN) for exc in errors):
        return socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    if errors and all(isinstance(exc, dns.resolver.NoAnswer) for exc in errors):
        return socket.gaierror(socket.EAI_NODATA, "No address associated with hostname")
    if any(isinstance(exc, dns.exception.Timeout) for exc in errors):
        return socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution (timeout)")
    if any(isinstance(exc, dns.resolver.NoNameservers) for exc in errors):
        # Every server answered SERVFAIL/REFUSED or could not be reached.
        return socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    detail = "; ".join(str(exc) for exc in errors) or "no answer"
    return socket.gaierror(
        socket.EAI_FAIL, f"Non-recoverable failure in name resolution: {detail}"
    )


# --- curl's --resolve ------------------------------------------------------------------

WILDCARD_HOST = "*"
ANY_PORT = 0


def _split_bracketed(text: str, what: str, entry: str) -> tuple[str, str]:
    """Split ``text`` at the first ':' outside brackets; ``[v6]`` loses its brackets."""
    if text.startswith("["):
        inner, sep, rest = text[1:].partition("]")
        if not sep:
            raise ValueError(f"bad --resolve entry {entry!r}: unclosed '[' in the {what}")
        if not rest.startswith(":"):
            raise ValueError(f"bad --resolve entry {entry!r}: expected ':' after ']'")
        return inner, rest[1:]
    head, sep, rest = text.partition(":")
    if not sep:
        raise ValueError(f"bad --resolve entry {entry!r}: expected host:port:addr[,addr]")
    return head, rest


def parse_resolve_option(text: str) -> tuple[tuple[str, int], list[str]]:
    """Parse curl's ``[+]host:port:addr[,addr]...`` into ((host, port), [addr, ...]).

    ``host`` may be ``*`` (any host, tried last); ``port`` may be ``*`` (any port, kept as 0);
    IPv6 addresses may be written in brackets. A bad entry raises ValueError naming the problem.
    """
    entry = text
    body = text.strip()
    if body.startswith("-"):
        raise ValueError(f"bad --resolve entry {entry!r}: removing entries ('-') is not supported")
    body = body.removeprefix("+")  # curl's "expires" marker: our overrides never expire
    host, rest = _split_bracketed(body, "host", entry)
    port_text, sep, addr_text = rest.partition(":")
    if not host:
        raise ValueError(f"bad --resolve entry {entry!r}: empty host")
    if not sep:
        raise ValueError(f"bad --resolve entry {entry!r}: expected host:port:addr[,addr]")
    if port_text == "*":
        port = ANY_PORT
    elif port_text.isdigit() and 0 < int(port_text) < 65536:
        port = int(port_text)
    else:
        raise ValueError(f"bad --resolve entry {entry!r}: port {port_text!r} is not 1-65535 or *")
    addrs: list[str] = []
    for item in addr_text.split(","):
        item = item.strip()
        if not item:
            raise ValueError(f"bad --resolve entry {entry!r}: empty address")
        addr = _parse_ip(item)
        if addr is None:
            raise ValueError(f"bad --resolve entry {entry!r}: {item!r} is not an IP address")
        addrs.append(str(addr))
    return (_key_host(host), port), addrs


class StaticResolver(AbstractResolver):
    """curl's ``--resolve``: fixed addresses for (host, port) pairs, the rest to ``fallback``.

    Keys are (host, port); port 0 matches any port and host ``*`` any host. The most specific
    entry wins: (host, port), (host, any), (*, port), (*, any). Like curl, the given addresses
    are used even when they do not match ``family`` — but matching ones come first and alone.
    """

    def __init__(
        self,
        overrides: Mapping[tuple[str, int], Sequence[str]],
        fallback: AbstractResolver | None = None,
    ) -> None:
        table: dict[tuple[str, int], list[tuple[str, socket.AddressFamily]]] = {}
        for (host, port), addrs in overrides.items():
            if not 0 <= port < 65536:
                raise ValueError(f"bad override port {port} for {host!r}")
            parsed = []
            for text in addrs:
                addr = _parse_ip(text)
                if addr is None:
                    raise ValueError(f"override for {host!r}: {text!r} is not an IP address")
                parsed.append((str(addr), _family_of(addr)))
            if not parsed:
                raise ValueError(f"override for {host!r} has no addresses")
            table.setdefault((_key_host(host), port), []).extend(parsed)
        self._table = table
        self._fallback = fallback if fallback is not None else ThreadedResolver()

    @property
    def fallback(self) -> AbstractResolver:
        return self._fallback

    def _lookup(self, host: str, port: int) -> list[tuple[str, socket.AddressFamily]] | None:
        name = _key_host(host)
        keys = [(name, port), (name, ANY_PORT)]
        if _parse_ip(host) is None:
            keys += [(WILDCARD_HOST, port), (WILDCARD_HOST, ANY_PORT)]  # "*" means any *name*
        for key in keys:
            found = self._table.get(key)
            if found is not None:
                return found
        return None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        entries = self._lookup(host, port)
        if entries is None:
            return await self._fallback.resolve(host, port, family)
        matching = [e for e in entries if family in (socket.AF_UNSPEC, e[1])] or entries
        return _dedupe(_result(host, addr, port, fam) for addr, fam in matching)

    async def close(self) -> None:
        await self._fallback.close()
