"""Request bodies: each payload's shape, forms (urlencoded and multipart), files, compression."""

from __future__ import annotations

import gzip
import io
import json
import os
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qsl

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict
from werkzeug.datastructures import MultiDict as WMultiDict
from werkzeug.formparser import parse_form_data

from client.exceptions import NonReplayableBodyError
from client.payload import (
    FILE_CHUNK_SIZE,
    AsyncIterablePayload,
    BytesPayload,
    FilePayload,
    FormData,
    JsonPayload,
    Payload,
    StringPayload,
    compress_payload,
    payload_from_data,
)

pytestmark = pytest.mark.timeout(30)
MiB = 1 << 20


async def collect(payload: Payload) -> bytes:
    return b"".join([chunk async for chunk in payload.chunks()])


async def chunk_sizes(payload: Payload) -> list[int]:
    return [len(chunk) async for chunk in payload.chunks()]


class Upload(NamedTuple):
    filename: str | None
    content_type: str | None
    data: bytes


def parse_form(payload: Payload, body: bytes) -> tuple[WMultiDict[str, str], dict[str, Upload]]:
    """Parse a form body the way a real server (Werkzeug, under httpbin) does."""
    assert payload.content_type is not None
    environ = {
        "REQUEST_METHOD": "POST",
        "CONTENT_TYPE": payload.content_type,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    _, form, files = parse_form_data(environ)
    uploads = {}
    for name, storage in files.items():
        uploads[name] = Upload(storage.filename, storage.content_type, storage.read())
        storage.close()
    return form, uploads


async def agen(*chunks: Any) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


# --- bytes, text, JSON -----------------------------------------------------------------


@pytest.mark.parametrize("value", [b"abc", bytearray(b"abc"), memoryview(b"xabc")[1:]])
async def test_bytes_payload(value: bytes | bytearray | memoryview) -> None:
    payload = BytesPayload(value)
    assert payload.in_memory() == b"abc"
    assert await collect(payload) == b"abc"
    assert payload.size == 3
    assert payload.content_type == "application/octet-stream"
    assert payload.replayable
    assert payload.headers == {}


def test_bytes_payload_copies_a_mutable_buffer() -> None:
    buf = bytearray(b"abc")
    payload = BytesPayload(buf, content_type="image/png")
    buf += b"def"
    assert payload.in_memory() == b"abc"
    assert payload.size == 3
    assert payload.content_type == "image/png"


async def test_empty_bytes_yield_no_chunks() -> None:
    payload = BytesPayload(b"")
    assert payload.size == 0
    assert await chunk_sizes(payload) == []


def test_bytes_payload_rejects_text() -> None:
    with pytest.raises(TypeError, match="str"):
        BytesPayload("text")  # type: ignore[arg-type]


def test_string_payload_names_its_charset() -> None:
    payload = StringPayload("héllo")
    assert payload.in_memory() == "héllo".encode()
    assert payload.content_type == "text/plain; charset=utf-8"
    latin = StringPayload("héllo", encoding="latin-1")
    assert latin.in_memory() == b"h\xe9llo"
    assert latin.size == 5
    assert latin.content_type == "text/plain; charset=latin-1"
    assert StringPayload("x", content_type="text/csv").content_type == "text/csv"


def test_json_payload() -> None:
    payload = JsonPayload({"a": [1, "é"]})
    assert json.loads(payload.in_memory()) == {"a": [1, "é"]}
    assert payload.content_type == "application/json"
    assert payload.size == len(payload.in_memory())


def test_json_payload_custom_dumps_may_return_bytes() -> None:
    payload = JsonPayload([1], dumps=lambda v: b"<%d>" % v[0], content_type="application/x+json")
    assert payload.in_memory() == b"<1>"
    assert payload.content_type == "application/x+json"
    assert JsonPayload(1, dumps=lambda v: "one").in_memory() == b"one"


# --- files ---------------------------------------------------------------------------------


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"0123456789" * 20000)  # 200 kB: several 64 KiB reads
    return path


