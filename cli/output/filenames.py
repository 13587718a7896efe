"""File names for ``--download``: from Content-Disposition or the URL, made safe.

Rules:
- A name a server chose is only ever a single path component in the current directory:
  directory parts (``/`` and ``\\``), ``.``/``..``, control and invisible format
  characters (bidi overrides), leading dots (no hidden files) and trailing dots or spaces
  are removed; what is left is cut to 255 bytes, keeping the extension.
- ``filename*`` (RFC 5987/8187, ``UTF-8''caf%C3%A9.txt``) wins over ``filename``
  (RFC 6266 §4.3); a value that does not decode is ignored rather than guessed at.
- An existing file is never replaced unless asked: the name gets ``-1``, ``-2``, ...
  before its extension (``report.pdf`` → ``report-1.pdf``).
"""

from __future__ import annotations

import mimetypes
import os
import unicodedata
from urllib.parse import unquote, unquote_to_bytes, urlsplit

MAX_NAME_BYTES = 255  # NAME_MAX on Linux, macOS and the usual file systems
FALLBACK = "index"
# Characters no portable file system accepts in a name; replaced, not dropped.
_RESERVED = set('<>:"|?*')
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in range(1, 10)
}


def _split_params(value: str) -> list[tuple[str, str]]:
    """``type; a=1; b="x;y"`` → [("a", "1"), ("b", "x;y")]; quoted strings unescaped."""
    params: list[tuple[str, str]] = []
    i, n = value.find(";"), len(value)
    if i < 0:
        return params
    i += 1
    while i < n:
        eq = value.find("=", i)
        semi = value.find(";", i)
        if eq < 0 or (0 <= semi < eq):  # a parameter without a value: skip it
            if semi < 0:
                break
            i = semi + 1
            continue
        name = value[i:eq].strip().lower()
        i = eq + 1
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            out = []
            i += 1
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n:
                    i += 1
                out.append(value[i])
                i += 1
            text = "".join(out)
            semi = value.find(";", i)
            i = n if semi < 0 else semi + 1
        else:
            semi = value.find(";", i)
            end = n if semi < 0 else semi
            text = value[i:end].strip()
            i = end + 1
        params.append((name, text))
    return params


def _extended(value: str) -> str | None:
    """RFC 8187 ``charset'lang'pct-encoded`` → text, or None when it does not decode."""
    charset, sep, rest = value.partition("'")
    _lang, sep2, encoded = rest.partition("'")
    if not sep or not sep2:
        return None
    try:
        return unquote_to_bytes(encoded).decode(charset.strip() or "utf-8")
    except (LookupError, UnicodeDecodeError):
        return None


def from_content_disposition(value: str) -> str | None:
    """The file name a Content-Disposition header suggests (not yet sanitised)."""
    plain: str | None = None
    for name, text in _split_params(value):
        if name == "filename*":
            decoded = _extended(text)
            if decoded is not None:
                return decoded
        elif name == "filename" and plain is None:
            plain = text
    return plain


def sanitize(name: str) -> str:
    """One safe path component from anything a server sent ('' when nothing is left)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = []
    for ch in unicodedata.normalize("NFC", name):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            continue  # control, invisible formatting (bidi tricks), unassigned
        kept.append("_" if ch in _RESERVED else " " if category == "Zs" else ch)
    name = "".join(kept).strip().lstrip(".").rstrip(". ")
    if name.split(".", 1)[0].upper() in _WINDOWS_DEVICES:
        name = "_" + name
    return _truncate(name)


def _truncate(name: str, suffix: str = "") -> str:
    """``name`` with ``suffix`` before its extension, cut to fit in MAX_NAME_BYTES."""
    stem, ext = os.path.splitext(name)
    if len(ext.encode("utf-8")) > 32:  # not an extension worth keeping
        stem, ext = name, ""
    budget = MAX_NAME_BYTES - len((suffix + ext).encode("utf-8"))
    cut = stem.encode("utf-8")[:budget].decode("utf-8", "ignore")
    return cut + suffix + ext


def from_url(url: str) -> str:
    """The last path segment of ``url`` ('' for ``/`` or a path ending in ``/``)."""
    return unquote(urlsplit(url).path.rsplit("/", 1)[-1])


def choose(content_disposition: str | None, url: str, content_type: str | None) -> str:
    """The download's file name: the server's suggestion, else the URL's, else ``index``.

    A name from the URL without an extension gets one from the Content-Type, as httpie
    does (``/api/data`` served as JSON → ``data.json``).
    """
    if content_disposition:
        suggested = from_content_disposition(content_disposition)
        if suggested is not None:
            safe = sanitize(suggested)
            if safe:
                return safe
    name = sanitize(from_url(url)) or FALLBACK
    if not os.path.splitext(name)[1] and content_type:
        media = content_type.split(";", 1)[0].strip().lower()
        ext = ".txt" if media == "text/plain" else mimetypes.guess_extension(media)
        if ext:
            name = _truncate(name + ext)
    return name


def unused(name: str, directory: str = ".") -> str:
    """``name``, or ``name-1.ext``, ``name-2.ext``, ... whichever does not exist yet.

    The ``.part`` file of a candidate counts as taken: another download may be writing it.
    """

    def taken(candidate: str) -> bool:
        path = os.path.join(directory, candidate)
        return os.path.lexists(path) or os.path.lexists(path + ".part")

    if not taken(name):
        return name
    attempt = 1
    while True:
        candidate = _truncate(name, f"-{attempt}")
        if not taken(candidate):
            return candidate
        attempt += 1
