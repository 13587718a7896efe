"""Redirect hop helpers: next method, body, Location resolution, origins, header stripping."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict
from yarl import URL

from client.exceptions import (
    InvalidURL,
    InvalidUrlRedirectClientError,
    NonHttpUrlClientError,
    NonHttpUrlRedirectClientError,
    RedirectClientError,
)
from client.redirects import (
    REDIRECT_STATUSES,
    DroppedHeader,
    is_downgrade,
    keeps_body,
    next_request_headers,
    redirect_method,
    resolve_location,
    same_origin,
)

pytestmark = pytest.mark.timeout(10)

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
# The next request's method, in the order of METHODS.
EXPECTED_METHOD = {
    301: "GET HEAD GET PUT PATCH DELETE OPTIONS",
    302: "GET HEAD GET PUT PATCH DELETE OPTIONS",
    303: "GET HEAD GET GET GET GET GET",
    307: "GET HEAD POST PUT PATCH DELETE OPTIONS",
    308: "GET HEAD POST PUT PATCH DELETE OPTIONS",
}


def test_redirect_statuses() -> None:
    assert frozenset({301, 302, 303, 307, 308}) == REDIRECT_STATUSES
    assert 304 not in REDIRECT_STATUSES and 300 not in REDIRECT_STATUSES


@pytest.mark.parametrize("status", sorted(REDIRECT_STATUSES))
@pytest.mark.parametrize("method", METHODS)
def test_every_status_and_method(status: int, method: str) -> None:
    new = redirect_method(status, method)
    assert new == EXPECTED_METHOD[status].split()[METHODS.index(method)]
    expect_body = status != 303 and new == method
    assert keeps_body(status, method, new) is expect_body


def test_method_case_does_not_matter() -> None:
    assert redirect_method(302, "post") == "GET"
    assert redirect_method(307, "post") == "POST"
    assert keeps_body(307, "post", "POST")


def test_body_is_resent_only_by_307_and_308_for_post() -> None:
    resent = {s for s in REDIRECT_STATUSES if keeps_body(s, "POST", redirect_method(s, "POST"))}
    assert resent == {307, 308}


CURRENT = URL("http://example.com/dir/page?q=1#top")


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("/other", "http://example.com/other#top"),
        ("sibling", "http://example.com/dir/sibling#top"),
        ("../up", "http://example.com/up#top"),
        ("./here?x=2", "http://example.com/dir/here?x=2#top"),
        ("?only=query", "http://example.com/dir/page?only=query#top"),
        ("#elsewhere", "http://example.com/dir/page?q=1#elsewhere"),
        ("//cdn.example.net/a", "http://cdn.example.net/a#top"),
        ("https://secure.example/x", "https://secure.example/x#top"),
        ("https://secure.example/x#own", "https://secure.example/x#own"),
        ("HTTPS://Secure.Example:443/x", "https://secure.example/x#top"),
        ("/with space", "http://example.com/with%20space#top"),
        ("  /padded  ", "http://example.com/padded#top"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080/#top"),
    ],
)
def test_resolve_location(location: str, expected: str) -> None:
    assert str(resolve_location(CURRENT, location)) == expected


def test_location_without_fragment_and_no_current_fragment() -> None:
    assert str(resolve_location(URL("http://h/a"), "/b")) == "http://h/b"


def test_empty_fragment_in_location_is_not_replaced() -> None:
    assert resolve_location(CURRENT, "/b#").fragment == ""


@pytest.mark.parametrize(
    "location",
    [
        "ftp://files.example/x",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,hi",
        "mailto:someone@example.com",
        "ws://example.com/socket",
    ],
)
def test_non_http_schemes_are_refused(location: str) -> None:
    with pytest.raises(NonHttpUrlRedirectClientError) as caught:
        resolve_location(CURRENT, location)
    assert caught.value.url == location
    assert isinstance(caught.value, NonHttpUrlClientError)  # aiohttp 3.14 bases
    assert isinstance(caught.value, RedirectClientError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    "location",
    [
        "",
        "   ",
        "http://[::1",
        "http://h:99999/",
        "http://",
        "http:///nohost",
        "https:x",
        "/a\r\nb",
    ],
)
def test_invalid_locations(location: str) -> None:
    with pytest.raises(InvalidUrlRedirectClientError) as caught:
        resolve_location(CURRENT, location)
    assert not isinstance(caught.value, NonHttpUrlRedirectClientError)
    assert isinstance(caught.value, InvalidURL)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("http://h/a", "http://h/b?x", True),
        ("http://h/", "http://h:80/", True),
        ("https://h/", "https://H:443/", True),
        ("http://h/", "https://h/", False),
        ("http://h/", "http://h:8080/", False),
        ("http://localhost/", "http://127.0.0.1/", False),
        ("http://h/", "http://sub.h/", False),
        ("http://[::1]:80/", "http://[::1]/", True),
    ],
)
def test_same_origin(a: str, b: str, expected: bool) -> None:
    assert same_origin(URL(a), URL(b)) is expected
    assert same_origin(URL(b), URL(a)) is expected


def test_is_downgrade() -> None:
    assert is_downgrade(URL("https://h/"), URL("http://h/"))
    assert is_downgrade(URL("wss://h/"), URL("ws://h/"))
    assert not is_downgrade(URL("http://h/"), URL("https://h/"))
    assert not is_downgrade(URL("https://h/"), URL("https://other/"))


def request_headers() -> CIMultiDict[str]:
    return CIMultiDict(
        [
            ("Host", "localhost:8080"),
            ("Authorization", "Bearer secret"),
            ("Proxy-Authorization", "Basic cHJveHk="),
            ("cookie", "a=1"),
            ("Cookie", "b=2"),
            ("Content-Type", "application/json"),
            ("Content-Length", "12"),
            ("Accept", "*/*"),
            ("X-Custom", "kept"),
        ]
    )


def test_same_origin_keeps_credentials_and_drops_only_host() -> None:
    current, target = URL("http://localhost:8080/a"), URL("http://localhost:8080/b")
    headers = request_headers()
    kept, dropped = next_request_headers(headers, current, target, body_dropped=False)
    assert dropped == [DroppedHeader("Host", "recomputed for localhost:8080")]
    assert kept.getall("Cookie") == ["a=1", "b=2"]
    assert kept["Authorization"] == "Bearer secret"
    assert kept["Content-Length"] == "12"
    assert len(headers) == 9  # the caller's headers are left as they were


@pytest.mark.parametrize(
    ("target", "where"),
    [
        ("http://127.0.0.1:8080/b", "127.0.0.1:8080"),
        ("http://localhost:9090/b", "localhost:9090"),
        ("https://localhost:8080/b", "localhost:8080 (http → https)"),
        ("http://[::1]:8080/b", "[::1]:8080"),
    ],
)
def test_cross_origin_drops_credentials(target: str, where: str) -> None:
    current = URL("http://localhost:8080/a")
    kept, dropped = next_request_headers(request_headers(), current, URL(target), False)
    reason = f"cross-origin redirect to {where}"
    assert [d for d in dropped if d.name != "Host"] == [
        DroppedHeader("Authorization", reason),
        DroppedHeader("Proxy-Authorization", reason),
        DroppedHeader("cookie", reason),
    ]
    assert "Cookie" not in kept and "Authorization" not in kept and "Host" not in kept
    assert list(kept.items()) == [
        ("Content-Type", "application/json"),
        ("Content-Length", "12"),
        ("Accept", "*/*"),
        ("X-Custom", "kept"),
    ]


def test_https_to_http_downgrade_is_cross_origin() -> None:
    current, target = URL("https://example.com/a"), URL("http://example.com/b")
    _, dropped = next_request_headers(request_headers(), current, target, False)
    assert (
        DroppedHeader("Authorization", "cross-origin redirect to example.com:80 (https → http)")
        in dropped
    )


def test_dropped_body_takes_its_headers_along() -> None:
    headers = request_headers()
    headers.add("Content-Encoding", "gzip")
    headers.add("Transfer-Encoding", "chunked")
    current = target = URL("http://localhost:8080/form")
    kept, dropped = next_request_headers(headers, current, target, True, status=303)
    reason = "body not resent after 303 See Other"
    assert [d for d in dropped if d.name.startswith(("Content", "Transfer"))] == [
        DroppedHeader("Content-Type", reason),
        DroppedHeader("Content-Length", reason),
        DroppedHeader("Content-Encoding", reason),
        DroppedHeader("Transfer-Encoding", reason),
    ]
    assert [k.lower() for k, _ in kept.items()] == [
        "authorization",
        "proxy-authorization",
        "cookie",
        "cookie",
        "accept",
        "x-custom",
    ]


def test_body_reason_without_a_status() -> None:
    headers: CIMultiDict[str] = CIMultiDict({"Content-Type": "text/plain"})
    _, dropped = next_request_headers(headers, URL("http://h/"), URL("http://h/x"), True)
    assert dropped == [DroppedHeader("Content-Type", "body not resent after the redirect")]
