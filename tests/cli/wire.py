"""Requests as a server received them, normalised for comparing two clients.

``normalise`` keeps every byte that matters and forgets only what two clients may
legitimately disagree on for the same command line: the order of header lines, the
default ``User-Agent`` value, multipart boundary strings and the test server's port in
``Host``. Header lines are compared as sent (name spelling and value bytes).
"""

from __future__ import annotations

import dataclasses
import re

HEAD_END = b"\r\n\r\n"
DEFAULT_AGENTS = (re.compile(rb"HTTPie/[0-9.]+"), re.compile(rb"zurl/[0-9.a-z+-]+"))
_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class Wire:
    """One request: its request line, header lines (sorted by name) and body bytes."""

    line: bytes
    headers: tuple[bytes, ...]
    body: bytes

    def header(self, name: str) -> list[bytes]:
        """The values of header ``name`` (case-insensitive), as sent."""
        wanted = name.lower().encode()
        return [
            line.partition(b":")[2].strip()
            for line in self.headers
            if line.partition(b":")[0].lower() == wanted
        ]

    def without(self, name: str) -> Wire:
        wanted = name.lower().encode()
        kept = tuple(h for h in self.headers if h.partition(b":")[0].lower() != wanted)
        return dataclasses.replace(self, headers=kept)

    def with_header(self, line: bytes) -> Wire:
        return dataclasses.replace(self, headers=_sorted((*self.headers, line)))

    def show(self) -> str:
        lines = [self.line, *self.headers, b"", self.body]
        return "\n".join(repr(line)[2:-1] for line in lines)


def _sorted(lines: tuple[bytes, ...] | list[bytes]) -> tuple[bytes, ...]:
    # Stable: two lines of one name keep their order, which is meaningful.
    return tuple(sorted(lines, key=lambda line: line.partition(b":")[0].lower()))


def parse(raw: bytes) -> Wire:
    """A received request (one connection's bytes) split into its parts, in wire order."""
    head, _, body = raw.partition(HEAD_END)
    line, *headers = head.split(b"\r\n")
    return Wire(line, tuple(headers), body)


def parse_printed(printed: bytes) -> Wire:
    """A request as ``--offline`` prints it (lines may end in LF alone), in its order."""
    found = re.search(rb"\r?\n\r?\n", printed)
    if found:
        head, body = printed[: found.start()], printed[found.end() :]
    else:  # no body: the head's last line break ends the output
        head, body = printed.rstrip(b"\r\n"), b""
    line, *headers = re.split(rb"\r?\n", head)
    return Wire(line, tuple(headers), body)


def normalise(wire: Wire, port: int) -> Wire:
    """``wire`` in name order, with the port, the default User-Agent and boundaries made
    neutral."""
    headers: list[bytes] = []
    for line in wire.headers:
        name, _, value = line.partition(b":")
        if name.lower() == b"host":
            value = value.replace(b":%d" % port, b":PORT")
        elif name.lower() == b"user-agent":
            for agent in DEFAULT_AGENTS:
                value = agent.sub(b"DEFAULT-AGENT", value)
        headers.append(name + b":" + value)
    return neutral_boundaries(Wire(wire.line, _sorted(headers), wire.body))


def neutral_boundaries(wire: Wire) -> Wire:
    """``wire`` with its multipart boundaries written BOUNDARY (each run draws its own)."""
    for boundary in _boundaries(wire):
        wire = Wire(
            wire.line,
            tuple(h.replace(boundary, b"BOUNDARY") for h in wire.headers),
            wire.body.replace(b"--" + boundary, b"--BOUNDARY"),
        )
    return wire


def _boundaries(wire: Wire) -> list[bytes]:
    """The boundary the Content-Type names, and the one the body opens with."""
    types = wire.header("content-type")
    found = [m.group(1) for value in types for m in _BOUNDARY.finditer(value)]
    first = wire.body.split(b"\r\n", 1)[0]
    if first.startswith(b"--") and len(first) > 2 and b" " not in first:
        found.append(first[2:])
    return sorted(set(found), key=len, reverse=True)
