"""``--report``: one JSON object per request, the machine-readable view of an exchange.

Later options add keys in ``record`` (timings, certificate); a key is never renamed. The
values come from ``cli.messages`` and plain dicts: the run layer reads the engine.
"""

from __future__ import annotations

import json
from typing import Any, BinaryIO

from cli.exitcodes import Failure
from cli.masking import mask_record
from cli.messages import Headers, RequestMessage, ResponseMessage
from cli.output.certview import tls_record
from cli.output.history import report_hops


def headers_object(headers: Headers) -> dict[str, str | list[str]]:
    """Name → value; a repeated header (Set-Cookie) becomes a list in received order."""
    out: dict[str, str | list[str]] = {}
    for name, value in headers:
        if name not in out:
            out[name] = value
            continue
        prior = out[name]
        out[name] = [*prior, value] if isinstance(prior, list) else [prior, value]
    return out


def record(
    request: RequestMessage,
    response: ResponseMessage,
    hops: list[tuple[RequestMessage, ResponseMessage]] | None = None,
    body_size: int | None = None,
    certificate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The report of one request; ``body_size`` for a body that was streamed, not kept;
    ``certificate``: the summary of the final response's certificate (https://)."""
    return {
        "method": request.method,
        "url": request.url,
        "status": response.status,
        "reason": response.reason,
        "http_version": response.http_version,
        "alpn": None if response.tls is None else response.tls.alpn,
        "headers": headers_object(response.headers),
        "body_size": len(response.body) if body_size is None else body_size,
        "elapsed": round(response.elapsed, 6),
        "remote_address": response.remote_address,
        "reused_connection": response.reused_connection,
        # Per hop: method, url, status, elapsed, dropped (cli/output/history.py).
        "redirects": report_hops([*(hops or []), (request, response)]),
        "tls": None if response.tls is None else tls_record(response.tls, certificate),
    }


def failure_record(method: str, url: str, failure: Failure) -> dict[str, Any]:
    """The record of a request that got no response: the status is null."""
    return {
        "method": method,
        "url": url,
        "status": None,
        "error": failure.message,
        "exit_code": int(failure.code),
    }


def write(stream: BinaryIO, obj: dict[str, Any]) -> None:
    """One JSON line, as it is (see ``Report`` for the masked one)."""
    stream.write(json.dumps(obj, ensure_ascii=False).encode("utf-8") + b"\n")
    stream.flush()


class Report:
    """The ``--report`` channel: one JSON line per ``write``, secrets masked (every URL,
    header and error line, by cli/masking.py) unless ``show_secrets``."""

    def __init__(self, stream: BinaryIO, *, show_secrets: bool = False) -> None:
        self.stream = stream
        self._show_secrets = show_secrets

    def write(self, obj: dict[str, Any]) -> None:
        write(self.stream, obj if self._show_secrets else mask_record(obj))
