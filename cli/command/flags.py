"""Every flag of the ``zurl`` command as a click option, and the ``--help`` epilog.

A new flag is one ``click.option`` in ``OPTIONS`` plus one field of
``cli.command.options.Options``; cli/command/plan.py turns it into a plan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from cli import __version__
from cli.exitcodes import help_table

PROG = "zurl"

EPILOG = f"""\b
Request items (httpie's syntax):
  Name:Value      request header            Name:          drop a default header
  Name;           header with empty value   Name:@file     header value from a file
  name==value     query parameter           name==@file    query value from a file
  field=value     JSON string (form field with --form)
  field:=json     raw JSON value            field=@file / field:=@file  from a file
  field@path      file upload (multipart); field@path;type=mime sets its type
  @path           the whole body from a file (@- reads standard input)
  a[b][]=x        nested JSON: {{"a": {{"b": ["x"]}}}}
  Write \\: \\= \\@ \\; to use a separator character literally (\\[ \\] in JSON keys).

\b
Examples:
  zurl example.org                      GET, body to stdout
  zurl :8080/items q==1 X-Debug:yes     GET http://localhost:8080/items?q=1
  zurl POST :8080/items name=pie n:=3   JSON body {{"name": "pie", "n": 3}}
  zurl -f :8080/upload pic@me.png       multipart upload
  zurl -v --offline PUT :8080/x a=1     show the request, send nothing
  zurl --check-status --report - URL    exit 4 on a 404, JSON report on stdout
  zurl --repeat 50 --summary :8080/x    50 requests at once, a per-host latency table
  zurl --trace https://example.org/     a timing waterfall on stderr
  zurl -d :8080/files/report.pdf        save the body to a file (-c -o FILE resumes)
  zurl ws://localhost:8080/ws --ws-send hi --ws-count 1   one WebSocket round trip

\b
Exit codes:
{help_table()}
"""

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

OPTIONS: list[Decorator] = [
    click.option(
        "--json", "-j", "json_", is_flag=True, help="Send data fields as JSON (default)."
    ),
    click.option("--form", "-f", is_flag=True, help="Send data fields as a urlencoded form."),
    click.option("--multipart", is_flag=True, help="Send data fields as multipart/form-data."),
    click.option(
        "--auth",
        "-a",
        metavar="USER[:PASS]",
        help="Credentials (the token with -A bearer); asks for PASS if omitted.",
    ),
    click.option(
        "--auth-type",
        "-A",
        type=click.Choice(["basic", "digest", "bearer"]),
        default="basic",
        show_default=True,
        help="How --auth is sent: Basic, Digest (RFC 7616, answering the server's "
        "challenge) or a Bearer token.",
    ),
    click.option(
        "--session",
        metavar="NAME_OR_PATH",
        help="Keep headers, credentials and cookies for the host in this session "
        "(httpie's session files; a path with '/').",
    ),
    click.option(
        "--session-read-only",
        metavar="NAME_OR_PATH",
        help="Use a session without saving what this run changes.",
    ),
    click.option(
        "--ignore-netrc",
        is_flag=True,
        help="Do not take the server's credentials from ~/.netrc (or $NETRC).",
    ),
    click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Limit for the whole exchange.",
    ),
    click.option(
        "--connect-timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="Limit for opening the connection.",
    ),
    click.option(
        "--retry",
        type=click.IntRange(min=0),
        metavar="N",
        help="Send again up to N times after a timeout, a refused or reset connection, "
        "or a 408/429/500/502/503/504.",
    ),
    click.option(
        "--retry-delay",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="With --retry: the first wait (default 1), doubled each time; Retry-After wins.",
    ),
    click.option(
        "--retry-max-time",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="With --retry: start no attempt that would end later than this.",
    ),
    click.option(
        "--retry-all-errors",
        is_flag=True,
        help="With --retry: retry every failure and status >= 400, POST too.",
    ),
    click.option(
        "--check-status", "--fail", is_flag=True, help="Exit 3/4/5 on a 3xx/4xx/5xx response."
    ),
    click.option(
        "--offline", is_flag=True, help="Print the request that would be sent; send nothing."
    ),
    click.option(
        "--report", metavar="FILE", help="Write a JSON object per request to FILE ('-': stdout)."
    ),
    click.option(
        "--print",
        "-p",
        "print_",
        metavar="WHAT",
        help="Parts to print: H request headers, B request body, h response headers, "
        "b response body, m meta.",
    ),
    click.option("--headers", "-h", is_flag=True, help="Print only the response headers."),
    click.option("--body", "-b", is_flag=True, help="Print only the response body."),
    click.option(
        "--verbose",
        "-v",
        is_flag=True,
        help="Print the whole exchange (-p HBhb), events on stderr.",
    ),
    click.option("--quiet", "-q", is_flag=True, help="Print nothing to stdout."),
    click.option(
        "--pretty",
        type=click.Choice(["all", "colors", "format", "none"]),
        help="Colours and formatting (default: all on a terminal, none otherwise).",
    ),
    click.option(
        "--style", "-s", default="ansi_dark", metavar="THEME", help="Pygments theme for bodies."
    ),
    click.option("--raw-headers", is_flag=True, help="Response headers exactly as received."),
    click.option("--ignore-stdin", is_flag=True, help="Never read standard input."),
    click.option("--traceback", is_flag=True, help="Show a traceback on failure."),
    click.option(
        "--no-config",
        is_flag=True,
        help="Ignore the config file's default_options for this run.",
    ),
    # Redirects and cookies.
    click.option("--follow", "-F", is_flag=True, help="Follow redirects (off by default)."),
    click.option(
        "--max-redirects",
        type=click.IntRange(min=0),
        metavar="N",
        help="With --follow: give up (exit 6) after N redirects (default 30).",
    ),
    click.option("--all", "all_", is_flag=True, help="With --follow: print every hop."),
    click.option(
        "--history",
        is_flag=True,
        help="A table of the redirect chain on stderr (what was dropped).",
    ),
    click.option(
        "--cookie-jar",
        metavar="FILE",
        help="Read cookies from FILE (curl's cookies.txt) and save them back to it.",
    ),
    click.option(
        "--cookie", multiple=True, metavar="NAME=VALUE", help="Send this cookie (repeatable)."
    ),
    # TLS (cli/command/tls.py).
    click.option(
        "--verify",
        metavar="yes|no|CA_BUNDLE",
        help="Verify the server's certificate (default yes); or trust only CA_BUNDLE.",
    ),
    click.option("--insecure", "-k", is_flag=True, help="Do not verify the certificate."),
    click.option("--cert", metavar="FILE", help="Client certificate (PEM; may hold the key)."),
    click.option("--cert-key", metavar="FILE", help="Private key of --cert (PEM)."),
    click.option("--cert-key-pass", metavar="PASS", help="Passphrase of the --cert key."),
    click.option(
        "--tls-min", type=click.Choice(["1.2", "1.3"]), help="Lowest TLS version to accept."
    ),
    click.option(
        "--fingerprint",
        multiple=True,
        metavar="SHA256",
        help="Pin the certificate's SHA-256 (hex, colons optional; repeatable: any matches).",
    ),
    click.option(
        "--pin-pubkey",
        multiple=True,
        metavar="sha256//BASE64",
        help="Pin the public key as curl does (';'-separated; checked on top of --verify).",
    ),
    click.option(
        "--show-cert",
        is_flag=True,
        help="Show the server's certificate and its pins on stderr (even if it fails).",
    ),
    # Proxies (cli/command/proxy.py).
    click.option("--proxy", metavar="URL", help="Send through this proxy (http:// or https://)."),
    click.option("--proxy-auth", metavar="USER:PASS", help="Credentials for the proxy."),
    click.option(
        "--proxy-header",
        multiple=True,
        metavar="'NAME: VALUE'",
        help="A header for the proxy only (repeatable).",
    ),
    click.option(
        "--no-proxy", metavar="LIST", help="Hosts reached directly (comma-separated; '*': all)."
    ),
    click.option("--no-env", is_flag=True, help="Ignore HTTP_PROXY, HTTPS_PROXY and NO_PROXY."),
    click.option(
        "--proxy-cacert",
        metavar="FILE",
        help="Trust only this CA bundle for an https:// proxy's certificate.",
    ),
    click.option(
        "--proxy-insecure",
        is_flag=True,
        help="Do not verify an https:// proxy's certificate (-k is for the target only).",
    ),
    click.option(
        "--proxy-cert",
        metavar="FILE",
        help="Client certificate for an https:// proxy (PEM; --cert is never shown to it).",
    ),
    click.option("--proxy-key", metavar="FILE", help="Private key of --proxy-cert (PEM)."),
    # Many requests at once and connection control (cli/command/connect.py).
    click.option(
        "--urls-from", metavar="FILE", help="Also request each URL in FILE ('-': stdin)."
    ),
    click.option(
        "--repeat", type=click.IntRange(min=1), metavar="N", help="Send each request N times."
    ),
    click.option(
        "--limit",
        type=click.IntRange(min=0),
        metavar="N",
        help="At most N connections (0: no limit).",
    ),
    click.option(
        "--limit-per-host",
        type=click.IntRange(min=0),
        metavar="N",
        help="At most N connections per host.",
    ),
    click.option(
        "--summary", is_flag=True, help="Print a per-host table instead of the responses."
    ),
    click.option(
        "--unix-socket",
        metavar="PATH",
        help="Connect to a Unix socket; the URL's host is the Host header.",
    ),
    click.option(
        "--resolve",
        multiple=True,
        metavar="HOST:PORT:ADDR",
        help="Use ADDR for HOST:PORT (repeatable).",
    ),
    click.option(
        "--dns-server",
        multiple=True,
        metavar="ADDR[:PORT]",
        help="Ask these nameservers (repeatable).",
    ),
    click.option(
        "--dns-ttl",
        type=click.FloatRange(min=0),
        metavar="SECONDS",
        help="Keep DNS answers this long (default 10).",
    ),
    click.option("--no-dns-cache", is_flag=True, help="Resolve host names for every connection."),
    click.option("--ipv4", "-4", is_flag=True, help="Connect over IPv4 only."),
    click.option("--ipv6", "-6", is_flag=True, help="Connect over IPv6 only."),
    click.option("--local-addr", metavar="ADDR", help="Connect from this local address."),
    click.option(
        "--http2",
        is_flag=True,
        help="Offer HTTP/2 to https:// servers (ALPN h2, falling back to HTTP/1.1).",
    ),
    click.option(
        "--http2-prior-knowledge",
        is_flag=True,
        help="Speak HTTP/2 to http:// servers without asking (h2c); implies --http2.",
    ),
    click.option(
        "--http1.1",
        "http1_1",
        is_flag=True,
        help="HTTP/1.1 only, even with --http2 (the default).",
    ),
    click.option(
        "--trace", is_flag=True, help="Show a timing waterfall on stderr after each response."
    ),
    click.option("--show-secrets", is_flag=True, help="Do not mask credentials in diagnostics."),
    # Bodies in and out.
    click.option(
        "--download", "-d", is_flag=True, help="Save the body to a file named by the server."
    ),
    click.option("--output", "-o", metavar="FILE", help="Save the body to FILE ('-': stdout)."),
    click.option(
        "--continue", "-c", "continue_", is_flag=True, help="Resume FILE.part of --output FILE."
    ),
    click.option("--overwrite", is_flag=True, help="Let a download replace an existing file."),
    click.option("--stream", "-S", is_flag=True, help="Print the body line by line on arrival."),
    click.option(
        "--compress", "-x", count=True, help="Deflate the request body (-xx: even if larger)."
    ),
    click.option("--chunked", is_flag=True, help="Send the body with chunked transfer coding."),
    click.option("--boundary", metavar="TEXT", help="The multipart/form-data boundary."),
    click.option("--raw", metavar="TEXT", help="Send TEXT as the body, verbatim."),
    click.option("--response-charset", metavar="NAME", help="Decode the shown body with NAME."),
    click.option("--response-mime", metavar="TYPE", help="Show the body as media TYPE."),
    # WebSocket mode.
    click.option("--binary", is_flag=True, help="ws: send stdin lines as binary messages."),
    click.option(
        "--ws-send", metavar="MSG", multiple=True, help="ws: send MSG (repeatable), no stdin."
    ),
    click.option(
        "--ws-count",
        type=click.IntRange(min=1),
        metavar="N",
        help="ws: close after N messages received.",
    ),
    click.option(
        "--ws-timeout",
        type=click.FloatRange(min=0, min_open=True),
        metavar="SECONDS",
        help="ws: longest wait for the next message.",
    ),
    click.version_option(__version__, "--version", prog_name=PROG, message="%(prog)s %(version)s"),
]


def with_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` decorated with every option of ``OPTIONS``, in order."""
    for option in reversed(OPTIONS):
        func = option(func)
    return func
