"""--compress, --chunked, --boundary, --raw, --response-mime and --response-charset:
what arrives on the wire (a raw server records it) and what is shown."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

from cli.exitcodes import ExitCode
from tests.cli.conftest import Result, zurl
from tests.servers.raw import RawConnection, parse_head

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


async def in_thread(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


async def sent(raw_server: Any, *args: str) -> tuple[dict[str, str], bytes]:
    """Run zurl with ``args`` (``URL`` is the server's): the request's headers and body."""

    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        conn.write(OK)

    server = await raw_server(script)
    result = await in_thread(*(a.replace("URL", server.url) for a in args))
    assert result.code == 0, result.err
    raw = server.received[0]
    body = raw.partition(b"\r\n\r\n")[2]
    _, _, headers = parse_head(raw)
    return {k.lower(): v for k, v in headers}, body


async def test_compress_deflates_a_body_that_shrinks(raw_server: Any) -> None:
    text = "x" * 2000
    headers, body = await sent(raw_server, "-x", "POST", "URL/", f"text={text}")
    assert headers["content-encoding"] == "deflate"
    assert int(headers["content-length"]) == len(body) < 100
    assert json.loads(zlib.decompress(body)) == {"text": text}


async def test_compress_skips_a_body_that_would_grow_unless_repeated(raw_server: Any) -> None:
    headers, body = await sent(raw_server, "-x", "POST", "URL/", "a=1")
    assert "content-encoding" not in headers
    assert body == b'{"a": "1"}'
    headers, body = await sent(raw_server, "-xx", "POST", "URL/", "a=1")
    assert headers["content-encoding"] == "deflate"
    assert zlib.decompress(body) == b'{"a": "1"}'


async def test_compress_refuses_an_already_encoded_body(raw_server: Any) -> None:
    result = await in_thread("-x", "--offline", "POST", ":9/", "Content-Encoding:gzip", "a=1")
    assert result.code == ExitCode.USAGE
    assert "already has a Content-Encoding" in result.err


async def test_chunked_sends_transfer_encoding(raw_server: Any) -> None:
    headers, body = await sent(raw_server, "--chunked", "--raw", "hello", "POST", "URL/")
    assert headers["transfer-encoding"] == "chunked"
    assert "content-length" not in headers
    assert body == b"5\r\nhello\r\n0\r\n\r\n"


async def test_raw_is_sent_verbatim(raw_server: Any) -> None:
    headers, body = await sent(raw_server, "--raw", "not {json} = @x", "URL/")
    assert body == b"not {json} = @x"
    assert int(headers["content-length"]) == len(body)
    mixed = await in_thread("--offline", "--raw", "x", ":9/", "a=1")
    assert mixed.code == ExitCode.USAGE


async def test_boundary(raw_server: Any) -> None:
    headers, body = await sent(raw_server, "--multipart", "--boundary", "zurl-XYZ", "URL/", "a=1")
    assert headers["content-type"] == "multipart/form-data; boundary=zurl-XYZ"
    assert body.startswith(b"--zurl-XYZ\r\n") and body.endswith(b"--zurl-XYZ--\r\n")
    bad = await in_thread("--offline", "--multipart", "--boundary", "a b\r\n", ":9/", "a=1")
    assert bad.code == ExitCode.USAGE


async def test_response_charset_changes_how_the_body_is_decoded(raw_server: Any) -> None:
    server = await raw_server(
        lambda conn: _answer(conn, b"Content-Type: text/plain; charset=utf-8", b"caf\xe9\n")
    )
    plain = await in_thread("-b", f"{server.url}/", tty=True, colors="none")
    assert plain.stdout.decode() == "caf\ufffd\n"
    shown = await in_thread(
        "-b", "--response-charset", "latin-1", f"{server.url}/", tty=True, colors="none"
    )
    assert (shown.code, shown.stdout.decode()) == (0, "café\n")
    piped = await in_thread("--response-charset", "latin-1", f"{server.url}/")
    assert piped.stdout == b"caf\xe9\n"  # piped bytes are never re-encoded


async def test_response_mime_picks_the_highlighting(raw_server: Any) -> None:
    server = await raw_server(
        lambda conn: _answer(conn, b"Content-Type: text/plain", b"<p class='x'>hi</p>")
    )
    plain = await in_thread("-b", f"{server.url}/", tty=True)
    assert b"\x1b[" not in plain.stdout
    shown = await in_thread("-b", "--response-mime", "text/html", f"{server.url}/", tty=True)
    assert shown.code == 0, shown.err
    assert b"\x1b[" in shown.stdout  # highlighted as HTML


async def _answer(conn: RawConnection, header: bytes, body: bytes) -> None:
    await conn.read_request()
    conn.write(
        b"HTTP/1.1 200 OK\r\n%s\r\nContent-Length: %d\r\n\r\n%s" % (header, len(body), body)
    )


def test_bad_response_type_options_are_usage_errors() -> None:
    assert zurl("--response-charset", "no-such", ":9/").code == ExitCode.USAGE
    assert zurl("--response-mime", "json", ":9/").code == ExitCode.USAGE
