"""Tracing mechanics: the signal table, handlers, contexts and freezing (no I/O)."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from types import SimpleNamespace
from typing import Any

import pytest
from multidict import CIMultiDict
from yarl import URL

from client import tracing
from client.tracing import SIGNAL_PARAMS, SIGNALS, Signal, Trace, TraceConfig, make_traces

pytestmark = pytest.mark.timeout(10)

URL_ = URL("http://127.0.0.1:8080/path")
HEADERS: CIMultiDict[str] = CIMultiDict({"Accept": "*/*"})

# aiohttp 3.x's 16 signals and zurl's 7, with the params class and its fields.
EXPECTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "on_request_start": ("TraceRequestStartParams", ("method", "url", "headers")),
    "on_request_chunk_sent": ("TraceRequestChunkSentParams", ("method", "url", "chunk")),
    "on_response_chunk_received": (
        "TraceResponseChunkReceivedParams",
        ("method", "url", "chunk"),
    ),
    "on_request_end": ("TraceRequestEndParams", ("method", "url", "headers", "response")),
    "on_request_exception": (
        "TraceRequestExceptionParams",
        ("method", "url", "headers", "exception"),
    ),
    "on_request_redirect": (
        "TraceRequestRedirectParams",
        ("method", "url", "headers", "response"),
    ),
    "on_connection_queued_start": ("TraceConnectionQueuedStartParams", ()),
    "on_connection_queued_end": ("TraceConnectionQueuedEndParams", ()),
    "on_connection_create_start": ("TraceConnectionCreateStartParams", ()),
    "on_connection_create_end": ("TraceConnectionCreateEndParams", ()),
    "on_connection_reuseconn": ("TraceConnectionReuseconnParams", ()),
    "on_dns_resolvehost_start": ("TraceDnsResolveHostStartParams", ("host",)),
    "on_dns_resolvehost_end": ("TraceDnsResolveHostEndParams", ("host",)),
    "on_dns_cache_hit": ("TraceDnsCacheHitParams", ("host",)),
    "on_dns_cache_miss": ("TraceDnsCacheMissParams", ("host",)),
    "on_request_headers_sent": (
        "TraceRequestHeadersSentParams",
        ("method", "url", "headers", "head"),  # head: zurl's, the bytes as written
    ),
    # zurl's timing signals
    "on_tcp_connect_start": ("TraceTcpConnectStartParams", ("host", "port")),
    "on_tcp_connect_end": ("TraceTcpConnectEndParams", ("host", "port", "peername")),
    "on_tls_handshake_start": (
        "TraceTlsHandshakeStartParams",
        ("host", "port", "server_hostname"),
    ),
    "on_tls_handshake_end": (
        "TraceTlsHandshakeEndParams",
        ("host", "port", "version", "cipher", "peer_certificate", "alpn"),
    ),
    "on_response_first_byte": ("TraceResponseFirstByteParams", ("method", "url")),
    "on_response_end": ("TraceResponseEndParams", ("method", "url", "body_size")),
    "on_request_retry": ("TraceRequestRetryParams", ("method", "url", "exception")),
}

# A plausible value for every field name used above.
SAMPLE: dict[str, Any] = {
    "method": "GET",
    "url": URL_,
    "headers": HEADERS,
    "chunk": b"abc",
    "response": object(),
    "exception": ConnectionRefusedError("refused"),
    "host": "localhost",
    "port": 8080,
    "peername": ("127.0.0.1", 8080),
    "server_hostname": "localhost",
    "version": "TLSv1.3",
    "cipher": "TLS_AES_256_GCM_SHA384",
    "peer_certificate": b"\x30\x82",
    "alpn": "h2",
    "body_size": 3,
    "head": b"GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n",
}


def fields_of(signal: str) -> dict[str, Any]:
    return {name: SAMPLE[name] for name in EXPECTED[signal][1]}


def values_of(params: Any) -> dict[str, Any]:
    # Not dataclasses.asdict: it deep-copies, and the response and exception must be the same.
    return {field.name: getattr(params, field.name) for field in dataclasses.fields(params)}


class Recorder:
    """Appends one handler to every signal of a config and records what each receives."""

    def __init__(self, config: TraceConfig) -> None:
        self.calls: list[tuple[str, Any, Any, Any]] = []
        for name in SIGNALS:
            getattr(config, name).append(self._handler(name))

    def _handler(self, name: str) -> Any:
        async def handler(session: Any, ctx: Any, params: Any) -> None:
            self.calls.append((name, session, ctx, params))

        return handler


async def send(trace: Trace, signal: str) -> None:
    sender = getattr(trace, "send_" + signal.removeprefix("on_"))
    assert await sender(**fields_of(signal)) is None


# --- the table --------------------------------------------------------------------------


def test_every_signal_is_declared_with_its_params_class_and_fields() -> None:
    assert set(SIGNALS) == set(EXPECTED)
    assert len(SIGNALS) == len(EXPECTED) == 23
    for signal, (class_name, fields) in EXPECTED.items():
        params = SIGNAL_PARAMS[signal]
        assert params.__name__ == class_name
        assert getattr(tracing, class_name) is params
        assert class_name in tracing.__all__
        assert tuple(f.name for f in dataclasses.fields(params)) == fields


def test_signals_are_in_documented_emission_order() -> None:
    plain_request = [
        "on_request_start",
        "on_connection_queued_start",
        "on_connection_queued_end",
        "on_connection_create_start",
        "on_dns_cache_miss",
        "on_dns_resolvehost_start",
        "on_dns_resolvehost_end",
        "on_tcp_connect_start",
        "on_tcp_connect_end",
        "on_tls_handshake_start",
        "on_tls_handshake_end",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_request_chunk_sent",
        "on_response_first_byte",
        "on_request_end",
        "on_response_chunk_received",
        "on_response_end",
    ]
    assert [s for s in SIGNALS if s in plain_request] == plain_request
    assert SIGNALS[0] == "on_request_start"
    assert SIGNALS[-1] == "on_request_exception"
    # A reused connection replaces the whole create block; a redirect precedes request_end.
    assert SIGNALS.index("on_connection_reuseconn") < SIGNALS.index("on_connection_create_start")
    assert SIGNALS.index("on_request_redirect") < SIGNALS.index("on_request_end")


@pytest.mark.parametrize("signal", sorted(EXPECTED))
def test_params_are_frozen_slotted_values(signal: str) -> None:
    params = SIGNAL_PARAMS[signal](**fields_of(signal))
    assert not hasattr(params, "__dict__")
    assert params == SIGNAL_PARAMS[signal](**fields_of(signal))
    for name in EXPECTED[signal][1]:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(params, name, None)


def test_config_has_one_signal_per_name_not_shared_between_configs() -> None:
    first, second = TraceConfig(), TraceConfig()
    signals = [getattr(first, name) for name in SIGNALS]
    assert all(isinstance(s, Signal) and list(s) == [] for s in signals)
    assert len({id(s) for s in signals}) == len(SIGNALS)
    assert first.on_request_start is first.on_request_start
    assert first.on_request_start is not second.on_request_start


def test_signal_attributes_cannot_be_replaced() -> None:
    config = TraceConfig()
    with pytest.raises(AttributeError):
        config.on_request_start = Signal()  # type: ignore[assignment]


def test_trace_has_a_sender_for_every_signal_and_nothing_else() -> None:
    senders = {name for name in dir(Trace) if name.startswith("send_")}
    assert senders == {"send_" + s.removeprefix("on_") for s in SIGNALS}


# --- handlers ---------------------------------------------------------------------------


@pytest.mark.parametrize("signal", SIGNALS)
async def test_handler_receives_session_ctx_and_params(signal: str) -> None:
    config = TraceConfig()
    recorder = Recorder(config)
    session = object()
    [trace] = make_traces(session, [config], None)

    await send(trace, signal)

    [(name, got_session, ctx, params)] = recorder.calls
    assert name == signal
    assert got_session is session
    assert isinstance(ctx, SimpleNamespace)
    assert type(params) is SIGNAL_PARAMS[signal]
    assert values_of(params) == fields_of(signal)


async def test_positional_arguments_follow_field_order() -> None:
    config = TraceConfig()
    recorder = Recorder(config)
    [trace] = make_traces(None, [config], None)
    await trace.send_request_start("POST", URL_, HEADERS)
    await trace.send_tcp_connect_end("localhost", 443, ("::1", 443, 0, 0))
    await trace.send_tls_handshake_end("localhost", 443, "TLSv1.3", None, None)
    await trace.send_response_end("POST", URL_, 0)
    await trace.send_connection_queued_start()
    start, tcp, tls, end, queued = (params for *_, params in recorder.calls)
    assert (start.method, start.url, start.headers) == ("POST", URL_, HEADERS)
    assert tcp.peername == ("::1", 443, 0, 0)
    assert (tls.version, tls.cipher, tls.peer_certificate) == ("TLSv1.3", None, None)
    assert end.body_size == 0
    assert type(queued) is tracing.TraceConnectionQueuedStartParams


async def test_handlers_are_awaited_in_order_one_after_another() -> None:
    config = TraceConfig()
    events: list[str] = []

    async def slow(session: Any, ctx: Any, params: Any) -> None:
        events.append("slow start")
        await asyncio.sleep(0.01)
        events.append("slow end")

    async def fast(session: Any, ctx: Any, params: Any) -> None:
        events.append("fast")

    config.on_connection_reuseconn.extend([slow, fast])
    [trace] = make_traces(None, [config], None)
    await trace.send_connection_reuseconn()
    assert events == ["slow start", "slow end", "fast"]


async def test_handler_exception_propagates_and_stops_later_handlers() -> None:
    config = TraceConfig()
    later: list[str] = []

    async def broken(session: Any, ctx: Any, params: Any) -> None:
        raise LookupError("handler bug")

    async def after(session: Any, ctx: Any, params: Any) -> None:
        later.append("ran")

    config.on_dns_cache_hit.extend([broken, after])
    [trace] = make_traces(None, [config], None)
    with pytest.raises(LookupError, match="handler bug"):
        await trace.send_dns_cache_hit("localhost")
    assert later == []


async def test_seed_example_measures_elapsed_time_through_the_ctx() -> None:
    config = TraceConfig()
    elapsed: list[float] = []

    async def on_request_start(session: Any, trace_config_ctx: Any, params: Any) -> None:
        trace_config_ctx.start = asyncio.get_running_loop().time()

    async def on_request_end(session: Any, trace_config_ctx: Any, params: Any) -> None:
        elapsed.append(asyncio.get_running_loop().time() - trace_config_ctx.start)

    config.on_request_start.append(on_request_start)
    config.on_request_end.append(on_request_end)
    config.freeze()
    [trace] = make_traces(None, [config], None)
    await trace.send_request_start("GET", URL_, HEADERS)
    await trace.send_request_end("GET", URL_, HEADERS, object())
    assert len(elapsed) == 1
    assert elapsed[0] >= 0


# --- contexts ---------------------------------------------------------------------------


def test_trace_request_ctx_reaches_the_factory() -> None:
    received: list[dict[str, Any]] = []

    def factory(**kwargs: Any) -> dict[str, Any]:
        received.append(kwargs)
        return {"made": True}

    config = TraceConfig(trace_config_ctx_factory=factory)
    assert config.trace_config_ctx({"foo": "bar"}) == {"made": True}
    assert config.trace_config_ctx() == {"made": True}
    assert received == [{"trace_request_ctx": {"foo": "bar"}}, {"trace_request_ctx": None}]


def test_default_ctx_is_a_simple_namespace_holding_trace_request_ctx() -> None:
    ctx = TraceConfig().trace_config_ctx(trace_request_ctx={"foo": "bar"})
    assert isinstance(ctx, SimpleNamespace)
    assert ctx.trace_request_ctx == {"foo": "bar"}


async def test_two_configs_keep_separate_contexts_shared_across_one_request() -> None:
    first, second = TraceConfig(), TraceConfig()
    first_calls, second_calls = Recorder(first), Recorder(second)
    token = object()
    traces = make_traces("session", [first, second], token)
    assert len(traces) == 2

    for trace in traces:
        await trace.send_request_start("GET", URL_, HEADERS)
        await trace.send_response_end("GET", URL_, 5)

    first_ctxs = {id(ctx) for _, _, ctx, _ in first_calls.calls}
    second_ctxs = {id(ctx) for _, _, ctx, _ in second_calls.calls}
    assert len(first_ctxs) == len(second_ctxs) == 1  # one ctx for all of a request's signals
    assert first_ctxs != second_ctxs  # but one per config
    assert first_calls.calls[0][2].trace_request_ctx is token
    assert second_calls.calls[0][2].trace_request_ctx is token


def test_each_request_gets_a_fresh_context() -> None:
    config = TraceConfig()
    [one] = make_traces(None, [config], None)
    [two] = make_traces(None, [config], None)
    assert one is not two

    async def read_ctx(trace: Trace) -> Any:
        seen: list[Any] = []

        async def handler(session: Any, ctx: Any, params: Any) -> None:
            seen.append(ctx)

        config.on_connection_create_end.clear()
        config.on_connection_create_end.append(handler)
        await trace.send_connection_create_end()
        return seen[0]

    assert asyncio.run(read_ctx(one)) is not asyncio.run(read_ctx(two))


def test_no_configs_means_no_traces() -> None:
    traces = make_traces(object(), [], {"foo": "bar"})
    assert traces == []
    assert not traces  # the session's `if traces:` guard


def test_subclassed_configs_work_side_by_side() -> None:
    class AuditRequest(TraceConfig):
        def __init__(self) -> None:
            super().__init__()
            self.on_request_start.append(self.audit)

        async def audit(self, session: Any, ctx: Any, params: Any) -> None:
            ctx.audited = params.url

    class XRay(TraceConfig):
        pass

    audit, xray = AuditRequest(), XRay()
    traces = make_traces(None, [audit, xray], None)

    async def run() -> None:
        for trace in traces:
            await trace.send_request_start("GET", URL_, HEADERS)

    asyncio.run(run())
    assert len(audit.on_request_start) == 1
    assert len(xray.on_request_start) == 0


# --- freezing ---------------------------------------------------------------------------


async def noop(session: Any, ctx: Any, params: Any) -> None:
    return None


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.append(noop),
        lambda s: s.extend([noop]),
        lambda s: s.insert(0, noop),
        lambda s: s.__setitem__(0, noop),
        lambda s: s.__delitem__(0),
        lambda s: s.remove(noop),
        lambda s: s.pop(),
        lambda s: s.clear(),
        lambda s: s.reverse(),
        lambda s: s.__iadd__([noop]),
    ],
    ids=[
        "append",
        "extend",
        "insert",
        "setitem",
        "delitem",
        "remove",
        "pop",
        "clear",
        "reverse",
        "iadd",
    ],
)
def test_freeze_prevents_changing_handlers(mutate: Any) -> None:
    config = TraceConfig()
    config.on_request_end.extend([noop, noop])
    assert not config.frozen
    config.freeze()
    assert config.frozen
    for name in SIGNALS:
        assert getattr(config, name).frozen
    with pytest.raises(RuntimeError):
        mutate(config.on_request_end)
    assert config.on_request_end == [noop, noop]


def test_freeze_is_idempotent_and_leaves_other_configs_alone() -> None:
    frozen, open_ = TraceConfig(), TraceConfig()
    frozen.freeze()
    frozen.freeze()
    assert frozen.frozen
    assert not open_.frozen
    open_.on_request_start.append(noop)
    assert len(open_.on_request_start) == 1


async def test_frozen_config_still_sends() -> None:
    config = TraceConfig()
    recorder = Recorder(config)
    config.freeze()
    [trace] = make_traces(None, [config], None)
    for signal in SIGNALS:
        await send(trace, signal)
    assert [name for name, *_ in recorder.calls] == list(SIGNALS)


# --- no handlers ------------------------------------------------------------------------


async def test_sending_without_handlers_works_for_every_signal() -> None:
    [trace] = make_traces(None, [TraceConfig()], None)
    for signal in SIGNALS:
        await send(trace, signal)


async def test_sending_without_handlers_is_cheap() -> None:
    [trace] = make_traces(None, [TraceConfig()], None)
    start = time.perf_counter()
    for _ in range(20_000):
        await trace.send_request_chunk_sent("GET", URL_, b"x")
    # Microseconds each in practice; the bound only catches pathological work per send.
    assert time.perf_counter() - start < 2.0


def test_signal_repr_and_equality() -> None:
    signal: Signal[Any] = Signal()
    signal.append(noop)
    assert signal == [noop]
    assert signal != [noop, noop]
    assert "frozen=False" in repr(signal)
    assert signal[0] is noop
    assert list(signal[:1]) == [noop]
