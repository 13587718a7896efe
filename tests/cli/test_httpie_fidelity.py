"""Differential test: each command line of tests/cli/httpie_cases.py goes through httpie
(3.2.4, the ``[test]`` extra) and zurl, both in this process, to one capture server on
127.0.0.1, and the requests as received must be the same.

Rules:
- Compared: the request line, every header line as sent (name spelling and value) and
  the body bytes, after ``tests/cli/wire.normalise`` (header order, the default
  User-Agent, multipart boundaries, the server's port). A command line both refuse
  (nothing sent) is the same outcome; zurl's refusals must be usage errors (exit 2).
- Every deliberate difference is a named entry of ``DIFFERENCES`` (the README's
  "differences from httpie" gives the reason): either a rewrite of httpie's request into
  the one zurl must send, or, in the case itself, the httpie command line that sends
  zurl's request (``||``). A case that lists a difference must show one: a listed
  difference that is not there fails, so the list stays true. Two differences apply to
  every request (``GLOBAL``).
- ``--offline`` prints exactly the bytes zurl puts on the wire, for every command line.
- httpie runs through ``httpie.core.main(args, env)``; two costs it pays on every run that
  change nothing on the wire of an http:// request are paid once (plugin discovery, the
  default TLS context). Its update check is off (config); netrc, proxies and zurl's config
  file are out of the way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import io
import json
import os
import re
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from cli.env import Environment
from cli.main import command
from tests.cli import httpie_cases
from tests.cli.wire import Wire, neutral_boundaries, normalise, parse, parse_printed
from tests.servers import skip_or_fail
from tests.servers.capture import CaptureServer


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What a client did with a command line: the requests received (normalised)."""

    requests: tuple[Wire, ...]

    @property
    def refused(self) -> bool:
        return not self.requests

    def show(self) -> str:
        if self.refused:
            return "(nothing sent)"
        return "\n---\n".join(wire.show() for wire in self.requests)


# --- the deliberate differences -----------------------------------------------------------

Rewrite = Callable[[Wire, "Case"], Wire]


def _drop_keep_alive(wire: Wire, case: Case) -> Wire:
    return wire.without("connection") if wire.header("connection") == [b"keep-alive"] else wire


def _engine_accept_encoding() -> bytes:
    from client.decoders import ACCEPT_ENCODING

    return ACCEPT_ENCODING.encode()


def _own_accept_encoding(wire: Wire, case: Case) -> Wire:
    if wire.header("accept-encoding") != [b"gzip, deflate, br"]:  # requests' default
        return wire
    return wire.without("accept-encoding").with_header(
        b"Accept-Encoding: " + _engine_accept_encoding()
    )


def _no_zero_length(wire: Wire, case: Case) -> Wire:
    return wire.without("content-length") if wire.header("content-length") == [b"0"] else wire


def _no_content_type(wire: Wire, case: Case) -> Wire:
    return wire.without("content-type")


def _relength(wire: Wire, body: bytes) -> Wire:
    """``wire`` with another body: Content-Length grows by what the body grew (bodies are
    normalised, so the header counts the real boundaries, not BOUNDARY)."""
    (length,) = wire.header("content-length")
    grown = int(length) + len(body) - len(wire.body)
    wire = dataclasses.replace(wire, body=body).without("content-length")
    return wire.with_header(b"Content-Length: %d" % grown)


def _empty_is_no_json(wire: Wire, case: Case) -> Wire:
    if wire.body:
        return wire
    if wire.header("accept") == [b"application/json, */*;q=0.5"]:
        wire = wire.without("accept").with_header(b"Accept: */*")
    if wire.header("content-type") == [b"application/json"]:
        wire = wire.without("content-type")
    return wire


def _target_as_typed(wire: Wire, case: Case) -> Wire:
    (url,) = [arg for arg in case.args if arg.startswith("URL")]
    target = url[len("URL") :].partition("#")[0]
    method = wire.line.split(b" ", 1)[0]
    return dataclasses.replace(wire, line=b"%s %s HTTP/1.1" % (method, target.encode()))


