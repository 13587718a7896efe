"""Nested JSON keys (httpie 3's grammar): objects, arrays, appends, escapes, mistakes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.request.items import ItemError, Kind, escape, parse_item, representable
from cli.request.nested import insert, parse_path


def build(*words: str) -> Any:
    root: Any = None
    for word in words:
        item = parse_item(word)
        # The item's kind, not the text: an escaped "\\:=" is a plain field.
        value = json.loads(item.value) if item.kind is Kind.JSON else item.value
        root = insert(root, parse_path(item.key, word), value, word)
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
        (["[1]=x"], [None, "x"]),
        ([r"a[\5]=x"], {"a": {"5": "x"}}),
        ([r"\1=x"], {"1": "x"}),
        ([r"a[\\1]:=1"], {"a": {"\\1": 1}}),
        ([r"a\[b\]=1"], {"a[b]": "1"}),
        ([r"a\\=1"], {"a\\": "1"}),
        ([r"a\\\\=1"], {"a\\\\": "1"}),
        ([r"a\b=1"], {"a\\b": "1"}),
        (["=x"], {"": "x"}),
        (["1=x", "01=y"], {"1": "x", "01": "y"}),
        (["a=1", "a=2"], {"a": "2"}),
        (["a[b]=1", "a=2"], {"a": "2"}),
        (["a:=[1]", "a[]:=2"], {"a": [1, 2]}),
        (["a[b c][d-e]=1"], {"a": {"b c": {"d-e": "1"}}}),
    ],
)
def test_paths(words: list[str], expected: Any) -> None:
    assert build(*words) == expected


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        (["a=1", "a[b]=2"], "cannot use the key \\[b\\] on a, which is a string"),
        (["a[]=1", "a[b]=2"], "cannot use the key \\[b\\] on a, which is an array"),
        (["a[b]=1", "a[]=2"], "cannot use \\[\\] on a, which is an object"),
        (["a[b]=1", "a[0]=2"], "cannot use the index \\[0\\] on a, which is an object"),
        (["a=1", "[]=2"], "cannot use \\[\\] on the top level, which is an object"),
        (["[]=1", "a=2"], "cannot use the key \\[a\\] on the top level, which is an array"),
        (["a[b=1"], "expected '\\]' after 'a\\[b' in the key 'a\\[b'"),
        (["a[b]c=1"], "expected '\\[' after 'a\\[b\\]'"),
        (["foo[bar][1][142241[]=1"], "expected '\\]' after 'foo\\[bar\\]\\[1\\]\\[142241'"),
        (["a]=1"], "expected '\\[' after 'a'"),
        (["[x]=1"], "expected an index or '\\]' after '\\['"),
        (["]=1"], "expected a name or '\\[' at the start"),
        (["foo[-10]=1"], "negative array index -10"),
        (["[-1]=1"], "negative array index -1"),
    ],
)
def test_mistakes_are_refused_with_where(words: list[str], reason: str) -> None:
    with pytest.raises(ItemError, match=reason) as info:
        build(*words)
    assert "\n" not in str(info.value)


keys = st.text(st.characters(codec="utf-8"), max_size=8).filter(representable)


def _bracketed(key: str) -> str:
    """``key`` written inside brackets: brackets and backslashes escaped."""
    return key.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


inner = keys.filter(lambda k: k != "" and not (k.isascii() and k.lstrip("-").isdigit()))
inner = inner.filter(lambda k: not (k[:1] == "\\" and k[1:].isascii() and k[1:].isdigit()))


@given(root=inner, path=st.lists(inner, max_size=3), value=keys)
def test_object_paths_build_nested_objects(root: str, path: list[str], value: str) -> None:
    word = escape(_bracketed(root)) + "".join(f"[{escape(_bracketed(k))}]" for k in path)
    word += "=" + escape(value)
    expected: Any = value
    for key in reversed([root, *path]):
        expected = {key: expected}
    assert build(word) == expected
