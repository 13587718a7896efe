"""Fuzz cases: a valid HTTP/1.1 response built from a seed, then mutated as an attacker would.

Rules:
- ``make_case(seed, index)`` is a pure function: the same pair always gives the same case,
  so any case of a run can be replayed alone (``python -m tests.fuzz --seed S --case N``).
- A case is what the client asks (method, and whether it reads the body whole or streamed)
  and what the server does: the bytes it writes (in one or several writes) and how it ends
  (FIN, RST, or keeping the connection open so only framing or a timeout can end it).
- About one case in twenty is left unmutated: its expected body is known, so it must end
  in exactly that body (the "correct response" check); the others may end in a response,
  a ``ClientError`` or a timeout, but never anything else and never later than their bound.
"""

from __future__ import annotations

import dataclasses
import gzip
import itertools
import random
import zlib

__all__ = ["Case", "make_case"]

READS = ("read", "iter_chunked", "iter_any", "iter_chunks", "readline")
ENDINGS = ("fin", "fin", "fin", "fin", "fin", "fin", "fin", "open", "rst")

_HUGE = [
    b"99999999999999999999999999",
    b"18446744073709551616",
    b"9223372036854775808",
    b"4294967296",
    b"-1",
    b"+5",
    b"0x10",
    b" 5",
    b"1e3",
    b"00000000000000000000000000000005",
    b"\xd9\xa3",
    b"\xc2\xb2",
    b"\xff",
]
_HUGE_HEX = [
    b"ffffffffffffffffffff",
    b"7fffffffffffffff",
    b"10000000000000000",
    b"-1",
    b"0x5",
    b"5 5",
    b"5xyz",
    b"5;",
    b"5 ;a=b",
    b"\x00",
    b"",
]
_STATUS = [b"000", b"999", b"1000", b"-200", b"20", b"2OO", b"101", b"100", b"199", b"204", b"304"]
_INJECT = [b"\r", b"\n", b"\x00", b":", b"\r\n", b"\n\n", b"\r\n\r\n", b" ", b"\t", b";", b","]
_CODINGS = [b"gzip", b"deflate", b"br", b"zstd", b"identity", b"x-gzip", b"compress", b"bogus"]


@dataclasses.dataclass(frozen=True)
class Case:
    index: int
    method: str
    read: str  # how the client consumes the body: one of READS
    writes: tuple[bytes, ...]  # what the server sends, write by write
    ending: str  # "fin", "rst" or "open"
    mutations: tuple[str, ...]  # names of the mutations applied (empty: a control case)
    expected: bytes | None  # the body a control case must produce


def _body(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    size = rng.choice([0, 1, 5, 17, 100, 1000, 5000, 70000])
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(min(size, 2000)))
    if kind == 1:
        return (b"line of text\n" * (size // 13 + 1))[:size]
    if kind == 2:
        return b'{"a": [1, 2, 3], "b": "x"}'
    return b"x" * size


def _compress(coding: bytes, body: bytes) -> bytes:
    if coding in (b"gzip", b"x-gzip"):
        return gzip.compress(body, mtime=0)
    if coding == b"deflate":
        return zlib.compress(body)
    return body  # br/zstd/compress/bogus: the label alone (undecodable or passed through)


def _chunk(body: bytes, rng: random.Random, lf_only: bool = False) -> bytes:
    eol = b"\n" if lf_only else b"\r\n"
    out = bytearray()
    pos = 0
    while pos < len(body):
        step = rng.choice([1, 3, 100, 4096, len(body)])
        piece = body[pos : pos + step]
        ext = b";ext=1" if rng.random() < 0.1 else b""
        out += b"%x%s%s%s%s" % (len(piece), ext, eol, piece, eol)
        pos += step
    out += b"0" + eol
    if rng.random() < 0.2:
        out += b"X-Trailer: t" + eol
    return bytes(out + eol)


def _valid_response(rng: random.Random, method: str) -> tuple[bytes, bytes | None]:
    """A well-formed response and the body a client must deliver (None: not checked)."""
    body = _body(rng)
    status = rng.choice([200, 200, 200, 201, 203, 206, 301, 404, 500, 204, 304])
    reason = {200: b"OK", 404: b"Not Found"}.get(status, b"Whatever")
    headers = [b"Server: fuzz", b"Content-Type: text/plain; charset=utf-8"]
    if rng.random() < 0.3:
        headers.append(b"Set-Cookie: a=b; Path=/")
    if rng.random() < 0.2:
        headers.append(b"Link: </next>; rel=next")
    coding = rng.choice([b"", b"", b"", b"gzip", b"deflate"])
    wire = _compress(coding, body) if coding else body
    if coding:
        headers.append(b"Content-Encoding: " + coding)
    framing = rng.choice(["length", "length", "chunked", "eof", "te-gzip"])
    no_body = method == "HEAD" or status in (204, 304)
    expected: bytes | None = b"" if no_body else body
    if framing == "length":
        headers.append(b"Content-Length: %d" % len(wire))
        payload = wire
    elif framing == "chunked":
        headers.append(b"Transfer-Encoding: chunked")
        payload = _chunk(wire, rng)
    elif framing == "te-gzip":
        headers.append(b"Transfer-Encoding: gzip, chunked")
        payload = _chunk(gzip.compress(wire, mtime=0), rng)
    else:
        payload = wire  # close-delimited
    if no_body:
        payload = b""
    prefix = b""
    if rng.random() < 0.1:
        prefix = b"HTTP/1.1 100 Continue\r\n\r\n"
    if rng.random() < 0.05:
        prefix += b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
    version = b"HTTP/1.0" if rng.random() < 0.05 else b"HTTP/1.1"
    head = b"%s %d %s\r\n" % (version, status, reason) + b"".join(h + b"\r\n" for h in headers)
    return prefix + head + b"\r\n" + payload, expected


# -- mutations: each takes the bytes and the rng, returns new bytes --------------------------


def _flip(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 8])):
        pos = rng.randrange(len(out))
        out[pos] ^= 1 << rng.randrange(8)
    return bytes(out)