def _typed_file_parts(wire: Wire, case: Case) -> Wire:
    """A file part without a type gets application/octet-stream (RFC 7578 §4.4)."""
    parts = wire.body.split(b"--BOUNDARY\r\n")
    for index, part in enumerate(parts):
        head, sep, rest = part.partition(b"\r\n\r\n")
        if sep and b"filename=" in head and b"\r\nContent-Type:" not in head:
            parts[index] = head + b"\r\nContent-Type: application/octet-stream" + sep + rest
    return _relength(wire, b"--BOUNDARY\r\n".join(parts))


def _chunked(wire: Wire, case: Case) -> Wire:
    """The body sent with the chunked coding that the user's header announces."""
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(wire.body), wire.body) if wire.body else b"0\r\n\r\n"
    return dataclasses.replace(wire, body=body).without("content-length")


@dataclasses.dataclass(frozen=True)
class Difference:
    reason: str  # the README's "differences from httpie" says it at length
    rewrite: Rewrite | None = None  # None: the case gives httpie's command line (||)
    refuses: bool = False  # zurl refuses (exit 2) what httpie sends


GLOBAL = {
    "keep-alive": Difference(
        "no Connection: keep-alive: HTTP/1.1 connections persist by default", _drop_keep_alive
    ),
    "accept-encoding": Difference(
        "Accept-Encoding lists the codings this zurl decodes (zstd, br with their extras)",
        _own_accept_encoding,
    ),
}

DIFFERENCES = {
    "bodyless-length": Difference(
        "no Content-Length: 0 on a bodyless request whose method expects no body (RFC 9110 §8.6)",
        _no_zero_length,
    ),
    "type-without-body": Difference(
        "no Content-Type on a request without a body (-j, -f or --multipart, no data)",
        _no_content_type,
    ),
    "empty-body-type": Difference(
        "an empty body is no JSON request: no JSON Content-Type or Accept", _empty_is_no_json
    ),
    "octet-stream-parts": Difference(
        "a file part of unknown type is application/octet-stream (RFC 7578 §4.4)",
        _typed_file_parts,
    ),
    "no-empty-multipart": Difference("--multipart without fields sends no body"),
    "header-token": Difference("a header name must be an RFC 9110 token", refuses=True),
    "user-chunked": Difference(
        "a user Transfer-Encoding: chunked header gets a chunked body", _chunked
    ),
    "stdin-unread": Difference(
        "piped stdin is the body only with @- or an explicit POST/PUT/PATCH and no items"
    ),
    "argument-order": Difference("repeated query and form names stay in argument order"),
    "json-as-typed": Difference(":= values go out as typed (1e3, 1.50, true in a form)"),
    "multipart-json": Difference(":= scalars are multipart fields (httpie drops them)"),
    "type-boundary": Difference("a Content-Type's own boundary= is the body's boundary"),
    "userinfo-decoded": Difference("URL credentials are percent-decoded"),
    "file-type-param": Difference("@file;type=x/y types a whole body too"),
    "form-whole-body": Difference("-f with @file sends the file as the body"),
    "upload-without-form": Difference("a file field makes the body multipart without -f"),
    "flag-conflict": Difference("-j with -f or --multipart is refused", refuses=True),
    "escapes-as-typed": Difference(
        "percent-escapes go out as typed (%41 stays %41)", _target_as_typed
    ),
    "digits-key": Difference('a JSON key written as digits stays as typed (01 is "01")'),
    "nested-in-raw": Difference("a nested key can extend a := object"),
    "chunked-no-body": Difference("--chunked without a body sends no body"),
    "compress-file": Difference(
        "-x with an @file that does not shrink sends the file (httpie sends no body)"
    ),
    "stdin-at": Difference("@- sends standard input as the body (httpie has no @-)"),
    "length-refused": Difference(
        "a Content-Length on a request without a body is refused", refuses=True
    ),
}


# --- the cases ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Case:
    line: str  # the command line as written in httpie_cases.py
    args: tuple[str, ...]
    stdin: bytes | None
    differences: tuple[str, ...]
    httpie_args: tuple[str, ...] | None  # the httpie command line for zurl's request


