"""Expanding a ``Content-Encoding``-ed body into a ``StreamReader`` at the reader's pace.

Rules:
- A few KiB of gzip can expand to hundreds of MiB: decoding a whole network read at once
  would hold all of it. Compressed bytes wait here while the stream is over its high-water
  mark (``hold_feeder`` tells the feeder to stop: a paused transport, or a withheld
  HTTP/2 window update) and are expanded a slice at a time once the reader drains it.
- Slices are steered so each expands to about ``OUTPUT_TARGET``: the first is small (2 KiB:
  at most ~2 MiB of output at deflate's ~1032:1 maximum), they grow while their output
  stays small and shrink when it passes 1 MiB, so ordinary bodies take one step per
  network read and a bomb never expands more than a couple of MiB at a time.
- Decoder errors (``ClientPayloadError``, ``DecompressionLimitError``) propagate to the
  caller, which fails the stream.
"""

from __future__ import annotations

import collections
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .decoders import ContentDecoder
    from .streams import StreamReader

__all__ = ["DecodePacer"]

STEP = 2 * 1024
STEP_MIN = 512
STEP_MAX = 256 * 1024
OUTPUT_TARGET = 1 << 20


class DecodePacer:
    """One body's decoder, its waiting compressed bytes and the stream it fills."""

    __slots__ = ("_decoder", "_encoded", "_step", "_stream")

    def __init__(self, decoder: ContentDecoder, stream: StreamReader) -> None:
        self._decoder = decoder
        self._stream = stream
        self._encoded: collections.deque[bytes] = collections.deque()
        self._step = STEP

    @property
    def backlog(self) -> bool:
        """Compressed bytes are waiting for the reader to make room."""
        return bool(self._encoded)

    def feed(self, data: bytes) -> None:
        self._encoded.append(data)
        if len(self._encoded) == 1:
            self.pump()

    def pump(self) -> None:
        """Expand waiting bytes while the stream has room (call again once it drains)."""
        stream = self._stream
        decoder = self._decoder
        encoded = self._encoded
        while encoded:
            if stream.is_full():
                stream.hold_feeder()
                return
            data = encoded[0]
            step = self._step
            if len(data) > step:
                encoded[0] = data[step:]
                data = data[:step]
            else:
                encoded.popleft()
            out = decoder.decompress(data)
            if len(out) > OUTPUT_TARGET:
                self._step = max(STEP_MIN, step // 8)
            elif len(out) < OUTPUT_TARGET // 4 and len(data) == step:
                self._step = min(STEP_MAX, step * 2)
            if out:
                stream.feed_data(out)

    def finish(self) -> None:
        """The body ended and the backlog is empty: expand the codec's tail."""
        tail = self._decoder.flush()
        if tail:
            self._stream.feed_data(tail)

    def clear(self) -> None:
        self._encoded.clear()
