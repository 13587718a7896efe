"""``Options``: the parsed command line, read only by cli/command/.

A new flag is one ``click.option`` in cli/command/flags.py plus one field here (a test
checks they match); cli/command/plan.py turns it into the plans the run needs.
"""

from typing import NamedTuple


class Options(NamedTuple):
    """Every flag as click parsed it; field names are the click parameter names."""

    request: tuple[str, ...] = ()
    json_: bool = False
    form: bool = False
    multipart: bool = False
    auth: str | None = None
    auth_type: str = "basic"
    ignore_netrc: bool = False
    session: str | None = None
    session_read_only: str | None = None
    timeout: float | None = None
    connect_timeout: float | None = None
    retry: int | None = None
    retry_delay: float | None = None
    retry_max_time: float | None = None
    retry_all_errors: bool = False
    check_status: bool = False
    offline: bool = False
    report: str | None = None
    print_: str | None = None
    headers: bool = False
    body: bool = False
    verbose: bool = False
    quiet: bool = False
    pretty: str | None = None
    style: str = "ansi_dark"
    raw_headers: bool = False
    ignore_stdin: bool = False
    traceback: bool = False
    no_config: bool = False  # read by cli/command/config.py before click parses
    # redirects and cookies
    follow: bool = False
    max_redirects: int | None = None  # None: 30 (and not given, for the warning)
    all_: bool = False
    history: bool = False
    cookie_jar: str | None = None
    cookie: tuple[str, ...] = ()
    # TLS: cli/command/tls.py
    verify: str | None = None
    insecure: bool = False
    cert: str | None = None
    cert_key: str | None = None
    cert_key_pass: str | None = None
    tls_min: str | None = None
    fingerprint: tuple[str, ...] = ()
    pin_pubkey: tuple[str, ...] = ()
    show_cert: bool = False
    # proxies: cli/command/proxy.py
    proxy: str | None = None
    proxy_auth: str | None = None
    proxy_header: tuple[str, ...] = ()
    no_proxy: str | None = None
    no_env: bool = False
    proxy_cacert: str | None = None
    proxy_insecure: bool = False
    proxy_cert: str | None = None
    proxy_key: str | None = None
    urls_from: str | None = None
    repeat: int | None = None
    limit: int | None = None
    limit_per_host: int | None = None
    summary: bool = False
    unix_socket: str | None = None
    resolve: tuple[str, ...] = ()
    dns_server: tuple[str, ...] = ()
    dns_ttl: float | None = None
    no_dns_cache: bool = False
    ipv4: bool = False
    ipv6: bool = False
    local_addr: str | None = None
    http2: bool = False
    http2_prior_knowledge: bool = False
    http1_1: bool = False
    trace: bool = False
    show_secrets: bool = False
    # bodies in and out
    download: bool = False
    output: str | None = None
    continue_: bool = False
    overwrite: bool = False
    stream: bool = False
    compress: int = 0
    chunked: bool = False
    boundary: str | None = None
    raw: str | None = None
    response_charset: str | None = None
    response_mime: str | None = None
    # WebSocket mode
    binary: bool = False
    ws_send: tuple[str, ...] = ()
    ws_count: int | None = None
    ws_timeout: float | None = None