def _cases() -> list[Case]:
    import ast
    import shlex

    cases = []
    for raw in httpie_cases.CASES.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        differences: tuple[str, ...] = ()
        found = re.match(r"\[([a-z, -]+)\]\s*", line)
        if found:
            differences = tuple(d.strip() for d in found.group(1).split(","))
            unknown = set(differences) - set(DIFFERENCES)
            assert not unknown, f"{line}: unknown differences {unknown}"
        text, _, httpie_text = line[found.end() if found else 0 :].partition(" || ")
        httpie_args = tuple(shlex.split(httpie_text)) if httpie_text else None
        zurl_text, _, literal = text.partition(" <<< ")
        stdin = ast.literal_eval(literal) if literal else None
        assert stdin is None or isinstance(stdin, bytes), line
        cases.append(Case(line, tuple(shlex.split(zurl_text)), stdin, differences, httpie_args))
    return cases


CASES = _cases()


def _expand(args: tuple[str, ...], port: int) -> list[str]:
    url = f"http://127.0.0.1:{port}"
    return [arg.replace("URL", url).replace("PORT", str(port)) for arg in args]


# --- running the two clients ---------------------------------------------------------------


@pytest.fixture(scope="module")
def capture() -> Iterator[CaptureServer]:
    with CaptureServer() as server:
        yield server


@pytest.fixture(scope="module")
def httpie_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """httpie ready to run in this process: its config, and its per-run costs paid once."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import httpie.core  # noqa: F401
            from httpie import ssl_
            from httpie.cli import requestitems
            from httpie.plugins.registry import plugin_manager
    except ImportError:
        skip_or_fail("httpie is not installed (pip install -e '.[test]')")
    config = tmp_path_factory.mktemp("httpie-config")
    (config / "config.json").write_text(json.dumps({"disable_update_warnings": True}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plugin_manager.load_installed_plugins(config / "plugins")
    with pytest.MonkeyPatch.context() as patch, open(os.devnull, "rb") as devnull:
        # A process's stdin has a file number (httpie compares it with its input's).
        patch.setattr(sys, "stdin", devnull)
        patch.setattr(type(plugin_manager), "load_installed_plugins", lambda *a, **k: None)
        cached = functools.cache(ssl_.HTTPieHTTPSAdapter._create_ssl_context)
        patch.setattr(ssl_.HTTPieHTTPSAdapter, "_create_ssl_context", staticmethod(cached))
        # httpie leaves the files of upload items open; each run closes them (see run_httpie).
        patch.setattr(requestitems, "open", _tracked_open, raising=False)
        yield config


_OPENED: list[IO[bytes]] = []


def _tracked_open(*args: Any, **kwargs: Any) -> IO[bytes]:
    stream: IO[bytes] = open(*args, **kwargs)  # noqa: SIM115 (closed by _httpie_streams)
    _OPENED.append(stream)
    return stream


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("httpie-files")
    for name, data in httpie_cases.FILES.items():
        (folder / name).write_bytes(data)
    return folder


@contextlib.contextmanager
def _httpie_streams(
    stdin: bytes | None,
) -> Iterator[tuple[IO[bytes] | None, IO[bytes], IO[str], IO[str]]]:
    """httpie's streams, real files (it compares file numbers); closed afterwards, with the
    files of upload items httpie leaves open."""
    with contextlib.ExitStack() as stack:
        stdin_file = None
        if stdin is not None:
            stdin_file = stack.enter_context(tempfile.TemporaryFile("w+b"))
            stdin_file.write(stdin)
            stdin_file.seek(0)
        out = stack.enter_context(tempfile.TemporaryFile("w+b"))
        err = stack.enter_context(tempfile.TemporaryFile("w+t"))
        devnull = stack.enter_context(open(os.devnull, "w+"))
        try:
            yield stdin_file, out, err, devnull
        finally:
            for stream in _OPENED:
                stream.close()
            _OPENED.clear()


def run_httpie(args: list[str], stdin: bytes | None, config: Path) -> tuple[int, str]:
    """``http ARGS`` in this process: the exit code and what it wrote on stderr."""
    from httpie.context import Environment as HttpieEnvironment
    from httpie.core import main

    with _httpie_streams(stdin) as (stdin_file, out, err, devnull):
        env = HttpieEnvironment(
            stdin=stdin_file,
            stdin_isatty=stdin is None,
            stdout=out,
            stdout_isatty=False,
            stderr=err,
            stderr_isatty=False,
            config_dir=config,
            devnull=devnull,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            code = int(main(["http", *args], env))
        err.seek(0)
        return code, err.read()


def run_zurl(args: list[str], stdin: bytes | None) -> tuple[int, bytes, str]:
    env = Environment(
        stdin=io.BytesIO(stdin or b""),
        stdout=io.BytesIO(),
        stderr=io.BytesIO(),
        stdin_has_data=stdin is not None,
        columns=100,
        colors="none",
    )
    code = command.main(list(args), obj=env, standalone_mode=False)
    assert isinstance(code, int)
    stderr = env.stderr.getvalue().decode("utf-8", "replace")  # type: ignore[attr-defined]
    return code, env.stdout.getvalue(), stderr  # type: ignore[attr-defined]


def _outcome(raw: list[bytes], port: int) -> Outcome:
    return Outcome(tuple(normalise(parse(request), port) for request in raw))


def _expected(theirs: Outcome, case: Case) -> Outcome:
    """httpie's outcome with the listed differences applied: what zurl must send."""
    rewrites = [d.rewrite for d in GLOBAL.values() if d.rewrite is not None]
    for name in case.differences:
        difference = DIFFERENCES[name]
        if difference.refuses:
            return Outcome(())
        if difference.rewrite is not None:
            rewrites.append(difference.rewrite)
    requests = []
    for wire in theirs.requests:
        for rewrite in rewrites:
            wire = rewrite(wire, case)
        requests.append(wire)
    return Outcome(tuple(requests))


