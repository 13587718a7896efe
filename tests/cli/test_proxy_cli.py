"""--proxy, --proxy-auth, --proxy-header, --no-proxy, --no-env and the proxy environment,
through a real proxy (proxy.py) and scripted servers on loopback."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
from pathlib import Path

import pytest
import trustme

from cli.exitcodes import ExitCode
from tests.cli.conftest import Result, zurl
from tests.servers import tls
from tests.servers.gunicorn import GunicornServer
from tests.servers.proxy import ProxyServer
from tests.servers.raw import (
    RawConnection,
    RawServer,
    RawServerFactory,
    header_value,
    parse_head,
)

pytestmark = pytest.mark.timeout(40)

OK = [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"]


@pytest.fixture
def dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def run(*args: str) -> Result:
    return await asyncio.to_thread(zurl, *args)


async def logged(proxy: ProxyServer, needle: str, wait: float = 5.0) -> bool:
    """Whether the proxy's access log names ``needle`` (written after the response)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while needle not in proxy.log():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def tls_server(factory: object) -> GunicornServer:
    return factory(tls=True)  # type: ignore[operator,no-any-return]


# --- through proxy.py -----------------------------------------------------------------------


async def test_plain_http_through_the_proxy(
    proxy_server: ProxyServer, raw_server: RawServerFactory
) -> None:
    target = await raw_server(OK)
    result = await run("--proxy", proxy_server.url, f"{target.url}/via?x=1")
    assert (result.code, result.stdout) == (0, b"ok"), result.err
    assert target.received[0].startswith(b"GET /via?x=1 HTTP/1.1\r\n")
    assert await logged(proxy_server, "/via?x=1")


async def test_https_through_connect_verifies_and_pins(
    proxy_server: ProxyServer,
    gunicorn_httpbin_factory: object,
    ca_bundle_path: Path,
    tls_cert: trustme.LeafCert,
) -> None:
    server = tls_server(gunicorn_httpbin_factory)
    url = f"{server.url}/get"
    verified = await run("--proxy", proxy_server.url, "--verify", str(ca_bundle_path), url)
    assert verified.code == 0, verified.err
    assert json.loads(verified.stdout)["url"].startswith("https://")
    assert (await run("--proxy", proxy_server.url, url)).code == ExitCode.TLS
    pin = tls.fingerprint_sha256(tls_cert).hex()
    assert (await run("--proxy", proxy_server.url, "--fingerprint", pin, url)).code == 0
    wrong = await run("--proxy", proxy_server.url, "--fingerprint", "00" * 32, url)
    assert wrong.code == ExitCode.PIN_MISMATCH


async def test_proxy_credentials_right_and_wrong(
    auth_proxy_server: ProxyServer, gunicorn_httpbin_factory: object, ca_bundle_path: Path
) -> None:
    server = tls_server(gunicorn_httpbin_factory)
    url = f"{server.url}/headers"
    verify = ("--verify", str(ca_bundle_path))
    in_url = await run("--proxy", auth_proxy_server.url_with_credentials, *verify, url)
    assert in_url.code == 0, in_url.err
    # The target never sees the proxy's credentials.
    assert "Proxy-Authorization" not in json.loads(in_url.stdout)["headers"]
    flag = await run("--proxy", auth_proxy_server.url, "--proxy-auth", "user:pass", *verify, url)
    assert flag.code == 0, flag.err
    wrong = await run("--proxy", auth_proxy_server.url, "--proxy-auth", "user:nope", *verify, url)
    assert wrong.code == ExitCode.PROXY
    assert wrong.err.count("\n") == 1
    assert "407" in wrong.err
    assert "nope" not in wrong.err
    missing = await run("--proxy", auth_proxy_server.url, *verify, url)
    assert missing.code == ExitCode.PROXY


