"""Sans-IO HTTP/2 message rules (RFC 9113 §8.2, §8.3): request fields and response heads."""

from __future__ import annotations

import pytest
from hpack import NeverIndexedHeaderTuple
from hypothesis import given
from hypothesis import strategies as st

from client.exceptions import InvalidRequestHeaderError, ProtocolError
from client.http1 import raw_header_pairs
from client.http2 import (
    HttpVersion20,
    parse_response_head,
    parse_trailers,
    reason_phrase,
    request_fields,
)

pytestmark = pytest.mark.timeout(60)


def fields_of(headers: list[tuple[str, str]], **kw: str) -> list[tuple[bytes, bytes]]:
    args = {"method": "GET", "scheme": "https", "authority": "example.test", "path": "/x"}
    args.update(kw)
    return list(
        request_fields(args["method"], args["scheme"], args["authority"], args["path"], headers)
    )


# -- requests ----------------------------------------------------------------------------


def test_pseudo_header_fields_come_first_in_order() -> None:
    got = fields_of([("Accept", "*/*")], path="/a?b=1")
    assert got[:4] == [
        (b":method", b"GET"),
        (b":scheme", b"https"),
        (b":authority", b"example.test"),
        (b":path", b"/a?b=1"),
    ]
    assert got[4:] == [(b"accept", b"*/*")]


def test_names_go_out_lower_case_in_the_callers_order() -> None:
    got = fields_of([("X-B", "2"), ("X-A", "1"), ("x-b", "3")])
    assert got[4:] == [(b"x-b", b"2"), (b"x-a", b"1"), (b"x-b", b"3")]


@pytest.mark.parametrize(
    "name", ["Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade"]
)
def test_connection_specific_fields_are_never_sent(name: str) -> None:
    got = fields_of([(name, "whatever"), ("Accept", "*/*")])
    assert [k for k, _ in got[4:]] == [b"accept"]


def test_te_only_as_trailers() -> None:
    assert (b"te", b"trailers") in fields_of([("TE", "trailers")])
    assert all(k != b"te" for k, _ in fields_of([("TE", "gzip")]))


def test_host_becomes_the_authority() -> None:
    got = fields_of([("Host", "other.test:8443"), ("Accept", "*/*")])
    assert got[2] == (b":authority", b"other.test:8443")
    assert all(k != b"host" for k, _ in got)


def test_blanks_around_values_are_trimmed() -> None:
    assert fields_of([("X-A", "  v \t")])[4] == (b"x-a", b"v")


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\x00b"])
def test_cr_lf_nul_in_a_value_is_refused(value: str) -> None:
    with pytest.raises(InvalidRequestHeaderError):
        fields_of([("X-A", value)])


@pytest.mark.parametrize("name", ["Bad Name", "a:b", "", "é"])
def test_a_name_that_is_no_token_is_refused(name: str) -> None:
    with pytest.raises(InvalidRequestHeaderError):
        fields_of([(name, "v")])


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"method": "G T"}, "method"),
        ({"path": "/a b"}, "target"),
        ({"authority": ""}, "authority"),
    ],
)
def test_a_bad_method_path_or_authority_is_refused(kw: dict[str, str], match: str) -> None:
    with pytest.raises(InvalidRequestHeaderError, match=match):
        fields_of([], **kw)


def test_credentials_are_never_indexed() -> None:
    got = fields_of(
        [("Authorization", "Basic dTpw"), ("Cookie", "a=1"), ("Cookie", "x" * 40), ("A", "b")]
    )
    assert isinstance(got[4], NeverIndexedHeaderTuple)
    assert isinstance(got[5], NeverIndexedHeaderTuple)  # a short cookie is guessable
    assert not isinstance(got[6], NeverIndexedHeaderTuple)
    assert not isinstance(got[7], NeverIndexedHeaderTuple)
    assert got[7] == (b"a", b"b")


def test_the_same_request_reuses_its_field_block() -> None:
    first = request_fields("GET", "https", "h.test", "/", [("A", "1")])
    assert request_fields("GET", "https", "h.test", "/", [("A", "1")]) is first


# -- responses ---------------------------------------------------------------------------


