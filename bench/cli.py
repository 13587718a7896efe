"""CLI startup benchmark: one GET of a small resource as a whole process, with hyperfine.

Run (peers env, see bench/README.md):

    bench/.peers/bin/python bench/cli.py            # ~1 minute
    bench/.peers/bin/python bench/cli.py --rounds 1

A private nginx (bench/_nginx.py) serves a 12-byte body on 127.0.0.1. hyperfine (`-N`, no
shell; `--warmup`; `--export-json`) times, side by side in each round:

    zurl URL                                (the console script in bench/.peers/bin)
    http URL                                (httpie)
    curl -s URL
    python -c pass                          (the interpreter's floor)
    python -c "import asyncio, ssl"         (the floor for any asyncio HTTP tool)

Rounds repeat the whole set so drift hits every command alike; the table gives the median
wall time over all runs of all rounds, and zurl's time as a multiple of each command's
(the targets also show the median of the per-round ratios). Targets: zurl <=
0.5x httpie and <= 2.5x `python -c "import asyncio, ssl"`. Afterwards the top offenders of
`python -X importtime` for `zurl URL` go to stderr (self and cumulative microseconds).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _nginx import nginx_server

HERE = Path(__file__).resolve().parent
PEERS_BIN = HERE / ".peers" / "bin"
VENV_BIN = HERE.parent / ".venv" / "bin"


def find_tool(name: str) -> str | None:
    for folder in (PEERS_BIN, VENV_BIN):
        if (folder / name).exists():
            return str(folder / name)
    return shutil.which(name)


def commands(url: str) -> tuple[dict[str, str], dict[str, str]]:
    """(name -> hyperfine command, name -> why it is not available)."""
    py = str(PEERS_BIN / "python") if (PEERS_BIN / "python").exists() else sys.executable
    found: dict[str, str] = {}
    missing: dict[str, str] = {}
    zurl = find_tool("zurl")
    if zurl and (why := works([zurl, url])) is None:
        found["zurl"] = f"{zurl} {url}"
    else:
        missing["zurl"] = why if zurl else "no zurl console script"
    http = find_tool("http")
    if http:
        found["httpie"] = f"{http} {url}"
    else:
        missing["httpie"] = "httpie not installed"
    found["curl -s"] = f"curl -s {url}"
    found["python -c pass"] = f"{py} -c pass"
    found["python asyncio+ssl"] = f'{py} -c "import asyncio, ssl"'
    return found, missing


def works(cmd: list[str]) -> str | None:
    """None if `cmd` exits 0 and prints the body, else the reason."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"exit {done.returncode}: {tail}"
    if "hello, zurl" not in done.stdout:
        return f"unexpected output {done.stdout[:60]!r}"
    return None


def hyperfine(cmds: dict[str, str], runs: int, warmup: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hf.json"
        argv = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup),
                "--runs", str(runs), "--export-json", str(out)]
        for name, cmd in cmds.items():
            argv += ["-n", name, cmd]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=600)
        results = json.loads(out.read_text())["results"]
    return {r["command"]: r["times"] for r in results}


def importtime(zurl_cmd: str, top: int = 15) -> None:
    """Print the slowest imports of one `zurl URL` run to stderr."""
    script, url = zurl_cmd.split(" ", 1)
    py = str(PEERS_BIN / "python") if (PEERS_BIN / "python").exists() else sys.executable
    done = subprocess.run([py, "-X", "importtime", script, url], capture_output=True,
                          text=True, timeout=60)
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(self_us), int(cum_us), name.rstrip()))
    total = sum(r[0] for r in rows)
    err = sys.stderr
    print(f"\nzurl URL, python -X importtime: {len(rows)} modules, {total / 1000:.1f} ms "
          f"of imports (self times summed)", file=err)
    print(f"top {top} by self time:", file=err)
    for self_us, cum_us, name in sorted(rows, reverse=True)[:top]:
        print(f"  {self_us / 1000:7.2f} ms self {cum_us / 1000:8.2f} ms cum  {name.strip()}",
              file=err)
    tops = [r for r in rows if not r[2].startswith("  ")]  # top-level imports only
    print(f"top {top} top-level imports by cumulative time:", file=err)
    for _self, cum_us, name in sorted(tops, key=lambda r: r[1], reverse=True)[:top]:
        print(f"  {cum_us / 1000:8.2f} ms cum  {name.strip()}", file=err)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15, help="hyperfine runs per round")
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("hyperfine"):
        sys.exit("hyperfine not found: apt-get install hyperfine")

    with nginx_server() as base:
        url = f"{base}/small"
        cmds, missing = commands(url)
        times: dict[str, list[float]] = {name: [] for name in cmds}
        per_round: dict[str, list[float]] = {name: [] for name in cmds}  # median per round
        for rnd in range(args.rounds):
            names = list(cmds)
            names = names[rnd % len(names):] + names[:rnd % len(names)]
            for name, ts in hyperfine({n: cmds[n] for n in names}, args.runs, args.warmup).items():
                times[name] += ts
                per_round[name].append(statistics.median(ts))
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        if "zurl" in cmds:
            importtime(cmds["zurl"])

    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"\ncli: median wall time of one GET, {args.rounds} rounds x {args.runs} runs")
    print(f"{'command':20} {'median ms':>10} {'zurl/this':>10}")
    for name, m in med.items():
        ratio = f"{med['zurl'] / m:9.2f}x" if "zurl" in med else f"{'n/a':>10}"
        print(f"{name:20} {m * 1000:10.1f} {ratio}")
    for name, why in missing.items():
        print(f"{name:20} {'n/a':>10}  not available ({why})")
    for peer, target in (("httpie", 0.5), ("python asyncio+ssl", 2.5)):
        if "zurl" in med and peer in med:
            ratio = med["zurl"] / med[peer]
            pair = statistics.median(a / b for a, b in zip(per_round["zurl"], per_round[peer],
                                                           strict=True))
            verdict = "ok" if ratio <= target else "MISS"
            print(f"target zurl/{peer} <= {target}x: {ratio:.2f}x {verdict} "
                  f"(per-round median {pair:.2f}x)")
        else:
            print(f"target zurl/{peer} <= {target}x: n/a")


if __name__ == "__main__":
    main()
