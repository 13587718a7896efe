"""Plans → the engine's keyword arguments: the ``ClientSession`` of a run (connector,
resolver, timeouts, cookie jar, proxies from the environment, Digest auth) and the
options of each ``session.request``.

Rules:
- ``client`` is imported inside the functions only, so ``--offline``, ``--help`` and usage
  errors never pay for the engine (or its TLS setup).
- Connectors are made inside the running event loop (the engine's connectors need it);
  the session that receives one owns it.
- ``--resolve`` keeps the URL's host for SNI, certificate checks and the Host header: the
  override only changes the address dialled (``StaticResolver``), as with curl.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cli.exitcodes import UsageError
from cli.request.spec import RequestSpec
from cli.run.plans import ConnectPlan, ProxyPlan, SessionPlan

if TYPE_CHECKING:
    import client


def open_session(
    plan: SessionPlan, trace_configs: Sequence[Any] = (), *, hop_clock: bool = False
) -> client.ClientSession:
    """The session of a run (multi-URL mode shares it); ``hop_clock`` times redirects."""
    import client

    configs = [*trace_configs, *_feature_traces(plan, hop_clock)]
    return client.ClientSession(**_session_options(plan), trace_configs=configs)


def _session_options(plan: SessionPlan) -> dict[str, Any]:
    """Keyword arguments for ``ClientSession``; options about connections go here."""
    import client

    options: dict[str, Any] = {
        "timeout": client.ClientTimeout(total=plan.timeout, connect=plan.connect_timeout)
    }
    if plan.connect is not None:
        options["connector"] = connector(plan.connect)
    if plan.unbounded_bodies:
        options["max_decompressed_size"] = None
    if plan.cookie_jar is not None or plan.session_file is not None:
        # --cookie-jar and a --session's cookies: loaded here, saved when the run ends
        from cli.run.jar import run_jar

        options["cookie_jar"] = run_jar(plan)
    if plan.proxy is not None and plan.proxy.trust_env:  # the environment picks, per hop
        options["trust_env"] = True
    # netrc is its own switch: trust_env alone would tie it to the proxy variables.
    options["netrc"] = plan.netrc
    if plan.digest is not None:
        from client.digest import DigestAuthMiddleware

        options["middlewares"] = (DigestAuthMiddleware(plan.digest[0], plan.digest[1]),)
    return options


def _feature_traces(plan: SessionPlan, hop_clock: bool) -> list[Any]:
    """Trace configs that flags need: hop times for --follow."""
    configs: list[Any] = []
    if hop_clock:
        from cli.run.tracing import hop_trace_config

        configs.append(hop_trace_config())
    return configs


def request_options(spec: RequestSpec, plan: SessionPlan) -> dict[str, Any]:
    """Keyword arguments for ``session.request``: the spec, plus the plan's TLS and proxy."""
    from multidict import CIMultiDict

    import client

    options: dict[str, Any] = {
        "headers": CIMultiDict(spec.headers),
        "allow_redirects": spec.follow,
    }
    if spec.follow:
        # The engine counts as aiohttp does (the max_redirects-th redirect is not followed);
        # --max-redirects N follows N.
        options["max_redirects"] = spec.max_redirects + 1
    if plan.tls is not None:
        options["ssl"] = plan.tls.ssl
    if plan.proxy is not None:
        options.update(_proxy_options(plan.proxy))
    if spec.skip_auto_headers:
        options["skip_auto_headers"] = spec.skip_auto_headers
    if spec.body is not None:
        options["data"] = spec.body
    if spec.chunked:
        options["chunked"] = True
    if spec.auth is not None and spec.auth_type == "basic":
        options["auth"] = client.BasicAuth(spec.auth[0], spec.auth[1], encoding="utf-8")
    elif spec.auth is not None and spec.auth_type == "bearer":
        options["headers"].setdefault("Authorization", f"Bearer {spec.auth[0]}")
    return options


def _proxy_options(plan: ProxyPlan) -> dict[str, Any]:
    """Keyword arguments for ``session.request``."""
    import client

    options: dict[str, Any] = {}
    if plan.ssl is not None:
        options["proxy_ssl"] = plan.ssl
    if plan.headers:
        options["proxy_headers"] = dict(plan.headers)
    if plan.url is not None and not plan.trust_env:
        options["proxy"] = plan.url
        if plan.auth is not None:
            options["proxy_auth"] = client.BasicAuth(plan.auth[0], plan.auth[1], encoding="utf-8")
    return options


def overrides(entries: tuple[str, ...]) -> dict[tuple[str, int], list[str]]:
    """``--resolve`` entries as ``StaticResolver``'s table; later entries add addresses."""
    from client.resolver import parse_resolve_option

    table: dict[tuple[str, int], list[str]] = {}
    for entry in entries:
        key, addrs = parse_resolve_option(entry)
        table.setdefault(key, []).extend(addrs)
    return table


def resolver(p: ConnectPlan) -> client.AbstractResolver | None:
    """The resolver the flags ask for, or None for the engine's default (getaddrinfo)."""
    import client

    base: client.AbstractResolver | None = None
    if p.dns_servers:
        try:
            base = client.AsyncResolver(nameservers=list(p.dns_servers))
        except RuntimeError as exc:  # dnspython vanished between plan and run
            raise UsageError(f"--dns-server: {exc}") from None
    if p.resolve:
        return client.StaticResolver(overrides(p.resolve), fallback=base)
    return base


def connector(p: ConnectPlan, **extra: Any) -> client.BaseConnector:
    """A new connector for ``p``; ``extra`` passes other TCPConnector options (ssl=...).

    Must be called inside the running event loop. The session that receives it owns it.
    """
    import client

    limits: dict[str, Any] = {}
    if p.limit is not None:
        limits["limit"] = p.limit
    if p.limit_per_host is not None:
        limits["limit_per_host"] = p.limit_per_host
    if p.unix_socket is not None:
        return client.UnixConnector(p.unix_socket, **limits)
    options: dict[str, Any] = {**limits, "use_dns_cache": p.dns_cache, "family": p.family}
    if p.dns_ttl is not None:
        options["ttl_dns_cache"] = p.dns_ttl
    if p.local_addr is not None:  # an IP address, checked by cli/command/connect.py
        options["local_addr"] = (p.local_addr, 0)
    if p.http2:
        options["http2"] = True
        options["http2_prior_knowledge"] = p.http2_prior_knowledge
    chosen = resolver(p)
    if chosen is not None:
        options["resolver"] = chosen
    return client.TCPConnector(**options, **extra)