def test_a_head_with_status_and_fields() -> None:
    head = parse_response_head(
        [(b":status", b"200"), (b"content-type", b"text/plain"), (b"content-length", b"5")],
        "GET",
        100,
    )
    assert head.version == HttpVersion20
    assert (head.status, head.reason) == (200, "OK")
    assert head.headers["Content-Type"] == "text/plain"
    assert head.content_length == 5
    assert not head.should_close and not head.chunked
    assert raw_header_pairs(head.raw_fields) == (
        (b"content-type", b"text/plain"),
        (b"content-length", b"5"),
    )


def test_repeated_fields_stay_separate_values() -> None:
    head = parse_response_head(
        [(b":status", b"200"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")], "GET", 100
    )
    assert head.headers.getall("Set-Cookie") == ["a=1", "b=2"]


def test_no_body_length_for_head_and_304() -> None:
    fields = [(b":status", b"200"), (b"content-length", b"10")]
    assert parse_response_head(fields, "HEAD", 100).content_length is None
    fields = [(b":status", b"304"), (b"content-length", b"10")]
    assert parse_response_head(fields, "GET", 100).content_length is None


def test_equal_content_lengths_are_one_value() -> None:
    fields = [(b":status", b"200"), (b"content-length", b"7"), (b"content-length", b"7")]
    assert parse_response_head(fields, "GET", 100).content_length == 7


MALFORMED = {
    "no status": [(b"content-type", b"text/plain")],
    "status not first": [(b"content-type", b"x"), (b":status", b"200")],
    "two statuses": [(b":status", b"200"), (b":status", b"204")],
    "short status": [(b":status", b"20")],
    "status not digits": [(b":status", b"2x0")],
    "request pseudo-header": [(b":status", b"200"), (b":path", b"/")],
    "upper-case name": [(b":status", b"200"), (b"Content-Type", b"text/plain")],
    "connection header": [(b":status", b"200"), (b"connection", b"keep-alive")],
    "transfer-encoding": [(b":status", b"200"), (b"transfer-encoding", b"chunked")],
    "upgrade": [(b":status", b"200"), (b"upgrade", b"h2c")],
    "leading blank": [(b":status", b"200"), (b"x-a", b" v")],
    "trailing blank": [(b":status", b"200"), (b"x-a", b"v\t")],
    "newline in value": [(b":status", b"200"), (b"x-a", b"a\nb")],
    "NUL in value": [(b":status", b"200"), (b"x-a", b"a\x00b")],
    "space in name": [(b":status", b"200"), (b"x a", b"v")],
    "bad length": [(b":status", b"200"), (b"content-length", b"-1")],
    "conflicting lengths": [
        (b":status", b"200"),
        (b"content-length", b"1"),
        (b"content-length", b"2"),
    ],
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_head_is_a_protocol_error(case: str) -> None:
    with pytest.raises(ProtocolError):
        parse_response_head(MALFORMED[case], "GET", 100)


def test_too_many_fields() -> None:
    fields = [(b":status", b"200")] + [(b"x-a", b"1")] * 11
    with pytest.raises(ProtocolError, match="More than 10"):
        parse_response_head(fields, "GET", 10)


def test_trailers_take_regular_fields_only() -> None:
    assert parse_trailers([(b"x-sum", b"abc")], 10)["X-Sum"] == "abc"
    with pytest.raises(ProtocolError):
        parse_trailers([(b":status", b"200")], 10)
    with pytest.raises(ProtocolError):
        parse_trailers([(b"X-Sum", b"abc")], 10)


def test_reason_phrases() -> None:
    assert reason_phrase(404) == "Not Found"
    assert reason_phrase(599) == ""


_token = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_value = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=20)


@given(st.lists(st.tuples(_token, _value), max_size=20))
def test_valid_fields_round_trip(pairs: list[tuple[str, str]]) -> None:
    pairs = [(k, v) for k, v in pairs if k not in {"connection", "keep-alive", "upgrade"}]
    pairs = [(k, v) for k, v in pairs if k not in {"transfer-encoding", "proxy-connection"}]
    pairs = [(k, v) for k, v in pairs if k != "content-length"]
    fields = [(b":status", b"200")] + [(k.encode(), v.encode()) for k, v in pairs]
    head = parse_response_head(fields, "GET", 100)
    assert list(head.headers.items()) == pairs
    assert raw_header_pairs(head.raw_fields) == tuple((k.encode(), v.encode()) for k, v in pairs)
