"""Many requests in one run: several URLs, ``--urls-from``, ``--repeat``, on one session.

Rules:
- Grammar: ``zurl [METHOD] URL [URL ...] [ITEM ...]``. After the first URL, each word that
  is unmistakably a URL — it has a scheme (``https://``), is the ``:port``/``:/path``
  shorthand, or is not a request item at all (``example.org/x``) — is another URL, up to
  the first item. ``host:8080`` reads as a header item there: write ``http://host:8080``.
  The method and the items apply to every URL; ``--urls-from`` URLs come after them.
- Every request starts at once on one shared session; the connector's limits (``--limit``,
  ``--limit-per-host``) decide how many run together, the rest wait in its queue.
- Output keeps the command line's order: each response is rendered when it and all the
  ones before it are done. With ``--summary`` only the table is printed (on stdout).
- Failures print one stderr line per distinct message (with a count). The exit code is the
  first failed request's, else ``--check-status``'s for the first response that fails it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections import Counter
from typing import TYPE_CHECKING, Any, BinaryIO

from cli.exitcodes import ExitCode, status_exit_code
from cli.messages import Event, RequestMessage, ResponseEnd, ResponseMessage
from cli.request.items import ItemError, Kind, looks_like_item, parse_items
from cli.request.spec import KNOWN_METHODS, RequestSpec, UsageError, normalize_url, split_args

if TYPE_CHECKING:
    from cli.env import Environment
    from cli.output.plain import OutputSpec
    from cli.output.summary import Outcome
    from cli.run.app import Options
    from cli.run.failures import Failure
    from cli.timings import Tracing

_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_BARE_URL = re.compile(
    r"^(\[[0-9a-fA-F:.]+\]|localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?)(:\d+)?([/?#]\S*)?$"
)
# At most this many requests are handed to the pool at once, so a file of a million URLs
# does not become a million waiting tasks (the pool's own limit is usually far lower).
IN_FLIGHT = 1000


@dataclasses.dataclass(frozen=True, slots=True)
class Targets:
    """The command line split for ``build_spec`` (one URL) plus the other URLs."""

    args: tuple[str, ...]  # [METHOD] URL ITEM...
    more: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    stdin_used: bool = False  # --urls-from - read standard input


def _looks_like_url(word: str) -> bool:
    if _SCHEME.match(word):
        return True
    if word.startswith(":") and (len(word) == 1 or word[1].isdigit() or word[1] == "/"):
        return True
    # A host with a dot (or localhost, or [v6]) and nothing else an item could be: a typo
    # such as ``Bad Header:x`` stays an item and fails as one.
    return bool(_BARE_URL.match(word)) and not looks_like_item(word)


def _has_method(words: list[str], more_urls: bool) -> bool:
    first = words[0]
    if not (first.isascii() and first.isalpha()):
        return False
    if len(words) >= 2:
        return split_args(tuple(words))[0] is not None
    return more_urls and (first.upper() in KNOWN_METHODS or first.isupper())


def read_urls(path: str | None, env: Environment) -> list[str]:
    """The URLs of ``--urls-from``: one per line; blank lines and ``#`` comments skipped."""
    if path is None:
        return []
    if path == "-":
        data = env.stdin.read()
    else:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise UsageError(f"--urls-from {path!r}: {exc.strerror or exc}") from None
    text = data.decode("utf-8", "replace")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def targets(env: Environment, opts: Options, args: tuple[str, ...]) -> Targets:
    """Split ``args`` (the positional words) into the first request and the other URLs."""
    words = list(args)
    if opts.urls_from == "-" and any(word.endswith("@-") for word in words):
        raise UsageError("--urls-from - and an @- item cannot both read standard input")
    listed = read_urls(opts.urls_from, env)
    if opts.urls_from is not None and not listed:
        raise UsageError(f"--urls-from {opts.urls_from!r}: no URLs in it")
    method = words[:1] if words and _has_method(words, bool(listed)) else []
    rest = words[len(method) :]
    urls: list[str] = []
    if rest and not (listed and looks_like_item(rest[0]) and not _SCHEME.match(rest[0])):
        urls.append(rest.pop(0))
        while rest and _looks_like_url(rest[0]):
            urls.append(rest.pop(0))
    urls += listed
    if not urls:
        return Targets(tuple(words))  # build_spec names the missing URL
    return Targets((*method, urls[0], *rest), tuple(urls[1:]), tuple(rest), opts.urls_from == "-")


