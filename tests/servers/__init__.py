"""Loopback test servers and the helpers they share.

Every server binds port 0 (or a private unix socket) so tests stay xdist-safe, and never
listens on anything but 127.0.0.1, ::1 or a unix socket path.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket

import pytest

ALLOWED_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


@functools.cache
def has_ipv6_loopback() -> bool:
    """True when ::1 can be bound here (containers often lack it)."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


def check_host(host: str) -> None:
    """Refuse non-loopback binds; skip a ::1 bind on machines without IPv6 loopback."""
    if host not in ALLOWED_HOSTS:
        raise ValueError(f"test servers bind loopback only, not {host!r}")
    if host == "::1" and not has_ipv6_loopback():
        skip_or_fail("no IPv6 loopback on this machine")


def format_url(scheme: str, host: str, port: int) -> str:
    """``scheme://host:port`` with IPv6 literals bracketed."""
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def servers_required() -> bool:
    """True under ``ZURL_REQUIRE_SERVERS=1`` (CI): a missing server fails, never skips."""
    return os.environ.get("ZURL_REQUIRE_SERVERS", "") == "1"


def skip_or_fail(message: str) -> None:
    """Skip the test for want of ``message``'s thing, or fail under ``ZURL_REQUIRE_SERVERS=1``.

    CI installs everything the tests need (Debian 12 has ::1, openssl and every digest
    algorithm), so there a missing one is a broken machine, not a reason to pass.
    """
    if servers_required():
        pytest.fail(f"{message}; ZURL_REQUIRE_SERVERS=1 forbids skipping", pytrace=False)
    pytest.skip(message)


def require_ipv6_loopback() -> None:
    """Skip (or fail in CI mode) unless ::1 can be bound here."""
    if not has_ipv6_loopback():
        skip_or_fail("no IPv6 loopback on this machine")


def require_binary(name: str) -> str:
    """Path of the program ``name``; skip the test if it is missing, or fail in CI mode."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is not None:
        return path
    skip_or_fail(f"{name!r} is not installed (apt-get install {name})")
    raise AssertionError("unreachable")  # pragma: no cover - skip_or_fail raises
