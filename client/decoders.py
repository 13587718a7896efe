"""Response content decoders: gzip, deflate, br and zstd, incremental and bounded.

Rules / theory of operation:

- A decoder turns the bytes of a ``Content-Encoding``-ed body into the original bytes, one
  chunk at a time (``decompress``), and ``flush`` ends the stream. Memory stays constant:
  nothing is kept but the codec's own window.
- The expanded size is bounded *while* decompressing: every codec call is given an output
  limit of what is left under ``max_size`` (plus one byte, to tell "exactly at the limit"
  from "over it"), so a bomb never allocates more than ``max_size`` before
  ``DecompressionLimitError`` is raised.
- The expansion *ratio* can be bounded too, through an ``ExpansionMeter`` shared by every
  stage of a body's decoder: once a stage's output passes ``RATIO_SLACK`` bytes it may not
  exceed ``ratio`` times the encoded bytes received so far. No real file expands like a
  bomb (deflate's ceiling is about 1032:1, and bombs sit right at it), so the ratio tells
  them apart long before the size limit would; the slack lets small bodies of one
  repeated byte through. The meter's ratio may be switched on mid-body (see
  ``ExpansionMeter.reading_whole``).
- Corrupt input, and a compressed stream that stops before its end marker, raise
  ``ClientPayloadError``. An empty body is accepted for any encoding (a server that labels
  an empty body ``gzip`` has sent nothing to decode).
- An encoding we do not know means "pass the body through raw": ``make_decoder`` returns
  ``None``, as curl and aiohttp do.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from typing import IO, Any, Protocol, cast

from .exceptions import ClientPayloadError, DecompressionLimitError


def _optional(module: str) -> Any:
    """An optional codec library (the ``brotli`` and ``zstd`` extras), or ``None``."""
    try:
        return importlib.import_module(module)
    except ImportError:  # pragma: no cover - depends on the installed extras
        return None


brotli = _optional("brotli")
zstandard = _optional("zstandard")

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "RATIO_SLACK",
    "WHOLE_READ_RATIO",
    "ContentDecoder",
    "ExpansionMeter",
    "decompression_ratios",
    "make_decoder",
]

# 1 GiB. curl and browsers set no limit because they stream to disk or screen; our callers
# often hold the body in memory (``resp.read()``), where an unbounded expansion of a few
# kilobytes is a denial of service. Legitimate ``Content-Encoding`` bodies above 1 GiB
# expanded are rare (big archives are served as ``application/gzip``, not encoded), and the
# limit is per decoder so ``None`` lifts it for the callers that need it.
DEFAULT_MAX_DECOMPRESSED_SIZE = 1 << 30

# The expansion ratio a compressed body read whole may have (decoded ÷ encoded bytes), and
# how much it may expand before the ratio counts. Text, JSON, HTML and logs compress 3-30:1,
# very repetitive data a few times more; a gzip or deflate bomb sits at ~1000:1, a brotli
# or zstd one far above. With these, a 1 GiB bomb read whole is refused after about
# 20 MiB, instead of growing the process by up to the size limit.
WHOLE_READ_RATIO = 200.0
RATIO_SLACK = 16 << 20

# RFC 9659 §3: zstd in HTTP uses at most an 8 MiB window; refusing larger windows bounds the
# decoder's own memory, which a hostile frame header could otherwise set to gigabytes.
_ZSTD_MAX_WINDOW = 8 << 20

_GZIP_MAGIC = b"\x1f\x8b"

# Output is produced in steps of at most 64 KiB: the codecs build each result by growing a
# buffer and copying it, so big steps would briefly need twice their size.
_STEP = 1 << 16
_IN_SLICE = 1 << 14


class ContentDecoder(Protocol):
    """An incremental decoder for one response body."""

    def decompress(self, data: bytes) -> bytes:
        """Decode the next chunk of the body; may return ``b""``."""
        ...

    def flush(self) -> bytes:
        """End of body: return what is left, or raise if the stream was cut short."""
        ...


class ExpansionMeter:
    """The encoded bytes one body's decoder has been given, and the ratio its stages'
    output may reach (``None``: no ratio bound).

    ``whole_ratio`` is the bound switched on by ``reading_whole()``: the caller is about to
    keep the entire decoded body in memory, where a bomb does its damage.
    """

    __slots__ = ("encoded", "ratio", "read_whole", "whole_ratio")

    def __init__(self, ratio: float | None = None, whole_ratio: float | None = None) -> None:
        self.encoded = 0
        self.ratio = ratio
        self.whole_ratio = whole_ratio
        self.read_whole = False

    def reading_whole(self) -> None:
        if self.ratio is None and self.whole_ratio is not None:
            self.ratio = self.whole_ratio
            self.read_whole = True

    def refuse(self, encoding: str, expanded: int) -> DecompressionLimitError:
        advice = (
            "read whole: stream it (resp.content.iter_chunked), or raise or lift"
            if self.read_whole
            else "raise or lift"
        )
        return DecompressionLimitError(
            f"{encoding} body expands more than {self.ratio:g} times its {self.encoded} "
            f"encoded bytes ({expanded} bytes so far; a decompression bomb?); {advice} "
            "max_decompression_ratio to read it"
        )


def decompression_ratios(value: object) -> tuple[float | None, float | None]:
    """``ClientSession(max_decompression_ratio=)`` as (ratio for whole reads, for any read).

    Not given: ``WHOLE_READ_RATIO`` for bodies read whole, none for streamed reads. A
    number: that ratio for every read. ``None``: no ratio bound at all.
    """
    if value is None:
        return None, None
    if not isinstance(value, int | float):
        return WHOLE_READ_RATIO, None  # not given (the session's sentinel)
    if not value > 0:
        raise ValueError(f"max_decompression_ratio must be positive, not {value!r}")
    return float(value), float(value)


class _Budget:
    """The output one codec may still produce under ``max_size`` (and the meter's ratio)."""

    __slots__ = ("encoding", "left", "max_size", "meter", "spent")

    def __init__(
        self, max_size: int | None, encoding: str, meter: ExpansionMeter | None = None
    ) -> None:
        self.max_size = max_size
        self.left = max_size
        self.encoding = encoding
        self.meter = meter
        self.spent = 0

    def limit(self) -> int:
        """The output size of the next codec call: a step, or one byte past the budget."""
        if self.left is None:
            return _STEP
        return min(self.left + 1, _STEP)

    def spend(self, size: int) -> None:
        meter = self.meter
        if meter is not None:
            self.spent += size
            ratio = meter.ratio
            if ratio is not None and self.spent > ratio * meter.encoded + RATIO_SLACK:
                raise meter.refuse(self.encoding, self.spent)
        if self.left is None:
            return
        self.left -= size
        if self.left < 0:
            raise DecompressionLimitError(
                f"{self.encoding} body expands beyond the limit of {self.max_size} bytes "
                "(a decompression bomb?); raise or lift max_size to read it"
            )


def _corrupt(encoding: str, exc: Exception | None = None) -> ClientPayloadError:
    detail = f": {exc}" if exc is not None else ""
    return ClientPayloadError(f"Can not decode content-encoding: {encoding}{detail}")


def _truncated(encoding: str) -> ClientPayloadError:
    return ClientPayloadError(f"{encoding} stream ended before its end marker (truncated body)")


class _ZlibDecoder:
    """gzip (RFC 1952, members may be concatenated) or deflate (RFC 9110 §8.4.1.2).

    "deflate" means the zlib format (RFC 1950), but many servers send raw deflate
    (RFC 1951), so the wrapper is detected from the first two bytes: a zlib header has
    compression method 8 and a 16-bit value divisible by 31 (RFC 1950 §2.2).
    """

    __slots__ = ("_budget", "_gzip", "_members", "_obj", "_pending", "_seen", "_trailing")

    def __init__(
        self, gzip: bool, max_size: int | None, meter: ExpansionMeter | None = None
    ) -> None:
        self._gzip = gzip
        self._budget = _Budget(max_size, "gzip" if gzip else "deflate", meter)
        self._obj: Any = None  # zlib's Decompress type is not importable for annotations
        self._pending = b""  # header bytes held until the format is known
        self._seen = False  # any input at all (an empty body is not "truncated")
        self._trailing = False  # after the last gzip member: ignore the rest
        self._members = 0  # complete streams decoded so far

    def decompress(self, data: bytes) -> bytes:
        if not data or self._trailing:
            return b""
        self._seen = True
        out: list[bytes] = []
        while data and not self._trailing:
            if self._obj is None:
                data = self._start(self._pending + data)
                if self._obj is None:
                    break
            data = self._run(data, out)
        return b"".join(out)

    def _start(self, data: bytes) -> bytes:
        """Pick the format from the first two bytes; hold them back if fewer arrived."""
        if self._gzip and self._members and not _GZIP_MAGIC.startswith(data[:2]):
            # Browsers ignore bytes after the last complete member (often zero padding).
            self._trailing = True
            self._pending = b""
            return b""
        if len(data) < 2:
            self._pending = data
            return b""
        self._pending = b""
        if self._gzip:
            wbits = 16 + zlib.MAX_WBITS
        elif data[0] & 0x0F == 8 and int.from_bytes(data[:2], "big") % 31 == 0:
            wbits = zlib.MAX_WBITS
        else:
            wbits = -zlib.MAX_WBITS
        self._obj = zlib.decompressobj(wbits)
        return data

    def _run(self, data: bytes, out: list[bytes]) -> bytes:
        """Decompress ``data`` within the budget; return input left for a next member.

        Input goes in in slices: zlib copies the unread input into ``unconsumed_tail`` at
        every step, which must stay small when a big chunk expands a lot.
        """
        obj = self._obj
        view = memoryview(data)
        pos = 0
        try:
            while pos < len(data):
                piece: bytes | memoryview = view[pos : pos + _IN_SLICE]
                pos += len(piece)
                while True:
                    step = self._budget.limit()
                    chunk = obj.decompress(piece, step)
                    self._budget.spend(len(chunk))
                    if chunk:
                        out.append(chunk)
                    if obj.eof:
                        self._members += 1
                        self._obj = None
                        if not self._gzip:
                            self._trailing = True  # deflate has one stream; ignore the rest
                        return obj.unused_data + data[pos:]  # type: ignore[no-any-return]
                    piece = obj.unconsumed_tail
                    # A full step may leave output pending in zlib even with no input left.
                    if not piece and len(chunk) < step:
                        break
        except zlib.error as exc:
            raise _corrupt(self._budget.encoding, exc) from None
        return b""

    def flush(self) -> bytes:
        if self._obj is not None:
            obj, self._obj = self._obj, None
            try:
                chunk = obj.flush()
            except zlib.error as exc:
                raise _corrupt(self._budget.encoding, exc) from None
            self._budget.spend(len(chunk))
            if not obj.eof:
                raise _truncated(self._budget.encoding)
            return chunk  # type: ignore[no-any-return]
        if self._seen and self._members == 0:
            raise _truncated(self._budget.encoding)  # only a partial header arrived
        return b""


class _BrotliDecoder:
    """br (RFC 7932), bounded with the ``output_buffer_limit`` of brotli >= 1.2."""

    __slots__ = ("_budget", "_obj", "_seen")

    def __init__(self, max_size: int | None, meter: ExpansionMeter | None = None) -> None:
        self._obj = brotli.Decompressor()
        self._budget = _Budget(max_size, "br", meter)
        self._seen = False

    def decompress(self, data: bytes) -> bytes:
        if not data:
            return b""
        self._seen = True
        out: list[bytes] = []
        try:
            if not _BROTLI_BOUNDED:  # old brotli: bound after the fact
                chunk = self._obj.process(data)
                self._budget.spend(len(chunk))
                return chunk  # type: ignore[no-any-return]
            chunk = self._obj.process(data, output_buffer_limit=self._budget.limit())
            while True:
                self._budget.spend(len(chunk))
                if chunk:
                    out.append(chunk)
                # Drain: brotli may hold output even once it can take more input.
                if self._obj.is_finished() or (not chunk and self._obj.can_accept_more_data()):
                    break
                chunk = self._obj.process(b"", output_buffer_limit=self._budget.limit())
        except brotli.error as exc:
            raise _corrupt("br", exc) from None
        return b"".join(out)

    def flush(self) -> bytes:
        if self._seen and not self._obj.is_finished():
            raise _truncated("br")
        return b""


class _Sink:
    """The zstd writer's destination: collects output and enforces the budget per piece."""

    __slots__ = ("budget", "out")

    def __init__(self, budget: _Budget) -> None:
        self.budget = budget
        self.out: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.budget.spend(len(data))
        self.out.append(bytes(data))
        return len(data)


class _ZstdFrames:
    """Follows zstd frame and block boundaries (RFC 8878 §3.1) without decoding, to tell a
    complete stream from a cut one; the codec itself checks the contents.

    Each state names the fixed-size field it waits for; block contents and skippable
    frames are skipped by counting, not buffered.
    """

    __slots__ = ("_buf", "_checksum", "_need", "_skip", "_state")

    def __init__(self) -> None:
        self._state = "magic"
        self._need = 4
        self._buf = b""
        self._skip = 0
        self._checksum = False

    @property
    def complete(self) -> bool:
        return self._state == "magic" and not self._skip and not self._buf

    def feed(self, data: bytes) -> None:
        pos, end = 0, len(data)
        while pos < end and self._state != "lost":
            if self._skip:
                step = min(self._skip, end - pos)
                self._skip -= step
                pos += step
                continue
            take = self._need - len(self._buf)
            self._buf += data[pos : pos + take]
            pos += take
            if len(self._buf) < self._need:
                return
            field, self._buf = self._buf, b""
            self._field(int.from_bytes(field, "little"))

    def _expect(self, state: str, need: int) -> None:
        self._state, self._need = state, need

    def _field(self, value: int) -> None:
        state = self._state
        if state == "magic":
            if value == 0xFD2FB528:
                self._expect("descriptor", 1)
            elif value & 0xFFFFFFF0 == 0x184D2A50:  # a skippable frame (§3.1.2)
                self._expect("skip_size", 4)
            else:
                self._expect("lost", 1)  # not zstd: the codec reports it
        elif state == "skip_size":
            self._skip = value
            self._expect("magic", 4)
        elif state == "descriptor":  # Frame_Header_Descriptor (§3.1.1.1.1)
            single_segment = value >> 5 & 1
            fcs = (single_segment, 2, 4, 8)[value >> 6]
            dictionary_id = (0, 1, 2, 4)[value & 3]
            self._checksum = bool(value >> 2 & 1)
            rest = (1 - single_segment) + dictionary_id + fcs
            if rest:
                self._expect("header_rest", rest)
            else:
                self._expect("block", 3)
        elif state == "header_rest":
            self._expect("block", 3)
        elif state == "block":  # Block_Header (§3.1.1.2)
            last, kind, size = value & 1, value >> 1 & 3, value >> 3
            self._skip = 1 if kind == 1 else size  # an RLE block holds one byte
            if not last:
                self._expect("block", 3)
            elif self._checksum:
                self._expect("checksum", 4)
            else:
                self._expect("magic", 4)
        else:  # checksum
            self._expect("magic", 4)


class _ZstdDecoder:
    """zstd (RFC 8878), frames may be concatenated.

    zstandard's ``decompressobj`` has no output limit, so the stream writer is used: it
    hands output to the sink in ``write_size`` pieces and the sink raises as soon as the
    budget is spent. The writer does not say whether the last frame ended, so the frame
    boundaries are followed alongside to detect a truncated stream.
    """

    __slots__ = ("_frames", "_sink", "_writer")

    def __init__(self, max_size: int | None, meter: ExpansionMeter | None = None) -> None:
        self._sink = _Sink(_Budget(max_size, "zstd", meter))
        self._frames = _ZstdFrames()
        dctx = zstandard.ZstdDecompressor(max_window_size=_ZSTD_MAX_WINDOW)
        self._writer = dctx.stream_writer(
            cast(IO[bytes], self._sink), write_size=_STEP, closefd=False
        )

    def decompress(self, data: bytes) -> bytes:
        if not data:
            return b""
        try:
            self._writer.write(data)
        except zstandard.ZstdError as exc:
            raise _corrupt("zstd", exc) from None
        finally:
            out, self._sink.out = self._sink.out, []
        self._frames.feed(data)
        return b"".join(out)

    def flush(self) -> bytes:
        if not self._frames.complete:
            raise _truncated("zstd")
        return b""


class _ChainDecoder:
    """Several codings: ``Content-Encoding: gzip, br`` was applied gzip first, so br is
    undone first (RFC 9110 §8.4)."""

    __slots__ = ("_stages",)

    def __init__(self, stages: list[ContentDecoder]) -> None:
        self._stages = stages

    def decompress(self, data: bytes) -> bytes:
        for stage in self._stages:
            data = stage.decompress(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for stage in self._stages:
            data = stage.decompress(data) + stage.flush()
        return data


class _Metered:
    """Counts the encoded bytes going into a decoder, for its meter's ratio."""

    __slots__ = ("_inner", "_meter")

    def __init__(self, inner: ContentDecoder, meter: ExpansionMeter) -> None:
        self._inner = inner
        self._meter = meter

    def decompress(self, data: bytes) -> bytes:
        self._meter.encoded += len(data)
        return self._inner.decompress(data)

    def flush(self) -> bytes:
        return self._inner.flush()


def _brotli_bounded() -> bool:
    if brotli is None:
        return False
    try:
        brotli.Decompressor().process(b"", output_buffer_limit=1)
    except TypeError:  # pragma: no cover - brotli < 1.2
        return False
    return True


_BROTLI_BOUNDED = _brotli_bounded()

_FACTORIES: dict[str, Callable[[int | None, ExpansionMeter | None], ContentDecoder]] = {
    "gzip": lambda limit, meter: _ZlibDecoder(True, limit, meter),
    "x-gzip": lambda limit, meter: _ZlibDecoder(True, limit, meter),  # RFC 9110 §8.4.1.3
    "deflate": lambda limit, meter: _ZlibDecoder(False, limit, meter),
}
if brotli is not None:
    _FACTORIES["br"] = _BrotliDecoder
if zstandard is not None:
    _FACTORIES["zstd"] = _ZstdDecoder

# What the client advertises in Accept-Encoding: only what it can undo.
ACCEPT_ENCODING = ", ".join(
    name for name in ("gzip", "deflate", "br", "zstd") if name in _FACTORIES
)


def make_decoder(
    content_encoding: str,
    *,
    max_size: int | None = DEFAULT_MAX_DECOMPRESSED_SIZE,
    transfer_coding: str = "",
    meter: ExpansionMeter | None = None,
) -> ContentDecoder | None:
    """A decoder for a ``Content-Encoding`` value, or ``None`` to pass the body raw.

    ``None`` for "", "identity" or any coding we cannot undo (then nothing is decoded, so
    the caller gets the bytes exactly as sent). ``transfer_coding`` lists transfer codings
    besides chunked (RFC 9112 §7, already checked by the parser: each one known); they were
    applied last, so they are undone first, whatever becomes of the content coding.
    ``max_size`` bounds the expanded size at every stage of a chain; ``None`` lifts it.
    ``meter``, if given, counts the encoded bytes and bounds every stage by its ratio.
    """
    names = _coding_names(content_encoding)
    if any(name not in _FACTORIES for name in names):
        names = []
    names += _coding_names(transfer_coding)
    if not names:
        return None
    stages = [_FACTORIES[name](max_size, meter) for name in reversed(names)]
    decoder = stages[0] if len(stages) == 1 else _ChainDecoder(stages)
    return decoder if meter is None else _Metered(decoder, meter)


def _coding_names(codings: str) -> list[str]:
    parts = (part.strip().lower() for part in codings.split(","))
    return [name for name in parts if name and name != "identity"]
