"""What to print (httpie's --print precedence) and the plain renderer's bytes."""

from __future__ import annotations

import io
import sys

import pytest

from cli.messages import RequestMessage, ResponseEnd, ResponseMessage
from cli.output.formatting import BINARY_NOTE
from cli.output.parts import OutputError, OutputSpec, choose_output
from cli.output.plain import PlainRenderer, make_renderer

REQUEST = RequestMessage(
    "POST", "http://h/x?q=1", "/x?q=1", (("Host", "h"), ("B", "2"), ("a", "1")), b'{"k":1}'
)
RESPONSE = ResponseMessage(
    url="http://h/x",
    status=200,
    reason="OK",
    headers=(("Content-Type", "application/json"), ("B-Header", "b"), ("a-header", "a")),
    body=b'{"z": 1, "a": [1, 2]}',
    raw_headers=((b"content-type", b"application/json"), (b"B-Header", b"b"), (b"a-header", b"a")),
    elapsed=0.25,
    remote_address="127.0.0.1:8080",
    reused_connection=False,
)


def choose(**kwargs: object) -> OutputSpec:
    base: dict[str, object] = {
        "print_letters": None,
        "headers": False,
        "body": False,
        "verbose": False,
        "quiet": False,
        "pretty": None,
        "style": "ansi_dark",
        "raw_headers": False,
        "stdout_isatty": False,
        "offline": False,
    }
    base.update(kwargs)
    return choose_output(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "parts"),
    [
        ({}, "b"),
        ({"stdout_isatty": True}, "hb"),
        ({"verbose": True}, "HBhb"),
        ({"headers": True}, "h"),
        ({"body": True, "stdout_isatty": True}, "b"),
        ({"print_letters": "Hm", "verbose": True}, "Hm"),
        ({"quiet": True, "stdout_isatty": True}, ""),
        ({"offline": True}, "HB"),
        ({"offline": True, "headers": True}, "H"),
        ({"offline": True, "print_letters": "B"}, "B"),
    ],
)
def test_parts(kwargs: dict[str, object], parts: str) -> None:
    assert choose(**kwargs).parts == parts


def test_pretty_defaults() -> None:
    tty, pipe = choose(stdout_isatty=True), choose()
    assert (tty.colors, tty.format) == (True, True)
    assert (pipe.colors, pipe.format) == (False, False)
    fmt = choose(pretty="format", stdout_isatty=True)
    assert (fmt.colors, fmt.format) == (False, True)
    assert choose(stdout_isatty=True, colors_allowed=False).colors is False


@pytest.mark.parametrize("bad", ["x", "", "HBz"])
def test_bad_print_letters(bad: str) -> None:
    with pytest.raises(OutputError):
        choose(print_letters=bad)


def render(out: OutputSpec, *messages: RequestMessage | ResponseMessage) -> bytes:
    stream = io.BytesIO()
    renderer = PlainRenderer(stream, out)
    for msg in messages:
        renderer.message(msg)
    renderer.close()
    return stream.getvalue()


def test_piped_body_is_untouched() -> None:
    assert render(choose(), REQUEST, RESPONSE) == RESPONSE.body
    binary = ResponseMessage("u", 200, "OK", (), b"\x00\xff\x01")
    assert render(choose(), binary) == b"\x00\xff\x01"


def test_verbose_plain_layout() -> None:
    out = render(choose(verbose=True), REQUEST, RESPONSE)
    assert out == (
        b"POST /x?q=1 HTTP/1.1\nHost: h\nB: 2\na: 1\n\n"
        b'{"k":1}\n\n'
        b"HTTP/1.1 200 OK\nContent-Type: application/json\nB-Header: b\na-header: a\n\n"
        b'{"z": 1, "a": [1, 2]}\n'
    )


def test_format_sorts_headers_and_indents_json() -> None:
    out = render(choose(pretty="format", headers=True, body=True), RESPONSE).decode()
    assert out.startswith("HTTP/1.1 200 OK\na-header: a\nB-Header: b\nContent-Type")
    assert '{\n    "z": 1,\n    "a": [\n        1,\n        2\n    ]\n}' in out


def test_raw_headers_as_received() -> None:
    out = render(choose(print_letters="h", raw_headers=True, pretty="format"), RESPONSE)
    assert out == b"HTTP/1.1 200 OK\ncontent-type: application/json\nB-Header: b\na-header: a\n"


def test_streamed_body_is_written_as_it_arrives() -> None:
    head = RESPONSE._replace(body=b"", streamed=True)
    stream = io.BytesIO()
    renderer = PlainRenderer(stream, choose(print_letters="hbm"))
    assert renderer.streams
    renderer.message(head)
    renderer.chunk(b"part one, ")
    assert stream.getvalue().endswith(b"\n\npart one, ")  # not held back
    renderer.chunk(b"part two")
    renderer.end(ResponseEnd(elapsed=1.5, size=18))
    renderer.close()
    text = stream.getvalue().decode()
    assert text.endswith(
        "part one, part two\n\nElapsed time: 1.500000s\n"
        "Remote address: 127.0.0.1:8080\nConnection: new\n"
    )
    assert not PlainRenderer(io.BytesIO(), choose(pretty="format")).streams


def test_streamed_body_alone_is_byte_exact() -> None:
    stream = io.BytesIO()
    renderer = PlainRenderer(stream, choose())
    renderer.message(RESPONSE._replace(body=b"", streamed=True))
    for piece in (b"\x00\x01", b"", b"\xff"):
        renderer.chunk(piece)
    renderer.end(ResponseEnd(elapsed=0.1, size=3))
    renderer.close()
    assert stream.getvalue() == b"\x00\x01\xff"


def test_meta() -> None:
    out = render(choose(print_letters="m"), RESPONSE).decode()
    assert out == "Elapsed time: 0.250000s\nRemote address: 127.0.0.1:8080\nConnection: new\n"


def test_binary_body_not_dumped_to_a_terminal() -> None:
    binary = ResponseMessage("u", 200, "OK", (("Content-Type", "image/png"),), b"\x89PNG\x00")
    out = render(choose(stdout_isatty=True, pretty="none"), binary)
    assert BINARY_NOTE.encode() in out
    assert b"\x89PNG" not in out


def test_rich_only_imported_for_colours() -> None:
    # Plain output must not pull rich in (start-up cost); colours do.
    make_renderer(io.BytesIO(), choose())
    already = "rich" in sys.modules
    renderer = make_renderer(io.BytesIO(), choose(stdout_isatty=True))
    assert type(renderer).__name__ == "RichRenderer"
    assert "rich" in sys.modules or already
