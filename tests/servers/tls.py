"""TLS material for loopback servers: a private CA (trustme) and contexts built from it.

Certificates name only loopback identities (localhost, 127.0.0.1, ::1), except the one
made on purpose for a wrong host name, whose name is never looked up.
"""

from __future__ import annotations

import datetime
import hashlib
import ssl
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
