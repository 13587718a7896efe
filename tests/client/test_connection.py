"""The connection protocol against hostile servers: every malformed response ends in a
``ClientError`` subclass, never another exception, a hang or a short body."""

from __future__ import annotations

import pytest

import client
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)


@pytest.mark.parametrize(
    "value",
    [b"\xff", b"3\xff", b"\xc2\xb2", b"3, \xff", b"\xd9\xa3"],
    ids=["ff", "digit-ff", "superscript-two", "list-with-ff", "arabic-indic-three"],
)
async def test_content_length_with_stray_bytes_is_a_malformed_response(
    raw_server: RawServerFactory, value: bytes
) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: " + value + b"\r\n\r\nabc"])
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientResponseError, match="Content-Length") as caught:
            await session.get(server.url + "/")
    assert type(caught.value) is client.MalformedResponseError


async def test_head_response_with_a_non_ascii_content_length_has_no_length(
    raw_server: RawServerFactory,
) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: \xc2\xb2\r\n\r\n"])
    async with client.ClientSession() as session, session.head(server.url + "/") as resp:
        assert resp.status == 200
        assert resp.content_length is None
