"""Response content decoders: every codec whole and byte by byte, chains, corruption, bombs."""

from __future__ import annotations

import gzip
import itertools
import os
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import brotli
import pytest
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from client.config import UNSET
from client.decoders import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    RATIO_SLACK,
    WHOLE_READ_RATIO,
    ContentDecoder,
    ExpansionMeter,
    decompression_ratios,
    make_decoder,
)
from client.exceptions import ClientPayloadError, DecompressionLimitError
from tests.servers.bomb import gzip_bomb as valid_gzip_bomb

pytestmark = pytest.mark.timeout(30)

BODY = b"".join(b"line %d of a body that compresses well\n" % i for i in range(3000))
MiB = 1 << 20


def zlib_wrapped(data: bytes) -> bytes:
    return zlib.compress(data)


def raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(write_checksum=True).compress(data)


CODECS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.compress,
    "x-gzip": gzip.compress,
    "deflate": zlib_wrapped,
    "br": brotli.compress,
    "zstd": zstd,
}


def decoder(encoding: str, **kwargs: int | None) -> ContentDecoder:
    dec = make_decoder(encoding, **kwargs)
    assert dec is not None
    return dec


def decode_whole(encoding: str, data: bytes) -> bytes:
    dec = decoder(encoding)
    return dec.decompress(data) + dec.flush()


def decode_bytewise(encoding: str, data: bytes) -> bytes:
    dec = decoder(encoding)
    out = [dec.decompress(data[i : i + 1]) for i in range(len(data))]
    return b"".join(out) + dec.flush()


@pytest.mark.parametrize("encoding", sorted(CODECS))
@pytest.mark.parametrize("feed", [decode_whole, decode_bytewise], ids=["whole", "bytewise"])
def test_each_codec_round_trips(encoding: str, feed: Callable[[str, bytes], bytes]) -> None:
    assert feed(encoding, CODECS[encoding](BODY)) == BODY


@pytest.mark.parametrize("encoding", sorted(CODECS))
def test_empty_body_decodes_to_nothing(encoding: str) -> None:
    assert decode_whole(encoding, b"") == b""


def test_encoding_names_are_case_and_space_insensitive() -> None:
    assert decode_whole(" GZip ", gzip.compress(BODY)) == BODY


@pytest.mark.parametrize("value", ["", "identity", "compress", "gzip, foo", " , "])
def test_identity_and_unknown_codings_pass_through(value: str) -> None:
    assert make_decoder(value) is None


def test_accept_encoding_lists_what_can_be_decoded() -> None:
    assert ACCEPT_ENCODING == "gzip, deflate, br, zstd"
    for name in ACCEPT_ENCODING.split(", "):
        assert make_decoder(name) is not None


def test_default_limit_is_one_gibibyte() -> None:
    assert DEFAULT_MAX_DECOMPRESSED_SIZE == 1 << 30


# --- gzip and deflate specifics ---------------------------------------------------------


@pytest.mark.parametrize("feed", [decode_whole, decode_bytewise], ids=["whole", "bytewise"])
def test_concatenated_gzip_members_decode_in_order(feed: Callable[[str, bytes], bytes]) -> None:
    data = gzip.compress(b"first ") + gzip.compress(b"second ") + gzip.compress(BODY)
    assert feed("gzip", data) == b"first second " + BODY


@pytest.mark.parametrize("feed", [decode_whole, decode_bytewise], ids=["whole", "bytewise"])
def test_padding_after_the_last_gzip_member_is_ignored(
    feed: Callable[[str, bytes], bytes],
) -> None:
    assert feed("gzip", gzip.compress(BODY) + b"\0" * 7) == BODY


@pytest.mark.parametrize("feed", [decode_whole, decode_bytewise], ids=["whole", "bytewise"])
def test_deflate_accepts_raw_and_zlib_wrapped(feed: Callable[[str, bytes], bytes]) -> None:
    assert feed("deflate", zlib_wrapped(BODY)) == BODY
    assert feed("deflate", raw_deflate(BODY)) == BODY
    assert feed("deflate", raw_deflate(b"")) == b""


