"""CookieJar: RFC 6265 rules, aiohttp's API, and curl-compatible cookies.txt files."""

from __future__ import annotations

import http.server
import json
import os
import pickle
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from http.cookies import Morsel, SimpleCookie
from pathlib import Path
from types import MappingProxyType
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from client import ClientSession
from client.cookiejar import (
    CookieJar,
    DummyCookieJar,
    domain_match,
    is_public_suffix,
    parse_cookie_date,
    parse_set_cookie_headers,
    path_match,
)
from client.cookierules import BUILT_IN_SUFFIXES, builtin_public_suffix
from client.exceptions import ClientError, CookieFileError
from tests.servers import require_binary
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)

SITE = URL("http://www.example.com/")


def names(jar: CookieJar, url: str) -> list[str]:
    """Names of the cookies the jar would send to ``url``, in sending order."""
    return list(jar.filter_cookies(URL(url)))


def set_cookies(jar: CookieJar, url: URL | str, *headers: str) -> None:
    jar.update_cookies_from_headers(list(headers), URL(url))


# --- matching --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "domain", "expected"),
    [
        ("example.com", "example.com", True),
        ("www.example.com", "example.com", True),
        ("a.b.example.com", "example.com", True),
        ("badexample.com", "example.com", False),
        ("example.com", "www.example.com", False),
        ("example.org", "example.com", False),
        ("127.0.0.1", "127.0.0.1", True),
        ("127.0.0.1", "0.0.1", False),
        ("10.0.0.1", "0.0.1", False),
    ],
)
def test_domain_match_table(host: str, domain: str, expected: bool) -> None:
    assert domain_match(host, domain) is expected


@pytest.mark.parametrize(
    ("request_path", "cookie_path", "expected"),
    [
        ("/", "/", True),
        ("/a", "/", True),
        ("/a", "/a", True),
        ("/a/b", "/a", True),
        ("/a/", "/a", True),
        ("/ab", "/a", False),
        ("/a/b", "/a/", True),
        ("/a", "/a/", False),
        ("/", "/a", False),
        ("/A", "/a", False),
    ],
)
def test_path_match_table(request_path: str, cookie_path: str, expected: bool) -> None:
    assert path_match(request_path, cookie_path) is expected


@pytest.mark.parametrize(
    ("response_path", "default_path"),
    [("/", "/"), ("/page", "/"), ("/a/b", "/a"), ("/a/b/", "/a/b"), ("/a/b/c", "/a/b")],
)
def test_default_path_is_the_response_directory(response_path: str, default_path: str) -> None:
    jar = CookieJar()
    set_cookies(jar, SITE.with_path(response_path), "k=v", "rel=v; Path=relative")
    assert {m["path"] for m in jar} == {default_path}


def test_host_only_cookie_goes_to_that_host_only() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "k=v")
    assert names(jar, "http://www.example.com/x") == ["k"]
    assert names(jar, "http://sub.www.example.com/") == []
    assert names(jar, "http://example.com/") == []


def test_domain_cookie_goes_to_the_domain_and_its_subdomains() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "k=v; Domain=.Example.COM")
    for url in ("http://example.com/", "http://www.example.com/", "http://a.b.example.com/"):
        assert names(jar, url) == ["k"], url
    assert names(jar, "http://notexample.com/") == []
    assert next(iter(jar))["domain"] == "example.com"


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("http://www.example.com/", "com"),
        ("http://www.example.co.uk/", "co.uk"),
        ("http://someone.github.io/", "github.io"),
    ],
)
def test_public_suffix_domain_is_rejected(url: str, domain: str) -> None:
    jar = CookieJar()
    set_cookies(jar, url, f"k=v; Domain={domain}")
    assert len(jar) == 0
    assert is_public_suffix(domain)
    assert not is_public_suffix(URL(url).raw_host or "")


def test_public_suffix_domain_equal_to_the_host_becomes_host_only() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://localhost/", "k=v; Domain=localhost")
    assert names(jar, "http://localhost/") == ["k"]


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("http://example.com/", "other.com"),
        ("http://example.com/", "www.example.com"),
        ("http://example.com/", "ample.com"),
        ("http://www.example.com/", "ww.example.com"),
    ],
)
def test_domain_that_does_not_match_the_host_is_rejected(url: str, domain: str) -> None:
    jar = CookieJar()
    set_cookies(jar, url, f"k=v; Domain={domain}")
    assert len(jar) == 0


# --- lifetime --------------------------------------------------------------------------


@pytest.mark.parametrize("deleting", ["k=; Max-Age=0", "k=x; Max-Age=-1"])
def test_max_age_zero_or_negative_deletes(deleting: str) -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "k=v", "other=1")
    set_cookies(jar, SITE, deleting)
    assert names(jar, str(SITE)) == ["other"]


def test_expires_in_the_past_deletes() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "k=v; Expires=Wed, 21 Oct 2099 07:28:00 GMT")
    assert len(jar) == 1
    set_cookies(jar, SITE, "k=v; Expires=Thu, 01 Jan 1970 00:00:01 GMT")
    assert len(jar) == 0


def test_max_age_beats_expires() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "kept=v; Max-Age=3600; Expires=Thu, 01 Jan 1970 00:00:01 GMT")
    set_cookies(jar, SITE, "gone=v; Expires=Wed, 21 Oct 2099 07:28:00 GMT; Max-Age=0")
    assert names(jar, str(SITE)) == ["kept"]