async def test_file_from_path_streams_in_64k_pieces(text_file: Path) -> None:
    payload = FilePayload(text_file)
    assert payload.size == 200000
    assert payload.in_memory() is None
    assert payload.filename == "notes.txt"
    assert payload.content_type == "text/plain"
    sizes = await chunk_sizes(payload)
    assert max(sizes) == FILE_CHUNK_SIZE
    assert sum(sizes) == 200000
    assert payload.replayable
    assert await collect(payload) == text_file.read_bytes()  # sent again: opened anew


async def test_file_object_is_sent_from_its_position_and_replayed(text_file: Path) -> None:
    with open(text_file, "rb") as fh:
        fh.seek(199990)
        payload = FilePayload(fh)
        assert payload.size == 10
        assert payload.replayable
        assert await collect(payload) == b"0123456789"
        assert await collect(payload) == b"0123456789"
        assert not fh.closed  # the caller's file stays the caller's


async def test_in_memory_file_without_fileno() -> None:
    buf = io.BytesIO(b"header:body")
    buf.seek(7)
    payload = FilePayload(buf, filename="x.json")
    assert payload.size == 4
    assert payload.content_type == "application/json"
    assert await collect(payload) == b"body"


async def test_unknown_suffix_is_octet_stream(tmp_path: Path) -> None:
    path = tmp_path / "blob.unknownext"
    path.write_bytes(b"x")
    assert FilePayload(path).content_type == "application/octet-stream"
    assert FilePayload(str(path), content_type="image/gif").content_type == "image/gif"


