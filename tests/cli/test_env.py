"""Environment: what counts as piped input, and one-line diagnostics."""

from __future__ import annotations

import io
import os
from pathlib import Path

from cli.env import Environment, _is_data


def test_pipes_and_files_are_data(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        with open(read_end, "rb", closefd=False) as pipe:
            assert _is_data(pipe)
    finally:
        os.close(read_end)
        os.close(write_end)
    path = tmp_path / "f"
    path.write_bytes(b"x")
    with path.open("rb") as regular:
        assert _is_data(regular)


def test_devnull_and_memory_streams_are_not() -> None:
    with open(os.devnull, "rb") as devnull:
        assert not _is_data(devnull)
    assert not _is_data(io.BytesIO(b"x"))


def test_error_is_one_prefixed_line() -> None:
    env = Environment(stdin=io.BytesIO(), stdout=io.BytesIO(), stderr=io.BytesIO())
    env.error("cannot connect to h:80: Connection refused")
    assert env.stderr.getvalue() == b"zurl: cannot connect to h:80: Connection refused\n"  # type: ignore[attr-defined]


def test_from_system_has_binary_streams() -> None:
    env = Environment.from_system()
    assert hasattr(env.stdout, "write")
    assert env.columns > 0
