"""WebSocket wire protocol, sans-IO: handshake checks, frame writer, frame reader.

Rules:
- No I/O and no asyncio here: bytes in, values out. ``client.ws`` owns the transport.
- We are always the client: every frame we write is masked (RFC 6455 §5.3), every frame we
  read must not be (§5.1). A violation by the peer raises ``WebSocketError(code, message)``
  with the close code to send (§7.4.1); after one, a reader accepts no more input.
- Messages are the only objects a reader allocates; frame headers are parsed from offsets
  into one buffer, and payloads are sliced once.
- permessage-deflate (RFC 7692) is on only if the handshake negotiated it: RSV1 marks the
  first frame of a compressed message, RSV2/RSV3 are never valid (no other extension).
- ``max_msg_size`` (0 = unlimited) bounds both the wire size and the inflated size of one
  message; it is checked against each frame's declared length before its payload is buffered.
- ``decode_text=False`` (aiohttp 3.14): TEXT messages keep their payload bytes, unchecked
  for UTF-8, and skip the fast path (the common default pays no check for the option).
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import os
import struct
import zlib
from collections.abc import Callable, Mapping, Sequence
from enum import IntEnum
from typing import Any, NamedTuple

from .exceptions import WebSocketError

__all__ = (
    "DEFAULT_MAX_MSG_SIZE",
    "FrameReader",
    "FrameWriter",
    "HandshakeError",
    "HandshakeResult",
    "WSCloseCode",
    "WSMessage",
    "WSMsgType",
    "accept_key",
    "check_handshake",
    "make_handshake_headers",
)

# aiohttp's default bound on one message: 4 MiB.
DEFAULT_MAX_MSG_SIZE = 4 * 1024 * 1024

# §1.3: the GUID appended to the key before hashing.
_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# §7.2.1 (RFC 7692): the tail a sync flush leaves, stripped on send and re-added on receive.
_DEFLATE_TAIL = b"\x00\x00\xff\xff"
# §5.5: control frames carry at most 125 bytes.
_MAX_CONTROL = 125
# 1005 "no status received": what a Close frame without a payload reports (§7.1.5).
NO_STATUS_RECEIVED = 1005


class WSMsgType(IntEnum):
    CONTINUATION = 0x0
    TEXT = 0x1
    BINARY = 0x2
    PING = 0x9
    PONG = 0xA
    CLOSE = 0x8
    CLOSING = 0x100
    CLOSED = 0x101
    ERROR = 0x102

    # aiohttp's lower-case aliases
    text = TEXT
    binary = BINARY
    ping = PING
    pong = PONG
    close = CLOSE
    closing = CLOSING
    closed = CLOSED
    error = ERROR


class WSCloseCode(IntEnum):
    OK = 1000
    GOING_AWAY = 1001
    PROTOCOL_ERROR = 1002
    UNSUPPORTED_DATA = 1003
    ABNORMAL_CLOSURE = 1006
    INVALID_TEXT = 1007
    POLICY_VIOLATION = 1008
    MESSAGE_TOO_BIG = 1009
    MANDATORY_EXTENSION = 1010
    INTERNAL_ERROR = 1011
    SERVICE_RESTART = 1012
    TRY_AGAIN_LATER = 1013
    BAD_GATEWAY = 1014


class WSMessage(NamedTuple):
    """One message: TEXT (str; bytes if decode_text=False), BINARY/PING/PONG (bytes),
    CLOSE (code, reason str).
    """

    type: WSMsgType
    data: Any
    extra: Any

    def json(self, *, loads: Callable[[Any], Any] = json.loads) -> Any:
        return loads(self.data)


# §7.4.1/§7.4.2 and the IANA registry: codes a peer may put in a Close frame. 1004-1006 and
# 1015 are reserved or must never be sent; 3000-4999 belong to libraries and applications.
_SENDABLE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})


def _protocol_error(message: str) -> WebSocketError:
    return WebSocketError(WSCloseCode.PROTOCOL_ERROR, message)


def _valid_close_code(code: int) -> bool:
    return code in _SENDABLE_CODES or 3000 <= code <= 4999


# --- handshake (§4.1, §4.2.2; RFC 7692 §5, §7.1) -----------------------------------------


class HandshakeError(ValueError):
    """The server's 101 response does not complete the handshake we asked for."""


