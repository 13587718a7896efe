"""ClientSession: what goes on the wire, status checks, timeouts and broken servers."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest

import client
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory
from tests.servers.raw import RawConnection, RawServerFactory, parse_head

pytestmark = pytest.mark.timeout(30)


async def echo(
    session: client.ClientSession, method: str, url: str, **kwargs: Any
) -> dict[str, Any]:
    async with session.request(method, url, **kwargs) as resp:
        assert resp.status == 200
        return await resp.json()  # type: ignore[no-any-return]


def header_names(document: dict[str, Any]) -> list[str]:
    return [name.lower() for name, _ in document["header_list"]]


@pytest.fixture
async def server(keepalive_server: KeepAliveServerFactory) -> KeepAliveServer:
    return await keepalive_server()


# -- headers ------------------------------------------------------------------------------


async def test_auto_headers(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "GET", server.url + "/echo")
    headers = document["headers"]
    assert headers["Host"] == f"127.0.0.1:{server.port}"
    assert headers["Accept"] == "*/*"
    assert "gzip" in headers["Accept-Encoding"] and "deflate" in headers["Accept-Encoding"]
    assert headers["User-Agent"]
    assert "Content-Length" not in headers, "a GET without a body sends no length"


async def test_session_and_request_headers(server: KeepAliveServer) -> None:
    async with client.ClientSession(headers={"X-Session": "s", "X-Both": "session"}) as session:
        document = await echo(
            session, "GET", server.url + "/echo", headers={"X-Both": "request", "X-Req": "r"}
        )
        again = await echo(session, "GET", server.url + "/echo")
    assert document["headers"]["X-Session"] == "s"
    assert document["headers"]["X-Req"] == "r"
    assert document["headers"]["X-Both"] == "request", "a per-request header replaces"
    assert again["headers"]["X-Both"] == "session", "the session default is unchanged"
    assert "X-Req" not in again["headers"]


async def test_request_header_overrides_auto_header(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(
            session, "GET", server.url + "/echo", headers={"User-Agent": "mine/1", "Accept": "x/y"}
        )
    assert document["headers"]["User-Agent"] == "mine/1"
    assert document["headers"]["Accept"] == "x/y"


async def test_skip_auto_headers_session_and_request(server: KeepAliveServer) -> None:
    async with client.ClientSession(skip_auto_headers=["User-Agent"]) as session:
        first = await echo(session, "GET", server.url + "/echo")
        second = await echo(
            session, "GET", server.url + "/echo", skip_auto_headers=["Accept-Encoding", "accept"]
        )
    assert "user-agent" not in header_names(first)
    assert "accept-encoding" in header_names(first)
    assert "user-agent" not in header_names(second)
    assert "accept-encoding" not in header_names(second)
    assert "accept" not in header_names(second)
    assert "host" in header_names(second)


async def test_multidict_headers_keep_duplicates(server: KeepAliveServer) -> None:
    from multidict import CIMultiDict

    headers = CIMultiDict([("X-Dup", "1"), ("X-Dup", "2")])
    async with client.ClientSession() as session:
        document = await echo(session, "GET", server.url + "/echo", headers=headers)
    assert [v for n, v in document["header_list"] if n == "X-Dup"] == ["1", "2"]


@pytest.mark.parametrize(
    "headers",
    [{"X-Evil": "a\r\nInjected: 1"}, {"X-Evil": "a\nb"}, {"X\r\nEvil": "v"}, {"X-Nul": "a\x00"}],
)
async def test_header_injection_refused_before_sending(
    raw_server: RawServerFactory, headers: dict[str, str]
) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    async with client.ClientSession() as session:
        with pytest.raises(client.InvalidRequestHeaderError) as info:
            await session.get(server.url + "/", headers=headers)
    assert isinstance(info.value, ValueError)
    assert all(received == b"" for received in server.received), "nothing was sent"


async def test_method_injection_refused_before_sending(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    async with client.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.request("GET / HTTP/1.1\r\nX:", server.url + "/")
    assert all(received == b"" for received in server.received)


# -- URL, params, base_url ----------------------------------------------------------------


async def test_params_dict_and_pairs(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        first = await echo(session, "GET", server.url + "/echo", params={"a": "1", "b": "x y"})
        second = await echo(
            session, "GET", server.url + "/echo?keep=1", params=[("k", "1"), ("k", "2")]
        )
    assert first["query"] == [["a", "1"], ["b", "x y"]]
    assert second["query"] == [["keep", "1"], ["k", "1"], ["k", "2"]]


async def test_base_url(server: KeepAliveServer) -> None:
    async with client.ClientSession(base_url=server.url) as session:
        document = await echo(session, "GET", "/echo", params={"q": "v"})
        async with session.get("/bytes/3") as resp:
            assert await resp.read() == b"\x00\x01\x02"
            assert str(resp.url) == server.url + "/bytes/3"
    assert document["path"] == "/echo"


async def test_relative_url_without_base_url_is_invalid() -> None:
    async with client.ClientSession() as session:
        with pytest.raises(client.InvalidURL):
            await session.get("/no/base")


async def test_non_http_scheme_refused() -> None:
    async with client.ClientSession() as session:
        with pytest.raises(client.InvalidURL):
            await session.get("ftp://127.0.0.1/file")


# -- auth ---------------------------------------------------------------------------------


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


async def test_session_auth_and_request_auth(server: KeepAliveServer) -> None:
    async with client.ClientSession(auth=client.BasicAuth("user", "pass")) as session:
        first = await echo(session, "GET", server.url + "/echo")
        second = await echo(
            session, "GET", server.url + "/echo", auth=client.BasicAuth("other", "pw")
        )
    assert first["headers"]["Authorization"] == basic("user", "pass")
    assert second["headers"]["Authorization"] == basic("other", "pw")


async def test_url_credentials(server: KeepAliveServer) -> None:
    url = f"http://us%40er:p%3Ass@127.0.0.1:{server.port}/echo"
    async with client.ClientSession() as session:
        document = await echo(session, "GET", url)
    assert document["headers"]["Authorization"] == basic("us@er", "p:ss")
    assert document["headers"]["Host"] == f"127.0.0.1:{server.port}"


async def test_url_credentials_and_auth_conflict(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.get(
                f"http://u:p@127.0.0.1:{server.port}/", auth=client.BasicAuth("a", "b")
            )


async def test_basic_auth_against_httpbin(httpbin: Any) -> None:
    async with client.ClientSession() as session:
        async with session.get(
            httpbin.url + "/basic-auth/alice/s3cret", auth=client.BasicAuth("alice", "s3cret")
        ) as resp:
            assert resp.status == 200
            assert (await resp.json()) == {"authenticated": True, "user": "alice"}
        async with session.get(
            httpbin.url + "/basic-auth/alice/s3cret", auth=client.BasicAuth("alice", "wrong")
        ) as resp:
            assert resp.status == 401


# -- bodies -------------------------------------------------------------------------------


async def test_data_bytes(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo", data=b"\x00raw\xff")
    assert document["body_length"] == 5
    assert document["headers"]["Content-Length"] == "5"
    assert document["headers"]["Content-Type"] == "application/octet-stream"


async def test_data_str(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo", data="Привет, Мир!")
    assert document["body"] == "Привет, Мир!"
    assert document["headers"]["Content-Type"] == "text/plain; charset=utf-8"
    assert document["headers"]["Content-Length"] == str(len("Привет, Мир!".encode()))


async def test_data_dict_is_urlencoded_form(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(
            session, "POST", server.url + "/echo", data={"name": "a b", "x": "&="}
        )
    assert document["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert document["body"] == "name=a+b&x=%26%3D"


async def test_data_file(server: KeepAliveServer, tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"
    content = b"0123456789abcdef" * 4096
    path.write_bytes(content)
    async with client.ClientSession() as session:
        with path.open("rb") as file:
            async with session.post(server.url + "/echo", data=file) as resp:
                document = await resp.json()
    assert document["body_length"] == len(content)
    assert document["headers"]["Content-Length"] == str(len(content))
    assert document["body"] == content.decode()


async def count_body(conn: RawConnection) -> None:
    """Read one request and answer with the length of its body."""
    request = await conn.read_request()
    body_length = len(request) - (request.find(b"\r\n\r\n") + 4)
    answer = str(body_length).encode()
    conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(answer), answer))


async def test_large_file_upload(raw_server: RawServerFactory, tmp_path: Path) -> None:
    """Bigger than any socket buffer: the writer must wait for the peer (back-pressure)."""
    path = tmp_path / "big.bin"
    content = bytes(range(256)) * (20 * 1024)  # 5 MiB
    path.write_bytes(content)
    server = await raw_server(count_body)
    async with client.ClientSession() as session:
        with path.open("rb") as file:
            async with session.put(server.url + "/upload", data=file) as resp:
                assert await resp.text() == str(len(content))
    assert server.received[0].endswith(content[-1000:])


async def test_data_async_generator_is_chunked(server: KeepAliveServer) -> None:
    async def produce() -> AsyncIterator[bytes]:
        for i in range(5):
            yield b"part%d;" % i
            await asyncio.sleep(0)

    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo", data=produce())
    assert document["headers"]["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in document["headers"]
    assert document["body"] == "part0;part1;part2;part3;part4;"


async def test_json_body(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo", json={"example": "text"})
    assert document["headers"]["Content-Type"] == "application/json"
    assert document["body"] == '{"example": "text"}'


async def test_json_serialize(server: KeepAliveServer) -> None:
    def dumps(value: Any) -> str:
        return "custom:" + repr(sorted(value))

    async with client.ClientSession(json_serialize=dumps) as session:
        document = await echo(session, "POST", server.url + "/echo", json={"b": 1, "a": 2})
    assert document["body"] == "custom:['a', 'b']"


async def test_data_and_json_together_refused(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.post(server.url + "/echo", data=b"x", json={"a": 1})


async def test_post_without_body_sends_zero_length(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo")
    assert document["headers"]["Content-Length"] == "0"


async def test_chunked_true_with_bytes(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo", data=b"abc", chunked=True)
    assert document["headers"]["Transfer-Encoding"] == "chunked"
    assert document["body"] == "abc"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
async def test_verbs(server: KeepAliveServer, method: str) -> None:
    async with client.ClientSession() as session:
        verb = getattr(session, method.lower())
        async with verb(server.url + "/echo") as resp:
            assert (await resp.json())["method"] == method


async def test_head_request(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.head(server.url + "/bytes/100") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Length"] == "100"
            assert await resp.read() == b""
        assert await (await session.get(server.url + "/")).text() == "ok"
    assert server.connections_opened == 1, "a HEAD response leaves the connection reusable"


async def test_await_without_context_manager(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        resp = await session.get(server.url + "/bytes/10")
        assert len(await resp.read()) == 10
        resp.release()


# -- redirects (the plain cases) ----------------------------------------------------------


async def test_allow_redirects_false_returns_the_redirect(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/redirect?to=/echo", allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/echo"
            assert resp.history == ()


async def test_plain_redirect_followed(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/redirect?to=/bytes/4") as resp:
            assert resp.status == 200
            assert await resp.read() == b"\x00\x01\x02\x03"
            assert [r.status for r in resp.history] == [302]
            assert str(resp.url) == server.url + "/bytes/4"


# -- raise_for_status ---------------------------------------------------------------------


async def test_raise_for_status_session(server: KeepAliveServer) -> None:
    async with client.ClientSession(raise_for_status=True) as session:
        with pytest.raises(client.ClientResponseError) as info:
            await session.get(server.url + "/status/404")
        async with session.get(server.url + "/status/201") as resp:
            assert resp.status == 201
        async with session.get(server.url + "/status/503", raise_for_status=False) as resp:
            assert resp.status == 503
    error = info.value
    assert error.request_info is not None
    assert error.status == 404
    assert error.message == "Not Found"
    assert error.request_info.method == "GET"
    assert str(error.request_info.url) == server.url + "/status/404"
    assert error.headers is not None and error.headers["Content-Length"] == "0"
    assert error.history == ()


async def test_raise_for_status_per_request(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        async with session.get(server.url + "/status/500") as resp:
            assert resp.status == 500
            assert not resp.ok
        with pytest.raises(client.ClientResponseError) as info:
            await session.get(server.url + "/status/500", raise_for_status=True)
    assert info.value.status == 500


async def test_raise_for_status_callable(server: KeepAliveServer) -> None:
    seen: list[int] = []

    async def check(resp: client.ClientResponse) -> None:
        seen.append(resp.status)
        if resp.status == 418:
            raise RuntimeError("teapot")

    async with client.ClientSession(raise_for_status=check) as session:
        async with session.get(server.url + "/status/200"):
            pass
        with pytest.raises(RuntimeError, match="teapot"):
            await session.get(server.url + "/status/418")
    assert seen == [200, 418]


async def test_raise_for_status_keeps_the_pool_healthy(server: KeepAliveServer) -> None:
    async with client.ClientSession(raise_for_status=True) as session:
        for _ in range(5):
            with pytest.raises(client.ClientResponseError):
                await session.get(server.url + "/status/404")
        async with session.get(server.url + "/") as resp:
            assert await resp.text() == "ok"
    assert server.connections_opened == 1


# -- timeouts -----------------------------------------------------------------------------


@contextlib.contextmanager
def full_backlog() -> Iterator[int]:
    """A listening socket that never accepts, its backlog already full: a SYN is ignored."""
    listener = socket.socket()
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = int(listener.getsockname()[1])
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


async def test_sock_connect_timeout_on_unaccepted_connection() -> None:
    with full_backlog() as port:
        timeout = client.ClientTimeout(sock_connect=0.3)
        async with client.ClientSession(timeout=timeout) as session:
            with pytest.raises(client.ConnectionTimeoutError) as info:
                await session.get(f"http://127.0.0.1:{port}/")
    assert isinstance(info.value, client.ServerTimeoutError)
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_sock_connect_timeout_on_stalled_tls_handshake(
    raw_server: RawServerFactory, client_ssl_context: ssl.SSLContext
) -> None:
    async def silent(conn: RawConnection) -> None:
        await conn.sleep(10)

    server = await raw_server(silent)
    url = f"https://127.0.0.1:{server.port}/"
    timeout = client.ClientTimeout(sock_connect=0.3)
    async with client.ClientSession(timeout=timeout) as session:
        with pytest.raises(client.ConnectionTimeoutError):
            await session.get(url, ssl=client_ssl_context)


async def test_connect_timeout_covers_tls_handshake(
    raw_server: RawServerFactory, client_ssl_context: ssl.SSLContext
) -> None:
    async def silent(conn: RawConnection) -> None:
        await conn.sleep(10)

    server = await raw_server(silent)
    timeout = client.ClientTimeout(connect=0.3)
    async with client.ClientSession(timeout=timeout) as session:
        with pytest.raises(client.ConnectionTimeoutError):
            await session.get(f"https://127.0.0.1:{server.port}/", ssl=client_ssl_context)


async def test_sock_read_stall_in_head(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\n", 10.0])
    timeout = client.ClientTimeout(sock_read=0.3)
    async with client.ClientSession(timeout=timeout) as session:
        with pytest.raises(client.SocketTimeoutError) as info:
            await session.get(server.url + "/")
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_sock_read_stall_in_body(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 10.0])
    timeout = client.ClientTimeout(sock_read=0.3)
    async with client.ClientSession(timeout=timeout) as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
            with pytest.raises(client.SocketTimeoutError):
                await resp.read()


async def test_sock_read_is_per_read_not_total(raw_server: RawServerFactory) -> None:
    script: list[bytes | float] = [b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"]
    for piece in (b"ab", b"cd", b"ef"):
        script += [0.15, piece]
    server = await raw_server(script)
    timeout = client.ClientTimeout(sock_read=1.0)
    async with client.ClientSession(timeout=timeout) as session:
        async with session.get(server.url + "/") as resp:
            assert await resp.read() == b"abcdef"


async def test_total_timeout_in_head(raw_server: RawServerFactory) -> None:
    server = await raw_server([10.0])
    async with client.ClientSession(timeout=client.ClientTimeout(total=0.3)) as session:
        with pytest.raises(client.ServerTimeoutError) as info:
            await session.get(server.url + "/")
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_total_timeout_while_reading_body(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 10.0])
    async with client.ClientSession(timeout=client.ClientTimeout(total=0.5)) as session:
        async with session.get(server.url + "/") as resp:
            with pytest.raises(client.ServerTimeoutError) as info:
                await resp.read()
    assert isinstance(info.value, asyncio.TimeoutError)


async def test_per_request_timeout_overrides_session(raw_server: RawServerFactory) -> None:
    server = await raw_server([10.0])
    async with client.ClientSession(timeout=client.ClientTimeout(total=60)) as session:
        with pytest.raises(asyncio.TimeoutError):
            await session.get(server.url + "/", timeout=client.ClientTimeout(sock_read=0.2))


# -- broken servers -----------------------------------------------------------------------


async def test_server_closes_before_responding(raw_server: RawServerFactory) -> None:
    server = await raw_server([])
    async with client.ClientSession() as session:
        with pytest.raises(client.ServerDisconnectedError):
            await session.get(server.url + "/")
    assert server.received[0].startswith(b"GET / HTTP/1.1\r\n")


async def test_server_resets_before_responding(raw_server: RawServerFactory) -> None:
    async def reset(conn: RawConnection) -> None:
        await conn.read_request()
        conn.abort()

    server = await raw_server(reset)
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientConnectionError):
            await session.get(server.url + "/")


@pytest.mark.parametrize(
    "response",
    [
        b"HTTP/1.1 abc OK\r\n\r\n",
        b"NOT HTTP AT ALL\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n",
    ],
    ids=["status-code", "status-line", "header-line", "conflicting-length", "bad-length"],
)
async def test_malformed_head_is_malformed_response_error(
    raw_server: RawServerFactory, response: bytes
) -> None:
    server = await raw_server([response])
    async with client.ClientSession() as session:
        with pytest.raises(client.MalformedResponseError) as info:
            await session.get(server.url + "/path")
    assert isinstance(info.value, client.ClientResponseError)
    assert info.value.request_info is not None
    assert str(info.value.request_info.url) == server.url + "/path"


async def test_connection_closed_mid_head(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\nContent-Le"])
    async with client.ClientSession() as session:
        with pytest.raises(client.ServerDisconnectedError):
            await session.get(server.url + "/")


async def test_bad_chunk_is_payload_error(raw_server: RawServerFactory) -> None:
    server = await raw_server(
        [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n"]
    )
    async with client.ClientSession() as session:
        async with session.get(server.url + "/") as resp:
            assert resp.status == 200
            with pytest.raises(client.ClientPayloadError):
                await resp.read()


async def test_request_line_on_the_wire(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 204 No Content\r\n\r\n"])
    async with client.ClientSession() as session:
        async with session.get(server.url + "/a%20b/c?x=1&y=%26") as resp:
            assert resp.status == 204
    method, target, headers = parse_head(server.received[0])
    assert (method, target) == ("GET", "/a%20b/c?x=1&y=%26")
    assert ("Host", f"127.0.0.1:{server.port}") in headers


# -- early answers and 100-continue -------------------------------------------------------


async def test_early_answer_during_a_streamed_upload(raw_server: RawServerFactory) -> None:
    """A server that refuses the upload after the head is heard; the upload just stops."""

    async def refuse(conn: RawConnection) -> None:
        await conn.read_until(b"\r\n\r\n")
        conn.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
        await conn.sleep(0.05)
        conn.close()

    async def endless() -> AsyncIterator[bytes]:
        for _ in range(10_000):
            yield b"x" * 65536

    server = await raw_server(refuse)
    async with client.ClientSession() as session:
        async with session.post(server.url + "/upload", data=endless()) as resp:
            assert resp.status == 413
            assert await resp.read() == b"big"
        async with session.get(server.url + "/"):
            pass  # a fresh connection: the refused one was not put back in the pool
    assert server.connections_opened == 2


async def test_expect_100_continue_sends_body_after_100(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo", data=b"abc", expect100=True)
    assert document["headers"]["Expect"] == "100-continue"
    assert document["body"] == "abc"


async def test_expect_100_final_answer_means_no_body(raw_server: RawServerFactory) -> None:
    async def refuse(conn: RawConnection) -> None:
        await conn.read_until(b"\r\n\r\n")
        conn.write(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 2\r\n\r\nno")
        await conn.sleep(0.3)

    server = await raw_server(refuse)
    async with client.ClientSession() as session:
        async with session.post(server.url + "/", data=b"secret body", expect100=True) as resp:
            assert resp.status == 417
            assert await resp.read() == b"no"
    assert b"secret body" not in server.received[0]


# -- parser limits from the session -------------------------------------------------------


def big_header_response(size: int) -> list[bytes | float]:
    return [b"HTTP/1.1 200 OK\r\nX-Big: " + b"v" * size + b"\r\nContent-Length: 2\r\n\r\nok"]


async def test_default_field_size_limit(raw_server: RawServerFactory) -> None:
    server = await raw_server(big_header_response(9000))
    async with client.ClientSession() as session:
        with pytest.raises(client.MalformedResponseError, match="8190"):
            await session.get(server.url + "/")


async def test_session_max_field_size_raises_the_limit(raw_server: RawServerFactory) -> None:
    server = await raw_server(big_header_response(9000))
    async with client.ClientSession(max_field_size=16384) as session:
        async with session.get(server.url + "/") as resp:
            assert len(resp.headers["X-Big"]) == 9000


async def test_request_max_field_size_lowers_the_limit(raw_server: RawServerFactory) -> None:
    server = await raw_server(big_header_response(500))
    async with client.ClientSession() as session:
        with pytest.raises(client.ClientResponseError):
            await session.get(server.url + "/", max_field_size=100, max_line_size=100)


# -- cookies and TLS basics ---------------------------------------------------------------


async def test_per_request_cookies(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "GET", server.url + "/echo", cookies={"k": "v", "a": "b"})
    assert document["headers"]["Cookie"] == "k=v; a=b"


async def test_per_request_cookie_morsels_keep_their_name_and_attributes(
    server: KeepAliveServer,
) -> None:
    loaded = SimpleCookie('real="a b"')
    secure = SimpleCookie("token=t; Secure")
    elsewhere = SimpleCookie("far=1; Domain=example.com")
    cookies = {"alias": loaded["real"], "token": secure["token"], "far": elsewhere["far"]}
    async with client.ClientSession() as session:
        document = await echo(session, "GET", server.url + "/echo", cookies=cookies)
        trusted = client.CookieJar(treat_as_secure_origin=server.url)
    # A Morsel goes under its own name, as received; Secure stays off plain http, a
    # Domain that is not this host's keeps it off this host (aiohttp's rules).
    assert document["headers"]["Cookie"] == 'real="a b"'
    async with client.ClientSession(cookie_jar=trusted) as session:
        document = await echo(session, "GET", server.url + "/echo", cookies=cookies)
    assert document["headers"]["Cookie"] == 'real="a b"; token=t'


async def test_per_request_cookies_use_the_jars_quoting(server: KeepAliveServer) -> None:
    jar = client.CookieJar(quote_cookie=False)
    async with client.ClientSession(cookie_jar=jar) as session:
        await session.get(server.url + "/set-cookie?name=jar")
        document = await echo(
            session, "GET", server.url + "/echo", cookies={"name": "val=foobar", "x": "1"}
        )
    assert document["headers"]["Cookie"] == "name=val=foobar; x=1"  # replaces the jar's


async def test_per_request_cookies_stay_with_the_origin_across_redirects(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    first, other = await keepalive_server(), await keepalive_server()
    cookies = {"k": "v"}
    async with client.ClientSession() as session:
        same = await echo(session, "GET", first.url + "/redirect?to=/echo", cookies=cookies)
        away = f"{first.url}/redirect?to={other.url}/redirect%3Fto%3D{first.url}/echo"
        back = await echo(session, "GET", away, cookies=cookies)
        crossed = await echo(
            session, "GET", f"{first.url}/redirect?to={other.url}/echo", cookies=cookies
        )
    assert same["headers"]["Cookie"] == "k=v"
    assert "Cookie" not in crossed["headers"]
    assert "Cookie" not in back["headers"]  # dropped for the rest of the chain
    assert [target for _, _, target in other.log] == [
        "/redirect?to=" + first.url + "/echo",
        "/echo",
    ]


async def test_a_custom_jar_is_asked_for_every_request(server: KeepAliveServer) -> None:
    asked: list[str] = []

    class Recording(client.DummyCookieJar):
        def filter_cookies(self, request_url: Any = None) -> Any:
            asked.append(str(request_url))
            return super().filter_cookies(request_url)

    async with client.ClientSession(cookie_jar=Recording()) as session:
        await echo(session, "GET", server.url + "/echo")
    assert asked == [server.url + "/echo"]


async def test_response_cookies_accept_reserved_words_as_names(
    raw_server: RawServerFactory,
) -> None:
    server = await raw_server(
        [
            b"HTTP/1.1 200 OK\r\nSet-Cookie: path=unquoted\r\n"
            b'Set-Cookie: secure="quoted"\r\nSet-Cookie: bad name=1\r\n'
            b"Content-Length: 0\r\n\r\n"
        ]
    )
    async with client.ClientSession() as session, session.get(server.url + "/") as resp:
        assert {name: m.value for name, m in resp.cookies.items()} == {
            "path": "unquoted",
            "secure": "quoted",
        }


async def test_tls_verified_with_context_and_refused_without(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    async with client.ClientSession() as session:
        async with session.get(server.url + "/", ssl=client_ssl_context) as resp:
            assert await resp.text() == "ok"
        with pytest.raises(client.ClientConnectorCertificateError) as info:
            await session.get(server.url + "/")
        assert isinstance(info.value, ssl.CertificateError)
        async with session.get(server.url + "/", ssl=False) as resp:
            assert await resp.text() == "ok"


# -- aiohttp request options --------------------------------------------------------------


async def test_skip_auto_content_type(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(
            session, "POST", server.url + "/echo", data=b"abc", skip_auto_headers=["Content-Type"]
        )
    assert "content-type" not in header_names(document)
    assert document["body"] == "abc"


async def test_session_version_http10(server: KeepAliveServer) -> None:
    async with client.ClientSession(version=client.HttpVersion10) as session:
        document = await echo(session, "GET", server.url + "/echo")
    assert document["version"] == "HTTP/1.0"


async def test_read_until_eof_false(raw_server: RawServerFactory) -> None:
    server = await raw_server([b"HTTP/1.1 200 OK\r\n\r\nbody to eof"])
    async with client.ClientSession() as session:
        async with session.get(server.url + "/", read_until_eof=False) as resp:
            assert await resp.read() == b""


async def test_fragment_never_sent(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(session, "GET", server.url + "/echo?a=1#section")
    assert document["target"] == "/echo?a=1"


async def test_burst_of_requests_through_a_small_pool(server: KeepAliveServer) -> None:
    connector = client.TCPConnector(limit=10)
    async with client.ClientSession(connector=connector) as session:

        async def one(i: int) -> int:
            document = await echo(session, "GET", f"{server.url}/echo?i={i}")
            return int(document["query"][0][1])

        assert await asyncio.gather(*(one(i) for i in range(300))) == list(range(300))
    assert server.connections_opened == 10
    assert server.max_active == 10


async def test_sock_read_head_trickle_is_not_a_stall(raw_server: RawServerFactory) -> None:
    head = b"HTTP/1.1 200 OK\r\nX-A: 1\r\nX-B: 2\r\nX-C: 3\r\nContent-Length: 2\r\n\r\nok"
    script: list[bytes | float] = []
    for start in range(0, len(head), 12):
        script += [0.15, head[start : start + 12]]
    server = await raw_server(script)
    async with client.ClientSession(timeout=client.ClientTimeout(sock_read=0.5)) as session:
        async with session.get(server.url + "/") as resp:
            assert await resp.text() == "ok"


async def test_large_streamed_upload(server: KeepAliveServer) -> None:
    """Chunked, bigger than the socket buffers: written with back-pressure, all of it."""

    async def produce() -> AsyncIterator[bytes]:
        for _ in range(128):
            yield b"a" * 65536

    async with client.ClientSession() as session:
        document = await echo(session, "POST", server.url + "/echo", data=produce())
    assert document["body_length"] == 128 * 65536
    assert document["headers"]["Transfer-Encoding"] == "chunked"


async def test_redirect_chain_reuses_one_connection(server: KeepAliveServer) -> None:
    from urllib.parse import quote

    target = "/bytes/3"
    for _ in range(4):
        target = "/redirect?to=" + quote(target, safe="")
    async with client.ClientSession() as session:
        async with session.get(server.url + target) as resp:
            assert await resp.read() == b"\x00\x01\x02"
            assert [r.status for r in resp.history] == [302] * 4
    assert server.connections_opened == 1, "each redirect body was drained, not dropped"


async def test_authorization_header_and_auth_conflict(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        with pytest.raises(ValueError):
            await session.get(
                server.url + "/echo",
                headers={"Authorization": "Bearer token"},
                auth=client.BasicAuth("u", "p"),
            )


async def test_explicit_authorization_header_sent_as_is(server: KeepAliveServer) -> None:
    async with client.ClientSession() as session:
        document = await echo(
            session, "GET", server.url + "/echo", headers={"Authorization": "Bearer token"}
        )
    assert document["headers"]["Authorization"] == "Bearer token"


async def test_numeric_per_request_timeout(raw_server: RawServerFactory) -> None:
    server = await raw_server([10.0])
    async with client.ClientSession() as session:
        with pytest.raises(client.ServerTimeoutError):
            await session.get(server.url + "/", timeout=0.2)


async def test_numeric_session_timeout_refused() -> None:
    with pytest.raises(ValueError):
        client.ClientSession(timeout=5)


async def test_connection_still_uploading_is_not_reused(raw_server: RawServerFactory) -> None:
    """An early keep-alive answer while the body is still going out: the next request
    must not be written into the middle of that body."""

    async def script(conn: RawConnection) -> None:
        if conn.index == 0:
            await conn.read_until(b"\r\n\r\n")
            conn.write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\n\r\nbig")
            while await conn.read():
                pass
        else:
            while await conn.read_request():
                conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    async def slow_body() -> AsyncIterator[bytes]:
        for _ in range(30):
            yield b"x" * 65536
            await asyncio.sleep(0.01)

    server = await raw_server(script)
    async with client.ClientSession() as session:
        async with session.post(server.url + "/upload", data=slow_body()) as resp:
            assert resp.status == 413
        async with session.get(server.url + "/next") as resp:
            assert await resp.text() == "ok"
    assert server.connections_opened == 2
    assert b"GET /next" not in server.received[0]


@pytest.mark.timeout(20)
async def test_total_timeout_over_five_seconds_still_fires(raw_server: RawServerFactory) -> None:
    """Long deadlines run on the coarse once-a-second timers: they must still expire."""
    server = await raw_server([30.0])
    timeout = client.ClientTimeout(total=5.2)
    async with client.ClientSession(timeout=timeout) as session:
        with pytest.raises(client.ServerTimeoutError):
            await session.get(server.url + "/")
