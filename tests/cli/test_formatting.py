"""Pure text helpers: binary sniffing, decoding, lexers, JSON indentation."""

from __future__ import annotations

from cli.output.formatting import charset_of, decode_body, format_body, is_binary, lexer_for


def test_binary_sniffing() -> None:
    assert is_binary(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert not is_binary("héllo".encode())


def test_decode_uses_the_declared_charset() -> None:
    assert charset_of('text/html; charset="ISO-8859-1"') == "ISO-8859-1"
    assert decode_body("é".encode("latin-1"), "text/plain; charset=latin-1") == "é"
    assert decode_body(b"\xff\xfe", "application/octet-stream") is None
    assert decode_body(b"\xe9t\xe9", "text/plain") == "été"  # undeclared non-UTF-8 text


def test_lexers() -> None:
    assert lexer_for("application/json; charset=utf-8") == "json"
    assert lexer_for("application/problem+json") == "json"
    assert lexer_for("text/html") == "html"
    assert lexer_for("text/plain") is None


def test_format_json_keeps_key_order() -> None:
    assert format_body('{"z":1,"a":{"b":[]}}', "application/json") == (
        '{\n    "z": 1,\n    "a": {\n        "b": []\n    }\n}',
        "json",
    )
    assert format_body('{"not json', "application/json") == ('{"not json', "json")
    assert format_body("<p>", "text/html") == ("<p>", "html")
    assert format_body("[1, 2]", "text/plain") == ("[\n    1,\n    2\n]", "json")


def test_json_too_deep_to_indent_is_shown_as_it_came() -> None:
    """The parser and the encoder recurse; a server picks the depth (200,000 here)."""
    unclosed = "[" * 200_000
    assert format_body(unclosed, "application/json") == (unclosed, "json")
    closed = "[" * 100_000 + "]" * 100_000
    assert format_body(closed, "text/plain") == (closed, None)
