"""``--offline``: print the requests a run would send, and send nothing.

The engine is never imported: the request is described from its spec alone. The engine
may add headers of its own (Accept-Encoding, for one) when it really sends.
"""

from __future__ import annotations

from cli.env import Environment
from cli.messages import RequestMessage
from cli.output.parts import OutputSpec
from cli.output.plain import make_renderer
from cli.request.spec import RequestSpec
from cli.request.urls import host_header, target_of


def planned_request(spec: RequestSpec) -> RequestMessage:
    """The request as it would be sent, without the engine."""
    headers = [("Host", host_header(spec.url)), *spec.headers]
    if spec.auth is not None and spec.auth_type == "basic":
        import base64

        creds = base64.b64encode(f"{spec.auth[0]}:{spec.auth[1]}".encode()).decode()
        headers.append(("Authorization", f"Basic {creds}"))
    elif spec.auth is not None and spec.auth_type == "bearer":
        headers.append(("Authorization", f"Bearer {spec.auth[0]}"))
    # Digest credentials answer the server's challenge: nothing to plan before it comes.
    if spec.body is not None and spec.chunked:
        headers.append(("Transfer-Encoding", "chunked"))
    elif spec.body is not None:
        headers.append(("Content-Length", str(len(spec.body))))
    return RequestMessage(spec.method, spec.url, target_of(spec.url), tuple(headers), spec.body)


def show(env: Environment, specs: tuple[RequestSpec, ...], out: OutputSpec) -> int:
    """Render every request of the run; the exit code (0)."""
    renderer = make_renderer(env.stdout, out, env.columns)
    for spec in specs:
        renderer.message(planned_request(spec))
    renderer.close()
    return 0
