"""Host-name facts shared by the cookie rules and the connector (values layer, no I/O)."""

from __future__ import annotations

import functools
import ipaddress

__all__ = ["is_ip_address"]


@functools.lru_cache(maxsize=512)
def is_ip_address(host: str) -> bool:
    """Whether ``host`` is an IPv4 or IPv6 literal (an IPv6 zone id like ``%eth0`` allowed)."""
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True