class HandshakeResult(NamedTuple):
    protocol: str | None
    compress: int  # the window bits our compressor uses; 0 = no permessage-deflate
    server_no_context_takeover: bool
    client_no_context_takeover: bool


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for ``key`` (§4.2.2 step 5.4)."""
    return base64.b64encode(hashlib.sha1(key.encode("ascii") + _GUID).digest()).decode("ascii")


def _offer(compress: int) -> str:
    if not 9 <= compress <= 15:
        # zlib cannot compress with an 8-bit window, so 8 is refused as aiohttp does.
        raise ValueError("compress wbits must be between 9 and 15")
    params = ["permessage-deflate", "client_max_window_bits"]
    if compress < 15:
        params.append(f"server_max_window_bits={compress}")
    return "; ".join(params)


def make_handshake_headers(
    protocols: Sequence[str], compress: int, origin: str | None
) -> tuple[dict[str, str], str]:
    """The opening handshake's request headers (§4.1) and the key they carry."""
    key = base64.b64encode(os.urandom(16)).decode("ascii")
    headers = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": key,
    }
    if protocols:
        headers["Sec-WebSocket-Protocol"] = ", ".join(protocols)
    if compress:
        headers["Sec-WebSocket-Extensions"] = _offer(compress)
    if origin is not None:
        headers["Origin"] = origin
    return headers, key


def _values(headers: Mapping[str, str], name: str) -> list[str]:
    getall = getattr(headers, "getall", None)
    if getall is not None:
        return list(getall(name, []))
    lowered = name.lower()
    return [value for key, value in headers.items() if key.lower() == lowered]


def _tokens(values: list[str]) -> list[str]:
    return [item.strip() for value in values for item in value.split(",") if item.strip()]


def check_handshake(
    status: int,
    headers: Mapping[str, str],
    key: str,
    protocols: Sequence[str],
    compress: int,
) -> HandshakeResult:
    """Validate the server's answer (§4.1 "the client MUST validate"); raise HandshakeError.

    The messages are aiohttp's, so a caller can turn one into WSServerHandshakeError as is.
    """
    if status != 101:
        raise HandshakeError("Invalid response status")
    if [v.lower() for v in _tokens(_values(headers, "Upgrade"))] != ["websocket"]:
        raise HandshakeError("Invalid upgrade header")
    if "upgrade" not in (v.lower() for v in _tokens(_values(headers, "Connection"))):
        raise HandshakeError("Invalid connection header")
    accept = _values(headers, "Sec-WebSocket-Accept")
    if len(accept) != 1 or accept[0].strip() != accept_key(key):
        raise HandshakeError("Invalid challenge response")
    chosen = _tokens(_values(headers, "Sec-WebSocket-Protocol"))
    if len(chosen) > 1 or (chosen and chosen[0] not in protocols):
        raise HandshakeError("Invalid protocol")
    result = _check_extensions(_tokens(_values(headers, "Sec-WebSocket-Extensions")), compress)
    return result._replace(protocol=chosen[0]) if chosen else result


def _window_bits(value: str | None) -> int:
    # §7.1.2: a decimal 8..15, nothing else (no sign, no leading zero, optionally quoted).
    if value is not None and len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if value is None or not value.isdigit() or value[0] == "0" or not 8 <= int(value) <= 15:
        raise HandshakeError("Invalid compress parameters")
    return int(value)