def test_invalid_max_age_is_ignored_and_expires_applies() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "k=v; Max-Age=soon; Expires=Thu, 01 Jan 1970 00:00:01 GMT")
    assert len(jar) == 0


def test_expiry_is_checked_when_cookies_are_read() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "brief=v; Max-Age=1", "session=v")
    assert names(jar, str(SITE)) == ["brief", "session"]
    time.sleep(1.1)
    assert names(jar, str(SITE)) == ["session"]
    assert len(jar) == 1


@pytest.mark.parametrize(
    "text",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # RFC 1123
        "Sunday, 06-Nov-94 08:49:37 GMT",  # RFC 850
        "Sun Nov  6 08:49:37 1994",  # asctime
        "6 nov 1994 8:49:37",
    ],
)
def test_cookie_dates_in_the_common_formats(text: str) -> None:
    assert parse_cookie_date(text) == 784111777.0


@pytest.mark.parametrize(
    "text", ["", "tomorrow", "Feb 30 2020 00:00:00", "Jan 1 1600 00:00:00", "1 Jan 2020 25:00:00"]
)
def test_invalid_cookie_dates(text: str) -> None:
    assert parse_cookie_date(text) is None


# --- attributes ------------------------------------------------------------------------


def test_secure_cookie_is_not_sent_over_plain_http() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "sec=1; Secure", "plain=2")
    assert names(jar, "http://www.example.com/") == ["plain"]
    assert sorted(names(jar, "https://www.example.com/")) == ["plain", "sec"]
    assert sorted(names(jar, "wss://www.example.com/")) == ["plain", "sec"]


def test_secure_cookie_goes_to_origins_treated_as_secure_only() -> None:
    # As in aiohttp, http://localhost is not secure unless the jar is told so.
    jar = CookieJar(treat_as_secure_origin=["http://localhost:8080/any/path"])
    set_cookies(jar, "http://localhost:8080/", "sec=1; Secure")
    assert names(jar, "http://localhost:8080/") == ["sec"]
    assert names(jar, "http://localhost:8081/") == []
    assert names(jar, "http://localhost/") == []
    assert names(CookieJar(treat_as_secure_origin=URL("http://localhost:8080")), "/") == []


def test_httponly_and_samesite_are_kept() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "k=v; HttpOnly; SameSite=Lax")
    (morsel,) = jar
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert names(jar, str(SITE)) == ["k"]


def test_malformed_set_cookie_values_are_dropped() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "no-equals-sign", "=nameless", "bad=a\x00b", "sp ace=v", "ok=1")
    assert names(jar, str(SITE)) == ["ok"]


def test_parse_set_cookie_headers_gives_morsels_with_attributes() -> None:
    parsed = parse_set_cookie_headers(
        ["sid=abc; Path=/app; DOMAIN=.Example.com; secure; Max-Age=60; Unknown=1", "broken"]
    )
    assert [name for name, _ in parsed] == ["sid"]
    morsel = parsed[0][1]
    assert (morsel.key, morsel.value) == ("sid", "abc")
    assert morsel["path"] == "/app" and morsel["domain"] == ".Example.com"
    assert morsel["secure"] is True and morsel["max-age"] == "60"


def test_names_morsel_refuses_are_kept() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "path=1", "a[b]=2")
    assert jar.filter_cookies(SITE).output(header="", sep=";").strip() == "a[b]=2; path=1"


def test_cookies_from_ip_hosts_need_unsafe() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://127.0.0.1/", "k=v")
    assert len(jar) == 0
    unsafe = CookieJar(unsafe=True)
    set_cookies(unsafe, "http://127.0.0.1/", "k=v")
    set_cookies(unsafe, "http://[::1]:8080/", "six=v")
    assert names(unsafe, "http://127.0.0.1:9000/") == ["k"]
    assert names(unsafe, "http://[::1]/") == ["six"]
    assert names(unsafe, "http://127.0.0.2/") == []


def test_shared_cookies_go_to_every_host() -> None:
    jar = CookieJar()
    jar.update_cookies({"shared": "yes"})
    assert names(jar, "http://127.0.0.1/") == ["shared"]
    assert names(jar, "https://anything.example/") == ["shared"]


def test_longer_paths_are_sent_first_then_older_cookies() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "root=1; Path=/", "mid=2; Path=/a", "deep=3; Path=/a/b", "old=4")
    set_cookies(jar, SITE, "root=changed; Path=/")  # replacing keeps its creation time
    assert names(jar, "http://www.example.com/a/b/c") == ["deep", "mid", "root", "old"]


def test_same_name_on_two_paths_sends_the_most_specific() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "k=root; Path=/", "k=deep; Path=/a")
    assert len(jar) == 2
    assert jar.filter_cookies(URL("http://www.example.com/a/x"))["k"].value == "deep"
    assert jar.filter_cookies(URL("http://www.example.com/b"))["k"].value == "root"


# --- aiohttp's surface -----------------------------------------------------------------


