"""CookieJar: RFC 6265 rules, aiohttp's API, and curl-compatible cookies.txt files."""

from __future__ import annotations

import http.server
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
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yarl import URL

from client.cookiejar import (
    CookieJar,
    DummyCookieJar,
    domain_match,
    is_public_suffix,
    parse_cookie_date,
    parse_set_cookie_headers,
    path_match,
)
from client.exceptions import ClientError, CookieFileError
from tests.servers import require_binary

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
    assert [m.key for m in jar] == ["live", "ho", "empty"]
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
        ('{"cookies": []}\n', 1),
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
