"""Bodies in and out, end to end through loopback servers.

Uploads: a 200 MB multipart form, a file object and an async generator sent from a
separate client process whose peak RSS is measured; caller-compressed bodies sent as
given, ``compress=`` bodies that decode back, ``chunked=True`` and ``expect100=True``.
Downloads: every content decoder fed one byte at a time, ``auto_decompress=False``,
decompression bombs, corrupt bodies, chained codings, and a 300 MB body streamed with
``iter_chunked`` in flat memory.

Big transfers run in a subprocess (``CLIENT_SCRIPT``) so the peak RSS measured is the
client's alone, not the test runner's or the server's.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import inspect
import io
import json
import os
import sys
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import brotli
import pytest
import pytest_asyncio
import zstandard

import client
from tests.servers.raw import HEAD_END, RawConnection, RawServerFactory, header_value, parse_head
from tests.servers.sink import SinkRecord, SinkServer, expected_sha256, sparse_file

MiB = 1 << 20
UPLOAD_SIZE = 200 * MiB
DOWNLOAD_SIZE = 300 * MiB
RSS_LIMIT = 80 * MiB  # the bound for the client process during a 200 MB upload
RSS_FLAT = 20 * MiB  # what a 300 MB download may add over a 1 MB one ("flat")
RSS_STREAM_LIMIT = 60 * MiB  # the bound for a streamed download of any size
SUBPROCESS_TIMEOUT = 50.0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the client process ----------------------------------------------------------------

CLIENT_SCRIPT = r"""
import asyncio, hashlib, json, resource, sys
import client

