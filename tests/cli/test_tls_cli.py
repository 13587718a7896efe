"""TLS flags against loopback TLS servers with trustme and openssl certificates: --verify,
-k, CA bundles, client certificates, --tls-min, --fingerprint, --pin-pubkey, --show-cert
and the report's "tls" object."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
import trustme

from cli.exitcodes import ExitCode
from tests.cli.conftest import Result, zurl
from tests.servers import require_binary, tls
from tests.servers.raw import RawServer, RawServerFactory

pytestmark = pytest.mark.timeout(30)

OK = [b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nsecure"]


async def run(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


def openssl(*args: str, stdin: bytes | None = None) -> bytes:
    require_binary("openssl")
    done = subprocess.run(
        ["openssl", *args], input=stdin, capture_output=True, timeout=20, check=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made by openssl."""
    directory = tmp_path_factory.mktemp("self-signed")
    cert, key = directory / "cert.pem", directory / "key.pem"
    openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "3",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    )  # fmt: skip
    return cert, key


def openssl_fingerprint(cert: Path) -> str:
    out = openssl("x509", "-in", str(cert), "-noout", "-fingerprint", "-sha256").decode()
    return out.strip().split("=", 1)[1]  # "sha256 Fingerprint=AB:CD:..."


def openssl_spki_pin(cert: Path) -> str:
    """curl's documented recipe for a --pinnedpubkey value."""
    pub = openssl("x509", "-in", str(cert), "-noout", "-pubkey")
    der = openssl("pkey", "-pubin", "-outform", "der", stdin=pub)
    digest = openssl("dgst", "-sha256", "-binary", stdin=der)
    return "sha256//" + base64.b64encode(digest).decode()


def context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def self_signed_server(raw_server: RawServerFactory, pair: tuple[Path, Path]) -> RawServer:
    return await raw_server(OK, ssl=context(*pair))


def pem_of(cert: trustme.LeafCert, directory: Path) -> Path:
    return tls.write_cert_files(cert, directory)[0]


# --- verification -------------------------------------------------------------------------


async def test_self_signed_fails_verification_with_the_tls_exit_code(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path]
) -> None:
    server = await self_signed_server(raw_server, self_signed)
    result = await run(f"{server.url}/")
    assert result.code == ExitCode.TLS
    assert result.err.count("\n") == 1
    assert "certificate verification failed" in result.err
    assert "self-signed" in result.err or "self signed" in result.err


@pytest.mark.parametrize("flags", [("--verify", "no"), ("-k",), ("--insecure",)])
async def test_verify_no_and_insecure_succeed(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path], flags: tuple[str, ...]
) -> None:
    server = await self_signed_server(raw_server, self_signed)
    result = await run(*flags, f"{server.url}/")
    assert (result.code, result.stdout) == (0, b"secure"), result.err


async def test_a_custom_ca_bundle_is_the_only_trust(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    ca_bundle_path: Path,
    tmp_path: Path,
) -> None:
    server = await raw_server(OK, ssl=server_ssl_context)
    result = await run("--verify", str(ca_bundle_path), f"{server.url}/")
    assert (result.code, result.stdout) == (0, b"secure"), result.err
    # Another CA's bundle does not vouch for this server.
    other = tls.write_ca_bundle(trustme.CA(), tmp_path / "other.pem")
    assert (await run("--verify", str(other), f"{server.url}/")).code == ExitCode.TLS


async def test_a_hostname_mismatch_fails(
    raw_server: RawServerFactory, tls_ca: trustme.CA, ca_bundle_path: Path
) -> None:
    ctx = tls.server_context(tls.issue_wrong_host_cert(tls_ca))
    server = await raw_server(OK, ssl=ctx)
    result = await run("--verify", str(ca_bundle_path), f"{server.url}/")
    assert result.code == ExitCode.TLS
    assert "127.0.0.1" in result.err


