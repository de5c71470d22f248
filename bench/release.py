"""A three-service release whose last service fails: `release` against deploying the services one by one.

    python3 dev.py bench release [--bake SECONDS ...] [--json]

The world (`harness.worlds.release`): worker and scheduler (wave 1) and web (wave
2, after both), two tasks each, rolling, each running v1, proven by a bake. The
release ships v2 of worker and scheduler and a web whose tasks crash 5 s after
they start. Three ways a pipeline can ship it, each on a fresh copy of the world
and the simulator's virtual clock:

- **release**: `ecs-template-deploy release` with the manifest (wave 1 side by
  side, web once both passed their bake; on web's failure every service back to
  its known good, web first);
- **(a) one by one, each on its own**: `deploy --bake` per service, in wave order,
  as three pipelines would; web's deploy rolls web back, and nothing else moves;
- **(b) a script**: the same deploys one by one and, when one fails, `rollback` of
  every earlier service, one by one, latest first.

Measured: the virtual seconds from the start until every service is steady on
the known-good revision it ran before (or never, for (a)); how many services are
left on a release that failed elsewhere; and the commands a person must still
run. The floor (issue "a release of several services as one"): release at most
0.6 x (b).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from dataclasses import asdict, dataclass, field

from harness.faults.cases import embedded
from harness.worlds.release import ReleaseWorld

TAGS = {"worker": "v2", "scheduler": "v2", "web": "crash"}
ORDER = ("worker", "scheduler", "web")  # wave order, as a script deploys them
POLL = "5"
FLOOR = 0.6


@dataclass
class Measure:
    way: str
    bake: float
    seconds: float | None  # start -> every service steady on its known good; None: never
    left_on_failed_release: list[str]
    person_must_run: list[str]
    runs: list[int] = field(default_factory=list)  # exit codes


def _back(world: ReleaseWorld, before: dict[str, str]) -> bool:
    steady, known = world.steady(), world.known_good()
    return all(steady[n] == before[n] and known[n] == before[n] for n in before)


def _left(world: ReleaseWorld, before: dict[str, str]) -> list[str]:
    steady = world.steady()
    return [name for name in before if steady[name] != before[name]]


def release(bake: float) -> Measure:
    with embedded() as aws:
        world = ReleaseWorld.build(aws, ORDER, after={"web": ["worker", "scheduler"]}, bake=bake)
        before, start = world.steady(), aws.clock.now()
        run = world.release(TAGS, poll=POLL)
        seconds = aws.clock.now() - start if _back(world, before) else None
        return Measure("release", bake, seconds, _left(world, before), [], [run.code])


def one_by_one(bake: float, *, script: bool) -> Measure:
    with embedded() as aws:
        world = ReleaseWorld.build(aws, ORDER, after={"web": ["worker", "scheduler"]}, bake=bake)
        before, start = world.steady(), aws.clock.now()
        codes, deployed = [], []
        for name in ORDER:
            run = world.services[name].run("deploy", "--tag", TAGS[name], "--bake", f"{bake:g}", "--poll-interval", POLL)
            codes.append(run.code)
            if run.code != 0:
                break
            deployed.append(name)
        if script:
            for name in reversed(deployed):  # the script's own all-or-nothing, one service at a time
                codes.append(world.services[name].run("rollback", "--poll-interval", POLL).code)
        left = _left(world, before)
        seconds = aws.clock.now() - start if _back(world, before) else None
        must = [f"ecs-template-deploy rollback --cluster prod --service {name}" for name in left]
        return Measure("(b) script, one by one" if script else "(a) one by one, each on its own", bake, seconds, left,
                       must, codes)


def table(rows: list[Measure]) -> str:
    lines = ["| bake (s) | way | every service back on known good after | left on a failed release | a person must run |"
             " exits |", "|---:|---|---:|---|---:|---|"]
    for row in rows:
        seconds = f"{row.seconds:.0f} s" if row.seconds is not None else "never"
        lines.append(f"| {row.bake:g} | {row.way} | {seconds} | {', '.join(row.left_on_failed_release) or '-'} | "
                     f"{len(row.person_must_run)} | {' '.join(map(str, row.runs))} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bake", type=float, action="append", help="bake seconds per service (default: 0, 60, 300)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    parser.add_argument("--write", metavar="PATH", help="also write the table as markdown to PATH (docs/release-bench.md)")
    args = parser.parse_args(argv)
    rows: list[Measure] = []
    ratios: dict[float, float] = {}
    for bake in args.bake or [0.0, 60.0, 300.0]:
        measured = [release(bake), one_by_one(bake, script=False), one_by_one(bake, script=True)]
        rows += measured
        if measured[0].seconds is not None and measured[2].seconds:
            ratios[bake] = measured[0].seconds / measured[2].seconds
    said = [f"bake {bake:g} s: release / (b) = {ratio:.2f} ({'meets' if ratio <= FLOOR else 'MISSES'} the floor of "
            f"{FLOOR})" for bake, ratio in ratios.items()]
    if args.json:
        print(json.dumps({"rows": [asdict(r) for r in rows], "ratios": ratios, "floor": FLOOR}, indent=2))
    else:
        print(table(rows) + "\n\n" + "\n".join(said))
    if args.write:
        bakes = " ".join(f"--bake {bake:g}" for bake in (args.bake or []))
        command = f"python3 dev.py bench release {bakes}".strip() + f" --write {args.write}"
        Path(args.write).write_text(
            "# A three-service release whose last service fails (generated)\n\n"
            f"Written by `{command}` on {dt.datetime.now(dt.UTC).date().isoformat()}, on the simulator's virtual clock "
            "(`bench/release.py` says what each way does). Seconds: from the start until every service is steady "
            "on the known-good revision it ran before.\n\n" + table(rows) + "\n\n" + "\n".join(f"- {line}" for line in said)
            + "\n")
    return 0 if ratios and all(r <= FLOOR for r in ratios.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
