"""The environment policy: proxy variables, NO_PROXY, netrc and CA variables (no network)."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from yarl import URL

from client.config import BasicAuth
from client.environ import (
    ProxyInfo,
    ca_from_env,
    get_env_proxy_for_url,
    netrc_auth,
    proxies_from_env,
    should_bypass_proxy,
)

pytestmark = pytest.mark.timeout(20)

WriteNetrc = Callable[[str], Path]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No proxy, netrc or CA setting leaks in from the machine running the tests."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    for name in ("REQUEST_METHOD", "NETRC", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


@pytest.fixture
def write_netrc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> WriteNetrc:
    def write(text: str) -> Path:
        path = tmp_path / "netrc"
        path.write_text(text)
        monkeypatch.setenv("NETRC", str(path))
        return path

    return write


# --- proxies_from_env ----------------------------------------------------------------------


def test_no_variables_no_proxies() -> None:
    assert proxies_from_env() == {}


def test_each_scheme_has_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://h.proxy:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://s.proxy:3129")
    monkeypatch.setenv("WS_PROXY", "http://w.proxy:3130")
    monkeypatch.setenv("WSS_PROXY", "https://ws.proxy:3131")
    monkeypatch.setenv("FTP_PROXY", "http://f.proxy:21")
    assert proxies_from_env() == {
        "http": ProxyInfo(URL("http://h.proxy:3128"), None),
        "https": ProxyInfo(URL("http://s.proxy:3129"), None),
        "ws": ProxyInfo(URL("http://w.proxy:3130"), None),
        "wss": ProxyInfo(URL("https://ws.proxy:3131"), None),
    }


def test_lower_case_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://upper:1")
    monkeypatch.setenv("http_proxy", "http://lower:2")
    assert proxies_from_env()["http"].proxy == URL("http://lower:2")


def test_upper_case_alone_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://upper:1")
    assert proxies_from_env()["https"].proxy == URL("http://upper:1")


def test_empty_lower_case_cancels_upper_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://upper:1")
    monkeypatch.setenv("http_proxy", "")
    assert "http" not in proxies_from_env()


def test_cgi_ignores_upper_case_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # httpoxy (CVE-2016-1000110): a CGI client sets HTTP_PROXY through a "Proxy:" header.
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("HTTP_PROXY", "http://attacker:1")
    monkeypatch.setenv("HTTPS_PROXY", "http://corp:2")
    proxies = proxies_from_env()
    assert "http" not in proxies
    assert proxies["https"].proxy == URL("http://corp:2")


def test_cgi_still_honours_lower_case_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("http_proxy", "http://admin-set:1")
    assert proxies_from_env()["http"].proxy == URL("http://admin-set:1")


@pytest.mark.parametrize(
    "env",
    [
        {"HTTP_PROXY": "http://a:1", "http_proxy": "http://b:2"},
        {"HTTP_PROXY": "http://a:1", "http_proxy": ""},
        {"HTTPS_PROXY": "http://a:1", "WS_PROXY": "http://w:1", "wss_proxy": "http://x:2"},
        {"REQUEST_METHOD": "POST", "HTTP_PROXY": "http://a:1", "https_proxy": "http://s:3"},
        {"REQUEST_METHOD": "POST", "http_proxy": "http://a:1"},
    ],
)
def test_same_choice_as_urllib(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    expected = {
        scheme: URL(value)
        for scheme, value in urllib.request.getproxies_environment().items()
        if scheme in ("http", "https", "ws", "wss")
    }
    assert {scheme: info.proxy for scheme, info in proxies_from_env().items()} == expected


def test_credentials_in_the_url_become_proxy_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://alice:s%40cret@proxy.corp:8080")
    info = proxies_from_env()["https"]
    assert info.proxy == URL("http://proxy.corp:8080")
    assert info.proxy.user is None
    assert info.proxy_auth == BasicAuth("alice", "s@cret")


def test_netrc_gives_credentials_for_the_proxy_host(
    monkeypatch: pytest.MonkeyPatch, write_netrc: WriteNetrc
) -> None:
    write_netrc("machine proxy.corp login bob password hunter2\n")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    assert proxies_from_env()["http"].proxy_auth == BasicAuth("bob", "hunter2")


def test_credentials_in_the_url_win_over_netrc(
    monkeypatch: pytest.MonkeyPatch, write_netrc: WriteNetrc
) -> None:
    write_netrc("machine proxy.corp login bob password hunter2\n")
    monkeypatch.setenv("HTTP_PROXY", "http://carol:pw@proxy.corp:3128")
    assert proxies_from_env()["http"].proxy_auth == BasicAuth("carol", "pw")


def test_a_value_without_scheme_is_an_http_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "proxy.corp:3128")
    assert proxies_from_env()["http"].proxy == URL("http://proxy.corp:3128")


@pytest.mark.parametrize(
    "value", ["socks5://proxy:1080", "ftp://proxy:21", "http://", "http://[bad", "http://u%3Ax:p@"]
)
def test_unusable_proxies_are_ignored_quietly(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HTTP_PROXY", value)
    monkeypatch.setenv("HTTPS_PROXY", "http://ok:1")
    assert list(proxies_from_env()) == ["https"]


def test_a_login_with_a_colon_drops_only_the_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://a%3Ab:pw@proxy:1")
    assert proxies_from_env()["http"] == ProxyInfo(URL("http://proxy:1"), None)


# --- get_env_proxy_for_url -------------------------------------------------------------------


def test_proxy_for_url_by_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://h:1")
    monkeypatch.setenv("HTTPS_PROXY", "http://s:2")
    monkeypatch.setenv("WSS_PROXY", "http://w:3")
    assert get_env_proxy_for_url(URL("http://example.com/")).proxy == URL("http://h:1")
    assert get_env_proxy_for_url(URL("https://example.com/")).proxy == URL("http://s:2")
    assert get_env_proxy_for_url(URL("wss://example.com/")).proxy == URL("http://w:3")
    with pytest.raises(LookupError, match="No proxy"):
        get_env_proxy_for_url(URL("ws://example.com/"))


def test_proxy_for_url_respects_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://h:1")
    monkeypatch.setenv("NO_PROXY", "internal.corp,localhost")
    with pytest.raises(LookupError, match="NO_PROXY"):
        get_env_proxy_for_url(URL("http://api.internal.corp/"))
    assert get_env_proxy_for_url(URL("http://example.com/")).proxy == URL("http://h:1")


def test_no_proxy_variables_means_lookup_error() -> None:
    with pytest.raises(LookupError):
        get_env_proxy_for_url(URL("http://example.com/"))


# --- should_bypass_proxy ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypass"),
    [
        ("*", "http://anything.example/", True),
        ("a.example, *", "http://other.example/", True),
        ("example.com", "http://example.com/", True),
        ("example.com", "http://www.example.com/", True),
        (".example.com", "http://example.com/", True),
        (".example.com", "http://a.b.example.com/", True),
        ("*.example.com", "http://www.example.com/", True),
        ("example.com", "http://badexample.com/", False),
        ("example.com", "http://example.com.evil/", False),
        ("EXAMPLE.com", "http://WWW.Example.COM/", True),
        ("example.com", "http://www.example.com./", True),
        ("a.example b.example", "http://b.example/", True),
        ("a.example,,  ,b.example", "http://b.example/", True),
        ("a.example", "http://c.example/", False),
        ("10.1.2.3", "http://10.1.2.3/", True),
        ("10.1.2.3", "http://10.1.2.4/", False),
        ("10.0.0.0/8", "http://10.200.3.4:8080/", True),
        ("10.0.0.0/8", "http://11.0.0.1/", False),
        ("10.0.0.0/8", "http://ten.example/", False),
        ("192.168.1.7/24", "http://192.168.1.200/", True),
        ("::1", "http://[::1]:8080/", True),
        ("[::1]", "http://[::1]/", True),
        ("::1/128", "http://[::1]/", True),
        ("fd00::/8", "http://[fd12::5]/", True),
        ("fd00::/8", "http://10.0.0.1/", False),
        ("[::1]:8080", "http://[::1]:8080/", True),
        ("[::1]:8080", "http://[::1]:9090/", False),
        ("example.com:8080", "http://www.example.com:8080/", True),
        ("example.com:8080", "http://example.com/", False),
        ("example.com:443", "https://example.com/", True),
        ("10.1.2.3:80", "http://10.1.2.3/", True),
        ("not/a/cidr, [broken, host:port", "http://host/", False),
        ("", "http://example.com/", False),
    ],
)
def test_no_proxy_rules(no_proxy: str, url: str, bypass: bool) -> None:
    assert should_bypass_proxy(URL(url), no_proxy) is bypass


def test_no_proxy_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "upper.example")
    assert should_bypass_proxy(URL("http://upper.example/"))
    monkeypatch.setenv("no_proxy", "lower.example")
    assert should_bypass_proxy(URL("http://lower.example/"))
    assert not should_bypass_proxy(URL("http://upper.example/"))


def test_explicit_no_proxy_overrides_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_PROXY", "*")
    assert not should_bypass_proxy(URL("http://example.com/"), "")


def test_no_proxy_unset_bypasses_nothing() -> None:
    assert not should_bypass_proxy(URL("http://localhost/"))


# --- netrc_auth --------------------------------------------------------------------------------


def test_netrc_machine_entry(write_netrc: WriteNetrc) -> None:
    write_netrc("machine api.example login alice password s3cret\nmachine other login x\n")
    assert netrc_auth("api.example") == BasicAuth("alice", "s3cret")
    assert netrc_auth("API.Example") == BasicAuth("alice", "s3cret")
    assert netrc_auth("nowhere.example") is None


def test_netrc_default_entry(write_netrc: WriteNetrc) -> None:
    write_netrc("machine api.example login alice password a\ndefault login anon password b\n")
    assert netrc_auth("nowhere.example") == BasicAuth("anon", "b")


def test_netrc_in_the_home_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    home = Path(os.environ["HOME"])
    (home / ".netrc").write_text("machine h.example login me password pw\n")
    assert netrc_auth("h.example") == BasicAuth("me", "pw")


def test_netrc_variable_beats_the_home_file(write_netrc: WriteNetrc) -> None:
    (Path(os.environ["HOME"]) / ".netrc").write_text("machine h.example login home password 1\n")
    write_netrc("machine h.example login env password 2\n")
    assert netrc_auth("h.example") == BasicAuth("env", "2")


def test_missing_netrc_is_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert netrc_auth("h.example") is None
    monkeypatch.setenv("NETRC", str(tmp_path / "absent"))
    assert netrc_auth("h.example") is None


def test_unreadable_netrc_is_none(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path))  # a directory cannot be read as a file
    assert netrc_auth("h.example") is None


@pytest.mark.parametrize(
    "content",
    [
        b"login alice password pw\n",  # no machine: a bad top-level token
        b"machine h.example login \xff\xfe password pw\n",  # not UTF-8
        b"machine h.example login a:b password pw\n",  # cannot be Basic credentials
        b"macdef\n",
    ],
)
def test_malformed_netrc_is_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "netrc"
    path.write_bytes(content)
    monkeypatch.setenv("NETRC", str(path))
    assert netrc_auth("h.example") is None


# --- ca_from_env -------------------------------------------------------------------------------


def test_ca_variables_unset() -> None:
    assert ca_from_env() == (None, None)


def test_ca_variables_naming_existing_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("")
    certs = tmp_path / "certs"
    certs.mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    monkeypatch.setenv("SSL_CERT_DIR", str(certs))
    assert ca_from_env() == (str(bundle), str(certs))


def test_ca_variables_naming_missing_paths(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "missing"))
    assert ca_from_env() == (None, None)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path))  # a directory is not a bundle
    assert ca_from_env() == (None, None)


def test_ca_dir_list_keeps_existing_directories(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    value = os.pathsep.join([str(first), str(tmp_path / "gone"), str(second)])
    monkeypatch.setenv("SSL_CERT_DIR", value)
    assert ca_from_env() == (None, os.pathsep.join([str(first), str(second)]))
