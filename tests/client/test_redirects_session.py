"""Redirect following and cookies across hops, against real loopback servers."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from yarl import URL

import client
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(30)


def redirect(server: KeepAliveServer, to: str, status: int = 302) -> str:
    return f"{server.url}/redirect?to={quote(to, safe='')}&status={status}"


@pytest.mark.parametrize(
    ("status", "method", "expected"),
    [
        (301, "POST", "GET"),
        (302, "POST", "GET"),
        (303, "POST", "GET"),
        (303, "PUT", "GET"),
        (307, "POST", "POST"),
        (308, "PUT", "PUT"),
        (302, "PUT", "PUT"),
    ],
)
async def test_method_and_body_per_status(
    keepalive_server: KeepAliveServerFactory, status: int, method: str, expected: str
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        async with session.request(
            method, redirect(server, server.url + "/echo", status), data=b"payload"
        ) as resp:
            echo = await resp.json()
    assert echo["method"] == expected
    if expected == "GET":
        assert echo["body"] == ""
        assert "Content-Length" not in echo["headers"] or echo["headers"]["Content-Length"] == "0"
    else:
        assert echo["body"] == "payload"
    assert [r.status for r in resp.history] == [status]
    assert resp.url.path == "/echo"


async def test_history_urls_and_real_url(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    second = redirect(server, server.url + "/echo")
    first = redirect(server, second)
    async with client.ClientSession() as session:
        async with session.get(first) as resp:
            await resp.read()
    assert resp.status == 200
    assert len(resp.history) == 2
    assert resp.history[0].url == URL(first)
    assert all(r.headers.get("Location") for r in resp.history)
    assert resp.url == URL(server.url + "/echo")


async def test_allow_redirects_false_and_head(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        async with session.get(redirect(server, "/echo"), allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.history == ()
        async with session.head(redirect(server, "/echo")) as resp:
            assert resp.status == 302  # HEAD is not followed unless asked


async def test_redirect_loop_is_too_many_redirects(raw_server: RawServerFactory) -> None:
    loop = b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n"

    async def handler(conn: object) -> None:
        while True:
            request = await conn.read_request()  # type: ignore[attr-defined]
            if not request:
                return
            conn.write(loop)  # type: ignore[attr-defined]

    server = await raw_server(handler)
    async with client.ClientSession() as session:
        with pytest.raises(client.TooManyRedirects) as info:
            await session.get(server.url + "/start", max_redirects=3)
    # aiohttp's count: the third redirect response ends the chain and is in the history.
    assert len(info.value.history) == 3
    assert [r.url.path for r in info.value.history] == ["/start", "/again", "/again"]
    assert info.value.request_info.url.path == "/start"  # the first request's
    assert info.value.status == 302


async def test_cross_origin_hop_drops_credentials_and_cookies(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    origin = await keepalive_server()
    other = await keepalive_server()
    target = other.url.replace("127.0.0.1", "localhost") + "/echo"
    auth = client.BasicAuth("user", "secret")
    async with client.ClientSession(cookie_jar=client.CookieJar(unsafe=True)) as session:
        session.cookie_jar.update_cookies({"sid": "1"}, URL(origin.url))
        async with session.get(origin.url + "/echo", auth=auth) as resp:
            sent_to_origin = (await resp.json())["headers"]
        async with session.get(
            redirect(origin, target), auth=auth, headers={"X-Hint": "kept"}
        ) as resp:
            sent_to_other = (await resp.json())["headers"]
    assert sent_to_origin["Cookie"] == "sid=1"
    assert sent_to_origin["Authorization"] == auth.encode()
    assert "Authorization" not in sent_to_other
    assert "Cookie" not in sent_to_other
    assert sent_to_other["X-Hint"] == "kept"


async def test_same_origin_hop_keeps_credentials(keepalive_server: KeepAliveServerFactory) -> None:
    server = await keepalive_server()
    async with client.ClientSession(cookie_jar=client.CookieJar(unsafe=True)) as session:
        async with session.get(
            redirect(server, server.url + "/echo"), auth=client.BasicAuth("user", "secret")
        ) as resp:
            echo = await resp.json()
    assert echo["headers"]["Authorization"].startswith("Basic ")


async def test_cookies_from_an_intermediate_hop_are_sent_onwards(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession(cookie_jar=client.CookieJar(unsafe=True)) as session:
        async with session.get(server.url + "/set-cookie?first=1") as resp:
            await resp.read()
            assert resp.cookies["first"].value == "1"
        async with session.get(redirect(server, server.url + "/set-cookie?second=2")) as resp:
            await resp.read()
            # resp.cookies is this response's Set-Cookie only; the jar has them all.
            assert set(resp.cookies) == {"second"}
        names = {m.key for m in session.cookie_jar}
        assert {"first", "second"} <= names
        async with session.get(server.url + "/echo") as resp:
            echo = await resp.json()
    assert "first=1" in echo["headers"]["Cookie"]
    assert "second=2" in echo["headers"]["Cookie"]


async def test_non_http_location_is_refused(raw_server: RawServerFactory) -> None:
    server = await raw_server(
        [b"HTTP/1.1 302 Found\r\nLocation: ftp://files.test/x\r\nContent-Length: 0\r\n\r\n"]
    )
    async with client.ClientSession() as session:
        with pytest.raises(client.NonHttpUrlRedirectClientError):
            await session.get(server.url)


async def test_307_with_a_one_shot_stream_is_a_clear_error(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()

    async def stream():  # type: ignore[no-untyped-def]
        yield b"part"

    async with client.ClientSession() as session:
        with pytest.raises(client.NonReplayableBodyError):
            await session.post(redirect(server, server.url + "/echo", 307), data=stream())


async def test_fragment_is_kept_across_a_redirect(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession() as session:
        async with session.get(redirect(server, server.url + "/echo") + "#frag") as resp:
            await resp.read()
    assert resp.real_url.fragment == "frag"


# -- aiohttp 3.14's redirect rules ------------------------------------------------------


def moved(location: str) -> bytes:
    return f"HTTP/1.1 301 Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()


@pytest.mark.parametrize(
    ("location", "path", "query"),
    [("http:/ok", "/ok", ""), ("http:ok", "/dir/ok", ""), ("http:/ok?a=b", "/ok", "a=b")],
)
async def test_same_scheme_location_without_authority_is_relative(
    raw_server: RawServerFactory, location: str, path: str, query: str
) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = await raw_server(lambda conn: conn_script(conn, [moved(location), ok]))
    async with client.ClientSession() as session:
        async with session.get(server.url + "/dir/start") as resp:
            assert await resp.text() == "ok"
    assert resp.url.host == "127.0.0.1"
    assert resp.url.path == path
    assert resp.url.query_string == query
    assert len(resp.history) == 1


async def conn_script(conn: object, answers: list[bytes]) -> None:
    for answer in answers:
        if not await conn.read_request():  # type: ignore[attr-defined]
            return
        conn.write(answer)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("http://example.com:999999/path", "does not look like a URL"),
        ("https:", "Invalid redirect URL origin"),
    ],
)
async def test_unusable_locations_use_aiohttps_words(
    raw_server: RawServerFactory, location: str, message: str
) -> None:
    server = await raw_server([moved(location)])
    async with client.ClientSession() as session:
        with pytest.raises(client.InvalidUrlRedirectClientError, match=message) as caught:
            await session.get(server.url + "/")
    assert isinstance(caught.value, client.InvalidUrlClientError)


async def test_one_shot_body_on_a_307_is_a_payload_error(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()

    async def stream():  # type: ignore[no-untyped-def]
        yield b"part"

    async with client.ClientSession() as session:
        with pytest.raises(client.ClientPayloadError, match="consumed request body"):
            await session.post(redirect(server, server.url + "/echo", 307), data=stream())


async def test_credentials_in_a_location_replace_the_requests(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    target = server.url.replace("http://", "http://other:secret@") + "/echo"
    async with client.ClientSession() as session:
        async with session.get(
            redirect(server, target), auth=client.BasicAuth("user", "pass")
        ) as resp:
            echo = await resp.json()
    assert echo["headers"]["Authorization"] == client.BasicAuth("other", "secret").encode()
    assert resp.url.user is None  # the credentials left the URL


async def test_session_auth_goes_to_every_origin(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    """aiohttp documents it: the session's auth is sent to any origin, redirects too."""
    origin = await keepalive_server()
    other = await keepalive_server()
    target = other.url.replace("127.0.0.1", "localhost") + "/echo"
    auth = client.BasicAuth("user", "secret")
    async with client.ClientSession(auth=auth) as session:
        async with session.get(redirect(origin, target)) as resp:
            echo = await resp.json()
    assert echo["headers"]["Authorization"] == auth.encode()


