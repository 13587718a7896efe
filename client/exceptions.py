"""The engine's one error tree, with aiohttp's names and stdlib bases.

Every failure the engine reports is one of these; lower layers raise plain
``OSError``/``ssl.SSLError``/``ProtocolError`` and the transport boundary
(``connection``/``connector``) translates them exactly once.

    Exception
    ├── ClientError
    │   ├── ClientConnectionError
    │   │   ├── ClientConnectionResetError            (+ ConnectionResetError)
    │   │   ├── ClientOSError                         (+ OSError)
    │   │   │   └── ClientConnectorError              .host .port .os_error .ssl
    │   │   │       ├── ClientConnectorDNSError       name did not resolve
    │   │   │       ├── ClientProxyConnectionError    proxy unreachable (.host .port: the proxy)
    │   │   │       ├── UnixClientConnectorError      .path
    │   │   │       └── ClientSSLError
    │   │   │           ├── ClientConnectorSSLError          (+ ssl.SSLError) .reason .library
    │   │   │           │   └── ClientProxySSLError          (+ ClientProxyConnectionError)
    │   │   │           └── ClientConnectorCertificateError  (+ ssl.CertificateError)
    │   │   │               └── ClientProxyCertificateError  (+ ClientProxyConnectionError)
    │   │   └── ServerConnectionError
    │   │       ├── ServerDisconnectedError           .message
    │   │       ├── ServerTimeoutError                (+ asyncio.TimeoutError)
    │   │       │   ├── ConnectionTimeoutError        connect / sock_connect / pool wait
    │   │       │   └── SocketTimeoutError            sock_read
    │   │       └── ServerFingerprintMismatch         .expected .got .host .port
    │   │           │                                 .peer_certificate
    │   │           └── PinMismatch                   a ``Pins`` value missed: .pins .kind
    │   ├── ClientResponseError                       .request_info .status .message
    │   │   │                                         .headers .history
    │   │   ├── ContentTypeError
    │   │   ├── MalformedResponseError                the server broke HTTP/1.1 framing
    │   │   ├── TooManyRedirects
    │   │   ├── ClientHttpProxyError                  the proxy refused CONNECT
    │   │   └── WSServerHandshakeError
    │   ├── ClientPayloadError                        body cut short or undecodable
    │   │   ├── DecompressionLimitError               expanded body over the limit
    │   │   └── NonReplayableBodyError                (+ ValueError) a redirect or resend
    │   │                                             needs a one-shot body again
    │   ├── InvalidURL                                (+ ValueError) .url
    │   │   └── InvalidUrlClientError
    │   │       ├── NonHttpUrlClientError
    │   │       │   └── NonHttpUrlRedirectClientError (+ RedirectClientError)
    │   │       └── InvalidUrlRedirectClientError     (+ RedirectClientError)
    │   ├── RedirectClientError
    │   ├── InvalidRequestHeaderError                 (+ ValueError) CR/LF/NUL in the head
    │   ├── CookieFileError                           (+ ValueError) .path .line_number
    │   ├── UploadAbortedError                        the request body was not fully sent
    │   └── WSMessageTypeError                        (+ TypeError)
    └── WebSocketError                                .code (a close code)

``FingerprintMismatch`` is the seed document's name for ``ServerFingerprintMismatch``.
``ProtocolError`` is the sans-IO parser's own error: it never escapes the engine.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multidict import CIMultiDictProxy, MultiMapping

    from .config import ConnectionKey, RequestInfo


class ProtocolError(ValueError):
    """The peer sent bytes that break HTTP/1.1 (raised by the sans-IO layer)."""


class ClientError(Exception):
    """Base of every error the client raises."""


# --- connections -----------------------------------------------------------------


class ClientConnectionError(ClientError):
    """Something went wrong with the connection itself."""


class ClientConnectionResetError(ClientConnectionError, ConnectionResetError):
    """The connection was reset while a request was using it."""


class ClientOSError(ClientConnectionError, OSError):
    """An OS-level error on the connection."""


class ClientConnectorError(ClientOSError):
    """The connection to ``host:port`` could not be opened."""

    def __init__(self, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._conn_key = connection_key
        self._os_error = os_error
        super().__init__(os_error.errno, os_error.strerror)
        self.args = (connection_key, os_error)

    @property
    def os_error(self) -> OSError:
        return self._os_error

    @property
    def host(self) -> str:
        return self._conn_key.host

    @property
    def port(self) -> int | None:
        return self._conn_key.port

    @property
    def ssl(self) -> Any:
        return self._conn_key.ssl

    def __str__(self) -> str:
        reason = self._os_error.strerror or str(self._os_error) or type(self._os_error).__name__
        return f"Cannot connect to host {self.host}:{self.port} ssl:{self._ssl_label()} [{reason}]"

    def _ssl_label(self) -> str:
        value = self.ssl
        if value is True or value is None:
            return "default"
        if value is False:
            return "False"
        return type(value).__name__

    __reduce__ = BaseException.__reduce__


class ClientConnectorDNSError(ClientConnectorError):
    """The host name did not resolve."""


class ClientProxyConnectionError(ClientConnectorError):
    """The proxy could not be reached."""


class UnixClientConnectorError(ClientConnectorError):
    """The Unix socket at ``path`` could not be connected."""

    def __init__(self, path: str, connection_key: ConnectionKey, os_error: OSError) -> None:
        self._path = path
        super().__init__(connection_key, os_error)

    @property
    def path(self) -> str:
        return self._path

    def __str__(self) -> str:
        reason = self.os_error.strerror or str(self.os_error)
        return f"Cannot connect to unix socket {self._path} ssl:{self._ssl_label()} [{reason}]"


class ClientSSLError(ClientConnectorError):
    """Base of the TLS failures while connecting."""


class ClientConnectorSSLError(ClientSSLError, ssl.SSLError):
    """The TLS handshake failed for a reason other than certificate verification.

    ``reason`` and ``library`` are OpenSSL's (``"TLSV1_ALERT_PROTOCOL_VERSION"``, ``"SSL"``)
    when the failure came from OpenSSL; ``errno`` is then OpenSSL's error class
    (``ssl.SSL_ERROR_*``), not an OS errno. The message names the reason.
    """

    def __init__(self, connection_key: ConnectionKey, os_error: OSError) -> None:
        super().__init__(connection_key, os_error)
        # ssl.SSLError types these as str; None (no OpenSSL reason) is what a bare one has.
        self.reason = getattr(os_error, "reason", None)  # type: ignore[assignment]
        self.library = getattr(os_error, "library", None)  # type: ignore[assignment]

    def __str__(self) -> str:
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self._ssl_label()} "
            f"[{ssl_error_text(self.os_error)}]"
        )


def ssl_error_text(error: OSError) -> str:
    """An ``ssl.SSLError`` as one line naming OpenSSL's reason, e.g.
    ``TLSV1_ALERT_PROTOCOL_VERSION: tlsv1 alert protocol version``."""
    reason = getattr(error, "reason", None)
    text = error.strerror or str(error) or type(error).__name__
    if isinstance(error, ssl.SSLError) and reason:
        # "[SSL: REASON] reason text (_ssl.c:1006)" -> "REASON: reason text"
        detail = text.split("] ", 1)[-1].split(" (_ssl.c:", 1)[0].strip()
        return f"{reason}: {detail}" if detail and detail != text else str(reason)
    return text


class ClientConnectorCertificateError(ClientSSLError, ssl.CertificateError):
    """The server's certificate did not verify."""

    def __init__(self, connection_key: ConnectionKey, certificate_error: Exception) -> None:
        self._conn_key = connection_key
        self._certificate_error = certificate_error
        self._os_error = OSError(0, str(certificate_error))
        self.args = (connection_key, certificate_error)
        # ssl.SSLCertVerificationError's fields, e.g. "certificate has expired".
        self.verify_code = getattr(certificate_error, "verify_code", 0)
        self.verify_message = str(getattr(certificate_error, "verify_message", ""))

    @property
    def certificate_error(self) -> Exception:
        return self._certificate_error

    @property
    def os_error(self) -> OSError:
        return self._os_error

    def __str__(self) -> str:
        return (
            f"Cannot connect to host {self.host}:{self.port} ssl:{self._ssl_label()} "
            f"[{self._certificate_error}]"
        )