@pytest.mark.parametrize("feed", [decode_whole, decode_bytewise], ids=["whole", "bytewise"])
def test_zstd_frames_and_skippable_frames(feed: Callable[[str, bytes], bytes]) -> None:
    plain = zstandard.ZstdCompressor(write_checksum=False, write_content_size=False)
    skippable = (0x184D2A53).to_bytes(4, "little") + (5).to_bytes(4, "little") + b"skip!"
    data = zstd(b"one ") + skippable + plain.compress(b"two ") + zstd(BODY)
    assert feed("zstd", data) == b"one two " + BODY
    rle = zstandard.ZstdCompressor(level=19).compress(b"\0" * 500000)  # RLE blocks
    assert feed("zstd", rle) == b"\0" * 500000


def test_zstd_window_over_8_mib_is_refused() -> None:
    """RFC 9659 §3: decoders may limit the window to 8 MiB; we do, to bound our memory."""
    params = zstandard.ZstdCompressionParameters(window_log=24, enable_ldm=True)
    big = zstandard.ZstdCompressor(compression_params=params).compress(os.urandom(1 << 16) * 300)
    with pytest.raises(ClientPayloadError, match="zstd"):
        decode_whole("zstd", big)


# --- chains (RFC 9110 §8.4: listed in the order applied, undone in reverse) ------------------


@pytest.mark.parametrize("feed", [decode_whole, decode_bytewise], ids=["whole", "bytewise"])
def test_chained_codings_decode_in_reverse(feed: Callable[[str, bytes], bytes]) -> None:
    assert feed("gzip, br", brotli.compress(gzip.compress(BODY))) == BODY
    assert feed("deflate,zstd, gzip", gzip.compress(zstd(zlib_wrapped(BODY)))) == BODY
    assert feed("identity, gzip", gzip.compress(BODY)) == BODY


def test_chain_in_the_wrong_order_is_corrupt() -> None:
    with pytest.raises(ClientPayloadError):
        decode_whole("br, gzip", brotli.compress(gzip.compress(BODY)))


# --- corrupt and truncated input --------------------------------------------------------------


@pytest.mark.parametrize("encoding", sorted(CODECS))
def test_corrupt_input_raises_payload_error(encoding: str) -> None:
    data = bytearray(CODECS[encoding](BODY))
    garbage = b"this is not compressed data at all" * 4
    with pytest.raises(ClientPayloadError, match="content-encoding"):
        decode_whole(encoding, garbage)
    # A flipped bit in the middle of a valid stream: caught by the codec or its checksum.
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(ClientPayloadError):
        decode_whole(encoding, bytes(data))


@pytest.mark.parametrize("encoding", sorted(CODECS))
@pytest.mark.parametrize("keep", [1, 5, -4, -1])
def test_truncated_stream_raises_at_flush(encoding: str, keep: int) -> None:
    data = CODECS[encoding](BODY)
    dec = decoder(encoding)
    dec.decompress(data[:keep])  # the first bytes, or all but the last four
    with pytest.raises(ClientPayloadError, match="truncated"):
        dec.flush()


def test_errors_are_not_raw_codec_errors() -> None:
    with pytest.raises(ClientPayloadError) as info:
        decode_whole("gzip", b"\x1f\x8bnonsense")
    assert info.value.__cause__ is None
    assert not isinstance(info.value, zlib.error)


# --- bounded expansion --------------------------------------------------------------------


@pytest.mark.parametrize("encoding", sorted(CODECS))
def test_limit_allows_exactly_max_size(encoding: str) -> None:
    data = CODECS[encoding](BODY)
    dec = decoder(encoding, max_size=len(BODY))
    assert dec.decompress(data) + dec.flush() == BODY
    dec = decoder(encoding, max_size=len(BODY) - 1)
    with pytest.raises(DecompressionLimitError):
        dec.decompress(data)
        dec.flush()


def test_no_limit_when_max_size_is_none() -> None:
    assert decoder("gzip", max_size=None).decompress(gzip.compress(BODY)) == BODY


def test_limit_is_on_the_total_across_calls() -> None:
    dec = decoder("deflate", max_size=len(BODY) * 2)
    data = zlib_wrapped(BODY * 3)
    with pytest.raises(DecompressionLimitError):
        for i in range(0, len(data), 100):
            dec.decompress(data[i : i + 100])


