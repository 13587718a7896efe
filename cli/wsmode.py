"""WebSocket mode: ``zurl ws://host/path`` and ``wss://``, interactive or one-shot.

Rules:
- The handshake is the HTTP request ``spec`` describes (headers, auth and every
  connection option as for HTTP): it is built by ``build_spec`` from the http(s) form of
  the URL, and sent with the same session and request options ``exchange`` uses.
- What is sent: a first message from data items (``a=1 n:=2`` → ``{"a": "1", "n": 2}``),
  then each ``--ws-send MSG``, or else each line of standard input (a terminal or a
  pipe; never /dev/null or with ``--ignore-stdin``). ``--binary`` sends bytes, not text.
- What is shown: each message as it arrives, on stdout: raw, one per line, when piped;
  JSON pretty-printed on a terminal, and binary messages as a note there. ``-v`` adds
  the connection, pings, pongs and the close on stderr (we answer pings ourselves then).
- When it ends: after ``--ws-count N`` messages; when the server closes; when no message
  arrived for ``--ws-timeout`` seconds (default: 1 s, once everything was sent). Exit 0
  for a close we started or the server's 1000; ``WS_CLOSED``, ``WS_PROTOCOL``,
  ``WS_HANDSHAKE``, ``TIMEOUT`` (count not reached) or a connection code otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.env import Environment
from cli.exitcodes import ExitCode
from cli.output import OutputSpec
from cli.spec import RequestSpec

if TYPE_CHECKING:
    from cli.app import Options

_WS_SCHEMES = {"ws": "http", "wss": "https"}
_HTTP_SCHEMES = {"http": "ws", "https": "wss"}
# Handshake headers the request items' body would add: meaningless for an upgrade.
_BODY_HEADERS = {"content-type", "content-length"}
# Request options that are ws_connect's own or make no sense for a handshake.
_NOT_FOR_HANDSHAKE = ("headers", "allow_redirects", "data", "chunked", "compress")


def as_http(args: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """The arguments with a ws:// or wss:// URL as http(s)://, and whether one was found."""
    for index, word in enumerate(args[:2]):
        scheme, sep, rest = word.partition("://")
        if sep and scheme.lower() in _WS_SCHEMES:
            http = f"{_WS_SCHEMES[scheme.lower()]}://{rest}"
            return (*args[:index], http, *args[index + 1 :]), True
    return args, False


def ws_url(http_url: str) -> str:
    scheme, _, rest = http_url.partition("://")
    return f"{_HTTP_SCHEMES.get(scheme.lower(), scheme)}://{rest}"


def run(env: Environment, opts: Options, spec: RequestSpec, out: OutputSpec) -> int:
    import asyncio  # only now: plain HTTP runs import this module for as_http alone

    return asyncio.run(_session(env, opts, spec, out))


def _fail(env: Environment, opts: Options, code: int, message: str) -> int:
    if opts.traceback:
        import traceback

        env.stderr.write(traceback.format_exc().encode("utf-8", "replace"))
    env.error(message)
    return code


async def _session(env: Environment, opts: Options, spec: RequestSpec, out: OutputSpec) -> int:
    from multidict import CIMultiDict

    import client
    from cli import exchange
    from cli.failures import describe
    from cli.wstalk import Conversation

    url = ws_url(spec.url)
    where = exchange.where(spec.url)
    headers = CIMultiDict((k, v) for k, v in spec.headers if k.lower() not in _BODY_HEADERS)
    # The same per-request options as HTTP (auth, proxies, TLS, ...) from one place.
    extra = {
        k: v for k, v in exchange._request_options(spec).items() if k not in _NOT_FOR_HANDSHAKE
    }
    async with exchange.open_session(spec) as session:
        try:
            ws = await session.ws_connect(url, headers=headers, autoping=not opts.verbose, **extra)
        except client.WSServerHandshakeError as exc:
            reason = f"HTTP {exc.status}" + (f" {exc.message}" if exc.message else "")
            return _fail(env, opts, ExitCode.WS_HANDSHAKE, f"{where}: handshake refused: {reason}")
        except Exception as exc:  # every engine failure becomes an exit code
            failure = describe(exc, where)
            return _fail(env, opts, failure.code, failure.message)
        if opts.verbose:
            protocol = f" (subprotocol {ws.protocol})" if ws.protocol else ""
            env.error(f"connected to {url}{protocol}")
        try:
            return await Conversation(env, opts, out, ws, where).run(spec.body)
        except Exception as exc:
            failure = describe(exc, where)
            return _fail(env, opts, failure.code, failure.message)
        finally:
            await ws.close()
