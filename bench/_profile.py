"""Shared by the bench scripts: printing a cProfile run as a top-N table."""

from __future__ import annotations

import cProfile
import pstats
from pathlib import Path


def print_profile(prof: cProfile.Profile, title: str, top: int = 25) -> None:
    """Top functions by tottime, with their share of the profiled total."""
    stats = pstats.Stats(prof)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    print(f"\n== {title}: top {top} by tottime (profiled total {total:.2f} s) ==")
    print(f"{'tottime':>8} {'%':>6} {'ncalls':>9} {'cumtime':>8}  function")
    for (file, line, func), (_cc, ncalls, tt, ct, _callers) in rows:
        where = f"  ({Path(file).parent.name}/{Path(file).name}:{line})" if line else ""
        print(f"{tt:8.3f} {100 * tt / total:5.1f}% {ncalls:9d} {ct:8.3f}  {func}{where}")
