"""One frozen description of what to send, built from options and request items.

Rules:
- Everything the user typed is checked here; a mistake is a ``UsageError`` (exit 2)
  before any connection is made.
- Files named by items and standard input are read here, so the spec holds final bytes.
- Standard input is read only when asked: an ``@-`` item, or data piped in with an
  explicit body-carrying method and no body items (never for an implicit GET).
"""

from __future__ import annotations

import dataclasses
import json
import mimetypes
import os
from collections.abc import Callable
from typing import Any

from cli import __version__
from cli.exitcodes import UsageError
from cli.request.bodies import (
    FORM_TYPE,
    JSON_TYPE,
    Upload,
    encode_form,
    encode_json,
    encode_multipart,
)
from cli.request.items import DATA_KINDS, Item, ItemError, Kind, parse_items
from cli.request.nested import insert, parse_path
from cli.request.urls import BODY_METHODS, normalize_url, split_args, with_query

USER_AGENT = f"zurl/{__version__}"
JSON_ACCEPT = "application/json, */*;q=0.5"


@dataclasses.dataclass(frozen=True, slots=True)
class RequestSpec:
    """What to send: one request. How to connect is the run's session plan
    (cli/run/plans.py); what to show and where to write are other plans."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    skip_auto_headers: tuple[str, ...] = ()
    body: bytes | None = None
    auth: tuple[str, str] | None = None
    auth_type: str = "basic"  # --auth-type: basic, digest or bearer (auth[0] is the token)
    # --chunked: Transfer-Encoding: chunked instead of Content-Length.
    chunked: bool = False
    # --follow, --max-redirects: redirects are followed only when asked (as httpie does).
    follow: bool = False
    max_redirects: int = 30


@dataclasses.dataclass(frozen=True, slots=True)
class Inputs:
    """The request's part of the command line, as the command layer collected it."""

    args: tuple[str, ...]
    form: bool = False
    multipart: bool = False
    json: bool = False
    auth: tuple[str, str] | None = None
    auth_type: str = "basic"
    ignore_stdin: bool = False
    stdin_has_data: bool = False
    read_stdin: Callable[[], bytes] = lambda: b""
    raw: str | None = None  # --raw TEXT: the body verbatim
    boundary: str | None = None  # --boundary: the multipart boundary


