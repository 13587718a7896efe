"""Engine benchmark: zurl's `client` against aiohttp and httpx.AsyncClient on loopback.

Run (peers env, see bench/README.md):

    bench/.peers/bin/python bench/engine.py              # full run, ~2-3 minutes
    bench/.peers/bin/python bench/engine.py --rounds 1   # quick look
    bench/.peers/bin/python bench/engine.py --rev HEAD   # committed code, not the working tree
    bench/.peers/bin/python bench/engine.py --profile    # zurl's workloads under cProfile
    bench/.peers/bin/python bench/engine.py --profile aiohttp   # the same for a peer

zurl's client/ is copied once per run (bench/_tree.py), so edits made meanwhile by others
do not change the code under test. A private nginx (bench/_nginx.py) serves a fixed 12-byte
body on 127.0.0.1. Two workloads:

- seq:  5,000 sequential keep-alive GETs on one session
- conc: 20,000 GETs with 64 in flight (64 worker tasks sharing one session)

Every request reads the whole body and checks the status. Each (client, workload) runs in
its own fresh subprocess per round; rounds are interleaved and the client order rotates each
round, so drift on this shared machine hits every client alike. In a subprocess a short
untimed warm-up (imports, first connections) precedes the timed loop, which also stops
after --time-cap seconds (15; only httpx's conc loop gets there, and its rate stays valid).

Figures: requests per second of the timed loop (wall clock), and the client's CPU time per
request (time.process_time, the server excluded), which drifts less when other work comes
and goes. The table shows medians over rounds (httpx takes part in 3 of the 7 rounds,
spread out: --httpx-rounds) and the ratios zurl/aiohttp and zurl/httpx against the targets
(>= 1.2x and >= 3x on both workloads): the ratio of the medians, and in brackets the median
of the per-round ratios; then the same comparison by CPU time per request.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _nginx import accepted_connections, nginx_server
from _profile import print_profile
from _tree import describe, snapshot, worker_env

HERE = Path(__file__).resolve().parent
PEERS_PY = HERE / ".peers" / "bin" / "python"
CLIENTS = ("zurl", "aiohttp", "httpx")
WORKLOADS = ("seq", "conc")
TARGETS = {"aiohttp": 1.2, "httpx": 3.0}
WORKER_TIMEOUT = 120.0  # seconds; a stuck client fails its cell instead of hanging the run
PROFILER: cProfile.Profile | None = None  # set in a --profile worker: profiles the timed loop
TIME_CAP = 15.0  # seconds: a timed loop stops early past this (httpx needs ~35 s for 20,000)


# ---------------------------------------------------------------- worker side (subprocess)


async def _aiohttp_like(
    mod: Any, url: str, workload: str, n: int, inflight: int
) -> tuple[int, float, float]:
    """The workload for aiohttp's API; zurl's `client` is the same API."""
    async with mod.ClientSession() as session:

        async def get() -> None:
            async with session.get(url) as resp:
                await resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"status {resp.status}")

        return await _drive(get, workload, n, inflight)


async def _httpx(url: str, workload: str, n: int, inflight: int) -> tuple[int, float, float]:
    import httpx

    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(limits=limits) as session:

        async def get() -> None:
            resp = await session.get(url)  # reads the body
            if resp.status_code != 200:
                raise RuntimeError(f"status {resp.status_code}")

        return await _drive(get, workload, n, inflight)


async def _drive(get: Any, workload: str, n: int, inflight: int) -> tuple[int, float, float]:
    """Warm up untimed, then time `n` calls of `get` (fewer if TIME_CAP is reached):
    (calls made, wall seconds, CPU seconds)."""

    async def workers(count: int, width: int) -> int:
        left = count
        deadline = time.perf_counter() + TIME_CAP

        async def worker() -> None:
            nonlocal left
            while left > 0 and time.perf_counter() < deadline:
                left -= 1
                await get()

        await asyncio.gather(*(worker() for _ in range(width)))
        return count - left

    width = 1 if workload == "seq" else inflight
    await workers(max(width * 4, 100), width)
    if PROFILER:
        PROFILER.enable()
    start, cpu_start = time.perf_counter(), time.process_time()
    done = await workers(n, width)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if PROFILER:
        PROFILER.disable()
    return done, elapsed, cpu


def run_worker(
    client: str, url: str, workload: str, n: int, inflight: int
) -> tuple[int, float, float]:
    if client == "httpx":
        return asyncio.run(_httpx(url, workload, n, inflight))
    if client == "zurl":
        import client as mod
    else:
        import aiohttp as mod
    return asyncio.run(_aiohttp_like(mod, url, workload, n, inflight))


# ---------------------------------------------------------------- parent side


def python_for_workers() -> str:
    return str(PEERS_PY) if PEERS_PY.exists() else sys.executable


def zurl_available(py: str, env: dict[str, str]) -> str | None:
    """None when zurl's engine imports with a ClientSession, else why not."""
    probe = "import client; client.ClientSession"
    done = subprocess.run(
        [py, "-P", "-c", probe], capture_output=True, text=True, timeout=60, env=env
    )
    if done.returncode == 0:
        return None
    return (done.stderr.strip().splitlines() or ["import failed"])[-1]


