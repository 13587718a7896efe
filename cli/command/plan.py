"""``Options`` → one ``RunPlan``: every flag read once, here, and turned into the small
frozen plans the rest of zurl works from (cli/run/plans.py).

Rules:
- Everything the user typed is checked before any connection: a mistake is a
  ``UsageError`` (exit 2) naming the flag; a download that would replace a file is exit 20.
- The order of the checks is the order of the command line's concerns: output flags,
  the URLs and items, the body options, cookies and redirects, TLS, proxies, connections.
- Standard input is read here only when the plan needs it (``--urls-from -``, ``@-``, a
  piped body); a password is asked for only on a terminal.
- Nothing below this package sees ``Options``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.command.options import Options
from cli.env import Environment
from cli.exitcodes import UsageError
from cli.output.parts import OutputSpec, choose_output
from cli.output.sinks import BodyPlan
from cli.request.spec import Inputs, RequestSpec, build_spec
from cli.request.targets import expand, targets
from cli.run.app import guarded, run
from cli.run.plans import RunPlan, SessionPlan, ShowPlan, TracePlan, WebSocketPlan

if TYPE_CHECKING:
    from cli.output.download import DownloadPlan
    from cli.request.sessions import Session
    from cli.run.retry import RetryPlan


def execute(env: Environment, opts: Options) -> int:
    """Plan the run and carry it out; the exit code (usage errors included)."""
    env = env._replace(show_secrets=opts.show_secrets)
    return guarded(env, lambda: run(env, plan_run(env, opts)), traceback=opts.traceback)


def plan_run(env: Environment, opts: Options) -> RunPlan:
    """The whole run ``opts`` asks for, checked."""
    out = _output(env, opts)
    args, websocket = opts.request, False
    if any(word[:2].lower() == "ws" for word in opts.request[:2]):
        from cli.request.urls import as_http  # ws:// and wss:// URLs: the handshake is HTTP

        args, websocket = as_http(opts.request)
    found = targets(args, opts.urls_from, env.stdin.read)
    for hint in found.hints:
        env.error(hint)
    _idle_redirect_flags(env, opts)
    stored = _stored_session(env, opts, found.args)
    spec = build_spec(
        Inputs(
            args=found.args,
            form=opts.form,
            multipart=opts.multipart,
            json=opts.json_,
            auth=parse_auth(opts.auth, env, opts.auth_type),
            auth_type=opts.auth_type,
            ignore_stdin=opts.ignore_stdin or found.stdin_used,
            stdin_has_data=env.stdin_has_data,
            read_stdin=env.stdin.read,
            raw=opts.raw,
            boundary=opts.boundary,
            base_headers=stored.headers if stored is not None else (),
        )
    )
    if stored is not None:  # its credentials, and what the run will write back
        from cli.request.sessions import apply

        spec, stored = apply(spec, stored)
    if spec.stdin_unread and not websocket and env.stdin_waiting():
        from cli.request.spec import STDIN_NOTE

        env.error(STDIN_NOTE)
    spec, body = _body(spec, opts)
    spec, session = _session(spec, opts, body.download is not None, stored)
    specs = tuple(expand(spec, found, opts.repeat or 1))
    _check_single(len(specs), opts)
    return RunPlan(
        requests=specs,
        session=session,
        show=_show(env, opts, out),
        body=body,
        report=opts.report,
        check_status=opts.check_status,
        offline=opts.offline,
        multi=len(specs) > 1 or opts.summary,
        retry=_retry(opts),
        websocket=_websocket(env, opts) if websocket else None,
    )


def _stored_session(env: Environment, opts: Options, args: tuple[str, ...]) -> Session | None:
    """--session / --session-read-only: the session for the (first) URL, read now."""
    name = opts.session if opts.session is not None else opts.session_read_only
    if name is None:
        return None
    if opts.session is not None and opts.session_read_only is not None:
        raise UsageError("--session and --session-read-only: give one of them")
    from cli.request.sessions import load
    from cli.request.urls import normalize_url, split_args

    url = normalize_url(split_args(args)[1])
    stored = load(name, url, read_only=opts.session_read_only is not None or opts.offline)
    if stored.note:
        env.error(stored.note)
    return stored


def _retry(opts: Options) -> RetryPlan | None:
    """--retry N and its companions (which need it)."""
    if opts.retry is None:
        for flag, given in (
            ("--retry-delay", opts.retry_delay is not None),
            ("--retry-max-time", opts.retry_max_time is not None),
            ("--retry-all-errors", opts.retry_all_errors),
        ):
            if given:
                raise UsageError(f"{flag} needs --retry N")
        return None
    if opts.retry == 0:
        return None
    from cli.run.retry import RetryPlan

    delay = 1.0 if opts.retry_delay is None else opts.retry_delay
    return RetryPlan(opts.retry, delay, opts.retry_max_time, opts.retry_all_errors)


def _idle_redirect_flags(env: Environment, opts: Options) -> None:
    """--history, --all and --max-redirects are about followed redirects: without
    --follow they would do nothing, and saying nothing would hide it."""
    if opts.follow:
        return
    given = [
        flag
        for flag, on in (
            ("--history", opts.history),
            ("--all", opts.all_),
            ("--max-redirects", opts.max_redirects is not None),
        )
        if on
    ]
    if given:
        flags = " and ".join(given) if len(given) < 3 else "--history, --all and --max-redirects"
        verb = "does" if len(given) == 1 else "do"
        env.error(f"warning: {flags} {verb} nothing without --follow/-F")


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


def _output(env: Environment, opts: Options) -> OutputSpec:
    """What to print and how (``--report -`` takes stdout unless ``--print`` says more)."""
    out = choose_output(
        print_letters=opts.print_,
        headers=opts.headers,
        body=opts.body,
        verbose=opts.verbose,
        quiet=opts.quiet or (opts.report == "-" and opts.print_ is None),
        pretty=opts.pretty,
        style=opts.style,
        raw_headers=opts.raw_headers,
        stdout_isatty=env.stdout_isatty,
        offline=opts.offline,
        colors_allowed=env.colors != "none" or opts.pretty in ("all", "colors"),
        show_secrets=opts.show_secrets,
    )
    if out.colors:
        from cli.output.styled import check_style

        check_style(out.style)
    return out


def _show(env: Environment, opts: Options, out: OutputSpec) -> ShowPlan:
    trace = TracePlan(
        waterfall=opts.trace,
        event_log=opts.verbose,
        show_secrets=opts.show_secrets,
        colors=env.stderr_isatty and env.colors != "none",
        h2c=opts.http2_prior_knowledge and not opts.http1_1,
    )
    return ShowPlan(
        out=out,
        trace=trace,
        all_hops=opts.all_,
        history=opts.history,
        show_cert=opts.show_cert,
        proxy_line=opts.verbose,
        show_secrets=opts.show_secrets,
        summary=opts.summary,
        progress=not opts.verbose,  # -v's event log has stderr to itself
        traceback=opts.traceback,
    )


def _body(spec: RequestSpec, opts: Options) -> tuple[RequestSpec, BodyPlan]:
    """--compress, --chunked and a download's headers applied to ``spec``; where the
    response body goes: a file (checked now), stdout line by line, or retyped."""
    if opts.response_mime is not None or opts.response_charset is not None:
        from cli.output.retype import check_response_type

        check_response_type(opts.response_mime, opts.response_charset)
    download: DownloadPlan | None = None
    wants_download = opts.download or opts.output is not None or opts.continue_ or opts.overwrite
    if not (opts.boundary is not None or opts.compress or opts.chunked or wants_download):
        return spec, BodyPlan(None, opts.stream, opts.response_mime, opts.response_charset)
    from cli.request import body_options

    body_options.check_boundary(opts.boundary)
    spec = body_options.compress(spec, opts.compress)
    if opts.chunked:
        spec = body_options.chunked(spec)
    if wants_download:
        from cli.output.download import make_plan, preflight

        download = make_plan(
            download=opts.download,
            output=opts.output,
            resume=opts.continue_,
            overwrite=opts.overwrite,
            quiet=opts.quiet,
        )
        if download is not None:
            download = preflight(download)
            spec = body_options.for_download(spec, download.offset)
    return spec, BodyPlan(download, opts.stream, opts.response_mime, opts.response_charset)


def _session(
    spec: RequestSpec, opts: Options, download: bool, stored: Session | None = None
) -> tuple[RequestSpec, SessionPlan]:
    """Cookies, redirects, then how to connect: TLS, proxies, connections (each checked)."""
    from cli.command.connect import connect_plan
    from cli.command.proxy import proxy_plan
    from cli.command.tls import tls_plan

    headers = spec.headers
    if opts.cookie:
        from cli.request.cookies import with_cookies

        headers = with_cookies(headers, opts.cookie)
    redirects = 30 if opts.max_redirects is None else opts.max_redirects
    spec = spec._replace(headers=headers, follow=opts.follow, max_redirects=redirects)
    jar = None
    if opts.cookie_jar:
        from cli.run.jar import check_jar_path

        jar = check_jar_path(opts.cookie_jar)
    tls = tls_plan(opts)
    proxy = proxy_plan(opts, spec.url)
    session = SessionPlan(
        timeout=opts.timeout,
        connect_timeout=opts.connect_timeout,
        connect=connect_plan(opts),
        tls=tls,
        proxy=proxy,
        cookie_jar=jar,
        digest=spec.auth if spec.auth_type == "digest" else None,
        unbounded_bodies=download,
        netrc=not opts.ignore_netrc and spec.auth is None,
        session_file=stored,
    )
    return spec, session


def _check_single(count: int, opts: Options) -> None:
    """Downloads and line streaming are about one response: refuse them for several."""
    if count < 2:
        return
    for flag, given in (
        ("--download", opts.download),
        ("--output", opts.output is not None),
        ("--stream", opts.stream),
    ):
        if given:
            raise UsageError(f"{flag} takes a single URL ({count} requests were given)")


def _websocket(env: Environment, opts: Options) -> WebSocketPlan:
    reads = not opts.ws_send and not opts.ignore_stdin
    return WebSocketPlan(
        send=opts.ws_send,
        binary=opts.binary,
        stop_after=opts.ws_count,
        timeout=opts.ws_timeout,
        read_stdin=reads and (env.stdin_isatty or env.stdin_has_data),
    )
