"""The body a command line asks for: JSON from data items, a form, multipart parts, or a
whole body (``--raw``, ``@file``, standard input), with the Content-Type it needs.

Rules (httpie's, except where the README's "differences from httpie" says otherwise):
- One source: ``--raw``, one ``@file`` (``@-``: standard input), data items and uploads
  are not mixed. Piped standard input is read only for an explicit POST, PUT or PATCH
  without body items (or ``@-``); otherwise the body says it was left unread.
- Without ``--form``/``--multipart`` a whole body goes as JSON (``application/json``, and
  the JSON ``Accept``) unless the user names its type, an ``@file``'s name gives one (or
  ``;type=``). An empty body is no JSON request: only a file name or ``;type=`` types it.
- ``--form``: data items urlencoded in argument order; a whole body is sent as it is,
  with the form type.
- Multipart (``--multipart``, or any ``field@file``): the parts in argument order; a
  ``:=`` scalar is a field too; a user ``Content-Type: multipart/...`` gets the boundary
  (its own ``boundary=`` is used when it has one). No parts: no body.
- ``:=`` values in a form or multipart are scalars only (a string, number or boolean as
  written in JSON); JSON objects and arrays need a JSON body.
"""

from __future__ import annotations

import mimetypes
import os
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from cli.exitcodes import UsageError
from cli.request.bodies import (
    FORM_TYPE,
    JSON_TYPE,
    Part,
    encode_form,
    encode_json,
    encode_multipart,
    new_boundary,
    parse_json,
)
from cli.request.items import DATA_KINDS, Item, ItemError, Kind
from cli.request.nested import insert, parse_path

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_BOUNDARY_PARAM = re.compile(r';\s*boundary=("?)([^";]*)\1', re.IGNORECASE)
_LINE_BREAK = re.compile(r"[\r\n\x00]")


class Content(NamedTuple):
    """A request's body (None: no body), its Content-Type ('' for none) and whether the
    request is a JSON one (the JSON Accept)."""

    body: bytes | None = None
    content_type: str = ""
    json: bool = False
    stdin_unread: bool = False  # data was piped in and not read (zurl says so)
    completes_user_type: bool = False  # content_type is the user's, with a boundary added


class Mode(NamedTuple):
    """The body flags and sources of the command line."""

    form: bool = False
    multipart: bool = False
    json: bool = False
    raw: str | None = None
    boundary: str | None = None
    ignore_stdin: bool = False
    stdin_has_data: bool = False
    read_stdin: Callable[[], bytes] = lambda: b""
    user_type: str | None = None  # the user's Content-Type header, if any


def read_file(path: str, word: str) -> bytes:
    try:
        with open(os.path.expanduser(path), "rb") as fh:
            return fh.read()
    except OSError as exc:
        raise UsageError(f"{word!r}: cannot read {path!r}: {exc.strerror or exc}") from None


def read_text(path: str, word: str) -> str:
    data = read_file(path, word)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{word!r}: {path!r} is not UTF-8 text") from None


def content(items: list[Item], mode: Mode, method: str | None) -> Content:
    """The body ``items`` and ``mode`` ask for; ``method`` is the explicit one, or None."""
    data = [i for i in items if i.kind in DATA_KINDS or i.kind is Kind.FILE]
    whole = [i for i in items if i.kind is Kind.BODY_FILE]
    if len(whole) > 1:
        raise UsageError("only one @file body can be given")
    if whole and data:
        raise UsageError(f"{whole[0].word!r}: a whole-body @file cannot be mixed with fields")
    if mode.json and (mode.form or mode.multipart):
        raise UsageError("--json cannot be combined with --form or --multipart")
    piped = mode.stdin_has_data and not mode.ignore_stdin
    if mode.raw is not None:
        if whole or data:
            raise UsageError("--raw is the whole body: it cannot be mixed with body items")
        return _whole(mode.raw.encode("utf-8"), mode, None, stdin_unread=piped)
    if whole:
        return _whole_item(whole[0], mode, piped)
    if data:
        uploads = any(i.kind is Kind.FILE for i in data)
        if uploads and mode.json:
            raise UsageError(f"{data[0].word!r}: file uploads need --form or --multipart")
        if uploads or mode.multipart:
            return _multipart(data, mode)._replace(stdin_unread=piped)
        if mode.form:
            return Content(encode_form(_form_fields(data)), FORM_TYPE, stdin_unread=piped)
        return Content(_json_body(data), JSON_TYPE, json=True, stdin_unread=piped)
    if method in BODY_METHODS and piped and not mode.multipart:
        return _whole(mode.read_stdin(), mode, None)
    return Content(json=mode.json, stdin_unread=piped)


