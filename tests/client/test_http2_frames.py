"""The HTTP/2 frame reader and the remembering HPACK coders, against h2 and hpack themselves.

Every byte stream is fed three ways (whole, one byte at a time, in random pieces): the
frames, the events h2 makes of them and the bodies must not change.
"""

from __future__ import annotations

import random

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest
from hpack import Decoder, Encoder
from hyperframe.frame import ContinuationFrame, DataFrame, HeadersFrame, PingFrame

from client.http2_frames import FrameReader, QuietDataFrame
from client.http2_hpack import install as install_hpack
from client.http2_writer import H2Writer

pytestmark = pytest.mark.timeout(60)


def frames_bytes() -> bytes:
    headers = HeadersFrame(1, data=Encoder().encode([(b":status", b"200")]))
    headers.flags.add("END_HEADERS")
    body = [DataFrame(1, data=bytes([i]) * 1000) for i in range(5)]
    body[-1].flags.add("END_STREAM")
    padded = DataFrame(3, data=b"padded", pad_length=4)
    padded.flags.add("PADDED")
    split = HeadersFrame(3, data=b"\x88")  # a header block continued in the next frame
    more = ContinuationFrame(3, data=b"")
    more.flags.add("END_HEADERS")
    ping = PingFrame(0, opaque_data=b"12345678")
    frames = [headers, *body[:3], ping, *body[3:], split, more, padded]
    return b"".join(f.serialize() for f in frames)


def pieces(data: bytes, how: str) -> list[bytes]:
    if how == "whole":
        return [data]
    if how == "bytes":
        return [data[i : i + 1] for i in range(len(data))]
    rng = random.Random(7)
    out, i = [], 0
    while i < len(data):
        step = rng.randint(1, 700)
        out.append(data[i : i + step])
        i += step
    return out


def read_all(chunks: list[bytes]) -> list[tuple[str, int, bytes, frozenset[str]]]:
    reader = FrameReader()
    reader.max_frame_size = 16384
    got = []
    for chunk in chunks:
        reader.add_data(chunk)
        for frame in reader:
            data = getattr(frame, "data", b"")
            got.append((type(frame).__name__, frame.stream_id, data, frozenset(frame.flags)))
    return got


@pytest.mark.parametrize("how", ["whole", "bytes", "random"])
def test_frames_read_alike_however_the_bytes_arrive(how: str) -> None:
    got = read_all(pieces(frames_bytes(), how))
    data = [(s, d, f) for kind, s, d, f in got if kind == "QuietDataFrame"]
    # Adjacent unpadded DATA frames of one stream in one read arrive merged: the bytes and
    # the END_STREAM flag are what matter.
    assert b"".join(d for s, d, _f in data if s == 1) == b"".join(
        bytes([i]) * 1000 for i in range(5)
    )
    assert [f for s, _d, f in data if s == 1][-1] == frozenset({"END_STREAM"})
    kinds = [kind for kind, *_ in got]
    assert kinds.count("HeadersFrame") == 2 and kinds.count("PingFrame") == 1
    assert ("DataFrame", 3, b"padded", frozenset({"PADDED"})) in got  # padded: as is
    if how == "whole":
        assert [len(d) for s, d, _f in data if s == 1] == [3000, 2000]  # PING splits the run


def test_an_oversized_frame_is_refused_even_inside_a_run() -> None:
    small = DataFrame(1, data=b"x" * 10).serialize()
    big = DataFrame(1, data=b"y" * 20_000).serialize()
    reader = FrameReader()
    reader.max_frame_size = 16384
    reader.add_data(small + big)
    with pytest.raises(h2.exceptions.FrameTooLargeError):
        list(reader)


def test_garbage_is_a_protocol_error() -> None:
    reader = FrameReader()
    reader.max_frame_size = 16384
    reader.add_data(b"\x00\x00\x04\x00\x00\x00\x00\x00\x00abcd")  # DATA on stream 0
    with pytest.raises(h2.exceptions.ProtocolError):
        list(reader)


def test_merged_data_keeps_h2s_windows_and_content_length() -> None:
    """A whole response through a real h2 client connection with our reader installed."""
    server = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
    h2c = H2Writer(None)._h2  # type: ignore[arg-type]  # no loop needed to parse
    server.initiate_connection()
    h2c.initiate_connection()
    server.receive_data(h2c.data_to_send())
    h2c.receive_data(server.data_to_send())
    server.receive_data(h2c.data_to_send())
    h2c.send_headers(1, [(b":method", b"GET"), (b":scheme", b"https"),
                         (b":authority", b"a"), (b":path", b"/")], end_stream=True)  # fmt: skip
    server.receive_data(h2c.data_to_send())
    body = bytes(range(256)) * 200  # 51,200 bytes: within the default 64 KiB windows
    server.send_headers(1, [(b":status", b"200"), (b"content-length", str(len(body)).encode())])
    for i in range(0, len(body), 8192):
        server.send_data(1, body[i : i + 8192], end_stream=i + 8192 >= len(body))
    events = []
    for chunk in pieces(server.data_to_send(), "random"):
        events += h2c.receive_data(chunk)
    data = b"".join(e.data for e in events if isinstance(e, h2.events.DataReceived))
    assert data == body
    assert any(isinstance(e, h2.events.StreamEnded) for e in events)
    assert h2c.inbound_flow_control_window == 65535 - len(body)
    assert repr(next(e for e in events if isinstance(e, h2.events.DataReceived)))
    assert QuietDataFrame(1, data=b"x" * 100).__repr__().endswith("<100 bytes>")


def test_hpack_blocks_are_remembered_only_while_they_are_valid() -> None:
    h2c = h2.connection.H2Connection()
    install_hpack(h2c)
    encoder = h2c.encoder
    fields = [(b":method", b"GET"), (b"x-a", b"1"), (b"x-b", b"2")]
    sent: list[tuple[bytes, list[tuple[bytes, bytes]]]] = []

    def send(headers: list[tuple[bytes, bytes]]) -> bytes:
        block = encoder.encode(headers)
        sent.append((block, headers))
        return block

    first = send(fields)  # indexes x-a and x-b: not remembered
    second = send(fields)  # all indexed now: remembered
    assert send(fields) is second
    send([(b"x-c", b"3")])  # a new entry shifts the indexes of the others
    third = send(fields)
    assert third != second and send(fields) is third
    assert first != second
    reference = Decoder()  # a peer decoding every block in order sees every field
    for block, headers in sent:
        assert reference.decode(block, raw=True) == headers

    decoder = h2c.decoder
    plain = Encoder()
    # As nginx codes its fields: static-table indexes and literals it does not index.
    block = plain.encode([(b":status", b"200"), (b"server", b"nginx", True)])
    never = [(b":status", b"200"), (b"server", b"nginx")]
    first_decode = decoder.decode(block, raw=True)
    second_decode = decoder.decode(block, raw=True)
    assert first_decode == never and second_decode == never
    assert second_decode is not first_decode  # a copy of what is remembered
    assert not decoder.header_table.dynamic_entries
    indexed = Encoder()
    with_table = indexed.encode([(b"x-new", b"v")])  # adds to the table: never remembered
    assert list(decoder.decode(with_table, raw=True)) == [(b"x-new", b"v")]
    assert decoder.header_table.dynamic_entries
    again = indexed.encode([(b"x-new", b"v")])  # now an index into the dynamic table
    assert list(decoder.decode(again, raw=True)) == [(b"x-new", b"v")]
