"""HTTP/2 benchmark: many small GETs multiplexed, and a 1 GiB download, against nginx.

Run (peers env, see bench/README.md; httpx with its http2 extra is the Python peer):

    bench/.peers/bin/python bench/http2.py               # ~3 minutes
    bench/.peers/bin/python bench/http2.py --rounds 1 --mib 256
    bench/.peers/bin/python bench/http2.py --rev HEAD    # committed code, not the working tree

A private nginx (bench/_nginx.py, `nginx_h2_servers`) serves over TLS with ALPN h2 or
http/1.1 (a throwaway self-signed certificate: every client skips verification). zurl's
code is a snapshot taken at the start (bench/_tree.py). Each (client, workload) runs in a
fresh subprocess per round; rounds interleave and the order rotates each round.

- req: 20,000 GETs of a 12-byte body with 64 in flight (64 worker tasks, one client),
  after an untimed warm-up. Clients: `zurl h2` (ClientSession(http2=True)), `httpx h2`
  (AsyncClient(http2=True)) and `zurl h1.1` (the same TLS server, HTTP/1.1: up to 64
  connections). Figures: requests/s (wall clock of the timed loop) and client CPU µs per
  request. Target: zurl h2 >= 2x httpx h2; the ratio to zurl h1.1 is reported.
- dl: one 1 GiB (sparse) file over HTTP/2. Clients: `zurl h2` (resp.content.iter_chunked
  of 1 MiB, discarded) and `curl --http2 -k -o /dev/null` (its own %{time_total}); `httpx
  h2` (aiter_raw) for reference. Figures: MB/s of the transfer (10^6 bytes), CPU s of the
  process. Target: zurl h2 >= 0.5x curl --http2.
Medians over rounds; ratios are of the medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _nginx import accepted_connections, nginx_h2_servers
from _tree import describe, snapshot, worker_env

HERE = Path(__file__).resolve().parent
PEERS_PY = HERE / ".peers" / "bin" / "python"
REQ_CLIENTS = ("zurl h2", "httpx h2", "zurl h1.1")
DL_CLIENTS = ("zurl h2", "curl h2", "httpx h2")
TIMEOUT = 300.0
CHUNK = 1 << 20


# ---------------------------------------------------------------- worker side (subprocess)


async def _requests(client: str, url: str, n: int, inflight: int) -> dict[str, float]:
    if client.startswith("zurl"):
        import client as zurl

        session: Any = zurl.ClientSession(http2=client == "zurl h2")

        async def get() -> None:
            async with session.get(url, ssl=False) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"status {resp.status}")

    else:
        import httpx

        limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
        session = httpx.AsyncClient(http2=True, verify=False, limits=limits)

        async def get() -> None:
            resp = await session.get(url)
            if resp.status_code != 200 or resp.http_version != "HTTP/2":
                raise RuntimeError(f"status {resp.status_code} {resp.http_version}")

    async def workers(count: int) -> None:
        left = count

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                await get()

        await asyncio.gather(*(worker() for _ in range(inflight)))

    try:
        await workers(inflight * 4)
        start, cpu = time.perf_counter(), time.process_time()
        await workers(n)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        await (session.close() if client.startswith("zurl") else session.aclose())
    return {"done": n, "seconds": seconds, "cpu": cpu}


async def _download(client: str, url: str) -> dict[str, float]:
    got = 0
    if client == "zurl h2":
        import client as zurl

        async with zurl.ClientSession(http2=True) as session:
            start = time.perf_counter()
            async with session.get(url, ssl=False) as resp:
                if resp.version != (2, 0):
                    raise RuntimeError(f"HTTP/{resp.version}")
                async for chunk in resp.content.iter_chunked(CHUNK):
                    got += len(chunk)
    else:
        import httpx

        async with httpx.AsyncClient(http2=True, verify=False) as session:
            start = time.perf_counter()
            async with session.stream("GET", url) as resp:
                async for chunk in resp.aiter_raw():
                    got += len(chunk)
    return {"bytes": got, "seconds": time.perf_counter() - start}


def run_worker(args: argparse.Namespace) -> None:
    if args.workload == "req":
        result = asyncio.run(_requests(args.worker, args.url, args.n, args.inflight))
    else:
        result = asyncio.run(_download(args.worker, args.url))
    print(json.dumps(result))


# ---------------------------------------------------------------- parent side


def python() -> str:
    return str(PEERS_PY) if PEERS_PY.exists() else sys.executable


def run_child(cmd: list[str], env: dict[str, str]) -> tuple[str, float]:
    """Run ``cmd``; (stdout, CPU seconds user + system of the child)."""
    before = os.times()
    done = subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, env=env, check=False)
    after = os.times()
    if done.returncode != 0:
        raise RuntimeError((done.stderr.decode().strip().splitlines() or ["failed"])[-1])
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return done.stdout.decode(), cpu


def req_cell(client: str, urls: dict[str, str], args: argparse.Namespace, env: dict[str, str]):
    url = urls["https"] + "/small"
    before = accepted_connections(urls["http"])
    cmd = [python(), __file__, "--worker", client, "--workload", "req", "--url", url]
    cmd += ["--n", str(args.requests), "--inflight", str(args.inflight)]
    out, _cpu = run_child(cmd, env)
    conns = accepted_connections(urls["http"]) - before - 1
    result = json.loads(out.strip().splitlines()[-1])
    return result["done"] / result["seconds"], 1e6 * result["cpu"] / result["done"], conns


def dl_cell(client: str, url: str, size: int, env: dict[str, str]) -> tuple[float, float]:
    if client == "curl h2":
        cmd = [
            "curl",
            "--http2",
            "-k",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{time_total} %{size_download} %{http_version}",
            url,
        ]
        out, cpu = run_child(cmd, env)
        seconds, got, version = out.split()
        if int(got) != size or version != "2":
            raise RuntimeError(f"curl got {got} bytes over HTTP/{version}")
        return size / float(seconds) / 1e6, cpu
    cmd = [python(), __file__, "--worker", client, "--workload", "dl", "--url", url]
    out, cpu = run_child(cmd, env)
    result = json.loads(out.strip().splitlines()[-1])
    if result["bytes"] != size:
        raise RuntimeError(f"{client} got {result['bytes']} bytes")
    return size / result["seconds"] / 1e6, cpu


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench(args: argparse.Namespace, env: dict[str, str]) -> None:
    size = args.mib << 20
    with tempfile.TemporaryDirectory(prefix="zurl-bench-h2-") as tmp:
        big = Path(tmp) / "big.bin"
        with big.open("wb") as f:
            f.truncate(size)  # sparse: nginx reads zeros without touching the disk
        with nginx_h2_servers(Path(tmp)) as urls:
            rate: dict[str, list[float]] = {}
            cpu: dict[str, list[float]] = {}
            conns: dict[str, int] = {}
            mbs: dict[str, list[float]] = {}
            dl_cpu: dict[str, list[float]] = {}
            for rnd in range(args.rounds):
                shift = rnd % len(REQ_CLIENTS)
                for client in REQ_CLIENTS[shift:] + REQ_CLIENTS[:shift]:
                    r, c, n = req_cell(client, urls, args, env)
                    rate.setdefault(client, []).append(r)
                    cpu.setdefault(client, []).append(c)
                    conns[client] = n
                    print(f"round {rnd + 1} req {client:10} {r:8.0f} req/s {c:6.0f} CPU µs/req"
                          f" ({n} connections)", file=sys.stderr, flush=True)  # fmt: skip
                if args.mib:
                    shift = rnd % len(DL_CLIENTS)
                    for client in DL_CLIENTS[shift:] + DL_CLIENTS[:shift]:
                        if client == "curl h2" and not shutil.which("curl"):
                            continue
                        m, c = dl_cell(client, urls["https"] + "/files/big.bin", size, env)
                        mbs.setdefault(client, []).append(m)
                        dl_cpu.setdefault(client, []).append(c)
                        print(f"round {rnd + 1} dl  {client:10} {m:8.0f} MB/s {c:6.2f} CPU s",
                              file=sys.stderr, flush=True)  # fmt: skip
    report(args, rate, cpu, conns, mbs, dl_cpu)


def report(
    args: argparse.Namespace,
    rate: dict[str, list[float]],
    cpu: dict[str, list[float]],
    conns: dict[str, int],
    mbs: dict[str, list[float]],
    dl_cpu: dict[str, list[float]],
) -> None:
    load = os.getloadavg()[0]
    print(f"\nzurl {describe(args.rev)}; {args.rounds} rounds; load {load:.1f} at the end")
    title = f"req: {args.requests:,} GETs, {args.inflight} in flight, TLS"
    print(f"\n{title}  | req/s | CPU µs/req | connections")
    for client in REQ_CLIENTS:
        print(f"{client:10} | {med(rate.get(client, [])):8.0f} | "
              f"{med(cpu.get(client, [])):6.0f} | {conns.get(client, '-')}")  # fmt: skip
    h2, httpx_h2, h1 = (med(rate.get(c, [])) for c in REQ_CLIENTS)
    verdict = "ok" if h2 >= 2 * httpx_h2 else "BELOW TARGET"
    print(f"zurl h2 / httpx h2: {h2 / httpx_h2:.2f}x (>= 2x {verdict}); "
          f"zurl h2 / zurl h1.1: {h2 / h1:.2f}x")  # fmt: skip
    if mbs:
        print(f"\ndl: {args.mib} MiB over HTTP/2  | MB/s | CPU s")
        for client in DL_CLIENTS:
            rate_mb, cpu_s = med(mbs.get(client, [])), med(dl_cpu.get(client, []))
            print(f"{client:10} | {rate_mb:6.0f} | {cpu_s:5.2f}")
        ours, curl = med(mbs.get("zurl h2", [])), med(mbs.get("curl h2", []))
        verdict = "ok" if ours >= 0.5 * curl else "BELOW TARGET"
        print(f"zurl h2 / curl --http2: {ours / curl:.2f}x (>= 0.5x {verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--mib", type=int, default=1024, help="download size (0: none)")
    parser.add_argument("--rev", help="measure this git revision (default: the working tree)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=("req", "dl"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args)
        return
    with snapshot(args.rev) as tree:
        bench(args, worker_env(tree))


if __name__ == "__main__":
    main()