def _query(words: tuple[str, ...]) -> list[tuple[str, str]]:
    from cli.request.spec import read_file

    try:
        items = parse_items(list(words))
    except ItemError as exc:
        raise UsageError(str(exc)) from None
    params = []
    for item in items:
        if item.kind is Kind.QUERY:
            params.append((item.key, item.value))
        elif item.kind is Kind.QUERY_FILE:
            text = read_file(item.value, item.word).decode("utf-8", "replace")
            params.append((item.key, text.rstrip("\r\n")))
    return params


def _url(word: str, params: list[tuple[str, str]]) -> str:
    from yarl import URL

    try:
        url = URL(normalize_url(word))
    except ValueError as exc:
        raise UsageError(f"invalid URL {word!r}: {exc}") from None
    if not url.host:
        raise UsageError(f"invalid URL {word!r}: no host")
    return str(url.extend_query(params) if params else url)


def expand(spec: RequestSpec, found: Targets, opts: Options) -> list[RequestSpec]:
    """Every request of the run, in order: each URL ``--repeat`` times."""
    from cli.command.connect import plan

    first = dataclasses.replace(spec, connect=plan(opts))
    specs = [first]
    if found.more:
        params = _query(found.items)
        specs += [dataclasses.replace(first, url=_url(word, params)) for word in found.more]
    return [each for each in specs for _ in range(opts.repeat or 1)]


def is_multi(specs: list[RequestSpec], opts: Options) -> bool:
    return len(specs) > 1 or opts.summary


# --- running them --------------------------------------------------------------------------


@dataclasses.dataclass(slots=True)
class Result:
    index: int  # 1-based, the order of the command line
    spec: RequestSpec
    events: list[Event]
    failure: Failure | None = None

    def hops(self) -> list[tuple[RequestMessage, ResponseMessage]]:
        pairs: list[tuple[RequestMessage, ResponseMessage]] = []
        pending: RequestMessage | None = None
        for event in self.events:
            if isinstance(event, RequestMessage):
                pending = event
            elif isinstance(event, ResponseMessage) and pending is not None:
                pairs.append((pending, event))
        return pairs

    def body_size(self) -> int:
        ends = [e.size for e in self.events if isinstance(e, ResponseEnd)]
        hops = self.hops()
        return ends[-1] if ends else len(hops[-1][1].body) if hops else 0


async def _one(session: Any, index: int, spec: RequestSpec, gate: asyncio.Semaphore) -> Result:
    from cli.run import exchange
    from cli.run.failures import describe

    result = Result(index, spec, [])
    async with gate:
        try:
            async for event in exchange.run(spec, session=session, trace_request_ctx=index):
                result.events.append(event)
        except Exception as exc:  # every engine failure becomes that request's failure
            result.failure = describe(exc, exchange.where(spec.url))
    return result


async def run_all(
    env: Environment,
    opts: Options,
    specs: list[RequestSpec],
    out: OutputSpec,
    report: BinaryIO | None,
) -> int:
    """Send every spec concurrently; render, report and summarise them in order."""
    from cli.output.plain import feed, make_renderer
    from cli.run import exchange
    from cli.timings import Tracing

    tracing = Tracing(env, opts, reporting=True, numbered=True)
    renderer = None if opts.summary else make_renderer(env.stdout, out, env.columns)
    results: list[Result] = []
    gate = asyncio.Semaphore(IN_FLIGHT)
    async with exchange.open_session(specs[0], tracing.configs) as session:
        tasks = [
            asyncio.ensure_future(_one(session, index, spec, gate))
            for index, spec in enumerate(specs, 1)
        ]
        progress = _progress(env, opts, out, len(tasks))
        try:
            for task in tasks:
                if progress is not None:
                    task.add_done_callback(progress.advance)
            for task in tasks:
                result = await task
                results.append(result)
                if progress is not None:
                    progress.at_least(len(results))
                if renderer is not None:
                    for event in result.events:
                        feed(renderer, event)
        finally:
            if progress is not None:
                progress.stop()
            if renderer is not None:
                renderer.close()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return _finish(env, opts, out, report, results, tracing)


