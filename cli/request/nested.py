"""httpie's nested JSON paths: ``a[b][]=x`` builds ``{"a": {"b": ["x"]}}``.

Rules:
- A key is a root name followed by bracketed steps: ``[name]`` an object key, ``[3]`` an
  array index (unescaped digits only; ``[\\3]`` is the key "3"), ``[]`` an append.
- A key that starts with ``[`` addresses the top level (``[]=x`` sends ``["x"]``).
- A step that needs another type than the value already there is an error, never a
  silent overwrite; a plain repeated key replaces its earlier value.
"""

from __future__ import annotations

from typing import Any

from cli.request.items import Char, ItemError

# A step: object key, array index, or None for "append".
Step = str | int | None


def parse_path(key_chars: tuple[Char, ...], word: str) -> tuple[Step, ...]:
    """The steps of a nested key; a key without brackets is a single step."""
    root: list[str] = []
    i = 0
    while i < len(key_chars) and key_chars[i] != ("[", False):
        root.append(key_chars[i][0])
        i += 1
    if i == len(key_chars):
        return ("".join(root),)
    steps: list[Step] = ["".join(root)] if root else []
    while i < len(key_chars):
        if key_chars[i] != ("[", False):
            raise ItemError(f"{word!r}: expected '[' at position {i} of the key")
        end = i + 1
        while end < len(key_chars) and key_chars[end] != ("]", False):
            end += 1
        if end == len(key_chars):
            raise ItemError(f"{word!r}: unclosed '[' in the key")
        inside = key_chars[i + 1 : end]
        steps.append(_step(inside))
        i = end + 1
    return tuple(steps)


def _step(inside: tuple[Char, ...]) -> Step:
    if not inside:
        return None
    text = "".join(ch for ch, _ in inside)
    if text.isascii() and text.isdigit() and not any(escaped for _, escaped in inside):
        return int(text)
    if text[:1] == "\\" and text[1:].isascii() and text[1:].isdigit():
        return text[1:]  # [\5]: the object key "5", not index 5
    return text


def insert(
    root: dict[str, Any] | list[Any] | None, steps: tuple[Step, ...], value: Any, word: str
) -> dict[str, Any] | list[Any]:
    """Put ``value`` at ``steps`` inside ``root`` (created on first use); returns the root."""
    if root is None:
        root = {} if isinstance(steps[0], str) else []
    elif isinstance(steps[0], str) != isinstance(root, dict):
        kind = "an object" if isinstance(root, dict) else "an array"
        raise ItemError(f"{word!r}: the top level is already {kind}")
    node: Any = root
    for step, nxt in zip(steps, (*steps[1:], _LEAF), strict=True):
        node = _descend(node, step, nxt, value, word)
    return root


_LEAF = object()


def _descend(node: Any, step: Step, nxt: object, value: Any, word: str) -> Any:
    """Move one step down, creating the container ``nxt`` needs; set the leaf."""
    fresh: Any = value if nxt is _LEAF else ({} if isinstance(nxt, str) else [])
    if isinstance(step, str):
        if not isinstance(node, dict):
            raise ItemError(f"{word!r}: cannot use key [{step}] on {_type(node)}")
        if nxt is _LEAF or step not in node:
            node[step] = fresh
        return _checked(node[step], nxt, word)
    if not isinstance(node, list):
        where = "[]" if step is None else f"[{step}]"
        raise ItemError(f"{word!r}: cannot use index {where} on {_type(node)}")
    if step is None:
        node.append(fresh)
        return node[-1]
    if step >= len(node):
        node.extend([None] * (step + 1 - len(node)))
    if nxt is _LEAF or node[step] is None:
        node[step] = fresh
    return _checked(node[step], nxt, word)


def _checked(child: Any, nxt: object, word: str) -> Any:
    if nxt is _LEAF:
        return child
    want_dict = isinstance(nxt, str)
    if want_dict and not isinstance(child, dict):
        raise ItemError(f"{word!r}: cannot use key [{nxt}] on {_type(child)}")
    if not want_dict and not isinstance(child, list):
        raise ItemError(f"{word!r}: cannot use an index on {_type(child)}")
    return child


def _type(node: Any) -> str:
    if isinstance(node, dict):
        return "an object"
    if isinstance(node, list):
        return "an array"
    if isinstance(node, str):
        return "a string"
    return f"a {type(node).__name__}"
