"""The sans-IO WebSocket layer: handshake checks, frame writer, frame reader.

Every reader case is fed twice: whole, and one byte at a time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from client.exceptions import WebSocketError
from client.websocket import (
    FrameReader,
    FrameWriter,
    HandshakeError,
    HandshakeResult,
    WSCloseCode,
    WSMessage,
    WSMsgType,
    accept_key,
    check_handshake,
    make_handshake_headers,
)

pytestmark = pytest.mark.timeout(30)

# --- helpers: what a server would send, and what a server would see -------------------


def frame(opcode: int, payload: bytes = b"", *, fin: bool = True, rsv: int = 0) -> bytes:
    """An unmasked (server) frame."""
    first = (0x80 if fin else 0) | rsv | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, 126, n)
    else:
        head = struct.pack("!BBQ", first, 127, n)
    return head + payload


def unmask(wire: bytes) -> tuple[bytes, list[tuple[int, bytes, bytes]]]:
    """Turn client frames into server frames; also return (first byte, key, payload) each."""
    out = bytearray()
    seen = []
    pos = 0
    while pos < len(wire):
        b0, b1 = wire[pos], wire[pos + 1]
        assert b1 & 0x80, "client frames must be masked"
        n, pos = b1 & 0x7F, pos + 2
        if n == 126:
            (n,) = struct.unpack_from("!H", wire, pos)
            pos += 2
        elif n == 127:
            (n,) = struct.unpack_from("!Q", wire, pos)
            pos += 8
        key, pos = wire[pos : pos + 4], pos + 4
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(wire[pos : pos + n]))
        pos += n
        seen.append((b0, key, payload))
        out += frame(b0 & 0x0F, payload, fin=bool(b0 & 0x80), rsv=b0 & 0x70)
    return bytes(out), seen


def fast_unmask(wire: bytes) -> bytes:
    """unmask() for big messages (no per-byte loop)."""
    out = bytearray()
    pos = 0
    while pos < len(wire):
        b0, b1 = wire[pos], wire[pos + 1]
        n, pos = b1 & 0x7F, pos + 2
        if n == 126:
            (n,) = struct.unpack_from("!H", wire, pos)
            pos += 2
        elif n == 127:
            (n,) = struct.unpack_from("!Q", wire, pos)
            pos += 8
        key, pos = wire[pos : pos + 4], pos + 4
        stream = (key * (n // 4 + 1))[:n]
        x = int.from_bytes(wire[pos : pos + n], "big") ^ int.from_bytes(stream, "big")
        out += frame(b0 & 0x0F, x.to_bytes(n, "big"), fin=bool(b0 & 0x80), rsv=b0 & 0x70)
        pos += n
    return bytes(out)


def deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(wbits=-15)
    out = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def read_both(data: bytes, **kwargs: object) -> list[WSMessage]:
    """Messages from ``data`` fed whole and byte by byte; both ways must agree."""
    whole = FrameReader(**kwargs).feed(data)  # type: ignore[arg-type]
    reader = FrameReader(**kwargs)  # type: ignore[arg-type]
    split: list[WSMessage] = []
    for i in range(len(data)):
        reader.feed(data[i : i + 1], split)
    assert whole == split
    return whole


def fails_both(data: bytes, code: int, **kwargs: object) -> list[WSMessage]:
    """``data`` must raise WebSocketError(code) fed whole and byte by byte."""
    with pytest.raises(WebSocketError) as whole:
        FrameReader(**kwargs).feed(data)  # type: ignore[arg-type]
    assert whole.value.code == code
    reader = FrameReader(**kwargs)  # type: ignore[arg-type]
    before: list[WSMessage] = []
    with pytest.raises(WebSocketError) as split:
        for i in range(len(data)):
            reader.feed(data[i : i + 1], before)
    assert split.value.code == code
    return before


# --- values ---------------------------------------------------------------------------


def test_enum_values_match_aiohttp() -> None:
    assert [int(m) for m in WSMsgType] == [0, 1, 2, 9, 10, 8, 256, 257, 258]
    assert WSMsgType.CLOSE == 8 and WSMsgType.ERROR == 258
    assert WSCloseCode.OK == 1000 and WSCloseCode.ABNORMAL_CLOSURE == 1006
    assert WSCloseCode.MESSAGE_TOO_BIG == 1009 and WSCloseCode.BAD_GATEWAY == 1014
    assert len(WSCloseCode) == 13


def test_message_json() -> None:
    msg = WSMessage(WSMsgType.TEXT, '{"a": [1, 2]}', "")
    assert msg.json() == {"a": [1, 2]}
    assert msg.json(loads=lambda s: ("custom", s)) == ("custom", msg.data)
    assert msg.type is WSMsgType.TEXT and msg.extra == ""


# --- handshake ------------------------------------------------------------------------


def test_handshake_headers_minimal() -> None:
    headers, key = make_handshake_headers((), 0, None)
    assert headers == {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key,
    }
    assert len(base64.b64decode(key, validate=True)) == 16  # §4.1: 16 random bytes
    assert make_handshake_headers((), 0, None)[1] != key


def test_handshake_headers_protocols_compress_origin() -> None:
    headers, _ = make_handshake_headers(("chat", "superchat"), 15, "http://o.example")
    assert headers["Sec-WebSocket-Protocol"] == "chat, superchat"
    assert headers["Sec-WebSocket-Extensions"] == "permessage-deflate; client_max_window_bits"
    assert headers["Origin"] == "http://o.example"
    headers, _ = make_handshake_headers((), 10, None)
    assert headers["Sec-WebSocket-Extensions"] == (
        "permessage-deflate; client_max_window_bits; server_max_window_bits=10"
    )
    for bad in (8, 16, -1):
        with pytest.raises(ValueError):
            make_handshake_headers((), bad, None)


def test_accept_key_rfc_example() -> None:
    # §1.3's worked example
    assert accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def good(key: str, **extra: str) -> dict[str, str]:
    return {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Accept": accept_key(key),
        **extra,
    }


KEY = "dGhlIHNhbXBsZSBub25jZQ=="
NONE = HandshakeResult(None, 0, False, False)


def test_check_handshake_accepts() -> None:
    assert check_handshake(101, good(KEY), KEY, (), 0) == NONE
    lower = {
        k.lower(): v.upper() if k != "Sec-WebSocket-Accept" else v for k, v in good(KEY).items()
    }
    lower["connection"] = "keep-alive, UPGRADE"
    assert check_handshake(101, lower, KEY, (), 0) == NONE
    ci = CIMultiDict(good(KEY))
    assert check_handshake(101, ci, KEY, (), 0) == NONE


@pytest.mark.parametrize(
    ("status", "headers", "message"),
    [
        (200, good(KEY), "Invalid response status"),
        (101, {**good(KEY), "Upgrade": "h2c"}, "Invalid upgrade header"),
        (101, {k: v for k, v in good(KEY).items() if k != "Upgrade"}, "Invalid upgrade header"),
        (101, {**good(KEY), "Connection": "close"}, "Invalid connection header"),
        (
            101,
            {k: v for k, v in good(KEY).items() if k != "Connection"},
            "Invalid connection header",
        ),
        (
            101,
            {**good(KEY), "Sec-WebSocket-Accept": accept_key("other")},
            "Invalid challenge response",
        ),
        (
            101,
            {k: v for k, v in good(KEY).items() if "Accept" not in k},
            "Invalid challenge response",
        ),
    ],
)
def test_check_handshake_rejects(status: int, headers: dict[str, str], message: str) -> None:
    with pytest.raises(HandshakeError, match=message) as info:
        check_handshake(status, headers, KEY, (), 0)
    assert isinstance(info.value, ValueError)


def test_check_handshake_protocol() -> None:
    offered = ("chat", "superchat")
    headers = good(KEY, **{"Sec-WebSocket-Protocol": "superchat"})
    assert check_handshake(101, headers, KEY, offered, 0).protocol == "superchat"
    for bad in ("other", "chat, superchat"):
        with pytest.raises(HandshakeError, match="Invalid protocol"):
            check_handshake(101, good(KEY, **{"Sec-WebSocket-Protocol": bad}), KEY, offered, 0)
    with pytest.raises(HandshakeError, match="Invalid protocol"):  # we offered none
        check_handshake(101, good(KEY, **{"Sec-WebSocket-Protocol": "chat"}), KEY, (), 0)


def ext(value: str, compress: int = 15) -> HandshakeResult:
    return check_handshake(
        101, good(KEY, **{"Sec-WebSocket-Extensions": value}), KEY, (), compress
    )


def test_check_handshake_deflate_params() -> None:
    assert ext("permessage-deflate") == HandshakeResult(None, 15, False, False)
    assert ext("permessage-deflate; server_no_context_takeover") == (None, 15, True, False)
    assert ext("Permessage-Deflate;client_no_context_takeover") == (None, 15, False, True)
    assert ext("permessage-deflate; client_max_window_bits=10") == (None, 10, False, False)
    assert ext('permessage-deflate; client_max_window_bits="12"', 10) == (None, 12, False, False)
    # Our window is the server's to limit, not the one we asked of the server (aiohttp's too).
    assert ext("permessage-deflate; server_max_window_bits=10", 10).compress == 15
    assert ext("permessage-deflate; server_max_window_bits=8").compress == 15


@pytest.mark.parametrize(
    "value",
    [
        "x-webkit-deflate-frame",  # §9.1: an extension we did not offer
        "permessage-deflate, permessage-deflate",
        "permessage-deflate; unknown_param",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_max_window_bits",  # a response must carry a value
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=8",  # zlib cannot compress with 8
        "permessage-deflate; client_max_window_bits=09",
        "permessage-deflate; client_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=abc",
    ],
)
def test_check_handshake_bad_extensions(value: str) -> None:
    with pytest.raises(HandshakeError, match=r"Invalid (extension|compress parameters)"):
        ext(value)


def test_check_handshake_extension_not_offered() -> None:
    with pytest.raises(HandshakeError, match="Invalid extension"):
        ext("permessage-deflate", 0)
    with pytest.raises(HandshakeError):  # the server may not raise our window (§7.1.2.1)
        ext("permessage-deflate; server_max_window_bits=12", 10)


def test_check_handshake_extension_header_lines_combine() -> None:
    headers = CIMultiDict(good(KEY))
    headers.add("Sec-WebSocket-Extensions", "permessage-deflate")
    assert check_handshake(101, headers, KEY, (), 15).compress == 15
    headers.add("Sec-WebSocket-Extensions", "permessage-deflate")
    with pytest.raises(HandshakeError):
        check_handshake(101, headers, KEY, (), 15)


# --- writer ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 100_003])
def test_writer_masks_and_sizes(size: int) -> None:
    payload = os.urandom(size)
    wire = FrameWriter().binary(payload)
    b0, b1 = wire[0], wire[1]
    assert b0 == 0x82 and b1 & 0x80  # FIN, BINARY, MASK (§5.3)
    expected_len_bytes = 0 if size < 126 else 2 if size < 65536 else 8
    assert len(wire) == 2 + expected_len_bytes + 4 + size
    server = unmask(wire)[0] if size < 70000 else fast_unmask(wire)
    got = read_both(server) if size < 300 else FrameReader().feed(server)
    assert got == [WSMessage(WSMsgType.BINARY, payload, "")]


def test_writer_fresh_mask_per_frame() -> None:
    writer = FrameWriter()
    keys = {unmask(writer.text("same"))[1][0][1] for _ in range(20)}
    assert len(keys) > 15


def test_writer_control_frames() -> None:
    writer = FrameWriter()
    _, [(b0, _, payload)] = unmask(writer.ping(b"hi"))
    assert (b0, payload) == (0x89, b"hi")
    _, [(b0, _, payload)] = unmask(writer.pong(b""))
    assert (b0, payload) == (0x8A, b"")
    _, [(b0, _, payload)] = unmask(writer.close(WSCloseCode.GOING_AWAY, "bye ü"))
    assert (b0, payload) == (0x88, b"\x03\xe9" + "bye ü".encode())
    assert unmask(writer.close(1000, b"x" * 123))[1][0][2][:2] == b"\x03\xe8"
    with pytest.raises(ValueError):
        writer.ping(b"x" * 126)
    with pytest.raises(ValueError):
        writer.close(1000, "x" * 124)  # 2 + 124 > 125


def test_writer_fragments() -> None:
    writer = FrameWriter(fragment_size=4)
    server, seen = unmask(writer.text("abcdefghij"))
    assert [(b0, p) for b0, _, p in seen] == [(0x01, b"abcd"), (0x00, b"efgh"), (0x80, b"ij")]
    assert read_both(server) == [WSMessage(WSMsgType.TEXT, "abcdefghij", "")]
    _, seen = unmask(writer.binary(b"abcd"))
    assert [b0 for b0, _, _ in seen] == [0x82]
    _, seen = unmask(writer.binary(b"abcdefgh"))
    assert [(b0, p) for b0, _, p in seen] == [(0x02, b"abcd"), (0x80, b"efgh")]


def test_writer_compresses_with_context_takeover() -> None:
    writer = FrameWriter(compress=15)
    data = b"hello hello hello hello"
    _, [(b0, _, first)] = unmask(writer.binary(data))
    assert b0 == 0xC2  # FIN, RSV1, BINARY
    inflater = zlib.decompressobj(-15)
    assert inflater.decompress(first + b"\x00\x00\xff\xff") == data
    _, [(_, _, second)] = unmask(writer.binary(data))
    assert len(second) < len(first)  # the repeat refers back to the first message
    assert inflater.decompress(second + b"\x00\x00\xff\xff") == data


def test_writer_compresses_without_context_takeover() -> None:
    writer = FrameWriter(compress=15, notakeover=True)
    data = b"hello hello hello hello"
    messages = [unmask(writer.binary(data))[1][0][2] for _ in range(3)]
    assert messages[0] == messages[1] == messages[2]
    for payload in messages:  # each inflates on its own
        assert zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff") == data


def test_writer_compressed_fragments_rsv1_first_only() -> None:
    writer = FrameWriter(compress=15, fragment_size=8)
    data = os.urandom(50)
    server, seen = unmask(writer.binary(data))
    assert seen[0][0] == 0x42 and all(b0 & 0x70 == 0 for b0, _, _ in seen[1:])
    assert read_both(server, compress=True) == [WSMessage(WSMsgType.BINARY, data, "")]


def test_writer_per_message_window_override() -> None:
    writer = FrameWriter(compress=15)
    data = b"abc" * 100
    _, [(b0, _, payload)] = unmask(writer.binary(data, compress=9))
    assert b0 == 0xC2
    assert zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff") == data
    # the override neither used nor disturbed the shared context
    server, _ = unmask(writer.binary(data) + writer.binary(data, compress=9))
    assert FrameReader(compress=True).feed(server) == [WSMessage(WSMsgType.BINARY, data, "")] * 2


def test_writer_without_negotiation_ignores_compress() -> None:
    _, [(b0, _, payload)] = unmask(FrameWriter().text("plain", compress=15))
    assert (b0, payload) == (0x81, b"plain")


# --- reader: good streams ---------------------------------------------------------------


def test_reader_text_binary_control() -> None:
    data = (
        frame(1, "héllo".encode())
        + frame(2, b"\x00\xff")
        + frame(9, b"ping")
        + frame(10, b"")
        + frame(1, b"x" * 300)
        + frame(2, b"y" * 70000)
        + frame(8, b"\x03\xe8done")
    )
    assert read_both(data) == [
        WSMessage(WSMsgType.TEXT, "héllo", ""),
        WSMessage(WSMsgType.BINARY, b"\x00\xff", ""),
        WSMessage(WSMsgType.PING, b"ping", ""),
        WSMessage(WSMsgType.PONG, b"", ""),
        WSMessage(WSMsgType.TEXT, "x" * 300, ""),
        WSMessage(WSMsgType.BINARY, b"y" * 70000, ""),
        WSMessage(WSMsgType.CLOSE, 1000, "done"),
    ]


def test_reader_empty_close_is_1005_and_input_after_close_ignored() -> None:
    assert read_both(frame(8) + frame(1, b"late")) == [WSMessage(WSMsgType.CLOSE, 1005, "")]
    reader = FrameReader()
    assert reader.feed(frame(8, b"\x0f\xa0")) == [WSMessage(WSMsgType.CLOSE, 4000, "")]
    assert reader.feed(frame(1, b"late")) == []


def test_reader_fragments_with_interleaved_control() -> None:
    data = (
        frame(1, b"he", fin=False)
        + frame(9, b"p1")
        + frame(0, b"ll", fin=False)
        + frame(10, b"p2")
        + frame(0, b"o", fin=True)
        + frame(2, b"a", fin=False)
        + frame(0, b"b", fin=True)
    )
    assert read_both(data) == [
        WSMessage(WSMsgType.PING, b"p1", ""),
        WSMessage(WSMsgType.PONG, b"p2", ""),
        WSMessage(WSMsgType.TEXT, "hello", ""),
        WSMessage(WSMsgType.BINARY, b"ab", ""),
    ]


def test_reader_utf8_split_across_fragments() -> None:
    raw = "€uro 😀".encode()  # multi-byte characters cut in the middle
    data = frame(1, raw[:1], fin=False) + frame(0, raw[1:7], fin=False) + frame(0, raw[7:])
    assert read_both(data) == [WSMessage(WSMsgType.TEXT, "€uro 😀", "")]


@pytest.mark.parametrize("code", [1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 4999])
def test_reader_valid_close_codes(code: int) -> None:
    assert read_both(frame(8, struct.pack("!H", code))) == [WSMessage(WSMsgType.CLOSE, code, "")]


def test_reader_compressed_messages() -> None:
    comp = zlib.compressobj(wbits=-15)

    def shared(data: bytes) -> bytes:  # a server with context takeover
        return (comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH))[:-4]

    first = shared(b"abcabcabc")
    second = shared(b"abcabcabc")
    data = (
        frame(1, first, rsv=0x40)
        + frame(2, b"raw")  # an uncompressed message in between
        + frame(2, second[:2], fin=False, rsv=0x40)
        + frame(9, b"p")
        + frame(0, second[2:])
        + frame(1, shared(b""), rsv=0x40)
    )
    assert read_both(data, compress=True) == [
        WSMessage(WSMsgType.TEXT, "abcabcabc", ""),
        WSMessage(WSMsgType.BINARY, b"raw", ""),
        WSMessage(WSMsgType.PING, b"p", ""),
        WSMessage(WSMsgType.BINARY, b"abcabcabc", ""),
        WSMessage(WSMsgType.TEXT, "", ""),
    ]


def test_reader_messages_before_error_are_kept() -> None:
    before = fails_both(frame(1, b"ok") + frame(9, b"p") + frame(3), 1002)
    assert before == [WSMessage(WSMsgType.TEXT, "ok", ""), WSMessage(WSMsgType.PING, b"p", "")]
    reader = FrameReader()
    out: list[WSMessage] = []
    with pytest.raises(WebSocketError):
        reader.feed(frame(1, b"ok") + frame(3), out)
    assert out == [WSMessage(WSMsgType.TEXT, "ok", "")]
    assert reader.feed(frame(1, b"later")) == []  # a failed reader takes no more input


# --- reader: violations -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"\x81\x82abcd" + bytes([ord("h") ^ 97, ord("i") ^ 98]), id="masked §5.1"),
        pytest.param(frame(1, b"x", rsv=0x40), id="rsv1 without extension"),
        pytest.param(frame(1, b"x", rsv=0x20), id="rsv2"),
        pytest.param(frame(1, b"x", rsv=0x10), id="rsv3"),
        *[pytest.param(frame(op), id=f"reserved opcode {op}") for op in (3, 4, 5, 6, 7)],
        *[pytest.param(frame(op), id=f"reserved opcode {op}") for op in (11, 12, 13, 14, 15)],
        pytest.param(frame(9, b"p", fin=False), id="fragmented ping"),
        pytest.param(frame(8, b"\x03\xe8", fin=False), id="fragmented close"),
        pytest.param(frame(9, b"p" * 126), id="ping over 125"),
        pytest.param(frame(10, b"p" * 126), id="pong over 125"),
        pytest.param(frame(0, b"x"), id="continuation without start"),
        pytest.param(frame(1, b"a", fin=False) + frame(1, b"b"), id="text during fragmented"),
        pytest.param(frame(2, b"a", fin=False) + frame(2, b"b"), id="binary during fragmented"),
        pytest.param(frame(8, b"\x03"), id="close with one byte"),
        *[
            pytest.param(frame(8, struct.pack("!H", c)), id=f"close code {c}")
            for c in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535)
        ],
        pytest.param(b"\x82\x7f" + struct.pack("!Q", 1 << 63), id="64-bit length MSB"),
    ],
)
def test_reader_protocol_errors(data: bytes) -> None:
    fails_both(data, WSCloseCode.PROTOCOL_ERROR)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(frame(9, b"p", rsv=0x40), id="rsv1 on control"),
        pytest.param(
            frame(1, b"a", fin=False) + frame(0, b"b", rsv=0x40), id="rsv1 on continuation"
        ),
        pytest.param(frame(1, b"a", rsv=0x20), id="rsv2 with extension"),
        pytest.param(frame(2, b"\xff\xff\xff\xff", rsv=0x40), id="not deflate data"),
    ],
)
def test_reader_protocol_errors_with_deflate(data: bytes) -> None:
    fails_both(data, WSCloseCode.PROTOCOL_ERROR, compress=True)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(frame(1, b"\xff"), id="single frame"),
        pytest.param(frame(1, b"\xc3\x28"), id="bad continuation byte"),
        pytest.param(frame(1, b"ok", fin=False) + frame(0, b"\xed\xa0\x80"), id="surrogate"),
        pytest.param(frame(1, b"\xe2\x82", fin=False) + frame(0, b""), id="truncated at end"),
        pytest.param(frame(8, b"\x03\xe8\xff"), id="close reason"),
    ],
)
def test_reader_invalid_utf8(data: bytes) -> None:
    fails_both(data, WSCloseCode.INVALID_TEXT)


def test_reader_invalid_utf8_fails_fast_in_fragments() -> None:
    reader = FrameReader()
    with pytest.raises(WebSocketError) as info:
        reader.feed(frame(1, b"\xff", fin=False))  # no need to wait for the last fragment
    assert info.value.code == 1007


def test_reader_compressed_invalid_utf8() -> None:
    fails_both(frame(1, deflate(b"\xff\xfe"), rsv=0x40), 1007, compress=True)


def test_reader_too_big_raised_on_declared_length() -> None:
    reader = FrameReader(max_msg_size=1000)
    head = b"\x82\x7f" + struct.pack("!Q", 10**9)  # no payload bytes sent at all
    with pytest.raises(WebSocketError) as info:
        reader.feed(head)
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG
    fails_both(frame(2, b"x" * 1001), 1009, max_msg_size=1000)
    assert read_both(frame(2, b"x" * 1000), max_msg_size=1000)[0].data == b"x" * 1000


def test_reader_too_big_across_fragments() -> None:
    data = frame(1, b"x" * 600, fin=False) + frame(9) + frame(0, b"x" * 401)
    before = fails_both(data, 1009, max_msg_size=1000)
    assert before == [WSMessage(WSMsgType.PING, b"", "")]
    ok = frame(1, b"x" * 600, fin=False) + frame(0, b"x" * 400) + frame(1, b"y" * 1000)
    assert [len(m.data) for m in read_both(ok, max_msg_size=1000)] == [1000, 1000]


def test_reader_decompression_bomb() -> None:
    bomb = deflate(b"\x00" * 10_000_000)  # ~10 KB on the wire
    assert len(bomb) < 20_000
    with pytest.raises(WebSocketError) as info:
        FrameReader(max_msg_size=1_000_000, compress=True).feed(frame(2, bomb, rsv=0x40))
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG
    ok = deflate(b"\x00" * 1000)
    assert read_both(frame(2, ok, rsv=0x40), max_msg_size=1000, compress=True)[0].data == (
        b"\x00" * 1000
    )
    fails_both(frame(2, deflate(b"\x00" * 1001), rsv=0x40), 1009, max_msg_size=1000, compress=True)


def test_reader_unlimited_when_zero() -> None:
    assert FrameReader(max_msg_size=0).feed(frame(2, b"z" * 5_000_000))[0].data == b"z" * 5_000_000


# --- round trips ------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    messages=st.lists(st.one_of(st.text(max_size=300), st.binary(max_size=300)), max_size=6),
    fragment=st.sampled_from([0, 1, 7, 64]),
    compress=st.sampled_from([0, 9, 15]),
    notakeover=st.booleans(),
    split=st.integers(min_value=1, max_value=50),
)
def test_round_trip(
    messages: list[str | bytes], fragment: int, compress: int, notakeover: bool, split: int
) -> None:
    writer = FrameWriter(compress=compress, notakeover=notakeover, fragment_size=fragment)
    wire = b"".join(writer.text(m) if isinstance(m, str) else writer.binary(m) for m in messages)
    wire += writer.ping(b"end")
    server, _ = unmask(wire)
    reader = FrameReader(compress=bool(compress))
    got: list[WSMessage] = []
    for i in range(0, len(server), split):
        reader.feed(server[i : i + split], got)
    expected = [
        WSMessage(WSMsgType.TEXT if isinstance(m, str) else WSMsgType.BINARY, m, "")
        for m in messages
    ]
    assert got == [*expected, WSMessage(WSMsgType.PING, b"end", "")]


def test_ten_mib_fragmented_round_trip() -> None:
    data = os.urandom(10 * 1024 * 1024)
    for compress in (0, 15):
        writer = FrameWriter(compress=compress, fragment_size=64 * 1024)
        server = fast_unmask(writer.binary(data))
        reader = FrameReader(max_msg_size=11 * 1024 * 1024, compress=bool(compress))
        got: list[WSMessage] = []
        for i in range(0, len(server), 65536 + 7):  # chunks that straddle frame edges
            reader.feed(server[i : i + 65536 + 7], got)
        assert len(got) == 1 and got[0].type is WSMsgType.BINARY
        assert hashlib.sha256(got[0].data).digest() == hashlib.sha256(data).digest()


def test_ten_mib_text_json() -> None:
    doc = {"k": "é" * (5 * 1024 * 1024)}
    server = fast_unmask(FrameWriter(fragment_size=1 << 20).text(json.dumps(doc)))
    [msg] = FrameReader(max_msg_size=0).feed(server)
    assert msg.json() == doc
