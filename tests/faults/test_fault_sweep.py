"""Every AWS call of deploy, rollback and prune, failed one way or another: the service
ends on the new revision (good image) or on known good (failing image), or the tool
says it could not get there, where things stand and what finishes the job.

Each scenario is swept over all of its calls; call N gets fault kind N (mod the
kinds), so every call and every kind is hit. `python3 dev.py bench faults` runs
every kind at every call (the full matrix). The judge is `harness.faults.cases`.
"""
from __future__ import annotations

import pytest

from harness.faults.cases import KINDS, RACES, SCENARIOS, Case, sweep
from harness.faults.inject import Fault

ROTATION = (*KINDS, "outage-forever")


def sampled(name: str, calls: int) -> list[Case]:
    if name in RACES:
        return [Case(name, None, at) for at in range(1, calls + 1)]
    offset = list(SCENARIOS).index(name)
    cases = []
    for at in range(1, calls + 1):
        kind = ROTATION[(at + offset) % len(ROTATION)]
        cases.append(Case(name, Fault.OUTAGE, at, forever=True) if kind == "outage-forever" else Case(name, kind, at))
    return cases


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_call_failed_or_raced_ends_where_it_should_or_says_so(name):
    runs = sweep(name, lambda clean: sampled(name, clean.calls))  # the clean run and the sweep: one world
    clean = next(runs)
    assert clean.case == Case(name) and clean.held, clean.explain()
    assert clean.calls >= 5  # the sweep sweeps something

    results = list(runs)

    assert len(results) == clean.calls
    broken = [r.explain() for r in results if not r.held]
    assert broken == []
