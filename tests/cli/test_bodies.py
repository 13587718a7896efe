"""Body encoders: the exact bytes zurl sends (and shows with -v/--offline)."""

from __future__ import annotations

import pytest

from cli.request.bodies import (
    Part,
    RawNumber,
    RepeatedKeys,
    encode_form,
    encode_json,
    encode_multipart,
    new_boundary,
    parse_json,
)


def test_json_is_written_as_httpie_writes_it() -> None:
    # Default separators and \uXXXX for non-ASCII, as httpie (json.dumps) sends.
    assert (
        encode_json({"a": "é", "n": [1, None, True]}) == b'{"a": "\\u00e9", "n": [1, null, true]}'
    )
    assert encode_json([]) == b"[]"
    assert encode_json({}) == b"{}"


def test_raw_json_numbers_go_out_as_typed() -> None:
    value = parse_json('{"big": 1e3, "money": 1.50, "n": -0, "i": 100000000000000000001}')
    assert (
        encode_json(value) == b'{"big": 1e3, "money": 1.50, "n": -0, "i": 100000000000000000001}'
    )
    assert isinstance(value["big"], RawNumber)


def test_repeated_keys_are_kept() -> None:
    value = parse_json('{"x": 1, "y": {"z": 2, "z": 3}, "x": 4}')
    assert isinstance(value, RepeatedKeys)
    assert encode_json(value) == b'{"x": 1, "y": {"z": 2, "z": 3}, "x": 4}'
    assert parse_json('{"x": 1}') == {"x": RawNumber("1")}


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", "{oops", "-Infinity"])
def test_not_json_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_json(text)


def test_form_is_urlencoded() -> None:
    assert encode_form([("a", "1"), ("a", "x y"), ("b&", "=")]) == b"a=1&a=x+y&b%26=%3D"


def test_multipart_layout_in_given_order() -> None:
    parts = [
        Part("t", b"T"),
        Part('we"ird\\', b"\x00\x01", "f.bin", "application/octet-stream"),
        Part("u", "ü".encode()),
    ]
    assert encode_multipart(parts, "BND") == (
        b'--BND\r\nContent-Disposition: form-data; name="t"\r\n\r\nT\r\n'
        b'--BND\r\nContent-Disposition: form-data; name="we%22ird\\"; filename="f.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n"
        b'--BND\r\nContent-Disposition: form-data; name="u"\r\n\r\n\xc3\xbc\r\n'
        b"--BND--\r\n"
    )


def test_multipart_names_cannot_break_the_head() -> None:
    body = encode_multipart([Part("a\r\nX-Injected: 1", b"", "b\nc", None)], "B")
    assert b"\r\nX-Injected" not in body
    assert b'name="a%0D%0AX-Injected: 1"; filename="b%0Ac"' in body


def test_random_boundaries_differ() -> None:
    assert new_boundary() != new_boundary()