def _check_extensions(extensions: list[str], compress: int) -> HandshakeResult:
    none = HandshakeResult(None, 0, False, False)
    if not extensions:
        return none
    if len(extensions) > 1 or not compress:
        raise HandshakeError("Invalid extension")
    name, *raw_params = (part.strip() for part in extensions[0].split(";"))
    if name.lower() != "permessage-deflate":
        raise HandshakeError("Invalid extension")
    params: dict[str, str | None] = {}
    for raw in raw_params:
        raw_name, eq, raw_value = raw.partition("=")
        param = raw_name.strip().lower()
        if param in params:  # §7.1: each parameter at most once
            raise HandshakeError("Invalid compress parameters")
        params[param] = raw_value.strip() if eq else None
    # Our window: up to 15 unless the server limits it (§7.1.2.2), whatever we asked of
    # the server's window; aiohttp reports the same value as ``compress``.
    client_bits = 15
    server_nt = client_nt = False
    for pname, pvalue in params.items():
        if pname in ("server_no_context_takeover", "client_no_context_takeover"):
            if pvalue is not None:  # §7.1.1.1/§7.1.1.2: no value allowed
                raise HandshakeError("Invalid compress parameters")
            server_nt |= pname[0] == "s"
            client_nt |= pname[0] == "c"
        elif pname == "server_max_window_bits":
            # §7.1.2.1: at most what we asked for (15 when we did not ask).
            if _window_bits(pvalue) > compress:
                raise HandshakeError("Invalid compress parameters")
        elif pname == "client_max_window_bits":
            bits = _window_bits(pvalue)  # §7.1.2.2: we offered it, so a value is allowed
            if bits < 9:
                raise HandshakeError("Invalid compress parameters")  # zlib needs 9+
            client_bits = min(client_bits, bits)
        else:
            raise HandshakeError("Invalid compress parameters")
    return HandshakeResult(None, client_bits, server_nt, client_nt)


# --- frames (§5.2) ---------------------------------------------------------------------


# §5.3: masking keys must come from a strong source of entropy. They are drawn from
# os.urandom a block at a time: one system call per 1024 frames instead of one per frame.
_KEY_BLOCK = 4096
_keys = memoryview(b"")
_key_at = 0


def _forget_keys() -> None:
    global _keys, _key_at
    _keys, _key_at = memoryview(b""), 0


# A forked child must not reuse the keys its parent has still to hand out.
os.register_at_fork(after_in_child=_forget_keys)


def _header(fin_rsv_opcode: int, length: int) -> bytes:
    """The first bytes of a masked frame, before its key (§5.2)."""
    if length < 126:
        return struct.pack("!BB", fin_rsv_opcode, 0x80 | length)
    if length < 1 << 16:
        return struct.pack("!BBH", fin_rsv_opcode, 0x80 | 126, length)
    return struct.pack("!BBQ", fin_rsv_opcode, 0x80 | 127, length)


