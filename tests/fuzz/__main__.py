"""``python -m tests.fuzz``: run fuzz cases; exit 1 if any escaped, hung or was wrong."""

from __future__ import annotations

import argparse
import sys

from tests.fuzz.cases import make_case
from tests.fuzz.runner import run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cases", type=int, default=10_000, help="how many (default 10,000)")
    parser.add_argument("--start", type=int, default=0, help="first case index")
    parser.add_argument("--workers", type=int, default=32, help="cases in flight")
    parser.add_argument("--case", type=int, help="replay this one case and show it")
    args = parser.parse_args()
    if args.case is not None:
        case = make_case(args.seed, args.case)
        print(f"case {case.index}: {case.method}, read by {case.read}, ends {case.ending}")
        print(f"mutations: {case.mutations or 'none (a control case)'}")
        print(f"server writes: {[piece[:300] for piece in case.writes]}")
        report = run(args.seed, 1, start=args.case, workers=1)
    else:
        report = run(
            args.seed, args.cases, start=args.start, workers=args.workers, progress=10_000
        )
    print(report.summary())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
