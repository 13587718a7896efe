"""Sans-IO HTTP/1.1: the response parser and the request head serialiser.

Every parser case runs twice (``feed`` fixture): the whole message in one ``feed`` call, and
one byte at a time. Both must produce the same heads, body, completions and leftovers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import client
from client.exceptions import ProtocolError
from client.http1 import ResponseHead, ResponseParser, raw_header_pairs, serialize_request_head
from client.http1_parser import MAX_INFORMATIONAL

pytestmark = pytest.mark.timeout(60)


@dataclasses.dataclass
class Recorder:
    """A ResponseSink that writes down every callback."""

    informational: list[ResponseHead] = dataclasses.field(default_factory=list)
    heads: list[ResponseHead] = dataclasses.field(default_factory=list)
    body: bytearray = dataclasses.field(default_factory=bytearray)
    completed: int = 0
    events: list[str] = dataclasses.field(default_factory=list)

    def on_informational(self, head: ResponseHead) -> None:
        self.informational.append(head)
        self.events.append(f"info {head.status}")

    def on_head(self, head: ResponseHead) -> None:
        self.heads.append(head)
        self.events.append(f"head {head.status}")

    def on_body(self, data: bytes) -> None:
        assert data, "on_body must never be called with nothing"
        self.body += data

    def on_complete(self) -> None:
        self.completed += 1
        self.events.append("complete")

    @property
    def head(self) -> ResponseHead:
        assert len(self.heads) == 1, self.events
        return self.heads[0]


Feed = Callable[[ResponseParser, bytes], bytes]


def raw_headers(head: ResponseHead) -> tuple[tuple[bytes, bytes], ...]:
    """The header pairs exactly as received (the head keeps the raw block)."""
    return raw_header_pairs(head.raw_fields)


def feed_whole(parser: ResponseParser, data: bytes) -> bytes:
    return parser.feed(data)


def feed_bytewise(parser: ResponseParser, data: bytes) -> bytes:
    return b"".join(parser.feed(data[i : i + 1]) for i in range(len(data)))


@pytest.fixture(params=[feed_whole, feed_bytewise], ids=["whole", "bytewise"])
def feed(request: pytest.FixtureRequest) -> Feed:
    return request.param  # type: ignore[no-any-return]


def parse(
    feed: Feed,
    data: bytes,
    method: str = "GET",
    *,
    eof: bool = False,
    upgrade: bool = False,
    **limits: int,
) -> tuple[Recorder, ResponseParser, bytes]:
    sink = Recorder()
    parser = ResponseParser(sink, **limits)
    parser.start(method, upgrade=upgrade)
    leftover = feed(parser, data)
    if eof:
        parser.feed_eof()
    return sink, parser, leftover


# -- status line ------------------------------------------------------------------------------


def test_http11_with_content_length(feed: Feed) -> None:
    sink, parser, leftover = parse(feed, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    head = sink.head
    assert head.version == client.HttpVersion11
    assert (head.status, head.reason) == (200, "OK")
    assert head.content_length == 5
    assert not head.chunked and not head.should_close and not head.upgraded
    assert bytes(sink.body) == b"hello"
    assert sink.events == ["head 200", "complete"]
    assert leftover == b""
    assert not parser.in_message


def test_http10_close_delimited(feed: Feed) -> None:
    sink, parser, _ = parse(feed, b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nbody to eof")
    assert sink.head.version == client.HttpVersion10
    assert sink.head.should_close
    assert sink.completed == 0, "a close-delimited body is not complete before EOF"
    assert parser.body_to_eof
    parser.feed_eof()
    assert bytes(sink.body) == b"body to eof"
    assert sink.completed == 1


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"HTTP/1.1 200 OK", "OK"),
        (b"HTTP/1.1 404 Not Found", "Not Found"),
        (b"HTTP/1.1 200", ""),
        (b"HTTP/1.1 200 ", ""),
        (b"HTTP/1.1 599 Some  odd   reason", "Some  odd   reason"),
    ],
)
def test_reason_phrase(feed: Feed, line: bytes, reason: str) -> None:
    sink, _, _ = parse(feed, line + b"\r\nContent-Length: 0\r\n\r\n")
    assert sink.head.reason == reason
    assert sink.completed == 1


@pytest.mark.parametrize(
    "line",
    [
        b"HTTP/1.1 2000 OK",
        b"HTTP/1.1 20 OK",
        b"HTTP/1.1 abc OK",
        b"HTTP/2.0 200 OK",
        b"ICY 200 OK",
        b"HTTP/1.1200 OK",
        b"http/1.1 200 OK",
        b"garbage",
    ],
)
def test_bad_status_line(feed: Feed, line: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(feed, line + b"\r\nContent-Length: 0\r\n\r\n")


def test_empty_lines_before_status_line_are_skipped(feed: Feed) -> None:
    sink, _, _ = parse(feed, b"\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert sink.head.status == 200
    assert bytes(sink.body) == b"ok"


# -- headers ----------------------------------------------------------------------------------


def test_raw_headers_keep_order_case_and_duplicates(feed: Feed) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\n"
        b"X-B: 1\r\n"
        b"x-a: two\r\n"
        b"X-B: 3\r\n"
        b"SERVER: nginx\r\n"
        b"Content-Length: 0\r\n"
        b"\r\n"
    )
    sink, _, _ = parse(feed, data)
    head = sink.head
    assert raw_headers(head) == (
        (b"X-B", b"1"),
        (b"x-a", b"two"),
        (b"X-B", b"3"),
        (b"SERVER", b"nginx"),
        (b"Content-Length", b"0"),
    )
    assert head.headers.getall("x-b") == ["1", "3"]
    assert head.headers["X-A"] == "two"
    assert head.headers["server"] == "nginx"


def test_header_value_whitespace_trimmed(feed: Feed) -> None:
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\r\nX-A:   spaced \t \r\nX-B:x\r\n\r\n")
    assert sink.head.headers["X-A"] == "spaced"
    assert sink.head.headers["X-B"] == "x"


def test_non_utf8_header_value_kept_raw_and_surrogateescaped(feed: Feed) -> None:
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\r\nX-Name: caf\xe9\r\nContent-Length: 0\r\n\r\n")
    head = sink.head
    assert (b"X-Name", b"caf\xe9") in raw_headers(head)
    value = head.headers["X-Name"]
    assert value.encode("utf-8", "surrogateescape") == b"caf\xe9"


def test_utf8_header_value_decoded(feed: Feed) -> None:
    raw = "naïve ✓".encode()
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\r\nX-Name: " + raw + b"\r\n\r\n")
    assert sink.head.headers["X-Name"] == "naïve ✓"


def test_obs_fold_joined_with_space(feed: Feed) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nX-Long: first\r\n   second\r\n\tthird\r\nX-Next: n\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    sink, _, _ = parse(feed, data)
    assert sink.head.headers["X-Long"] == "first second third"
    assert sink.head.headers["X-Next"] == "n"


def test_continuation_before_first_header_rejected(feed: Feed) -> None:
    with pytest.raises(ProtocolError):
        parse(feed, b"HTTP/1.1 200 OK\r\n  folded\r\nContent-Length: 0\r\n\r\n")


def test_lf_only_line_endings(feed: Feed) -> None:
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\nhi")
    assert sink.head.status == 200
    assert sink.head.headers["X-A"] == "1"
    assert bytes(sink.body) == b"hi"
    assert sink.completed == 1


def test_mixed_line_endings(feed: Feed) -> None:
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 2\r\n\r\nhi")
    assert sink.head.headers["X-A"] == "1"
    assert bytes(sink.body) == b"hi"


@pytest.mark.parametrize(
    "line",
    [
        b"Bad Header: x",
        b"X-A : 1",
        b"no colon here",
        b": empty name",
        b"X(A): 1",
        b"X-A: a\x00b",
        b"X-A: a\rb",
        "X-\u00e9: 1".encode(),
    ],
    ids=[
        "space-in-name",
        "space-before-colon",
        "no-colon",
        "empty-name",
        "paren",
        "nul",
        "cr",
        "non-ascii-name",
    ],
)
def test_invalid_header_lines_rejected(feed: Feed, line: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(feed, b"HTTP/1.1 200 OK\r\n" + line + b"\r\nContent-Length: 0\r\n\r\n")


# -- Content-Length ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        b"Content-Length: 3\r\nContent-Length: 3\r\n",
        b"Content-Length: 3, 3\r\n",
        b"Content-Length:3\r\n",
    ],
)
def test_equal_content_lengths_accepted(feed: Feed, fields: bytes) -> None:
    sink, _, leftover = parse(feed, b"HTTP/1.1 200 OK\r\n" + fields + b"\r\nabcdef")
    assert sink.head.content_length == 3
    assert bytes(sink.body) == b"abc"
    assert sink.completed == 1
    assert leftover == b"def"


@pytest.mark.parametrize(
    "fields",
    [
        b"Content-Length: 3\r\nContent-Length: 4\r\n",
        b"Content-Length: 3, 4\r\n",
        b"Content-Length: abc\r\n",
        b"Content-Length: -1\r\n",
        b"Content-Length: +3\r\n",
        b"Content-Length: 0x10\r\n",
        b"Content-Length: \r\n",
        b"Content-Length: 99999999999999999999999\r\n",
        # Bytes that are not UTF-8 or not ASCII digits, alone and in a list (fuzzing found
        # a UnicodeEncodeError here): "\xff", "²" (C2 B2), Arabic-Indic three (D9 A3).
        b"Content-Length: \xff\r\n",
        b"Content-Length: 3\xff\r\n",
        b"Content-Length: 3, \xff\r\n",
        b"Content-Length: \xc2\xb2\r\n",
        b"Content-Length: \xd9\xa3, \xd9\xa3\r\n",
    ],
)
def test_bad_content_length_rejected(feed: Feed, fields: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(feed, b"HTTP/1.1 200 OK\r\n" + fields + b"\r\nabcdef")


def test_content_length_zero_completes_at_head(feed: Feed) -> None:
    sink, parser, _ = parse(feed, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert sink.events == ["head 200", "complete"]
    assert bytes(sink.body) == b""
    assert not parser.in_message


def test_content_length_truncated_is_error(feed: Feed) -> None:
    sink, parser, _ = parse(feed, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(ProtocolError, match="7 bytes"):
        parser.feed_eof()
    assert sink.completed == 0


def test_two_responses_in_sequence_on_one_parser(feed: Feed) -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none"
    second = b"HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\ntwo"
    sink, parser, leftover = parse(feed, first + second)
    assert leftover == second, "bytes after a complete response are handed back"
    parser.start("GET")
    assert feed(parser, leftover) == b""
    assert [h.status for h in sink.heads] == [200, 201]
    assert bytes(sink.body) == b"onetwo"
    assert sink.completed == 2


# -- chunked ----------------------------------------------------------------------------------


def test_chunked_with_extensions_and_trailers(feed: Feed) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;name=value\r\nhello\r\n"
        b'6 ; quoted="a;b"\r\n world\r\n'
        b"A\r\n0123456789\r\n"
        b"0\r\nX-Trailer: t\r\nX-Other: o\r\n\r\n"
    )
    sink, parser, leftover = parse(feed, data)
    assert sink.head.chunked
    assert sink.head.content_length is None
    assert not sink.head.should_close
    assert bytes(sink.body) == b"hello world0123456789"
    assert sink.completed == 1
    assert leftover == b""
    assert not parser.in_message


def test_chunked_empty_body(feed: Feed) -> None:
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert bytes(sink.body) == b""
    assert sink.completed == 1


def test_chunked_lf_only(feed: Feed) -> None:
    data = b"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n"
    sink, _, _ = parse(feed, data)
    assert bytes(sink.body) == b"abc"
    assert sink.completed == 1


def test_chunked_then_next_response_is_leftover(feed: Feed) -> None:
    nxt = b"HTTP/1.1 204 No Content\r\n\r\n"
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n" + nxt
    sink, _, leftover = parse(feed, data)
    assert bytes(sink.body) == b"hi"
    assert leftover == nxt


def test_chunked_wins_over_content_length_and_closes(feed: Feed) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )
    sink, _, _ = parse(feed, data)
    assert sink.head.chunked
    assert sink.head.should_close, "a message with both TE and CL is suspect: do not reuse"
    assert bytes(sink.body) == b"abc"


def test_transfer_encoding_not_ending_in_chunked_is_close_delimited(feed: Feed) -> None:
    sink, parser, _ = parse(feed, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nrawdata")
    assert not sink.head.chunked
    assert sink.head.should_close
    parser.feed_eof()
    assert bytes(sink.body) == b"rawdata"
    assert sink.completed == 1


def test_transfer_encoding_case_insensitive(feed: Feed) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n"
    sink, _, _ = parse(feed, data)
    assert sink.head.chunked
    assert sink.head.transfer_coding == "gzip", "the connection undoes it (framing only here)"
    assert bytes(sink.body) == b"x"


@pytest.mark.parametrize(
    ("value", "coding"),
    [
        (b"chunked", ""),
        (b"identity, chunked", ""),
        (b"gzip, chunked", "gzip"),
        (b"x-gzip,chunked", "x-gzip"),
        (b"Deflate, gzip, chunked", "deflate, gzip"),
        (b"gzip", "gzip"),
    ],
)
def test_transfer_codings_to_undo(feed: Feed, value: bytes, coding: str) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + value + b"\r\n\r\n"
    sink, _, _ = parse(feed, data)
    assert sink.head.transfer_coding == coding


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (b"compress, chunked", "Unsupported transfer coding 'compress'"),
        (b"br, chunked", "Unsupported transfer coding 'br'"),
        (b"chunked, chunked", "chunked is not the final coding"),
        (b"chunked, gzip", "chunked is not the final coding"),
    ],
)
def test_transfer_codings_we_cannot_undo_are_refused(feed: Feed, value: bytes, error: str) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + value + b"\r\n\r\n0\r\n\r\n"
    with pytest.raises(ProtocolError, match=error):
        parse(feed, data)


@pytest.mark.parametrize(
    "chunks",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",
        b"\r\nabc\r\n0\r\n\r\n",
        b"3\r\nabcX\r\n0\r\n\r\n",
        b"-3\r\nabc\r\n0\r\n\r\n",
        b"11111111111111111\r\n",
        b"3xyz\r\nabc\r\n0\r\n\r\n",
        b"3 4\r\nabc\r\n0\r\n\r\n",
        b"0x3\r\nabc\r\n0\r\n\r\n",
        b"3\x00\r\nabc\r\n0\r\n\r\n",
        b"\xd9\xa3\r\nabc\r\n0\r\n\r\n",
    ],
    ids=[
        "not-hex",
        "empty-size",
        "no-crlf-after-data",
        "negative",
        "too-many-digits",
        "trailing-garbage",
        "two-numbers",
        "0x-prefix",
        "nul",
        "non-ascii-digit",
    ],
)
def test_bad_chunks_rejected(feed: Feed, chunks: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(feed, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)


def test_chunk_size_line_too_long(feed: Feed) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;" + b"x" * 5000
    with pytest.raises(ProtocolError, match="too long"):
        parse(feed, data)


def test_bad_trailer_rejected(feed: Feed) -> None:
    data = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n"
    with pytest.raises(ProtocolError):
        parse(feed, data)


@pytest.mark.parametrize(
    "cut",
    [
        b"5\r\nhel",
        b"5\r\nhello",
        b"5\r\nhello\r\n",
        b"5\r\nhello\r\n0\r\n",
        b"5\r\nhello\r\n0\r\nX: y\r\n",
    ],
)
def test_chunked_truncated_is_error(feed: Feed, cut: bytes) -> None:
    sink, parser, _ = parse(feed, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + cut)
    with pytest.raises(ProtocolError):
        parser.feed_eof()
    assert sink.completed == 0


# -- messages without a body --------------------------------------------------------------


def test_head_response_has_no_body(feed: Feed) -> None:
    nxt = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"
    sink, parser, leftover = parse(
        feed, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + nxt, method="HEAD"
    )
    assert sink.events == ["head 200", "complete"]
    assert bytes(sink.body) == b""
    assert leftover == nxt
    assert not parser.in_message
    assert sink.head.headers["Content-Length"] == "100"


def test_head_response_chunked_header_has_no_body(feed: Feed) -> None:
    sink, _, leftover = parse(
        feed, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", method="HEAD"
    )
    assert sink.completed == 1
    assert leftover == b""


@pytest.mark.parametrize("status", [204, 304])
def test_204_and_304_have_no_body(feed: Feed, status: int) -> None:
    nxt = b"HTTP/1.1 200 OK\r\n\r\n"
    data = b'HTTP/1.1 %d X\r\nContent-Length: 10\r\nETag: "e"\r\n\r\n' % status + nxt
    sink, _, leftover = parse(feed, data)
    assert sink.events == [f"head {status}", "complete"]
    assert leftover == nxt
    assert not sink.head.should_close, "no body means the connection stays in sync"


def test_informational_responses_before_final(feed: Feed) -> None:
    data = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    )
    sink, _, _ = parse(feed, data)
    assert [h.status for h in sink.informational] == [100, 103]
    assert sink.informational[1].headers["Link"] == "</style.css>; rel=preload"
    assert sink.events == ["info 100", "info 103", "head 200", "complete"]
    assert bytes(sink.body) == b"ok"


def test_informational_responses_are_capped(feed: Feed) -> None:
    early = b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
    final = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    sink, _, _ = parse(feed, early * MAX_INFORMATIONAL + final)
    assert len(sink.informational) == MAX_INFORMATIONAL == 100
    assert bytes(sink.body) == b"ok"
    with pytest.raises(ProtocolError, match="More than 100 informational"):
        parse(feed, early * (MAX_INFORMATIONAL + 1) + final)


def test_the_informational_count_starts_again_with_each_request(feed: Feed) -> None:
    early = b"HTTP/1.1 102 Processing\r\n\r\n" * MAX_INFORMATIONAL
    final = b"HTTP/1.1 204 No Content\r\n\r\n"
    sink, parser, leftover = parse(feed, early + final)
    assert leftover == b"" and sink.completed == 1
    parser.start("GET")
    assert feed(parser, early + final) == b""
    assert sink.completed == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_101_without_an_upgrade_request_is_an_error(feed: Feed, method: str) -> None:
    data = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00"
    with pytest.raises(ProtocolError, match="asked for no upgrade"):
        parse(feed, data, method)


def test_101_switching_protocols_leaves_tunnel_bytes(feed: Feed) -> None:
    data = (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        b"\x81\x05hello"
    )
    sink, parser, leftover = parse(feed, data, upgrade=True)
    assert sink.head.status == 101
    assert sink.head.upgraded
    assert parser.tunneled
    assert not parser.in_message
    assert leftover == b"\x81\x05hello"
    assert bytes(sink.body) == b""
    assert parser.feed(b"more") == b"more", "after a tunnel, every byte belongs to it"


def test_connect_2xx_is_a_tunnel(feed: Feed) -> None:
    data = b"HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n\x16\x03\x01"
    sink, parser, leftover = parse(feed, data, method="CONNECT")
    assert sink.head.upgraded
    assert parser.tunneled
    assert leftover == b"\x16\x03\x01"


def test_connect_refused_has_a_body(feed: Feed) -> None:
    data = b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\nauth"
    sink, parser, _ = parse(feed, data, method="CONNECT")
    assert not sink.head.upgraded
    assert bytes(sink.body) == b"auth"
    assert not parser.tunneled


# -- keep-alive ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "connection", "should_close"),
    [
        (b"1.1", None, False),
        (b"1.1", b"close", True),
        (b"1.1", b"Close", True),
        (b"1.1", b"keep-alive", False),
        (b"1.0", None, True),
        (b"1.0", b"keep-alive", False),
        (b"1.0", b"Keep-Alive", False),
        (b"1.0", b"close", True),
    ],
)
def test_keep_alive_rules(
    feed: Feed, version: bytes, connection: bytes | None, should_close: bool
) -> None:
    data = b"HTTP/" + version + b" 200 OK\r\nContent-Length: 0\r\n"
    if connection is not None:
        data += b"Connection: " + connection + b"\r\n"
    sink, _, _ = parse(feed, data + b"\r\n")
    assert sink.head.should_close is should_close


def test_close_delimited_1_1_closes(feed: Feed) -> None:
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\r\n\r\nabc")
    assert sink.head.should_close


# -- limits -------------------------------------------------------------------------------


def test_status_line_too_long(feed: Feed) -> None:
    data = b"HTTP/1.1 200 " + b"x" * 200 + b"\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(ProtocolError, match="longer than 100"):
        parse(feed, data, max_line_size=100)


def test_status_line_too_long_refused_before_the_line_ends(feed: Feed) -> None:
    sink = Recorder()
    parser = ResponseParser(sink, max_line_size=100)
    parser.start("GET")
    with pytest.raises(ProtocolError, match="longer than 100"):
        feed(parser, b"HTTP/1.1 200 " + b"x" * 500)


def test_header_line_too_long(feed: Feed) -> None:
    data = b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * 200 + b"\r\nContent-Length: 0\r\n\r\n"
    with pytest.raises(ProtocolError, match="Header line longer than 100"):
        parse(feed, data, max_line_size=100)


def test_default_line_limit_is_8190() -> None:
    ok = b"HTTP/1.1 200 OK\r\nX: " + b"v" * (8190 - 3) + b"\r\n\r\n"
    sink, _, _ = parse(feed_whole, ok)
    assert len(sink.head.headers["X"]) == 8187
    too_long = b"HTTP/1.1 200 OK\r\nX: " + b"v" * (8190 - 2) + b"\r\n\r\n"
    with pytest.raises(ProtocolError, match="8190"):
        parse(feed_whole, too_long)


def test_header_block_too_large(feed: Feed) -> None:
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"v" * 50) for i in range(20))
    with pytest.raises(ProtocolError, match="larger than 500"):
        parse(feed, b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n", max_head_size=500)


def test_header_block_refused_before_it_ends(feed: Feed) -> None:
    """A server that never ends its head is cut off once the limit is passed."""
    sink = Recorder()
    parser = ResponseParser(sink, max_head_size=1000)
    parser.start("GET")
    fed = 0
    with pytest.raises(ProtocolError, match="larger than 1000"):
        feed(parser, b"HTTP/1.1 200 OK\r\n")
        for i in range(1000):
            line = b"X-%d: value\r\n" % i
            feed(parser, line)
            fed += len(line)
    assert fed < 1100
    assert sink.heads == []


def test_too_many_headers(feed: Feed) -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(11))
    with pytest.raises(ProtocolError, match="More than 10"):
        parse(feed, b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n", max_header_count=10)
    ok = b"".join(b"X-%d: v\r\n" % i for i in range(10))
    sink, _, _ = parse(feed, b"HTTP/1.1 200 OK\r\n" + ok + b"\r\n", max_header_count=10)
    assert len(raw_headers(sink.head)) == 10


def test_default_header_count_limit() -> None:
    fields = b"".join(b"X-%d: v\r\n" % i for i in range(257))
    with pytest.raises(ProtocolError, match="256"):
        parse(feed_whole, b"HTTP/1.1 200 OK\r\n" + fields + b"\r\n")


# -- EOF ----------------------------------------------------------------------------------


def test_eof_before_any_byte() -> None:
    parser = ResponseParser(Recorder())
    parser.start("GET")
    with pytest.raises(ProtocolError, match="before sending a response"):
        parser.feed_eof()


def test_eof_in_the_middle_of_the_head(feed: Feed) -> None:
    sink, parser, _ = parse(feed, b"HTTP/1.1 200 OK\r\nContent-Le")
    with pytest.raises(ProtocolError, match="middle of the response head"):
        parser.feed_eof()
    assert sink.heads == []


# -- property tests -----------------------------------------------------------------------

_TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_names = st.text(alphabet=_TCHAR, min_size=1, max_size=20).filter(
    lambda n: n.lower() not in ("content-length", "transfer-encoding", "connection")
)
_values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=0, max_size=30
).map(lambda v: v.replace(":", "") and v)
_inner_values = st.lists(_values, min_size=1, max_size=3).map(" ".join).map(str.strip)


def _splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, start = [], 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


@settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(st.tuples(_names, _inner_values), max_size=15),
    body=st.binary(max_size=500),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
)
def test_property_headers_and_body_survive_any_split(
    headers: list[tuple[str, str]], body: bytes, cuts: list[int]
) -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(f"{n}: {v}\r\n".encode() for n, v in headers)
    data = head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    sink = Recorder()
    parser = ResponseParser(sink)
    parser.start("GET")
    leftover = b"".join(parser.feed(piece) for piece in _splits(data, cuts))
    assert leftover == b""
    expected = (
        *((n.encode(), v.encode()) for n, v in headers),
        (b"Content-Length", str(len(body)).encode()),
    )
    assert raw_headers(sink.head) == expected
    for name, value in headers:
        assert value in sink.head.headers.getall(name)
    assert bytes(sink.body) == body
    assert sink.completed == 1


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=2000),
    sizes=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=20),
    cuts=st.lists(st.integers(min_value=0), max_size=15),
    upper=st.booleans(),
)
def test_property_chunked_same_result_for_any_split(
    body: bytes, sizes: list[int], cuts: list[int], upper: bool
) -> None:
    encoded = bytearray(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    pos, i = 0, 0
    while pos < len(body):
        piece = body[pos : pos + sizes[i % len(sizes)]]
        size = b"%X" % len(piece) if upper else b"%x" % len(piece)
        encoded += size + b"\r\n" + piece + b"\r\n"
        pos += len(piece)
        i += 1
    encoded += b"0\r\n\r\n"
    whole, _, whole_left = parse(feed_whole, bytes(encoded))
    sink = Recorder()
    parser = ResponseParser(sink)
    parser.start("GET")
    leftover = b"".join(parser.feed(p) for p in _splits(bytes(encoded), cuts))
    assert bytes(sink.body) == bytes(whole.body) == body
    assert sink.completed == whole.completed == 1
    assert leftover == whole_left == b""


# -- the request head ---------------------------------------------------------------------


def test_serialize_request_head_exact_bytes() -> None:
    head = serialize_request_head(
        "GET", "/path?q=1", [("Host", "example.test"), ("X-Dup", "1"), ("X-Dup", "2")]
    )
    assert head == (
        b"GET /path?q=1 HTTP/1.1\r\nHost: example.test\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n"
    )


def test_serialize_request_head_utf8_value() -> None:
    head = serialize_request_head("POST", "/", [("X-Name", "café")])
    assert b"X-Name: caf\xc3\xa9\r\n" in head


@pytest.mark.parametrize("method", ["GE\rT", "GET\n", "G\x00ET", "GET /x", "", "GET:"])
def test_bad_method_refused(method: str) -> None:
    with pytest.raises(client.InvalidRequestHeaderError):
        serialize_request_head(method, "/", [])


@pytest.mark.parametrize("target", ["/a\r\nX: y", "/a\nb", "/a\rb", "/a\x00", "/a b", ""])
def test_bad_target_refused(target: str) -> None:
    with pytest.raises(client.InvalidRequestHeaderError):
        serialize_request_head("GET", target, [])


@pytest.mark.parametrize(
    "name", ["X-A\r\nInjected", "X\n", "X\r", "X\x00", "X A", "X:A", "", "X-é"]
)
def test_bad_header_name_refused(name: str) -> None:
    with pytest.raises(client.InvalidRequestHeaderError):
        serialize_request_head("GET", "/", [(name, "v")])


@pytest.mark.parametrize(
    "value", ["a\r\nInjected: 1", "a\nb", "a\rb", "a\x00b", "\r\n", "end\r\n\r\nGET / HTTP/1.1"]
)
def test_bad_header_value_refused(value: str) -> None:
    with pytest.raises(client.InvalidRequestHeaderError) as info:
        serialize_request_head("GET", "/", [("Host", "h"), ("X-A", value)])
    assert isinstance(info.value, ValueError)


def test_invalid_request_header_error_is_a_value_error() -> None:
    assert issubclass(client.InvalidRequestHeaderError, ValueError)
    assert issubclass(client.InvalidRequestHeaderError, client.ClientError)


@pytest.mark.parametrize(
    "eol",
    [
        b"\r\n",
        pytest.param(
            b"\n",
        ),
    ],
    ids=["crlf", "lf"],
)
def test_header_line_one_over_the_limit(feed: Feed, eol: bytes) -> None:
    line = b"X: " + b"v" * 98  # 101 bytes, not counting the line ending
    data = b"HTTP/1.1 200 OK" + eol + line + eol + b"Content-Length: 0" + eol + eol
    with pytest.raises(ProtocolError, match="longer than 100"):
        parse(feed, data, max_line_size=100)
    ok = b"HTTP/1.1 200 OK" + eol + line[:-1] + eol + b"Content-Length: 0" + eol + eol
    sink, _, _ = parse(feed, ok, max_line_size=100)
    assert len(sink.head.headers["X"]) == 97


def test_transfer_encoding_split_over_lines_chunked_last(feed: Feed) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )
    sink, _, _ = parse(feed, data)
    assert sink.head.chunked
    assert bytes(sink.body) == b"abc"
    assert sink.completed == 1


def test_transfer_encoding_split_over_lines_chunked_not_last(feed: Feed) -> None:
    """One list across lines: "chunked, gzip" would be gzip over chunked framing, read to
    EOF (RFC 9112 §6.3); undoing it would mean de-chunking decoded bytes, so it is refused
    rather than handed over still encoded."""
    data = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )
    with pytest.raises(ProtocolError, match="chunked is not the final coding"):
        parse(feed, data)


@pytest.mark.parametrize("first", [b"keep-alive", b"Upgrade"])
def test_connection_close_on_a_second_field_line(feed: Feed, first: bytes) -> None:
    data = (
        b"HTTP/1.1 200 OK\r\nConnection: " + first + b"\r\nConnection: close\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    sink, _, _ = parse(feed, data)
    assert sink.head.should_close


_safe_values = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n\x00"),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(headers=st.lists(st.tuples(_names, _safe_values), max_size=10))
def test_property_request_head_lines_are_exactly_the_headers(
    headers: list[tuple[str, str]],
) -> None:
    head = serialize_request_head("GET", "/p", headers)
    lines = head.split(b"\r\n")
    assert lines[0] == b"GET /p HTTP/1.1"
    assert lines[-2:] == [b"", b""]
    assert lines[1:-2] == [f"{n}: {v}".encode() for n, v in headers]


@settings(max_examples=150, deadline=None)
@given(
    headers=st.lists(st.tuples(_names, _safe_values), min_size=1, max_size=5),
    which=st.integers(min_value=0),
    where=st.integers(min_value=0),
    bad=st.sampled_from(["\r", "\n", "\x00", "\r\n"]),
    in_name=st.booleans(),
)
def test_property_any_cr_lf_nul_is_refused(
    headers: list[tuple[str, str]], which: int, where: int, bad: str, in_name: bool
) -> None:
    index = which % len(headers)
    name, value = headers[index]
    if in_name:
        cut = where % (len(name) + 1)
        name = name[:cut] + bad + name[cut:]
    else:
        cut = where % (len(value) + 1)
        value = value[:cut] + bad + value[cut:]
    headers[index] = (name, value)
    with pytest.raises(client.InvalidRequestHeaderError):
        serialize_request_head("GET", "/", headers)


# -- heads seen before ----------------------------------------------------------------------


def test_a_repeated_head_is_framed_for_each_request(feed: Feed) -> None:
    """The same header bytes again (parsed heads are remembered): framed by the method of
    the request at hand and checked against the parser's own limits, every time."""
    message = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Tag: " + b"t" * 100 + b"\r\n\r\n"
    first, _, _ = parse(feed, message + b"hello")
    again, _, _ = parse(feed, message + b"hello")
    assert again.head == first.head and bytes(again.body) == b"hello"
    assert again.head.headers["X-Tag"] == "t" * 100
    head_sink, head_parser, leftover = parse(feed, message, "HEAD")
    assert head_sink.head.content_length is None and head_sink.completed == 1
    assert leftover == b"" and not head_parser.in_message
    with pytest.raises(ProtocolError, match="longer than 64"):
        parse(feed, message + b"hello", max_line_size=64)
    with pytest.raises(ProtocolError, match="More than 1 response headers"):
        parse(feed, message + b"hello", max_header_count=1)