def test_update_cookies_accepts_dicts_pairs_morsels_and_simple_cookies() -> None:
    jar = CookieJar()
    morsel: Morsel[str] = Morsel()
    morsel.set("m", "3", "3")
    morsel["path"] = "/only"
    loaded = SimpleCookie()
    loaded.load("s=4; Domain=example.com")
    jar.update_cookies({"d": "1"}, SITE)
    jar.update_cookies([("p", 2), ("m", morsel)], SITE)
    jar.update_cookies(loaded, SITE)
    assert sorted(names(jar, "http://www.example.com/only")) == ["d", "m", "p", "s"]
    assert morsel["domain"] == ""  # the caller's Morsel is left as it was


def test_quote_cookie_controls_quoting_of_sent_values() -> None:
    quoted, unquoted = CookieJar(), CookieJar(quote_cookie=False)
    for jar in (quoted, unquoted):
        jar.update_cookies({"k": "a b,c"}, SITE)
    assert quoted.quote_cookie and not unquoted.quote_cookie
    assert quoted.filter_cookies(SITE)["k"].coded_value == '"a b\\054c"'
    assert unquoted.filter_cookies(SITE)["k"].coded_value == "a b,c"
    assert quoted.filter_cookies(SITE)["k"].value == "a b,c"


def test_received_values_are_sent_back_as_received() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, 'k="quoted value"', "raw=a b")
    cookies = jar.filter_cookies(SITE)
    assert (cookies["k"].value, cookies["k"].coded_value) == ("quoted value", '"quoted value"')
    assert cookies["raw"].coded_value == "a b"


def test_clear_everything_or_what_a_predicate_picks() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "a=1", "b=2", "c=3")
    jar.clear(lambda m: m.key == "b")
    assert sorted(m.key for m in jar) == ["a", "c"]
    jar.clear()
    assert len(jar) == 0


def test_clear_domain_removes_the_domain_and_its_subdomains() -> None:
    jar = CookieJar()
    set_cookies(jar, "http://example.com/", "apex=1")
    set_cookies(jar, "http://www.example.com/", "www=2")
    set_cookies(jar, "http://example.org/", "other=3")
    set_cookies(jar, "http://notexample.com/", "lookalike=4")
    jar.clear_domain("Example.com")
    assert sorted(m.key for m in jar) == ["lookalike", "other"]


def test_dummy_jar_stores_nothing(tmp_path: Path) -> None:
    jar = DummyCookieJar()
    jar.update_cookies({"a": "1"})
    jar.update_cookies_from_headers(["b=2"], SITE)
    assert len(jar) == 0 and list(jar) == [] and dict(jar.filter_cookies(SITE)) == {}
    jar.clear()
    jar.clear_domain("example.com")
    jar.save(tmp_path / "empty.txt")
    real = CookieJar()
    real.load(tmp_path / "empty.txt")
    assert len(real) == 0
    (tmp_path / "bad.txt").write_text("not a cookie file\n")
    with pytest.raises(CookieFileError):
        DummyCookieJar(loop=None).load(tmp_path / "bad.txt")


# --- cookies.txt -----------------------------------------------------------------------


def sample_jar() -> CookieJar:
    jar = CookieJar()
    set_cookies(
        jar,
        "http://www.zurl.test/",
        "host=1",
        "dom=2; Domain=zurl.test",
        "ho=3; HttpOnly",
        "lasting=4; Max-Age=3600",
        "deep=5; Path=/deep",
        "sec=6; Secure",
        'quoted="x y"',
    )
    set_cookies(jar, "http://elsewhere.test/", "foreign=7")
    jar.update_cookies({"shared": "8"})
    return jar