async def test_https_proxy_carries_https_tls_in_tls(
    tls_proxy_server: ProxyServer,
    gunicorn_httpbin_factory: object,
    ca_bundle_path: Path,
    tls_cert: trustme.LeafCert,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = tls_server(gunicorn_httpbin_factory)
    url = f"{server.url}/get"
    # The proxy's certificate is verified with the default trust, never with --verify
    # (the target's): without the test CA in that trust the proxy is refused...
    refused = await run("--proxy", tls_proxy_server.url, "--verify", str(ca_bundle_path), url)
    assert refused.code == ExitCode.PROXY, refused.err
    # ...and SSL_CERT_FILE puts it there.
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_bundle_path))
    result = await run("--proxy", tls_proxy_server.url, "--verify", str(ca_bundle_path), url)
    assert result.code == 0, result.err
    # A pin names the target's certificate, not the proxy's (both are the same CA's here,
    # so pin the target's own certificate and expect it to pass through the TLS proxy).
    pin = tls.fingerprint_sha256(tls_cert).hex()
    pinned = await run("--proxy", tls_proxy_server.url, "--fingerprint", pin, url)
    assert pinned.code == 0, pinned.err


async def test_unreachable_proxy_is_the_proxy_exit_code(
    raw_server: RawServerFactory, dead_port: int
) -> None:
    target = await raw_server(OK)
    result = await run("--proxy", f"http://u:secret@127.0.0.1:{dead_port}", f"{target.url}/")
    assert result.code == ExitCode.PROXY
    assert result.err.count("\n") == 1
    assert "secret" not in result.err
    assert target.received == []


@pytest.mark.parametrize(
    ("status", "hint"),
    [("403 Forbidden", ""), ("407 Proxy Authentication Required", " (--proxy-auth USER:PASS")],
)
async def test_a_refused_connect_is_one_line_in_words(
    raw_server: RawServerFactory, status: str, hint: str
) -> None:
    proxy = await raw_server([f"HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n".encode()])
    result = await run("--proxy", proxy.url, "https://target.zurl.test/x")
    assert result.code == ExitCode.PROXY
    assert result.err.startswith(
        f"zurl: proxy 127.0.0.1:{proxy.port} refused the tunnel to target.zurl.test:443: "
        f"HTTP {status}{hint}"
    ), result.err
    assert result.err.count("\n") == 1
    assert "message=" not in result.err


# --- an https:// proxy's own TLS ----------------------------------------------------------------

PROXIED = "http://target.zurl.test:8080/p"


async def tls_proxy(raw_server: RawServerFactory, context: ssl.SSLContext) -> RawServer:
    """A scripted https:// 'proxy' that answers the absolute-form request itself."""
    return await raw_server(OK, ssl=context)


@pytest.mark.parametrize(
    "target_flags",
    [
        ("--fingerprint", "AB" * 32),
        ("--pin-pubkey", "sha256//" + base64.b64encode(b"\1" * 32).decode()),
        ("-k",),
        ("--verify", "no"),
    ],
)
@pytest.mark.parametrize("target", [PROXIED, "https://target.zurl.test/p"])
async def test_the_targets_tls_flags_never_trust_an_untrusted_proxy(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    target_flags: tuple[str, ...],
    target: str,
) -> None:
    """The proxy's certificate is from the test CA, which the default trust lacks: pins and
    -k are the target's, so the proxy is refused before it sees a byte (curl's rule)."""
    proxy = await tls_proxy(raw_server, server_ssl_context)
    auth = ("--proxy-auth", "pu:s3cret")
    result = await run("--proxy", proxy.url, *auth, *target_flags, "--report", "-", target)
    assert result.code == ExitCode.PROXY, result.err
    assert f"proxy 127.0.0.1:{proxy.port}" in result.err  # names the proxy, not the target
    assert "certificate verification failed" in result.err
    assert "s3cret" not in result.err
    await asyncio.sleep(0.05)
    assert b"".join(proxy.received) == b""  # no Proxy-Authorization, no request


@pytest.mark.parametrize("how", ["--proxy-insecure", "--proxy-cacert"])
async def test_the_proxy_flags_trust_it(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    ca_bundle_path: Path,
    how: str,
) -> None:
    proxy = await tls_proxy(raw_server, server_ssl_context)
    flags = (how,) if how == "--proxy-insecure" else (how, str(ca_bundle_path))
    result = await run("--proxy", proxy.url, "--proxy-auth", "pu:pp", *flags, PROXIED)
    assert (result.code, result.stdout) == (0, b"ok"), result.err
    method, target, headers = parse_head(proxy.received[0])
    assert (method, target) == ("GET", PROXIED)
    assert header_value(headers, "Proxy-Authorization") == "Basic cHU6cHA="


