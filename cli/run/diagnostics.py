"""What redirect, TLS and proxy flags add to stderr and the report around one exchange:
the ``-v`` proxy line, the ``--history`` table, the ``--show-cert`` panel (fetched with
``client.fetch_peer_certificate`` when the request itself failed verification), and the
report's ``"proxy"`` object.

The single and WebSocket runs call these; nothing here runs unless its flag was given.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from cli.env import Environment
from cli.exitcodes import ExitCode, Failure
from cli.messages import RequestMessage, ResponseMessage, TLSDetails, where
from cli.run.plans import ProxyPlan, ShowPlan

Hop = tuple[RequestMessage, ResponseMessage]
PROBE_TIMEOUT = 10.0


def before(env: Environment, show: ShowPlan, proxy: ProxyPlan | None) -> None:
    """``-v``: which proxy is used, or why a configured one is not (credentials masked)."""
    if show.proxy_line and proxy is not None:
        env.error(proxy.describe(secrets=show.show_secrets))


def report_extras(proxy: ProxyPlan | None, exc: BaseException | None = None) -> dict[str, Any]:
    """Keys the plans add to a report record; for a failed redirect chain, its hops."""
    extras: dict[str, Any] = {}
    if proxy is not None:
        extras["proxy"] = proxy.to_dict()
    if exc is not None and getattr(exc, "history", None):
        from cli.output.history import report_hops
        from cli.run.exchange import failed_chain

        extras["redirects"] = report_hops(failed_chain(exc), include_last=True)
    return extras


def after_success(env: Environment, show: ShowPlan, hops: list[Hop]) -> None:
    if show.history and hops:
        _history(env, hops, "", show.show_secrets)
    if show.show_cert and hops:
        final = hops[-1][1]
        if final.tls is None or not final.tls.peer_certificate:
            env.error("--show-cert: no TLS on this connection (an http:// URL)")
        else:
            _panel(env, final.tls.peer_certificate, where(final.url), final.tls)


async def after_failure(
    env: Environment,
    show: ShowPlan,
    url: str,
    exc: BaseException,
    failure: Failure,
    hops: list[Hop],
) -> None:
    if show.history:
        from cli.run.exchange import failed_chain

        chain = hops or failed_chain(exc)
        if chain:
            _history(env, chain, f"stopped: {failure.message}", show.show_secrets)
    if show.show_cert and failure.code in (ExitCode.TLS, ExitCode.PIN_MISMATCH):
        await _show_failed_cert(env, url, exc)


def _history(env: Environment, chain: list[Hop], note: str, show_secrets: bool) -> None:
    from cli.output.certview import show
    from cli.output.history import hop_rows, table

    drawn = table(hop_rows(chain), note, show_secrets=show_secrets)
    show(env.stderr, drawn, isatty=env.stderr_isatty, columns=env.columns)


def _panel(
    env: Environment, der: bytes, place: str, tls: TLSDetails | None = None, note: str = ""
) -> None:
    from cli.output.certview import panel, show
    from cli.run.exchange import certificate_summary

    summary = certificate_summary(der)
    if summary is None:
        env.error(f"--show-cert: the certificate of {place} cannot be read")
        return
    show(
        env.stderr, panel(summary, tls, place, note), isatty=env.stderr_isatty, columns=env.columns
    )


async def _show_failed_cert(env: Environment, url: str, exc: BaseException) -> None:
    """The certificate behind a failed handshake: from the pin check, else a fresh probe."""
    der = getattr(exc, "peer_certificate", b"")
    parts = urlsplit(url)
    host = str(getattr(exc, "host", None) or parts.hostname or "")
    port = int(getattr(exc, "port", None) or parts.port or 443)
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    note = "the request was refused: this certificate did not pass"
    if not der:
        import client

        try:
            der = await client.fetch_peer_certificate(host, port, timeout=PROBE_TIMEOUT)
        except (OSError, TimeoutError) as probe_error:
            env.error(f"--show-cert: cannot fetch the certificate of {shown}: {probe_error}")
            return
        note = "fetched again without verification, after the request failed"
    _panel(env, der, shown, None, note)
