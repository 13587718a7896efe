"""--stream/-S and text/event-stream: lines printed as they arrive, not at the end."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.cli.conftest import ROOT, ZURL, Result, zurl
from tests.servers.raw import RawConnection

SSE_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


async def in_thread(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


async def test_an_event_stream_is_printed_before_it_ends(raw_server: Any) -> None:
    """The server sends one event and then holds the connection open: zurl (a real
    process, stdout a pipe) prints the event at once; nobody waits for the end."""
    release = asyncio.Event()

    async def script(conn: RawConnection) -> None:
        await conn.read_request()
        conn.write(SSE_HEAD + chunk(b"data: one\n\n"))
        await release.wait()
        conn.write(chunk(b"data: two\n\n") + b"0\r\n\r\n")

    server = await raw_server(script)
    proc = await asyncio.create_subprocess_exec(
        str(ZURL),
        f"{server.url}/events",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        first = await asyncio.wait_for(proc.stdout.readline(), timeout=20)
        assert first == b"data: one\n"
        release.set()
        rest, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert rest == b"\ndata: two\n\n"
    assert (proc.returncode, err) == (0, b"")


async def test_stream_flag_prints_lines_on_a_terminal_after_the_head(raw_server: Any) -> None:
    body = b'{"n": 1}\n{"n": 2}\npartial'
    server = await raw_server(
        [
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (len(body), body)
        ]
    )
    result = await in_thread("-S", f"{server.url}/lines", tty=True, colors="none")
    assert result.code == 0, result.err
    head, _, shown = result.stdout.partition(b"\n\n")
    assert head.startswith(b"HTTP/1.1 200 OK\n")
    # line by line, as sent: not gathered and re-indented as one JSON document
    assert shown == b'{"n": 1}\n{"n": 2}\npartial\n'


async def test_stream_flag_piped_is_the_exact_bytes(raw_server: Any) -> None:
    server = await raw_server(
        [
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Content-Length: 9\r\n\r\ndata: x\n\n"
        ]
    )
    result = await in_thread("--stream", f"{server.url}/")
    assert (result.code, result.stdout) == (0, b"data: x\n\n")


async def test_a_binary_stream_on_a_terminal_is_a_note(raw_server: Any) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nab\0\ncd"])
    result = await in_thread("-S", "-b", f"{server.url}/", tty=True, colors="none")
    assert result.code == 0, result.err
    assert b"\0" not in result.stdout
    assert b"binary" in result.stdout