class ClientProxySSLError(ClientConnectorSSLError, ClientProxyConnectionError):
    """An https:// proxy's TLS handshake failed (not its certificate): ``host``/``port``
    are the proxy's."""

    def __str__(self) -> str:
        return (
            f"Cannot connect to proxy {self.host}:{self.port} ssl:{self._ssl_label()} "
            f"[{ssl_error_text(self.os_error)}]"
        )


class ClientProxyCertificateError(ClientConnectorCertificateError, ClientProxyConnectionError):
    """An https:// proxy's certificate did not verify: ``host``/``port`` are the proxy's."""

    def __str__(self) -> str:
        return (
            f"Cannot connect to proxy {self.host}:{self.port} ssl:{self._ssl_label()} "
            f"[{self.certificate_error}]"
        )


class ServerConnectionError(ClientConnectionError):
    """The server side of an established connection misbehaved."""


class ServerDisconnectedError(ServerConnectionError):
    """The server closed the connection before the response was complete."""

    def __init__(self, message: str | None = None) -> None:
        self.message = message or "Server disconnected"
        super().__init__(self.message)


class ServerTimeoutError(ServerConnectionError, asyncio.TimeoutError):
    """A timeout expired (total, or a phase of the request)."""


class ConnectionTimeoutError(ServerTimeoutError):
    """Connecting (or waiting for a pooled connection) took too long."""


