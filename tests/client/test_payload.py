"""Request bodies: each payload's shape, forms (urlencoded and multipart), files, compression."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import tracemalloc
from collections.abc import AsyncIterator
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
from client.formdata import FormData, payload_from_data
from client.payload import (
    FILE_CHUNK_SIZE,
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    FilePayload,
    ForeignPayload,
    JsonPayload,
    LookupError,
    Payload,
    StreamWrapperPayload,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    get_payload,
    payload_type,
    streamer,
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
    assert dict(payload.headers) == {"Content-Type": "application/octet-stream"}


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


# --- aiohttp's payload classes and get_payload ----------------------------------------


async def test_get_payload_picks_aiohttps_classes(text_file: Path) -> None:
    assert type(get_payload(b"x")) is BytesPayload
    assert type(get_payload("x")) is StringPayload
    text = get_payload(io.StringIO("héllo"))
    assert type(text) is StringIOPayload
    assert (text.size, text.content_type) == (6, "text/plain; charset=utf-8")
    assert type(get_payload(io.BytesIO(b"ab"))) is BytesIOPayload
    assert type(get_payload(agen(b"a"))) is AsyncIterablePayload
    with open(text_file, "rb") as fh:
        binary = get_payload(fh)
        assert type(binary) is BufferedReaderPayload
        assert (binary.size, binary.content_type) == (200000, "text/plain")
        assert binary.headers["Content-Disposition"] == 'attachment; filename="notes.txt"'
        assert "Content-Disposition" not in get_payload(fh, disposition=None).headers
    with open(text_file, encoding="utf-8") as fh:
        assert type(get_payload(fh)) is TextIOPayload
    with pytest.raises(LookupError):
        get_payload(object())


def test_payload_type_registers_a_factory() -> None:
    class Point(NamedTuple):
        x: int
        y: int

    @payload_type(Point)
    class PointPayload(BytesPayload):
        def __init__(self, value: Point, *args: Any, **kwargs: Any) -> None:
            super().__init__(b"%d,%d" % value, *args, content_type="text/x-point")

    payload = get_payload(Point(1, 2))
    assert isinstance(payload, PointPayload)
    assert (payload.in_memory(), payload.content_type) == (b"1,2", "text/x-point")
    assert payload_from_data(Point(3, 4)).in_memory() == b"3,4"


async def test_text_io_payload_encodes_in_its_charset() -> None:
    koi8 = TextIOPayload(io.StringIO("текст"), encoding="koi8-r")
    assert koi8.content_type == "text/plain; charset=koi8-r"
    assert koi8.size is None
    assert await collect(koi8) == "текст".encode("koi8-r")
    latin = TextIOPayload(io.StringIO("é"), content_type="text/csv; charset=latin-1")
    assert await collect(latin) == b"\xe9"


async def test_a_file_whose_seekable_raises_is_one_shot() -> None:
    data = b"a tar member read from a stream"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name="member.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    buf.seek(0)
    with tarfile.open(fileobj=buf, mode="r|") as stream:
        member = stream.extractfile(next(iter(stream)))
        payload = get_payload(member)
        assert payload.size is None
        assert not payload.replayable
        assert await collect(payload) == data
        assert payload.consumed
        with pytest.raises(NonReplayableBodyError):
            await collect(payload)


async def test_decode_and_as_bytes() -> None:
    assert BytesPayload(b"abc").decode() == "abc"
    assert StringPayload("текст", encoding="koi8-r").decode() == "текст"
    assert await StringPayload("é").as_bytes() == b"\xc3\xa9"
    assert BytesIOPayload(io.BytesIO(b"in memory")).decode() == "in memory"
    stream = AsyncIterablePayload(agen(b"a", b"b"))
    with pytest.raises(TypeError, match="as_bytes"):
        stream.decode()
    assert await stream.as_bytes() == b"ab"  # read once and kept: now replayable
    assert (stream.decode(), stream.size, stream.replayable) == ("ab", 2, True)
    assert await collect(stream) == await collect(stream) == b"ab"


async def test_closing_a_file_payload_closes_the_file(text_file: Path) -> None:
    fh = open(text_file, "rb")  # noqa: SIM115 - the payload closes it
    payload = get_payload(fh)
    assert not payload.autoclose
    await payload.close()
    assert fh.closed
    assert payload.consumed
    with pytest.raises(ValueError, match="closed"):
        await collect(payload)
    by_path = FilePayload(text_file)
    await by_path.close()
    assert len(await collect(by_path)) == 200000  # a path is opened anew for every send


class Countdown(Payload):
    """A payload written the aiohttp way: only ``write(writer)``."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__(None, content_type="text/plain")
        self.fail = fail

    async def write(self, writer: Any) -> None:
        for n in (3, 2, 1):
            await writer.write(b"%d" % n)
        if self.fail:
            raise OSError("lift-off failed")


async def test_a_payload_that_only_writes_still_streams() -> None:
    assert await collect(Countdown()) == b"321"
    assert await Countdown().as_bytes() == b"321"
    assert await chunk_sizes(Countdown()) == [1, 1, 1]
    with pytest.raises(OSError, match="lift-off"):
        await collect(Countdown(fail=True))
    form = FormData()
    form.add_field("countdown", Countdown(), filename="c.txt")
    assert b"\r\n\r\n321\r\n" in await collect(form.payload())


async def test_streamer_payloads() -> None:
    with pytest.warns(DeprecationWarning, match="streamer is deprecated"):

        @streamer
        async def send(writer: Any, data: bytes) -> None:
            await writer.write(data)

    payload = get_payload(send(b"abc"))
    assert isinstance(payload, StreamWrapperPayload)
    assert await collect(payload) == await collect(payload) == b"abc"  # called anew each time
    with pytest.raises(TypeError):
        payload.decode()


async def test_an_object_with_aiohttps_payload_interface_is_adapted() -> None:
    class Alien:
        size = 3
        content_type = "x/alien"
        consumed = False

        def __init__(self) -> None:
            self.headers = {"Content-Type": "x/alien", "X-From": "space"}
            self.closed = False

        async def write(self, writer: Any) -> None:
            await writer.write(b"abc")

        def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
            return "abc"

        async def close(self) -> None:
            self.closed = True

    alien = Alien()
    payload = payload_from_data(alien)
    assert isinstance(payload, ForeignPayload)
    assert (payload.size, payload.content_type, payload.headers["X-From"]) == (
        3,
        "x/alien",
        "space",
    )
    assert await collect(payload) == b"abc"
    assert payload.decode() == "abc"
    await payload.close()
    assert alien.closed


def test_a_form_field_is_encoded_in_the_charset_it_declares() -> None:
    form = FormData()
    form.add_field("name", "текст", content_type="text/plain; charset=koi8-r")
    body = form.payload().in_memory() or b""
    assert b"\r\n\r\n" + "текст".encode("koi8-r") + b"\r\n" in body
    form = FormData(charset="utf-8")  # the form's own charset wins
    form.add_field("name", "текст", content_type="text/plain; charset=koi8-r")
    assert "текст".encode() in (form.payload().in_memory() or b"")
    assert FormData({"a": "b"})().in_memory() == b"a=b"  # aiohttp calls the form for its body


def test_payload_and_formdata_are_reachable_as_attributes_of_a_fresh_import() -> None:
    script = (
        "import client as aiohttp\n"
        "assert aiohttp.payload.BytesIOPayload is aiohttp.BytesIOPayload\n"
        "assert aiohttp.formdata.FormData is aiohttp.FormData\n"
        "assert 'payload' in dir(aiohttp)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr.decode()