def run_cell(
    py: str, client: str, url: str, workload: str, args: argparse.Namespace, env: dict[str, str]
) -> tuple[float, float, int, int]:
    """(req/s, CPU µs per request, TCP connections opened, requests made) of one fresh
    subprocess."""
    n = args.seq if workload == "seq" else args.conc
    base = url.rsplit("/", 1)[0]
    before = accepted_connections(base)
    cmd = [
        py,
        __file__,
        "--worker",
        client,
        "--url",
        url,
        "--workload",
        workload,
        "--n",
        str(n),
        "--inflight",
        str(args.inflight),
        "--time-cap",
        str(args.time_cap),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=WORKER_TIMEOUT, env=env)
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "failed")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    conns = accepted_connections(base) - before - 1
    made = result["done"]
    return made / result["seconds"], 1e6 * result["cpu"] / made, conns, made


def spread(k: int, rounds: int) -> set[int]:
    """`k` round numbers spread evenly over `rounds` (first and last included)."""
    return {round(i * (rounds - 1) / max(k - 1, 1)) for i in range(k)}


def bench(args: argparse.Namespace, url: str, env: dict[str, str]) -> None:
    py = python_for_workers()
    clients = list(args.clients)
    unavailable: dict[str, str] = {}
    if "zurl" in clients and (why := zurl_available(py, env)):
        unavailable["zurl"] = why
        clients.remove("zurl")
    rps: dict[tuple[str, str], dict[int, float]] = {}  # (client, workload) -> round -> req/s
    cpu: dict[tuple[str, str], list[float]] = {}  # CPU µs per request of each run
    httpx_rounds = spread(min(args.httpx_rounds, args.rounds), args.rounds)
    for rnd in range(args.rounds):
        order = clients[rnd % len(clients) :] + clients[: rnd % len(clients)]
        if rnd not in httpx_rounds:
            order = [c for c in order if c != "httpx"]
        for workload in WORKLOADS:
            for client in order:
                try:
                    rate, cpu_us, conns, made = run_cell(py, client, url, workload, args, env)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    unavailable.setdefault(client, f"failed: {exc}")
                    continue
                rps.setdefault((client, workload), {})[rnd] = rate
                cpu.setdefault((client, workload), []).append(cpu_us)
                print(
                    f"round {rnd + 1}/{args.rounds} {workload:4} {client:8} {rate:9.0f} req/s "
                    f"{cpu_us:6.0f} CPU µs/req ({conns} connections, {made} requests)",
                    file=sys.stderr,
                    flush=True,
                )
    report(args, rps, cpu, unavailable)


def paired(mine: dict[int, float], peer: dict[int, float]) -> float:
    """Median of the per-round ratios mine/peer, over the rounds both ran in."""
    return statistics.median(mine[r] / peer[r] for r in mine.keys() & peer.keys())


