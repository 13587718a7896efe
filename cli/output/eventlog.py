"""``-v``'s event log on stderr, curl style, from the same trace signals as ``--trace``.

Lines start with ``*`` (an event), ``>`` (a request line or header as sent) or ``<`` (the
response's status line); in multi-URL mode each line is prefixed with ``[N]``, the
request's number. Credentials are masked (cli/masking.py) unless ``--show-secrets``.
"""

from __future__ import annotations

from typing import Any, BinaryIO
from urllib.parse import urlsplit

from cli.masking import mask_header, mask_url
from cli.messages import format_address, version_text
from cli.timings import RequestTrace, milliseconds


class EventLog:
    """A listener of ``cli.run.tracing.Recorder``: one line per event as it happens."""

    def __init__(
        self,
        stream: BinaryIO,
        *,
        show_secrets: bool = False,
        numbered: bool = False,
        h2c: bool = False,
    ):
        self._stream = stream
        self._show_secrets = show_secrets
        self._numbered = numbered
        self._h2c = h2c  # --http2-prior-knowledge: http:// requests go as HTTP/2
        self._alpn: dict[tuple[str, int], str] = {}  # what ALPN chose, per origin

    def __call__(self, ctx: RequestTrace, name: str, params: Any) -> None:
        lines = self._lines(ctx, name, params)
        if not lines:
            return
        prefix = f"[{ctx.label}] " if self._numbered and ctx.label is not None else ""
        text = "".join(f"{prefix}{line}\n" for line in lines)
        self._stream.write(text.encode("utf-8", "replace"))
        self._stream.flush()

    def _url(self, url: Any) -> str:
        return mask_url(str(url), show=self._show_secrets)

    def _lines(self, ctx: RequestTrace, name: str, params: Any) -> list[str]:
        hop = ctx.hop
        if name == "connection_queued_start":
            return ["* Waiting for a free connection (the pool is at its limit)"]
        if name == "connection_reuseconn":
            return [f"* Re-using an existing connection for {self._url(hop.url)}"]
        if name == "dns_cache_hit":
            return [f"* DNS cache hit for {params.host}"]
        if name == "dns_resolvehost_end" and hop.dns_start is not None and hop.dns_end:
            took = milliseconds(hop.dns_end - hop.dns_start)
            return [f"* Resolved {params.host} in {took:g} ms"]
        if name == "tcp_connect_start":
            return [f"* Connecting to {params.host} port {params.port}"]
        if name == "tcp_connect_end":
            peer = params.peername
            address = str(peer[0]) if isinstance(peer, tuple) and peer else format_address(peer)
            return [f"* Connected to {params.host} ({address or '?'}) port {params.port}"]
        if name == "tls_handshake_start":
            return [f"* TLS handshake, server name {params.server_hostname}"]
        if name == "tls_handshake_end":
            lines = [f"* TLS established: {params.version} with {params.cipher}"]
            alpn = getattr(params, "alpn", None)
            if alpn:
                self._alpn[(params.host, params.port)] = alpn
                lines.append(f"* ALPN: the server chose {alpn}")
            return lines
        if name == "request_headers_sent":
            return self._request_head(params)
        if name == "response_first_byte" and hop.sent is not None:
            # The body's last chunk has no signal of its own: the first response byte
            # is when "the request was sent" is certain.
            body = f" with a {hop.body_sent}-byte body" if hop.body_sent else ""
            took = milliseconds(max(0.0, (hop.first_byte or hop.sent) - hop.sent))
            return [f"* Request sent{body}", f"* Response started after {took:g} ms"]
        if name in ("request_end", "request_redirect"):
            return self._status(name, params)
        if name == "response_end":
            return [f"* Response complete: {params.body_size} bytes"]
        if name == "request_exception":
            return [f"* Failed: {type(params.exception).__name__}: {params.exception}"]
        return []

    def _request_head(self, params: Any) -> list[str]:
        url = urlsplit(str(params.url))
        target = url.path or "/"
        if url.query:
            target += "?" + url.query
        port = url.port or (443 if url.scheme == "https" else 80)
        alpn = self._alpn.get((url.hostname or "", port))
        h2 = alpn == "h2" or (self._h2c and url.scheme == "http")
        lines = [f"> {params.method} {target} {'HTTP/2' if h2 else 'HTTP/1.1'}"]
        for key, value in params.headers.items():
            shown = value if self._show_secrets else mask_header(key, value)
            lines.append(f"> {key}: {shown}")
        return lines

    def _status(self, name: str, params: Any) -> list[str]:
        resp = params.response
        proto = f"HTTP/{version_text(getattr(resp, 'version', None))}"
        lines = [f"< {proto} {resp.status} {resp.reason or ''}".rstrip()]
        if name == "request_redirect":
            location = resp.headers.get("Location", "")
            lines.append(f"* Redirect to {self._url(location)}")
        return lines
