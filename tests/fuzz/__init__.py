"""A seeded mutation fuzzer for the engine's response handling.

``python -m tests.fuzz --cases 100000 --seed 1`` serves that many mutated responses from a
loopback server to the engine, 32 at a time, and prints the outcomes; ``--case N`` replays
one. ``tests/fuzz/test_fuzz.py`` runs a slice of a few thousand cases in every test run.
See cases.py (what is sent) and runner.py (what counts as a failure).
"""
