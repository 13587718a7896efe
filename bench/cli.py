"""CLI startup benchmark: one GET of a small resource as a whole process, with hyperfine.

Run (peers env, see bench/README.md):

    bench/.peers/bin/python bench/cli.py              # ~1 minute (+30 s the first time)
    bench/.peers/bin/python bench/cli.py --rev HEAD   # committed code, not the working tree
    bench/.peers/bin/python bench/cli.py --rounds 1

A private nginx (bench/_nginx.py) serves a 12-byte body on 127.0.0.1. hyperfine (`-N`, no
shell; `--warmup`; `--export-json`) times, side by side in each round:

    zurl URL                                zurl's console script
    http URL                                httpie
    curl -s URL
    python -c pass                          the interpreter's floor
    python -c "import asyncio, ssl"         the floor for any asyncio HTTP tool

Every Python row runs in bench/.peers/cli-env, a plain venv holding httpie and zurl's
runtime dependencies but no editable install: the editable finder's .pth costs every
interpreter in the other venvs ~10 ms at start-up, which a user's install does not pay.
zurl itself runs from a snapshot of client/ and cli/ (bench/_tree.py) through a script
like the one pip writes. Children may write bytecode, as on a user's machine.

Rounds repeat the whole set (rotating the order) so drift hits every command alike. The
table gives the median wall time over all runs of all rounds and zurl's time as a multiple
of each command's; the targets (zurl <= 0.4x httpie, <= 1.8x `python -c "import asyncio,
ssl"`) also show the median of the per-round ratios. Afterwards the top offenders of
`python -X importtime` for `zurl URL` go to stderr.
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

from _nginx import SMALL_BODY, nginx_server
from _tree import CLEAN_ENV, CLEAN_PY, ENV, describe, ensure_clean_env, snapshot

TARGETS = (("httpie", 0.4), ("python asyncio+ssl", 1.8))


def commands(tree: Path, url: str) -> tuple[dict[str, str], dict[str, str]]:
    """(name -> hyperfine command, name -> why it is not available)."""
    py = str(CLEAN_PY)
    found = {
        "zurl": f"{py} {tree}/zurl {url}",
        "httpie": f"{CLEAN_ENV}/bin/http {url}",
        "curl -s": f"curl -s {url}",
        "python -c pass": f"{py} -c pass",
        "python asyncio+ssl": f'{py} -c "import asyncio, ssl"',
    }
    missing = {}
    for name in ("zurl", "httpie"):
        if why := works(found[name].split()):
            missing[name] = why
            del found[name]
    return found, missing


def works(cmd: list[str]) -> str | None:
    """None if `cmd` exits 0 and prints the body, else the reason."""
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=ENV)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return f"exit {done.returncode}: {tail}"
    if SMALL_BODY.strip() not in done.stdout:
        return f"unexpected output {done.stdout[:60]!r}"
    return None


def hyperfine(cmds: dict[str, str], runs: int, warmup: int) -> dict[str, list[float]]:
    """One hyperfine run over `cmds`: name -> wall seconds of each run."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "hf.json"
        argv = [
            "hyperfine",
            "-N",
            "--style",
            "none",
            "--warmup",
            str(warmup),
            "--runs",
            str(runs),
            "--export-json",
            str(out),
        ]
        for name, cmd in cmds.items():
            argv += ["-n", name, cmd]
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, timeout=600, env=ENV)
        results = json.loads(out.read_text())["results"]
    return {r["command"]: r["times"] for r in results}


def importtime(zurl_cmd: str, top: int = 15) -> None:
    """Print the slowest imports of one `zurl URL` run to stderr."""
    argv = zurl_cmd.split()
    done = subprocess.run(
        [argv[0], "-X", "importtime", *argv[1:]],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    rows: list[tuple[int, int, str]] = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cum_us, name = line.removeprefix("import time:").split("|", 2)
        rows.append((int(self_us), int(cum_us), name.rstrip()))
    err = sys.stderr
    total = sum(r[0] for r in rows) / 1000
    print(
        f"\nzurl URL under python -X importtime: {len(rows)} modules, {total:.1f} ms of "
        "imports (self times summed; importtime itself inflates them)",
        file=err,
    )
    print(f"top {top} by self time:", file=err)
    for self_us, cum_us, name in sorted(rows, reverse=True)[:top]:
        print(
            f"  {self_us / 1000:7.2f} ms self {cum_us / 1000:8.2f} ms cum  {name.strip()}",
            file=err,
        )
    tops = [r for r in rows if not r[2].startswith("  ")]  # top-level imports only
    print(f"top {top} top-level imports by cumulative time:", file=err)
    for _self, cum_us, name in sorted(tops, key=lambda r: r[1], reverse=True)[:top]:
        print(f"  {cum_us / 1000:8.2f} ms cum  {name.strip()}", file=err)


def report(
    args: argparse.Namespace,
    times: dict[str, list[float]],
    per_round: dict[str, list[float]],
    missing: dict[str, str],
) -> None:
    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(
        f"\ncli: median wall time of one GET, {args.rounds} rounds x {args.runs} runs; "
        f"{describe(args.rev)}"
    )
    print(f"{'command':20} {'median ms':>10} {'zurl/this':>10}")
    for name, m in sorted(med.items(), key=lambda kv: kv[0] != "zurl"):
        ratio = f"{med['zurl'] / m:9.2f}x" if "zurl" in med else f"{'n/a':>10}"
        print(f"{name:20} {m * 1000:10.1f} {ratio}")
    for name, why in missing.items():
        print(f"{name:20} {'n/a':>10}  not available ({why})")
    for peer, target in TARGETS:
        if "zurl" in med and peer in med:
            ratio = med["zurl"] / med[peer]
            pairs = zip(per_round["zurl"], per_round[peer], strict=True)
            pair = statistics.median(a / b for a, b in pairs)
            verdict = "ok" if ratio <= target else "MISS"
            print(
                f"target zurl/{peer} <= {target}x: {ratio:.2f}x {verdict} "
                f"(per-round median {pair:.2f}x)"
            )
        else:
            print(f"target zurl/{peer} <= {target}x: n/a")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=15, help="hyperfine runs per round")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rev", help="measure this git revision (default: the working tree)")
    args = parser.parse_args()
    if not shutil.which("hyperfine"):
        sys.exit("hyperfine not found: apt-get install hyperfine")
    ensure_clean_env()

    with snapshot(args.rev) as tree, nginx_server() as base:
        cmds, missing = commands(tree, f"{base}/small")
        times: dict[str, list[float]] = {name: [] for name in cmds}
        per_round: dict[str, list[float]] = {name: [] for name in cmds}  # median per round
        for rnd in range(args.rounds):
            names = list(cmds)
            names = names[rnd % len(names) :] + names[: rnd % len(names)]
            for name, ts in hyperfine({n: cmds[n] for n in names}, args.runs, args.warmup).items():
                times[name] += ts
                per_round[name].append(statistics.median(ts))
            print(f"round {rnd + 1}/{args.rounds} done", file=sys.stderr, flush=True)
        if "zurl" in cmds:
            importtime(cmds["zurl"])
    report(args, times, per_round, missing)


if __name__ == "__main__":
    main()
