"""Pure text → text helpers shared by the plain and the rich renderers."""

from __future__ import annotations

import json

from cli.messages import Headers, RequestMessage, ResponseMessage

BINARY_NOTE = (
    "+-----------------------------------------+\n"
    "| NOTE: binary data not shown in terminal |\n"
    "+-----------------------------------------+"
)
# A NUL in the first bytes is how httpie and git tell binary from text.
SNIFF_BYTES = 4096

_LEXERS = (
    ("json", "json"),
    ("html", "html"),
    ("xml", "xml"),
    ("javascript", "javascript"),
    ("ecmascript", "javascript"),
    ("css", "css"),
    ("yaml", "yaml"),
)


def request_line(msg: RequestMessage) -> str:
    return f"{msg.method} {msg.target} HTTP/{msg.http_version}"


def status_line(msg: ResponseMessage) -> str:
    return f"HTTP/{msg.http_version} {msg.status} {msg.reason}".rstrip()


def header_pairs(
    msg: RequestMessage | ResponseMessage, *, raw: bool, sort: bool, show_secrets: bool = False
) -> Headers:
    """Headers to show: exactly as received with ``raw``, else optionally sorted by name;
    credentials and cookie values masked unless ``show_secrets`` (cli/masking.py)."""
    if raw and isinstance(msg, ResponseMessage) and msg.raw_headers:
        pairs = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in msg.raw_headers)
    elif sort:
        pairs = tuple(sorted(msg.headers, key=lambda kv: kv[0].lower()))
    else:
        pairs = msg.headers
    from cli.masking import mask_headers

    return mask_headers(pairs, show=show_secrets)


def head_text(
    msg: RequestMessage | ResponseMessage, *, raw: bool, sort: bool, show_secrets: bool = False
) -> str:
    first = request_line(msg) if isinstance(msg, RequestMessage) else status_line(msg)
    pairs = header_pairs(msg, raw=raw, sort=sort, show_secrets=show_secrets)
    lines = [first, *(f"{k}: {v}" for k, v in pairs)]
    return "\n".join(lines) + "\n"


def meta_text(msg: ResponseMessage) -> str:
    lines = [f"Elapsed time: {msg.elapsed:.6f}s"]
    if msg.remote_address:
        lines.append(f"Remote address: {msg.remote_address}")
    if msg.reused_connection is not None:
        lines.append(f"Connection: {'reused' if msg.reused_connection else 'new'}")
    return "\n".join(lines) + "\n"


def charset_of(content_type: str) -> str | None:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            return value.strip("\"'")
    return None


def is_binary(body: bytes) -> bool:
    return b"\0" in body[:SNIFF_BYTES]


def decode_body(body: bytes, content_type: str) -> str | None:
    """The body as text, or None when it is binary and must not reach a terminal."""
    if is_binary(body):
        return None
    charset = charset_of(content_type)
    if charset:
        try:
            return body.decode(charset, "replace")
        except LookupError:
            pass
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        if content_type.lower().startswith("text/"):
            return body.decode("latin-1")
        return None


def lexer_for(content_type: str) -> str | None:
    """A pygments lexer name for the media type, or None for plain text."""
    media = content_type.split(";", 1)[0].strip().lower()
    for needle, lexer in _LEXERS:
        if needle in media:
            return lexer
    return None


def format_body(text: str, content_type: str) -> tuple[str, str | None]:
    """Indent JSON (keys in the server's order); returns the text and its lexer.

    JSON nested too deeply to parse or write back (``[[[[…`` 200,000 deep) is shown as it
    came: the parser and the encoder recurse, and a server chooses the depth.
    """
    lexer = lexer_for(content_type)
    if lexer != "json" and not text.lstrip().startswith(("{", "[")):
        return text, lexer
    try:
        return json.dumps(json.loads(text), indent=4, ensure_ascii=False), "json"
    except (ValueError, RecursionError):
        return text, lexer