def gzip_bomb() -> bytes:
    """1 GiB of zeros as gzip, built from one repeated full-flush block (~1 MB, fast)."""
    zeros = bytes(MiB)
    obj = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    head = obj.compress(zeros) + obj.flush(zlib.Z_FULL_FLUSH)
    block = obj.compress(zeros) + obj.flush(zlib.Z_FULL_FLUSH)
    return head + block * 1023 + obj.flush()  # the trailer is never reached


def stream_bomb(compress: Callable[[bytes], bytes], finish: Callable[[], bytes]) -> bytes:
    zeros = bytes(MiB)
    return b"".join(compress(zeros) for _ in range(1024)) + finish()


def bombs() -> Iterator[tuple[str, Callable[[], bytes]]]:
    yield "gzip", gzip_bomb
    yield "deflate", lambda: gzip_bomb()[10:]  # the same blocks, raw
    br = brotli.Compressor(quality=1)
    yield "br", lambda: stream_bomb(br.process, br.finish)
    zs = zstandard.ZstdCompressor(level=1).compressobj()
    yield "zstd", lambda: stream_bomb(zs.compress, zs.flush)


@pytest.mark.parametrize(("encoding", "make_bomb"), list(bombs()), ids=lambda v: str(v)[:7])
def test_bomb_stops_at_max_size_without_allocating_more(
    encoding: str, make_bomb: Callable[[], bytes]
) -> None:
    bomb = make_bomb()
    assert len(bomb) < 2 * MiB  # a small input that would expand to 1 GiB
    limit = 8 * MiB
    dec = decoder(encoding, max_size=limit)
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionLimitError, match="limit"):
            dec.decompress(bomb)  # one call: the whole bomb at once
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit + MiB


def test_bomb_fed_in_small_chunks_stops_too() -> None:
    bomb = gzip_bomb()
    dec = decoder("gzip", max_size=4 * MiB)
    produced = 0
    with pytest.raises(DecompressionLimitError):
        for i in range(0, len(bomb), 512):
            produced += len(dec.decompress(bomb[i : i + 512]))
    assert produced <= 4 * MiB


# -- the expansion ratio (ExpansionMeter) --------------------------------------------------


@pytest.mark.parametrize(("encoding", "make_bomb"), list(bombs()), ids=lambda v: str(v)[:7])
def test_a_ratio_bound_stops_a_bomb_soon_after_the_slack(
    encoding: str, make_bomb: Callable[[], bytes]
) -> None:
    """Every codec stops once its output passes ratio x encoded + slack: for a bomb fed at
    once that is right after the slack, whatever max_size allows."""
    bomb = make_bomb()
    meter = ExpansionMeter(ratio=100)
    dec = make_decoder(encoding, max_size=None, meter=meter)
    assert dec is not None
    tracemalloc.start()
    try:
        with pytest.raises(DecompressionLimitError, match="more than 100 times"):
            for i in range(0, len(bomb), 4096):
                dec.decompress(bomb[i : i + 4096])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert meter.encoded <= len(bomb)
    assert peak < RATIO_SLACK + 100 * meter.encoded + 2 * MiB


def test_without_a_ratio_the_meter_only_counts() -> None:
    bomb = valid_gzip_bomb(64 * MiB)
    meter = ExpansionMeter()
    dec = make_decoder("gzip", max_size=None, meter=meter)
    assert dec is not None
    produced = sum(len(dec.decompress(bomb[i : i + 65536])) for i in range(0, len(bomb), 65536))
    assert produced + len(dec.flush()) == 64 * MiB
    assert meter.encoded == len(bomb)


def test_reading_whole_switches_the_whole_read_ratio_on_mid_body() -> None:
    bomb = gzip_bomb()
    meter = ExpansionMeter(None, whole_ratio=50)
    dec = make_decoder("gzip", max_size=None, meter=meter)
    assert dec is not None
    assert len(dec.decompress(bomb[:20000])) > RATIO_SLACK  # streamed: no ratio yet
    meter.reading_whole()
    with pytest.raises(DecompressionLimitError, match="read whole: stream it"):
        dec.decompress(bomb[20000:40000])


