"""MultipartWriter: aiohttp's multipart/* bodies, built part by part and sent for real.

Bodies go to loopback servers and are checked there: httpbin parses multipart/form-data
as Werkzeug does, the keep-alive server's /echo returns the raw body (parsed back with the
standard library's email parser), and the sink counts and hashes what arrives, part by
part, so a file part of tens of MiB can be checked without keeping it.
"""

from __future__ import annotations

import asyncio
import email.parser
import email.policy
import gzip
import hashlib
import io
import json
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

import client
from client import MultipartWriter
from client.payload import FILE_CHUNK_SIZE, BytesPayload, FilePayload, StringPayload
from tests.servers.keepalive import KeepAliveServerFactory
from tests.servers.sink import SinkRecord, SinkServer, sparse_file

pytestmark = pytest.mark.timeout(30)
MiB = 1 << 20
BIG_FILE_SIZE = 48 * MiB
MEMORY_LIMIT = 4 * MiB  # peak traced allocations while the 48 MiB part goes out


@pytest_asyncio.fixture
async def sink() -> AsyncIterator[SinkServer]:
    async with SinkServer() as server:
        yield server
    if server.errors:
        raise server.errors[0]


def only_record(sink: SinkServer) -> SinkRecord:
    assert len(sink.records) == 1, sink.records
    record = sink.records[0]
    assert record.error is None, record.error
    return record


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def stream_of(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        await asyncio.sleep(0)
        yield chunk


def parse_mime(content_type: str, body: bytes) -> EmailMessage:
    """Parse a multipart body the way a mail or MIME library does."""
    raw = b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    assert not message.defects, message.defects
    return message


def subparts(message: EmailMessage) -> list[EmailMessage]:
    parts = list(message.iter_parts())
    assert all(isinstance(part, EmailMessage) for part in parts)
    assert all(not part.defects for part in parts), [part.defects for part in parts]
    return parts  # type: ignore[return-value]


def payload_bytes(part: EmailMessage) -> bytes:
    data = part.get_payload(decode=True)
    assert isinstance(data, bytes)
    return data


# --- the writer's shape ------------------------------------------------------------------


def test_content_type_boundary_and_context_manager() -> None:
    with MultipartWriter("related", boundary="zurl-b0undary") as writer:
        assert isinstance(writer, MultipartWriter)
    assert writer.boundary == "zurl-b0undary"
    assert writer.content_type == "multipart/related; boundary=zurl-b0undary"
    assert writer.headers["content-type"] == writer.content_type
    assert MultipartWriter().headers["Content-Type"].startswith("multipart/mixed; boundary=")
    fresh = MultipartWriter().boundary, MultipartWriter().boundary
    assert fresh[0] != fresh[1] and all(len(b) == 32 for b in fresh)
    spaced = MultipartWriter(boundary="with space")
    assert spaced.content_type == 'multipart/mixed; boundary="with space"'


async def test_an_empty_writer_is_still_a_body() -> None:
    writer = MultipartWriter(boundary="EE")
    assert len(writer) == 0 and bool(writer) and list(writer) == []
    assert writer.size == 8
    assert await writer.as_bytes() == b"--EE--\r\n"


async def test_parts_get_aiohttps_default_headers(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"on disk")
    with MultipartWriter("mixed", boundary="BB") as writer, open(path, "rb") as fh:
        writer.append("hello")
        writer.append(b"raw")
        writer.append(io.BytesIO(b"bio"))
        writer.append_json({"a": 1})
        writer.append_form([("k", "v w"), ("k", "x")])
        writer.append(fh)
        body = await writer.as_bytes()
    assert body == (
        b"--BB\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello\r\n"
        b"--BB\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\nraw\r\n"
        b"--BB\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\nbio\r\n"
        b"--BB\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n"
        b'{"a": 1}\r\n'
        b"--BB\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n"
        b"\r\nk=v+w&k=x\r\n"
        b"--BB\r\nContent-Type: text/plain\r\n"
        b'Content-Disposition: attachment; filename="notes.txt"\r\nContent-Length: 7\r\n'
        b"\r\non disk\r\n"
        b"--BB--\r\n"
    )
    assert writer.size == len(body)
    assert len(writer) == 6
    assert [coding for _, coding, _ in writer] == [None] * 6


async def test_append_returns_the_part_whose_headers_are_sent() -> None:
    writer = MultipartWriter(boundary="BB")
    part = writer.append("secret", {"Content-Type": "text/x-secret"})
    part.set_content_disposition("attachment", filename="secret file.txt")
    part.headers[client.hdrs.CONTENT_ID] = "<x-12345>"
    payload = StringPayload("given")
    again = writer.append_payload(payload)
    assert again.content_type == "text/plain; charset=utf-8"
    (first, _, _), (second, _, _) = writer
    assert first is part and second is again
    body = await writer.as_bytes()
    assert b"Content-Type: text/x-secret\r\n" in body
    # aiohttp percent-encodes a MIME file name (RFC 2183 via its set_content_disposition)
    assert b'Content-Disposition: attachment; filename="secret%20file.txt"\r\n' in body
    assert b"Content-ID: <x-12345>\r\n" in body


async def test_text_is_encoded_in_the_charset_its_headers_declare() -> None:
    writer = MultipartWriter(boundary="BB")
    writer.append("café", {"Content-Type": "text/plain; charset=latin-1"})
    body = await writer.as_bytes()
    assert b"Content-Length: 4\r\n\r\ncaf\xe9\r\n" in body


async def test_a_nested_writer_filled_after_appending_is_measured_when_sent() -> None:
    outer = MultipartWriter(boundary="OUT")
    inner = MultipartWriter("alternative", boundary="IN")
    assert outer.append(inner) is inner
    inner.append("plain")
    inner.append("<b>html</b>", {"Content-Type": "text/html"})
    body = await outer.as_bytes()
    assert outer.size == len(body)
    nested = await inner.as_bytes()
    assert f"Content-Length: {len(nested)}\r\n".encode() in body
    assert nested in body


def test_a_writer_cannot_contain_itself() -> None:
    outer = MultipartWriter()
    inner = MultipartWriter()
    outer.append(inner)
    with pytest.raises(ValueError, match="itself"):
        outer.append(outer)
    with pytest.raises(ValueError, match="itself"):
        inner.append(outer)


def test_what_cannot_be_a_part_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        MultipartWriter().append(12345)
    with pytest.raises(TypeError):
        MultipartWriter().append_form("k=v")  # type: ignore[arg-type]


async def test_close_boundary_false_leaves_the_stream_open() -> None:
    writer = MultipartWriter("x-mixed-replace", boundary="frame", close_boundary=False)
    writer.append(b"one")
    body = await writer.as_bytes()
    assert body.endswith(b"\r\n\r\none\r\n")
    assert b"--frame--" not in body
    assert writer.size == len(body)


# --- sent for real -----------------------------------------------------------------------


async def test_a_form_data_writer_is_parsed_like_the_same_formdata(
    httpbin: Any, tmp_path: Path
) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n1,2\n")
    url = httpbin.url + "/post"
    async with client.ClientSession() as session:
        with open(path, "rb") as fh:
            writer = MultipartWriter("form-data")
            writer.append("hello").set_content_disposition("form-data", name="title")
            for tag in ("red", "blue"):
                writer.append(tag).set_content_disposition("form-data", name="tag")
            upload = writer.append(io.BytesIO(b"text file\n"), {"Content-Type": "text/plain"})
            upload.set_content_disposition("form-data", name="upload", filename="notes.txt")
            writer.append(fh).set_content_disposition(
                "form-data", name="sheet", filename="report.csv"
            )
            async with session.post(url, data=writer) as resp:
                assert resp.status == 200
                got = await resp.json()
        with open(path, "rb") as fh:
            form = client.FormData()
            form.add_field("title", "hello")
            form.add_field("tag", "red")
            form.add_field("tag", "blue")
            form.add_field(
                "upload",
                io.BytesIO(b"text file\n"),
                filename="notes.txt",
                content_type="text/plain",
            )
            form.add_field("sheet", fh, filename="report.csv")
            async with session.post(url, data=form) as resp:
                want = await resp.json()
    assert got["headers"]["Content-Type"] == writer.content_type
    assert got["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert got["form"] == want["form"] == {"title": "hello", "tag": ["red", "blue"]}
    assert got["files"] == want["files"] == {"upload": "text file\n", "sheet": "a,b\n1,2\n"}


async def test_unnamed_form_data_parts_are_sections(httpbin: Any) -> None:
    writer = MultipartWriter("form-data")
    writer.append("first")
    writer.append_json({"second": True})
    async with client.ClientSession() as session:
        async with session.post(httpbin.url + "/post", data=writer) as resp:
            got = await resp.json()
    assert got["form"] == {"section-0": "first", "section-1": '{"second": true}'}


async def test_a_mixed_body_arrives_byte_for_byte(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    document = {"id": 7, "name": "zürl", "tags": ["a", "b"]}
    with MultipartWriter("mixed") as writer:
        writer.append_json(document)
        note = writer.append("line one\r\nline two, ünïcode\r\n")
        note.set_content_disposition("inline", filename="note.txt")
        with MultipartWriter("alternative") as alternative:
            alternative.append("plain text version")
            alternative.append("<p>html version</p>", {"Content-Type": "text/html"})
        writer.append(alternative)
    expected = await writer.as_bytes()
    async with client.ClientSession() as session:
        async with session.post(server.url + "/echo", data=writer) as resp:
            echo = await resp.json()
    received = echo["body"].encode("utf-8")
    assert received == expected
    assert echo["body_length"] == len(expected) == writer.size
    assert echo["headers"]["Content-Length"] == str(len(expected))
    assert echo["headers"]["Content-Type"] == writer.content_type

    message = parse_mime(echo["headers"]["Content-Type"], received)
    assert message.get_content_type() == "multipart/mixed"
    assert message.get_boundary() == writer.boundary
    as_json, text, alt = subparts(message)
    assert as_json.get_content_type() == "application/json"
    assert json.loads(payload_bytes(as_json)) == document
    assert text.get_content_type() == "text/plain"
    assert text.get_content_charset() == "utf-8"
    assert text.get_filename() == "note.txt"
    assert payload_bytes(text) == "line one\r\nline two, ünïcode\r\n".encode()
    assert text["Content-Length"] == str(len(payload_bytes(text)))
    assert alt.get_content_type() == "multipart/alternative"
    assert alt.get_boundary() == alternative.boundary
    plain, html = subparts(alt)
    assert (plain.get_content_type(), payload_bytes(plain)) == (
        "text/plain",
        b"plain text version",
    )
    assert (html.get_content_type(), payload_bytes(html)) == ("text/html", b"<p>html version</p>")


async def test_part_codings_are_applied_and_decode_back(sink: SinkServer) -> None:
    original = b"".join(b"line %d of a compressible part\r\n" % i for i in range(2000))
    binary = bytes(range(256)) * 40
    with MultipartWriter("mixed") as writer:
        writer.append(binary, {"Content-Transfer-Encoding": "base64"})
        writer.append("naïve = text\r\n" * 50, {"Content-Transfer-Encoding": "quoted-printable"})
        writer.append(original, {"Content-Encoding": "gzip"})
        writer.append(original, {"Content-Encoding": "deflate"})
    assert writer.size is None  # encoded while sending: the length is not known up front
    expected = await writer.as_bytes()
    async with client.ClientSession() as session:
        async with session.post(sink.url, data=writer) as resp:
            assert resp.status == 200
    record = only_record(sink)
    assert record.framing == "chunked"
    assert record.sha256 == sha256(expected)
    assert record.multipart_complete and len(record.parts) == 4

    as_base64, as_qp, as_gzip, as_deflate = subparts(
        parse_mime(writer.headers["Content-Type"], expected)
    )
    assert payload_bytes(as_base64) == binary
    lines = str(as_base64.get_payload()).split("\r\n")
    assert max(len(line) for line in lines) == 76 and len(lines) == -(-len(binary) // 57)
    assert payload_bytes(as_qp) == ("naïve = text\r\n" * 50).encode()
    assert gzip.decompress(payload_bytes(as_gzip)) == original
    assert zlib.decompress(payload_bytes(as_deflate), wbits=-zlib.MAX_WBITS) == original
    assert "Content-Length" not in as_gzip


async def test_compress_gzips_the_whole_writer(sink: SinkServer) -> None:
    writer = small_bodies()
    expected = await writer.as_bytes()
    async with client.ClientSession() as session:
        async with session.post(sink.url, data=writer, compress="gzip") as resp:
            assert resp.status == 200
    record = only_record(sink)
    assert record.header("Content-Encoding") == "gzip"
    assert record.header("Content-Type") == writer.content_type
    assert record.decoded_sha256 == sha256(expected)


async def test_a_part_of_unknown_size_sends_the_body_chunked(sink: SinkServer) -> None:
    writer = MultipartWriter("mixed")
    writer.append(b"known")
    writer.append(stream_of(b"stre", b"amed"), {"Content-Type": "application/x-stream"})
    assert writer.size is None
    assert not writer.replayable
    async with client.ClientSession() as session:
        async with session.post(sink.url, data=writer) as resp:
            assert resp.status == 200
    record = only_record(sink)
    assert record.framing == "chunked"
    known, streamed = record.parts
    assert known.header("Content-Length") == "5"
    assert streamed.header("Content-Length") is None
    assert streamed.header("Content-Type") == "application/x-stream"
    assert streamed.head == b"streamed"


def small_bodies() -> MultipartWriter:
    writer = MultipartWriter("mixed")
    writer.append("text")
    writer.append_json([1, 2, 3])
    return writer


def nested_with_a_file(path: Path) -> MultipartWriter:
    inner = MultipartWriter("related")
    inner.append_payload(FilePayload(path))
    inner.append(b"x" * (3 * FILE_CHUNK_SIZE))
    outer = MultipartWriter("mixed")
    outer.append_form({"a": ["1", "2"]})
    outer.append(inner)
    return outer


@pytest.mark.parametrize("build", [small_bodies, nested_with_a_file])
async def test_content_length_is_exactly_the_bytes_received(
    sink: SinkServer, tmp_path: Path, build: Any
) -> None:
    path = tmp_path / "part.bin"
    path.write_bytes(bytes(range(256)) * 1000)
    writer = build() if build is small_bodies else build(path)
    expected = await writer.as_bytes()
    async with client.ClientSession() as session:
        async with session.post(sink.url, data=writer) as resp:
            assert resp.status == 200
    record = only_record(sink)
    assert record.framing == "content-length"
    assert record.header("Content-Length") == str(record.size) == str(writer.size)
    assert record.sha256 == sha256(expected)
    assert record.multipart_complete


async def test_a_48_mib_file_part_streams_in_bounded_memory(
    sink: SinkServer, tmp_path: Path
) -> None:
    path = tmp_path / "big.bin"
    digest = sparse_file(path, BIG_FILE_SIZE)
    async with client.ClientSession() as session:
        with open(path, "rb") as fh:
            writer = MultipartWriter("mixed")
            writer.append_json({"name": "big.bin"})
            part = writer.append(fh, {"Content-Type": "application/x-zurl-test"})
            part.set_content_disposition("attachment", filename="big.bin")
            tracemalloc.start()
            try:
                async with session.post(sink.url, data=writer) as resp:
                    assert resp.status == 200
                    await resp.read()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
    record = only_record(sink)
    assert record.framing == "content-length"
    assert record.header("Content-Length") == str(record.size) == str(writer.size)
    meta, big = record.parts
    assert json.loads(meta.head) == {"name": "big.bin"}
    assert big.header("Content-Length") == str(BIG_FILE_SIZE)
    assert big.header("Content-Disposition") == 'attachment; filename="big.bin"'
    assert big.size == BIG_FILE_SIZE
    assert big.sha256 == digest
    assert peak < MEMORY_LIMIT, f"peak {peak / MiB:.1f} MiB while sending a 48 MiB part"


async def test_a_307_redirect_sends_the_writer_again(httpbin: Any, tmp_path: Path) -> None:
    path = tmp_path / "again.txt"
    path.write_bytes(b"sent twice")
    writer = MultipartWriter("form-data")
    writer.append_payload(FilePayload(path)).set_content_disposition(
        "form-data", name="file", filename="again.txt"
    )
    url = httpbin.url + "/redirect-to?status_code=307&url=/post"
    async with client.ClientSession() as session:
        async with session.post(url, data=writer) as resp:
            assert resp.status == 200
            assert len(resp.history) == 1
            got = await resp.json()
    assert got["files"] == {"file": "sent twice"}


# --- refused before sending ----------------------------------------------------------------

INJECTIONS = [
    {"X-Note": "a\r\nX-Injected: 1"},
    {"X-Note": "a\nb"},
    {"X-Note": "a\rb"},
    {"X-Note": "nul\x00"},
    {"X-Bad\r\nName": "v"},
    {"Bad Name": "v"},
    {"X:Colon": "v"},
    {"": "v"},
]


@pytest.mark.parametrize("headers", INJECTIONS)
def test_header_injection_is_refused_on_append(headers: dict[str, str]) -> None:
    writer = MultipartWriter()
    with pytest.raises(ValueError):
        writer.append("body", headers)
    with pytest.raises(ValueError):
        writer.append_json({}, headers)
    assert len(writer) == 0
    part = writer.append_payload(BytesPayload(b"body"))
    part.headers.update(headers)  # after append: checked whenever the body is measured
    with pytest.raises(ValueError):
        _ = writer.size
    with pytest.raises(ValueError):
        writer.in_memory()


@pytest.mark.parametrize("headers", INJECTIONS[:5])
async def test_a_header_broken_after_append_is_refused_before_sending(
    sink: SinkServer, headers: dict[str, str]
) -> None:
    writer = MultipartWriter()
    part = writer.append("body")
    part.headers.update(headers)
    async with client.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.post(sink.url, data=writer)
        async with session.post(sink.url, data=b"after") as resp:
            assert resp.status == 200
    assert [record.sha256 for record in sink.records] == [sha256(b"after")]


def test_content_disposition_values_cannot_inject_lines() -> None:
    part = MultipartWriter().append("x")
    part.set_content_disposition("attachment", filename="a\r\nb.txt", note="c\nd")
    assert part.headers["Content-Disposition"] == (
        "attachment; filename=\"a%0D%0Ab.txt\"; note*=utf-8''c%0Ad"
    )
    with pytest.raises(ValueError):
        part.set_content_disposition("attachment", quote_fields=False, filename="a\r\nb")
    with pytest.raises(ValueError):
        part.set_content_disposition("attach\r\nment")
    with pytest.raises(ValueError):
        part.set_content_disposition("attachment", **{"bad key": "v"})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "boundary", ["", "b" * 71, "a\r\nb", "a\nb", "nul\x00", "ünï", "trailing ", 'quo"te', "a\\b"]
)
def test_a_bad_boundary_is_refused(boundary: str) -> None:
    with pytest.raises(ValueError, match="RFC 2046"):
        MultipartWriter(boundary=boundary)


def test_a_boundary_of_70_bchars_is_accepted() -> None:
    assert MultipartWriter(boundary="b" * 70).boundary == "b" * 70
    assert MultipartWriter(boundary="'()+_,-./:=? x").boundary == "'()+_,-./:=? x"


@pytest.mark.parametrize("subtype", ["mixed\r\nX-Injected: 1", "mixed; boundary=x", ""])
def test_a_bad_subtype_is_refused(subtype: str) -> None:
    with pytest.raises(ValueError, match="subtype"):
        MultipartWriter(subtype)


@pytest.mark.parametrize(
    "headers", [{"Content-Encoding": "gzip"}, {"Content-Transfer-Encoding": "base64"}]
)
def test_form_data_parts_refuse_codings(headers: dict[str, str]) -> None:
    # RFC 7578 §4.7, §4.8
    with pytest.raises(ValueError, match="RFC 7578"):
        MultipartWriter("form-data").append("x", headers)


def test_a_form_data_part_needs_a_name() -> None:
    writer = MultipartWriter("form-data")
    part = writer.append("x")
    part.set_content_disposition("attachment", filename="x.txt")
    with pytest.raises(ValueError, match="name"):
        _ = writer.size


@pytest.mark.parametrize(
    "headers", [{"Content-Encoding": "br"}, {"Content-Transfer-Encoding": "uuencode"}]
)
def test_unknown_part_codings_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="cannot send"):
        MultipartWriter().append("x", headers)
