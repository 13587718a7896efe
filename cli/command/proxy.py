"""``--proxy``, ``--proxy-auth``, ``--proxy-header``, ``--no-proxy``, ``--no-env`` → the
``ProxyPlan``: which proxy a run uses, with a masked account of that choice for ``-v`` and
``--report`` (cli/run/plans.py).

Rules (curl's and httpie's):
- ``--proxy URL`` wins over the environment; a URL without a scheme means http://.
  Credentials come from the URL or ``--proxy-auth user:pass`` (which wins).
- By default ``HTTP_PROXY``/``HTTPS_PROXY``/``NO_PROXY`` (any case) are honoured, and a
  proxy named there without credentials gets them from netrc; ``--no-env`` ignores them.
- ``--no-proxy LIST`` replaces ``NO_PROXY`` and applies to ``--proxy`` too (curl's
  ``--noproxy``): a listed host is reached directly.
- When the environment alone decides, the engine decides again on every redirect hop
  (``trust_env``); otherwise the choice made here for the URL holds for the whole run.
- Credentials are never shown: the password is masked in every account of the choice.
- ``client``'s proxy helpers are loaded only when some proxy is configured.
"""

from __future__ import annotations

import os

from cli.command.options import Options
from cli.exitcodes import UsageError
from cli.run.plans import ProxyPlan

_ENV_NAMES = ("http_proxy", "https_proxy", "ws_proxy", "wss_proxy", "all_proxy")


def _env_configured() -> bool:
    return any(name.lower() in _ENV_NAMES and value for name, value in os.environ.items())


def _split_auth(value: str, flag: str) -> tuple[str, str]:
    user, sep, password = value.partition(":")
    if not sep or not user:
        raise UsageError(f"{flag} expects USER:PASS")
    return user, password


def _proxy_headers(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    out = []
    for value in values:
        name, sep, text = value.partition(":")
        name = name.strip()
        if (
            not sep
            or not name
            or any(c in name for c in " \t\r\n")
            or any(c in text for c in "\r\n\0")
        ):
            raise UsageError(f"--proxy-header {value!r}: expected 'Name: value'")
        out.append((name, text.strip()))
    return tuple(out)


def _explicit(value: str) -> tuple[str, tuple[str, str] | None]:
    """``--proxy``'s URL without credentials, and the credentials it carried."""
    from urllib.parse import unquote, urlsplit

    text = value if "://" in value else f"http://{value}"
    try:
        parts = urlsplit(text)
    except ValueError as exc:  # an unclosed [IPv6 address; quoted with its scheme, masked
        raise UsageError(f"--proxy {text!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UsageError(f"--proxy {value!r}: only http:// and https:// proxies are supported")
    try:
        port = parts.port
    except ValueError:
        raise UsageError(f"--proxy {value!r}: invalid port") from None
    if not parts.hostname:
        raise UsageError(f"--proxy {value!r}: no host")
    auth = None
    if parts.username is not None:
        auth = (unquote(parts.username), unquote(parts.password or ""))
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    return f"{parts.scheme.lower()}://{netloc}", auth


def proxy_plan(opts: Options, url: str) -> ProxyPlan | None:
    """The proxy plan for ``url``; None when no proxy is configured at all."""
    headers = _proxy_headers(opts.proxy_header)
    auth = _split_auth(opts.proxy_auth, "--proxy-auth") if opts.proxy_auth else None
    use_env = not opts.no_env
    from cli.command.tls import proxy_ssl

    tls = proxy_ssl(opts)
    if opts.proxy is None and not (use_env and _env_configured()):
        if headers or auth:
            raise UsageError("--proxy-auth and --proxy-header need a proxy (--proxy URL)")
        if tls is not None:
            raise UsageError("--proxy-cacert, --proxy-insecure and --proxy-cert need a proxy")
        return None
    if opts.offline:  # nothing is sent: check the flags, never load the engine
        if opts.proxy is not None:
            _explicit(opts.proxy)
        return None
    from yarl import URL

    from client.environ import env_no_proxy, env_proxy, no_proxy_match

    target = URL(url)
    if opts.proxy is not None:
        proxy, url_auth = _explicit(opts.proxy)
        auth = auth or url_auth
        source = "--proxy"
    else:
        found = env_proxy(target.scheme)
        if found is None:  # proxies for other schemes only
            return None
        info, source = found  # the variable as spelled: http_proxy is not HTTP_PROXY
        proxy = str(info.proxy)
        if auth is None and info.proxy_auth is not None:
            auth = (info.proxy_auth.login, info.proxy_auth.password)
    listed, entry = "", None
    if opts.no_proxy is not None:
        listed, entry = "--no-proxy", no_proxy_match(target, opts.no_proxy)
    elif use_env and (named := env_no_proxy()) is not None:
        listed, entry = named[0], no_proxy_match(target, named[1])
    if entry is not None:
        bypass = f"{listed} is '*'" if entry == "*" else f"{listed} lists {entry}"
        return ProxyPlan(headers=headers, source=source, bypass=bypass, ssl=tls)
    # The environment alone decided: let the engine decide again on each redirect hop.
    engine_env = source != "--proxy" and opts.no_proxy is None and not opts.proxy_auth
    return ProxyPlan(proxy, auth, headers, engine_env, source, ssl=tls)
