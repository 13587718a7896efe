"""TLS material for loopback servers: a private CA (trustme) and contexts built from it.

Certificates name only loopback identities (localhost, 127.0.0.1, ::1), except the one
made on purpose for a wrong host name, whose name is never looked up.

``HandshakeServer`` is a blocking TLS server in a thread: unlike an asyncio server, which
drops the connection without flushing the alert when a handshake fails, it sends the
alert (protocol_version, handshake_failure, ...) the way nginx or OpenSSL's s_server do.
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import socketserver
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import trustme

LOOPBACK_IDENTITIES = ("localhost", "127.0.0.1", "::1")
# RFC 2606 reserves .invalid: a name that can never resolve anywhere.
WRONG_HOST = "wrong-host.invalid"


def issue_loopback_cert(ca: trustme.CA) -> trustme.LeafCert:
    return ca.issue_cert(*LOOPBACK_IDENTITIES)


def issue_expired_cert(ca: trustme.CA) -> trustme.LeafCert:
    """A loopback certificate whose validity ended a day ago."""
    now = datetime.datetime.now(datetime.UTC)
    return ca.issue_cert(
        *LOOPBACK_IDENTITIES,
        not_before=now - datetime.timedelta(days=30),
        not_after=now - datetime.timedelta(days=1),
    )


def issue_wrong_host_cert(ca: trustme.CA) -> trustme.LeafCert:
    """A valid certificate for a name that is not any of the loopback names."""
    return ca.issue_cert(WRONG_HOST)


def server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    """A server-side context presenting ``cert`` (with its chain)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def client_context(ca: trustme.CA) -> ssl.SSLContext:
    """A client-side context that trusts ``ca`` only."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


def write_ca_bundle(ca: trustme.CA, path: Path) -> Path:
    """Write the CA certificate as a PEM bundle to ``path``."""
    ca.cert_pem.write_to_path(str(path))
    return path


def write_cert_files(cert: trustme.LeafCert, directory: Path) -> tuple[Path, Path]:
    """Write ``cert``'s chain and key as PEM files (for nginx, gunicorn, proxy.py)."""
    cert_path = directory / "cert.pem"
    key_path = directory / "key.pem"
    cert_path.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    cert.private_key_pem.write_to_path(str(key_path))
    return cert_path, key_path


def cert_der(cert: trustme.LeafCert) -> bytes:
    """The leaf certificate in DER form, as ``getpeercert(binary_form=True)`` returns it."""
    return ssl.PEM_cert_to_DER_cert(cert.cert_chain_pems[0].bytes().decode("ascii"))


def fingerprint_sha256(cert: trustme.LeafCert) -> bytes:
    """The SHA-256 digest that ``Fingerprint(...)`` pins."""
    return hashlib.sha256(cert_der(cert)).digest()


class HandshakeServer(socketserver.ThreadingTCPServer):
    """Accepts on 127.0.0.1, handshakes with ``context``, answers one 200 and closes.

    ``outcomes`` records each connection's handshake: None when it completed, else the
    server's exception. Closing the server waits for its handler threads (each bounded
    by a 10 s socket timeout), so ``outcomes`` is complete once the server is closed.
    """

    daemon_threads = False
    block_on_close = True

    def __init__(self, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _HandshakeHandler)
        self.context = context
        self.outcomes: list[BaseException | None] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _HandshakeHandler(socketserver.BaseRequestHandler):
    server: HandshakeServer

    def handle(self) -> None:
        self.request.settimeout(10)
        try:
            with self.server.context.wrap_socket(self.request, server_side=True) as conn:
                self.server.outcomes.append(None)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        except (OSError, ssl.SSLError) as exc:
            self.server.outcomes.append(exc)


@contextlib.contextmanager
def handshake_server(context: ssl.SSLContext) -> Iterator[HandshakeServer]:
    server = HandshakeServer(context)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
