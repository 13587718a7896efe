"""Trace signals a real ClientSession emits on loopback requests, with their params."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import trustme

import client
from client.tracing import SIGNALS, TraceConfig
from tests.servers.keepalive import KeepAliveServer, KeepAliveServerFactory, pattern_bytes
from tests.servers.raw import RawServerFactory

pytestmark = pytest.mark.timeout(20)

CONNECT_BLOCK = {
    "on_connection_create_start",
    "on_tcp_connect_start",
    "on_tcp_connect_end",
    "on_connection_create_end",
}
DNS = {
    "on_dns_cache_hit",
    "on_dns_cache_miss",
    "on_dns_resolvehost_start",
    "on_dns_resolvehost_end",
}


@dataclass(frozen=True)
class Event:
    name: str
    params: Any
    ctx: Any
    session: Any
    time: float


class Recorder:
    """A TraceConfig with a recording handler on every signal."""

    def __init__(self) -> None:
        self.config = TraceConfig()
        self.events: list[Event] = []
        for name in SIGNALS:
            getattr(self.config, name).append(self._handler(name))

    def _handler(self, name: str) -> Any:
        async def handler(session: Any, ctx: Any, params: Any) -> None:
            now = asyncio.get_running_loop().time()
            self.events.append(Event(name, params, ctx, session, now))

        return handler

    @property
    def names(self) -> list[str]:
        return [event.name for event in self.events]

    def one(self, name: str) -> Any:
        [params] = self.all(name)
        return params

    def all(self, name: str) -> list[Any]:
        return [event.params for event in self.events if event.name == name]

    def clear(self) -> None:
        self.events.clear()


def dedup(names: list[str]) -> list[str]:
    """Collapse runs of the same signal (chunk signals repeat)."""
    return [n for i, n in enumerate(names) if i == 0 or names[i - 1] != n]


def in_documented_order(names: list[str]) -> bool:
    positions = [SIGNALS.index(name) for name in names]
    return positions == sorted(positions)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def server(keepalive_server: KeepAliveServerFactory) -> KeepAliveServer:
    return await keepalive_server()


@pytest.fixture
async def session(recorder: Recorder) -> AsyncIterator[client.ClientSession]:
    async with client.ClientSession(trace_configs=[recorder.config]) as session:
        yield session


# --- a plain request ---------------------------------------------------------------------------


async def test_plain_request_emits_the_documented_sequence(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    url = f"{server.url}/bytes/1000"
    async with session.get(url) as response:
        assert await response.read() == pattern_bytes(1000)

    names = [n for n in dedup(recorder.names) if n not in DNS]  # an IP literal needs no DNS
    assert names == [
        "on_request_start",
        "on_connection_create_start",
        "on_tcp_connect_start",
        "on_tcp_connect_end",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_response_first_byte",
        "on_request_end",
        "on_response_chunk_received",
        "on_response_end",
    ]
    assert in_documented_order(recorder.names)


async def test_plain_request_params(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    url = f"{server.url}/bytes/1000"
    async with session.get(url, headers={"X-Trace": "yes"}) as response:
        await response.read()

    start = recorder.one("on_request_start")
    assert (start.method, str(start.url)) == ("GET", url)
    assert start.headers["X-Trace"] == "yes"
    sent = recorder.one("on_request_headers_sent")
    assert (sent.method, str(sent.url)) == ("GET", url)
    assert sent.headers["Host"] == f"127.0.0.1:{server.port}"
    end = recorder.one("on_request_end")
    assert (end.method, str(end.url)) == ("GET", url)
    assert end.response is response
    assert end.response.status == 200
    received = b"".join(p.chunk for p in recorder.all("on_response_chunk_received"))
    assert received == pattern_bytes(1000)
    body_end = recorder.one("on_response_end")
    assert (body_end.method, str(body_end.url), body_end.body_size) == ("GET", url, 1000)
    first_byte = recorder.one("on_response_first_byte")
    assert (first_byte.method, str(first_byte.url)) == ("GET", url)


async def test_tcp_connect_params_name_the_peer(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    async with session.get(server.url) as response:
        await response.read()
    tcp_start = recorder.one("on_tcp_connect_start")
    assert (tcp_start.host, tcp_start.port) == ("127.0.0.1", server.port)
    tcp_end = recorder.one("on_tcp_connect_end")
    assert (tcp_end.host, tcp_end.port) == ("127.0.0.1", server.port)
    assert tuple(tcp_end.peername[:2]) == ("127.0.0.1", server.port)


async def test_request_body_is_reported_in_chunks(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    body = b"x" * 5000
    async with session.post(f"{server.url}/echo", data=body) as response:
        await response.read()
    chunks = recorder.all("on_request_chunk_sent")
    assert b"".join(p.chunk for p in chunks) == body
    assert all(p.method == "POST" for p in chunks)
    assert in_documented_order(recorder.names)


async def test_every_signal_of_a_request_shares_one_ctx_and_the_session(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    token = {"request": 1}
    async with session.get(server.url, trace_request_ctx=token) as response:
        await response.read()
    assert len({id(event.ctx) for event in recorder.events}) == 1
    assert recorder.events[0].ctx.trace_request_ctx is token
    assert all(event.session is session for event in recorder.events)


async def test_first_byte_marks_the_wait_for_the_server(raw_server: RawServerFactory) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    server = await raw_server([0.2, head, b"ok"])
    recorder = Recorder()
    async with (
        client.ClientSession(trace_configs=[recorder.config]) as session,
        session.get(server.url) as response,
    ):
        assert await response.read() == b"ok"
    times = {event.name: event.time for event in recorder.events}
    waited = times["on_response_first_byte"] - times["on_request_headers_sent"]
    assert waited >= 0.15
    assert times["on_response_end"] >= times["on_response_first_byte"]


async def test_streamed_body_emits_response_end(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    received = bytearray()
    async with session.get(f"{server.url}/bytes/70000") as response:
        async for chunk in response.content.iter_chunked(8192):
            received += chunk
    assert received == pattern_bytes(70000)
    assert recorder.one("on_response_end").body_size == 70000


async def test_unread_empty_body_emits_response_end(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    async with session.get(f"{server.url}/status/204") as response:
        assert response.status == 204
    assert recorder.one("on_response_end").body_size == 0


# --- connections -------------------------------------------------------------------------------


async def test_reused_connection_emits_reuseconn_and_no_connect(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    async with session.get(server.url) as response:
        await response.read()
    first_ctx = recorder.events[0].ctx
    recorder.clear()

    async with session.get(server.url) as response:
        await response.read()

    assert server.connections_opened == 1
    assert "on_connection_reuseconn" in recorder.names
    assert not CONNECT_BLOCK & set(recorder.names)
    assert not DNS & set(recorder.names)
    assert in_documented_order(recorder.names)
    assert recorder.events[0].ctx is not first_ctx  # a fresh ctx per request


async def test_full_pool_emits_queued_start_and_end(server: KeepAliveServer) -> None:
    recorder = Recorder()
    connector = client.TCPConnector(limit=1)
    async with client.ClientSession(
        connector=connector, trace_configs=[recorder.config]
    ) as session:

        async def fetch(path: str) -> None:
            async with session.get(f"{server.url}{path}") as response:
                await response.read()

        await asyncio.gather(fetch("/delay/0.1"), fetch("/"))

    assert len(recorder.all("on_connection_queued_start")) == 1
    assert len(recorder.all("on_connection_queued_end")) == 1
    queued = next(e for e in recorder.events if e.name == "on_connection_queued_start").ctx
    waiter = [e.name for e in recorder.events if e.ctx is queued]
    assert waiter.index("on_connection_queued_start") < waiter.index("on_connection_queued_end")
    assert in_documented_order(waiter)


async def test_refused_connection_emits_request_exception(recorder: Recorder) -> None:
    with socket.socket() as probe:  # a port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/"
    async with client.ClientSession(trace_configs=[recorder.config]) as session:
        with pytest.raises(client.ClientConnectorError) as raised:
            await session.get(url)

    assert recorder.names[0] == "on_request_start"
    assert recorder.names[-1] == "on_request_exception"
    assert "on_request_end" not in recorder.names
    assert "on_connection_create_end" not in recorder.names
    failure = recorder.one("on_request_exception")
    assert (failure.method, str(failure.url)) == ("GET", url)
    assert failure.exception is raised.value
    tcp = recorder.one("on_tcp_connect_start")
    assert (tcp.host, tcp.port) == ("127.0.0.1", port)
    assert "on_tcp_connect_end" not in recorder.names


async def test_resolving_a_name_emits_dns_signals(server: KeepAliveServer) -> None:
    recorder = Recorder()
    connector = client.TCPConnector(family=socket.AF_INET, force_close=True)
    url = f"http://localhost:{server.port}/"
    async with client.ClientSession(
        connector=connector, trace_configs=[recorder.config]
    ) as session:
        for _ in range(2):
            async with session.get(url) as response:
                await response.read()

    assert [p.host for p in recorder.all("on_dns_cache_miss")] == ["localhost"]
    assert [p.host for p in recorder.all("on_dns_cache_hit")] == ["localhost"]
    assert [p.host for p in recorder.all("on_dns_resolvehost_start")] == ["localhost"]
    assert [p.host for p in recorder.all("on_dns_resolvehost_end")] == ["localhost"]
    first = recorder.names[: recorder.names.index("on_response_end") + 1]
    assert [n for n in first if n in DNS] == [
        "on_dns_cache_miss",
        "on_dns_resolvehost_start",
        "on_dns_resolvehost_end",
    ]
    assert in_documented_order(first)


async def test_tls_handshake_params(
    keepalive_server: KeepAliveServerFactory,
    server_ssl_context: ssl.SSLContext,
    client_ssl_context: ssl.SSLContext,
    tls_cert: trustme.LeafCert,
) -> None:
    server = await keepalive_server(ssl=server_ssl_context)
    recorder = Recorder()
    connector = client.TCPConnector(ssl=client_ssl_context)
    async with (
        client.ClientSession(connector=connector, trace_configs=[recorder.config]) as session,
        session.post(f"{server.url}/echo", data=b"tls body") as response,
    ):
        await response.read()

    start = recorder.one("on_tls_handshake_start")
    assert (start.host, start.port, start.server_hostname) == (
        "127.0.0.1",
        server.port,
        "127.0.0.1",
    )
    end = recorder.one("on_tls_handshake_end")
    assert (end.host, end.port) == ("127.0.0.1", server.port)
    assert end.version is not None and end.version.startswith("TLS")
    assert end.cipher
    der = ssl.PEM_cert_to_DER_cert(tls_cert.cert_chain_pems[0].bytes().decode())
    assert end.peer_certificate == der
    names = dedup(recorder.names)
    assert names.index("on_tcp_connect_end") < names.index("on_tls_handshake_start")
    assert names.index("on_tls_handshake_end") < names.index("on_connection_create_end")
    assert in_documented_order(recorder.names)


# --- redirects and configs ---------------------------------------------------------------------


async def test_redirect_hop_emits_request_redirect_then_request_end(
    server: KeepAliveServer, session: client.ClientSession, recorder: Recorder
) -> None:
    url = f"{server.url}/redirect?to=/bytes/10"
    async with session.get(url) as response:
        await response.read()

    assert recorder.names.count("on_request_start") == 1
    redirect = recorder.one("on_request_redirect")
    assert (redirect.method, str(redirect.url), redirect.response.status) == ("GET", url, 302)
    end = recorder.one("on_request_end")
    assert str(end.url) == f"{server.url}/bytes/10"
    names = recorder.names
    assert names.count("on_request_headers_sent") == 2
    # Each hop follows the documented order, request_redirect standing in for request_end.
    redirect_at = names.index("on_request_redirect")
    assert in_documented_order(names[: redirect_at + 1])
    assert in_documented_order(names[names.index("on_request_headers_sent", redirect_at) :])
    assert redirect_at < names.index("on_request_end")


async def test_two_configs_each_see_the_request_with_their_own_ctx(
    server: KeepAliveServer,
) -> None:
    first, second = Recorder(), Recorder()
    async with (
        client.ClientSession(trace_configs=[first.config, second.config]) as session,
        session.get(server.url) as response,
    ):
        await response.read()
    assert first.names == second.names
    assert first.events[0].ctx is not second.events[0].ctx


async def test_session_freezes_its_trace_configs(server: KeepAliveServer) -> None:
    recorder = Recorder()
    async with client.ClientSession(trace_configs=[recorder.config]):
        assert recorder.config.frozen


async def test_a_failing_start_handler_ends_the_traces_that_started(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    seen: list[tuple[str, BaseException]] = []

    def config(name: str, fail: bool) -> TraceConfig:
        async def start(session: object, ctx: object, params: Any) -> None:
            if fail:
                raise RuntimeError("trace boom")

        async def exception(session: object, ctx: object, params: Any) -> None:
            seen.append((name, params.exception))

        trace = TraceConfig()
        trace.on_request_start.append(start)
        trace.on_request_exception.append(exception)
        return trace

    configs = [config("good", False), config("bad", True), config("later", False)]
    async with client.ClientSession(trace_configs=configs) as session:
        with pytest.raises(RuntimeError, match="trace boom"):
            await session.get(server.url + "/")
    assert [name for name, _ in seen] == ["good"]
    assert isinstance(seen[0][1], RuntimeError)