def _whole_item(item: Item, mode: Mode, piped: bool) -> Content:
    if item.value == "-":
        if mode.ignore_stdin:
            raise UsageError("'@-' reads standard input, but --ignore-stdin was given")
        return _whole(mode.read_stdin(), mode, item.mime)
    guessed = item.mime or mimetypes.guess_type(item.value, strict=False)[0]
    return _whole(read_file(item.value, item.word), mode, guessed, stdin_unread=piped)


def _whole(body: bytes, mode: Mode, guessed: str | None, stdin_unread: bool = False) -> Content:
    if mode.multipart:
        raise UsageError("--multipart builds the body from fields: it cannot send a whole body")
    if mode.form:
        return Content(body, FORM_TYPE, stdin_unread=stdin_unread)
    if not body and not mode.json:  # empty is no JSON: typed only by a name or ;type=
        return Content(body, guessed or "", stdin_unread=stdin_unread)
    return Content(body, guessed or JSON_TYPE, json=True, stdin_unread=stdin_unread)


def _scalar(item: Item) -> str:
    """A data item's text in a form or multipart body."""
    if item.kind is Kind.DATA:
        return item.value
    if item.kind is Kind.DATA_FILE:
        return read_text(item.value, item.word)
    value = _json_value(item)
    if isinstance(value, str):  # strings and numbers (RawNumber) as written
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    raise UsageError(
        f"{item.word!r}: only strings, numbers and booleans can be form fields "
        "(objects, arrays and null need a JSON body)"
    )


def _form_fields(data: list[Item]) -> list[tuple[str, str]]:
    return [(item.key, _scalar(item)) for item in data]


def _multipart(data: list[Item], mode: Mode) -> Content:
    parts: list[Part] = []
    for item in data:
        if item.kind is not Kind.FILE:
            parts.append(Part(item.key, _scalar(item).encode("utf-8")))
            continue
        path = item.value
        mime = item.mime or mimetypes.guess_type(path, strict=False)[0]
        if mime is not None and _LINE_BREAK.search(mime):
            raise UsageError(f"{item.word!r}: a part's type cannot hold a line break")
        parts.append(
            Part(
                item.key,
                read_file(path, item.word),
                os.path.basename(path),
                mime or "application/octet-stream",
            )
        )
    user_type = (mode.user_type or "").strip()
    found = _BOUNDARY_PARAM.search(user_type)
    boundary = mode.boundary or (found.group(2) if found else None) or new_boundary()
    if found and found.group(2) != boundary:
        raise UsageError(
            f"--boundary {boundary!r} differs from the Content-Type's {found.group(2)!r}"
        )
    if found:
        content_type = user_type
    elif user_type:
        content_type = f"{user_type}; boundary={boundary}"
    else:
        content_type = f"multipart/form-data; boundary={boundary}"
    return Content(
        encode_multipart(parts, boundary), content_type, completes_user_type=bool(user_type)
    )


def _json_value(item: Item) -> Any:
    text = item.value if item.kind is Kind.JSON else read_text(item.value, item.word)
    try:
        return parse_json(text)
    except RecursionError:
        raise UsageError(f"{item.word!r}: the JSON value nests too deeply") from None
    except ValueError as exc:
        raise UsageError(f"{item.word!r}: invalid JSON: {exc}") from None


def _json_body(data: list[Item]) -> bytes:
    root: dict[str, Any] | list[Any] | None = None
    for item in data:
        if item.kind is Kind.DATA:
            value: Any = item.value
        elif item.kind is Kind.DATA_FILE:
            value = read_text(item.value, item.word)
        else:
            value = _json_value(item)
        try:
            root = insert(root, parse_path(item.key, item.word), value, item.word)
        except ItemError as exc:
            raise UsageError(str(exc)) from None
    try:
        return encode_json(root)
    except RecursionError:
        raise UsageError("the JSON body nests too deeply to be written") from None
