"""Connection flags → one ``ConnectPlan`` (``--limit``, ``--limit-per-host``,
``--unix-socket``, ``--resolve``, ``--dns-server``, ``--dns-ttl``, ``--no-dns-cache``,
``-4``/``-6``, ``--local-addr``, ``--http2``, ``--http2-prior-knowledge``, ``--http1.1``);
cli/run/session.py builds the connector from it. ``--http1.1`` wins over the HTTP/2 flags
(a default turned on elsewhere can be turned off for one run).

Rules:
- ``connect_plan`` checks every flag before any connection is made: a bad ``--resolve``
  entry, a nameserver that is not an IP, ``-4`` with ``-6`` or a missing DNS library is a
  usage error (exit 2) naming the flag.
- ``client`` is imported only by the checks of the flags that were given.
"""

from __future__ import annotations

import socket

from cli.command.options import Options
from cli.exitcodes import UsageError
from cli.run.plans import ConnectPlan

DNS_EXTRA = 'pip install "zurl[dns]"'
H2_EXTRA = 'pip install "zurl[http2]"'


def connect_plan(opts: Options) -> ConnectPlan | None:
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
        http2=(opts.http2 or opts.http2_prior_knowledge) and not opts.http1_1,
        http2_prior_knowledge=opts.http2_prior_knowledge and not opts.http1_1,
    )
    if result == ConnectPlan():
        return None
    check(result)
    if result.local_addr is not None:
        result = result._replace(local_addr=_local_address(result.local_addr))
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
            ("--http2", p.http2),
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
    if p.http2:
        _require_h2_library()
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


def _require_h2_library() -> None:
    try:
        import h2  # noqa: F401  (only asking whether it is installed)
    except ImportError:
        raise UsageError(f"--http2 needs the h2 package: {H2_EXTRA}") from None


def _local_address(text: str) -> str:
    """``ADDR`` (an IP of this machine; brackets allowed for IPv6) as a bind address."""
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        import ipaddress

        return str(ipaddress.ip_address(bare))
    except ValueError:
        raise UsageError(f"--local-addr {text!r}: not an IP address") from None
