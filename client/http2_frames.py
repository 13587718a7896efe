"""Received bytes → ``hyperframe`` frames for ``h2``, with fewer copies of every body byte.

Rules:
- ``h2.frame_buffer.FrameBuffer`` appends each read to a bytearray, then copies each
  frame's header and body out of it before ``hyperframe`` copies the body once more; and
  ``h2`` builds the ``repr`` of every frame it receives for a trace log (even when logging
  is off), which for a DATA frame serialises and hex-encodes the whole payload. For a
  download that is five or six copies of each byte in Python.
- ``FrameReader`` keeps the read as it came and hands ``hyperframe`` memoryviews into it:
  a frame that lies within one read is copied once (``DataFrame.parse_body``); only the
  tail of a read (a frame cut in two) is kept as a copy until the next read completes it.
- Unpadded DATA frames of one stream that follow each other in a read reach ``h2`` as one
  ``QuietDataFrame`` (their payloads joined: the one copy), so its per-frame work (stream
  state, both windows, Content-Length, an event object) runs once per read, not once per
  8 or 16 KiB frame; each frame's size is still checked against our MAX_FRAME_SIZE, and
  the windows and Content-Length see the same sums. A ``QuietDataFrame``'s ``repr`` is
  cheap; ``h2``'s dispatch table (keyed by exact class) gets DATA's handler for it.
- Everything else is ``FrameBuffer``'s: frame size limits, CONTINUATION assembly, and
  the same ``ProtocolError``s for malformed frames.
"""

from __future__ import annotations

from typing import Any

import h2.connection
import h2.exceptions
import h2.frame_buffer
from hyperframe.exceptions import InvalidDataError, InvalidFrameError
from hyperframe.frame import DataFrame, Frame

__all__ = ["FrameReader", "QuietDataFrame", "install"]

_HEADER = 9
_DATA = 0x0
_END_STREAM = 0x1
_PADDED = 0x8
_STREAM_MASK = 0x7FFFFFFF


class QuietDataFrame(DataFrame):
    """A received DATA frame whose ``repr`` does not copy and hex-encode its payload."""

    def _body_repr(self) -> str:
        return f"<{len(self.data)} bytes>"


class FrameReader(h2.frame_buffer.FrameBuffer):
    """A client's frame buffer reading frames out of each received chunk in place."""

    def __init__(self) -> None:
        super().__init__(server=False)
        self._chunk: bytes | bytearray = b""
        self._view = memoryview(b"")
        self._pos = 0

    def add_data(self, data: Any) -> None:
        rest = len(self._view) - self._pos
        if rest:
            # A frame was cut in two: join its first part (only that) with the new read.
            joined = bytearray(self._view[self._pos :])
            joined += data
            self._chunk = joined
        else:
            self._chunk = data
        self._view = memoryview(self._chunk)
        self._pos = 0

    def __next__(self) -> Frame:
        while True:
            view, pos = self._view, self._pos
            if len(view) - pos < _HEADER:
                raise StopIteration
            try:
                frame, length = Frame.parse_frame_header(view[pos : pos + _HEADER])
            except (InvalidDataError, InvalidFrameError) as err:
                raise h2.exceptions.ProtocolError(
                    f"Received frame with invalid header: {err!s}"
                ) from err
            end = pos + _HEADER + length
            if len(view) < end:
                raise StopIteration
            self._validate_frame_length(length)
            if type(frame) is DataFrame and not view[pos + 4] & _PADDED:
                return self._data_run(frame, pos, end)
            try:
                frame.parse_body(view[pos + _HEADER : end])
            except InvalidDataError as err:
                raise h2.exceptions.ProtocolError(
                    "Received frame with non-compliant data"
                ) from err
            except InvalidFrameError as err:
                raise h2.exceptions.FrameDataMissingError("Frame data missing or invalid") from err
            self._advance(end)
            ready = self._update_header_buffer(frame)
            if ready is not None:
                return ready

    def _data_run(self, frame: DataFrame, pos: int, end: int) -> Frame:
        """An unpadded DATA frame, merged with the unpadded DATA frames of the same stream
        that follow it in this read (up to one that ends the stream), as one frame.

        ``h2`` then does its per-frame work (state, windows, Content-Length, an event) once
        per read instead of once per frame; the sums it checks are the same.
        """
        if self._headers_buffer:
            raise h2.exceptions.ProtocolError("Invalid frame during header block.")
        view = self._view
        stream_id = frame.stream_id
        parts = [view[pos + _HEADER : end]]
        flags = view[pos + 4]
        while not flags & _END_STREAM and len(view) - end >= _HEADER:
            length = int.from_bytes(view[end : end + 3])
            next_flags = view[end + 4]
            if (
                view[end + 3] != _DATA
                or next_flags & _PADDED
                or int.from_bytes(view[end + 5 : end + 9]) & _STREAM_MASK != stream_id
                or len(view) < end + _HEADER + length
            ):
                break
            self._validate_frame_length(length)
            parts.append(view[end + _HEADER : end + _HEADER + length])
            flags = next_flags
            end += _HEADER + length
        self._advance(end)
        quiet = QuietDataFrame(stream_id)
        quiet.data = parts[0].tobytes() if len(parts) == 1 else b"".join(parts)
        quiet.body_len = len(quiet.data)
        if flags & _END_STREAM:
            quiet.flags.add("END_STREAM")
        return quiet

    def _advance(self, end: int) -> None:
        if end == len(self._view):
            self._chunk, self._view, self._pos = b"", memoryview(b""), 0
        else:
            self._pos = end


def install(connection: h2.connection.H2Connection) -> None:
    """Give ``connection`` a ``FrameReader`` (and its DATA frames their handler)."""
    connection.incoming_buffer = FrameReader()
    dispatch = connection._frame_dispatch_table
    dispatch[QuietDataFrame] = dispatch[DataFrame]
