"""--report records: field names and header folding."""

from __future__ import annotations

import io
import json

from cli.exitcodes import ExitCode, Failure
from cli.messages import RequestMessage, ResponseMessage
from cli.output.report import failure_record, headers_object, record, write


def test_repeated_headers_become_lists() -> None:
    headers = (("Set-Cookie", "a=1"), ("X", "1"), ("Set-Cookie", "b=2"), ("Set-Cookie", "c=3"))
    assert headers_object(headers) == {"Set-Cookie": ["a=1", "b=2", "c=3"], "X": "1"}


def test_record_fields() -> None:
    req = RequestMessage("GET", "http://h/x", "/x", ())
    hop = ResponseMessage("http://h/x", 302, "Found", (("Location", "/y"),), b"")
    resp = ResponseMessage(
        "http://h/y",
        200,
        "OK",
        (("A", "1"),),
        b"abc",
        elapsed=0.1234567,
        remote_address="127.0.0.1:1",
        reused_connection=True,
    )
    obj = record(req, resp, [(req, hop)])
    assert obj == {
        "method": "GET",
        "url": "http://h/x",
        "status": 200,
        "reason": "OK",
        "http_version": "1.1",
        "alpn": None,
        "headers": {"A": "1"},
        "body_size": 3,
        "elapsed": 0.123457,
        "remote_address": "127.0.0.1:1",
        "reused_connection": True,
        "redirects": [
            {"method": "GET", "url": "http://h/x", "status": 302, "elapsed": 0.0, "dropped": []}
        ],
        "tls": None,
    }


def test_failure_record_and_json_lines() -> None:
    stream = io.BytesIO()
    write(stream, failure_record("GET", "http://h/", Failure(ExitCode.DNS, "cannot resolve h:80")))
    write(stream, {"n": 2})
    first, second = stream.getvalue().splitlines()
    assert json.loads(first) == {
        "method": "GET",
        "url": "http://h/",
        "status": None,
        "error": "cannot resolve h:80",
        "exit_code": 10,
    }
    assert json.loads(second) == {"n": 2}