class SocketTimeoutError(ServerTimeoutError):
    """The server sent nothing for longer than ``sock_read``."""


class ServerFingerprintMismatch(ServerConnectionError):
    """The server's certificate does not match the pinned fingerprint.

    ``peer_certificate`` is the DER certificate the server presented (zurl's addition, so a
    caller can show what it got).
    """

    def __init__(
        self,
        expected: bytes,
        got: bytes,
        host: str,
        port: int | None,
        *,
        peer_certificate: bytes | None = None,
    ) -> None:
        self.expected = expected
        self.got = got
        self.host = host
        self.port = port
        self.peer_certificate = peer_certificate
        super().__init__(expected, got, host, port)

    def __str__(self) -> str:
        return (
            f"Certificate fingerprint mismatch for {self.host}:{self.port}: "
            f"expected sha256:{self.expected.hex()}, got sha256:{self.got.hex()}"
        )


FingerprintMismatch = ServerFingerprintMismatch


class PinMismatch(ServerFingerprintMismatch):
    """The server's certificate misses a ``Pins`` value.

    ``kind`` says which pins missed: ``"certificate"`` (SHA-256 of the DER certificate) or
    ``"public key"`` (SHA-256 of its SubjectPublicKeyInfo, curl's ``sha256//`` pins).
    ``expected`` is every pin of that kind, ``got`` the server's digest of that kind (empty
    when its certificate could not be read).
    """

    def __init__(
        self,
        kind: str,
        expected: tuple[bytes, ...],
        got: bytes,
        host: str,
        port: int | None,
        *,
        peer_certificate: bytes | None,
        pins: Any = None,
    ) -> None:
        super().__init__(
            expected[0] if expected else b"", got, host, port, peer_certificate=peer_certificate
        )
        self.kind = kind
        self.expected_all = expected
        self.pins = pins

    def __str__(self) -> str:
        where = f"{self.host}:{self.port}"
        if self.kind == "public key":
            import base64

            def show(digest: bytes) -> str:
                return "sha256//" + base64.b64encode(digest).decode("ascii")

        else:

            def show(digest: bytes) -> str:
                return "sha256:" + digest.hex()

        expected = " or ".join(show(d) for d in self.expected_all)
        got = show(self.got) if self.got else "an unreadable certificate"
        return f"{self.kind.capitalize()} pin mismatch for {where}: expected {expected}, got {got}"


# --- responses -------------------------------------------------------------------


