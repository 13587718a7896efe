"""What the environment says about proxies, credentials and CA certificates (``trust_env``).

Pure functions over ``os.environ`` and a few files; no sockets, no DNS.

Rules:
- Proxy variables follow ``urllib.request.getproxies_environment()``: names are matched
  case-insensitively, a lower-case ``http_proxy`` wins over ``HTTP_PROXY``, an empty
  lower-case variable cancels its upper-case twin, and under CGI (``REQUEST_METHOD`` set)
  ``HTTP_PROXY`` is ignored because a client controls it through the ``Proxy:`` header
  (CVE-2016-1000110, "httpoxy").
- Only http:// and https:// proxies are kept; a value without a scheme means http://, as in
  curl. Anything else (socks5://, garbage) is skipped without an error.
- ``NO_PROXY`` follows curl and requests: entries split on commas and blanks, ``*`` bypasses
  everything, a name matches itself and its subdomains, IPs and CIDR ranges match IP hosts,
  an entry with a port matches only that port; all case-insensitive.
- Reading netrc never raises: a missing, unreadable or malformed file means no credentials.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import netrc
import os
from collections.abc import Iterable, Mapping

from yarl import URL

from .config import BasicAuth

__all__ = (
    "ProxyInfo",
    "ca_from_env",
    "env_no_proxy",
    "env_proxy",
    "get_env_proxy_for_url",
    "netrc_auth",
    "no_proxy_match",
    "proxies_from_env",
    "should_bypass_proxy",
)

# The URL schemes a proxy variable is looked up for (aiohttp 3.8+ added ws/wss).
PROXY_SCHEMES = ("http", "https", "ws", "wss")
_SUPPORTED_PROXY_URLS = ("http", "https")

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclasses.dataclass(frozen=True, slots=True)
class ProxyInfo:
    """A proxy URL without credentials, and the credentials to send to it."""

    proxy: URL
    proxy_auth: BasicAuth | None


# --- proxy variables --------------------------------------------------------------------


def _proxy_variables_named(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """``{"http": (variable name, value), "no": ..., ...}`` with urllib's precedence rules."""
    found: dict[str, tuple[str, str]] = {}
    # Pass 1: every spelling, so upper-case names count when no lower-case one exists.
    for name, value in environ.items():
        lowered = name.lower()
        if value and lowered.endswith("_proxy"):
            found[lowered[:-6]] = (name, value)
    if "REQUEST_METHOD" in environ:
        found.pop("http", None)  # httpoxy: under CGI, HTTP_PROXY comes from the client
    # Pass 2: lower-case names win, and an empty one cancels the variable.
    for name, value in environ.items():
        if name.endswith("_proxy"):
            key = name.lower()[:-6]
            if value:
                found[key] = (name, value)
            else:
                found.pop(key, None)
    return found


def _proxy_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """``{"http": value, "no": value, ...}`` with urllib's precedence rules."""
    return {key: value for key, (_name, value) in _proxy_variables_named(environ).items()}


def _parse_proxy(value: str) -> URL | None:
    """The proxy URL in ``value``, or None when it is not an http(s) proxy we can use."""
    text = value.strip()
    if "://" not in text:
        text = "http://" + text  # curl: no scheme means an HTTP proxy
    try:
        url = URL(text)
    except ValueError:
        return None
    if url.scheme.lower() not in _SUPPORTED_PROXY_URLS or not url.host:
        return None
    return url


def _proxy_credentials(url: URL) -> BasicAuth | None:
    try:
        return BasicAuth.from_url(url)
    except ValueError:
        return None  # a ':' in the decoded login cannot be sent as Basic credentials


def proxies_from_env() -> dict[str, ProxyInfo]:
    """The proxies for ``http``, ``https``, ``ws`` and ``wss`` URLs named by the environment.

    Credentials in the proxy URL become ``proxy_auth``; without them, netrc is asked for the
    proxy's host. The returned ``proxy`` URLs carry no credentials.
    """
    variables = _proxy_variables(os.environ)
    urls: dict[str, URL] = {}
    for scheme in PROXY_SCHEMES:
        value = variables.get(scheme)
        url = _parse_proxy(value) if value else None
        if url is not None:
            urls[scheme] = url
    credentials = {scheme: _proxy_credentials(url) for scheme, url in urls.items()}
    # The netrc file is read at most once, and only when some proxy URL lacks credentials.
    parsed_netrc = _load_netrc() if None in credentials.values() else None
    return {
        scheme: ProxyInfo(
            url.with_user(None),
            credentials[scheme] or _netrc_lookup(parsed_netrc, url.host or ""),
        )
        for scheme, url in urls.items()
    }


def env_proxy(scheme: str) -> tuple[ProxyInfo, str] | None:
    """The environment's proxy for URLs of ``scheme`` and the variable that named it
    (as spelled, e.g. ``"HTTPS_PROXY"``); None when none is set or it is unusable.

    NO_PROXY is not consulted here (see ``env_no_proxy``); netrc is read only when the
    proxy URL carries no credentials.
    """
    named = _proxy_variables_named(os.environ).get(scheme.lower())
    if named is None:
        return None
    variable, value = named
    url = _parse_proxy(value)
    if url is None:
        return None
    auth = _proxy_credentials(url) or _netrc_lookup(_load_netrc(), url.host or "")
    return ProxyInfo(url.with_user(None), auth), variable


