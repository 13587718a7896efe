"""Body encoders: the exact bytes zurl sends (and shows with -v/--offline)."""

from __future__ import annotations

from cli.request.bodies import Upload, encode_form, encode_json, encode_multipart


def test_json_is_compact_utf8() -> None:
    assert encode_json({"a": "é", "n": [1]}) == '{"a": "é", "n": [1]}'.encode()


def test_form_is_urlencoded() -> None:
    assert encode_form([("a", "1"), ("a", "x y"), ("b&", "=")]) == b"a=1&a=x+y&b%26=%3D"


def test_multipart_layout() -> None:
    body, ctype = encode_multipart(
        [("t", "T")], [Upload('we"ird', "f.bin", b"\x00\x01", "application/octet-stream")], "BND"
    )
    assert ctype == "multipart/form-data; boundary=BND"
    assert body == (
        b'--BND\r\nContent-Disposition: form-data; name="t"\r\n\r\nT\r\n'
        b'--BND\r\nContent-Disposition: form-data; name="we%22ird"; filename="f.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n\x00\x01\r\n"
        b"--BND--\r\n"
    )


def test_random_boundaries_differ() -> None:
    assert encode_multipart([], [])[1] != encode_multipart([], [])[1]
