"""exchange: a RequestSpec on the engine yields the request as sent, then the response."""

from __future__ import annotations

import json
from typing import Any

from cli.messages import BodyChunk, RequestMessage, ResponseEnd, ResponseMessage, where
from cli.request.spec import Inputs, build_spec
from cli.request.urls import host_header, target_of
from cli.run.exchange import run
from cli.run.offline import planned_request


async def collect(*args: str) -> list[RequestMessage | ResponseMessage]:
    return [msg async for msg in run(build_spec(Inputs(args=args)))]


async def test_yields_request_then_response(httpbin: Any) -> None:
    request, response = await collect(f"{httpbin.url}/anything?x=1", "a=1", "X-T:v")
    assert isinstance(request, RequestMessage)
    assert isinstance(response, ResponseMessage)
    assert (request.method, request.target) == ("POST", "/anything?x=1")
    sent = dict(request.headers)
    assert sent["X-T"] == "v"
    assert sent["Content-Type"] == "application/json"
    assert request.body == b'{"a": "1"}'
    assert (response.status, response.reason, response.http_version) == (200, "OK", "1.1")
    assert json.loads(response.body)["json"] == {"a": "1"}
    assert response.remote_address is not None
    assert response.remote_address.startswith("127.0.0.1:")
    assert response.elapsed > 0
    assert response.raw_headers  # as received, for --raw-headers
    assert response.reused_connection is False


async def test_streamed_body(httpbin: Any) -> None:
    spec = build_spec(Inputs(args=(f"{httpbin.url}/bytes/50000?seed=1",)))
    events = [event async for event in run(spec, stream=True)]
    head = events[1]
    assert isinstance(head, ResponseMessage) and head.streamed and head.body == b""
    chunks = [e.data for e in events[2:-1] if isinstance(e, BodyChunk)]
    end = events[-1]
    assert isinstance(end, ResponseEnd)
    assert end.size == len(b"".join(chunks)) == 50000
    whole = [e async for e in run(spec)][1]
    assert isinstance(whole, ResponseMessage)
    assert b"".join(chunks) == whole.body


async def test_redirects_are_not_followed(httpbin: Any) -> None:
    _, response = await collect(f"{httpbin.url}/redirect-to?url=/get")
    assert isinstance(response, ResponseMessage)
    assert response.status == 302


async def test_decoded_body(httpbin: Any) -> None:
    _, response = await collect(f"{httpbin.url}/gzip")
    assert isinstance(response, ResponseMessage)
    assert json.loads(response.body)["gzipped"] is True


def test_planned_request() -> None:
    spec = build_spec(Inputs(args=("PUT", "https://h.example:8443/p?q=1", "a=1"), auth=("u", "p")))
    msg = planned_request(spec)
    assert msg.target == "/p?q=1"
    assert msg.headers[0] == ("Host", "h.example:8443")
    assert ("Authorization", "Basic dTpw") in msg.headers
    assert ("Content-Length", "10") in msg.headers


def test_url_helpers() -> None:
    assert target_of("http://h") == "/"
    assert target_of("http://h/a/b?c=d") == "/a/b?c=d"
    assert host_header("http://h:80/") == "h"
    assert host_header("https://[::1]:8443/") == "[::1]:8443"
    assert where("https://h/") == "h:443"
    assert where("http://[::1]/") == "[::1]:80"
