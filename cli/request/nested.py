"""httpie's nested JSON keys: ``a[b][]=x`` builds ``{"a": {"b": ["x"]}}``.

Rules (httpie 3's grammar):
- A key is a root and then bracketed steps. The root is a name (``a``; an empty key is the
  name ""), or ``[N]`` / ``[]``, which make the top level an array.
- A step is ``[name]`` (an object key), ``[N]`` (an array index: ASCII digits; a negative
  one is refused) or ``[]`` (append).
- ``\\[``, ``\\]`` and ``\\\\`` are a literal bracket or backslash, and text holding such an
  escape is always a name; ``\\3`` is the name "3". Any other backslash stays as typed.
- Anything else (a bracket left open, text after ``]``, a name in the top level's
  brackets) is refused, naming what was expected and where.
- Every data item of a JSON body goes through ``insert``, in order: a name or index right
  before the value replaces what was there; a step on a value of another type is refused,
  never a silent overwrite.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from cli.request.items import ItemError

# A step: object key, array index, or None for "append".
Step = str | int | None

_ESCAPABLE = frozenset("[]\\")
_NUMBER = re.compile(r"-?[0-9]+")


class _Token(NamedTuple):
    kind: str  # "[", "]", "text" or "number"
    value: str | int
    start: int  # where it starts and ends in the key, for error messages
    end: int


def _tokens(key: str) -> list[_Token]:
    tokens: list[_Token] = []
    text: list[str] = []
    start = 0
    escaped = False

    def flush(end: int) -> None:
        nonlocal escaped
        if not text:
            return
        word = "".join(text)
        if not escaped and _NUMBER.fullmatch(word):
            tokens.append(_Token("number", int(word), start, end))
        elif not escaped and word[:1] == "\\" and _NUMBER.fullmatch(word[1:]):
            tokens.append(_Token("text", word[1:], start, end))  # \3: the name "3"
        else:
            tokens.append(_Token("text", word, start, end))
        text.clear()
        escaped = False

    i = 0
    while i < len(key):
        ch = key[i]
        if ch in "[]":
            flush(i)
            tokens.append(_Token(ch, ch, i, i + 1))
            i += 1
            continue
        if not text:
            start = i
        if ch == "\\" and i + 1 < len(key):
            nxt = key[i + 1]
            if nxt in _ESCAPABLE:
                text.append(nxt)
                escaped = True
            else:
                text.extend((ch, nxt))
            i += 2
            continue
        text.append(ch)
        i += 1
    flush(len(key))
    return tokens


def _expected(word: str, key: str, at: int, what: str) -> ItemError:
    where = f"after {key[:at]!r}" if at else "at the start"
    return ItemError(f"{word!r}: expected {what} {where} in the key {key!r}")


def parse_path(key: str, word: str) -> tuple[Step, ...]:
    """The steps of a nested key; a key without brackets is a single step."""
    tokens = _tokens(key)
    pos = 0

    def take(*kinds: str, what: str) -> _Token:
        nonlocal pos
        if pos < len(tokens) and tokens[pos].kind in kinds:
            pos += 1
            return tokens[pos - 1]
        at = tokens[pos].start if pos < len(tokens) else len(key)
        raise _expected(word, key, at, what)

    steps: list[Step] = []
    if not tokens:
        return ("",)
    first = take("text", "number", "[", what="a name or '['")
    if first.kind == "[":
        inner = take("number", "]", what="an index or ']'")
        if inner.kind == "number":
            steps.append(_index(inner, word, key))
            take("]", what="']'")
        else:
            steps.append(None)
    else:  # a name, even when written as digits (kept as typed: "01" stays "01")
        steps.append(str(first.value) if first.kind == "text" else key[first.start : first.end])
    while pos < len(tokens):
        take("[", what="'['")
        inner = take("text", "number", "]", what="a name, an index or ']'")
        if inner.kind == "]":
            steps.append(None)
            continue
        steps.append(_index(inner, word, key) if inner.kind == "number" else str(inner.value))
        take("]", what="']'")
    return tuple(steps)


def _index(token: _Token, word: str, key: str) -> int:
    assert isinstance(token.value, int)
    if token.value < 0:
        raise ItemError(
            f"{word!r}: negative array index {token.value} in the key {key!r} (use [] to append)"
        )
    return token.value


def insert(
    root: dict[str, Any] | list[Any] | None, steps: tuple[Step, ...], value: Any, word: str
) -> dict[str, Any] | list[Any]:
    """Put ``value`` at ``steps`` inside ``root`` (created on first use); returns the root."""
    if root is None:
        root = {} if isinstance(steps[0], str) else []
    node: Any = root
    last = len(steps) - 1
    for i, step in enumerate(steps):
        fresh: Any = value if i == last else ({} if isinstance(steps[i + 1], str) else [])
        if isinstance(step, str):
            if not isinstance(node, dict):
                raise _clash(word, steps[:i], node, f"the key [{step}]")
            if i == last or step not in node:
                node[step] = fresh
            node = node[step]
            continue
        if not isinstance(node, list):
            where = "[]" if step is None else f"the index [{step}]"
            raise _clash(word, steps[:i], node, where)
        if step is None:
            node.append(fresh)
            node = node[-1]
            continue
        if step >= len(node):
            node.extend([None] * (step + 1 - len(node)))
        if i == last or node[step] is None:
            node[step] = fresh
        node = node[step]
    return root


def _clash(word: str, before: tuple[Step, ...], node: Any, what: str) -> ItemError:
    where = _path_text(before) or "the top level"
    return ItemError(f"{word!r}: cannot use {what} on {where}, which is {_type(node)}")


def _path_text(steps: tuple[Step, ...]) -> str:
    out = []
    for index, step in enumerate(steps):
        if index == 0 and isinstance(step, str):
            out.append(step)
        else:
            out.append("[]" if step is None else f"[{step}]")
    return "".join(out)


def _type(node: Any) -> str:
    described = getattr(node, "json_type", None)  # RawNumber, RepeatedKeys (bodies.py)
    if isinstance(described, str):
        return described
    if isinstance(node, dict):
        return "an object"
    if isinstance(node, list):
        return "an array"
    if isinstance(node, str):
        return "a string"
    if node is None:
        return "null"
    if isinstance(node, bool):
        return "a boolean"
    return "a number"