class Pipe(io.RawIOBase):
    """A non-seekable stream, like stdin from a pipe."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        n = min(len(buf), len(self._data))
        buf[:n], self._data = self._data[:n], self._data[n:]
        return n


async def test_non_seekable_stream_has_no_size_and_is_one_shot() -> None:
    payload = FilePayload(io.BufferedReader(Pipe(b"piped" * 30000)))
    assert payload.size is None
    assert not payload.replayable
    assert payload.content_type == "application/octet-stream"
    assert await collect(payload) == b"piped" * 30000


async def test_a_device_has_no_size() -> None:
    with open(os.devnull, "rb") as dev:
        payload = FilePayload(dev)
        assert payload.size is None
        assert await collect(payload) == b""


async def test_text_file_is_encoded_with_its_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("héllo", encoding="latin-1")
    with open(path, encoding="latin-1") as fh:
        payload = FilePayload(fh)
        assert payload.size is None
        assert payload.content_type == "text/plain; charset=latin-1"
        assert await collect(payload) == b"h\xe9llo"
    memory = FilePayload(io.StringIO("ünï"))
    assert memory.content_type == "text/plain; charset=utf-8"
    assert await collect(memory) == "ünï".encode()


async def test_a_growing_file_sends_exactly_its_announced_size(text_file: Path) -> None:
    payload = FilePayload(text_file)
    with open(text_file, "ab") as fh:
        fh.write(b"late")
    assert len(await collect(payload)) == 200000


async def test_a_shrinking_file_fails_instead_of_breaking_framing(text_file: Path) -> None:
    payload = FilePayload(text_file)
    os.truncate(text_file, 1000)
    with pytest.raises(OSError, match="shrank"):
        await collect(payload)


# --- async iterables -------------------------------------------------------------------------


async def test_async_iterable_payload_is_one_shot() -> None:
    payload = AsyncIterablePayload(agen(b"a", b"", bytearray(b"b")))
    assert payload.size is None
    assert not payload.replayable
    assert payload.in_memory() is None
    assert payload.content_type == "application/octet-stream"
    assert [c async for c in payload.chunks()] == [b"a", b"b"]
    with pytest.raises(NonReplayableBodyError):
        await collect(payload)


async def test_async_iterable_must_yield_bytes() -> None:
    payload = AsyncIterablePayload(agen("text"))
    with pytest.raises(TypeError, match="str"):
        await collect(payload)
    with pytest.raises(TypeError):
        AsyncIterablePayload([b"sync"])  # type: ignore[arg-type]


# --- payload_from_data -----------------------------------------------------------------------


class Ticker:
    """An async iterable that is not a generator."""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return agen(b"tick")


async def test_payload_from_data_for_every_input(text_file: Path) -> None:
    own = BytesPayload(b"x")
    assert payload_from_data(own) is own
    assert isinstance(payload_from_data(b"x"), BytesPayload)
    assert isinstance(payload_from_data(bytearray(b"x")), BytesPayload)
    assert isinstance(payload_from_data(memoryview(b"x")), BytesPayload)
    assert payload_from_data("é").content_type == "text/plain; charset=utf-8"
    for form in ({"a": "1"}, [("a", "1")], (("a", "1"),), MultiDict([("a", "1")])):
        payload = payload_from_data(form)
        assert payload.in_memory() == b"a=1"
        assert payload.content_type == "application/x-www-form-urlencoded"
    assert payload_from_data(FormData({"b": "2"})).in_memory() == b"b=2"
    with open(text_file, "rb") as fh:
        assert payload_from_data(fh).size == 200000
        upload = payload_from_data({"a": "1", "f": fh})  # a file in a dict: multipart
        assert (upload.content_type or "").startswith("multipart/form-data; boundary=")
    assert await collect(payload_from_data(agen(b"g"))) == b"g"
    assert await collect(payload_from_data(Ticker())) == b"tick"


@pytest.mark.parametrize("value", [42, 1.5, object(), iter([b"sync"]), None])
def test_payload_from_data_rejects_other_types_by_name(value: Any) -> None:
    with pytest.raises(TypeError, match=type(value).__qualname__):
        payload_from_data(value)


def test_list_that_is_not_pairs_is_rejected() -> None:
    with pytest.raises(TypeError, match="pairs"):
        payload_from_data([b"a", b"b", b"c"])


# --- urlencoded forms ------------------------------------------------------------------------


def test_urlencoded_quoting() -> None:
    payload = FormData({"q": "a b&c=d", "é": "ü", "n": 3, "f": 1.5}).payload()
    assert payload.in_memory() == b"q=a+b%26c%3Dd&%C3%A9=%C3%BC&n=3&f=1.5"
    assert payload.size == len(payload.in_memory() or b"")
    form, files = parse_form(payload, payload.in_memory() or b"")
    assert form["q"] == "a b&c=d"
    assert form["é"] == "ü"
    assert not files


def test_urlencoded_keeps_repeated_keys_in_order() -> None:
    form = FormData(MultiDict([("k", "1"), ("j", "x"), ("k", "2")]))
    assert not form.is_multipart
    assert form.payload().in_memory() == b"k=1&j=x&k=2"


def test_urlencoded_charset() -> None:
    payload = FormData({"k": "é"}, charset="latin-1").payload()
    assert payload.in_memory() == b"k=%E9"
    assert payload.content_type == "application/x-www-form-urlencoded; charset=latin-1"


def test_empty_form() -> None:
    assert FormData().payload().in_memory() == b""
    assert FormData(default_to_multipart=True).payload().in_memory() is not None


# --- multipart forms -------------------------------------------------------------------------


async def test_multipart_parts_and_exact_size(text_file: Path) -> None:
    with open(text_file, "rb") as photo:
        form = FormData(boundary="zurl-boundary")
        form.add_field("title", "Holiday")
        form.add_field("photo", photo)
        form.add_field("meta", b'{"a": 1}', content_type="application/json")
        payload = form.payload()
        assert form.is_multipart
        assert payload.content_type == "multipart/form-data; boundary=zurl-boundary"
        assert payload.in_memory() is None  # a file part: streamed
        body = await collect(payload)
        assert await collect(payload) == body  # replayable: the file seeks back
    assert payload.size == len(body)
    assert body.startswith(
        b'--zurl-boundary\r\nContent-Disposition: form-data; name="title"\r\n\r\nHoliday\r\n'
    )
    assert body.endswith(b"\r\n--zurl-boundary--\r\n")
    assert b'name="photo"; filename="notes.txt"\r\nContent-Type: text/plain\r\n\r\n' in body
    fields, files = parse_form(payload, body)
    assert fields["title"] == "Holiday"
    assert files["photo"].data == text_file.read_bytes()
    assert files["meta"].filename == "meta"  # aiohttp 3.x: bytes are a file named after the field
    assert files["meta"].content_type == "application/json"


async def test_a_form_with_a_file_can_be_sent_twice(text_file: Path) -> None:
    with open(text_file, "rb") as fh:
        form = FormData({"f": fh})
        first = await collect(form.payload())
        second = await collect(form.payload())
    assert first == second
    assert len(first) > 200000


async def test_in_memory_multipart_is_one_write() -> None:
    form = FormData({"a": "1"}, default_to_multipart=True)
    form.add_field("b", "2")
    payload = form.payload()
    body = payload.in_memory()
    assert body is not None
    assert payload.size == len(body)
    assert await chunk_sizes(payload) == [len(body)]
    fields, _ = parse_form(payload, body)
    assert fields.to_dict() == {"a": "1", "b": "2"}


@pytest.mark.parametrize(
    ("kwargs", "header"),
    [
        ({"content_type": "text/csv"}, b"Content-Type: text/csv"),
        ({"filename": "report.csv"}, b'filename="report.csv"\r\nContent-Type: text/csv'),
        ({"content_transfer_encoding": "base64"}, b"Content-Transfer-Encoding: base64"),
    ],
)
def test_part_options_make_the_form_multipart(kwargs: dict[str, str], header: bytes) -> None:
    form = FormData()
    form.add_field("f", "data", **kwargs)
    assert form.is_multipart
    assert header in (form.payload().in_memory() or b"")


def test_non_ascii_file_name_gets_filename_star() -> None:
    form = FormData()
    form.add_field("doc", b"x", filename="résumé 1.pdf")
    payload = form.payload()
    body = payload.in_memory() or b""
    assert "filename=\"résumé 1.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9%201.pdf".encode() in body
    _, files = parse_form(payload, body)
    assert files["doc"].filename == "résumé 1.pdf"
    assert files["doc"].content_type == "application/pdf"


def test_quote_fields_escapes_quotes_and_newlines_like_browsers() -> None:
    form = FormData()
    form.add_field('a"b\r\nc', "v", filename='x".txt')
    body = form.payload().in_memory() or b""
    assert b'name="a%22b%0D%0Ac"; filename="x%22.txt"' in body


def test_quote_fields_false_uses_quoted_strings() -> None:
    form = FormData(quote_fields=False)
    form.add_field('a"b\\', "v", content_type="text/plain")
    assert b'name="a\\"b\\\\"' in (form.payload().in_memory() or b"")
    form.add_field("bad\r\nname", "v")
    with pytest.raises(ValueError, match="CR"):
        form.payload()


def test_boundary_is_random_or_checked() -> None:
    first = FormData(default_to_multipart=True).payload().content_type
    second = FormData(default_to_multipart=True).payload().content_type
    assert first != second
    quoted = FormData(boundary="a b:c", default_to_multipart=True).payload().content_type
    assert quoted == 'multipart/form-data; boundary="a b:c"'
    for bad in ("", "x" * 71, "ends in space ", "semi;colon"):
        with pytest.raises(ValueError, match="boundary"):
            FormData(boundary=bad)


async def test_stream_part_makes_size_unknown() -> None:
    form = FormData()
    form.add_field("log", agen(b"line1\n", b"line2\n"), filename="log.txt")
    payload = form.payload()
    assert payload.size is None
    assert not payload.replayable
    body = await collect(payload)
    _, files = parse_form(payload, body)
    assert files["log"].data == b"line1\nline2\n"


async def test_payload_values_keep_their_content_type() -> None:
    form = FormData()
    form.add_field("j", JsonPayload({"k": 1}))
    body = await collect(form.payload())
    assert b'name="j"\r\nContent-Type: application/json\r\n\r\n{"k": 1}\r\n' in body


async def test_add_fields_accepts_files_mappings_and_pairs(text_file: Path) -> None:
    form = FormData()
    with open(text_file, "rb") as fh:
        form.add_fields(fh, {"a": "1"}, MultiDict([("b", "2")]), ("c", "3"))
        payload = form.payload()
        body = await collect(payload)
    fields, files = parse_form(payload, body)
    assert list(fields.items(multi=True)) == [("a", "1"), ("b", "2"), ("c", "3")]
    assert files["notes.txt"].filename == "notes.txt"  # a bare file is named after itself


@pytest.mark.parametrize(
    ("args", "kwargs"),
    [
        ((1, "v"), {}),
        (("n", None), {}),
        (("n", {"nested": 1}), {}),
        (("n", "v"), {"filename": b"x"}),
        (("n", "v"), {"content_type": 1}),
    ],
)
def test_add_field_type_errors(args: tuple[Any, Any], kwargs: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        FormData().add_field(*args, **kwargs)
    with pytest.raises(TypeError, match="pairs"):
        FormData().add_fields(("only-one",))


async def test_streaming_a_200_mb_file_keeps_memory_small(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    with open(path, "wb") as fh:
        fh.truncate(200 * MiB)  # sparse: instant, no disk used
    form = FormData()
    form.add_field("note", "big one")
    form.add_field("upload", FilePayload(path))
    payload = form.payload()
    assert payload.size is not None
    total = 0
    largest = 0
    tracemalloc.start()
    try:
        async for chunk in payload.chunks():
            total += len(chunk)
            largest = max(largest, len(chunk))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == payload.size
    assert total > 200 * MiB
    assert largest <= FILE_CHUNK_SIZE
    assert peak < 2 * MiB


# --- compression -----------------------------------------------------------------------------

DECOMPRESS: dict[str, Callable[[bytes], bytes]] = {
    "gzip": gzip.decompress,
    "deflate": zlib.decompress,
}


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressing_an_in_memory_body_keeps_a_size(encoding: str) -> None:
    body = b"compress me " * 1000
    payload = compress_payload(JsonPayload(body.decode()), encoding)
    assert payload.headers["Content-Encoding"] == encoding
    assert payload.content_type == "application/json"
    data = payload.in_memory()
    assert data is not None
    assert payload.size == len(data) < len(body)
    assert json.loads(DECOMPRESS[encoding](data)) == body.decode()
    assert await collect(payload) == data
    assert payload.replayable


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compressing_a_stream_is_chunked(encoding: str, text_file: Path) -> None:
    payload = compress_payload(FilePayload(text_file), encoding)
    assert payload.size is None
    assert payload.in_memory() is None
    assert payload.replayable
    assert DECOMPRESS[encoding](await collect(payload)) == text_file.read_bytes()
    one_shot = compress_payload(AsyncIterablePayload(agen(b"a", b"b")), encoding)
    assert not one_shot.replayable
    assert DECOMPRESS[encoding](await collect(one_shot)) == b"ab"


def test_compress_rejects_unknown_codings() -> None:
    with pytest.raises(ValueError, match="lzw"):
        compress_payload(BytesPayload(b"x"), "lzw")
    assert compress_payload(BytesPayload(b"x"), " GZIP ").headers["Content-Encoding"] == "gzip"


# --- any form round-trips through a real parser ------------------------------------------

field_text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=20)


@given(pairs=st.lists(st.tuples(field_text, field_text), max_size=8))
@settings(max_examples=100, deadline=None, database=None)
def test_any_urlencoded_form_parses_back(pairs: list[tuple[str, str]]) -> None:
    body = FormData(pairs).payload().in_memory() or b""
    assert parse_qsl(body.decode("ascii"), keep_blank_values=True) == pairs


# What browsers' escaping (``"`` as %22, CR/LF as %0D/%0A) and quoted-string unescaping
# cannot carry back to a server unchanged.
safe_text = st.text(
    st.characters(blacklist_categories=["Cs", "Cc"], blacklist_characters='"\\%'),
    min_size=1,
    max_size=20,
)


@given(
    fields=st.lists(
        st.tuples(safe_text, st.binary(max_size=50), st.none() | safe_text),
        min_size=1,
        max_size=6,
        unique_by=lambda field: field[0],
    )
)
@settings(max_examples=100, deadline=None, database=None)
def test_any_multipart_form_parses_back(fields: list[tuple[str, bytes, str | None]]) -> None:
    form = FormData()
    for name, value, filename in fields:
        form.add_field(name, value, filename=filename)
    payload = form.payload()
    body = payload.in_memory() or b""
    assert payload.size == len(body)
    _, files = parse_form(payload, body)
    assert {name: (up.filename, up.data) for name, up in files.items()} == {
        name: (filename or name, value) for name, value, filename in fields
    }
