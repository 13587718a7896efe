"""zurl's exit codes: one per failure class, documented in ``--help`` and the README, and
the values that carry them (a usage error, a failure with its code and one-line message).

A leaf: every layer raises or returns these, and it imports nothing of zurl's.
"""

import enum
from typing import NamedTuple


class ExitCode(enum.IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    HTTP_3XX = 3
    HTTP_4XX = 4
    HTTP_5XX = 5
    TOO_MANY_REDIRECTS = 6
    DNS = 10
    CONNECT = 11
    TIMEOUT = 12
    TLS = 13
    PIN_MISMATCH = 14
    PROXY = 15
    MALFORMED = 16
    NETWORK = 17
    OUTPUT = 18
    FILE = 20
    RESUME_REFUSED = 21
    WS_HANDSHAKE = 22
    WS_CLOSED = 23
    WS_PROTOCOL = 24
    INTERRUPTED = 130


MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "success",
    ExitCode.INTERNAL: "unexpected internal error (a bug: please report it)",
    ExitCode.USAGE: "usage error: a bad option, URL or request item",
    ExitCode.HTTP_3XX: "with --check-status: the response was a 3xx (not followed)",
    ExitCode.HTTP_4XX: "with --check-status: the response was a 4xx",
    ExitCode.HTTP_5XX: "with --check-status: the response was a 5xx",
    ExitCode.TOO_MANY_REDIRECTS: "too many redirects, or a redirect to a URL zurl cannot follow",
    ExitCode.DNS: "the host name did not resolve",
    ExitCode.CONNECT: "connection refused or host unreachable",
    ExitCode.TIMEOUT: "a timeout expired (--timeout, --connect-timeout)",
    ExitCode.TLS: "TLS failure: certificate verification or handshake",
    ExitCode.PIN_MISMATCH: "the certificate does not match the pinned fingerprint",
    ExitCode.PROXY: "the proxy could not be reached or refused the request",
    ExitCode.MALFORMED: "malformed response: broken status line, headers or body framing",
    ExitCode.NETWORK: "other connection failure (reset, closed early)",
    ExitCode.OUTPUT: "standard output could not be written (the reader went away)",
    ExitCode.FILE: "--download/--output: the file exists (no --overwrite) or cannot be written",
    ExitCode.RESUME_REFUSED: "--continue: the server did not resume (no 206 from the right byte)",
    ExitCode.WS_HANDSHAKE: "WebSocket: the server refused the handshake (no 101)",
    ExitCode.WS_CLOSED: "WebSocket: the server closed with a code other than 1000, or early",
    ExitCode.WS_PROTOCOL: "WebSocket: the server broke the protocol (bad frame or text)",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C)",
}


class UsageError(ValueError):
    """A mistake on the command line (exit code 2), found before any connection."""


class ExitError(Exception):
    """A failure that knows its exit code; ``cli.run.app`` prints it as one line."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


class Failure(NamedTuple):
    """How a request failed: the exit code and the one line that says so."""

    code: ExitCode
    message: str


def status_exit_code(status: int) -> ExitCode:
    """What ``--check-status`` makes of a final status code."""
    if 300 <= status < 400:
        return ExitCode.HTTP_3XX
    if 400 <= status < 500:
        return ExitCode.HTTP_4XX
    if 500 <= status < 600:
        return ExitCode.HTTP_5XX
    return ExitCode.OK


def help_table() -> str:
    """The exit-code list for ``--help`` (one line each, kept unwrapped)."""
    return "\n".join(f"  {int(code):>3}  {text}" for code, text in MEANINGS.items())


def markdown_table() -> str:
    """The README's exit-code table (a test keeps README in step with this)."""
    rows = [f"| {int(code)} | {text} |" for code, text in MEANINGS.items()]
    return "\n".join(["| code | meaning |", "| --- | --- |", *rows])
