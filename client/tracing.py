"""Client tracing: aiohttp's ``TraceConfig`` signals plus zurl's timing signals.

Theory of operation
-------------------
Each signal is declared exactly once, as one line of the ``TraceConfig`` class body::

    on_request_start = _Slot(TraceRequestStartParams)

That body is the signal table (name → params class), written in the order a plain request
emits the signals. Everything else is derived from it:

- the params dataclasses hold the fields (each field is written only there);
- ``TraceConfig.on_<x>`` returns that config's ``Signal`` (the ``_Slot`` descriptor);
- ``SIGNALS`` and ``SIGNAL_PARAMS`` are read from the class body, so ``freeze()`` and the
  per-config signal dict cannot miss one;
- ``Trace.send_<x>`` is a ``_Sender`` built from the slot: its parameters are the params
  class's constructor parameters (a ``ParamSpec``), so ``mypy --strict`` checks every call
  site of ``send_request_start(method, url, headers)`` without a hand-written signature.

``Trace`` has to name each sender once more, because a type checker only sees attributes
that are written down; an import-time check (``_check_senders``) turns a missing, extra or
misnamed sender into a failed import rather than a silent gap.

Contract with the session (the hot path pays nothing when tracing is off):

- ``ClientSession.__init__`` freezes each config, as aiohttp does, so handlers cannot change
  while requests run.
- Per request, the session calls ``make_traces(session, trace_configs, trace_request_ctx)``
  once: one ``Trace`` per config, each with its own fresh ``trace_config_ctx`` shared by all
  of that request's signals. With no configs it returns ``[]``.
- Every emission is guarded: ``if traces: for trace in traces: await trace.send_x(...)``, so
  with no configs no params object, closure or coroutine is created.
- A handler's exception propagates out of ``send_x`` into the request, as in aiohttp.

Signal order (``SIGNALS``): request_start; connection_queued_start/end (only when the pool
is full); connection_reuseconn *or* connection_create_start, dns_cache_hit *or*
dns_cache_miss, dns_resolvehost_start/end (no DNS signals for an IP literal),
tcp_connect_start/end, tls_handshake_start/end (https only), connection_create_end;
request_headers_sent; request_chunk_sent…; response_first_byte; request_redirect *or*
request_end (after the response head); response_chunk_received…; response_end (the body is
complete). ``request_retry`` comes only when a request is sent again on a new connection
(after its first connection's request_headers_sent; connection acquiring follows). A
redirect hop runs this order up to its own response_end, then the next hop starts
again at connection acquiring; request_start is sent once per request. request_exception
replaces the rest of the sequence when the request fails.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Coroutine, Iterator, MutableSequence, Sequence
from types import MappingProxyType, SimpleNamespace
from typing import Any, Generic, Never, ParamSpec, TypeAlias, TypeVar, overload

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

__all__ = [
    "SIGNALS",
    "SIGNAL_PARAMS",
    "Signal",
    "Trace",
    "TraceConfig",
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestRetryParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
    "TraceResponseEndParams",
    "TraceResponseFirstByteParams",
    "TraceTcpConnectEndParams",
    "TraceTcpConnectStartParams",
    "TraceTlsHandshakeEndParams",
    "TraceTlsHandshakeStartParams",
    "make_traces",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")

# Request headers as the session holds them; a proxy is accepted so no copy is needed.
Headers: TypeAlias = CIMultiDict[str] | CIMultiDictProxy[str]
# ``async def handler(session, trace_config_ctx, params)``.
Handler: TypeAlias = Callable[[Any, Any, _T], Awaitable[object]]


# --- params: one small frozen value per signal (aiohttp's 16, then zurl's 7) -------------


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestStartParams:
    method: str
    url: URL
    headers: Headers


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionQueuedStartParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionQueuedEndParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionReuseconnParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionCreateStartParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsCacheHitParams:
    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsCacheMissParams:
    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsResolveHostStartParams:
    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceDnsResolveHostEndParams:
    host: str


@dataclasses.dataclass(frozen=True, slots=True)
class TraceTcpConnectStartParams:
    host: str
    port: int


@dataclasses.dataclass(frozen=True, slots=True)
class TraceTcpConnectEndParams:
    host: str
    port: int
    peername: Any  # the socket's getpeername(): (ip, port) or (ip, port, flow, scope)


@dataclasses.dataclass(frozen=True, slots=True)
class TraceTlsHandshakeStartParams:
    host: str
    port: int
    server_hostname: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class TraceTlsHandshakeEndParams:
    host: str
    port: int
    version: str | None
    cipher: str | None
    peer_certificate: bytes | None  # DER, as getpeercert(binary_form=True)
    alpn: str | None = None  # the protocol ALPN settled on ("h2", "http/1.1") or None


@dataclasses.dataclass(frozen=True, slots=True)
class TraceConnectionCreateEndParams:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestHeadersSentParams:
    method: str
    url: URL
    headers: Headers  # the fields as sent, in wire order
    head: bytes = b""  # zurl: the request line and header block exactly as written


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestChunkSentParams:
    method: str
    url: URL
    chunk: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestRetryParams:
    """The request is sent again on a new connection: ``exception`` ended the first try
    (a kept-alive connection the server had closed; see ``client.hop``)."""

    method: str
    url: URL
    exception: BaseException


@dataclasses.dataclass(frozen=True, slots=True)
class TraceResponseFirstByteParams:
    method: str
    url: URL


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestRedirectParams:
    method: str
    url: URL
    headers: Headers
    response: Any  # ClientResponse; typed loosely because the API layer sits above us


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestEndParams:
    method: str
    url: URL
    headers: Headers
    response: Any  # ClientResponse


@dataclasses.dataclass(frozen=True, slots=True)
class TraceResponseChunkReceivedParams:
    method: str
    url: URL
    chunk: bytes


@dataclasses.dataclass(frozen=True, slots=True)
class TraceResponseEndParams:
    method: str
    url: URL
    body_size: int


@dataclasses.dataclass(frozen=True, slots=True)
class TraceRequestExceptionParams:
    method: str
    url: URL
    headers: Headers
    exception: BaseException


# --- Signal: a list of handlers that can be frozen -----------------------------------------


class Signal(MutableSequence[Handler[_T]], Generic[_T]):
    """The handlers of one signal, awaited in order; read-only once frozen.

    Like aiohttp's (a frozen list), any change after ``freeze()`` raises ``RuntimeError``.
    """

    __slots__ = ("_frozen", "_handlers")

    def __init__(self) -> None:
        self._handlers: list[Handler[_T]] = []
        self._frozen = False

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self) -> None:
        self._frozen = True

    async def send(self, session: Any, trace_config_ctx: Any, params: _T) -> None:
        for handler in self._handlers:
            await handler(session, trace_config_ctx, params)

    def _check_mutable(self) -> None:
        if self._frozen:
            raise RuntimeError("Cannot modify frozen list.")

    @overload
    def __getitem__(self, index: int) -> Handler[_T]: ...
    @overload
    def __getitem__(self, index: slice) -> MutableSequence[Handler[_T]]: ...
    def __getitem__(self, index: int | slice) -> Handler[_T] | MutableSequence[Handler[_T]]:
        return self._handlers[index]

    @overload
    def __setitem__(self, index: int, value: Handler[_T]) -> None: ...
    @overload
    def __setitem__(self, index: slice, value: Any) -> None: ...
    def __setitem__(self, index: int | slice, value: Any) -> None:
        self._check_mutable()
        self._handlers[index] = value

    def __delitem__(self, index: int | slice) -> None:
        self._check_mutable()
        del self._handlers[index]

    def insert(self, index: int, value: Handler[_T]) -> None:
        self._check_mutable()
        self._handlers.insert(index, value)

    def __len__(self) -> int:
        return len(self._handlers)

    def __iter__(self) -> Iterator[Handler[_T]]:
        return iter(self._handlers)

    def __eq__(self, other: object) -> bool:
        return list(self) == other

    __hash__ = None  # type: ignore[assignment]  # mutable, like list

    def __repr__(self) -> str:
        return f"<Signal frozen={self._frozen} {self._handlers!r}>"


# --- the signal table ------------------------------------------------------------------------


class _Slot(Generic[_P, _T]):
    """One row of the signal table: a ``TraceConfig`` attribute naming a params class."""

    __slots__ = ("name", "params")

    def __init__(self, params: Callable[_P, _T]) -> None:
        self.params = params
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, config: None, owner: type) -> _Slot[_P, _T]: ...
    @overload
    def __get__(self, config: TraceConfig, owner: type) -> Signal[_T]: ...
    def __get__(self, config: TraceConfig | None, owner: type) -> _Slot[_P, _T] | Signal[_T]:
        if config is None:
            return self
        signal: Signal[_T] = config._signals[self.name]
        return signal

    def __set__(self, config: TraceConfig, value: Never) -> None:
        raise AttributeError(f"{self.name} is read-only; append handlers to it instead")


class TraceConfig:
    """The signals to follow a session's requests with, and the factory of their context."""

    # The signal table, in the order a plain request emits them (see the module docstring).
    on_request_start = _Slot(TraceRequestStartParams)
    on_connection_queued_start = _Slot(TraceConnectionQueuedStartParams)
    on_connection_queued_end = _Slot(TraceConnectionQueuedEndParams)
    on_connection_reuseconn = _Slot(TraceConnectionReuseconnParams)
    on_connection_create_start = _Slot(TraceConnectionCreateStartParams)
    on_dns_cache_hit = _Slot(TraceDnsCacheHitParams)
    on_dns_cache_miss = _Slot(TraceDnsCacheMissParams)
    on_dns_resolvehost_start = _Slot(TraceDnsResolveHostStartParams)
    on_dns_resolvehost_end = _Slot(TraceDnsResolveHostEndParams)
    on_tcp_connect_start = _Slot(TraceTcpConnectStartParams)
    on_tcp_connect_end = _Slot(TraceTcpConnectEndParams)
    on_tls_handshake_start = _Slot(TraceTlsHandshakeStartParams)
    on_tls_handshake_end = _Slot(TraceTlsHandshakeEndParams)
    on_connection_create_end = _Slot(TraceConnectionCreateEndParams)
    on_request_headers_sent = _Slot(TraceRequestHeadersSentParams)
    on_request_chunk_sent = _Slot(TraceRequestChunkSentParams)
    on_request_retry = _Slot(TraceRequestRetryParams)
    on_response_first_byte = _Slot(TraceResponseFirstByteParams)
    on_request_redirect = _Slot(TraceRequestRedirectParams)
    on_request_end = _Slot(TraceRequestEndParams)
    on_response_chunk_received = _Slot(TraceResponseChunkReceivedParams)
    on_response_end = _Slot(TraceResponseEndParams)
    on_request_exception = _Slot(TraceRequestExceptionParams)

    def __init__(self, trace_config_ctx_factory: Callable[..., Any] = SimpleNamespace) -> None:
        self._signals: dict[str, Signal[Any]] = {name: Signal() for name in SIGNALS}
        self._trace_config_ctx_factory = trace_config_ctx_factory

    def __getattr__(self, name: str) -> Signal[Any]:
        # aiohttp keeps each signal as ``_on_<name>``, and some code appends there.
        if name.startswith("_on_"):
            signals: dict[str, Signal[Any]] = self.__dict__.get("_signals", {})
            signal = signals.get(name[1:])
            if signal is not None:
                return signal
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> Any:
        """A fresh context for one request; the factory gets ``trace_request_ctx=``."""
        return self._trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)

    def freeze(self) -> None:
        for signal in self._signals.values():
            signal.freeze()

    @property
    def frozen(self) -> bool:
        return all(signal.frozen for signal in self._signals.values())