class ClientResponseError(ClientError):
    """A response that the caller asked to treat as an error, or could not be read."""

    def __init__(
        self,
        request_info: RequestInfo | None,
        history: tuple[Any, ...] = (),
        *,
        status: int | None = None,
        message: str = "",
        headers: MultiMapping[str] | CIMultiDictProxy[str] | None = None,
    ) -> None:
        self.request_info = request_info
        self.history = history
        self.status = status if status is not None else 0
        self.message = message
        self.headers = headers
        super().__init__(request_info, history)

    def __str__(self) -> str:
        url = self.request_info.real_url if self.request_info is not None else ""
        return f"{self.status}, message={self.message!r}, url={str(url)!r}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.request_info!r}, {self.history!r}, "
            f"status={self.status}, message={self.message!r})"
        )


class ContentTypeError(ClientResponseError):
    """``json()`` was asked for a body whose Content-Type does not match."""


class MalformedResponseError(ClientResponseError):
    """The server's response breaks HTTP/1.1 (status line, headers, framing)."""


class TooManyRedirects(ClientResponseError):
    """More redirects than ``max_redirects``."""


class ClientHttpProxyError(ClientResponseError):
    """The proxy answered CONNECT with a non-2xx status."""


class WSServerHandshakeError(ClientResponseError):
    """The server did not accept the WebSocket handshake."""


class ClientPayloadError(ClientError):
    """The response body was cut short, mis-framed or could not be decoded."""


class DecompressionLimitError(ClientPayloadError):
    """The decompressed body grew past the configured limit (a decompression bomb)."""


# --- caller mistakes -------------------------------------------------------------


class InvalidURL(ClientError, ValueError):
    """A URL that cannot be requested."""

    def __init__(self, url: Any, description: str | None = None) -> None:
        self._url = url
        self._description = description
        if description:
            super().__init__(url, description)
        else:
            super().__init__(url)

    @property
    def url(self) -> Any:
        return self._url

    @property
    def description(self) -> str | None:
        return self._description

    def __str__(self) -> str:
        if self._description:
            return f"{self._url} - {self._description}"
        return str(self._url)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self}>"


class InvalidUrlClientError(InvalidURL):
    """The URL given to a request is not valid."""


class RedirectClientError(ClientError):
    """Base of redirect-specific URL errors."""


class NonHttpUrlClientError(InvalidUrlClientError):
    """The URL given to a request is not http(s)/ws(s)."""


class InvalidUrlRedirectClientError(InvalidUrlClientError, RedirectClientError):
    """A redirect's Location is not a valid URL."""


class NonHttpUrlRedirectClientError(NonHttpUrlClientError, RedirectClientError):
    """A redirect pointed to a scheme other than http(s)."""


class InvalidRequestHeaderError(ClientError, ValueError):
    """A method, URL or header would inject CR, LF or NUL into the request head."""


class NonReplayableBodyError(ClientPayloadError, ValueError):
    """A redirect (or a resend) needs the request body again, but it was a one-shot
    stream already sent: aiohttp raises ``ClientPayloadError`` there."""


class UploadAbortedError(ClientError):
    """The request body was never fully sent (aiohttp 3.14: ``UploadTracker.upload_complete``)."""


class CookieFileError(ClientError, ValueError):
    """A cookie file that cannot be read: ``path`` and ``line_number`` say where (the
    line is None for a JSON jar's record, which has no line of its own)."""

    def __init__(self, path: str, line_number: int | None, reason: str) -> None:
        self.path = path
        self.line_number = line_number
        self.reason = reason
        super().__init__(path, line_number, reason)

    def __str__(self) -> str:
        if self.line_number is None:
            return f"{self.path}: {self.reason}"
        return f"{self.path}, line {self.line_number}: {self.reason}"


class WSMessageTypeError(ClientError, TypeError):
    """A WebSocket message was not of the type the caller asked for."""


class WebSocketError(Exception):
    """A WebSocket protocol violation; ``code`` is the close code to send (RFC 6455 §7.4)."""

    def __init__(self, code: int, message: str) -> None:
        self.code = code
        super().__init__(code, message)

    def __str__(self) -> str:
        return str(self.args[1])
