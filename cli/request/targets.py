"""Several URLs in one command line, ``--urls-from`` and ``--repeat``: the requests of a run.

Rules:
- Grammar: ``zurl [METHOD] URL [URL ...] [ITEM ...]``. After the first URL, each word that
  is unmistakably a URL — it has a scheme (``https://``), is the ``:port``/``:/path``
  shorthand, or is not a request item at all (``example.org/x``) — is another URL, up to
  the first item. ``host:8080`` reads as a header item there: write ``http://host:8080``.
- The method and the items apply to every URL; ``--urls-from`` URLs come after them.
  ``-a`` applies to every URL too; credentials in a URL (``http://u:p@host/``) are that
  URL's alone.
- An item that reads like ``host:port[/path]`` (``127.0.0.1:8080/x``) is a header by the
  grammar; ``hints`` says so in one line, so a second URL is not lost without a word.
"""

import re
from collections.abc import Callable
from typing import NamedTuple

from cli.exitcodes import UsageError
from cli.request.items import ItemError, Kind, looks_like_item, parse_items
from cli.request.spec import RequestSpec, read_file, url_credentials
from cli.request.urls import KNOWN_METHODS, SCHEME, normalize_url, split_args, with_query

# A bare host (and port, and path): compiled on first use by ``re``'s own cache.
_HOST_PORT = (
    r"^(\[[0-9a-fA-F:.]+\]|localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+):(\d{1,5})([/?#]\S*)?$"
)
_BARE_URL = (
    r"^(\[[0-9a-fA-F:.]+\]|localhost|[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?)(:\d+)?([/?#]\S*)?$"
)


class Targets(NamedTuple):
    """The command line split for ``build_spec`` (one URL) plus the other URLs."""

    args: tuple[str, ...]  # [METHOD] URL ITEM...
    more: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    stdin_used: bool = False  # --urls-from - read standard input
    hints: tuple[str, ...] = ()  # items that look like a URL (see the rules)


def _looks_like_url(word: str) -> bool:
    if SCHEME.match(word):
        return True
    if word.startswith(":") and (len(word) == 1 or word[1].isdigit() or word[1] == "/"):
        return True
    # A host with a dot (or localhost, or [v6]) and nothing else an item could be: a typo
    # such as ``Bad Header:x`` stays an item and fails as one.
    return bool(re.match(_BARE_URL, word)) and not looks_like_item(word)


def _has_method(words: list[str], more_urls: bool) -> bool:
    first = words[0]
    if not (first.isascii() and first.isalpha()):
        return False
    if len(words) >= 2:
        return split_args(tuple(words))[0] is not None
    return more_urls and (first.upper() in KNOWN_METHODS or first.isupper())


def read_urls(path: str | None, read_stdin: Callable[[], bytes]) -> list[str]:
    """The URLs of ``--urls-from``: one per line; blank lines and ``#`` comments skipped."""
    if path is None:
        return []
    if path == "-":
        data = read_stdin()
    else:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError as exc:
            raise UsageError(f"--urls-from {path!r}: {exc.strerror or exc}") from None
    text = data.decode("utf-8", "replace")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def targets(
    args: tuple[str, ...], urls_from: str | None, read_stdin: Callable[[], bytes]
) -> Targets:
    """Split ``args`` (the positional words) into the first request and the other URLs;
    ``urls_from`` is ``--urls-from``'s file ('-': standard input)."""
    words = list(args)
    if urls_from == "-" and any(word.endswith("@-") for word in words):
        raise UsageError("--urls-from - and an @- item cannot both read standard input")
    listed = read_urls(urls_from, read_stdin)
    if urls_from is not None and not listed:
        raise UsageError(f"--urls-from {urls_from!r}: no URLs in it")
    method = words[:1] if words and _has_method(words, bool(listed)) else []
    rest = words[len(method) :]
    urls: list[str] = []
    if rest and not (listed and looks_like_item(rest[0]) and not SCHEME.match(rest[0])):
        urls.append(rest.pop(0))
        while rest and _looks_like_url(rest[0]):
            urls.append(rest.pop(0))
    urls += listed
    if not urls:
        return Targets(tuple(words))  # build_spec names the missing URL
    hints = tuple(
        f"note: {word!r} is read as a header ({word.split(':', 1)[0]}); "
        f"write http://{word} for another URL"
        for word in rest
        if re.match(_HOST_PORT, word)
    )
    return Targets(
        (*method, urls[0], *rest), tuple(urls[1:]), tuple(rest), urls_from == "-", hints
    )


def _query(words: tuple[str, ...]) -> list[tuple[str, str]]:
    try:
        items = parse_items(list(words))
    except ItemError as exc:
        raise UsageError(str(exc)) from None
    params = []
    for item in items:
        if item.kind is Kind.QUERY:
            params.append((item.key, item.value))
        elif item.kind is Kind.QUERY_FILE:
            text = read_file(item.value, item.word).decode("utf-8", "replace")
            params.append((item.key, text.rstrip("\r\n")))
    return params


def _for_url(spec: RequestSpec, word: str, params: list[tuple[str, str]]) -> RequestSpec:
    """``spec`` sent to another URL (its query items added, as to the first one)."""
    url, own = url_credentials(with_query(normalize_url(word), params))
    if spec.auth is not None and not spec.auth_from_url:  # -a: every URL
        return spec._replace(url=url)
    return spec._replace(url=url, auth=own, auth_type="basic", auth_from_url=own is not None)


def expand(spec: RequestSpec, found: Targets, repeat: int = 1) -> list[RequestSpec]:
    """Every request of the run, in order: each URL ``repeat`` times."""
    specs = [spec]
    if found.more:
        params = _query(found.items)
        specs += [_for_url(spec, word, params) for word in found.more]
    return [each for each in specs for _ in range(repeat)]
