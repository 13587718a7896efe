"""Content-Disposition (RFC 6266 / 8187) parsing, and ``resp.content_disposition``."""

from __future__ import annotations

import pytest

import client
from client.disposition import (
    content_disposition,
    content_disposition_filename,
    parse_content_disposition,
)
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    ("header", "kind", "params"),
    [
        ("attachment", "attachment", {}),
        ('Attachment; FileName="a b.txt"', "attachment", {"filename": "a b.txt"}),
        ("inline; filename=plain.txt; size=10", "inline", {"filename": "plain.txt", "size": "10"}),
        ('attachment; filename="semi;colon.txt"', "attachment", {"filename": "semi;colon.txt"}),
        ('attachment; filename="q\\"uote.txt"', "attachment", {"filename": 'q"uote.txt'}),
        (
            "attachment; filename*=UTF-8''caf%C3%A9.txt; filename=cafe.txt",
            "attachment",
            {"filename*": "café.txt", "filename": "cafe.txt"},
        ),
        ("attachment; filename*=unknown-charset''x.txt", "attachment", {}),
        ("bad type; filename=x", None, {}),
        ("", None, {}),
    ],
)
def test_parse(header: str, kind: str | None, params: dict[str, str]) -> None:
    assert parse_content_disposition(header) == (kind, params)


def test_filename_prefers_the_extended_form_then_continuations() -> None:
    assert content_disposition_filename({"filename*": "é.txt", "filename": "e.txt"}) == "é.txt"
    assert content_disposition_filename({"filename": "e.txt"}) == "e.txt"
    _, params = parse_content_disposition('attachment; filename*0="long"; filename*1="name.txt"')
    assert content_disposition_filename(params) == "longname.txt"
    assert content_disposition_filename({}) is None
    assert content_disposition(None) is None


async def test_response_attribute(raw_server: RawServerFactory) -> None:
    value = "attachment; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
    server = await raw_server(
        [
            f"HTTP/1.1 200 OK\r\nContent-Disposition: {value}\r\nContent-Length: 0\r\n\r\n".encode(
                "latin-1"
            )
        ]
    )
    async with client.ClientSession() as session, session.get(server.url) as resp:
        disposition = resp.content_disposition
    assert disposition is not None
    assert disposition.type == "attachment"
    assert disposition.filename == "résumé.pdf"
    assert dict(disposition.parameters) == {"filename*": "résumé.pdf"}
    with pytest.raises(TypeError):
        disposition.parameters["x"] = "y"  # type: ignore[index]


async def test_no_header_is_none(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    async with client.ClientSession() as session, session.get(server.url) as resp:
        assert resp.content_disposition is None