async def test_an_expired_certificate_is_reported_as_expired(
    raw_server: RawServerFactory, tls_ca: trustme.CA, ca_bundle_path: Path
) -> None:
    server = await raw_server(OK, ssl=tls.server_context(tls.issue_expired_cert(tls_ca)))
    result = await run("--verify", str(ca_bundle_path), f"{server.url}/")
    assert result.code == ExitCode.TLS
    assert "expired" in result.err
    assert result.err.count("\n") == 1


async def test_client_certificate(
    raw_server: RawServerFactory,
    tls_ca: trustme.CA,
    tls_cert: trustme.LeafCert,
    ca_bundle_path: Path,
    tmp_path: Path,
) -> None:
    ctx = tls.server_context(tls_cert)
    ctx.verify_mode = ssl.CERT_REQUIRED
    tls_ca.configure_trust(ctx)
    server = await raw_server(OK, ssl=ctx)
    cert, key = tls.write_cert_files(tls_ca.issue_cert("client.zurl.test"), tmp_path)
    args = ("--verify", str(ca_bundle_path), f"{server.url}/")
    good = await run("--cert", str(cert), "--cert-key", str(key), *args)
    assert (good.code, good.stdout) == (0, b"secure"), good.err
    assert (await run(*args)).code in (ExitCode.TLS, ExitCode.NETWORK)


async def test_tls_min_refuses_an_older_server(
    raw_server: RawServerFactory, server_ssl_context: ssl.SSLContext, ca_bundle_path: Path
) -> None:
    server_ssl_context.maximum_version = ssl.TLSVersion.TLSv1_2
    server = await raw_server(OK, ssl=server_ssl_context)
    base = ("--verify", str(ca_bundle_path), f"{server.url}/")
    assert (await run("--tls-min", "1.2", *base)).code == 0
    refused = await run("--tls-min", "1.3", *base)
    # OpenSSL's server may answer with an alert or just reset the handshake.
    assert refused.code in (ExitCode.TLS, ExitCode.CONNECT), refused.err
    assert refused.err.count("\n") == 1 and refused.stdout == b""


@pytest.mark.parametrize(
    "args",
    [
        ("-k", "--verify", "yes"),
        ("--verify", "/no/such/bundle.pem"),
        ("--cert-key", "k.pem"),
        ("--cert", "/no/such/cert.pem"),
        ("--fingerprint", "abc"),
        ("--fingerprint", "md5:" + "ab" * 16),
        ("--pin-pubkey", "sha1//AAAA"),
    ],
)
def test_bad_tls_flags_are_usage_errors(args: tuple[str, ...]) -> None:
    result = zurl("--offline", *args, "https://example.org/")
    assert result.code == ExitCode.USAGE, result.err
    assert result.err.startswith("zurl: error: ")
    assert result.err.count("\n") == 1


# --- pins ---------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["colons", "plain", "prefixed"])
async def test_a_right_fingerprint_passes_a_self_signed_certificate(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path], form: str
) -> None:
    server = await self_signed_server(raw_server, self_signed)
    colons = openssl_fingerprint(self_signed[0])
    value = {
        "colons": colons,
        "plain": colons.replace(":", "").lower(),
        "prefixed": "sha256:" + colons.replace(":", ""),
    }[form]
    result = await run("--fingerprint", value, f"{server.url}/")
    assert (result.code, result.stdout) == (0, b"secure"), result.err


async def test_any_of_several_fingerprints_passes(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path]
) -> None:
    server = await self_signed_server(raw_server, self_signed)
    right = openssl_fingerprint(self_signed[0])
    result = await run("--fingerprint", "00" * 32, "--fingerprint", right, f"{server.url}/")
    assert (result.code, result.stdout) == (0, b"secure"), result.err