def env_no_proxy() -> tuple[str, str] | None:
    """(variable name as spelled, value) of NO_PROXY/no_proxy, or None when unset."""
    return _proxy_variables_named(os.environ).get("no")


def get_env_proxy_for_url(url: URL) -> ProxyInfo:
    """The environment's proxy for ``url``; LookupError if none applies or NO_PROXY bypasses."""
    if url.host is not None and should_bypass_proxy(url):
        raise LookupError(f"Proxying is disabled for {url.host!r} by NO_PROXY")
    proxies = proxies_from_env()
    try:
        return proxies[url.scheme.lower()]
    except KeyError:
        raise LookupError(f"No proxy for {url.scheme!r} URLs in the environment") from None


# --- NO_PROXY -----------------------------------------------------------------------------


def _parse_ip(text: str) -> _IPAddress | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _split_port(entry: str) -> tuple[str, int | None] | None:
    """``host[:port]`` / ``[v6][:port]`` / bare v6 as (host, port); None when malformed."""
    port_text = ""
    if entry.startswith("["):
        host, sep, rest = entry[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None
        port_text = rest[1:]
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
    else:
        host = entry  # a name, or a bare IPv6 address (its colons are not a port)
    if not port_text:
        return host, None
    if not port_text.isdigit():
        return None
    return host, int(port_text)


def _entry_matches(entry: str, host: str, host_ip: _IPAddress | None, port: int | None) -> bool:
    if "/" in entry:
        # A CIDR range matches IP hosts only: no lookup is made to map a name to it.
        try:
            network: _IPNetwork = ipaddress.ip_network(entry.strip("[]"), strict=False)
        except ValueError:
            return False
        return host_ip is not None and host_ip.version == network.version and host_ip in network
    split = _split_port(entry)
    if split is None:
        return False
    name, entry_port = split
    if entry_port is not None and entry_port != port:
        return False
    entry_ip = _parse_ip(name)
    if entry_ip is not None:
        return host_ip is not None and entry_ip == host_ip
    # "example.com", ".example.com" and "*.example.com" all cover the domain and below.
    name = name.removeprefix("*").lstrip(".").rstrip(".")
    if not name:
        return False
    return host == name or host.endswith("." + name)


def no_proxy_match(url: URL, no_proxy: str | Iterable[str]) -> str | None:
    """The entry of ``no_proxy`` (a NO_PROXY string or its entries) that lists ``url``'s
    host, as written (lower-cased); None when none does."""
    if isinstance(no_proxy, str):
        entries = no_proxy.replace(",", " ").lower().split()
    else:
        entries = [entry.strip().lower() for entry in no_proxy if entry.strip()]
    if not entries:
        return None
    if "*" in entries:
        return "*"
    if not url.host:
        return None
    host = url.host.lower().strip("[]").rstrip(".")
    host_ip = _parse_ip(host.split("%", 1)[0])
    port = url.port
    for entry in entries:
        if _entry_matches(entry, host, host_ip, port):
            return entry
    return None


def should_bypass_proxy(url: URL, no_proxy: str | None = None) -> bool:
    """True when ``url``'s host is listed in ``no_proxy`` (default: NO_PROXY / no_proxy)."""
    if no_proxy is None:
        no_proxy = _proxy_variables(os.environ).get("no", "")
    return no_proxy_match(url, no_proxy) is not None


# --- netrc and CA files -------------------------------------------------------------------


def _netrc_path() -> str | None:
    explicit = os.environ.get("NETRC")
    if explicit:
        return explicit
    home = os.path.expanduser("~")
    if home == "~":
        return None  # no HOME and no password database entry
    for name in (".netrc", "_netrc"):  # _netrc is the Windows spelling
        path = os.path.join(home, name)
        if os.path.isfile(path):
            return path
    return None


def _load_netrc() -> netrc.netrc | None:
    path = _netrc_path()
    if path is None:
        return None
    try:
        # An explicit path skips the stdlib's permission check, as curl and aiohttp do.
        return netrc.netrc(path)
    except (OSError, netrc.NetrcParseError, UnicodeDecodeError, ValueError):
        return None


def netrc_auth(host: str) -> BasicAuth | None:
    """Credentials for ``host`` from $NETRC or ~/.netrc (its ``default`` entry too), or None."""
    return _netrc_lookup(_load_netrc(), host)


def _netrc_lookup(parsed: netrc.netrc | None, host: str) -> BasicAuth | None:
    if parsed is None:
        return None
    found = parsed.authenticators(host) or parsed.authenticators(host.lower())
    if found is None:
        return None
    login, _account, password = found
    if not login and not password:
        return None
    try:
        return BasicAuth(login or "", password or "")
    except ValueError:
        return None  # a ':' in the login cannot be sent as Basic credentials


def ca_from_env() -> tuple[str | None, str | None]:
    """(SSL_CERT_FILE, SSL_CERT_DIR) when they name an existing file / directories.

    SSL_CERT_DIR may list several directories separated by ``os.pathsep`` (OpenSSL's rule);
    the ones that exist are kept, in order.
    """
    cafile = os.environ.get("SSL_CERT_FILE") or None
    if cafile is not None and not os.path.isfile(cafile):
        cafile = None
    dirs = [d for d in os.environ.get("SSL_CERT_DIR", "").split(os.pathsep) if os.path.isdir(d)]
    return cafile, (os.pathsep.join(dirs) or None)
