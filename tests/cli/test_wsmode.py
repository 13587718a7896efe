"""zurl ws://... against the websockets library's asyncio server on loopback."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import pty
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio
import trustme
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from cli.exitcodes import ExitCode
from tests.cli.conftest import ROOT, ZURL, Result, zurl
from tests.servers.proxy import ProxyServer
from tests.servers.raw import RawConnection, header_value, parse_head

SEEN: list[dict[str, Any]] = []


async def in_thread(*args: str, **kwargs: Any) -> Result:
    return await asyncio.to_thread(zurl, *args, **kwargs)


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request is not None else "/"
    headers = dict(ws.request.headers.raw_items()) if ws.request is not None else {}
    SEEN.append({"path": path, "headers": headers})
    if path == "/close-1011":
        await ws.close(1011, "server exploded")
        return
    if path == "/json":
        await ws.send('{"name": "pie", "tags": ["a", "b"]}')
        await ws.wait_closed()
        return
    if path == "/ping":
        await ws.ping(b"are you there")
    async for message in ws:
        await ws.send(message)
        if message == "bye":
            await ws.close(1000, "done")


def refuse(connection: ServerConnection, request: Request) -> Response | None:
    if request.path == "/forbidden":
        return connection.respond(403, "no entry\n")
    return None


@pytest_asyncio.fixture
async def ws_url() -> AsyncIterator[str]:
    SEEN.clear()
    async with serve(handler, "127.0.0.1", 0, process_request=refuse) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}"


async def test_echo_with_ws_send_and_count(ws_url: str) -> None:
    result = await in_thread(
        f"{ws_url}/", "--ws-send", "hello", "--ws-send", "wörld", "--ws-count", "2"
    )
    assert (result.code, result.err) == (0, "")
    assert result.stdout == "hello\nwörld\n".encode()


async def test_headers_and_json_items_build_the_handshake_and_first_message(ws_url: str) -> None:
    result = await in_thread(
        f"{ws_url}/echo", "X-Token:abc", "name=pie", "n:=3", "--ws-count", "1"
    )
    assert result.code == 0, result.err
    assert json.loads(result.stdout) == {"name": "pie", "n": 3}
    assert SEEN[0]["headers"]["X-Token"] == "abc"
    assert "Content-Type" not in SEEN[0]["headers"]


async def test_piped_stdin_lines_are_messages(ws_url: str) -> None:
    result = await in_thread(
        f"{ws_url}/", "--ws-count", "3", stdin=b'one\ntwo\n{"x": 1}\n', stdin_has_data=True
    )
    assert result.code == 0, result.err
    assert result.stdout == b'one\ntwo\n{"x": 1}\n'  # piped: raw, one message a line


async def test_stdin_end_then_replies_then_a_normal_close(ws_url: str) -> None:
    # No --ws-count: after stdin ends zurl waits for the replies; "bye" makes the server
    # close with 1000, a normal end.
    result = await in_thread(f"{ws_url}/", stdin=b"a\nbye\n", stdin_has_data=True)
    assert (result.code, result.stdout) == (0, b"a\nbye\n"), result.err


async def test_binary_messages(ws_url: str) -> None:
    piped = await in_thread(f"{ws_url}/", "--binary", "--ws-send", "raw", "--ws-count", "1")
    assert (piped.code, piped.stdout) == (0, b"raw")
    shown = await in_thread(
        f"{ws_url}/", "--binary", "--ws-send", "raw", "--ws-count", "1", tty=True, colors="none"
    )
    assert shown.stdout == b"[binary message: 3 bytes]\n"


async def test_json_is_pretty_printed_on_a_terminal(ws_url: str) -> None:
    result = await in_thread(f"{ws_url}/json", "--ws-count", "1", tty=True, colors="none")
    assert result.code == 0, result.err
    assert result.stdout.decode() == (
        '{\n  "name": "pie",\n  "tags": [\n    "a",\n    "b"\n  ]\n}\n'
    )
    piped = await in_thread(f"{ws_url}/json", "--ws-count", "1")
    assert piped.stdout == b'{"name": "pie", "tags": ["a", "b"]}\n'


async def test_pings_are_shown_with_verbose(ws_url: str) -> None:
    result = await in_thread(f"{ws_url}/ping", "-v", "--ws-send", "hi", "--ws-count", "1")
    assert result.code == 0, result.err
    assert result.stdout == b"hi\n"
    assert "< HTTP/1.1 101 Switching Protocols\n" in result.err  # the handshake's event log
    assert f"* WebSocket open: {ws_url}/ping\n" in result.err
    assert "< ping b'are you there'\n> pong b'are you there'\n" in result.err


async def test_server_close_code_is_the_exit_code(ws_url: str) -> None:
    result = await in_thread(f"{ws_url}/close-1011")
    assert result.code == ExitCode.WS_CLOSED
    assert result.err.endswith("the server closed with code 1011 server exploded\n")
    assert result.err.count("\n") == 1


async def test_a_normal_close_before_the_count_is_reached_fails(ws_url: str) -> None:
    result = await in_thread(f"{ws_url}/", "--ws-send", "bye", "--ws-count", "2")
    assert result.code == ExitCode.WS_CLOSED
    assert result.stdout == b"bye\n"
    assert result.err.endswith("the server closed after 1 of 2 messages\n")


async def test_handshake_refusal(ws_url: str) -> None:
    result = await in_thread(f"{ws_url}/forbidden")
    assert result.code == ExitCode.WS_HANDSHAKE
    assert result.err.count("\n") == 1
    assert result.err.endswith(
        "handshake refused: the server answered HTTP 403 Forbidden, not 101 Switching Protocols\n"
    )


async def test_count_not_reached_in_time_is_a_timeout(ws_url: str) -> None:
    result = await in_thread(
        f"{ws_url}/", "--ws-send", "only", "--ws-count", "2", "--ws-timeout", "0.3"
    )
    assert result.code == ExitCode.TIMEOUT
    assert result.stdout == b"only\n"
    assert "timed out waiting for message 2 of 2" in result.err


async def test_report_and_trace(ws_url: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    result = await in_thread(
        f"{ws_url}/", "--ws-send", "x", "--ws-count", "1", "--report", str(report), "--trace"
    )
    assert result.code == 0, result.err
    record = json.loads(report.read_text())
    assert record["status"] == 101
    assert record["url"] == f"{ws_url}/"
    assert record["websocket"] == {"close_code": 1000, "received": 1, "sent": 1}
    assert result.err  # the --trace waterfall of the handshake


async def test_wss_with_a_ca_bundle_and_a_fingerprint_pin(
    server_ssl_context: ssl.SSLContext, ca_bundle_path: Path, tls_cert: trustme.LeafCert
) -> None:
    der = ssl.PEM_cert_to_DER_cert(tls_cert.cert_chain_pems[0].bytes().decode())
    pin = hashlib.sha256(der).hexdigest()
    async with serve(handler, "127.0.0.1", 0, ssl=server_ssl_context) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        url = f"wss://localhost:{port}/"
        trusted = await in_thread(
            url, "--verify", str(ca_bundle_path), "--ws-send", "tls", "--ws-count", "1"
        )
        assert (trusted.code, trusted.stdout) == (0, b"tls\n"), trusted.err
        untrusted = await in_thread(url, "--ws-send", "tls", "--ws-count", "1")
        assert untrusted.code == ExitCode.TLS, untrusted.err
        pinned = await in_thread(
            url, "--verify", "no", "--fingerprint", pin, "--ws-send", "p", "--ws-count", "1"
        )
        assert (pinned.code, pinned.stdout) == (0, b"p\n"), pinned.err
        wrong = await in_thread(
            url, "--verify", "no", "--fingerprint", "00" * 32, "--ws-send", "p"
        )
        assert wrong.code == ExitCode.PIN_MISMATCH, wrong.err
        assert wrong.stdout == b""


async def test_wss_through_a_proxy_tunnel(
    server_ssl_context: ssl.SSLContext, ca_bundle_path: Path, proxy_server: ProxyServer
) -> None:
    async with serve(handler, "127.0.0.1", 0, ssl=server_ssl_context) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        result = await in_thread(
            f"wss://localhost:{port}/",
            "--proxy",
            proxy_server.url,
            "--verify",
            str(ca_bundle_path),
            "--ws-send",
            "via proxy",
            "--ws-count",
            "1",
        )
    assert (result.code, result.stdout) == (0, b"via proxy\n"), result.err


async def test_an_unreachable_proxy_is_a_proxy_failure(closed_port: int) -> None:
    result = await in_thread(
        "wss://localhost:9/", "--proxy", f"http://127.0.0.1:{closed_port}", "--ws-send", "x"
    )
    assert result.code == ExitCode.PROXY, result.err
    assert result.err.count("\n") == 1


def _raw_ws(after_handshake: bytes, *, hang_up: bool = False) -> Any:
    """A hand-written server: a correct 101, then exactly ``after_handshake`` (and with
    ``hang_up``, a plain TCP close, no Close frame, instead of waiting for the client)."""

    async def script(conn: RawConnection) -> None:
        _, _, headers = parse_head(await conn.read_request())
        key = header_value(headers, "Sec-WebSocket-Key") or ""
        digest = hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        conn.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: "
            + base64.b64encode(digest)
            + b"\r\n\r\n"
            + after_handshake
        )
        await conn.drain()
        if hang_up:
            conn.close()
        else:
            await conn.read()  # until the client goes

    return script


async def test_a_protocol_violation_is_its_own_exit_code(raw_server: Any) -> None:
    server = await raw_server(_raw_ws(b"\x83\x00"))  # FIN + reserved opcode 0x3
    result = await in_thread(f"ws://127.0.0.1:{server.port}/")
    assert result.code == ExitCode.WS_PROTOCOL
    assert result.err.count("\n") == 1 and "(closed with 1002)" in result.err


async def test_bad_utf8_text_is_a_protocol_violation(raw_server: Any) -> None:
    server = await raw_server(_raw_ws(b"\x81\x02\xc3\x28"))  # invalid UTF-8 in a text frame
    result = await in_thread(f"ws://127.0.0.1:{server.port}/")
    assert result.code == ExitCode.WS_PROTOCOL
    assert "(closed with 1007)" in result.err


async def test_a_dropped_connection_is_a_network_failure(raw_server: Any) -> None:
    server = await raw_server(_raw_ws(b"\x81\x02hi", hang_up=True))  # a message, then FIN
    result = await in_thread(f"ws://127.0.0.1:{server.port}/")
    assert result.code == ExitCode.NETWORK
    assert result.stdout == b"hi\n"
    assert "closed without a Close frame" in result.err


def _drain(fd: int) -> bytes:
    out = b""
    while True:
        try:
            piece = os.read(fd, 65536)
        except OSError:  # EIO: the other side of the pty is gone
            return out
        if not piece:
            return out
        out += piece


async def test_an_interactive_terminal_session_ends_when_the_server_closes(ws_url: str) -> None:
    """Typed lines are sent; the server's close ends zurl at once, although the thread
    reading the terminal is still blocked (it must not abort the interpreter at exit)."""
    master, slave = pty.openpty()
    proc = await asyncio.create_subprocess_exec(
        str(ZURL), f"{ws_url}/", stdin=slave, stdout=slave, stderr=slave, cwd=ROOT
    )
    os.close(slave)
    try:
        os.write(master, b"hello\nbye\n")
        code = await asyncio.wait_for(proc.wait(), timeout=20)
        output = await asyncio.to_thread(_drain, master)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        os.close(master)
    assert code == 0, output
    assert b"Fatal" not in output
    # the terminal echoes what was typed; zurl prints each reply once
    assert output.replace(b"\r\n", b"\n") == b"hello\nbye\nhello\nbye\n"


async def test_a_reader_that_goes_away_ends_the_session_quietly(ws_url: str) -> None:
    """``zurl ws://... | head -0``: stdout is a pipe nobody reads; zurl stops, no message."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = await asyncio.create_subprocess_exec(
            str(ZURL),
            f"{ws_url}/",
            "--ws-send",
            "a",
            "--ws-count",
            "1",
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            cwd=ROOT,
        )
    finally:
        os.close(write_end)
    _, err = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert (proc.returncode, err) == (ExitCode.OUTPUT, b"")


async def test_connection_refused(closed_port: int) -> None:
    result = await in_thread(f"ws://127.0.0.1:{closed_port}/", "--ws-send", "x")
    assert result.code == ExitCode.CONNECT
    assert result.err.count("\n") == 1