async def test_session_auth_with_base_url_goes_to_its_origin_only(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    origin = await keepalive_server()
    other = await keepalive_server()
    auth = client.BasicAuth("user", "secret")
    async with client.ClientSession(base_url=origin.url + "/", auth=auth) as session:
        async with session.get("/echo") as resp:
            at_base = (await resp.json())["headers"]
        async with session.get(redirect(origin, other.url + "/echo")) as resp:
            elsewhere = (await resp.json())["headers"]
    assert at_base["Authorization"] == auth.encode()
    assert "Authorization" not in elsewhere


async def test_session_auth_and_an_authorization_header_conflict(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    async with client.ClientSession(auth=client.BasicAuth("a", "b")) as session:
        with pytest.raises(ValueError, match="Cannot combine AUTHORIZATION header"):
            await session.get(server.url + "/echo", headers={"Authorization": "Bearer t"})


async def test_redirect_responses_fire_no_chunk_received_trace(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    seen: list[str] = []

    async def chunk(session: object, ctx: object, params: Any) -> None:
        seen.append(params.url.path)

    trace = client.TraceConfig()
    trace.on_response_chunk_received.append(chunk)
    async with client.ClientSession(trace_configs=[trace]) as session:
        async with session.get(redirect(server, server.url + "/echo")) as resp:
            await resp.read()
            # A redirect's small body, read on the way, stays readable from the history.
            assert await resp.history[0].read() == b""
    assert seen == ["/echo"]


@pytest.mark.parametrize("where", ["header", "netrc"])
async def test_netrc_credentials_with_trust_env(
    keepalive_server: KeepAliveServerFactory,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    where: str,
) -> None:
    server = await keepalive_server()
    other = await keepalive_server()
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    monkeypatch.setenv("NETRC", str(netrc))
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    headers = {"Authorization": "Bearer mine"} if where == "header" else {}
    async with client.ClientSession(trust_env=True) as session:
        async with session.get(server.url + "/echo", headers=headers) as resp:
            sent = (await resp.json())["headers"]["Authorization"]
        # A hop to a host that netrc does not name carries nothing.
        target = other.url.replace("127.0.0.1", "localhost") + "/echo"
        async with session.get(redirect(server, target)) as resp:
            assert "Authorization" not in (await resp.json())["headers"]
    async with client.ClientSession() as session:  # no trust_env: netrc is not read
        async with session.get(server.url + "/echo") as resp:
            assert "Authorization" not in (await resp.json())["headers"]
    if where == "header":
        assert sent == "Bearer mine"  # the caller's header wins, with no conflict
    else:
        assert sent == client.BasicAuth("user", "pass").encode()


async def test_netrc_switch_is_independent_of_trust_env(
    keepalive_server: KeepAliveServerFactory, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``netrc=True`` reads netrc without the proxy variables; ``netrc=False`` keeps the
    proxy variables and never reads netrc."""
    server = await keepalive_server()
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login user password pass\n")
    monkeypatch.setenv("NETRC", str(netrc))
    # A proxy variable that trust_env would follow: netrc=True alone must not.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "")
    async with client.ClientSession(netrc=True) as session:
        assert not session.trust_env
        async with session.get(server.url + "/echo") as resp:
            assert (await resp.json())["headers"]["Authorization"] == (
                client.BasicAuth("user", "pass").encode()
            )
        built = session.build_request("GET", server.url + "/x")
        assert ("Authorization", client.BasicAuth("user", "pass").encode()) in built.headers
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with client.ClientSession(trust_env=True, netrc=False) as session:
        async with session.get(server.url + "/echo") as resp:
            assert "Authorization" not in (await resp.json())["headers"]
            assert resp.proxy_decision.no_proxy == "127.0.0.1"  # the environment is read


@pytest.mark.parametrize(("requote", "path"), [(True, "/caf%C3%A9"), (False, "/caf%c3%a9")])
async def test_requote_redirect_url(
    raw_server: RawServerFactory, requote: bool, path: str
) -> None:
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = await raw_server(lambda conn: conn_script(conn, [moved("/caf%c3%a9"), ok]))
    async with client.ClientSession(requote_redirect_url=requote) as session:
        async with session.get(server.url + "/start") as resp:
            assert await resp.text() == "ok"
    assert f"GET {path} HTTP/1.1".encode() in server.received[0]