async def main(mode, url, path):
    out = {}
    async with client.ClientSession() as session:
        if mode == "multipart":
            form = client.FormData()
            form.add_field("note", "zurl upload")
            with open(path, "rb") as big, open(path + ".json", "rb") as small:
                form.add_field(
                    "file", big, filename="big.bin", content_type="application/x-zurl-test"
                )
                form.add_field("meta", small)  # type guessed from its name, big.bin.json
                async with session.post(url, data=form) as resp:
                    out["status"] = resp.status
        elif mode == "file":
            with open(path, "rb") as fh:
                async with session.post(url, data=fh) as resp:
                    out["status"] = resp.status
        elif mode == "agen":
            async def chunks():
                with open(path, "rb") as fh:
                    while chunk := fh.read(1 << 20):
                        yield chunk
            async with session.post(url, data=chunks()) as resp:
                out["status"] = resp.status
        elif mode == "download":
            digest, size = hashlib.sha256(), 0
            async with session.get(url) as resp:
                out["status"] = resp.status
                async for chunk in resp.content.iter_chunked(1 << 20):
                    digest.update(chunk)
                    size += len(chunk)
            out["sha256"], out["size"] = digest.hexdigest(), size
    # ru_maxrss (KiB) survives exec on Linux: a child of a big pytest process would
    # report its parent's peak. VmHWM is this process's own high-water mark.
    out["ru_maxrss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    out["maxrss"] = int(hwm.split()[1]) * 1024
    print(json.dumps(out))

asyncio.run(main(*sys.argv[1:4]))
"""


async def run_client(mode: str, url: str, path: str = "") -> dict[str, Any]:
    """Run CLIENT_SCRIPT in a fresh interpreter; its JSON line (``maxrss``: peak RSS in
    bytes)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CLIENT_SCRIPT,
        mode,
        url,
        path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), SUBPROCESS_TIMEOUT)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode(errors="replace")
    result: dict[str, Any] = json.loads(out)
    return result


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[SinkServer]:
    async with SinkServer() as server:
        yield server
    if server.errors:
        raise server.errors[0]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A 200 MiB file (sparse, with distinct islands) and its SHA-256; beside it
    ``<path>.json``, a small JSON file."""
    path = tmp_path_factory.mktemp("upload") / "big.bin"
    digest = sparse_file(path, UPLOAD_SIZE)
    Path(f"{path}.json").write_bytes(b'{"zurl": true}')
    return str(path), digest


def only_record(sink: SinkServer) -> SinkRecord:
    assert len(sink.records) == 1, sink.records
    record = sink.records[0]
    assert record.error is None, record.error
    return record


# --- 200 MB uploads from a separate process --------------------------------------------


async def test_200_mb_multipart_upload_streams_in_flat_memory(
    sink: SinkServer, big_file: tuple[str, str]
) -> None:
    path, digest = big_file
    result = await run_client("multipart", f"{sink.url}/upload", path)
    assert result["status"] == 200
    record = only_record(sink)
    assert record.framing == "content-length"
    assert int(record.header("Content-Length") or -1) == record.size
    content_type = record.header("Content-Type") or ""
    assert content_type.startswith("multipart/form-data; boundary=")
    assert record.multipart_complete
    note, file_part, meta = record.parts
    assert note.header("Content-Disposition") == 'form-data; name="note"'
    assert note.header("Content-Type") is None  # a text field is text/plain by default
    assert note.head == b"zurl upload"
    assert file_part.header("Content-Disposition") == (
        'form-data; name="file"; filename="big.bin"'
    )
    assert file_part.header("Content-Type") == "application/x-zurl-test"
    assert file_part.size == UPLOAD_SIZE
    assert file_part.sha256 == digest
    assert meta.header("Content-Disposition") == 'form-data; name="meta"; filename="big.bin.json"'
    assert meta.header("Content-Type") == "application/json"
    assert meta.head == b'{"zurl": true}'
    assert result["maxrss"] < RSS_LIMIT, f"client peak RSS {result['maxrss'] / MiB:.1f} MiB"


async def test_200_mb_file_object_upload_has_exact_content_length(
    sink: SinkServer, big_file: tuple[str, str]
) -> None:
    path, digest = big_file
    result = await run_client("file", f"{sink.url}/upload", path)
    assert result["status"] == 200
    record = only_record(sink)
    assert record.framing == "content-length"
    assert record.header("Content-Length") == str(UPLOAD_SIZE)
    assert record.header("Transfer-Encoding") is None
    assert record.size == UPLOAD_SIZE
    assert record.sha256 == digest
    assert result["maxrss"] < RSS_LIMIT, f"client peak RSS {result['maxrss'] / MiB:.1f} MiB"


async def test_200_mb_async_generator_upload_is_sent_chunked(
    sink: SinkServer, big_file: tuple[str, str]
) -> None:
    path, digest = big_file
    result = await run_client("agen", f"{sink.url}/upload", path)
    assert result["status"] == 200
    record = only_record(sink)
    assert record.framing == "chunked"
    assert record.header("Content-Length") is None
    assert record.size == UPLOAD_SIZE
    assert record.sha256 == digest
    assert result["maxrss"] < RSS_LIMIT, f"client peak RSS {result['maxrss'] / MiB:.1f} MiB"


async def test_a_file_object_is_sent_from_its_current_position(
    sink: SinkServer, tmp_path: Path
) -> None:
    path = tmp_path / "rows.txt"
    path.write_bytes(ORIGINAL)
    with open(path, "rb") as fh:
        fh.seek(1000)
        async with client.ClientSession() as session:
            resp = await session.post(sink.url, data=fh)
            await resp.read()
    record = only_record(sink)
    assert record.header("Content-Length") == str(len(ORIGINAL) - 1000)
    assert record.sha256 == sha256(ORIGINAL[1000:])


async def test_a_pipe_is_streamed_chunked_until_its_end(sink: SinkServer) -> None:
    # What `zurl POST URL @-` does with a piped standard input: no size, so chunked.
    read_fd, write_fd = os.pipe()

    def feed() -> None:
        with open(write_fd, "wb") as writer:
            for start in range(0, len(ORIGINAL), 5000):
                writer.write(ORIGINAL[start : start + 5000])

    with open(read_fd, "rb") as reader:
        feeder = asyncio.get_running_loop().run_in_executor(None, feed)
        async with asyncio.timeout(20), client.ClientSession() as session:
            resp = await session.post(sink.url, data=reader)
            await resp.read()
        await feeder
    record = only_record(sink)
    assert record.framing == "chunked"
    assert record.sha256 == sha256(ORIGINAL)


# --- upload compression ----------------------------------------------------------------

ORIGINAL = b"".join(b"row %d: %s\n" % (i, sha256(b"%d" % i).encode()) for i in range(4000))


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def raw_deflate(data: bytes) -> bytes:
    obj = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return obj.compress(data) + obj.flush()


async def stream_of(data: bytes, size: int = 7000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def body_as(kind: str, data: bytes) -> Any:
    """``data`` as one of the body types ``data=`` takes."""
    if kind == "bytes":
        return data
    if kind == "file":
        return io.BytesIO(data)
    return stream_of(data)


@pytest.mark.parametrize("kind", ["bytes", "file", "stream"])
@pytest.mark.parametrize(
    ("encoding", "compressor"), [("deflate", zlib.compress), ("gzip", gzip_bytes)]
)
async def test_a_caller_compressed_body_is_sent_exactly_as_given(
    sink: SinkServer, kind: str, encoding: str, compressor: Callable[[bytes], bytes]
) -> None:
    wire = compressor(ORIGINAL)
    async with client.ClientSession() as session:
        resp = await session.post(
            sink.url, data=body_as(kind, wire), headers={"Content-Encoding": encoding}
        )
        assert resp.status == 200
        await resp.read()
    record = only_record(sink)
    assert record.header("Content-Encoding") == encoding
    assert record.sha256 == sha256(wire)  # byte-identical: never compressed again
    assert record.decoded_sha256 == sha256(ORIGINAL)
    if kind == "stream":
        assert record.framing == "chunked"
    else:
        assert record.header("Content-Length") == str(len(wire))


@pytest.mark.parametrize("kind", ["bytes", "file", "stream"])
@pytest.mark.parametrize(
    ("compress", "encoding"), [("gzip", "gzip"), ("deflate", "deflate"), (True, "deflate")]
)
async def test_compress_sends_a_body_that_decodes_to_the_original(
    sink: SinkServer, kind: str, compress: str | bool, encoding: str
) -> None:
    async with client.ClientSession() as session:
        resp = await session.post(sink.url, data=body_as(kind, ORIGINAL), compress=compress)
        assert resp.status == 200
        await resp.read()
    record = only_record(sink)
    assert record.header("Content-Encoding") == encoding
    assert record.size < len(ORIGINAL)  # it really was compressed
    assert record.decoded_size == len(ORIGINAL)
    assert record.decoded_sha256 == sha256(ORIGINAL)
    if record.framing == "content-length":
        assert record.header("Content-Length") == str(record.size)
    else:
        assert kind != "bytes", "an in-memory body should keep an exact Content-Length"
        assert record.framing == "chunked"


async def test_compress_and_a_caller_content_encoding_is_a_value_error(
    sink: SinkServer,
) -> None:
    async with client.ClientSession() as session:
        with pytest.raises(ValueError, match="Content-Encoding"):
            await session.post(
                sink.url, data=ORIGINAL, compress="gzip", headers={"Content-Encoding": "gzip"}
            )
        # Refused before anything was sent; the session still works.
        resp = await session.post(sink.url, data=b"after")
        assert resp.status == 200
        await resp.read()
    assert [r.sha256 for r in sink.records] == [sha256(b"after")]


async def test_compress_with_an_unknown_coding_is_refused_before_sending(
    sink: SinkServer,
) -> None:
    async with client.ClientSession() as session:
        with pytest.raises(ValueError, match="br"):
            await session.post(sink.url, data=ORIGINAL, compress="br")
    assert sink.records == []


async def test_compress_without_a_body_sends_no_content_encoding(sink: SinkServer) -> None:
    async with client.ClientSession() as session:
        resp = await session.get(sink.url, compress="gzip")
        assert resp.status == 200
        await resp.read()
    record = only_record(sink)
    assert record.header("Content-Encoding") is None
    assert record.size == 0


def strict_length_server(seen: list[dict[str, Any]]) -> Callable[[RawConnection], Any]:
    """Reads a head and exactly Content-Length bytes, answers with Connection: close, then
    keeps reading to the end: anything after the body means the length was wrong."""

    async def script(conn: RawConnection) -> None:
        head = await conn.read_until(HEAD_END)
        _, _, headers = parse_head(head)
        length = int(header_value(headers, "Content-Length") or "-1")
        entry: dict[str, Any] = {
            "content_length": length,
            "transfer_encoding": header_value(headers, "Transfer-Encoding"),
        }
        seen.append(entry)
        try:
            entry["body"] = await asyncio.wait_for(conn.read_exactly(length), 10)
        except TimeoutError:
            entry["body"] = None  # fewer bytes than announced
        conn.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        await conn.drain()
        extra = b""
        while chunk := await asyncio.wait_for(conn.read(), 10):
            extra += chunk
        entry["extra"] = extra

    return script


def _multipart_form() -> client.FormData:
    form = client.FormData()
    form.add_field("a", "1")
    form.add_field("f", io.BytesIO(ORIGINAL), filename="rows.txt")
    form.add_field("b", b"\x00\x01", content_type="application/x-bin")
    return form


LENGTH_CASES: dict[str, dict[str, Any]] = {
    "bytes": {"data": ORIGINAL},
    "str": {"data": "héllo wörld"},
    "json": {"json": {"k": ["v", 1, None], "ü": "ß"}},
    "urlencoded": {"data": {"a": "1 2", "b": "ü&="}},
    "multipart": {"data": _multipart_form},
    "file": {"data": lambda: io.BytesIO(ORIGINAL)},
    "gzip": {"data": ORIGINAL, "compress": "gzip"},
    "deflate": {"data": ORIGINAL, "compress": True},
    "empty": {"data": b""},
    "no-body": {},
}


@pytest.mark.parametrize("case", list(LENGTH_CASES))
async def test_content_length_always_matches_the_bytes_on_the_wire(
    raw_server: RawServerFactory, case: str
) -> None:
    seen: list[dict[str, Any]] = []
    server = await raw_server(strict_length_server(seen))
    kwargs = {k: v() if callable(v) else v for k, v in LENGTH_CASES[case].items()}
    async with client.ClientSession() as session:
        resp = await session.post(server.url, **kwargs)
        assert resp.status == 204
        await resp.read()
    async with asyncio.timeout(15):
        while "extra" not in seen[-1]:
            await asyncio.sleep(0.01)
    (entry,) = seen
    assert entry["transfer_encoding"] is None
    assert entry["body"] is not None, "the client sent fewer bytes than its Content-Length"
    assert len(entry["body"]) == entry["content_length"]
    assert entry["extra"] == b"", "the client sent more bytes than its Content-Length"


async def test_a_dict_of_lists_is_sent_as_repeated_fields(sink: SinkServer) -> None:
    async with client.ClientSession() as session:
        resp = await session.post(sink.url, data={"b": ["x", "y"], "a": "1"})
        await resp.read()
    record = only_record(sink)
    assert record.header("Content-Type") == "application/x-www-form-urlencoded"
    assert record.sha256 == sha256(b"b=x&b=y&a=1")


REPLAY_KINDS = ["bytes", "file", "real-file", "multipart", "gzip-file"]


@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("kind", REPLAY_KINDS)
async def test_a_redirect_that_keeps_the_method_resends_the_same_body(
    raw_server: RawServerFactory, sink: SinkServer, tmp_path: Path, kind: str, status: int
) -> None:
    server = await raw_server(
        [
            b"HTTP/1.1 %d Moved\r\nLocation: %b/landed\r\nContent-Length: 0\r\n\r\n"
            % (status, sink.url.encode())
        ]
    )
    path = tmp_path / "rows.txt"
    path.write_bytes(ORIGINAL)
    kwargs: dict[str, Any] = {}
    with open(path, "rb") as fh:
        if kind == "bytes":
            kwargs["data"] = ORIGINAL
        elif kind == "file":
            kwargs["data"] = io.BytesIO(ORIGINAL)
        elif kind == "real-file":
            kwargs["data"] = fh
        elif kind == "multipart":
            form = client.FormData()
            form.add_field("f", fh, filename="rows.txt", content_type="text/plain")
            kwargs["data"] = form
        else:
            kwargs.update(data=fh, compress="gzip")
        async with asyncio.timeout(20), client.ClientSession() as session:
            resp = await session.post(server.url, **kwargs)
            assert resp.status == 200
            await resp.read()
    first = server.received[0]
    assert first.startswith(b"POST / ")
    record = only_record(sink)
    assert record.method == "POST"
    assert record.target == "/landed"
    if kind == "multipart":
        assert [p.sha256 for p in record.parts] == [sha256(ORIGINAL)]
    elif kind == "gzip-file":
        assert record.decoded_sha256 == sha256(ORIGINAL)
    else:
        assert record.sha256 == sha256(ORIGINAL)
    # The first hop got the whole body too (a request is never cut off mid-body).
    assert len(first) > len(ORIGINAL) // (4 if kind == "gzip-file" else 1)


async def test_a_body_generator_that_fails_fails_the_request_without_hanging(
    sink: SinkServer,
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"first piece"
        raise RuntimeError("the source broke")

    async with asyncio.timeout(20), client.ClientSession() as session:
        # The error itself (aiohttp < 3.10) or a ClientConnectionError caused by it (3.10+).
        with pytest.raises((RuntimeError, client.ClientConnectionError)) as info:
            await session.post(sink.url, data=broken())
        cause = info.value if isinstance(info.value, RuntimeError) else info.value.__cause__
        assert "the source broke" in str(cause)
        # The half-sent request never reaches the server as complete, and the session
        # is still usable.
        resp = await session.post(sink.url, data=b"next")
        assert resp.status == 200
        await resp.read()
    assert [r.sha256 for r in sink.records] == [sha256(b"next")]


async def test_a_multipart_form_with_a_stream_part_is_sent_chunked(sink: SinkServer) -> None:
    form = client.FormData()
    form.add_field("name", "value")
    form.add_field("stream", stream_of(ORIGINAL), filename="s.bin")
    async with client.ClientSession() as session:
        resp = await session.post(sink.url, data=form)
        assert resp.status == 200
        await resp.read()
    record = only_record(sink)
    assert record.framing == "chunked"
    assert record.multipart_complete
    text, stream = record.parts
    assert text.head == b"value"
    assert stream.header("Content-Disposition") == 'form-data; name="stream"; filename="s.bin"'
    assert stream.header("Content-Type") == "application/octet-stream"
    assert stream.sha256 == sha256(ORIGINAL)


# --- chunked=True ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bytes", "file", "stream"])
async def test_chunked_true_sends_chunks_the_server_decodes(sink: SinkServer, kind: str) -> None:
    async with client.ClientSession() as session:
        resp = await session.post(sink.url, data=body_as(kind, ORIGINAL), chunked=True)
        assert resp.status == 200
        await resp.read()
    record = only_record(sink)
    assert record.framing == "chunked"
    assert record.header("Transfer-Encoding") == "chunked"
    assert record.header("Content-Length") is None
    assert record.chunks >= 1
    assert record.sha256 == sha256(ORIGINAL)


async def test_chunked_with_a_content_length_header_is_a_value_error(sink: SinkServer) -> None:
    async with client.ClientSession() as session:
        with pytest.raises(ValueError, match="Content-Length"):
            await session.post(
                sink.url, data=b"abc", chunked=True, headers={"Content-Length": "3"}
            )
    assert sink.records == []


# --- expect100=True --------------------------------------------------------------------

EXPECT_BODY = b"BODY-BYTES:" * 100_000  # 1.1 MB: too big to hide in a socket buffer


async def test_expect100_sends_the_body_after_100_continue(
    raw_server: RawServerFactory,
) -> None:
    seen: dict[str, Any] = {}

    async def script(conn: RawConnection) -> None:
        head = await conn.read_until(HEAD_END)
        seen["expect"] = header_value(parse_head(head)[2], "Expect")
        await asyncio.sleep(0.2)  # time for a client that does not wait to send the body
        seen["early"] = conn.received[len(head) :]
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = await conn.read_exactly(len(EXPECT_BODY))
        answer = sha256(body).encode()
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(answer), answer))

    server = await raw_server(script)
    async with asyncio.timeout(20), client.ClientSession() as session:
        resp = await session.post(server.url, data=EXPECT_BODY, expect100=True)
        assert resp.status == 200
        assert await resp.text() == sha256(EXPECT_BODY)
    assert seen == {"expect": "100-continue", "early": b""}


async def test_expect100_with_a_streamed_body_against_a_real_server(sink: SinkServer) -> None:
    async with asyncio.timeout(20), client.ClientSession() as session:
        resp = await session.post(sink.url, data=stream_of(ORIGINAL), expect100=True)
        assert resp.status == 200
        await resp.read()
    record = only_record(sink)
    assert record.header("Expect") == "100-continue"
    assert record.sha256 == sha256(ORIGINAL)


@pytest.mark.parametrize("status", [417, 401])
@pytest.mark.parametrize(
    "late_body",
    [
        False,
        pytest.param(
            True,
        ),
    ],
    ids=["complete", "body-later"],
)
async def test_expect100_final_answer_means_the_body_is_never_sent(
    raw_server: RawServerFactory, status: int, late_body: bool
) -> None:
    done = asyncio.Event()

    async def script(conn: RawConnection) -> None:
        if conn.index == 0:
            await conn.read_until(HEAD_END)
            conn.write(b"HTTP/1.1 %d Nope\r\nContent-Length: 4\r\n\r\n" % status)
            await conn.drain()
            if late_body:
                await asyncio.sleep(0.3)  # the head is read; its body comes later
            conn.write(b"nope")
            # Keep the connection open: whatever comes next must be a clean request head.
            nxt = await asyncio.wait_for(conn.read_until(HEAD_END), 10)
            if not nxt:
                done.set()
                return  # the client closed the connection instead: fine
        else:
            nxt = await asyncio.wait_for(conn.read_until(HEAD_END), 10)
        reply = b"clean" if nxt.startswith(b"GET /after ") else b"dirty"
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%b" % (len(reply), reply))
        await conn.drain()
        done.set()

    server = await raw_server(script)
    async with asyncio.timeout(20), client.ClientSession() as session:
        resp = await session.post(server.url, data=EXPECT_BODY, expect100=True)
        assert resp.status == status
        assert await resp.read() == b"nope"
        resp = await session.get(f"{server.url}/after")
        assert await resp.text() == "clean"
        await done.wait()
    assert not any(b"BODY-BYTES:" in received for received in server.received)


async def test_expect100_sends_the_body_anyway_when_the_server_ignores_expect(
    raw_server: RawServerFactory,
) -> None:
    # RFC 9110 §10.1.1: the client need not wait indefinitely (curl waits 1 s).
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
    async with client.ClientSession() as session:
        async with asyncio.timeout(8):
            resp = await session.post(server.url, data=b"payload", expect100=True)
        assert await resp.text() == "ok"
    assert server.received[0].endswith(b"\r\n\r\npayload")


# --- response decoders -----------------------------------------------------------------

DECODED = b"".join(b"line %d %s\n" % (i, sha256(b"%d" % (i % 37)).encode()) for i in range(300))


def zstd_bytes(data: bytes) -> bytes:
    return zstandard.ZstdCompressor().compress(data)


CODECS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "gzip": ("gzip", gzip_bytes),
    "deflate-zlib": ("deflate", zlib.compress),
    "deflate-raw": ("deflate", raw_deflate),
    "br": ("br", brotli.compress),
    "zstd": ("zstd", zstd_bytes),
}


def one_byte_at_a_time(
    encoding: str, body: bytes, *, chunked: bool
) -> Callable[[RawConnection], Any]:
    """A response whose body is written one byte per write (one chunk per byte)."""
    framing = b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body)
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: %b\r\n%b\r\n\r\n" % (encoding.encode(), framing)

    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        conn.write(head)
        for byte in body:
            conn.write(b"1\r\n%c\r\n" % byte if chunked else bytes((byte,)))
            await conn.drain()
            # Two loop turns: the client's read of this byte runs before the next write.
            await asyncio.sleep(0)
            await asyncio.sleep(0)
        if chunked:
            conn.write(b"0\r\n\r\n")

    return script


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
@pytest.mark.parametrize("codec", list(CODECS))
async def test_every_decoder_on_a_body_arriving_one_byte_at_a_time(
    raw_server: RawServerFactory, codec: str, chunked: bool
) -> None:
    encoding, compressor = CODECS[codec]
    server = await raw_server(one_byte_at_a_time(encoding, compressor(DECODED), chunked=chunked))
    async with asyncio.timeout(30), client.ClientSession() as session:
        resp = await session.get(server.url)
        assert resp.headers["Content-Encoding"] == encoding
        assert await resp.read() == DECODED


@pytest.mark.parametrize("where", ["session", "request"])
@pytest.mark.parametrize("codec", list(CODECS))
async def test_auto_decompress_false_gives_the_raw_bytes(
    raw_server: RawServerFactory, codec: str, where: str
) -> None:
    encoding, compressor = CODECS[codec]
    wire = compressor(DECODED)
    server = await raw_server(serve(wire, b"Content-Encoding: " + encoding.encode()))
    session_kw = {"auto_decompress": False} if where == "session" else {}
    request_kw = {"auto_decompress": False} if where == "request" else {}
    async with client.ClientSession(**session_kw) as session:
        resp = await session.get(server.url, **request_kw)
        assert resp.headers["Content-Encoding"] == encoding
        assert await resp.read() == wire


def gzip_zeros(n: int, member: int = 64 * MiB) -> bytes:
    """gzip of ``n`` zero bytes, built in well under a second: one gzip member per
    ``member`` bytes (RFC 1952 §2.2 allows any number of members)."""
    whole, rest = divmod(n, member)
    out = gzip_bytes(bytes(member)) * whole if whole else b""
    return out + (gzip_bytes(bytes(rest)) if rest or not whole else b"")


def serve(body: bytes, *headers: bytes) -> list[bytes | float]:
    """A raw_server script: a 200 with ``headers`` and ``body`` in 64 KiB writes."""
    head = b"HTTP/1.1 200 OK\r\n%bContent-Length: %d\r\n\r\n" % (
        b"".join(h + b"\r\n" for h in headers),
        len(body),
    )
    return [head, *(body[i : i + (1 << 16)] for i in range(0, len(body), 1 << 16))]


async def test_a_gzip_bomb_stops_at_the_session_limit(raw_server: RawServerFactory) -> None:
    bomb = gzip_zeros(1 << 30)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 2 * MiB
    server = await raw_server(serve(bomb, b"Content-Encoding: gzip"))
    delivered = 0
    async with asyncio.timeout(30), client.ClientSession(max_decompressed_size=10_000_000) as s:
        resp = await s.get(server.url)
        with pytest.raises(client.DecompressionLimitError) as info:
            async for chunk in resp.content.iter_chunked(MiB):
                delivered += len(chunk)
    assert isinstance(info.value, client.ClientPayloadError)
    assert "10000000" in str(info.value)
    assert delivered <= 10_000_000


BOMBS: dict[str, Callable[[], bytes]] = {
    "deflate": lambda: zlib.compress(bytes(64 * MiB), 9),
    "br": lambda: brotli.compress(bytes(256 * MiB), quality=1),
    "zstd": lambda: zstd_bytes(bytes(1 << 30)),
}


@pytest.mark.parametrize("encoding", list(BOMBS))
async def test_every_codec_stops_a_bomb_at_the_limit(
    raw_server: RawServerFactory, encoding: str
) -> None:
    bomb = BOMBS[encoding]()
    assert len(bomb) < MiB
    server = await raw_server(serve(bomb, b"Content-Encoding: " + encoding.encode()))
    async with asyncio.timeout(30), client.ClientSession(max_decompressed_size=10_000_000) as s:
        resp = await s.get(server.url)
        with pytest.raises(client.DecompressionLimitError, match=encoding):
            await resp.read()


@pytest.mark.parametrize(("size", "fails"), [(10_000_000, False), (10_000_001, True)])
async def test_the_limit_allows_exactly_its_size(
    raw_server: RawServerFactory, size: int, fails: bool
) -> None:
    server = await raw_server(serve(gzip_zeros(size), b"Content-Encoding: gzip"))
    async with client.ClientSession(max_decompressed_size=10_000_000) as session:
        resp = await session.get(server.url)
        if fails:
            with pytest.raises(client.DecompressionLimitError):
                await resp.read()
        else:
            assert await resp.read() == bytes(size)


def test_the_default_limit_is_one_gibibyte() -> None:
    default = inspect.signature(client.ClientSession).parameters["max_decompressed_size"]
    assert default.default == 1 << 30


async def test_the_default_limit_stops_a_bomb_just_over_one_gibibyte(
    raw_server: RawServerFactory,
) -> None:
    server = await raw_server(serve(gzip_zeros((1 << 30) + 1), b"Content-Encoding: gzip"))
    delivered = 0
    async with asyncio.timeout(50), client.ClientSession() as session:
        resp = await session.get(server.url)
        with pytest.raises(client.DecompressionLimitError):
            async for chunk in resp.content.iter_any():
                delivered += len(chunk)
    assert delivered <= 1 << 30


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"not deflate data" * 20),
        ("gzip", gzip_bytes(DECODED)[:-30]),  # cut before the end marker
        ("gzip", b"plain text, not gzip at all"),
        ("deflate", b"\x78\x9c" + b"\xff" * 50),
        ("br", brotli.compress(DECODED)[:-5]),
        ("zstd", b"\x28\xb5\x2f\xfd" + b"\xff" * 40),
    ],
    ids=["gzip-garbage", "gzip-truncated", "gzip-plain", "deflate-garbage", "br-cut", "zstd"],
)
async def test_a_corrupt_body_is_a_payload_error(
    raw_server: RawServerFactory, encoding: str, body: bytes
) -> None:
    server = await raw_server(serve(body, b"Content-Encoding: " + encoding.encode()))
    async with client.ClientSession() as session:
        resp = await session.get(server.url)
        with pytest.raises(client.ClientPayloadError):
            await resp.read()


@pytest.mark.parametrize(
    "lines",
    [
        [b"Content-Encoding: gzip", b"Content-Encoding: br"],
        [b"Content-Encoding: gzip, br"],
        [b"Content-Encoding: deflate", b"Content-Encoding: zstd"],
    ],
    ids=["two-lines", "one-line", "deflate-then-zstd"],
)
async def test_several_content_encodings_are_undone_in_reverse_order(
    raw_server: RawServerFactory, lines: list[bytes]
) -> None:
    body = DECODED
    names = [n.strip().decode() for line in lines for n in line.split(b":")[1].split(b",")]
    for name in names:  # applied in the order listed (RFC 9110 §8.4)
        body = {"gzip": gzip_bytes, "br": brotli.compress, "deflate": zlib.compress}.get(
            name, zstd_bytes
        )(body)
    server = await raw_server(serve(body, *lines))
    async with client.ClientSession() as session:
        resp = await session.get(server.url)
        assert await resp.read() == DECODED


async def test_codings_listed_in_the_wrong_order_are_a_payload_error(
    raw_server: RawServerFactory,
) -> None:
    body = gzip_bytes(brotli.compress(DECODED))  # br first, then gzip
    server = await raw_server(serve(body, b"Content-Encoding: gzip", b"Content-Encoding: br"))
    async with client.ClientSession() as session:
        resp = await session.get(server.url)
        with pytest.raises(client.ClientPayloadError):
            await resp.read()


@pytest.mark.parametrize("value", ["identity", "x-unknown", "compress"])
async def test_an_encoding_the_client_cannot_undo_passes_the_body_raw(
    raw_server: RawServerFactory, value: str
) -> None:
    server = await raw_server(serve(b"\x00raw\xff bytes", b"Content-Encoding: " + value.encode()))
    async with client.ClientSession() as session:
        resp = await session.get(server.url)
        assert await resp.read() == b"\x00raw\xff bytes"


@pytest.mark.parametrize("method", ["HEAD", "GET"])
async def test_an_encoded_response_without_a_body_reads_as_empty(
    raw_server: RawServerFactory, method: str
) -> None:
    # HEAD: the headers describe a body that is not sent; 304: no body by definition.
    status = b"200 OK" if method == "HEAD" else b"304 Not Modified"
    server = await raw_server(
        [b"HTTP/1.1 %b\r\nContent-Encoding: gzip\r\nContent-Length: 1234\r\n\r\n" % status]
    )
    async with asyncio.timeout(10), client.ClientSession() as session:
        resp = await session.request(method, server.url)
        assert await resp.read() == b""


@pytest.mark.parametrize(
    ("path", "flag"), [("/gzip", "gzipped"), ("/deflate", "deflated"), ("/brotli", "brotli")]
)
async def test_httpbin_encoded_responses_decode(httpbin: Any, path: str, flag: str) -> None:
    async with client.ClientSession() as session:
        resp = await session.get(httpbin.url + path)
        assert resp.headers["Content-Encoding"] in ("gzip", "deflate", "br")
        assert (await resp.json())[flag] is True


async def test_an_early_final_answer_stops_a_streamed_upload(
    raw_server: RawServerFactory,
) -> None:
    size = 200 * MiB
    drained = asyncio.Event()

    async def script(conn: RawConnection) -> None:
        await conn.read_until(HEAD_END)
        conn.write(b"HTTP/1.1 413 Content Too Large\r\nContent-Length: 0\r\n\r\n")
        await conn.drain()
        while await asyncio.wait_for(conn.read(), 20):
            pass  # discard the rest, as a lingering close does, until the client closes
        drained.set()

    async def upload() -> AsyncIterator[bytes]:
        block = bytes(MiB)
        for _ in range(size // MiB):
            yield block

    server = await raw_server(script)
    async with asyncio.timeout(30), client.ClientSession() as session:
        resp = await session.post(server.url, data=upload())
        assert resp.status == 413
        resp.release()
        await drained.wait()
    assert len(server.received[0]) < size, "the whole body was sent after a 413"


# --- large downloads -------------------------------------------------------------------


async def test_300_mb_download_with_iter_chunked_keeps_memory_flat(sink: SinkServer) -> None:
    small = await run_client("download", f"{sink.url}/bytes/{MiB}")
    big = await run_client("download", f"{sink.url}/bytes/{DOWNLOAD_SIZE}")
    assert small["size"] == MiB
    assert big["status"] == 200
    assert big["size"] == DOWNLOAD_SIZE
    assert big["sha256"] == sink.sent[1] == expected_sha256(DOWNLOAD_SIZE)
    growth = big["maxrss"] - small["maxrss"]
    assert growth < RSS_FLAT, f"peak RSS grew {growth / MiB:.1f} MiB for 299 MiB more"
    assert big["maxrss"] < RSS_STREAM_LIMIT, f"client peak RSS {big['maxrss'] / MiB:.1f} MiB"


async def test_a_compressed_download_streams_in_flat_memory(
    raw_server: RawServerFactory,
) -> None:
    size = 128 * MiB
    server = await raw_server(serve(gzip_zeros(size), b"Content-Encoding: gzip"))
    result = await run_client("download", server.url)
    assert result["size"] == size
    assert result["sha256"] == sha256(bytes(size))
    assert result["maxrss"] < RSS_STREAM_LIMIT, f"client peak RSS {result['maxrss'] / MiB:.1f} MiB"