def test_an_explicit_ratio_is_not_blamed_on_reading_whole() -> None:
    meter = ExpansionMeter(10.0, 10.0)
    meter.reading_whole()
    dec = make_decoder("gzip", max_size=None, meter=meter)
    assert dec is not None
    with pytest.raises(DecompressionLimitError) as caught:
        dec.decompress(gzip_bomb()[:40000])
    assert "stream it" not in str(caught.value)
    assert "raise or lift max_decompression_ratio" in str(caught.value)


def test_ordinary_compressed_text_passes_a_ratio_bound() -> None:
    rows = (b"%d,user%d,2026-12-08T01:%02d:00Z,ok\n" % (i, i % 97, i % 60) for i in range(600_000))
    text = b"".join(rows)
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    packed = packer.compress(text) + packer.flush()
    assert len(text) > RATIO_SLACK + 4 * MiB and len(text) / len(packed) > 3
    meter = ExpansionMeter(WHOLE_READ_RATIO, WHOLE_READ_RATIO)
    dec = make_decoder("gzip", max_size=None, meter=meter)
    assert dec is not None
    out = b"".join(dec.decompress(packed[i : i + 65536]) for i in range(0, len(packed), 65536))
    assert out + dec.flush() == text


def test_every_stage_of_a_chain_is_bounded() -> None:
    """A bomb in the outer coding of ``gzip, gzip`` is stopped at the first stage: its
    output (garbage to the second) never piles up."""
    meter = ExpansionMeter(ratio=100)
    dec = make_decoder("gzip", max_size=None, transfer_coding="gzip", meter=meter)
    assert dec is not None
    with pytest.raises(DecompressionLimitError):
        dec.decompress(gzip_bomb())


@pytest.mark.parametrize(
    ("value", "ratios"),
    [(UNSET, (WHOLE_READ_RATIO, None)), (None, (None, None)), (50, (50.0, 50.0))],
    ids=["not-given", "none", "number"],
)
def test_session_ratio_setting(value: object, ratios: tuple[float | None, float | None]) -> None:
    assert decompression_ratios(value) == ratios


@pytest.mark.parametrize("value", [0, -1.5])
def test_a_ratio_must_be_positive(value: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        decompression_ratios(value)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
def test_decoding_50_mb_keeps_memory_flat(encoding: str) -> None:
    """A 50 MB body, compressed and decoded as a stream, never held whole."""
    compressor: object
    if encoding == "gzip":
        compressor = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        compressor = zlib.compressobj(1)
    elif encoding == "br":
        compressor = brotli.Compressor(quality=1)
    else:
        compressor = zstandard.ZstdCompressor(level=1).compressobj()
    compress = getattr(compressor, "process", None) or compressor.compress  # type: ignore[attr-defined]
    finish = getattr(compressor, "finish", None) or compressor.flush  # type: ignore[attr-defined]
    dec = decoder(encoding)
    total = 0
    pending = b""
    tracemalloc.start()
    try:
        for i in range(801):  # 800 × 64 KiB = 50 MiB, then the end of the stream
            # 64 KiB pieces, each new: compressible 32:1, but not across pieces.
            pending += compress(os.urandom(2048) * 32) if i < 800 else finish()
            while len(pending) >= 16384 or (i == 800 and pending):
                # Re-cut into 16 KiB pieces, as reads from a socket would arrive.
                total += len(dec.decompress(pending[:16384]))
                pending = pending[16384:]
        total += len(dec.flush())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 800 * 65536
    assert peak < 4 * MiB


# --- any split of any body ------------------------------------------------------------------


@given(
    body=st.binary(max_size=5000),
    cuts=st.lists(st.integers(min_value=0, max_value=6000), max_size=12),
    encoding=st.sampled_from([*sorted(CODECS), "gzip, br", "deflate, zstd"]),
)
@settings(max_examples=150, deadline=None, database=None)
def test_any_chunking_decodes_the_same(body: bytes, cuts: list[int], encoding: str) -> None:
    data = body
    for name in (part.strip() for part in encoding.split(",")):
        data = CODECS[name](data)
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    dec = decoder(encoding)
    out = b"".join(dec.decompress(data[a:b]) for a, b in itertools.pairwise(bounds))
    assert out + dec.flush() == body