def read_file(path: str, word: str) -> bytes:
    try:
        with open(os.path.expanduser(path), "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise UsageError(f"{word!r}: cannot read {path!r}: {exc.strerror or exc}") from None


def _read_text(path: str, word: str) -> str:
    data = read_file(path, word)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{word!r}: {path!r} is not UTF-8 text") from None


def _json_value(text: str, word: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{word!r}: invalid JSON: {exc}") from None


def build_spec(inputs: Inputs) -> RequestSpec:
    """Check and combine the command line into a ``RequestSpec``."""
    method, url, words = split_args(inputs.args)
    try:
        items = parse_items(words)
    except ItemError as exc:
        raise UsageError(str(exc)) from None
    full_url = with_query(normalize_url(url), _params(items))
    body, content_type = _body(items, inputs, method)
    if method is None:
        method = "POST" if body is not None else "GET"
    accept = JSON_ACCEPT if inputs.json or content_type == JSON_TYPE else "*/*"
    defaults = [("User-Agent", USER_AGENT), ("Accept", accept)]
    if content_type:
        defaults.append(("Content-Type", content_type))
    headers, skip = _headers(items, defaults)
    return RequestSpec(
        method=method,
        url=full_url,
        headers=headers,
        skip_auto_headers=skip,
        body=body,
        auth=inputs.auth,
        auth_type=inputs.auth_type,
    )


def _params(items: list[Item]) -> list[tuple[str, str]]:
    params = []
    for item in items:
        if item.kind is Kind.QUERY:
            params.append((item.key, item.value))
        elif item.kind is Kind.QUERY_FILE:
            params.append((item.key, _read_text(item.value, item.word).rstrip("\r\n")))
    return params


def _headers(
    items: list[Item], defaults: list[tuple[str, str]]
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """Defaults the user did not mention, then the user's headers in order."""
    mentioned = {item.key.lower() for item in items if item.kind.name.startswith("HEADER")}
    headers = [(k, v) for k, v in defaults if k.lower() not in mentioned]
    skip: list[str] = []
    for item in items:
        if item.kind is Kind.HEADER_UNSET:
            headers = [(k, v) for k, v in headers if k.lower() != item.key.lower()]
            skip.append(item.key)
        elif item.kind is Kind.HEADER:
            headers.append((item.key, item.value))
        elif item.kind is Kind.HEADER_EMPTY:
            headers.append((item.key, ""))
        elif item.kind is Kind.HEADER_FILE:
            headers.append((item.key, _read_text(item.value, item.word).rstrip("\r\n")))
    return tuple(headers), tuple(skip)


def _body(items: list[Item], inputs: Inputs, method: str | None) -> tuple[bytes | None, str]:
    """The body bytes (None for no body) and the Content-Type they need ('' for none)."""
    data = [i for i in items if i.kind in DATA_KINDS]
    files = [i for i in items if i.kind is Kind.FILE]
    whole = [i for i in items if i.kind is Kind.BODY_FILE]
    if len(whole) > 1:
        raise UsageError("only one @file body can be given")
    if whole and (data or files):
        raise UsageError(f"{whole[0].word!r}: a whole-body @file cannot be mixed with fields")
    if inputs.json and (inputs.form or inputs.multipart):
        raise UsageError("--json cannot be combined with --form or --multipart")
    if inputs.raw is not None:
        if whole or data or files:
            raise UsageError("--raw is the whole body: it cannot be mixed with body items")
        return inputs.raw.encode("utf-8"), _raw_type(inputs, "")
    if whole:
        return _whole_body(whole[0], inputs)
    if files and inputs.json:
        raise UsageError(f"{files[0].word!r}: file uploads need --form or --multipart")
    if files or inputs.multipart:
        if not (data or files):
            return None, ""
        return _multipart(data, files, inputs.boundary)
    if inputs.form:
        return (encode_form(_form_fields(data)), FORM_TYPE) if data else (None, "")
    if data:
        return encode_json(_json_body(data)), JSON_TYPE
    if method in BODY_METHODS and inputs.stdin_has_data and not inputs.ignore_stdin:
        return inputs.read_stdin(), _raw_type(inputs, "")
    return None, ""


def _raw_type(inputs: Inputs, guessed: str) -> str:
    if inputs.json:
        return JSON_TYPE
    if inputs.form:
        return FORM_TYPE
    return guessed


def _whole_body(item: Item, inputs: Inputs) -> tuple[bytes, str]:
    if item.value == "-":
        if inputs.ignore_stdin:
            raise UsageError("'@-' reads standard input, but --ignore-stdin was given")
        return inputs.read_stdin(), _raw_type(inputs, item.mime or "")
    guessed = item.mime or mimetypes.guess_type(item.value)[0] or ""
    return read_file(item.value, item.word), _raw_type(inputs, guessed)


def _field_text(item: Item) -> str:
    if item.kind is Kind.DATA_FILE:
        return _read_text(item.value, item.word)
    if item.kind in (Kind.JSON, Kind.JSON_FILE):
        raise UsageError(f"{item.word!r}: raw JSON fields (:=) cannot be sent in a form")
    return item.value


def _form_fields(data: list[Item]) -> list[tuple[str, str]]:
    return [(item.key, _field_text(item)) for item in data]


def _multipart(
    data: list[Item], files: list[Item], boundary: str | None = None
) -> tuple[bytes, str]:
    uploads = []
    for item in files:
        path = item.value
        mime = item.mime or mimetypes.guess_type(path)[0] or "application/octet-stream"
        content = read_file(path, item.word)
        uploads.append(Upload(item.key, os.path.basename(path), content, mime))
    return encode_multipart(_form_fields(data), uploads, boundary)


def _json_body(data: list[Item]) -> dict[str, Any] | list[Any]:
    root: dict[str, Any] | list[Any] | None = None
    for item in data:
        if item.kind is Kind.DATA:
            value: Any = item.value
        elif item.kind is Kind.DATA_FILE:
            value = _read_text(item.value, item.word)
        elif item.kind is Kind.JSON:
            value = _json_value(item.value, item.word)
        else:
            value = _json_value(_read_text(item.value, item.word), item.word)
        try:
            root = insert(root, parse_path(item.key_chars, item.word), value, item.word)
        except ItemError as exc:
            raise UsageError(str(exc)) from None
    assert root is not None
    return root