def _read_table() -> dict[str, type]:
    table: dict[str, type] = {}
    for name, slot in vars(TraceConfig).items():
        if isinstance(slot, _Slot):
            assert isinstance(slot.params, type), name
            table[name] = slot.params
    return table


# Every signal name, in emission order, and its params class.
SIGNAL_PARAMS: MappingProxyType[str, type] = MappingProxyType(_read_table())
SIGNALS: tuple[str, ...] = tuple(SIGNAL_PARAMS)


# --- Trace: the senders one request uses ------------------------------------------------------


class _Sender(Generic[_P, _T]):
    """``Trace.send_<x>``: builds the params of slot ``on_<x>`` and awaits its handlers."""

    __slots__ = ("slot",)

    def __init__(self, slot: _Slot[_P, _T]) -> None:
        self.slot = slot

    def __set_name__(self, owner: type, name: str) -> None:
        expected = "send_" + self.slot.name.removeprefix("on_")
        if name != expected:
            raise TypeError(f"{owner.__name__}.{name} sends {self.slot.name}: call it {expected}")

    @overload
    def __get__(self, trace: None, owner: type) -> _Sender[_P, _T]: ...
    @overload
    def __get__(self, trace: Trace, owner: type) -> Callable[_P, Coroutine[Any, Any, None]]: ...
    def __get__(
        self, trace: Trace | None, owner: type
    ) -> _Sender[_P, _T] | Callable[_P, Coroutine[Any, Any, None]]:
        if trace is None:
            return self
        signal: Signal[_T] = trace._trace_config._signals[self.slot.name]
        make_params = self.slot.params

        async def send(*args: _P.args, **kwargs: _P.kwargs) -> None:
            # No handler: skip building the params value as well.
            if signal:
                await signal.send(
                    trace._session, trace._trace_config_ctx, make_params(*args, **kwargs)
                )

        return send