@pytest.mark.parametrize("case", CASES, ids=[case.line for case in CASES])
def test_same_request_as_httpie(
    case: Case,
    capture: CaptureServer,
    httpie_config: Path,
    files: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(files)
    monkeypatch.setenv("NETRC", str(files / "no-netrc"))
    monkeypatch.setenv("ZURL_CONFIG_DIR", str(files / "no-zurl-config"))  # no default options
    port = capture.port

    def httpie(args: tuple[str, ...]) -> tuple[Outcome, str]:
        code, err = run_httpie(_expand(args, port), case.stdin, httpie_config)
        return _outcome(capture.take(), port), f"httpie exit {code}: {err.strip()}"

    theirs, httpie_said = httpie(case.args)
    if case.httpie_args is not None:
        original, theirs = theirs, httpie(case.httpie_args)[0]
    else:
        original = theirs
    code, _, stderr = run_zurl(_expand(case.args, port), case.stdin)
    received = capture.take()
    ours = _outcome(received, port)
    expected = _expected(theirs, case)
    why = f"zurl exit {code}: {stderr}\n{httpie_said}"
    assert ours.show() == expected.show(), why
    if ours.refused:
        assert code == 2, f"zurl refused with exit {code}, not a usage error: {stderr}"
        assert stderr.count("\n") == 1, stderr
    if case.differences:  # each listed difference must be there
        plain = _expected(original, dataclasses.replace(case, differences=()))
        assert plain.show() != ours.show(), f"{case.differences} listed, but zurl = httpie"
    if OFFLINE_IS_THE_WIRE and not ours.refused:
        _check_offline(case, port, received[0])


# --offline renders the engine's BuiltRequest once cli-layout wires it (engine-api.md):
# then it must print exactly what the wire got, for every case above.
OFFLINE_IS_THE_WIRE = bool(os.environ.get("ZURL_OFFLINE_CHECK"))


def _check_offline(case: Case, port: int, raw: bytes) -> None:
    """``--offline`` prints the request the wire got: its line, its headers in their order
    and its body (a body not ending in a newline gets one on a terminal-less stdout);
    boundaries aside, since each run draws its own."""
    flags = ["--offline", "--print=HB", "--pretty=none", "--show-secrets"]
    code, printed, stderr = run_zurl([*_expand(case.args, port), *flags], case.stdin)
    assert code == 0, stderr
    wire = neutral_boundaries(parse(raw))
    if wire.body and not wire.body.endswith(b"\n"):
        wire = dataclasses.replace(wire, body=wire.body + b"\n")
    assert neutral_boundaries(parse_printed(printed)).show() == wire.show()
