"""``--proxy``, ``--proxy-auth``, ``--proxy-header``, ``--no-proxy``, ``--no-env``: which
proxy a run uses, and a masked account of that choice for ``-v`` and ``--report``.

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

import dataclasses
import os
from typing import TYPE_CHECKING, Any

from cli.request.spec import UsageError

if TYPE_CHECKING:
    from cli.run.app import Options

_ENV_NAMES = ("http_proxy", "https_proxy", "ws_proxy", "wss_proxy", "all_proxy")
MASK = "****"


@dataclasses.dataclass(frozen=True, slots=True)
class ProxyPlan:
    """The proxy for this run (None: direct), as the engine needs it and as users see it."""

    url: str | None = None  # credentials stripped
    auth: tuple[str, str] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    trust_env: bool = False  # the engine re-reads the environment on every hop
    source: str = ""  # "--proxy", "HTTPS_PROXY", …
    bypass: str | None = None  # why a configured proxy is not used

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
        scheme, _, rest = self.url.partition("://")
        password = self.auth[1] if secrets else MASK
        return f"{scheme}://{self.auth[0]}:{password}@{rest}"

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
    parts = urlsplit(text)
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


def plan_from(opts: Options, url: str) -> ProxyPlan | None:
    """The proxy plan for ``url``; None when no proxy is configured at all."""
    headers = _proxy_headers(opts.proxy_header)
    auth = _split_auth(opts.proxy_auth, "--proxy-auth") if opts.proxy_auth else None
    use_env = not opts.no_env
    if opts.proxy is None and not (use_env and _env_configured()):
        if headers or auth:
            raise UsageError("--proxy-auth and --proxy-header need a proxy (--proxy URL)")
        return None
    if opts.offline:  # nothing is sent: check the flags, never load the engine
        if opts.proxy is not None:
            _explicit(opts.proxy)
        return None
    from yarl import URL

    from client.environ import proxies_from_env, should_bypass_proxy

    target = URL(url)
    if opts.proxy is not None:
        proxy, url_auth = _explicit(opts.proxy)
        auth = auth or url_auth
        source = "--proxy"
    else:
        info = proxies_from_env().get(target.scheme)
        if info is None:  # proxies for other schemes only
            return None
        proxy = str(info.proxy)
        if auth is None and info.proxy_auth is not None:
            auth = (info.proxy_auth.login, info.proxy_auth.password)
        source = f"{target.scheme.upper()}_PROXY"
    if opts.no_proxy is not None:
        listed, bypassed = "--no-proxy", should_bypass_proxy(target, opts.no_proxy)
    elif use_env:
        listed, bypassed = "NO_PROXY", should_bypass_proxy(target)
    else:
        listed, bypassed = "", False
    if bypassed:
        return ProxyPlan(headers=headers, source=source, bypass=f"{listed} lists {target.host}")
    # The environment alone decided: let the engine decide again on each redirect hop.
    engine_env = source != "--proxy" and opts.no_proxy is None and not opts.proxy_auth
    return ProxyPlan(proxy, auth, headers, engine_env, source)


def request_options(plan: ProxyPlan) -> dict[str, Any]:
    """Keyword arguments for ``session.request``."""
    import client

    options: dict[str, Any] = {}
    if plan.headers:
        options["proxy_headers"] = dict(plan.headers)
    if plan.url is not None and not plan.trust_env:
        options["proxy"] = plan.url
        if plan.auth is not None:
            options["proxy_auth"] = client.BasicAuth(plan.auth[0], plan.auth[1])
    return options


def https_proxy_endpoint(plan: ProxyPlan | None) -> tuple[str, int] | None:
    """(host, port) of an https:// proxy: its own TLS handshake is not the target's."""
    if plan is None or plan.url is None or not plan.url.startswith("https://"):
        return None
    from urllib.parse import urlsplit

    parts = urlsplit(plan.url)
    return parts.hostname or "", parts.port or 443