async def test_a_proxy_gets_a_client_certificate_only_from_proxy_cert(
    raw_server: RawServerFactory,
    server_ssl_context: ssl.SSLContext,
    tls_ca: trustme.CA,
    ca_bundle_path: Path,
    tmp_path: Path,
) -> None:
    server_ssl_context.verify_mode = ssl.CERT_REQUIRED
    tls_ca.configure_trust(server_ssl_context)
    certs: list[object] = []

    async def answer(conn: RawConnection) -> None:
        certs.append(conn.peer_certificate)
        await conn.read_request()
        conn.write(OK[0])

    proxy = await raw_server(answer, ssl=server_ssl_context)
    client_dir = tmp_path / "client"
    client_dir.mkdir()
    cert, key = tls.write_cert_files(tls_ca.issue_cert("client.zurl.test"), client_dir)
    trust = ("--proxy", proxy.url, "--proxy-cacert", str(ca_bundle_path))
    # --cert is the target's: the proxy asks for a certificate and gets none.
    target_only = await run(*trust, "--cert", str(cert), "--cert-key", str(key), PROXIED)
    assert target_only.code != 0
    assert certs == [] and b"".join(proxy.received) == b""
    shown = await run(*trust, "--proxy-cert", str(cert), "--proxy-key", str(key), PROXIED)
    assert (shown.code, shown.stdout) == (0, b"ok"), shown.err
    assert len(certs) == 1 and certs[0] is not None


@pytest.mark.parametrize(
    "args",
    [
        ("--proxy-key", "k.pem"),
        ("--proxy-insecure", "--proxy-cacert", "ca.pem"),
        ("--proxy-cacert", "/nonexistent/ca.pem"),
        ("--proxy-cert", "/nonexistent/cert.pem"),
    ],
)
def test_bad_proxy_tls_flags_are_usage_errors(args: tuple[str, ...]) -> None:
    result = zurl("--proxy", "https://127.0.0.1:1", *args, "http://example.org/")
    assert result.code == ExitCode.USAGE, result.err
    assert result.err.startswith("zurl: error: ") and result.err.count("\n") == 1


def test_proxy_tls_flags_need_a_proxy() -> None:
    result = zurl("--offline", "--proxy-insecure", "http://example.org/")
    assert result.code == ExitCode.USAGE, result.err


# --- what the proxy is sent -------------------------------------------------------------------


async def test_proxy_headers_and_credentials_go_to_the_proxy(
    raw_server: RawServerFactory,
) -> None:
    """A scripted 'proxy' that answers itself shows the absolute-form request it got."""
    fake_proxy = await raw_server(OK)
    result = await run(
        "--proxy", fake_proxy.url, "--proxy-auth", "pu:pp", "--proxy-header", "X-Proxy-Tag: 7",
        "http://target.zurl.test:8080/p", "X-Target:1",
    )  # fmt: skip
    assert (result.code, result.stdout) == (0, b"ok"), result.err
    method, target, headers = parse_head(fake_proxy.received[0])
    assert (method, target) == ("GET", "http://target.zurl.test:8080/p")
    assert header_value(headers, "X-Proxy-Tag") == "7"
    assert header_value(headers, "Proxy-Authorization") == "Basic cHU6cHA="
    assert header_value(headers, "X-Target") == "1"


# --- the environment ------------------------------------------------------------------------


