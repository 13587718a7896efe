"""Connection flags → one ``ConnectPlan`` → the engine's connector and resolver.

Rules:
- ``plan`` checks every flag before any connection is made: a bad ``--resolve`` entry, a
  nameserver that is not an IP, ``-4`` with ``-6`` or a missing DNS library is a usage
  error (exit 2) naming the flag.
- ``client`` is imported only by ``connector`` (inside the event loop, which the engine's
  connectors need) and by the checks of the flags that were given.
- ``--resolve`` keeps the URL's host for SNI, certificate checks and the Host header: the
  override only changes the address dialled (``StaticResolver``), as with curl.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import socket
from typing import TYPE_CHECKING, Any

from cli.request.spec import UsageError

if TYPE_CHECKING:
    import client
    from cli.run.app import Options

DNS_EXTRA = 'pip install "zurl[dns]"'


@dataclasses.dataclass(frozen=True, slots=True)
class ConnectPlan:
    """How to open connections; ``None`` fields keep the engine's defaults."""

    limit: int | None = None
    limit_per_host: int | None = None
    unix_socket: str | None = None
    resolve: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_ttl: float | None = None
    dns_cache: bool = True
    family: int = 0  # socket.AF_UNSPEC: whatever the name resolves to
    local_addr: str | None = None


def plan(opts: Options) -> ConnectPlan | None:
    """The plan for these options, or None when no connection flag was given."""
    result = ConnectPlan(
        limit=opts.limit,
        limit_per_host=opts.limit_per_host,
        unix_socket=opts.unix_socket,
        resolve=tuple(opts.resolve),
        dns_servers=tuple(opts.dns_server),
        dns_ttl=opts.dns_ttl,
        dns_cache=not opts.no_dns_cache,
        family=_family(opts.ipv4, opts.ipv6),
        local_addr=opts.local_addr,
    )
    if result == ConnectPlan():
        return None
    check(result)
    return result


def _family(ipv4: bool, ipv6: bool) -> int:
    if ipv4 and ipv6:
        raise UsageError("-4 and -6 cannot be combined")
    if ipv4:
        return int(socket.AF_INET)
    return int(socket.AF_INET6) if ipv6 else 0


def check(p: ConnectPlan) -> None:
    """Refuse contradictory or malformed connection flags (a ``UsageError``)."""
    if p.unix_socket is not None:
        # Nothing is resolved or dialled over TCP: these flags could only be ignored.
        for flag, given in (
            ("--resolve", p.resolve),
            ("--dns-server", p.dns_servers),
            ("-4/-6", p.family),
            ("--local-addr", p.local_addr),
        ):
            if given:
                raise UsageError(f"--unix-socket cannot be combined with {flag}")
    if not p.dns_cache and p.dns_ttl is not None:
        raise UsageError("--dns-ttl cannot be combined with --no-dns-cache")
    if p.local_addr is not None:
        _local_address(p.local_addr)
    if p.resolve:
        from client.resolver import parse_resolve_option

        for entry in p.resolve:
            try:
                parse_resolve_option(entry)
            except ValueError as exc:
                raise UsageError(f"--resolve: {exc}") from None
    if p.dns_servers:
        from client.resolver import parse_nameserver

        for server in p.dns_servers:
            try:
                parse_nameserver(server)
            except ValueError as exc:
                raise UsageError(f"--dns-server: {exc}") from None
        _require_dns_library()


def _require_dns_library() -> None:
    try:
        import dns.asyncresolver  # noqa: F401  (only asking whether it is installed)
    except ImportError:
        raise UsageError(f"--dns-server needs the dnspython package: {DNS_EXTRA}") from None


def _local_address(text: str) -> tuple[str, int]:
    """``ADDR`` (an IP of this machine; brackets allowed for IPv6) as a bind address."""
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(bare)), 0
    except ValueError:
        raise UsageError(f"--local-addr {text!r}: not an IP address") from None


def overrides(entries: tuple[str, ...]) -> dict[tuple[str, int], list[str]]:
    """``--resolve`` entries as ``StaticResolver``'s table; later entries add addresses."""
    from client.resolver import parse_resolve_option

    table: dict[tuple[str, int], list[str]] = {}
    for entry in entries:
        key, addrs = parse_resolve_option(entry)
        table.setdefault(key, []).extend(addrs)
    return table


def resolver(p: ConnectPlan) -> client.AbstractResolver | None:
    """The resolver the flags ask for, or None for the engine's default (getaddrinfo)."""
    import client

    base: client.AbstractResolver | None = None
    if p.dns_servers:
        try:
            base = client.AsyncResolver(nameservers=list(p.dns_servers))
        except RuntimeError as exc:  # dnspython vanished between plan and run
            raise UsageError(f"--dns-server: {exc}") from None
    if p.resolve:
        return client.StaticResolver(overrides(p.resolve), fallback=base)
    return base


def connector(p: ConnectPlan, **extra: Any) -> client.BaseConnector:
    """A new connector for ``p``; ``extra`` passes other TCPConnector options (ssl=...).

    Must be called inside the running event loop. The session that receives it owns it.
    """
    import client

    limits: dict[str, Any] = {}
    if p.limit is not None:
        limits["limit"] = p.limit
    if p.limit_per_host is not None:
        limits["limit_per_host"] = p.limit_per_host
    if p.unix_socket is not None:
        return client.UnixConnector(p.unix_socket, **limits)
    options: dict[str, Any] = {**limits, "use_dns_cache": p.dns_cache, "family": p.family}
    if p.dns_ttl is not None:
        options["ttl_dns_cache"] = p.dns_ttl
    if p.local_addr is not None:
        options["local_addr"] = _local_address(p.local_addr)
    chosen = resolver(p)
    if chosen is not None:
        options["resolver"] = chosen
    return client.TCPConnector(**options, **extra)