def _set_byte(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    pos = rng.randrange(len(data))
    return data[:pos] + bytes([rng.getrandbits(8)]) + data[pos + 1 :]


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _inject(data: bytes, rng: random.Random) -> bytes:
    head_end = data.find(b"\r\n\r\n")
    limit = head_end + 4 if head_end >= 0 and rng.random() < 0.7 else len(data)
    pos = rng.randrange(limit + 1)
    return data[:pos] + rng.choice(_INJECT) + data[pos:]


def _delete(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    pos = rng.randrange(len(data))
    return data[:pos] + data[pos + rng.randrange(1, 20) :]


def _duplicate_segment(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return data
    start = rng.randrange(len(data))
    end = min(len(data), start + rng.randrange(1, 64))
    return data[:end] + data[start:end] + data[end:]


def _replace_number(data: bytes, rng: random.Random, name: bytes, values: list[bytes]) -> bytes:
    lower = data.lower()
    pos = lower.find(name)
    if pos < 0:
        head_end = data.find(b"\r\n")
        pos = head_end + 2 if head_end >= 0 else 0
        return data[:pos] + name.title() + b" " + rng.choice(values) + b"\r\n" + data[pos:]
    value_start = pos + len(name)
    value_end = data.find(b"\r\n", value_start)
    if value_end < 0:
        value_end = len(data)
    return data[:value_start] + b" " + rng.choice(values) + data[value_end:]


def _huge_content_length(data: bytes, rng: random.Random) -> bytes:
    return _replace_number(data, rng, b"content-length:", _HUGE)


def _huge_chunk_size(data: bytes, rng: random.Random) -> bytes:
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0 or b"chunked" not in data[:head_end].lower():
        head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        return head + rng.choice(_HUGE_HEX) + b"\r\nabc\r\n0\r\n\r\n"
    start = head_end + 4
    line_end = data.find(b"\r\n", start)
    if line_end < 0:
        return data + rng.choice(_HUGE_HEX)
    return data[:start] + rng.choice(_HUGE_HEX) + data[line_end:]


def _status_code(data: bytes, rng: random.Random) -> bytes:
    first = data.find(b" ")
    if first < 0:
        return data
    second = data.find(b" ", first + 1)
    end = data.find(b"\r\n")
    if second < 0 or (0 <= end < second):
        second = end if end >= 0 else len(data)
    return data[: first + 1] + rng.choice(_STATUS) + data[second:]


def _duplicate_header(data: bytes, rng: random.Random) -> bytes:
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return data
    lines = data[:head_end].split(b"\r\n")
    if len(lines) < 2:
        return data
    pick = rng.randrange(1, len(lines))
    line = lines[pick]
    if rng.random() < 0.5 and b":" in line:
        name = line.split(b":", 1)[0]
        line = name + b": " + rng.choice([b"7", b"chunked", b"gzip", b"close", b"", b"1, 2"])
    lines.insert(rng.randrange(1, len(lines) + 1), line)
    return b"\r\n".join(lines) + data[head_end:]


def _lf_only(data: bytes, rng: random.Random) -> bytes:
    if rng.random() < 0.5:
        return data.replace(b"\r\n", b"\n")
    head_end = data.find(b"\r\n\r\n")
    if head_end < 0:
        return data.replace(b"\r\n", b"\n")
    return data[:head_end].replace(b"\r\n", b"\n") + b"\n\n" + data[head_end + 4 :]


def _add_header(data: bytes, rng: random.Random) -> bytes:
    head_end = data.find(b"\r\n")
    if head_end < 0:
        return data
    choices = [
        b"Transfer-Encoding: " + rng.choice(_CODINGS) + rng.choice([b"", b", chunked"]),
        b"Transfer-Encoding: chunked, gzip",
        b"Content-Encoding: " + rng.choice(_CODINGS) + rng.choice([b"", b", gzip", b", br"]),
        b"Connection: " + rng.choice([b"close", b"keep-alive", b"upgrade", b"\xff"]),
        b"Content-Type: text/plain; charset=" + rng.choice([b"bogus", b"utf-16", b"\xff\xfe"]),
        b"Set-Cookie: " + bytes(rng.getrandbits(8) for _ in range(20)),
        b"Link: <" + bytes(rng.getrandbits(8) for _ in range(10)) + b">; rel=x",
        b"Upgrade: websocket",
        b"X-Big: " + b"a" * rng.choice([100, 9000, 70000]),
        b" folded continuation",
        b"No-Colon-Here",
        b"Bad Name: x",
        b": empty name",
    ]
    return data[: head_end + 2] + rng.choice(choices) + b"\r\n" + data[head_end + 2 :]


def _many_informational(data: bytes, rng: random.Random) -> bytes:
    count = rng.choice([2, 50, 200, 5000])
    return b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n" * count + data


def _switching(data: bytes, rng: random.Random) -> bytes:
    return b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n" + data


def _many_headers(data: bytes, rng: random.Random) -> bytes:
    head_end = data.find(b"\r\n")
    if head_end < 0:
        return data
    count = rng.choice([100, 300, 3000])
    return data[: head_end + 2] + b"X-N: 1\r\n" * count + data[head_end + 2 :]


def _garbage_tail(data: bytes, rng: random.Random) -> bytes:
    return data + rng.choice([b"HTTP/1.1 200 OK\r\n\r\n", b"junk", b"\r\n", b"\x00" * 10])


def _compressed_junk(data: bytes, rng: random.Random) -> bytes:
    head_end = data.find(b"\r\n")
    if head_end < 0:
        return data
    body = rng.choice(
        [
            gzip.compress(b"a" * 100000, mtime=0)[: rng.randrange(10, 60)],
            b"\x1f\x8b" + bytes(rng.getrandbits(8) for _ in range(30)),
            gzip.compress(b"ok", mtime=0) + b"\x1f\x8b\x08",
            zlib.compress(b"z" * 50000),
        ]
    )
    coding = rng.choice([b"gzip", b"deflate", b"gzip, gzip"])
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %s\r\nContent-Length: %d\r\n\r\n" % (
        coding,
        len(body),
    )
    return head + body


MUTATIONS = {
    "flip": _flip,
    "set_byte": _set_byte,
    "truncate": _truncate,
    "inject": _inject,
    "delete": _delete,
    "duplicate_segment": _duplicate_segment,
    "huge_content_length": _huge_content_length,
    "huge_chunk_size": _huge_chunk_size,
    "status_code": _status_code,
    "duplicate_header": _duplicate_header,
    "lf_only": _lf_only,
    "add_header": _add_header,
    "many_informational": _many_informational,
    "switching": _switching,
    "many_headers": _many_headers,
    "garbage_tail": _garbage_tail,
    "compressed_junk": _compressed_junk,
}
_NAMES = tuple(MUTATIONS)


def _split(data: bytes, rng: random.Random) -> tuple[bytes, ...]:
    """The bytes as one write, or cut at a few random places (bytes trickling in)."""
    if len(data) < 2 or rng.random() < 0.6:
        return (data,)
    cuts = sorted({rng.randrange(1, len(data)) for _ in range(rng.choice([1, 2, 5, 20]))})
    bounds = [0, *cuts, len(data)]
    return tuple(data[a:b] for a, b in itertools.pairwise(bounds))


def make_case(seed: int, index: int) -> Case:
    rng = random.Random(f"{seed}:{index}")
    method = rng.choice(["GET", "GET", "GET", "POST", "HEAD"])
    data, expected = _valid_response(rng, method)
    control = rng.random() < 0.05
    applied: list[str] = []
    if not control:
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            name = rng.choice(_NAMES)
            data = MUTATIONS[name](data, rng)
            applied.append(name)
    ending = "fin" if control else rng.choice(ENDINGS)
    return Case(
        index=index,
        method=method,
        read=rng.choice(READS),
        writes=_split(data, rng),
        ending=ending,
        mutations=tuple(applied),
        expected=expected if control else None,
    )
