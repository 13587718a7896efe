"""Decompression bombs, and a probe of what reading one costs the process.

``gzip_bomb(size)`` builds one gzip member of ``size`` zero bytes in milliseconds (not the
seconds zlib takes to compress them): deflate blocks made after a full flush do not
depend on what came before, so one block of 1 MiB of zeros is repeated, then the trailer
(CRC-32 and length) is computed. The result expands about 1000:1, like any gzip bomb.

``python -m tests.servers.bomb SIZE HOW [RATIO]`` serves such a bomb from a loopback
server (``Content-Encoding: gzip``) to the engine, reads it with ``HOW`` (``read`` or
``iter_chunked``) under ``ClientSession(max_decompression_ratio=RATIO)`` (``default``,
``none`` or a number) and prints one JSON line: the outcome and the peak RSS (KiB) before
and after. Run in a subprocess so the peak belongs to this read alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import struct
import sys
import zlib

__all__ = ["gzip_bomb"]

_MIB = 1 << 20


def gzip_bomb(size: int) -> bytes:
    """One gzip member that expands to ``size`` zero bytes (``size`` a multiple of 1 MiB)."""
    assert size % _MIB == 0, size
    zeros = bytes(_MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    final = deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(size // _MIB):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return header + block * (size // _MIB) + final + trailer


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _probe(size: int, how: str, ratio: str) -> dict[str, object]:
    import client

    bomb = gzip_bomb(size)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(bomb)

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(head)
        writer.write(bomb)
        with contextlib.suppress(ConnectionError):  # the client refused it and hung up
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    kwargs: dict[str, object] = {}
    if ratio != "default":
        kwargs["max_decompression_ratio"] = None if ratio == "none" else float(ratio)
    before = _peak_kib()
    size_read = 0
    try:
        async with client.ClientSession(**kwargs) as session:  # type: ignore[arg-type]
            async with session.get(f"http://127.0.0.1:{port}/") as resp:
                if how == "read":
                    size_read = len(await resp.read())
                else:
                    async for piece in resp.content.iter_chunked(1 << 16):
                        size_read += len(piece)
        outcome = "read"
    except client.ClientError as exc:
        outcome = f"{type(exc).__name__}: {exc}"
    after = _peak_kib()
    server.close()
    await server.wait_closed()
    return {
        "outcome": outcome,
        "bytes": size_read,
        "encoded": len(bomb),
        "peak_before_kib": before,
        "peak_after_kib": after,
    }


def main() -> None:
    size, how = int(sys.argv[1]), sys.argv[2]
    ratio = sys.argv[3] if len(sys.argv) > 3 else "default"
    print(json.dumps(asyncio.run(_probe(size, how, ratio))))


if __name__ == "__main__":
    main()
