"""Streaming benchmark: a 1 GiB download from loopback, throughput and peak memory.

Run (peers env, see bench/README.md):

    bench/.peers/bin/python bench/stream.py             # ~1 minute
    bench/.peers/bin/python bench/stream.py --rounds 1 --mib 256
    bench/.peers/bin/python bench/stream.py --rev HEAD   # committed code, not the working tree

A private nginx (bench/_nginx.py, sendfile on) serves a sparse 1 GiB file from a temp dir;
zurl's code is a snapshot taken at the start (bench/_tree.py), run as in bench/cli.py.
Each round downloads it once with each of, in a fresh process and a rotating order:

    engine    zurl's `client`: resp.content.iter_chunked(1 MiB), chunks discarded
    aiohttp   the same code with aiohttp
    httpx     httpx.AsyncClient.stream + aiter_raw(), chunks discarded
    curl      curl -s -o /dev/null URL
    zurl -o   zurl -o /dev/null URL (the console script, in bench/.peers/cli-env)

Before 06a8c5a zurl saved `-o FILE` by rename, which with --overwrite swapped /dev/null for
a regular file. So a probe first runs `zurl -o NODE` on a private null device node (mknod in
a temp dir); only if NODE survives does the row use `-o /dev/null`, else `-o -` into a
/dev/null stdout. Every run ends with a check that /dev/null is still a character device.

Figures, medians over rounds, MB = 10^6 bytes:
- "xfer MB/s": bytes / time of the transfer itself (request sent to last byte; for the Python
  clients measured inside the process, for curl its own `%{time_total}`), so interpreter
  start-up is not counted. Engine targets: >= 0.9x curl and >= 4x aiohttp.
- "wall MB/s": bytes / wall time of the whole process. `zurl -o` target: >= 0.8x curl.
- "CPU s": user + system time of the whole process (os.wait4), start-up included.
- "peak RSS": the process's ru_maxrss (os.wait4). Target: < 60 MB for zurl's rows.
Ratios are of the medians; "per-round median" is the median of the ratios within a round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import stat
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from _nginx import nginx_server
from _tree import CLEAN_PY, ENV, describe, ensure_clean_env, snapshot, worker_env

HERE = Path(__file__).resolve().parent
PEERS_BIN = HERE / ".peers" / "bin"
CLIENTS = ("engine", "aiohttp", "httpx", "curl", "zurl -o")
CHUNK = 1 << 20
TIMEOUT = 120.0  # seconds per download before the process is killed
ZURL_OUT = ["-o", "-"]  # becomes ["-o", "/dev/null"] once a probe shows that is safe


# ---------------------------------------------------------------- worker side (subprocess)


async def _aiohttp_like(mod: Any, url: str) -> int:
    async with mod.ClientSession() as session, session.get(url) as resp:
        if resp.status != 200:
            raise RuntimeError(f"status {resp.status}")
        got = 0
        async for chunk in resp.content.iter_chunked(CHUNK):
            got += len(chunk)
        return got


async def _httpx(url: str) -> int:
    import httpx

    async with httpx.AsyncClient() as session, session.stream("GET", url) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"status {resp.status_code}")
        got = 0
        async for chunk in resp.aiter_raw():
            got += len(chunk)
        return got


def run_worker(client: str, url: str) -> None:
    """Download once, print {"bytes", "seconds"} as JSON."""
    if client == "httpx":
        coro = _httpx
    else:
        if client == "engine":
            import client as mod
        else:
            import aiohttp as mod

        def coro(url: str) -> Any:
            return _aiohttp_like(mod, url)

    start = time.perf_counter()
    got = asyncio.run(coro(url))
    print(json.dumps({"bytes": got, "seconds": time.perf_counter() - start}))


# ---------------------------------------------------------------- parent side


def python() -> str:
    return str(PEERS_BIN / "python") if (PEERS_BIN / "python").exists() else sys.executable


def command(client: str, url: str, tree: Path) -> list[str]:
    if client == "curl":
        return [
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            '{"bytes": %{size_download}, "seconds": %{time_total}}',
            url,
        ]
    if client == "zurl -o":
        return [str(CLEAN_PY), str(tree / "zurl"), *ZURL_OUT, url]
    return [python(), __file__, "--worker", client, "--url", url]


def run_measured(
    cmd: list[str], env: dict[str, str], quiet: bool = False
) -> tuple[float, float, int, str, int]:
    """Run `cmd`: (wall s, CPU s, peak RSS KiB, stdout, exit code). Killed after TIMEOUT.

    With `quiet` its stdout is /dev/null (and the returned stdout empty)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL if quiet else out, stderr=err, env=env
        )
        watchdog = threading.Timer(TIMEOUT, proc.kill)
        watchdog.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        watchdog.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text = out.read().decode(errors="replace")
        if proc.returncode != 0:
            text = err.read().decode(errors="replace")
        check_dev_null()
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, text, proc.returncode


def check_dev_null() -> None:
    """Stop at once if a client replaced /dev/null (a save-by-rename onto a device does)."""
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        sys.exit(
            "/dev/null is no longer a character device: restore it (as root: "
            "rm /dev/null && mknod -m 666 /dev/null c 1 3)"
        )


def probe_zurl_dev_null(url: str, tree: Path) -> str:
    """Use `-o /dev/null` if zurl writes a device in place; try it on a private null node."""
    with tempfile.TemporaryDirectory() as tmp:
        node = Path(tmp) / "null"
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except OSError as exc:
            return f"zurl -o - > /dev/null (no probe: {exc})"
        cmd = [str(CLEAN_PY), str(tree / "zurl"), "-o", str(node), url]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=ENV)
        if done.returncode == 0 and stat.S_ISCHR(os.lstat(node).st_mode):
            ZURL_OUT[1] = "/dev/null"
            return "zurl -o /dev/null"
        why = (done.stderr.strip().splitlines() or ["replaced the device"])[-1][:80]
        return f"zurl -o - > /dev/null (-o DEVICE fails: {why})"


