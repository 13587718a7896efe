"""Options that change the request beyond its items: ``--compress``, ``--chunked``,
``--boundary`` and the headers of a download.

``--compress/-x`` deflates the request body here, in the CLI, so ``-v`` and ``--offline``
show exactly the bytes sent. httpie's semantics: the body is replaced (and
``Content-Encoding: deflate`` added) only when that makes it smaller; ``-xx`` always.
"deflate" is the zlib format (RFC 9110 §8.4.1.2, RFC 1950), as httpie and curl send it.

A download (``--download``/``--output``) asks for ``Accept-Encoding: identity``, so byte
ranges count the file's own bytes, and ``Range: bytes=N-`` when it resumes at byte N.
"""

from __future__ import annotations

import re
import zlib

from cli.exitcodes import UsageError
from cli.request.spec import RequestSpec


def compress(spec: RequestSpec, level: int) -> RequestSpec:
    """The spec with its body deflated (``level`` 1: only if smaller; 2+: always)."""
    if not level or spec.body is None:
        return spec
    if any(k.lower() == "content-encoding" for k, _ in spec.headers):
        raise UsageError("--compress: the body already has a Content-Encoding header")
    deflated = zlib.compress(spec.body)
    if len(deflated) >= len(spec.body) and level < 2:
        return spec  # it would not shrink: send it as it is (-xx forces it)
    headers = (*spec.headers, ("Content-Encoding", "deflate"))
    return spec._replace(body=deflated, headers=headers)


# RFC 2046 §5.1.1: 1-70 characters from this set, not ending in a space.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]")


def check_boundary(boundary: str | None) -> None:
    if boundary is not None and not _BOUNDARY.fullmatch(boundary):
        raise UsageError(
            f"--boundary {boundary!r}: 1-70 letters, digits or '()+_,-./:=? (RFC 2046)"
        )


def chunked(spec: RequestSpec) -> RequestSpec:
    """``--chunked``: the body goes with ``Transfer-Encoding: chunked``."""
    return spec._replace(chunked=True)


def for_download(spec: RequestSpec, resume_from: int = 0) -> RequestSpec:
    """The request a download sends: identity encoding, and a Range when it resumes."""
    names = {k.lower() for k, _ in spec.headers}
    headers = list(spec.headers)
    if "accept-encoding" not in names:
        headers.append(("Accept-Encoding", "identity"))
    if resume_from:
        if "range" in names:
            raise UsageError("--continue sets the Range header itself; drop the Range item")
        headers.append(("Range", f"bytes={resume_from}-"))
    return spec._replace(headers=tuple(headers))
