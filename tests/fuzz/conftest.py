"""Prints the fuzzing figures (calls, outcome classes, agreement with TF) after a run."""

from __future__ import annotations


def pytest_terminal_summary(terminalreporter):
    """One line per figure collected by tests/fuzz/outcomes.py, when any fuzzing ran."""
    from tests.fuzz.outcomes import STATS

    if not STATS:
        return
    terminalreporter.section("rill fuzzing figures")
    for key in sorted(STATS, key=lambda k: (k != "calls", k)):
        terminalreporter.write_line(f"{key}: {STATS[key]}")
