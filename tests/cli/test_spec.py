"""From command line to RequestSpec: method guess, URL sugar, headers, bodies, stdin."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli.exitcodes import UsageError
from cli.request.spec import JSON_ACCEPT, USER_AGENT, Inputs, RequestSpec, build_spec
from cli.request.urls import normalize_url, split_args


def spec(*args: str, **kwargs: object) -> RequestSpec:
    return build_spec(Inputs(args=args, **kwargs))  # type: ignore[arg-type]


def headers(s: RequestSpec) -> dict[str, str]:
    return dict(s.headers)


@pytest.mark.parametrize(
    ("args", "method", "url", "rest"),
    [
        (("example.org",), None, "example.org", ()),
        (("GET", "example.org"), "GET", "example.org", ()),
        (("post", "example.org", "a=1"), "POST", "example.org", ("a=1",)),
        (("PURGE", "example.org"), "PURGE", "example.org", ()),
        (("purge", "example.org"), "PURGE", "example.org", ()),
        (("purge", "http://h/x"), "PURGE", "http://h/x", ()),
        (("localhost", "a=1"), None, "localhost", ("a=1",)),
        (("localhost", "X-A:1"), None, "localhost", ("X-A:1",)),
        ((":8080/x", "q==1"), None, ":8080/x", ("q==1",)),
    ],
)
def test_split_args(
    args: tuple[str, ...], method: str | None, url: str, rest: tuple[str, ...]
) -> None:
    assert split_args(args) == (method, url, rest)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (":8080/x", "http://localhost:8080/x"),
        (":/x", "http://localhost/x"),
        (":", "http://localhost"),
        ("example.org", "http://example.org"),
        ("localhost:3000/a", "http://localhost:3000/a"),
        ("https://example.org/", "https://example.org/"),
        ("HTTP://example.org/", "HTTP://example.org/"),
    ],
)
def test_url_sugar(given: str, expected: str) -> None:
    assert normalize_url(given) == expected


@pytest.mark.parametrize("bad", ["ftp://example.org/", "/just/a/path", ""])
def test_bad_urls(bad: str) -> None:
    with pytest.raises(UsageError):
        spec(bad) if bad else split_args(())


def test_get_by_default_post_with_data() -> None:
    assert spec("example.org").method == "GET"
    assert spec("example.org", "a=1").method == "POST"
    assert spec("example.org", "q==1", "X-A:1").method == "GET"
    assert spec("PUT", "example.org", "a=1").method == "PUT"


def test_query_items_extend_the_url() -> None:
    s = spec("example.org/p?x=0", "q==a b", "q==2", "e==é")
    assert s.url == "http://example.org/p?x=0&q=a+b&q=2&e=%C3%A9"


def test_default_and_user_headers() -> None:
    s = spec("example.org", "X-A:1", "X-A:2", "Accept:text/html", "User-Agent:", "X-E;")
    assert s.headers == (("X-A", "1"), ("X-A", "2"), ("Accept", "text/html"), ("X-E", ""))
    assert s.skip_auto_headers == ("User-Agent",)
    assert headers(spec("example.org")) == {"User-Agent": USER_AGENT, "Accept": "*/*"}


def test_json_body() -> None:
    s = spec("example.org", "name=pie", "n:=3", "tags[]=a", "meta[x][y]:=true")
    assert s.body is not None
    assert json.loads(s.body) == {"name": "pie", "n": 3, "tags": ["a"], "meta": {"x": {"y": True}}}
    assert headers(s)["Content-Type"] == "application/json"
    assert headers(s)["Accept"] == JSON_ACCEPT


def test_json_flag_without_data_sets_accept_only() -> None:
    s = spec("example.org", json=True)
    assert s.body is None
    assert headers(s)["Accept"] == JSON_ACCEPT
    assert "Content-Type" not in headers(s)


def test_form_body() -> None:
    s = spec("example.org", "a=1", "b=x y", "c=&", form=True)
    assert s.body == b"a=1&b=x+y&c=%26"
    assert headers(s)["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_file_items(tmp_path: Path) -> None:
    (tmp_path / "bio.txt").write_text("hello\n")
    (tmp_path / "obj.json").write_text('{"k": [1]}')
    (tmp_path / "tok").write_text("secret\n")
    s = spec(
        "example.org",
        f"bio=@{tmp_path / 'bio.txt'}",
        f"obj:=@{tmp_path / 'obj.json'}",
        f"X-Token:@{tmp_path / 'tok'}",
        f"q==@{tmp_path / 'tok'}",
    )
    assert s.body is not None
    assert json.loads(s.body) == {"bio": "hello\n", "obj": {"k": [1]}}
    assert headers(s)["X-Token"] == "secret"
    assert s.url.endswith("?q=secret")


def test_upload_makes_multipart(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"A\x00B")
    s = spec("example.org", "f=1", f"up@{tmp_path / 'a.txt'};type=text/x-a")
    ctype = headers(s)["Content-Type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=")[1].encode()
    assert s.body is not None
    assert s.body.startswith(b"--" + boundary + b"\r\n")
    assert b'name="up"; filename="a.txt"\r\nContent-Type: text/x-a\r\n\r\nA\x00B\r\n' in s.body
    assert s.body.endswith(b"--" + boundary + b"--\r\n")
    with pytest.raises(UsageError, match="need --form or --multipart"):
        spec("example.org", f"up@{tmp_path / 'a.txt'}", json=True)


def test_whole_body_from_file(tmp_path: Path) -> None:
    (tmp_path / "b.xml").write_bytes(b"<a/>")
    s = spec("example.org", f"@{tmp_path / 'b.xml'}")
    assert (s.method, s.body) == ("POST", b"<a/>")
    assert headers(s)["Content-Type"] in ("application/xml", "text/xml")
    with pytest.raises(UsageError, match="cannot be mixed"):
        spec("example.org", f"@{tmp_path / 'b.xml'}", "a=1")


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read") as info:
        spec("example.org", f"a=@{tmp_path / 'nope'}")
    assert "\n" not in str(info.value)


def test_invalid_json_value() -> None:
    with pytest.raises(UsageError, match="invalid JSON"):
        spec("example.org", "a:={oops")


def test_raw_json_scalars_are_form_fields() -> None:
    s = spec("example.org", "a:=1", "b:=true", 'c:="x y"', "d:=1.50", "e=2", form=True)
    assert s.body == b"a=1&b=true&c=x+y&d=1.50&e=2"
    for bad in ("a:=[1]", "a:={}", "a:=null"):
        with pytest.raises(UsageError, match="only strings, numbers and booleans"):
            spec("example.org", bad, form=True)


def test_raw_json_scalars_are_multipart_fields(tmp_path: Path) -> None:
    s = spec("example.org", "n:=2", "t=x", multipart=True, boundary="B")
    assert s.body == (
        b'--B\r\nContent-Disposition: form-data; name="n"\r\n\r\n2\r\n'
        b'--B\r\nContent-Disposition: form-data; name="t"\r\n\r\nx\r\n--B--\r\n'
    )


def _stdin(data: bytes) -> object:
    calls: list[int] = []

    def read() -> bytes:
        calls.append(1)
        return data

    read.calls = calls  # type: ignore[attr-defined]
    return read


def test_stdin_only_when_asked() -> None:
    reader = _stdin(b"piped")
    kwargs = {"stdin_has_data": True, "read_stdin": reader}
    # Implicit GET never reads stdin, even when something is piped in.
    assert spec("example.org", **kwargs).body is None
    assert spec("GET", "example.org", **kwargs).body is None
    assert spec("POST", "example.org", "a=1", **kwargs).body != b"piped"
    assert spec("POST", "example.org", ignore_stdin=True, **kwargs).body is None
    assert reader.calls == []  # type: ignore[attr-defined]
    assert spec("POST", "example.org", **kwargs).body == b"piped"
    assert spec("example.org", "@-", **kwargs).body == b"piped"
    with pytest.raises(UsageError, match="ignore-stdin"):
        spec("example.org", "@-", ignore_stdin=True, **kwargs)


def test_unread_stdin_is_flagged() -> None:
    kwargs = {"stdin_has_data": True, "read_stdin": _stdin(b"piped")}
    assert spec("example.org", **kwargs).stdin_unread
    assert spec("POST", "example.org", "a=1", **kwargs).stdin_unread
    assert not spec("POST", "example.org", **kwargs).stdin_unread
    assert not spec("example.org", "@-", **kwargs).stdin_unread
    assert not spec("example.org", ignore_stdin=True, **kwargs).stdin_unread
    assert not spec("example.org").stdin_unread


def test_stdin_not_read_when_not_data() -> None:
    reader = _stdin(b"")
    assert spec("POST", "example.org", read_stdin=reader).body is None
    assert reader.calls == []  # type: ignore[attr-defined]


def test_conflicting_modes() -> None:
    with pytest.raises(UsageError, match="--json cannot be combined"):
        spec("example.org", json=True, form=True)


# --- httpie's request for the same command line (tests/cli/test_httpie_fidelity.py checks
# them on the wire; these pin each rule down) ---------------------------------------------


def test_whole_bodies_go_as_json_unless_typed(tmp_path: Path) -> None:
    (tmp_path / "noext").write_bytes(b"x")
    (tmp_path / "a.txt").write_bytes(b"x")
    (tmp_path / "empty").write_bytes(b"")
    stdin = {"stdin_has_data": True, "read_stdin": _stdin(b'{"x": 1}')}
    for s in (
        spec("example.org", raw="hello"),
        spec("POST", "example.org", **stdin),
        spec("example.org", "@-", **stdin),
        spec("example.org", f"@{tmp_path / 'noext'}"),
    ):
        assert headers(s)["Content-Type"] == "application/json"
        assert headers(s)["Accept"] == JSON_ACCEPT
    typed = spec("example.org", f"@{tmp_path / 'a.txt'}")
    assert headers(typed)["Content-Type"] == "text/plain"
    assert headers(typed)["Accept"] == JSON_ACCEPT
    assert headers(spec("example.org", "Content-Type:x/y", raw="1"))["Content-Type"] == "x/y"
    marked = spec("example.org", f"@{tmp_path / 'noext'};type=image/png")
    assert headers(marked)["Content-Type"] == "image/png"
    form = spec("example.org", raw="a=1", form=True)
    assert headers(form)["Content-Type"].startswith("application/x-www-form-urlencoded")
    assert headers(form)["Accept"] == "*/*"


def test_an_empty_body_has_no_type() -> None:
    for s in (spec("example.org", raw=""), spec("PUT", "example.org", stdin_has_data=True)):
        assert s.body == b""
        assert "Content-Type" not in headers(s)
        assert headers(s)["Accept"] == "*/*"
        assert "Content-Type" in s.skip_auto_headers  # the engine adds none either
    assert spec("example.org", raw="").method == "POST"
    assert headers(spec("example.org", raw="", json=True))["Content-Type"] == "application/json"


def test_form_sends_piped_data() -> None:
    s = spec("POST", "example.org", form=True, stdin_has_data=True, read_stdin=_stdin(b"a=1"))
    assert s.body == b"a=1"
    assert headers(s)["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_multipart_parts_in_argument_order(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_bytes(b"F")
    s = spec("example.org", "a=1", f"f@{tmp_path / 'f.txt'}", "b=2", form=True, boundary="B")
    assert s.body is not None
    assert s.body.index(b'name="a"') < s.body.index(b'name="f"') < s.body.index(b'name="b"')


def test_user_multipart_type_gets_the_boundary(tmp_path: Path) -> None:
    s = spec("example.org", "Content-Type:multipart/mixed", "a=1", multipart=True, boundary="B")
    assert headers(s)["Content-Type"] == "multipart/mixed; boundary=B"
    own = spec(
        "example.org",
        "Content-Type:multipart/form-data; boundary=XY",
        "a=1",
        form=True,
        multipart=True,
    )
    assert headers(own)["Content-Type"] == "multipart/form-data; boundary=XY"
    assert own.body is not None and own.body.startswith(b"--XY\r\n")
    with pytest.raises(UsageError, match="differs from the Content-Type"):
        spec(
            "example.org",
            "Content-Type:multipart/x; boundary=XY",
            "a=1",
            multipart=True,
            boundary="B",
        )


def test_part_type_cannot_inject_a_header(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"F")
    with pytest.raises(UsageError, match="line break"):
        spec("example.org", f"f@{tmp_path / 'f'};type=text/plain\r\nX-Injected: 1", form=True)


@pytest.mark.parametrize("value", ["a\r\nX-Injected: 1", "a\nb", "a\rb", "a\x00b"])
def test_header_values_cannot_break_the_head(value: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="CR, LF or NUL"):
        spec("example.org", f"X-A:{value}")
    (tmp_path / "v").write_text(value + "\n")
    with pytest.raises(UsageError, match="CR, LF or NUL"):
        spec("example.org", f"X-A:@{tmp_path / 'v'}")


def test_header_values_are_stripped() -> None:
    assert headers(spec("example.org", "X-A:  a b  ", "X-B:   "))["X-A"] == "a b"
    assert headers(spec("example.org", "X-B:   "))["X-B"] == ""


def test_content_length_is_the_body_s() -> None:
    s = spec("example.org", "Content-Length:5", "a=1")
    assert "content-length" not in {k.lower() for k, _ in s.headers}  # the engine counts
    assert headers(spec("POST", "example.org", "Content-Length:0"))["Content-Length"] == "0"
    for word in ("Content-Length:5", "content-length:x"):
        with pytest.raises(UsageError, match="without a body"):
            spec("example.org", word)


def test_credentials_from_the_url_or_auth() -> None:
    s = spec("http://u%40x:p%C3%A4ss@example.org/x")
    assert (s.url, s.auth) == ("http://example.org/x", ("u@x", "päss"))
    s = spec("http://x:y@example.org/", "Authorization:Bearer t", auth=("u", "p"))
    assert (s.url, s.auth) == ("http://example.org/", ("u", "p"))
    assert "Authorization" not in headers(s)  # -a wins, as with httpie
    assert headers(spec("example.org", "Authorization:Bearer t"))["Authorization"] == "Bearer t"
    with pytest.raises(UsageError, match="not UTF-8"):
        spec("http://u:%FF@example.org/")


def test_urls_keep_what_was_typed() -> None:
    assert spec("example.org/a%2Fb?x=b c&y=%2F&z=+#frag", "q==b c").url == (
        "http://example.org/a%2Fb?x=b%20c&y=%2F&z=+&q=b+c"
    )
    assert spec("example.org/ü?ä=1&bad=%zz").url == "http://example.org/%C3%BC?%C3%A4=1&bad=%25zz"
    assert spec("://example.org/x").url == "http://example.org/x"
    assert spec("http://example.org").url == "http://example.org/"
    assert spec("http://example.org/p?").url == "http://example.org/p"


def test_an_empty_file_is_typed_by_its_name_only(tmp_path: Path) -> None:
    (tmp_path / "e.txt").write_bytes(b"")
    (tmp_path / "e").write_bytes(b"")
    assert headers(spec("example.org", f"@{tmp_path / 'e.txt'}"))["Content-Type"] == "text/plain"
    assert headers(spec("example.org", f"@{tmp_path / 'e.txt'}"))["Accept"] == "*/*"
    assert "Content-Type" not in headers(spec("example.org", f"@{tmp_path / 'e'}"))
    typed = spec("example.org", f"@{tmp_path / 'e'};type=x/y")
    assert headers(typed)["Content-Type"] == "x/y"


def test_dot_segments_resolve_and_brackets_are_escaped() -> None:
    # As curl and httpie (urllib3) send them; RFC 3986 §5.2.4 and §3.3.
    assert spec("example.org/a/b/../c/./d").url == "http://example.org/a/c/d"
    assert spec("example.org/a/..").url == "http://example.org/"
    assert spec("example.org/../x").url == "http://example.org/x"
    assert spec("example.org/a/./").url == "http://example.org/a/"
    assert spec("example.org/.well-known/x..y").url == "http://example.org/.well-known/x..y"
    assert spec("example.org/[x]?a=[1]").url == "http://example.org/%5Bx%5D?a=%5B1%5D"
