"""The deploy tool under faults: every AWS call of deploy, rollback, prune and release, failed every way.

    python3 dev.py bench faults [--scenario NAME ...] [--every N] [--workers N] [--json]

For each scenario (`harness/faults/cases.py`: good and failing deploys, bakes
with an alarm on ROLLING and BLUE_GREEN, re-runs while an alarm fires, rollback,
prune across families and services, two CD jobs racing; a release of three services
in two waves, good, failing in either wave, blue/green with a PAUSE hook:
`harness/faults/release.py`) the benchmark first runs it
without faults to count its AWS calls, then once for every call N and every
fault kind (throttling beyond botocore's retries, 5xx, connection errors, a
lost reply, a lost reply botocore retries, an expired token, a non-retryable
ClientException, a kill before or after the call with a re-run from a fresh
process, an outage of 120 s, an outage that never ends). Each case is judged
by the invariants in `harness/faults/cases.py` and counted as held, lost (the
service left on a failing revision without a not-recovered exit, a known-good
revision deregistered, an unmentioned revision) or misreported (an exit code
or message wrong for where the service is). Everything runs on the simulator's
virtual clock; each case in a forked copy of a world built once.
"""
from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import sys
import time

from harness.faults import release
from harness.faults.cases import SCENARIOS, baseline, matrix, run_cases
from harness.faults.inject import Fault

ALL = [*SCENARIOS, *release.RELEASE_SCENARIOS]


def _run_share(args: tuple[list, int, int]) -> list[dict]:
    cases, index, count = args
    mine = cases[index::count]
    results = list(run_cases([c for c in mine if c.scenario in SCENARIOS])) + \
        list(release.run_release_cases([c for c in mine if c.scenario in release.RELEASE_SCENARIOS]))
    return [{"id": r.case.id, "scenario": r.case.scenario, "kind": r.case.id.split("-", 2)[-1].rsplit("-", 1)[0],
             "held": r.held, "lost": r.lost, "misreported": r.misreported, "explain": r.explain()}
            for r in results]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(ALL), help="only these scenarios")
    parser.add_argument("--kind", action="append", choices=[kind.value for kind in Fault],
                        help="only these fault kinds (default: all)")
    parser.add_argument("--every", type=int, default=1, help="sweep every N-th call (default 1: all)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPUs)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args(argv)
    scenarios = args.scenario or ALL
    started = time.perf_counter()
    calls = {}
    for name in scenarios:
        clean = release.baseline(name) if name in release.RELEASE_SCENARIOS else baseline(name)
        if not clean.held:
            print(f"baseline {name} does not hold: {clean.explain()}", file=sys.stderr)
            return 1
        calls[name] = clean.calls
    ones = [n for n in scenarios if n in SCENARIOS]
    releases = [n for n in scenarios if n in release.RELEASE_SCENARIOS]
    kinds = tuple(Fault(kind) for kind in args.kind) if args.kind else tuple(Fault)
    cases = (matrix(ones, kinds, calls={n: calls[n] for n in ones}, every=args.every) if ones else []) + \
        (release.matrix(releases, kinds, calls={n: calls[n] for n in releases}, every=args.every) if releases else [])
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        shares = pool.map(_run_share, [(cases, i, args.workers) for i in range(args.workers)])
    results = [r for share in shares for r in share]
    wall = time.perf_counter() - started
    if args.json:
        print(json.dumps({"calls": calls, "wall_seconds": wall, "results": results}, indent=2))
    else:
        table(results, calls, wall)
    return 0 if all(r["held"] for r in results) else 1


def table(results: list[dict], calls: dict[str, int], wall: float) -> None:
    by = collections.defaultdict(lambda: collections.Counter())
    for r in results:
        counter = by[r["scenario"]]
        counter["cases"] += 1
        counter["held"] += r["held"]
        counter["lost"] += bool(r["lost"])
        counter["misreported"] += bool(r["misreported"]) and not r["lost"]
    print("| scenario | AWS calls swept | cases | held | lost | misreported |")
    print("|---|---:|---:|---:|---:|---:|")
    total = collections.Counter()
    for name, counter in by.items():
        total.update(counter)
        print(f"| {name} | {calls[name]} | {counter['cases']} | {counter['held']} | {counter['lost']} | {counter['misreported']} |")
    print(f"| **all** | {sum(calls.values())} | {total['cases']} | {total['held']} | {total['lost']} | {total['misreported']} |")
    print(f"\n{len(results)} cases in {wall:.0f} s wall")
    for r in results:
        if not r["held"]:
            print("  " + r["explain"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