async def test_env_proxy_is_honoured_and_no_env_ignores_it(
    raw_server: RawServerFactory, dead_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = await raw_server(OK)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{dead_port}")
    through_env = await run(f"{target.url}/")
    assert through_env.code == ExitCode.PROXY
    direct = await run("--no-env", f"{target.url}/")
    assert (direct.code, direct.stdout) == (0, b"ok"), direct.err


async def test_env_proxy_carries_the_request(
    proxy_server: ProxyServer, raw_server: RawServerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = await raw_server(OK)
    monkeypatch.setenv("http_proxy", proxy_server.url)
    result = await run("-v", f"{target.url}/from-env")
    assert result.code == 0, result.err
    assert await logged(proxy_server, "/from-env")
    # The variable as it is spelled in the environment.
    assert f"zurl: proxy: {proxy_server.url} (from http_proxy)" in result.err


async def test_env_proxy_credentials_from_netrc(
    auth_proxy_server: ProxyServer,
    gunicorn_httpbin_factory: object,
    ca_bundle_path: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = tls_server(gunicorn_httpbin_factory)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTPS_PROXY", auth_proxy_server.url)
    result = await run("-v", "--verify", str(ca_bundle_path), f"{server.url}/get")
    assert result.code == 0, result.err
    port = auth_proxy_server.port
    assert f"zurl: proxy: http://user:****@127.0.0.1:{port} (from HTTPS_PROXY)" in result.err


async def test_no_proxy_bypasses_a_listed_host(
    raw_server: RawServerFactory, dead_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = await raw_server(OK)
    dead = f"http://127.0.0.1:{dead_port}"
    monkeypatch.setenv("HTTP_PROXY", dead)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    env_bypass = await run("-v", f"{target.url}/")
    assert env_bypass.code == 0, env_bypass.err
    assert "zurl: proxy: not used: NO_PROXY lists 127.0.0.1" in env_bypass.err
    # The entry that matched, as written; '*' says so rather than naming the host.
    monkeypatch.setenv("NO_PROXY", ".example.org, 127.0.0.0/8")
    cidr = await run("-v", f"{target.url}/")
    assert "zurl: proxy: not used: NO_PROXY lists 127.0.0.0/8" in cidr.err
    monkeypatch.setenv("NO_PROXY", "*")
    everything = await run("-v", f"{target.url}/")
    assert "zurl: proxy: not used: NO_PROXY is '*'" in everything.err
    # --no-proxy replaces NO_PROXY, and applies to --proxy too (curl's --noproxy).
    monkeypatch.delenv("NO_PROXY")
    flag = await run("--proxy", dead, "--no-proxy", "127.0.0.1", f"{target.url}/")
    assert (flag.code, flag.stdout) == (0, b"ok"), flag.err
    other = await run("--proxy", dead, "--no-proxy", "example.org", f"{target.url}/")
    assert other.code == ExitCode.PROXY


async def test_verbose_and_report_mask_credentials(
    proxy_server: ProxyServer, raw_server: RawServerFactory, tmp_path: Path
) -> None:
    target = await raw_server(OK)
    report = tmp_path / "r.json"
    proxy = f"http://alice:s3cret@127.0.0.1:{proxy_server.port}"
    result = await run("-v", "--report", str(report), "--proxy", proxy, f"{target.url}/")
    assert result.code == 0, result.err
    assert f"zurl: proxy: http://alice:****@127.0.0.1:{proxy_server.port} (from --proxy)" in (
        result.err
    )
    assert "s3cret" not in result.err
    text = report.read_text()
    assert "s3cret" not in text
    shown = await run("-v", "--show-secrets", "--proxy", proxy, f"{target.url}/")
    assert f"zurl: proxy: {proxy} (from --proxy)" in shown.err
    record = json.loads(text)
    assert record["proxy"] == {
        "used": True,
        "url": f"http://alice:****@127.0.0.1:{proxy_server.port}",
        "source": "--proxy",
        "bypass_reason": None,
    }


async def test_failure_report_names_the_proxy(
    raw_server: RawServerFactory, dead_port: int
) -> None:
    target = await raw_server(OK)
    result = await run("--report", "-", "--proxy", f"127.0.0.1:{dead_port}", f"{target.url}/")
    assert result.code == ExitCode.PROXY
    record = json.loads(result.stdout)
    assert record["exit_code"] == ExitCode.PROXY
    assert record["proxy"]["url"] == f"http://127.0.0.1:{dead_port}"


@pytest.mark.parametrize(
    "args",
    [
        ("--proxy", "socks5://127.0.0.1:1080"),
        ("--proxy", "http://"),
        ("--proxy", "http://h:99999"),
        ("--proxy", "http://h:1", "--proxy-auth", "nocolon"),
        ("--proxy", "http://h:1", "--proxy-header", "no colon here"),
        ("--proxy-auth", "u:p"),
        ("--proxy", "http://u:pw-secret@[::1"),
        ("--proxy", "u:pw-secret@[::1"),
    ],
)
def test_bad_proxy_flags_are_usage_errors(args: tuple[str, ...]) -> None:
    result = zurl("--offline", *args, "http://example.org/")
    assert result.code == ExitCode.USAGE, result.err
    assert result.err.startswith("zurl: error: ")
    assert result.err.count("\n") == 1
    assert "pw-secret" not in result.err
