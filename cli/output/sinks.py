"""Where the response body goes: the normal renderer, line by line, or a file.

Chosen once per run from the options: ``--download``/``--output`` save it
(``cli.output.download``), ``--stream`` or a ``text/event-stream`` response print it line by
line (``cli.output.streaming``), ``--response-mime``/``--response-charset`` retype it for
display (``cli.request.body_options``).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from cli.env import Environment
from cli.output.plain import OutputSpec, Renderer, make_renderer
from cli.output.streaming import LineRenderer
from cli.request.spec import RequestSpec, UsageError

if TYPE_CHECKING:
    from cli.output.download import Plan
    from cli.run.app import Options


def download_plan(opts: Options) -> Plan | None:
    """The download the options ask for (None: none); usage errors raised here."""
    if not (opts.download or opts.output is not None or opts.continue_ or opts.overwrite):
        return None
    from cli.output.download import make_plan

    return make_plan(
        download=opts.download,
        output=opts.output,
        resume=opts.continue_,
        overwrite=opts.overwrite,
        quiet=opts.quiet,
    )


def renderer_for(env: Environment, opts: Options, out: OutputSpec) -> Renderer:
    plan = download_plan(opts)
    if plan is not None:
        from cli.output.download import DownloadSink

        # The body goes to the file; stdout keeps the heads (none when it is the file).
        parts = "" if plan.output == "-" else out.parts.replace("b", "")
        heads = make_renderer(env.stdout, dataclasses.replace(out, parts=parts), env.columns)
        return DownloadSink(env, plan, heads)
    renderer: Renderer = LineRenderer(
        make_renderer(env.stdout, out, env.columns), env.stdout, out, always=opts.stream
    )
    if opts.response_mime is not None or opts.response_charset is not None:
        from cli.request.body_options import Retyped

        renderer = Retyped(renderer, opts.response_mime, opts.response_charset)
    return renderer


def prepared(spec: RequestSpec, opts: Options) -> RequestSpec:
    """``spec`` with the body options applied: --compress, --chunked, a download's headers."""
    from cli.request.body_options import check_boundary, check_response_type, compress

    check_response_type(opts.response_mime, opts.response_charset)
    check_boundary(opts.boundary)
    spec = compress(spec, opts.compress)
    if opts.chunked:
        spec = dataclasses.replace(spec, chunked=True)
    plan = download_plan(opts)
    if plan is not None:
        from cli.output.download import prepare

        spec = prepare(spec, plan)
    return spec


def check_single(count: int, opts: Options) -> None:
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
