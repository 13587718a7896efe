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
    tls_error = exc if isinstance(exc, ssl.SSLError) else os_error
    if isinstance(tls_error, ssl.SSLError) and not isinstance(tls_error, ssl.CertificateError):
        # OpenSSL's reason (TLSV1_ALERT_PROTOCOL_VERSION): an SSLError's errno is OpenSSL's
        # error class, not an OS errno.
        return getattr(tls_error, "reason", None) or tls_error.strerror or str(tls_error)
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
    pins = _pin_failure(client, exc, where)
    if pins is not None:
        return pins
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
    proxy = _proxy_where(exc)
    table: list[tuple[tuple[str, ...], ExitCode, str]] = [
        (("ServerFingerprintMismatch",), ExitCode.PIN_MISMATCH, f"{where}: {cause}"),
        (
            ("ClientProxyCertificateError",),
            ExitCode.PROXY,
            f"proxy {proxy}: TLS certificate verification failed: {_verify(exc) or cause}"
            f" (on the way to {where})",
        ),
        (
            ("ClientProxySSLError",),
            ExitCode.PROXY,
            f"proxy {proxy}: TLS handshake failed: {cause} (on the way to {where})",
        ),
        (("ClientHttpProxyError",), ExitCode.PROXY, _connect_refused(exc, where)),
        (
            ("ClientProxyConnectionError",),
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
            ("RedirectClientError",),  # before InvalidURL: the user's URL was fine
            ExitCode.TOO_MANY_REDIRECTS,
            f"{where}: cannot follow the redirect to {getattr(exc, 'url', '?')}: "
            + _redirect_refusal(exc),
        ),
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


def _connect_refused(exc: BaseException, where: str) -> str:
    """A proxy's non-2xx answer to CONNECT, in words (its repr is aiohttp's tuple)."""
    info = getattr(exc, "request_info", None)
    proxy_url = getattr(info, "real_url", None)
    proxy = "the proxy"
    if proxy_url is not None and getattr(proxy_url, "host", None):
        host = str(proxy_url.host)
        proxy = (
            f"proxy [{host}]:{proxy_url.port}" if ":" in host else f"proxy {host}:{proxy_url.port}"
        )
    status = getattr(exc, "status", 0)
    reason = str(getattr(exc, "message", "") or "")
    line = f"{proxy} refused the tunnel to {where}: HTTP {status} {reason}".rstrip()
    if status == 407:
        line += " (--proxy-auth USER:PASS gives it credentials)"
    return line


def _redirect_refusal(exc: BaseException) -> str:
    if type(exc).__name__.startswith("NonHttp"):
        return "not an http:// or https:// URL"
    return str(getattr(exc, "description", "") or "not a valid URL")


def _proxy_where(exc: BaseException) -> str:
    """``host:port`` of the proxy a proxy TLS error names."""
    host, port = str(getattr(exc, "host", "") or "?"), getattr(exc, "port", None)
    host = f"[{host}]" if ":" in host else host
    return f"{host}:{port}" if port else host


def _pin_failure(client: object, exc: BaseException, where: str) -> Failure | None:
    """A ``client.PinMismatch``: both sides' pins, in the forms the flags take."""
    mismatch = getattr(client, "PinMismatch", None)
    if mismatch is None or not isinstance(exc, mismatch):
        return None
    kind: str = getattr(exc, "kind", "certificate")
    expected: tuple[bytes, ...] = getattr(exc, "expected_all", ())
    got: bytes = getattr(exc, "got", b"")
    if kind == "public key":
        import base64

        def shown(digest: bytes) -> str:
            return "sha256//" + base64.b64encode(digest).decode()

        wanted, what = ";".join(shown(d) for d in expected), "public key pin mismatch"
    else:

        def shown(digest: bytes) -> str:
            return "sha256:" + digest.hex(":").upper()

        wanted, what = " or ".join(shown(d) for d in expected), "certificate fingerprint mismatch"
    if not got:
        return Failure(
            ExitCode.PIN_MISMATCH, f"{where}: unreadable certificate, no key to pin ({what})"
        )
    return Failure(ExitCode.PIN_MISMATCH, f"{where}: {what}: expected {wanted}, got {shown(got)}")


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
