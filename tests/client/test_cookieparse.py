"""Set-Cookie parsing (RFC 6265 §5.2): aiohttp's lenient reading, its limits, and fields
a hostile server can send (control characters, non-UTF-8 bytes, huge values)."""

from __future__ import annotations

import logging
import tempfile
import time
from pathlib import Path

import pytest
from yarl import URL

from client.cookiejar import CookieJar
from client.cookieparse import (
    MAX_COOKIES_PER_RESPONSE,
    MAX_PAIR_LENGTH,
    parse_set_cookie_headers,
)

pytestmark = pytest.mark.timeout(30)

SITE = URL("https://www.example.com/")


def parsed(*fields: str) -> dict[str, dict[str, object]]:
    """name -> {value, coded, and the attributes that were set}."""
    out: dict[str, dict[str, object]] = {}
    for name, morsel in parse_set_cookie_headers(list(fields)):
        attributes = {k: v for k, v in morsel.items() if v}
        out[name] = {"value": morsel.value, "coded": morsel.coded_value, **attributes}
    return out


def test_attributes_without_semicolons_between_them_are_read() -> None:
    # aiohttp reads these (its own tests send them); a value ends at white space.
    cookies = parsed(
        "gone=1; HttpOnly; Path=/ Expires=Tue, 1 Jan 1980 12:00:00 GMT; ",
        "brief=2; Path=/ Max-Age=1; ",
    )
    assert cookies["gone"]["path"] == "/"
    assert cookies["gone"]["expires"] == "Tue, 1 Jan 1980 12:00:00 GMT"
    assert cookies["brief"] == {"value": "2", "coded": "2", "path": "/", "max-age": "1"}
    jar = CookieJar()
    jar.update_cookies_from_headers(["gone=1; Path=/ Expires=Tue, 1 Jan 1980 12:00:00 GMT"], SITE)
    assert len(jar) == 0  # already expired: never stored


def test_quoted_values_and_attributes() -> None:
    cookies = parsed(
        'a="x;y"; Path=/p',
        'b=1; Domain="example.com"; Path="/app"',
        'c=2; Path="/account/secure;v=1"',
        'd="unclosed; Path=/q',
    )
    assert cookies["a"] == {"value": "x;y", "coded": '"x;y"', "path": "/p"}
    assert (cookies["b"]["domain"], cookies["b"]["path"]) == ("example.com", "/app")
    assert cookies["c"]["path"] == "/account/secure;v=1"
    assert cookies["d"] == {"value": '"unclosed', "coded": '"unclosed', "path": "/q"}


def test_a_quoted_path_keeps_its_scope() -> None:
    jar = CookieJar()
    url = URL("https://example.com/account/secure/page")
    jar.update_cookies_from_headers(['sid=1; Path="/account/secure;v=1"'], url)
    assert [m["path"] for m in jar] == ["/account/secure;v=1"]
    assert not jar.filter_cookies(URL("https://example.com/account/secure/other"))


@pytest.mark.parametrize(
    ("field", "attribute", "kept"),
    [
        ("k=v; Expires=someday", "expires", ""),  # §5.2.1: not a date
        ("k=v; Max-Age=1.5", "max-age", ""),  # §5.2.2: not an integer
        ("k=v; Domain=", "domain", ""),  # §5.2.3: empty
        ("k=v; Path=relative", "path", ""),  # §5.2.4: the default path
        ("k=v; Path=/a; Path=/b", "path", "/b"),  # the last one wins
        ("k=v; Max-Age=5; Max-Age=x", "max-age", "5"),  # an ignored one keeps the earlier
        (f"k=v; SameSite={'L' * 1025}", "samesite", ""),  # over 1024 octets: ignored
        ("k=v; secure=anything; HTTPONLY", "secure", True),  # a flag's value is ignored
        ("k=v; Unknown=1; Version=1", "version", "1"),
    ],
)
def test_attributes_are_kept_in_their_effective_form(
    field: str, attribute: str, kept: object
) -> None:
    ((_, morsel),) = parse_set_cookie_headers([field])
    assert morsel[attribute] == kept


