"""Rich output, one test per part, on a recorded console (no server)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from cli.messages import RequestMessage, ResponseEnd, ResponseMessage
from cli.output.formatting import BINARY_NOTE
from cli.output.parts import OutputError, OutputSpec
from cli.output.styled import RichRenderer, body, check_style, first_line, head, meta, status_style

REQUEST = RequestMessage(
    "GET", "http://h/x?q=1", "/x?q=1", (("Host", "h"), ("Accept", "*/*")), None
)
JSON = ResponseMessage(
    url="http://h/x",
    status=200,
    reason="OK",
    headers=(("Content-Type", "application/json"), ("X-B", "2")),
    body=b'{"name": "pie", "n": [1, 2]}',
    elapsed=0.5,
    remote_address="127.0.0.1:9",
    reused_connection=True,
)
STYLED = OutputSpec(parts="HBhbm", colors=True, format=True, terminal=True)


def console() -> Console:
    return Console(
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        color_system="truecolor",
        width=80,
        soft_wrap=True,
    )


def printed(*renderables: object) -> tuple[str, str]:
    """(plain text, text with ANSI styles) of what the console printed."""
    con = console()
    for item in renderables:
        con.print(item)
    return con.export_text(clear=False), con.export_text(styles=True)


def test_status_line_colour_by_class() -> None:
    assert (status_style(204), status_style(302), status_style(404)) == ("green", "yellow", "red")
    for status, reason in ((200, "OK"), (404, "Not Found"), (503, "")):
        msg = ResponseMessage("u", status, reason, (), b"")
        text, styled = printed(first_line(msg))
        assert text.strip() == f"HTTP/1.1 {status} {reason}".strip()
        assert "\x1b[" in styled


def test_request_line() -> None:
    text, styled = printed(first_line(REQUEST))
    assert text.strip() == "GET /x?q=1 HTTP/1.1"
    assert "\x1b[1;32mGET" in styled  # bold green method


def test_headers() -> None:
    text, styled = printed(head(JSON, raw=False, sort=True))
    assert text.splitlines() == ["HTTP/1.1 200 OK", "Content-Type: application/json", "X-B: 2"]
    assert "\x1b[34mContent-Type" in styled  # header names in blue


def test_raw_headers() -> None:
    raw = ResponseMessage(
        "u", 200, "OK", (("x-b", "2"), ("a", "1")), b"", raw_headers=((b"x-B", b"2"), (b"A", b"1"))
    )
    text, _ = printed(head(raw, raw=True, sort=True))
    assert text.splitlines()[1:] == ["x-B: 2", "A: 1"]


def test_json_body_indented_and_highlighted() -> None:
    text, styled = printed(body(JSON, STYLED))
    assert (
        text.rstrip("\n") == '{\n    "name": "pie",\n    "n": [\n        1,\n        2\n    ]\n}'
    )
    assert styled.count("\x1b[") > 4


def test_style_picks_the_theme() -> None:
    ansi = printed(body(JSON, STYLED))[1]
    monokai = printed(body(JSON, STYLED._replace(style="monokai")))[1]
    assert ansi != monokai
    assert "38;2;" in monokai  # monokai's true colours; ansi_dark uses the terminal's own


def test_unknown_style_is_refused() -> None:
    check_style("monokai")
    check_style("ansi_light")
    with pytest.raises(OutputError, match="no such theme"):
        check_style("no-such-theme")


def test_unformatted_body_keeps_layout() -> None:
    out = OutputSpec(parts="b", colors=True, format=False, terminal=True)
    text, _ = printed(body(JSON, out))
    assert text.rstrip("\n") == JSON.body.decode()


def test_plain_text_body_is_not_highlighted() -> None:
    msg = ResponseMessage("u", 200, "OK", (("Content-Type", "text/plain"),), b"just [text]")
    text, styled = printed(body(msg, STYLED))
    assert text.rstrip("\n") == "just [text]"  # no rich markup interpretation
    assert "\x1b[" not in styled.strip().replace("\x1b[0m", "")


def test_binary_body_shows_a_note() -> None:
    msg = ResponseMessage("u", 200, "OK", (("Content-Type", "image/png"),), b"\x89PNG\r\n\x00\x00")
    text, _ = printed(body(msg, STYLED))
    assert text.rstrip("\n") == BINARY_NOTE


def test_meta() -> None:
    text, _ = printed(meta(JSON))
    assert text.splitlines() == [
        "Elapsed time: 0.500000s",
        "Remote address: 127.0.0.1:9",
        "Connection: reused",
    ]


def test_whole_exchange_blocks_are_separated() -> None:
    con = console()
    renderer = RichRenderer(con, STYLED)
    renderer.message(REQUEST)
    renderer.message(JSON)
    renderer.close()
    lines = con.export_text().splitlines()
    assert lines[:4] == ["GET /x?q=1 HTTP/1.1", "Accept: */*", "Host: h", ""]  # sorted
    assert lines[4] == "HTTP/1.1 200 OK"
    assert lines[7] == ""
    assert lines[8] == "{"
    assert lines[-3:] == [
        "Elapsed time: 0.500000s",
        "Remote address: 127.0.0.1:9",
        "Connection: reused",
    ]


def test_streamed_response_is_gathered_then_highlighted() -> None:
    con = console()
    renderer = RichRenderer(con, STYLED)
    renderer.message(JSON._replace(body=b"", streamed=True))
    renderer.chunk(JSON.body[:5])
    renderer.chunk(JSON.body[5:])
    renderer.end(ResponseEnd(elapsed=2.0, size=len(JSON.body)))
    lines = con.export_text().splitlines()
    assert lines[:4] == ["HTTP/1.1 200 OK", "Content-Type: application/json", "X-B: 2", ""]
    assert lines[4:6] == ["{", '    "name": "pie",']
    assert "Elapsed time: 2.000000s" in lines


def test_streamed_binary_body_becomes_the_note() -> None:
    con = console()
    renderer = RichRenderer(con, STYLED)
    png = ResponseMessage("u", 200, "OK", (("Content-Type", "image/png"),), b"", streamed=True)
    renderer.message(png)
    for piece in (b"\x89PNG\r\n\x1a\n\x00\x00", *[b"\xff" * 1000] * 5):
        renderer.chunk(piece)
    renderer.end(ResponseEnd(elapsed=0.1, size=5010))
    text = con.export_text()
    assert BINARY_NOTE in text
    assert "PNG" not in text


def test_for_stream_leaves_the_stream_open() -> None:
    stream = io.BytesIO()
    renderer = RichRenderer.for_stream(stream, STYLED, 80)
    renderer.message(JSON)
    renderer.close()
    assert not stream.closed
    assert b"HTTP/1.1" in stream.getvalue()
    assert b"\x1b[" in stream.getvalue()
