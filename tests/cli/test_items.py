"""httpie's request-item grammar: separators, escapes, earliest-longest choice."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cli.request.items import (
    SEPARATORS,
    ItemError,
    Kind,
    escape,
    parse_item,
    representable,
    tokenize,
)


@pytest.mark.parametrize(
    ("word", "kind", "key", "value"),
    [
        ("X-Api:secret", Kind.HEADER, "X-Api", "secret"),
        ("User-Agent:", Kind.HEADER_UNSET, "User-Agent", ""),
        ("X-Empty;", Kind.HEADER_EMPTY, "X-Empty", ""),
        ("X-Token:@tok.txt", Kind.HEADER_FILE, "X-Token", "tok.txt"),
        ("q==search term", Kind.QUERY, "q", "search term"),
        ("q==@q.txt", Kind.QUERY_FILE, "q", "q.txt"),
        ("name=pie", Kind.DATA, "name", "pie"),
        ("bio=@bio.txt", Kind.DATA_FILE, "bio", "bio.txt"),
        ("n:=3", Kind.JSON, "n", "3"),
        ("obj:=@obj.json", Kind.JSON_FILE, "obj", "obj.json"),
        ("pic@me.png", Kind.FILE, "pic", "me.png"),
        ("@body.xml", Kind.BODY_FILE, "", "body.xml"),
        ("@-", Kind.BODY_FILE, "", "-"),
        ("=empty-key", Kind.DATA, "", "empty-key"),
        ("a=", Kind.DATA, "a", ""),
    ],
)
def test_each_kind(word: str, kind: Kind, key: str, value: str) -> None:
    item = parse_item(word)
    assert (item.kind, item.key, item.value, item.word) == (kind, key, value, word)


@pytest.mark.parametrize(
    ("word", "kind", "key", "value"),
    [
        # Earliest separator wins, whatever follows it.
        ("Referer:http://x/?a=b", Kind.HEADER, "Referer", "http://x/?a=b"),
        ("a=b:c", Kind.DATA, "a", "b:c"),
        ("a==b=c", Kind.QUERY, "a", "b=c"),
        ("url=http://h:1/@x", Kind.DATA, "url", "http://h:1/@x"),
        # Among separators starting at the same place, the longest wins.
        ("a:=1", Kind.JSON, "a", "1"),
        ("a:=@f", Kind.JSON_FILE, "a", "f"),
        ("a==@f", Kind.QUERY_FILE, "a", "f"),
        ("a=@f", Kind.DATA_FILE, "a", "f"),
        ("a:@f", Kind.HEADER_FILE, "a", "f"),
    ],
)
def test_earliest_longest(word: str, kind: Kind, key: str, value: str) -> None:
    item = parse_item(word)
    assert (item.kind, item.key, item.value) == (kind, key, value)


@pytest.mark.parametrize(
    ("word", "kind", "key", "value"),
    [
        (r"a\=b=c", Kind.DATA, "a=b", "c"),
        (r"a\:b=c", Kind.DATA, "a:b", "c"),
        (r"a\@b.txt=1", Kind.DATA, "a@b.txt", "1"),
        (r"path=C:\Users\me", Kind.DATA, "path", r"C:\Users\me"),
        (r"a=b\=c", Kind.DATA, "a", "b=c"),
        (r"email=x\@y", Kind.DATA, "email", "x@y"),
        # As httpie: only separator characters can be escaped; "\\" is kept as typed (a
        # pair, so the "=" after it still splits), and so are "\[" and "\]" (nested JSON
        # reads those).
        (r"a\\=x", Kind.DATA, "a\\\\", "x"),
        (r"a\\\=b=x", Kind.DATA, "a\\\\=b", "x"),
        (r"a\[b\]==1", Kind.QUERY, r"a\[b\]", "1"),
        (r"a=x\\y", Kind.DATA, "a", r"x\\y"),
    ],
)
def test_backslash_escapes(word: str, kind: Kind, key: str, value: str) -> None:
    item = parse_item(word)
    assert (item.kind, item.key, item.value) == (kind, key, value)


def test_file_upload_type() -> None:
    item = parse_item("doc@report.bin;type=application/pdf")
    assert (item.kind, item.key, item.value, item.mime) == (
        Kind.FILE,
        "doc",
        "report.bin",
        "application/pdf",
    )
    escaped = parse_item(r"doc@odd\;type=x.bin")
    assert (escaped.value, escaped.mime) == ("odd;type=x.bin", None)


@pytest.mark.parametrize(
    ("word", "reason"),
    [
        ("plain", "is not a request item"),
        (":value", "empty header name"),
        ("Bad Name:x", "header name contains"),
        (r"X\[1\]:v", "header name contains"),
        ("X;value", "to send an empty header"),
        ("f@", "no file name"),
        ("a=@", "no file name"),
        ("a:=@", "no file name"),
        ("q==@", "no file name"),
    ],
)
def test_bad_items(word: str, reason: str) -> None:
    with pytest.raises(ItemError, match=reason) as info:
        parse_item(word)
    assert "\n" not in str(info.value)


def test_tokenize_keeps_unknown_escapes() -> None:
    assert tokenize(r"\n\:") == [("\\", False), ("n", False), (":", True)]


# --- properties -------------------------------------------------------------------------

any_text = st.text(st.characters(codec="utf-8"), max_size=20)
text = any_text.filter(representable)
token = st.text(
    st.sampled_from(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.!#$%&'*+^`|~"
    ),
    min_size=1,
    max_size=12,
)
data_separators = st.sampled_from(["==", "=", ":="])


@given(key=text, value=text, sep=data_separators)
def test_escaped_key_round_trips(key: str, value: str, sep: str) -> None:
    """Any key, escaped, survives; the value after the separator is kept whole."""
    item = parse_item(escape(key) + sep + escape(value))
    assert item.key == key
    assert item.value == value
    assert item.kind is SEPARATORS[sep]


@given(name=token, value=text)
def test_header_round_trips(name: str, value: str) -> None:
    item = parse_item(f"{name}:{escape(value)}")
    assert item.key == name
    assert item.value == value
    assert item.kind is (Kind.HEADER if value else Kind.HEADER_UNSET)


@given(word=any_text)
def test_parse_never_crashes(word: str) -> None:
    """Every word either parses or fails with a one-line ItemError."""
    try:
        item = parse_item(word)
    except ItemError as exc:
        assert "\n" not in str(exc).replace(repr(word), "")
        return
    assert item.word == word


@given(key=text, sep=st.sampled_from(sorted(SEPARATORS)), value=text)
def test_separator_is_the_earliest(key: str, sep: str, value: str) -> None:
    """With an escaped key and value, the split happens exactly after the key."""
    word = escape(key) + sep + escape(value)
    try:
        item = parse_item(word)
    except ItemError:
        return
    assert item.key == key
    assert item.kind in (SEPARATORS[sep], Kind.HEADER_UNSET, Kind.BODY_FILE)
