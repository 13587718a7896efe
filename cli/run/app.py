"""One run of zurl without click: options in, exit code out.

``main`` parses the command line into ``Options`` (field names are the click parameter
names, so a new flag is one option in ``main`` plus one field here) and calls ``run``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, BinaryIO

from cli.env import Environment
from cli.exitcodes import ExitCode, ExitError, status_exit_code
from cli.messages import RequestMessage, ResponseEnd, ResponseMessage
from cli.output.plain import OutputError, OutputSpec, choose_output, feed, make_renderer
from cli.request.spec import Inputs, RequestSpec, UsageError, build_spec

if TYPE_CHECKING:
    from cli.run.failures import Failure


@dataclasses.dataclass(frozen=True, slots=True)
class Options:
    request: tuple[str, ...] = ()
    json_: bool = False
    form: bool = False
    multipart: bool = False
    auth: str | None = None
    auth_type: str = "basic"
    timeout: float | None = None
    connect_timeout: float | None = None
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
    # redirects and cookies (issue 4): cli/output/history.py, cli/request/cookies.py
    follow: bool = False
    max_redirects: int = 30
    all_: bool = False
    history: bool = False
    cookie_jar: str | None = None
    cookie: tuple[str, ...] = ()
    # TLS (issue 5): cli/command/tls.py, cli/output/certview.py
    verify: str | None = None
    insecure: bool = False
    cert: str | None = None
    cert_key: str | None = None
    cert_key_pass: str | None = None
    tls_min: str | None = None
    fingerprint: tuple[str, ...] = ()
    pin_pubkey: tuple[str, ...] = ()
    show_cert: bool = False
    # proxies (issue 6): cli/command/proxy.py
    proxy: str | None = None
    proxy_auth: str | None = None
    proxy_header: tuple[str, ...] = ()
    no_proxy: str | None = None
    no_env: bool = False
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
    trace: bool = False
    show_secrets: bool = False
    # bodies in and out (issue 9): cli/output/sinks.py, download.py, request/body_options.py
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
    # WebSocket mode (issue 10): cli/run/websocket.py
    binary: bool = False
    ws_send: tuple[str, ...] = ()
    ws_count: int | None = None
    ws_timeout: float | None = None


def parse_auth(
    value: str | None, env: Environment, auth_type: str = "basic"
) -> tuple[str, str] | None:
    """``user:pass``; a bare ``user`` asks for the password on a terminal. With
    ``-A bearer`` the whole value is the token."""
    if value is None:
        if auth_type != "basic":
            raise UsageError(f"--auth-type {auth_type} needs the credentials in --auth/-a")
        return None
    if auth_type == "bearer":
        return value, ""
    user, sep, password = value.partition(":")
    if sep:
        return user, password
    if not env.stdin_isatty:
        raise UsageError(f"--auth {user!r} has no password and there is no terminal to ask")
    import getpass

    return user, getpass.getpass(f"zurl: password for {user}: ")


def run(env: Environment, opts: Options) -> int:
    try:
        return _run(env, opts)
    except (UsageError, OutputError) as exc:
        env.error(f"error: {exc}")
        return ExitCode.USAGE
    except ExitError as exc:  # a download or WebSocket failure with its own code
        env.error(f"error: {exc}")
        return exc.code
    except KeyboardInterrupt:
        env.error("interrupted")
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``zurl URL | head``): stop quietly. Point stdout at
        # /dev/null so the interpreter's final flush does not complain again.
        _silence(env.stdout)
        return ExitCode.OUTPUT
    except Exception as exc:  # a bug in zurl: one line, or the traceback when asked
        if opts.traceback:
            import traceback

            env.stderr.write(traceback.format_exc().encode("utf-8", "replace"))
        env.error(f"internal error: {type(exc).__name__}: {exc} (a bug; --traceback shows where)")
        return ExitCode.INTERNAL


def _silence(stream: BinaryIO) -> None:
    import os

    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _run(env: Environment, opts: Options) -> int:
    to_stdout_report = opts.report == "-"
    out = choose_output(
        print_letters=opts.print_,
        headers=opts.headers,
        body=opts.body,
        verbose=opts.verbose,
        quiet=opts.quiet or (to_stdout_report and opts.print_ is None),
        pretty=opts.pretty,
        style=opts.style,
        raw_headers=opts.raw_headers,
        stdout_isatty=env.stdout_isatty,
        offline=opts.offline,
        colors_allowed=env.colors != "none" or opts.pretty in ("all", "colors"),
    )
    if out.colors:
        from cli.output.styled import check_style

        check_style(out.style)
    args, websocket = opts.request, False
    if any(word[:2].lower() == "ws" for word in opts.request[:2]):
        from cli.run.websocket import as_http  # ws:// and wss:// URLs: the handshake is HTTP

        args, websocket = as_http(opts.request)
    from cli.run import multi  # several URLs, --urls-from, --repeat (one URL: the usual path)

    targets = multi.targets(env, opts, args)
    spec = build_spec(
        Inputs(
            args=targets.args,
            form=opts.form,
            multipart=opts.multipart,
            json=opts.json_,
            auth=parse_auth(opts.auth, env, opts.auth_type),
            auth_type=opts.auth_type,
            timeout=opts.timeout,
            connect_timeout=opts.connect_timeout,
            ignore_stdin=opts.ignore_stdin or targets.stdin_used,
            stdin_has_data=env.stdin_has_data,
            read_stdin=env.stdin.read,
            raw=opts.raw,
            boundary=opts.boundary,
        )
    )
    from cli.output.sinks import prepared

    spec = prepared(spec, opts)
    spec = _with_plans(spec, opts)
    specs = multi.expand(spec, targets, opts)  # the connection plan, other URLs, --repeat
    spec = specs[0]
    from cli.output.sinks import check_single

    check_single(len(specs), opts)
    if opts.offline:
        from cli.run.exchange import planned_request

        renderer = make_renderer(env.stdout, out, env.columns)
        for each in specs:
            renderer.message(planned_request(each))
        renderer.close()
        return ExitCode.OK
    import asyncio  # only now: --offline and usage errors never pay for it

    report = _open_report(opts.report, env)
    try:
        if websocket:
            from cli.run.websocket import run as run_websocket

            return run_websocket(env, opts, spec, out, report)
        if multi.is_multi(specs, opts):
            return asyncio.run(multi.run_all(env, opts, specs, out, report))
        return asyncio.run(_exchange(env, opts, spec, out, report))
    finally:
        if report is not None and report is not env.stdout:
            report.close()


def _with_plans(spec: RequestSpec, opts: Options) -> RequestSpec:
    """Redirects, cookies, TLS and proxies (issues 4-6: cli/request/cookies.py, tls_options.py,
    proxy_options.py): checked here, before any connection."""
    from cli.command import proxy as proxy_options
    from cli.command import tls as tls_options
    from cli.request import cookies

    return dataclasses.replace(
        spec,
        headers=cookies.with_cookies(spec.headers, opts.cookie),
        follow=opts.follow,
        max_redirects=opts.max_redirects,
        cookie_jar=cookies.check_jar_path(opts.cookie_jar) if opts.cookie_jar else None,
        tls=tls_options.plan_from(opts),
        proxy=proxy_options.plan_from(opts, spec.url),
    )


def _open_report(path: str | None, env: Environment) -> BinaryIO | None:
    if path is None:
        return None
    if path == "-":
        return env.stdout
    try:
        return open(path, "wb")  # closed by _run
    except OSError as exc:
        raise UsageError(f"--report {path!r}: {exc.strerror or exc}") from None


async def _exchange(
    env: Environment, opts: Options, spec: RequestSpec, out: OutputSpec, report: BinaryIO | None
) -> int:
    from cli.output.sinks import renderer_for
    from cli.run import exchange

    renderer = renderer_for(env, opts, out)
    pending: RequestMessage | None = None
    hops: list[tuple[RequestMessage, ResponseMessage]] = []
    body_size: int | None = None
    from cli.timings import Tracing  # --trace, -v's event log, the report's timings

    tracing = Tracing(env, opts, reporting=report is not None)
    from cli.run import diagnostics  # -v's proxy line, --history, --show-cert

    diagnostics.before(env, opts, spec)
    messages = exchange.run(spec, stream=renderer.streams, trace_configs=tracing.configs)
    try:
        while True:
            # Only the exchange's failures become network exit codes; a failure to write
            # the output (a closed pipe) propagates to run().
            try:
                msg = await anext(messages)
            except StopAsyncIteration:
                break
            except Exception as exc:  # every engine failure becomes an exit code
                if pending is None:
                    # Nothing was seen on the wire: -v still shows what was attempted.
                    renderer.message(exchange.planned_request(spec))
                failure = _failed(env, opts, spec, exc)
                _report_failure(report, spec, failure, exc)
                await diagnostics.after_failure(env, opts, spec, exc, failure, hops)
                return failure.code
            if opts.all_ or not getattr(msg, "redirect_hop", False):  # hops only with --all
                feed(renderer, msg)
            if isinstance(msg, RequestMessage):
                pending = msg
            elif isinstance(msg, ResponseMessage) and pending is not None:
                hops.append((pending, msg))
            elif isinstance(msg, ResponseEnd) and hops:
                request, response = hops[-1]
                hops[-1] = (request, dataclasses.replace(response, elapsed=msg.elapsed))
                body_size = msg.size
    finally:
        await messages.aclose()
        renderer.close()
        tracing.show()
    diagnostics.after_success(env, opts, hops)
    if report is not None and hops:
        from cli.output import report as reporting

        request, response = hops[-1]
        record = reporting.record(request, response, hops[:-1], body_size)
        record["timings"] = tracing.timings()
        record.update(diagnostics.report_extras(spec))
        reporting.write(report, record)
    return _status_code(env, opts, hops[-1][1] if hops else None)


def _failed(env: Environment, opts: Options, spec: RequestSpec, exc: Exception) -> Failure:
    from cli.run.exchange import where
    from cli.run.failures import describe

    failure = describe(exc, where(spec.url))
    if failure.code == ExitCode.TIMEOUT:
        failure = _with_limits(failure, spec)
    if opts.traceback:
        import traceback

        env.stderr.write(traceback.format_exc().encode("utf-8", "replace"))
    env.error(failure.message)
    return failure


def _with_limits(failure: Failure, spec: RequestSpec) -> Failure:
    """Say which limits were in force, so the user knows which one to raise."""
    limits = [
        f"{flag} {value:g}s"
        for flag, value in (
            ("--timeout", spec.timeout),
            ("--connect-timeout", spec.connect_timeout),
        )
        if value is not None
    ]
    if not limits:
        return failure
    return dataclasses.replace(failure, message=f"{failure.message} ({', '.join(limits)})")


def _report_failure(
    report: BinaryIO | None, spec: RequestSpec, failure: Failure, exc: BaseException | None = None
) -> None:
    if report is None:
        return
    from cli.output import report as reporting
    from cli.run.diagnostics import report_extras

    record = reporting.failure_record(spec.method, spec.url, failure)
    reporting.write(report, {**record, **report_extras(spec, exc)})


def _status_code(env: Environment, opts: Options, final: ResponseMessage | None) -> int:
    if final is None or not opts.check_status:
        return ExitCode.OK
    code = status_exit_code(final.status)
    if code != ExitCode.OK and not env.stdout_isatty:
        env.error(f"warning: HTTP {final.status} {final.reason}")
    return code