def test_save_writes_curl_format(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    sample_jar().save(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "# Netscape HTTP Cookie File"
    assert "www.zurl.test\tFALSE\t/\tFALSE\t0\thost\t1" in lines
    assert ".zurl.test\tTRUE\t/\tFALSE\t0\tdom\t2" in lines
    assert "#HttpOnly_www.zurl.test\tFALSE\t/\tFALSE\t0\tho\t3" in lines
    assert "www.zurl.test\tFALSE\t/\tTRUE\t0\tsec\t6" in lines
    (lasting,) = [line for line in lines if line.endswith("\tlasting\t4")]
    assert abs(int(lasting.split("\t")[4]) - (time.time() + 3600)) < 5


def test_saved_file_is_private_and_replaced_atomically(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text("old")
    path.chmod(0o644)
    sample_jar().save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path) == ["cookies.txt"]  # no temporary file left behind


def test_save_can_leave_out_session_cookies(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    sample_jar().save(path, keep_session_cookies=False)
    jar = CookieJar()
    jar.load(path)
    assert [m.key for m in jar] == ["lasting"]


def test_load_replaces_the_jar_and_skips_expired_entries(tmp_path: Path) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(
        "# Netscape HTTP Cookie File\n"
        "# a comment\n"
        "\n"
        ".zurl.test\tTRUE\t/\tFALSE\t0\tlive\t1\r\n"
        "zurl.test\tFALSE\t/\tFALSE\t1\texpired\t2\n"
        "#HttpOnly_zurl.test\tFALSE\t/p\tTRUE\t4102444800\tho\t3\n"
        "zurl.test\tFALSE\t/\tFALSE\t0\tempty\t\n"
    )
    jar = CookieJar()
    jar.update_cookies({"before": "x"}, SITE)
    jar.load(path)
    assert sorted(m.key for m in jar) == ["empty", "ho", "live"]
    ho = jar.filter_cookies(URL("https://zurl.test/p"))["ho"]
    assert ho.value == "3"
    assert names(jar, "http://sub.zurl.test/p") == ["live"]
    assert next(m for m in jar if m.key == "ho")["httponly"] is True


@pytest.mark.parametrize(
    ("content", "line_number"),
    [
        ("# Netscape HTTP Cookie File\nzurl.test\tFALSE\t/\tFALSE\t0\tonly-six\n", 2),
        ("zurl.test\tFALSE\t/\tFALSE\t0\ta\t1\nzurl.test\tMAYBE\t/\tFALSE\t0\tb\t2\n", 2),
        ("\n\nzurl.test\tFALSE\t/\tFALSE\tsoon\ta\t1\n", 3),
        ("zurl.test\tFALSE\tnoslash\tFALSE\t0\ta\t1\n", 1),
        ("{not json\n", 1),
    ],
)
def test_corrupt_file_names_the_line_and_changes_nothing(
    tmp_path: Path, content: str, line_number: int
) -> None:
    path = tmp_path / "cookies.txt"
    path.write_text(content)
    jar = sample_jar()
    before = sorted((m.key, m.value, m["domain"]) for m in jar)
    with pytest.raises(CookieFileError) as caught:
        jar.load(path)
    error = caught.value
    assert isinstance(error, ValueError) and isinstance(error, ClientError)
    assert (error.path, error.line_number) == (str(path), line_number)
    assert str(path) in str(error) and f"line {line_number}" in str(error)
    assert sorted((m.key, m.value, m["domain"]) for m in jar) == before
    assert path.read_text() == content


def test_a_pickled_aiohttp_jar_is_a_foreign_file(tmp_path: Path) -> None:
    path = tmp_path / "cookies.pickle"
    path.write_bytes(pickle.dumps({("example.com", "/"): {"k": "v"}}))
    with pytest.raises(CookieFileError):
        CookieJar().load(path)


def test_load_of_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CookieJar().load(tmp_path / "absent.txt")


HOSTS = ["zurl.test", "www.zurl.test", "a.b.zurl.test", "example.org", "localhost"]
header_cookie = st.tuples(
    st.sampled_from(HOSTS),
    st.sampled_from(["/", "/a", "/a/b", "/x/"]),
    st.from_regex(r"[A-Za-z0-9_\-.!#$%&'*+^`|~]{1,8}", fullmatch=True),
    st.from_regex(r"[!#-+\--:<-\[\]-~]{0,12}", fullmatch=True),
    st.sets(st.sampled_from(["Secure", "HttpOnly", "Max-Age=500", "Domain", "SameSite=Lax"])),
)
dict_cookie = st.tuples(
    st.sampled_from([*HOSTS, ""]),
    st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True),
    st.text(max_size=12),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(header_cookie, max_size=8), st.lists(dict_cookie, max_size=4))
def test_any_saved_jar_loads_back_the_same(
    from_headers: list[tuple[str, str, str, str, set[str]]],
    from_dicts: list[tuple[str, str, str]],
) -> None:
    jar = CookieJar()
    for host, path, name, value, attributes in from_headers:
        header = f"{name}={value}; Path={path}" + "".join(
            f"; {a}={host.partition('.')[2] or host}" if a == "Domain" else f"; {a}"
            for a in sorted(attributes)
        )
        set_cookies(jar, f"http://{host}{path}", header)
    for host, name, value in from_dicts:
        jar.update_cookies({name: value}, URL(f"http://{host}/") if host else URL())
    with tempfile.TemporaryDirectory() as folder:
        first, second = Path(folder, "first.txt"), Path(folder, "second.txt")
        jar.save(first)
        loaded = CookieJar()
        loaded.load(first)
        loaded.save(second)
        assert first.read_text() == second.read_text()

    def view(j: CookieJar) -> list[tuple[object, ...]]:
        fields = ("domain", "path", "secure", "httponly")
        return sorted((m.key, m.value, m.coded_value, *(bool(m[f]) for f in fields)) for m in j)

    assert view(loaded) == view(jar)
    for host in [*HOSTS, "sub.www.zurl.test"]:
        for url in (f"http://{host}/a/b/c", f"https://{host}/x/"):
            assert dict(loaded.filter_cookies(URL(url))) == dict(jar.filter_cookies(URL(url)))


# --- interop with the curl binary ------------------------------------------------------


class _CookieHandler(http.server.BaseHTTPRequestHandler):
    received: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        self.send_response(200)
        if self.path == "/set":
            for value in (
                "host=1",
                "dom=2; Domain=zurl.test",
                "ho=3; HttpOnly; Path=/",
                "lasting=4; Max-Age=3600",
                "deep=5; Path=/deep",
            ):
                self.send_header("Set-Cookie", value)
        else:
            self.received.append(self.headers.get("Cookie"))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def cookie_server() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CookieHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def run_curl(port: int, path: str, *options: str) -> None:
    curl = require_binary("curl")
    url = f"http://www.zurl.test:{port}{path}"
    # -q: ignore ~/.curlrc; --resolve: the .test name never reaches a resolver.
    fixed = ["-q", "-sS", "-o", os.devnull, "--max-time", "10", "--noproxy", "*"]
    resolve = ["--resolve", f"www.zurl.test:{port}:127.0.0.1"]
    subprocess.run(
        [curl, *fixed, *resolve, *options, url],
        check=True,
        timeout=20,
    )


def test_load_reads_a_jar_curl_wrote(cookie_server: int, tmp_path: Path) -> None:
    path = tmp_path / "curl-jar.txt"
    run_curl(cookie_server, "/set", "-c", str(path))
    jar = CookieJar()
    jar.load(path)
    assert sorted(names(jar, "http://www.zurl.test/deep/x")) == [
        "deep",
        "dom",
        "ho",
        "host",
        "lasting",
    ]
    assert names(jar, "http://other.zurl.test/") == ["dom"]
    by_name = {m.key: m for m in jar}
    assert by_name["ho"]["httponly"] is True
    assert by_name["lasting"]["expires"] and not by_name["host"]["expires"]


def test_curl_sends_the_cookies_of_a_jar_zurl_saved(cookie_server: int, tmp_path: Path) -> None:
    path = tmp_path / "zurl-jar.txt"
    sample_jar().save(path)
    _CookieHandler.received.clear()
    run_curl(cookie_server, "/deep/page", "-b", str(path))
    (header,) = _CookieHandler.received
    assert header is not None
    sent = dict(pair.split("=", 1) for pair in header.split("; "))
    # Secure stays off plain http; another site's and the shared (#Shared_) cookies too.
    assert sent == {
        "deep": "5",
        "host": "1",
        "dom": "2",
        "ho": "3",
        "lasting": "4",
        "quoted": '"x y"',
    }


# --- aiohttp 3.14's jar surface --------------------------------------------------------


def test_cookies_is_a_live_read_only_view_by_domain_and_path() -> None:
    jar = CookieJar()
    view = jar.cookies
    set_cookies(jar, SITE, "host=1", "dom=2; Domain=example.com; Path=/a/")
    assert isinstance(view, MappingProxyType)
    assert {key: list(cookies) for key, cookies in view.items()} == {
        ("www.example.com", ""): ["host"],
        ("example.com", "/a"): ["dom"],  # the path without its trailing slash, as aiohttp
    }
    assert view[("example.com", "/a")]["dom"]["path"] == "/a/"
    with pytest.raises(TypeError):
        view[("other", "")] = SimpleCookie()  # type: ignore[index]
    jar.clear_domain("www.example.com")
    assert list(view) == [("example.com", "/a")]
    jar.clear()
    assert dict(view) == {}


def test_load_keeps_the_cookies_view_live(tmp_path: Path) -> None:
    saved = CookieJar()
    saved.update_cookies({"saved": "1"}, SITE)
    saved.save(tmp_path / "jar.txt")
    jar = CookieJar()
    jar.update_cookies({"old": "1"}, SITE)
    view = jar.cookies
    jar.load(tmp_path / "jar.txt")
    assert [name for cookies in view.values() for name in cookies] == ["saved"]


def test_host_only_cookies_and_a_domain_cookie_replacing_one() -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "sid=host; Path=/")
    assert jar.host_only_cookies == frozenset({("www.example.com", "", "sid")})
    assert names(jar, "http://sub.www.example.com/") == []
    set_cookies(jar, SITE, "sid=wide; Domain=www.example.com; Path=/")
    assert len(jar) == 1 and jar.host_only_cookies == frozenset()
    assert jar.filter_cookies(URL("http://sub.www.example.com/"))["sid"].value == "wide"


def test_settings_are_readable() -> None:
    jar = CookieJar(unsafe=True, quote_cookie=False, treat_as_secure_origin="http://h:81/x")
    assert (jar.unsafe, jar.quote_cookie) == (True, False)
    assert jar.treat_as_secure_origin == frozenset({URL("http://h:81")})
    assert CookieJar(
        treat_as_secure_origin=[URL("http://a"), "http://b/"]
    ).treat_as_secure_origin == {
        URL("http://a"),
        URL("http://b"),
    }
    assert CookieJar().unsafe is False and CookieJar().treat_as_secure_origin == frozenset()
    dummy = DummyCookieJar()
    assert (dummy.unsafe, dummy.quote_cookie, dummy.treat_as_secure_origin) == (
        False,
        True,
        frozenset(),
    )
    assert dict(dummy.cookies) == {} and dummy.host_only_cookies == frozenset()


def test_filter_cookies_without_a_url_gives_the_shared_cookies() -> None:
    jar = CookieJar()
    jar.update_cookies({"shared": "1"})
    set_cookies(jar, SITE, "host=2")
    assert list(jar.filter_cookies()) == ["shared"]
    with pytest.warns(DeprecationWarning, match="yarl.URL"):
        sent = jar.filter_cookies("http://www.example.com/")  # type: ignore[arg-type]
    assert sorted(sent) == ["host", "shared"]


def test_a_morsel_is_kept_under_its_mapping_key_and_sent_under_its_own_name() -> None:
    jar = CookieJar()
    loaded = SimpleCookie("real=1")
    jar.update_cookies({"alias": loaded["real"]}, SITE)
    jar.update_cookies({"alias": SimpleCookie("other=2")["other"]}, SITE)  # replaces it
    assert [m.key for m in jar] == ["other"] and list(jar.cookies[("www.example.com", "")]) == [
        "alias"
    ]
    assert jar.filter_cookies(SITE).output(header="", sep=";").strip() == "other=2"


def test_the_most_specific_cookie_of_a_name_is_sent() -> None:
    jar = CookieJar()
    set_cookies(jar, "https://other.example.com/", "sid=parent; Domain=example.com; Path=/")
    set_cookies(jar, "https://app.example.com/", "sid=mine; Path=/")  # newer, same path
    set_cookies(jar, "https://app.example.com/", "k=root; Path=/", "k=deep; Path=/a")
    sent = jar.filter_cookies(URL("https://app.example.com/a/b"))
    assert (sent["sid"].value, sent["k"].value) == ("mine", "deep")
    assert jar.filter_cookies(URL("https://x.example.com/"))["sid"].value == "parent"


def test_an_ip_address_domain_matches_that_exact_host_only() -> None:
    jar = CookieJar(unsafe=True)
    set_cookies(jar, "http://127.0.0.1/", "ip=1; Domain=127.0.0.1", "host=2")
    set_cookies(jar, "http://1.127.0.0.1/", "named=3; Domain=127.0.0.1")  # not its parent
    assert sorted(names(jar, "http://127.0.0.1/")) == ["host", "ip"]
    assert names(jar, "http://1.127.0.0.1/") == []
    assert names(jar, "http://a.1.127.0.0.1/") == []
    assert not domain_match("1.127.0.0.1", "127.0.0.1")
    assert not domain_match("a.::1", "::1")


def test_the_built_in_public_suffix_list_knows_the_common_suffixes() -> None:
    # The list used without ``publicsuffixlist`` (``zurl[psl]``), tested directly: the
    # test environment has the package, which would hide a hole in the built-in list.
    for suffix in ("co.uk", "org.uk", "com.au", "co.jp", "github.io", "com", "uk", "localhost"):
        assert builtin_public_suffix(suffix), suffix
    for domain in ("example.co.uk", "bbc.co.uk", "example.com", "someone.github.io"):
        assert not builtin_public_suffix(domain), domain


def test_every_built_in_multi_label_suffix_is_on_the_public_suffix_list() -> None:
    from publicsuffixlist import PublicSuffixList

    full = PublicSuffixList()
    built_in = sorted(BUILT_IN_SUFFIXES)
    assert "co.uk" in built_in
    assert [s for s in built_in if not full.is_public(s)] == []


# --- what one cookie can hold ----------------------------------------------------------


@pytest.mark.parametrize("bad", ["\udcff", "a\x07b", "a\nb"])
def test_a_cookie_that_cannot_be_sent_or_saved_is_not_stored(bad: str, tmp_path: Path) -> None:
    jar = CookieJar()
    value: Morsel[str] = Morsel()
    value.__setstate__({"key": "v", "value": bad, "coded_value": bad})  # type: ignore[attr-defined]
    path: Morsel[str] = Morsel()
    path.__setstate__({"key": "p", "value": "1", "coded_value": "1"})  # type: ignore[attr-defined]
    dict.__setitem__(path, "path", f"/{bad}")
    jar.update_cookies({"v": value, "p": path, f"n{bad}": "1", "ok": "1"}, SITE)
    assert [m.key for m in jar] == ["ok"]
    jar.save(tmp_path / "jar.txt")
    assert "ok\t1" in (tmp_path / "jar.txt").read_text()


async def test_a_non_utf8_set_cookie_is_dropped_and_the_rest_saved(
    raw_server: RawServerFactory, tmp_path: Path
) -> None:
    server = await raw_server(
        [
            b"HTTP/1.1 200 OK\r\n"
            b"Set-Cookie: good=1\r\n"
            b"Set-Cookie: bad\xff=2\r\n"
            b"Set-Cookie: value=caf\xe9\r\n"
            b"Set-Cookie: path=3; Path=/\xff\r\n"
            b"Set-Cookie: utf8=caf\xc3\xa9\r\n"
            b"Content-Length: 0\r\n\r\n"
        ]
    )
    jar = CookieJar(unsafe=True)
    async with ClientSession(cookie_jar=jar) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
    path = tmp_path / "jar.txt"
    jar.save(path)
    loaded = CookieJar(unsafe=True)
    loaded.load(path)
    assert {m.key: m.value for m in loaded} == {"good": "1", "utf8": "caf\u00e9"}


# --- limits (Firefox's numbers, as aiohttp) --------------------------------------------

ORIGIN = URL("https://example.com/")


def morsel(name: str, *, secure: bool = False, path: str = "/", domain: str = "") -> Morsel[str]:
    cookie = SimpleCookie()
    cookie[name] = "v"
    made = cookie[name]
    made["path"], made["domain"] = path, domain
    if secure:
        made["secure"] = True
    return made


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """time.time() as a list the test moves forward: ``clock[0] += 60``."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def fill(
    jar: CookieJar, count: int, *, secure: bool = False, max_age: str = "", path: str = "/"
) -> None:
    cookies = [(f"c{i}", morsel(f"c{i}", secure=secure, path=path)) for i in range(count)]
    for _, made in cookies:
        made["max-age"] = max_age
    jar.update_cookies(cookies, ORIGIN)


def test_a_full_domain_is_trimmed_to_150_least_recently_used_first() -> None:
    jar = CookieJar()
    jar.update_cookies({"sec": morsel("sec", secure=True)}, ORIGIN)
    fill(jar, 180)  # the 181st cookie trims the domain to 150 first
    kept = {m.key for m in jar}
    assert len(jar) == 150
    assert "sec" in kept and "c30" not in kept and "c31" in kept


def test_sending_or_replacing_a_cookie_makes_it_recent() -> None:
    jar = CookieJar()
    jar.update_cookies({"sent": morsel("sent", path="/hit")}, ORIGIN)
    fill(jar, 179, path="/miss")
    jar.update_cookies({"c0": morsel("c0", path="/miss")}, ORIGIN)  # a replacement: no eviction
    assert list(jar.filter_cookies(ORIGIN.with_path("/hit"))) == ["sent"]
    assert len(jar) == 180
    jar.update_cookies({"new": "1"}, ORIGIN)
    kept = {m.key for m in jar}
    assert {"sent", "c0", "new", "c32"} <= kept and "c1" not in kept and "c31" not in kept


def test_secure_cookies_are_evicted_only_for_a_secure_cookie() -> None:
    jar = CookieJar()
    fill(jar, 180, secure=True)
    plain = morsel("plain")
    plain["max-age"] = "3600"
    jar.update_cookies({"plain": plain}, ORIGIN)
    assert len(jar) == 180 and "plain" not in {m.key for m in jar}
    jar.update_cookies({"new": morsel("new", secure=True)}, ORIGIN)
    kept = {m.key for m in jar}
    assert len(jar) == 150 and "new" in kept and "c30" not in kept and "c31" in kept


def test_a_deletion_never_evicts() -> None:
    jar = CookieJar()
    fill(jar, 180)
    set_cookies(jar, ORIGIN, "unknown=; Max-Age=0")
    assert len(jar) == 180


def test_expired_cookies_go_first(clock: list[float]) -> None:
    jar = CookieJar()
    fill(jar, 40, max_age="10")
    jar.update_cookies([(f"k{i}", morsel(f"k{i}")) for i in range(140)], ORIGIN)
    clock[0] += 60
    jar.update_cookies({"new": "1"}, ORIGIN)
    kept = {m.key for m in jar}
    assert len(jar) == 141 and "new" in kept and "k0" in kept


def test_the_jar_as_a_whole_is_trimmed_from_3300_to_3000() -> None:
    jar = CookieJar()
    jar.update_cookies(
        (f"c{d}_{i}", morsel(f"c{d}_{i}", domain=f"d{d}.example"))
        for d in range(66)
        for i in range(50)
    )
    assert len(jar) == 3300
    jar.update_cookies({"last": morsel("last", domain="d66.example")})
    kept = {m.key for m in jar}
    assert len(jar) == 3001
    assert "c5_49" not in kept and "c6_0" in kept and "last" in kept


def test_a_request_gets_at_most_150_cookies_its_own_first() -> None:
    jar = CookieJar()
    sibling = URL("https://other.example.com/")
    for batch in range(3):  # 50 at most from one response
        set_cookies(jar, sibling, *(f"p{batch}_{i}=v; Domain=example.com" for i in range(50)))
    set_cookies(jar, "https://app.example.com/", "session=mine")
    sent = jar.filter_cookies(URL("https://app.example.com/"))
    assert len(sent) == 150 and sent["session"].value == "mine"
    assert len(jar.filter_cookies(URL("https://x.example.com/"))) == 150


def test_a_cookie_header_is_at_most_8190_octets() -> None:
    jar = CookieJar()
    url = URL("https://example.com/")
    # "Cookie: " + "a=" + value + "; " + "b=" + 10 octets is exactly 8190.
    jar.update_cookies({"a": "x" * (8190 - 24), "b": "y" * 10}, url)
    sent = jar.filter_cookies(url)
    header = "Cookie: " + sent.output(header="", sep=";").strip()
    assert set(sent) == {"a", "b"} and len(header.encode()) == 8190
    jar.update_cookies({"a": "x" * (8190 - 23)}, url)
    assert set(jar.filter_cookies(url)) == {"b"}  # the newest fitting one first
    unquoted = CookieJar(quote_cookie=False)
    unquoted.update_cookies({"e": "\u00e9" * 4089}, url)  # octets, not characters
    assert set(unquoted.filter_cookies(url)) == {"e"}
    unquoted.update_cookies({"e": "\u00e9" * 4091}, url)
    assert not unquoted.filter_cookies(url)


# --- aiohttp's JSON jar files ----------------------------------------------------------

# What aiohttp 3.14.5's CookieJar.save() wrote after https://www.example.com/shop/cart set
# "host=1", "dom=2; Domain=example.com; Path=/", "deep=3; Path=/shop/deep",
# "sec=4; Secure; HttpOnly; SameSite=Strict", 'quoted="a b"' and
# "lasting=5; Expires=Tue, 1 Jan 2999 12:00:00 GMT", https://other.example.org/ set
# "other=6", and update_cookies({"shared": "7"}) stored a shared cookie.
AIOHTTP_3_14_JAR = {
    "www.example.com|/shop": {
        "host": {"key": "host", "value": "1", "coded_value": "1", "path": "/shop",
                 "domain": "www.example.com", "host_only": True},
        "sec": {"key": "sec", "value": "4", "coded_value": "4", "path": "/shop",
                "domain": "www.example.com", "secure": True, "httponly": True,
                "samesite": "Strict", "host_only": True},
        "quoted": {"key": "quoted", "value": "a b", "coded_value": '"a b"', "path": "/shop",
                   "domain": "www.example.com", "host_only": True},
        "lasting": {"key": "lasting", "value": "5", "coded_value": "5", "path": "/shop",
                    "domain": "www.example.com", "host_only": True,
                    "expires_timestamp": 32472187200},
    },
    "example.com|": {
        "dom": {"key": "dom", "value": "2", "coded_value": "2", "path": "/",
                "domain": "example.com"},
    },
    "www.example.com|/shop/deep": {
        "deep": {"key": "deep", "value": "3", "coded_value": "3", "path": "/shop/deep",
                 "domain": "www.example.com", "host_only": True},
    },
    "other.example.org|": {
        "other": {"key": "other", "value": "6", "coded_value": "6", "path": "/",
                  "domain": "other.example.org", "host_only": True},
    },
    "|": {"shared": {"key": "shared", "value": "7", "coded_value": "7", "path": "/"}},
}  # fmt: skip


def write_json(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def test_load_reads_the_json_aiohttp_3_14_saves(tmp_path: Path) -> None:
    jar = CookieJar()
    jar.load(write_json(tmp_path, AIOHTTP_3_14_JAR))
    shop = jar.filter_cookies(URL("https://www.example.com/shop/deep/x"))
    assert {k: m.coded_value for k, m in shop.items()} == {
        "deep": "3",
        "host": "1",
        "sec": "4",
        "quoted": '"a b"',
        "lasting": "5",
        "dom": "2",
        "shared": "7",
    }
    assert sorted(names(jar, "http://sub.www.example.com/shop")) == ["dom", "shared"]
    assert "sec" not in names(jar, "http://www.example.com/shop")
    assert jar.host_only_cookies == {
        ("www.example.com", "/shop", n) for n in ("host", "sec", "quoted", "lasting")
    } | {("www.example.com", "/shop/deep", "deep"), ("other.example.org", "", "other")}
    by_name = {m.key: m for m in jar}
    assert by_name["sec"]["httponly"] is True and by_name["sec"]["samesite"] == "Strict"
    # Saved again, it is curl's cookies.txt, with the deadline the JSON gave.
    jar.save(tmp_path / "jar.txt")
    lines = (tmp_path / "jar.txt").read_text().splitlines()
    assert "www.example.com\tFALSE\t/shop\tFALSE\t32472187200\tlasting\t5" in lines
    assert "#HttpOnly_www.example.com\tFALSE\t/shop\tTRUE\t0\tsec\t4" in lines


def test_load_of_json_drops_expired_records_and_reads_the_older_form(tmp_path: Path) -> None:
    record = {"key": "sid", "value": "x", "coded_value": "x", "domain": "example.com"}
    data = {
        "example.com|/": {
            "sid": {**record, "max-age": "3600"},  # before 3.14: relative, no host_only
            "gone": {**record, "key": "gone", "expires_timestamp": 1.0},
        },
        "other.example|": {"stray": {**record, "key": "stray"}},  # not its domain to set
    }
    jar = CookieJar()
    jar.load(write_json(tmp_path, data))
    assert [m.key for m in jar] == ["sid"]
    assert names(jar, "https://sub.example.com/") == ["sid"]  # a domain cookie now


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"a|": {"k": {"key": "k", "value": "v", "coded_value": "v", "expires_timestamp": "nan"}}},
         "Cookie 'k' in 'a|': expiration timestamp must be a finite number"),
        ({"a|": {"k": {"key": "k", "value": "v", "coded_value": "v", "expires_timestamp": 1e999}}},
         "Cookie 'k' in 'a|': expiration timestamp must be a finite number"),
        ({"a|": {"k": {"key": "k", "value": "v", "coded_value": "v", "path": 5}}},
         "Cookie 'k' in 'a|': bad path 5"),
        ({"a|": {"k": {"key": "k", "value": 1, "coded_value": "v"}}},
         "Cookie 'k' in 'a|': key, value and coded_value must be strings"),
        ({"a|": {"k": "v"}}, "Cookie 'k' in 'a|': not an object"),
        ({"cookies": []}, "not an aiohttp cookie jar: entry 'cookies'"),
    ],
)  # fmt: skip
def test_a_bad_json_jar_names_the_record_and_changes_nothing(
    tmp_path: Path, data: object, reason: str
) -> None:
    path = tmp_path / "cookies.json"
    path.write_text(json.dumps(data).replace("Infinity", "1e999"))
    jar = sample_jar()
    before = sorted((m.key, m.value) for m in jar)
    with pytest.raises(CookieFileError) as caught:
        jar.load(path)
    assert (caught.value.line_number, caught.value.reason) == (None, reason)
    assert str(caught.value) == f"{path}: {reason}"
    assert sorted((m.key, m.value) for m in jar) == before


def test_save_leaves_out_a_cookie_changed_into_one_it_cannot_write(tmp_path: Path) -> None:
    jar = CookieJar()
    set_cookies(jar, SITE, "good=1", "bad=2")
    next(m for m in jar if m.key == "bad")["path"] = "/\udcff"  # the jar's own Morsel
    jar.save(tmp_path / "jar.txt")
    loaded = CookieJar()
    loaded.load(tmp_path / "jar.txt")
    assert [m.key for m in loaded] == ["good"]