class FrameWriter:
    """Client frames as bytes: masked, optionally compressed and fragmented.

    ``compress`` is the negotiated window bits (0: off); ``notakeover`` resets the
    compressor after each message (client_no_context_takeover, RFC 7692 §7.1.1.2);
    ``fragment_size`` splits data messages into frames of at most that payload (0: never).
    """

    def __init__(
        self, *, compress: int = 0, notakeover: bool = False, fragment_size: int = 0
    ) -> None:
        self.compress = compress
        self.notakeover = notakeover
        self.fragment_size = fragment_size
        self._compressor: Any = None

    def _frame(self, first_byte: int, payload: bytes) -> bytes:
        global _key_at, _keys
        # Inline, as this runs once per frame sent: the next key, then the payload XORed
        # with the repeating key (§5.3) as one big-int operation.
        if _key_at >= len(_keys):
            _keys, _key_at = memoryview(os.urandom(_KEY_BLOCK)), 0
        key = bytes(_keys[_key_at : _key_at + 4])
        _key_at += 4
        n = len(payload)
        head = bytes((first_byte, 0x80 | n)) if n < 126 else _header(first_byte, n)
        if not n:
            return head + key
        stream = key * (n // 4) + key[: n % 4]
        masked = int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")
        return head + key + masked.to_bytes(n, "big")

    def _deflate(self, data: bytes, wbits: int | None) -> bytes:
        if wbits is not None and wbits != self.compress:
            # a one-off window for this message: a fresh compressor, no shared context
            comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -wbits)
            out = comp.compress(data) + comp.flush(zlib.Z_SYNC_FLUSH)
        else:
            if self._compressor is None:
                self._compressor = zlib.compressobj(
                    zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -self.compress
                )
            # Z_FULL_FLUSH also forgets the history: no context takeover, one object reused.
            mode = zlib.Z_FULL_FLUSH if self.notakeover else zlib.Z_SYNC_FLUSH
            out = self._compressor.compress(data) + self._compressor.flush(mode)
        # RFC 7692 §7.2.1: remove the 4-octet 00 00 ff ff tail of the flushed block.
        return out[:-4] if out.endswith(_DEFLATE_TAIL) else out

    def message(self, data: bytes, opcode: int, *, compress: int | None = None) -> bytes:
        """A TEXT or BINARY message; ``compress`` overrides the window bits for this one."""
        rsv1 = 0
        if self.compress:
            data = self._deflate(data, min(compress, self.compress) if compress else None)
            rsv1 = 0x40  # RFC 7692 §6: RSV1 on the first frame only
        size = self.fragment_size
        if not size or len(data) <= size:
            return self._frame(0x80 | rsv1 | opcode, data)
        # §5.4: the first frame carries the opcode, the rest are continuations, FIN on the last
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        frames = [self._frame(rsv1 | opcode, chunks[0])]
        frames += [self._frame(0, chunk) for chunk in chunks[1:-1]]
        frames.append(self._frame(0x80, chunks[-1]))
        return b"".join(frames)

    def text(self, text: str, *, compress: int | None = None) -> bytes:
        return self.message(text.encode("utf-8"), WSMsgType.TEXT, compress=compress)

    def binary(self, data: bytes, *, compress: int | None = None) -> bytes:
        return self.message(bytes(data), WSMsgType.BINARY, compress=compress)

    def control(self, opcode: int, payload: bytes = b"") -> bytes:
        """PING, PONG or CLOSE; never compressed or fragmented (§5.5)."""
        if len(payload) > _MAX_CONTROL:
            raise ValueError("control frame payload must be at most 125 bytes")
        return self._frame(0x80 | opcode, bytes(payload))

    def ping(self, payload: bytes = b"") -> bytes:
        return self.control(WSMsgType.PING, payload)

    def pong(self, payload: bytes = b"") -> bytes:
        return self.control(WSMsgType.PONG, payload)

    def close(self, code: int = WSCloseCode.OK, reason: bytes | str = b"") -> bytes:
        """A Close frame: the 2-byte code then a UTF-8 reason (§5.5.1)."""
        if isinstance(reason, str):
            reason = reason.encode("utf-8")
        return self.control(WSMsgType.CLOSE, struct.pack("!H", code) + reason)


