"""The fuzzer's CI slice: a few thousand mutated responses on every test run.

The full runs (``python -m tests.fuzz --cases 100000 --seed N``) are for hunting; this
slice keeps what they found from coming back, with a fixed seed so a failure replays.
"""

from __future__ import annotations

import pytest

from tests.fuzz.cases import MUTATIONS, READS, make_case
from tests.fuzz.runner import run

pytestmark = pytest.mark.timeout(300)

SEED = 15
CASES = 2_000


def test_a_slice_of_cases_ends_in_responses_errors_or_timeouts() -> None:
    report = run(SEED, CASES, watchdog=False)
    assert report.cases == CASES
    assert report.failed == 0, report.summary()
    # The slice really exercises both sides: answers read to their end, and refusals.
    assert report.outcomes["ok"] > CASES // 10, report.summary()
    assert report.outcomes["error:MalformedResponseError"] > CASES // 10, report.summary()
    assert report.outcomes["error:ClientPayloadError"] > CASES // 20, report.summary()


def test_cases_are_reproducible_and_varied() -> None:
    assert make_case(SEED, 7) == make_case(SEED, 7)
    cases = [make_case(SEED, index) for index in range(2_000)]
    applied = {name for case in cases for name in case.mutations}
    assert applied == set(MUTATIONS), "every mutation is drawn"
    assert {case.read for case in cases} == set(READS)
    assert {case.ending for case in cases} == {"fin", "rst", "open"}
    controls = [case for case in cases if not case.mutations]
    assert 40 < len(controls) < 200 and all(case.expected is not None for case in controls)