class Trace:
    """One request's view of one ``TraceConfig``: the session, that config and its context."""

    __slots__ = ("_session", "_trace_config", "_trace_config_ctx")

    def __init__(self, session: Any, trace_config: TraceConfig, trace_config_ctx: Any) -> None:
        self._session = session
        self._trace_config = trace_config
        self._trace_config_ctx = trace_config_ctx

    send_request_start = _Sender(TraceConfig.on_request_start)
    send_connection_queued_start = _Sender(TraceConfig.on_connection_queued_start)
    send_connection_queued_end = _Sender(TraceConfig.on_connection_queued_end)
    send_connection_reuseconn = _Sender(TraceConfig.on_connection_reuseconn)
    send_connection_create_start = _Sender(TraceConfig.on_connection_create_start)
    send_dns_cache_hit = _Sender(TraceConfig.on_dns_cache_hit)
    send_dns_cache_miss = _Sender(TraceConfig.on_dns_cache_miss)
    send_dns_resolvehost_start = _Sender(TraceConfig.on_dns_resolvehost_start)
    send_dns_resolvehost_end = _Sender(TraceConfig.on_dns_resolvehost_end)
    send_tcp_connect_start = _Sender(TraceConfig.on_tcp_connect_start)
    send_tcp_connect_end = _Sender(TraceConfig.on_tcp_connect_end)
    send_tls_handshake_start = _Sender(TraceConfig.on_tls_handshake_start)
    send_tls_handshake_end = _Sender(TraceConfig.on_tls_handshake_end)
    send_connection_create_end = _Sender(TraceConfig.on_connection_create_end)
    send_request_headers_sent = _Sender(TraceConfig.on_request_headers_sent)
    send_request_chunk_sent = _Sender(TraceConfig.on_request_chunk_sent)
    send_request_retry = _Sender(TraceConfig.on_request_retry)
    send_response_first_byte = _Sender(TraceConfig.on_response_first_byte)
    send_request_redirect = _Sender(TraceConfig.on_request_redirect)
    send_request_end = _Sender(TraceConfig.on_request_end)
    send_response_chunk_received = _Sender(TraceConfig.on_response_chunk_received)
    send_response_end = _Sender(TraceConfig.on_response_end)
    send_request_exception = _Sender(TraceConfig.on_request_exception)


def _check_senders() -> None:
    # The table is TraceConfig's; Trace must mirror it exactly (names are checked on creation).
    sent = {s.slot.name for s in vars(Trace).values() if isinstance(s, _Sender)}
    if sent != set(SIGNALS):
        raise TypeError(f"Trace senders out of step with TraceConfig: {sent ^ set(SIGNALS)}")


_check_senders()


def make_traces(
    session: Any, trace_configs: Sequence[TraceConfig], trace_request_ctx: Any
) -> list[Trace]:
    """One ``Trace`` per config, each with a fresh context, for one request.

    Called once per request; ``[]`` when there are no configs, so ``if traces:`` guards make
    tracing free when it is off.
    """
    return [
        Trace(session, config, config.trace_config_ctx(trace_request_ctx))
        for config in trace_configs
    ]
