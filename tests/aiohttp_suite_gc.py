"""pytest plugin for .ci/aiohttp-suite's runs of aiohttp's tests (not one of our tests).

aiohttp's test loop teardown runs a full ``gc.collect()`` after every test, so that a leaked
transport warns in the test that leaked it. A full collection walks every object alive:
pytest, aiohttp, the test modules and their collected items, ~0.1 s each time, most of the
suite's run time. Once collection is done those objects live until the end, so they are
frozen out of the collector (``gc.freeze()``): each test's collection then walks only what
was made since, and still finds every cycle the test left behind.
"""

from __future__ import annotations

import gc

import pytest


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()
