"""Frozen values that configure requests: timeouts, credentials, pins, pool keys."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import warnings
from typing import TYPE_CHECKING, Any, NamedTuple

from multidict import CIMultiDictProxy
from yarl import URL

if TYPE_CHECKING:
    import ssl  # noqa: F401


@dataclasses.dataclass(frozen=True, slots=True)
class ClientTimeout:
    """Timeouts in seconds; ``None`` (or 0) disables one.

    ``total`` bounds the whole request including reading the body, ``connect`` the wait for a
    pooled connection plus connecting, ``sock_connect`` one TCP (and TLS) connect, and
    ``sock_read`` the longest silence while reading.
    """

    total: float | None = None
    connect: float | None = None
    sock_read: float | None = None
    sock_connect: float | None = None
    ceil_threshold: float = 5

    def __eq__(self, other: object) -> bool:
        # Equal to any ClientTimeout with the same values, aiohttp's own included (a script
        # may compare with aiohttp.client.DEFAULT_TIMEOUT); hashing stays by value.
        if type(other).__name__ != "ClientTimeout":
            return NotImplemented
        try:
            theirs = tuple(getattr(other, name) for name in _TIMEOUT_FIELDS)
        except AttributeError:
            return NotImplemented
        return (
            self.total,
            self.connect,
            self.sock_read,
            self.sock_connect,
            self.ceil_threshold,
        ) == theirs


_TIMEOUT_FIELDS = ("total", "connect", "sock_read", "sock_connect", "ceil_threshold")


# aiohttp's default: five minutes in all, no per-phase limit.
DEFAULT_TIMEOUT = ClientTimeout(total=5 * 60, sock_connect=30)

# "Not given", for parameters where None means something (no limit, say).
UNSET: Any = object()


def session_timeout(timeout: object, read_timeout: Any, conn_timeout: Any) -> ClientTimeout:
    """The session's ``ClientTimeout``, from aiohttp's ``timeout=`` or its deprecated
    ``read_timeout=`` (which aiohttp maps to ``total``) and ``conn_timeout=`` (``connect``).
    """
    if timeout is UNSET or timeout is None:
        result = DEFAULT_TIMEOUT
        if read_timeout is not UNSET:
            warnings.warn(
                "read_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = dataclasses.replace(result, total=read_timeout)
        if conn_timeout is not None:
            warnings.warn(
                "conn_timeout is deprecated, use timeout argument instead",
                DeprecationWarning,
                stacklevel=3,
            )
            result = dataclasses.replace(result, connect=conn_timeout)
        return result
    if not isinstance(timeout, ClientTimeout):
        raise ValueError(f"timeout parameter cannot be of {type(timeout)} type")
    if read_timeout is not UNSET:
        raise ValueError("read_timeout conflicts with timeout=: set ClientTimeout(total=...)")
    if conn_timeout is not None:
        raise ValueError("conn_timeout conflicts with timeout=: set ClientTimeout(connect=...)")
    return timeout


def encode_basic_auth(login: str, password: str = "", encoding: str = "utf-8") -> str:
    """An ``Authorization: Basic`` value (RFC 7617), aiohttp 3.14's replacement for
    ``BasicAuth(...).encode()``: ``headers={"Authorization": encode_basic_auth(u, p)}``."""
    if ":" in login:
        raise ValueError('A ":" is not allowed in login (RFC 7617#section-2)')
    creds = f"{login}:{password}".encode(encoding)
    return "Basic " + base64.b64encode(creds).decode("ascii")


class BasicAuth(NamedTuple("_BasicAuth", [("login", str), ("password", str), ("encoding", str)])):
    """HTTP Basic credentials (RFC 7617)."""

    def __new__(cls, login: str, password: str = "", encoding: str = "latin1") -> BasicAuth:
        if login is None:
            raise ValueError("None is not allowed as login value")
        if password is None:
            raise ValueError("None is not allowed as password value")
        if ":" in login:
            raise ValueError('A ":" is not allowed in login (RFC 1945#section-11.1)')
        return super().__new__(cls, login, password, encoding)

    @classmethod
    def decode(cls, auth_header: str, encoding: str = "latin1") -> BasicAuth:
        """Parse an ``Authorization: Basic ...`` header value."""
        scheme, _, encoded = auth_header.strip().partition(" ")
        if scheme.lower() != "basic":
            raise ValueError(f"Unknown authorization method {scheme}")
        try:
            decoded = base64.b64decode(encoded.encode("ascii"), validate=True).decode(encoding)
        except binascii.Error as exc:
            raise ValueError("Invalid base64 encoding.") from exc
        login, sep, password = decoded.partition(":")
        if not sep:
            raise ValueError("Invalid credentials.")
        return cls(login, password, encoding=encoding)

    @classmethod
    def from_url(cls, url: URL, *, encoding: str = "latin1") -> BasicAuth | None:
        """The credentials embedded in ``url``, or ``None``."""
        if not isinstance(url, URL):
            raise TypeError("url should be yarl.URL instance")
        if url.raw_user is None and url.raw_password is None:
            return None
        return cls(url.user or "", url.password or "", encoding=encoding)

    def encode(self) -> str:
        """The ``Authorization`` header value."""
        creds = f"{self.login}:{self.password}".encode(self.encoding)
        return "Basic " + base64.b64encode(creds).decode(self.encoding)


class Fingerprint:
    """A SHA-256 pin of the server's DER certificate.

    MD5 and SHA-1 digests are refused: they no longer identify a certificate safely.
    """

    __slots__ = ("_fingerprint",)

    def __init__(self, fingerprint: bytes) -> None:
        digestlen = len(fingerprint)
        if digestlen in (16, 20):
            raise ValueError("md5 and sha1 are insecure and not supported. Use sha256.")
        if digestlen != 32:
            raise ValueError("fingerprint has invalid length")
        self._fingerprint = bytes(fingerprint)

    @property
    def fingerprint(self) -> bytes:
        return self._fingerprint

    def digest_of(self, der_cert: bytes) -> bytes:
        return hashlib.sha256(der_cert).digest()

    def matches(self, der_cert: bytes) -> bool:
        return hashlib.sha256(der_cert).digest() == self._fingerprint

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Fingerprint) and other._fingerprint == self._fingerprint

    def __hash__(self) -> int:
        return hash(self._fingerprint)

    def __repr__(self) -> str:
        return f"<Fingerprint sha256:{self._fingerprint.hex()}>"


class ConnectionKey(NamedTuple):
    """What makes two connections interchangeable in the pool.

    A connection is only reused under the same security context: the same TLS settings,
    pin, proxy and proxy credentials, and (zurl) the same TLS settings for an https:// proxy.
    """

    host: str
    port: int | None
    is_ssl: bool
    ssl: Any  # the ``ssl=`` value: bool, SSLContext, Fingerprint or Pins (tls.SSLValue)
    proxy: URL | None
    proxy_auth: BasicAuth | None
    proxy_headers_hash: int | None
    proxy_ssl: Any = True  # the ``proxy_ssl=`` value: bool or SSLContext


@dataclasses.dataclass(frozen=True, slots=True)
class RequestInfo:
    """What was asked for: kept on responses and errors."""

    url: URL
    method: str
    headers: CIMultiDictProxy[str]
    real_url: URL = dataclasses.field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.real_url is None:
            object.__setattr__(self, "real_url", self.url)
