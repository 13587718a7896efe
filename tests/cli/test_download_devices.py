"""`-o` to something that is not a regular file is written in place, never replaced."""

from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from tests.cli.conftest import zurl
from tests.servers.keepalive import KeepAliveServerFactory

pytestmark = pytest.mark.timeout(30)


async def test_output_to_dev_null_leaves_the_device_alone(
    keepalive_server: KeepAliveServerFactory,
) -> None:
    server = await keepalive_server()
    result = await asyncio.to_thread(zurl, "-o", os.devnull, server.url + "/bytes/5000")
    assert result.code == 0, result.err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert not os.path.exists(os.devnull + ".part")


async def test_output_to_a_fifo_streams_into_it(
    keepalive_server: KeepAliveServerFactory, tmp_path: Path
) -> None:
    server = await keepalive_server()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)

    def drain() -> bytes:
        with open(fifo, "rb") as reader:
            return reader.read()

    reading = asyncio.create_task(asyncio.to_thread(drain))
    result = await asyncio.to_thread(zurl, "-o", str(fifo), server.url + "/bytes/3000")
    received = await reading
    assert result.code == 0, result.err
    assert len(received) == 3000
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]