def _finish(
    env: Environment,
    opts: Options,
    out: OutputSpec,
    report: BinaryIO | None,
    results: list[Result],
    tracing: Tracing,
) -> int:
    from cli.output import summary

    tracing.show([r.index for r in results])
    outcomes = [_outcome(r, tracing) for r in results]
    rows = summary.summarize(outcomes)
    if report is not None:
        _write_report(report, results, tracing)
        if opts.summary:
            from cli.output import report as reporting

            reporting.write(report, summary.report_object(rows))
    if opts.summary and report is not env.stdout:
        summary.show(env.stdout, rows, color=out.colors, width=env.columns)
    failures = Counter(r.failure.message for r in results if r.failure is not None)
    for message, count in failures.items():
        env.error(message if count == 1 else f"{message} ({count} requests)")
    return _exit_code(env, opts, results)


def _outcome(result: Result, tracing: Tracing) -> Outcome:
    from cli.output.summary import Outcome
    from cli.run.exchange import where

    trace = tracing.trace(result.index)
    hops = trace.hops if trace is not None else []
    latency = sum(h.phases()["total"] - h.phases()["queue"] for h in hops)
    reused = tuple(bool(h.reused) for h in hops if h.reused is not None)
    pairs = result.hops()
    if result.failure is not None or not pairs:
        error = result.failure.message if result.failure is not None else "no response"
        return Outcome(where(result.spec.url), None, error, latency, 0, reused)
    final = pairs[-1][1]
    if not hops:  # tracing was off: fall back to the wall-clock time
        latency = final.elapsed
    return Outcome(where(result.spec.url), final.status, None, latency, result.body_size(), reused)


def _write_report(report: BinaryIO, results: list[Result], tracing: Tracing) -> None:
    from cli.output import report as reporting

    for result in results:
        pairs = result.hops()
        if result.failure is not None or not pairs:
            failure = result.failure
            if failure is None:
                continue
            reporting.write(
                report, reporting.failure_record(result.spec.method, result.spec.url, failure)
            )
            continue
        request, response = pairs[-1]
        record = reporting.record(request, response, pairs[:-1], result.body_size())
        record["timings"] = tracing.timings(result.index)
        reporting.write(report, record)


def _exit_code(env: Environment, opts: Options, results: list[Result]) -> int:
    for result in results:
        if result.failure is not None:
            return result.failure.code
    if not opts.check_status:
        return ExitCode.OK
    for result in results:
        pairs = result.hops()
        if not pairs:
            continue
        final = pairs[-1][1]
        code = status_exit_code(final.status)
        if code != ExitCode.OK:
            env.error(f"warning: HTTP {final.status} {final.reason} from {final.url}")
            return code
    return ExitCode.OK


class _Progress:
    """A rich progress bar on stderr, advanced as requests finish (no refresh thread)."""

    def __init__(self, env: Environment, total: int) -> None:
        import io

        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self._wrapper = io.TextIOWrapper(env.stderr, encoding="utf-8", write_through=True)
        console = Console(file=self._wrapper, force_terminal=True, width=env.columns or 80)
        self._progress = Progress(
            "requests",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            auto_refresh=False,
            transient=True,
        )
        self._task = self._progress.add_task("requests", total=total)
        self._stopped = False
        self._done = self._fired = 0
        self._progress.start()
        self._progress.refresh()

    def advance(self, _task: object = None) -> None:
        self._fired += 1  # once per finished request
        self.at_least(self._fired)

    def at_least(self, done: int) -> None:
        """Show ``done`` finished requests (callbacks and the in-order loop both report)."""
        if self._stopped or done <= self._done:  # stopped: a request cancelled at the end
            return
        self._done = done
        self._progress.update(self._task, completed=done)
        self._progress.refresh()

    def stop(self) -> None:
        self._stopped = True
        self._progress.stop()
        self._wrapper.flush()
        self._wrapper.detach()


def _progress(env: Environment, opts: Options, out: OutputSpec, total: int) -> _Progress | None:
    """Only on a terminal, and only when nothing else writes to that terminal meanwhile."""
    quiet_stdout = opts.summary or not env.stdout_isatty or not out.parts
    if not env.stderr_isatty or opts.verbose or total < 2 or not quiet_stdout:
        return None
    return _Progress(env, total)