@pytest.mark.parametrize(
    "field",
    [
        "no-equals-sign",
        "=nameless",
        " =blank",
        "bad=a\x00b",
        "bell=a\x07b",
        "lf=a\nb; Path=/",
        "ctl=1; Path=/\x01",  # anywhere in the field (RFC 6265bis §5.6)
        '"quoted"=1',
        "sp ace=v",
        "semi;colon=v",
        'escaped="a\\012b"',  # a control character once unquoted
        f"big={'x' * MAX_PAIR_LENGTH}",
    ],
)
def test_fields_that_are_no_cookie_are_dropped(field: str) -> None:
    assert parse_set_cookie_headers([field, "ok=1"]) == parse_set_cookie_headers(["ok=1"])


def test_names_real_servers_send_are_accepted() -> None:
    cookies = parsed("a[b]=1", "{x}=2", "path=3", "secure=4", "c:d/e=5", "tab=\tv\t")
    assert list(cookies) == ["a[b]", "{x}", "path", "secure", "c:d/e", "tab"]
    assert cookies["tab"]["value"] == "v"


def test_an_illegal_name_is_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        cookies = parsed("valid=1", "invalid,cookie=value; HttpOnly; Path=/", "other=2")
    assert list(cookies) == ["valid", "other"]
    assert "Can not load cookies: Illegal cookie name 'invalid,cookie'" in caplog.text
    assert caplog.records[0].name == "client.cookies"


@pytest.mark.parametrize(
    "field",
    [
        "n\udcffame=v",  # the response head is decoded with surrogateescape
        "name=v\udcff",
        "name=v; Path=/p\udcff",
        "name=v; SameSite=\udce9",
    ],
)
def test_a_non_utf8_byte_drops_the_cookie(field: str) -> None:
    assert parse_set_cookie_headers([field, "ok=1"]) == parse_set_cookie_headers(["ok=1"])


def test_valid_utf8_is_kept() -> None:
    assert parsed("utf8=caf\u00e9") == {"utf8": {"value": "caf\u00e9", "coded": "caf\u00e9"}}


def test_at_most_50_cookies_are_taken_from_one_response() -> None:
    fields = ["bad name=1"] * 10 + [f"c{i}=v" for i in range(MAX_COOKIES_PER_RESPONSE + 5)]
    names = [name for name, _ in parse_set_cookie_headers(fields)]
    assert names == [f"c{i}" for i in range(MAX_COOKIES_PER_RESPONSE)]
    jar = CookieJar()
    deleting = ["existing=; Max-Age=0", *fields[10:]]
    jar.update_cookies({"existing": "1"}, SITE)
    jar.update_cookies_from_headers(deleting, SITE)  # a deletion counts as one of them
    assert "existing" not in {m.key for m in jar}
    assert len(jar) == MAX_COOKIES_PER_RESPONSE - 1


@pytest.mark.parametrize("digits", ["9" * 309, "9" * 1023, "18446744073709551616"])
def test_a_huge_max_age_is_capped_not_an_overflow(digits: str) -> None:
    jar = CookieJar()
    jar.update_cookies_from_headers(
        [f"sid=x; Max-Age={digits}", f"gone=x; Max-Age=-{digits}"], SITE
    )
    assert list(jar.filter_cookies(SITE)) == ["sid"]
    (morsel,) = jar
    assert morsel["max-age"] == digits  # kept as the server sent it
    assert time.time() + 10**9 < jar_expiry(jar, "sid")


def jar_expiry(jar: CookieJar, name: str) -> float:
    """The expiry a cookies.txt line records (the public view of a cookie's deadline)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "jar.txt")
        jar.save(path)
        for line in path.read_text().splitlines():
            fields = line.split("\t")
            if len(fields) == 7 and fields[5] == name:
                return float(fields[4])
    raise AssertionError(f"{name} not saved")
