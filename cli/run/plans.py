"""The small frozen plans a run is made of: the contract between cli/command/ and cli/run/.

The command layer reads the options once and fills these; each module below it receives
only the plan it needs:

- ``RequestSpec`` (cli/request/spec.py): what to send, one per request of the run;
- ``SessionPlan``: how to connect, shared by every request (one ``ClientSession``), with
  its parts ``ConnectPlan``, ``TLSPlan`` and ``ProxyPlan``;
- ``ShowPlan`` (with ``OutputSpec`` and ``TracePlan``): what to show;
- ``BodyPlan`` (cli/output/sinks.py) and ``report``: where to write;
- ``WebSocketPlan``: a ws:// conversation.

Values only: nothing here imports the engine, click or rich.
"""

from typing import TYPE_CHECKING, Any, NamedTuple

from cli.output.parts import OutputSpec
from cli.output.sinks import BodyPlan
from cli.request.spec import RequestSpec

if TYPE_CHECKING:
    from cli.request.sessions import Session
    from cli.run.retry import RetryPlan


class ConnectPlan(NamedTuple):
    """How to open connections; ``None`` fields keep the engine's defaults."""

    limit: int | None = None
    limit_per_host: int | None = None
    unix_socket: str | None = None
    resolve: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    dns_ttl: float | None = None
    dns_cache: bool = True
    family: int = 0  # socket.AF_UNSPEC: whatever the name resolves to
    local_addr: str | None = None
    http2: bool = False  # --http2: ALPN h2 on https://
    http2_prior_knowledge: bool = False  # --http2-prior-knowledge: h2c on http:// too


class TLSPlan(NamedTuple):
    """How to verify the target: the engine's ``ssl=`` value."""

    # True (default verification), False (none), a context built from the flags, or a
    # ``client.Pins`` holding the pins and one of those.
    ssl: Any = True


class ProxyPlan(NamedTuple):
    """The proxy for this run (None: direct), as the engine needs it and as users see it."""

    url: str | None = None  # credentials stripped
    auth: tuple[str, str] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    trust_env: bool = False  # the engine re-reads the environment on every hop
    source: str = ""  # "--proxy", "HTTPS_PROXY", …
    bypass: str | None = None  # why a configured proxy is not used
    ssl: Any = None  # an https:// proxy's own TLS (proxy_ssl=); None: default trust

    @property
    def display(self) -> str | None:
        """The proxy URL with the password masked."""
        return self.shown(secrets=False)

    def shown(self, *, secrets: bool) -> str | None:
        """The proxy URL with its user and the password, masked unless ``secrets``."""
        if self.url is None:
            return None
        if self.auth is None:
            return self.url
        from cli.masking import mask_url

        scheme, _, rest = self.url.partition("://")
        return mask_url(f"{scheme}://{self.auth[0]}:{self.auth[1]}@{rest}", show=secrets)

    def describe(self, *, secrets: bool = False) -> str:
        """One line for ``-v`` (``--show-secrets`` unmasks the password)."""
        if self.url is not None:
            return f"proxy: {self.shown(secrets=secrets)} (from {self.source})"
        return f"proxy: not used: {self.bypass}"

    def to_dict(self) -> dict[str, Any]:
        """The report's ``"proxy"`` object."""
        return {
            "used": self.url is not None,
            "url": self.display,
            "source": self.source or None,
            "bypass_reason": self.bypass,
        }


class SessionPlan(NamedTuple):
    """How to connect: what every request of the run shares (one ``ClientSession``)."""

    timeout: float | None = None  # --timeout: the whole exchange
    connect_timeout: float | None = None
    connect: ConnectPlan | None = None
    tls: TLSPlan | None = None
    proxy: ProxyPlan | None = None
    cookie_jar: str | None = None  # --cookie-jar FILE: loaded, then saved at the end
    # -A digest: credentials answering the server's challenges, on the session so later
    # requests of a multi-URL run reuse the nonce.
    digest: tuple[str, str] | None = None
    # A download: a file may be legitimately larger than the in-memory bomb limit.
    unbounded_bodies: bool = False
    # The server's credentials from ~/.netrc ($NETRC), looked up per hop for that hop's
    # host by the engine: on unless --ignore-netrc or the command line gave credentials.
    netrc: bool = False
    # --session / --session-read-only: its cookies join the jar; written back at the end.
    session_file: "Session | None" = None


class TracePlan(NamedTuple):
    """What the engine's trace signals are for: ``--trace``, ``-v``'s event log."""

    waterfall: bool = False  # --trace
    event_log: bool = False  # -v
    show_secrets: bool = False
    colors: bool = False  # the waterfall's, on stderr
    h2c: bool = False  # --http2-prior-knowledge: the log shows http:// requests as HTTP/2


class ShowPlan(NamedTuple):
    """What to show: the response blocks (``out``) and what the flags add on stderr."""

    out: OutputSpec
    trace: TracePlan = TracePlan()
    all_hops: bool = False  # --all: every redirect hop, not only the final response
    history: bool = False  # --history: the redirect table on stderr
    show_cert: bool = False  # --show-cert: the certificate panel on stderr
    proxy_line: bool = False  # -v: which proxy, or why none
    show_secrets: bool = False
    summary: bool = False  # --summary: the per-host table instead of the responses
    progress: bool = True  # a progress bar on a terminal's stderr when nothing else is there
    traceback: bool = False  # --traceback: a failure's traceback on stderr


class WebSocketPlan(NamedTuple):
    """A ws:// conversation: what to send, and when to stop."""

    send: tuple[str, ...] = ()  # --ws-send, in order
    binary: bool = False  # lines of stdin as binary messages
    stop_after: int | None = None  # --ws-count: close after this many messages
    timeout: float | None = None  # --ws-timeout: longest wait for the next message
    read_stdin: bool = False  # lines of standard input are messages


class RunPlan(NamedTuple):
    """One run of zurl, decided: the only thing ``cli.run.app.run`` receives."""

    requests: tuple[RequestSpec, ...]
    session: SessionPlan
    show: ShowPlan
    body: BodyPlan = BodyPlan()
    report: str | None = None  # --report FILE ('-': stdout)
    check_status: bool = False
    offline: bool = False  # print the requests, send nothing
    multi: bool = False  # several requests (or --summary): run_all
    retry: "RetryPlan | None" = None  # --retry N and its companions
    websocket: WebSocketPlan | None = None
