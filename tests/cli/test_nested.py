"""Nested JSON paths (httpie 3's syntax): objects, arrays, appends, type clashes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.request.items import ItemError, Kind, escape, parse_item
from cli.request.nested import insert, parse_path


def build(*words: str) -> Any:
    root: Any = None
    for word in words:
        item = parse_item(word)
        # The item's kind, not the text: an escaped "\\:=" is a plain field.
        value = json.loads(item.value) if item.kind is Kind.JSON else item.value
        root = insert(root, parse_path(item.key_chars, word), value, word)
    return root


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["a=1"], {"a": "1"}),
        (["a[b]=1"], {"a": {"b": "1"}}),
        (["a[b][]=x", "a[b][]=y"], {"a": {"b": ["x", "y"]}}),
        (["a[2]=x"], {"a": [None, None, "x"]}),
        (["a[0][n]=1", "a[0][m]=2", "a[1][n]=3"], {"a": [{"n": "1", "m": "2"}, {"n": "3"}]}),
        (["[]:=1", "[]:=2"], [1, 2]),
        (["[0][type]=platform", "[1][type]=desktop"], [{"type": "platform"}, {"type": "desktop"}]),
        ([r"a[\5]=x"], {"a": {"5": "x"}}),
        ([r"a\[b\]=1"], {"a[b]": "1"}),
        (["a=1", "a=2"], {"a": "2"}),
        (["a:=[1]", "a[]:=2"], {"a": [1, 2]}),
        (["[x]=1"], {"x": "1"}),
    ],
)
def test_paths(words: list[str], expected: Any) -> None:
    assert build(*words) == expected


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        (["a=1", "a[b]=2"], "cannot use key"),
        (["a[]=1", "a[b]=2"], "cannot use key"),
        (["a[b]=1", "a[]=2"], "cannot use an index on an object"),
        (["a[b=1"], "unclosed"),
        (["a[b]c=1"], "expected '\\['"),
        (["a=1", "[]=2"], "top level is already an object"),
        (["[]=1", "a=2"], "top level is already an array"),
    ],
)
def test_type_clashes_are_errors(words: list[str], reason: str) -> None:
    with pytest.raises(ItemError, match=reason):
        build(*words)


keys = st.text(st.characters(codec="utf-8"), max_size=8)


# Inside brackets an empty key means "append" and ASCII digits an index.
inner = keys.filter(lambda k: k != "" and not (k.isascii() and k.isdigit()))


@given(root=keys, path=st.lists(inner, max_size=3), value=keys)
def test_object_paths_build_nested_objects(root: str, path: list[str], value: str) -> None:
    word = escape(root) + "".join(f"[{escape(k)}]" for k in path) + "=" + escape(value)
    expected: Any = value
    for key in reversed([root, *path] if root or not path else path):
        expected = {key: expected}
    assert build(word) == expected
