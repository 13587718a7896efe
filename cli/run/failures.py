"""Engine exceptions → (exit code, one line naming the host and the cause).

Classes are checked most specific first: the engine's tree (client/exceptions.py) nests
DNS, proxy and TLS failures under ``ClientConnectorError`` and timeouts under
``ServerConnectionError``. Only called after a failure, when ``client`` is loaded anyway.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl

from cli.exitcodes import ExitCode, Failure


def _cause(exc: BaseException) -> str:
    os_error = getattr(exc, "os_error", None)
    if not isinstance(os_error, OSError) and type(exc) in (OSError, ConnectionRefusedError):
        os_error = exc
    if isinstance(os_error, OSError):
        # asyncio's "Connect call failed (...)" hides the reason that errno names.
        if isinstance(os_error.errno, int) and os_error.errno > 0:
            return os.strerror(os_error.errno)
        return os_error.strerror or str(os_error) or type(os_error).__name__
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def describe(exc: BaseException, where: str) -> Failure:
    """Classify ``exc`` raised while talking to ``where`` (``host:port``)."""
    import client

    own = getattr(exc, "zurl_exit_code", None)
    if isinstance(own, ExitCode):  # zurl's own failures (pins, cookie jar) carry their code
        return Failure(own, str(exc))
    found = _engine_failure(client, exc, where)
    if found is not None:
        return found
    if isinstance(exc, asyncio.TimeoutError | TimeoutError):
        return Failure(ExitCode.TIMEOUT, f"{where}: timed out")
    if isinstance(exc, UnicodeError) and "idna" in str(exc):
        # getaddrinfo refuses a name it cannot encode (a label over 63 bytes) before any
        # query is sent: the name cannot resolve.
        return Failure(ExitCode.DNS, f"cannot resolve {where}: invalid host name ({exc})")
    if isinstance(exc, socket.gaierror):
        return Failure(ExitCode.DNS, f"cannot resolve {where}: {_cause(exc)}")
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return Failure(ExitCode.TLS, f"{where}: TLS failure: {_cause(exc)}")
    if isinstance(exc, ConnectionRefusedError):
        return Failure(ExitCode.CONNECT, f"cannot connect to {where}: {_cause(exc)}")
    if isinstance(exc, OSError):
        return Failure(ExitCode.NETWORK, f"{where}: {_cause(exc)}")
    return Failure(
        ExitCode.INTERNAL,
        f"internal error: {type(exc).__name__}: {_cause(exc)} (a bug; --traceback shows where)",
    )


def _engine_failure(client: object, exc: BaseException, where: str) -> Failure | None:
    c = client
    cause = _cause(exc)
    table: list[tuple[tuple[str, ...], ExitCode, str]] = [
        (("ServerFingerprintMismatch",), ExitCode.PIN_MISMATCH, f"{where}: {cause}"),
        (
            ("ClientProxyConnectionError", "ClientHttpProxyError"),
            ExitCode.PROXY,
            f"proxy failure on the way to {where}: {cause}",
        ),
        (("ClientConnectorDNSError",), ExitCode.DNS, f"cannot resolve {where}: {cause}"),
        (
            ("ClientConnectorCertificateError",),
            ExitCode.TLS,
            f"{where}: TLS certificate verification failed: {_verify(exc) or cause}",
        ),
        (("ClientSSLError",), ExitCode.TLS, f"{where}: TLS handshake failed: {cause}"),
        (("TooManyRedirects",), ExitCode.TOO_MANY_REDIRECTS, f"{where}: too many redirects"),
        (
            ("MalformedResponseError", "ClientPayloadError"),
            ExitCode.MALFORMED,
            f"{where}: malformed response: {getattr(exc, 'message', '') or cause}",
        ),
        (("ServerTimeoutError",), ExitCode.TIMEOUT, f"{where}: {_timeout(c, exc)}"),
        (("ClientConnectorError",), ExitCode.CONNECT, f"cannot connect to {where}: {cause}"),
        (("InvalidURL",), ExitCode.USAGE, f"invalid URL: {cause}"),
        (
            ("ServerDisconnectedError", "ClientConnectionError"),
            ExitCode.NETWORK,
            f"{where}: connection failed: {cause}",
        ),
        (("ClientError",), ExitCode.NETWORK, f"{where}: {type(exc).__name__}: {cause}"),
    ]
    for names, code, message in table:
        classes = tuple(getattr(c, name) for name in names if hasattr(c, name))
        if classes and isinstance(exc, classes):
            return Failure(code, message)
    return None


def _verify(exc: BaseException) -> str:
    return str(getattr(exc, "verify_message", "") or "")


def _timeout(client: object, exc: BaseException) -> str:
    connect = getattr(client, "ConnectionTimeoutError", None)
    read = getattr(client, "SocketTimeoutError", None)
    if connect is not None and isinstance(exc, connect):
        return "timed out while connecting"
    if read is not None and isinstance(exc, read):
        return "timed out waiting for the response"
    return "timed out"