def available(client: str, url: str, tree: Path) -> str | None:
    """None if `client` fetches the small resource fine, else why not."""
    *_, text, code = run_measured(
        command(client, url, tree), worker_env(tree), quiet=client == "zurl -o"
    )
    if code != 0:
        lines = text.strip().splitlines() or [f"exit {code}"]
        return f"exit {code}: {lines[-1][:120]}"
    return None


def bench(args: argparse.Namespace, base: str, size: int, tree: Path) -> None:
    url = f"{base}/files/big.bin"
    env = worker_env(tree)
    how = probe_zurl_dev_null(f"{base}/small", tree)
    missing = {c: why for c in CLIENTS if (why := available(c, f"{base}/small", tree))}
    clients = [c for c in CLIENTS if c not in missing]
    xfer: dict[str, dict[int, float]] = {c: {} for c in clients}  # client -> round -> MB/s
    wall: dict[str, dict[int, float]] = {c: {} for c in clients}
    rss: dict[str, dict[int, float]] = {c: {} for c in clients}  # client -> round -> KiB
    cpu: dict[str, dict[int, float]] = {c: {} for c in clients}  # client -> round -> CPU s
    run_measured(command("curl", url, tree), env)  # untimed: warms nginx and the page cache
    for rnd in range(args.rounds):
        for client in clients[rnd % len(clients) :] + clients[: rnd % len(clients)]:
            seconds, cpu_s, peak_kib, text, code = run_measured(
                command(client, url, tree), env, quiet=client == "zurl -o"
            )
            if code != 0:
                missing.setdefault(client, f"failed: {text.strip()[-120:]}")
                continue
            wall[client][rnd] = size / seconds / 1e6
            rss[client][rnd] = peak_kib
            cpu[client][rnd] = cpu_s
            if client != "zurl -o":
                result = json.loads(text.strip().splitlines()[-1])
                if result["bytes"] != size:
                    missing.setdefault(client, f"got {result['bytes']} of {size} bytes")
                xfer[client][rnd] = size / result["seconds"] / 1e6
            print(
                f"round {rnd + 1}/{args.rounds} {client:8} {size / seconds / 1e6:8.0f} MB/s "
                f"wall, peak RSS {peak_kib / 1024:.0f} MiB",
                file=sys.stderr,
                flush=True,
            )
    report(args, size, xfer, wall, rss, cpu, missing)
    print(f"the zurl -o row ran as: {how}")


Table = dict[str, dict[int, float]]


def report(
    args: argparse.Namespace,
    size: int,
    xfer: Table,
    wall: Table,
    rss: Table,
    cpu: Table,
    missing: dict[str, str],
) -> None:
    def med(d: Table, c: str) -> float | None:
        return statistics.median(d[c].values()) if d.get(c) else None

    def cell(v: float | None, fmt: str) -> str:
        return f"{v:{fmt}}" if v is not None else f"{'n/a':>10}"

    print(
        f"\nstream: {size / 2**20:.0f} MiB download, medians over {args.rounds} rounds; "
        f"{describe(args.rev)}"
    )
    print(f"{'client':10} {'xfer MB/s':>10} {'wall MB/s':>10} {'CPU s':>10} {'peak RSS MiB':>13}")
    for c in CLIENTS:
        peak = med(rss, c)
        print(
            f"{c:10} {cell(med(xfer, c), '10.0f')} {cell(med(wall, c), '10.0f')} "
            f"{cell(med(cpu, c), '10.2f')} {cell(peak / 1024 if peak else None, '13.1f')}"
        )
    for c, why in missing.items():
        print(f"  {c}: not available ({why})")
    checks = [
        ("engine", "curl", xfer, 0.9),
        ("engine", "aiohttp", xfer, 4.0),
        ("zurl -o", "curl", wall, 0.8),
    ]
    for mine, peer, table, target in checks:
        a, b = med(table, mine), med(table, peer)
        kind = "xfer" if table is xfer else "wall"
        if a is not None and b is not None:
            ratio = a / b
            both = table[mine].keys() & table[peer].keys()
            pair = statistics.median(table[mine][r] / table[peer][r] for r in both)
            print(
                f"target {mine}/{peer} ({kind}) >= {target}x: {ratio:.2f}x "
                f"{'ok' if ratio >= target else 'MISS'} (per-round median {pair:.2f}x)"
            )
        else:
            print(f"target {mine}/{peer} ({kind}) >= {target}x: n/a")
    for c in ("engine", "zurl -o"):
        peak = med(rss, c)
        verdict = (
            "n/a"
            if peak is None
            else (f"{peak / 1024:.1f} MiB {'ok' if peak / 1024 < 60 else 'MISS'}")
        )
        print(f"target {c} peak RSS < 60 MB: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--mib", type=int, default=1024, help="download size in MiB")
    parser.add_argument("--rev", help="measure this git revision (default: the working tree)")
    parser.add_argument("--worker", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.url)
        return
    size = args.mib * 2**20
    ensure_clean_env()
    with (
        tempfile.TemporaryDirectory(prefix="zurl-bench-files-") as tmp,
        snapshot(args.rev) as tree,
    ):
        big = Path(tmp) / "big.bin"
        with big.open("wb") as f:
            f.truncate(size)  # sparse: no disk space, served from the page cache
        os.chmod(tmp, 0o755)
        with nginx_server(Path(tmp)) as base:
            bench(args, base, size, tree)


if __name__ == "__main__":
    main()