async def test_a_wrong_fingerprint_sends_nothing_and_says_both(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path]
) -> None:
    server = await self_signed_server(raw_server, self_signed)
    wrong = "AB" * 32
    result = await run("-a", "user:secret", "--fingerprint", wrong, f"{server.url}/", "a=1")
    assert result.code == ExitCode.PIN_MISMATCH
    assert result.err.count("\n") == 1
    actual = openssl_fingerprint(self_signed[0])
    assert f"expected sha256:{':'.join(['AB'] * 32)}" in result.err
    assert f"got sha256:{actual}" in result.err
    await asyncio.sleep(0.1)
    assert b"".join(server.received) == b""  # not a byte of the request (or its password)
    # The message is ready to paste back.
    pasted = re.search(r"got (sha256:[0-9A-F:]+)", result.err)
    assert pasted is not None
    again = await run("--fingerprint", pasted.group(1), f"{server.url}/")
    assert again.code == 0, again.err


async def test_pin_pubkey_on_top_of_verification(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
    ca_bundle_path: Path,
    tmp_path: Path,
) -> None:
    server = await raw_server(OK, ssl=server_ssl_context)
    pin = openssl_spki_pin(pem_of(tls_cert, tmp_path))
    base = ("--verify", str(ca_bundle_path), f"{server.url}/")
    good = await run("--pin-pubkey", f"sha256//{'A' * 43}=;{pin}", *base)
    assert (good.code, good.stdout) == (0, b"secure"), good.err
    bad = await run("--pin-pubkey", "sha256//" + base64.b64encode(b"\1" * 32).decode(), *base)
    assert bad.code == ExitCode.PIN_MISMATCH
    assert f"got {pin}" in bad.err
    # A pinned key does not excuse a certificate that does not verify.
    assert (await run("--pin-pubkey", pin, f"{server.url}/")).code == ExitCode.TLS


# --- --show-cert and the report -------------------------------------------------------------


async def test_show_cert_prints_what_openssl_prints(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path]
) -> None:
    server = await self_signed_server(raw_server, self_signed)
    result = await run("-k", "--show-cert", f"{server.url}/")
    assert (result.code, result.stdout) == (0, b"secure"), result.err
    err = result.err
    assert openssl_fingerprint(self_signed[0]) in err
    assert openssl_spki_pin(self_signed[0]) in err
    assert "CN=localhost" in err and "127.0.0.1" in err and "days left" in err
    assert "NOT verified" in err


async def test_show_cert_works_when_verification_fails(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path]
) -> None:
    server = await raw_server(lambda conn: asyncio.sleep(0), ssl=context(*self_signed))
    result = await run("--show-cert", f"{server.url}/")
    assert result.code == ExitCode.TLS
    assert result.err.startswith("zurl: ") and "verification failed" in result.err
    assert openssl_fingerprint(self_signed[0]) in result.err
    assert "--fingerprint sha256:" in result.err


async def test_show_cert_of_an_expired_certificate(
    raw_server: RawServerFactory, tls_ca: trustme.CA, tmp_path: Path
) -> None:
    expired = tls.issue_expired_cert(tls_ca)
    server = await raw_server(lambda conn: asyncio.sleep(0), ssl=tls.server_context(expired))
    result = await run("--show-cert", f"{server.url}/")
    assert result.code == ExitCode.TLS
    assert "EXPIRED" in result.err
    assert openssl_fingerprint(pem_of(expired, tmp_path)) in result.err


async def test_report_has_a_tls_object(
    raw_server: RawServerFactory, self_signed: tuple[Path, Path]
) -> None:
    server = await self_signed_server(raw_server, self_signed)
    result = await run("-k", "--report", "-", f"{server.url}/")
    assert result.code == 0, result.err
    record: dict[str, Any] = json.loads(result.stdout)
    info = record["tls"]
    assert info["version"] in ("TLSv1.2", "TLSv1.3")
    assert info["cipher"] and info["alpn"] in (None, "http/1.1")
    assert info["verified"] is False
    cert = info["certificate"]
    assert cert["sha256_fingerprint"] == openssl_fingerprint(self_signed[0])
    assert cert["spki_pin"] == openssl_spki_pin(self_signed[0])
    assert cert["san_ip"] == ["127.0.0.1"] and cert["expired"] is False


def test_plain_http_report_has_no_tls(httpbin: Any) -> None:
    result = zurl("--report", "-", f"{httpbin.url}/get")
    assert json.loads(result.stdout)["tls"] is None