class FrameReader:
    """Server frames in, whole messages out (see the rules at the top of the module)."""

    def __init__(
        self,
        max_msg_size: int = DEFAULT_MAX_MSG_SIZE,
        *,
        compress: bool = False,
        decode_text: bool = True,
    ):
        self.max_msg_size = max_msg_size
        self.compress = compress
        self._decode_text = decode_text
        # the first byte of a frame the text fast path takes (none without decoding)
        self._fast_text = 0x81 if decode_text else -1
        self._buf = bytearray()
        self._failed = False
        self._closed = False
        # the fragmented message in progress: opcode (None when there is none), parts so far
        self._opcode: int | None = None
        self._compressed = False
        self._parts: list[Any] = []
        self._size = 0  # wire bytes of the fragmented message so far
        self._inflated = 0  # and its inflated bytes
        self._utf8: Any = None
        self._inflater: Any = zlib.decompressobj(-15) if compress else None

    def feed(self, data: bytes, out: list[WSMessage] | None = None) -> list[WSMessage]:
        """Parse ``data``; append completed messages to ``out`` (a new list if None).

        Raises WebSocketError on a protocol violation; messages completed before it are
        already in ``out``. Bytes after a Close frame or a violation are ignored.
        """
        if out is None:
            out = []
        if self._failed or self._closed:
            return out
        if self._buf:
            self._buf += data
            buf: bytes | bytearray = self._buf
        else:
            buf = data
        try:
            pos = self._parse(buf, out)
        except WebSocketError:
            self._failed = True
            self._buf.clear()
            raise
        if buf is self._buf:
            del self._buf[:pos]
        elif pos < len(buf):
            self._buf += memoryview(buf)[pos:]
        return out

    def _parse(self, buf: bytes | bytearray, out: list[WSMessage]) -> int:
        pos, end = 0, len(buf)
        limit = self.max_msg_size
        fast_text = self._fast_text
        while end - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length = b1 & 0x7F
            start = pos + 2
            if length == 126:
                if end - start < 2:
                    break
                (length,) = struct.unpack_from("!H", buf, start)
                start += 2
            elif length == 127:
                if end - start < 8:
                    break
                (length,) = struct.unpack_from("!Q", buf, start)
                start += 8
            if b0 == fast_text and self._opcode is None and not (b1 & 0x80):
                # The common case, checked in one go: a whole, uncompressed text message
                # (FIN, no RSV, TEXT, unmasked) while no fragmented message is open.
                if limit and length > limit:
                    raise WebSocketError(
                        WSCloseCode.MESSAGE_TOO_BIG, f"Message size exceeds limit {limit}"
                    )
                if end - start < length:
                    break
                pos = start + length
                try:
                    text = buf[start:pos].decode("utf-8")
                except UnicodeDecodeError:
                    raise WebSocketError(
                        WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text message"
                    ) from None
                out.append(WSMessage(WSMsgType.TEXT, text, ""))
                continue
            fin, rsv, opcode = b0 & 0x80, b0 & 0x70, b0 & 0x0F
            if b1 & 0x80:
                raise _protocol_error("Received masked frame")  # §5.1
            if length >> 63:  # §5.2: the most significant bit MUST be 0
                raise _protocol_error("Invalid frame length")
            self._check_header(fin, rsv, opcode, length, limit)
            if end - start < length:
                break
            # one copy: slicing a bytearray directly would copy twice
            payload = (
                buf[start : start + length]
                if type(buf) is bytes
                else bytes(memoryview(buf)[start : start + length])
            )
            pos = start + length
            if opcode >= 8:
                msg = self._control(opcode, payload)
                out.append(msg)
                if opcode == WSMsgType.CLOSE:
                    self._closed = True  # §5.5.1: nothing after a Close frame
                    return end
            else:
                msg_or_none = self._data(fin, rsv, opcode, payload, limit)
                if msg_or_none is not None:
                    out.append(msg_or_none)
        return pos

    def _check_header(self, fin: int, rsv: int, opcode: int, length: int, limit: int) -> None:
        if rsv & 0x30 or (rsv and (not self.compress or opcode >= 8)):
            # RFC 7692 §6: only RSV1, only with the extension, never on control frames
            raise _protocol_error("Received frame with non-zero reserved bits")
        if opcode >= 8:
            if opcode > 10:
                raise _protocol_error(f"Received reserved opcode {opcode}")
            if not fin or length > _MAX_CONTROL:  # §5.5
                raise _protocol_error("Received fragmented or too long control frame")
            return
        if opcode > 2:
            raise _protocol_error(f"Received reserved opcode {opcode}")
        if opcode == 0:
            if self._opcode is None:  # §5.4: a continuation needs a message to continue
                raise _protocol_error("Continuation frame without a message")
            if rsv:  # RFC 7692 §6.1: RSV1 only on the first frame
                raise _protocol_error("RSV1 set on a continuation frame")
        elif self._opcode is not None:  # §5.4: fragments of one message are not interleaved
            raise _protocol_error("New data frame during a fragmented message")
        if limit and (self._size if opcode == 0 else 0) + length > limit:
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG, f"Message size exceeds limit {limit}"
            )

    def _control(self, opcode: int, payload: bytes) -> WSMessage:
        if opcode != WSMsgType.CLOSE:
            return WSMessage(WSMsgType(opcode), payload, "")
        if not payload:
            return WSMessage(WSMsgType.CLOSE, NO_STATUS_RECEIVED, "")
        if len(payload) == 1:  # §5.5.1: a body starts with a 2-byte code
            raise _protocol_error("Invalid close frame")
        (code,) = struct.unpack_from("!H", payload)
        if not _valid_close_code(code):  # §7.4.1
            raise _protocol_error(f"Invalid close code: {code}")
        try:
            reason = payload[2:].decode("utf-8")
        except UnicodeDecodeError:  # §5.5.1, §8.1
            raise WebSocketError(
                WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text in close reason"
            ) from None
        return WSMessage(WSMsgType.CLOSE, code, reason)

    def _data(
        self, fin: int, rsv: int, opcode: int, payload: bytes, limit: int
    ) -> WSMessage | None:
        if opcode:  # the first frame of a message
            if fin and not rsv:  # the common case: one uncompressed frame
                return self._finish(opcode, payload)
            self._opcode, self._compressed = opcode, bool(rsv)
            self._size = self._inflated = 0
        else:
            opcode = self._opcode or 0
        self._size += len(payload)
        if self._compressed:
            payload = self._inflate(payload + _DEFLATE_TAIL if fin else payload, limit)
        if opcode == WSMsgType.TEXT and (self._utf8 is not None or not fin) and self._decode_text:
            # check UTF-8 as fragments arrive (fail fast); a split character waits inside
            if self._utf8 is None:
                self._utf8 = codecs.getincrementaldecoder("utf-8")("strict")
            self._parts.append(self._decode(payload, final=bool(fin)))
        else:
            self._parts.append(payload)
        if not fin:
            return None
        parts, self._parts, self._opcode, self._utf8 = self._parts, [], None, None
        if opcode == WSMsgType.TEXT and parts and isinstance(parts[0], str):
            return WSMessage(WSMsgType.TEXT, "".join(parts), "")
        return self._finish(opcode, parts[0] if len(parts) == 1 else b"".join(parts))

    def _decode(self, payload: bytes, *, final: bool) -> str:
        try:
            text: str = self._utf8.decode(payload, final)
        except UnicodeDecodeError:
            raise WebSocketError(WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text message") from None
        return text

    def _finish(self, opcode: int, payload: bytes) -> WSMessage:
        if opcode == WSMsgType.BINARY:
            return WSMessage(WSMsgType.BINARY, payload, "")
        if not self._decode_text:
            return WSMessage(WSMsgType.TEXT, payload, "")
        try:
            return WSMessage(WSMsgType.TEXT, payload.decode("utf-8"), "")
        except UnicodeDecodeError:  # §8.1
            raise WebSocketError(WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text message") from None

    def _inflate(self, payload: bytes, limit: int) -> bytes:
        # The inflated size counts, not the wire size: bound it so a bomb never expands.
        room = limit - self._inflated + 1 if limit else 0
        try:
            data: bytes = self._inflater.decompress(payload, room)
        except zlib.error:
            raise _protocol_error("Invalid compressed data") from None
        self._inflated += len(data)
        if self._inflater.unconsumed_tail or (limit and self._inflated > limit):
            raise WebSocketError(
                WSCloseCode.MESSAGE_TOO_BIG, f"Decompressed message exceeds limit {limit}"
            )
        return data