def report(
    args: argparse.Namespace,
    rps: dict[tuple[str, str], dict[int, float]],
    cpu: dict[tuple[str, str], list[float]],
    unavailable: dict[str, str],
) -> None:
    med = {key: statistics.median(vals.values()) for key, vals in rps.items()}
    print(
        f"\nengine: median req/s over {args.rounds} rounds "
        f"({min(args.httpx_rounds, args.rounds)} for httpx); "
        f"seq = {args.seq} sequential GETs, conc = {args.conc} GETs {args.inflight} in flight"
        f"; {describe(args.rev)}"
    )
    print(f"{'client':10} {'seq req/s':>12} {'conc req/s':>20}   CPU µs/req: seq  conc")
    for client in args.clients:
        cells = [
            f"{med[(client, w)]:{width}.0f}" if (client, w) in med else f"{'n/a':>{width}}"
            for w, width in zip(WORKLOADS, (12, 20), strict=True)
        ]
        cpus = [
            f"{statistics.median(cpu[(client, w)]):5.0f}" if (client, w) in cpu else "  n/a"
            for w in WORKLOADS
        ]
        print(f"{client:10} {' '.join(cells)}   {' ' * 11}{' '.join(cpus)}")
    for client, why in unavailable.items():
        print(f"  {client}: not available ({why})")
    for peer, target in TARGETS.items():
        cells = []
        for w in WORKLOADS:
            if ("zurl", w) in med and (peer, w) in med:
                ratio = med[("zurl", w)] / med[(peer, w)]
                pair = paired(rps[("zurl", w)], rps[(peer, w)])
                cells.append(
                    f"{ratio:6.2f}x {'ok' if ratio >= target else 'MISS':4} ({pair:.2f}x)"
                )
            else:
                cells.append(f"{'n/a':>19}")
        print(f"zurl/{peer:7} {'  '.join(cells)}   (target >= {target}x)")
    print("ratios: of the medians; in brackets the median of per-round ratios")
    for peer in TARGETS:
        cells = []
        for w in WORKLOADS:
            if ("zurl", w) in cpu and (peer, w) in cpu:
                mine = statistics.median(cpu[("zurl", w)])
                cells.append(f"{w} {statistics.median(cpu[(peer, w)]) / mine:.2f}x")
        if cells:
            print(f"by CPU time per request, {peer}/zurl: {', '.join(cells)}")


def profile(args: argparse.Namespace, url: str, env: dict[str, str]) -> None:
    """Run one client's workloads in a subprocess under cProfile; print the hot functions."""
    py = python_for_workers()
    for workload in WORKLOADS:
        n = args.seq if workload == "seq" else args.conc
        cmd = [
            py,
            __file__,
            "--worker",
            args.profile,
            "--url",
            url,
            "--workload",
            workload,
            "--n",
            str(n),
            "--inflight",
            str(args.inflight),
            "--profile",
            "--time-cap",
            str(args.time_cap * 4),
        ]
        subprocess.run(cmd, timeout=WORKER_TIMEOUT * 3, check=False, env=env)


def main() -> None:
    global PROFILER, TIME_CAP
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--httpx-rounds",
        type=int,
        default=3,
        help="rounds that include httpx (slow: ~20 s a round)",
    )
    parser.add_argument("--seq", type=int, default=5_000, help="sequential GETs")
    parser.add_argument("--conc", type=int, default=20_000, help="concurrent GETs")
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument(
        "--time-cap",
        type=float,
        default=TIME_CAP,
        help="seconds after which a timed loop stops early (rate still valid)",
    )
    parser.add_argument("--clients", nargs="+", choices=CLIENTS, default=list(CLIENTS))
    parser.add_argument(
        "--profile",
        nargs="?",
        const="zurl",
        choices=CLIENTS,
        help="profile a client's workloads (default zurl; top 25 by tottime)",
    )
    parser.add_argument("--rev", help="measure this git revision (default: the working tree)")
    parser.add_argument("--worker", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workload", choices=WORKLOADS, help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    TIME_CAP = args.time_cap
    if args.worker:  # subprocess: one client, one workload, one JSON line out
        if args.profile:
            PROFILER = cProfile.Profile()
            made, seconds, _ = run_worker(
                args.worker, args.url, args.workload, args.n, args.inflight
            )
            print(f"\n{args.workload}: {made / seconds:.0f} req/s under the profiler")
            print_profile(PROFILER, f"{args.worker} {args.workload}, timed loop of {made} GETs")
            return
        made, seconds, cpu = run_worker(
            args.worker, args.url, args.workload, args.n, args.inflight
        )
        print(json.dumps({"done": made, "seconds": seconds, "cpu": cpu}))
        return
    with snapshot(args.rev) as tree, nginx_server() as base:
        url = f"{base}/small"
        if args.profile:
            profile(args, url, worker_env(tree))
        else:
            bench(args, url, worker_env(tree))


if __name__ == "__main__":
    main()
