"""Rollback under every failure mode: each contender against the same failing deploys, on the simulator.

    python3 dev.py bench rollback [--poll-interval 5] [--mode NAME ...] [--workers N] [--json]

The service: desired count 4 behind a target group with AWS's default health
checks (interval 30 s, healthy threshold 5, unhealthy 2) and deregistration
delay (300 s), minimumHealthyPercent 100, maximumPercent 200, running the known
good web:1 (deployed and marked by the tool). A CloudWatch alarm HighErrors
watches the app. Failure modes of the next deploy:

- crash: every new task crashes 5 s after it starts;
- trickle: one task in four fails its target group checks (below the circuit
  breaker's threshold of 3);
- alarm: the release passes every check and HighErrors goes into ALARM 120 s after
  the rollout is done (ROLLING: the new deployment alone, full and healthy;
  blue/green: production traffic all on green, ECS's bake begins);
- late-alarm: the same, 720 s after: past ECS's alarm watch of a rolling update
  (300 s after scale-in) and past the blue/green deployment's bake (5 minutes) and
  clean-up;
- missing: the image tag was never pushed;
- slow: every task takes 180 s to start and then is healthy (a good release:
  rolling it back is a false rollback).

Contenders: the tool (`deploy --alarm HighErrors --bake 900`) on ROLLING and on
BLUE_GREEN with ECS's bake of 5 minutes; fabfuel's
ecs-deploy from PyPI (`ecs deploy --rollback`, its defaults: 1 s polls, 300 s
timeout; in-process on the virtual clock); ECS's circuit breaker alone; the
breaker plus ECS's deployment alarms (HighErrors, rollback on); and the floor of
each strategy: UpdateService back to web:1 (ROLLING) or StopServiceDeployment
ROLLBACK (BLUE_GREEN) at the very moment of the first evidence.

Measured in virtual seconds from the first evidence (the first failed task, the
alarm, or for a missing image the deploy itself): the contender's decision to
roll back; when production traffic was served by known good only (no healthy
task of the new revision in a target group with production weight; 0 when the
new revision never served); when the service was steady on web:1 alone (what
`aws ecs wait services-stable` waits for); the fewest healthy tasks serving from
the deploy on; every AWS API call the contender made; and whether a human must
still act. A probe reads the simulator (not the API) every virtual second.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import itertools
import multiprocessing
import os
import sys
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator
from unittest import mock

import botocore.client

from ecs_template_deploy.errors import EXIT_BAD_INPUT
from harness.backends.embedded import EmbeddedAws
from harness.backends.embedded import ACCOUNT
from harness.ecs import alarms, loadbalancers
from harness.worlds import CLUSTER, CONTAINER, REGION, REPOSITORY, SERVICE, ToolWorld

DESIRED = 4
ALARM = "HighErrors"
ECS_BAKE_MINUTES = 5    # BLUE_GREEN's bakeTimeInMinutes
TOOL_BAKE = 900         # the tool's --bake (both strategies)
SLOW_START = 180.0
SETTLE = 900.0          # virtual seconds for web:1 to settle before the deploy
LIMIT = 3600.0          # stop measuring this long after the deploy starts
PHASE = 2.5             # the deploy starts this long after a scheduler pass: evidence falls between polls


@dataclass(frozen=True)
class Mode:
    name: str
    tag: str
    behaviour: dict[str, Any]
    title: str
    rollback_wanted: bool = True
    alarm_after: float | None = None  # HighErrors goes into ALARM this long after the rollout is done


MODES = {m.name: m for m in (
    Mode("crash", "crash", {"crash_after": 5.0}, "every new task crashes 5 s after start"),
    Mode("trickle", "sick", {"target_health_fails_every": 4}, "1 task in 4 fails its target group checks"),
    Mode("alarm", "v2", {}, "an alarm 120 s after the rollout is done", alarm_after=120.0),
    Mode("late-alarm", "v3", {}, "an alarm 720 s after the rollout is done (after ECS's alarm watch and bake)",
         alarm_after=720.0),
    Mode("missing", "gone", {}, "the image tag was never pushed"),
    Mode("slow", "slow", {"start_seconds": SLOW_START}, f"a good release that takes {SLOW_START:g} s to start",
         rollback_wanted=False),
)}


@dataclass
class Measure:
    mode: str
    contender: str
    strategy: str
    detect: float | None       # first evidence -> decision to roll back
    production: float | None   # first evidence -> production served by known good only
    steady: float | None       # first evidence -> steady on web:1 alone
    min_serving: int
    api_calls: int
    rolled_back: bool
    blind: bool                # rolled back before any evidence of a failure (a timeout)
    human: str                 # what a human must still do ("" if nothing)
    note: str = ""


class Bench:
    """One fresh simulated AWS with the service steady on web:1 (known good), and probes."""

    def __init__(self, mode: Mode, strategy: str, breaker: bool = False, ecs_alarms: bool = False) -> None:
        self.mode = mode
        self.stack = contextlib.ExitStack()
        self.aws = self.stack.enter_context(EmbeddedAws(seed=7))
        self.stack.enter_context(mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}))
        self.clock, self.sim = self.aws.clock, self.aws.sim
        self.cloudwatch = self.aws.client("cloudwatch")
        self.cloudwatch.put_metric_alarm(AlarmName=ALARM, MetricName="5xx", Namespace="App", Statistic="Sum", Period=60,
                                         EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        configuration: dict[str, Any] = {}
        if ecs_alarms:
            configuration["alarms"] = {"alarmNames": [ALARM], "enable": True, "rollback": True}
        if strategy != "ROLLING":
            configuration["bakeTimeInMinutes"] = ECS_BAKE_MINUTES
        self.world = ToolWorld.build(self.aws, desired=DESIRED, load_balanced=True, circuit_breaker=breaker,
                                     strategy=strategy, **configuration)
        self.ecs = self.world.ecs
        setup = self.world.run("deploy", "--tag", "v1")
        assert setup.code == 0, f"setting up web:1 failed with exit code {setup.code}: {setup.stderr}"
        self.clock.sleep(SETTLE + PHASE)
        self.good = self.world.service().task_definition
        self.good_image = self.world.image_of(self.good)
        if mode.behaviour:
            self.sim.declare_image(f"web:{mode.tag}", **mode.behaviour)
        self.started = self.clock.now()
        self.evidence: float | None = self.started if mode.name == "missing" else None
        self.on_evidence: Callable[[], None] | None = None
        self.alarm_at: float | None = None
        self.serving: list[tuple[float, bool, int]] = []  # (t, new revision serves production, healthy serving)
        self._wrap_failures()
        self.clock.call_later(0, self._probe)

    def close(self) -> None:
        self.stack.close()

    # -- evidence and probes -------------------------------------------------------
    def is_new(self, task_definition: str) -> bool:
        return task_definition != self.good and task_definition.rsplit(":", 1)[0].endswith(":task-definition/web")

    def _evident(self) -> None:
        if self.evidence is None:
            self.evidence = self.clock.now()
            if self.on_evidence:
                self.on_evidence()

    def _wrap_failures(self) -> None:
        runner = self.sim.runner
        original = runner.on_failure

        def on_failure(task) -> None:
            if self.is_new(task.task_definition_arn):
                self._evident()
            original(task)

        runner.on_failure = on_failure

    def _probe(self) -> None:
        service = self.sim.service(SERVICE)
        weights = loadbalancers.weights(self.sim.moto, self.world.balancer.production_rule) if self.world.balancer else None
        first_tg = service.load_balancers[0]["targetGroupArn"]
        new_serves, healthy = False, 0
        for d in service.deployments:
            live = [t for t in d.tasks if t.alive and t.wanted and t.healthy]
            if weights is not None and not weights.get(d.target_group or first_tg, 0):
                continue  # its target group gets no production traffic
            healthy += len(live)
            new_serves = new_serves or (self.is_new(d.task_definition_arn) and bool(live))
        self.serving.append((self.clock.now(), new_serves, healthy))
        if self.mode.alarm_after is not None and self.alarm_at is None and self._rollout_done(service, weights):
            self.alarm_at = self.clock.now() + self.mode.alarm_after
            self.clock.call_later(self.mode.alarm_after, self._fire_alarm)
        if self.clock.now() - self.started < LIMIT:
            self.clock.call_later(1, self._probe)

    def _rollout_done(self, service, weights) -> bool:
        new = [d for d in service.deployments if self.is_new(d.task_definition_arn)]
        if not new:
            return False
        if weights is not None:  # blue/green: production traffic all on green
            return weights.get(new[0].target_group or "", 0) == 100
        return len(service.deployments) == 1 and new[0].settled_at is not None

    def _fire_alarm(self) -> None:
        alarms.set_state(self.sim.moto, ACCOUNT, REGION, ALARM, "ALARM", "the release misbehaves under production traffic")
        self._evident()

    # -- doing things ----------------------------------------------------------------
    @contextlib.contextmanager
    def counting_calls(self) -> Iterator[list[tuple[float, str]]]:
        """Every AWS API call made in the block, by any client in this process."""
        calls: list[tuple[float, str]] = []
        original = botocore.client.BaseClient._make_api_call
        clock = self.clock

        def counted(client, operation_name, api_params):
            calls.append((clock.now(), operation_name))
            return original(client, operation_name, api_params)

        with mock.patch.object(botocore.client.BaseClient, "_make_api_call", counted):
            yield calls

    def register_new(self) -> str:
        definition = self.ecs.describe_task_definition(taskDefinition=self.good)["taskDefinition"]
        containers = [dict(c, image=f"{REPOSITORY}:{self.mode.tag}") if c["name"] == CONTAINER else c
                      for c in definition["containerDefinitions"]]
        return self.ecs.register_task_definition(family="web", containerDefinitions=containers)[
            "taskDefinition"]["taskDefinitionArn"]

    def update(self, task_definition: str) -> None:
        self.ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=task_definition)

    # -- measuring -------------------------------------------------------------------
    def run_out(self) -> None:
        """Let the simulation run to LIMIT, so every contender is measured over the same span."""
        left = self.started + LIMIT - self.clock.now()
        if left > 0:
            self.clock.sleep(left)

    def steady_on_good_after(self, since: float) -> float | None:
        for event in self.sim.timeline.events:
            if event["t"] < since or "has reached a steady state" not in event["message"]:
                continue
            sample = [s for s in self.sim.timeline.samples if s["t"] <= event["t"] and s["service"] == SERVICE][-1]
            if [d["taskDefinition"] for d in sample["deployments"]] == [self.good]:
                return event["t"]
        return None

    def production_on_good_at(self) -> float | None:
        """When the new revision last stopped serving production (the start, if it never
        did); None if it still serves at the end."""
        if self.serving and self.serving[-1][1]:
            return None
        ended = self.started
        for (_, before, _), (t, now, _) in itertools.pairwise(self.serving):
            if before and not now:
                ended = t
        return ended

    def left_known_good(self) -> bool:
        """Whether a deployment of the new revision ever existed (a refused deploy: no)."""
        return any(self.is_new(d["taskDefinition"]) for s in self.sim.timeline.samples
                   if s["t"] >= self.started and s["service"] == SERVICE for d in s["deployments"])

    def measure(self, contender: str, strategy: str, decided: float | None, calls: int, note: str = "") -> Measure:
        self.run_out()
        service = self.world.service()
        on_good = service.task_definition == self.good
        rolled_back = decided is not None and on_good
        blind = rolled_back and (self.evidence is None or decided < self.evidence)
        if blind:  # rolled back before any evidence of a failure: its timeout, not detection
            note = f"{note}; rolled back {decided - self.started:g} s into the deploy, before any evidence"
        # times count from the first evidence; without any, from the deploy's start
        since = self.evidence if self.evidence is not None else self.started
        back = self.production_on_good_at()
        if not self.left_known_good():
            steady: float | None = since  # never left known good: nothing to recover
        else:
            steady = self.steady_on_good_after(since)

        def after(t: float | None) -> float | None:
            return None if t is None or since is None else max(t - since, 0.0)

        if self.mode.rollback_wanted:
            human = "" if on_good and back is not None else "roll back by hand: the broken release still serves"
            if on_good and back is not None and steady is None:
                human = "finish the rollback: the service is not steady"
        else:
            human = "deploy again: a good release was rolled back" if on_good else ""
        serving = [h for t, _, h in self.serving if t >= self.started]
        return Measure(self.mode.name, contender, strategy, after(decided), after(back) if self.mode.rollback_wanted else None,
                       after(steady) if self.mode.rollback_wanted else None, min(serving) if serving else DESIRED,
                       calls, rolled_back, blind, human, note)


# -- contenders ----------------------------------------------------------------------

def tool(mode: Mode, strategy: str, poll: float) -> Measure:
    bench = Bench(mode, strategy)
    try:
        argv = ["--tag", mode.tag, "--poll-interval", f"{poll:g}", "--alarm", ALARM, "--bake", str(TOOL_BAKE)]
        with bench.counting_calls() as calls:
            run = bench.world.run("deploy", *argv)
        result = run.result
        decided = result.get("decidedAt")
        if run.code == EXIT_BAD_INPUT:
            decided = run.started  # refused before changing anything
        note = f"exit {run.code}: " + (result.get("rolledBackBy") or result.get("message") or run.stderr.strip()[:80])
        name = f"tool, {strategy}, --bake {TOOL_BAKE}" + (f" (ECS bake {ECS_BAKE_MINUTES} min)" if strategy != "ROLLING" else "")
        return bench.measure(name, strategy, decided, len(calls), note)
    finally:
        bench.close()


class VirtualDatetime(dt.datetime):
    """`datetime` whose now() reads the bench's virtual clock (for fabfuel's loop)."""

    clock: Any = None

    @classmethod
    def now(cls, tz=None):
        return dt.datetime.fromtimestamp(cls.clock.now(), tz)


def fabfuel(mode: Mode, strategy: str, poll: float) -> Measure:
    import ecs_deploy.cli
    import ecs_deploy.ecs
    from click.testing import CliRunner

    bench = Bench(mode, strategy)
    try:
        VirtualDatetime.clock = bench.clock
        with contextlib.ExitStack() as patches:
            patches.enter_context(mock.patch.object(ecs_deploy.cli, "sleep", bench.clock.sleep))
            patches.enter_context(mock.patch.object(ecs_deploy.cli, "datetime", VirtualDatetime))
            patches.enter_context(mock.patch.object(ecs_deploy.ecs, "datetime", VirtualDatetime))
            calls = patches.enter_context(bench.counting_calls())
            outcome = CliRunner().invoke(ecs_deploy.cli.ecs, [
                "deploy", CLUSTER, SERVICE, "--image", CONTAINER, f"{REPOSITORY}:{mode.tag}", "--rollback",
                "--region", REGION])
        updates = [t for t, name in calls if name == "UpdateService"]
        return bench.measure("fabfuel ecs deploy --rollback", strategy, updates[1] if len(updates) > 1 else None,
                             len(calls), f"exit {outcome.exit_code}: rolls back after its 300 s timeout")
    finally:
        bench.close()


def ecs_alone(alarms: bool) -> Callable[[Mode, str, float], Measure]:
    def contender(mode: Mode, strategy: str, poll: float) -> Measure:
        bench = Bench(mode, strategy, breaker=True, ecs_alarms=alarms)
        try:
            with bench.counting_calls() as calls:
                bench.update(bench.register_new())
            bench.run_out()
            failed = [e["t"] for e in bench.sim.timeline.events
                      if e["t"] >= bench.started and "deployment failed" in e["message"]]
            name = "ECS circuit breaker + alarms" if alarms else "ECS circuit breaker alone"
            return bench.measure(name, strategy, failed[0] if failed else None, len(calls),
                                 "breaker threshold max(3, 50% of desired)" + (f"; alarms watched {bench.sim.params.alarm_bake_seconds:g} s after scale-in" if alarms else ""))
        finally:
            bench.close()
    return contender


def floor(mode: Mode, strategy: str, poll: float) -> Measure:
    bench = Bench(mode, strategy)
    try:
        with bench.counting_calls() as calls:
            if strategy == "ROLLING":
                act = lambda: bench.update(bench.good)  # noqa: E731
            else:
                def act() -> None:  # a traffic shift back while ECS holds blue; after clean-up, a new deployment
                    current = bench.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
                    arn = current["currentServiceDeployment"]
                    record = bench.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]
                    if record["status"] in ("PENDING", "IN_PROGRESS"):
                        bench.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
                    else:
                        bench.update(bench.good)
            decided: list[float] = []
            bench.on_evidence = lambda: bench.clock.call_later(0, lambda: (decided.append(bench.clock.now()), act()))
            if mode.name == "missing":
                decided.append(bench.clock.now())  # the floor does not deploy what is not there
            else:
                bench.update(bench.register_new())
            bench.run_out()
        return bench.measure(f"floor, {strategy}", strategy, decided[0] if decided else None, len(calls),
                             "acts at the first evidence, no detection delay")
    finally:
        bench.close()


CONTENDERS: list[tuple[str, str, Callable[[Mode, str, float], Measure]]] = [
    ("tool-rolling", "ROLLING", tool),
    ("tool-blue-green", "BLUE_GREEN", tool),
    ("fabfuel", "ROLLING", fabfuel),
    ("breaker", "ROLLING", ecs_alone(alarms=False)),
    ("breaker-alarms", "ROLLING", ecs_alone(alarms=True)),
    ("floor-rolling", "ROLLING", floor),
    ("floor-blue-green", "BLUE_GREEN", floor),
]


def _run(job: tuple[str, int, float]) -> dict:
    mode, index, poll = job
    _, strategy, contender = CONTENDERS[index]
    return asdict(contender(MODES[mode], strategy, poll))


# -- the report ---------------------------------------------------------------------------

def fmt(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}".removesuffix(".0")


def table(rows: list[Measure]) -> str:
    lines = ["| mode | contender | evidence -> decision (s) | -> production on known good only (s) | -> steady on known good (s) "
             "| fewest healthy serving | API calls | human needed |",
             "|---|---|---:|---:|---:|---:|---:|---|"]
    for m in rows:
        decision = fmt(m.detect) if m.detect is not None else ("-" if not MODES[m.mode].rollback_wanted else "never")
        if m.blind and MODES[m.mode].rollback_wanted:
            decision = f"{fmt(m.detect)} (its timeout, before any evidence)"
        if not MODES[m.mode].rollback_wanted:
            production = steady = "-"
            decision = f"{fmt(m.detect)} (false rollback)" if m.rolled_back else "no rollback"
        else:
            production, steady = fmt(m.production), fmt(m.steady)
        lines.append(f"| {m.mode} | {m.contender} | {decision} | {production} | {steady} | {m.min_serving}/{DESIRED} "
                     f"| {m.api_calls} | {m.human or 'no'} |")
    return "\n".join(lines)


def verdicts(rows: list[Measure], poll: float) -> list[str]:
    """The issue's floors, each measured in this run."""
    ours = [m for m in rows if m.contender.startswith("tool")]
    lines = []
    for m in ours:
        if MODES[m.mode].rollback_wanted:
            ok = m.detect is not None and m.detect <= poll
            lines.append(f"detection, {m.mode}, {m.contender}: {fmt(m.detect)} s (goal <= one poll, {poll:g} s): "
                         f"{'met' if ok else 'NOT met'}")
    rolling_floor = {m.mode: m for m in rows if m.contender == "floor, ROLLING"}
    for m in ours:
        if m.strategy != "BLUE_GREEN" or not MODES[m.mode].rollback_wanted or m.mode == "missing":
            continue
        base = rolling_floor[m.mode]
        # recovery: until production is on known good only; where the failure never
        # reached production on either, until the service is steady on known good again
        label, mine, theirs = ("production on known good", m.production, base.production) if base.production else \
            ("steady on known good", m.steady, base.steady)
        if mine is None or not theirs:
            lines.append(f"blue/green vs rolling floor, {m.mode}, {label}: {fmt(mine)} s vs {fmt(theirs)} s")
            continue
        ratio = mine / theirs
        lines.append(f"blue/green vs rolling floor, {m.mode}, {label}: {fmt(mine)} / {fmt(theirs)} s = {ratio:.2f}x "
                     f"(goal <= 0.1x): {'met' if ratio <= 0.1 else 'NOT met'}")
    for mode in ("trickle", "alarm", "late-alarm"):
        others = [m for m in rows if m.mode == mode and not m.contender.startswith(("tool", "floor")) and
                  m.production is not None and m.rolled_back and not m.blind]
        for m in (m for m in ours if m.mode == mode):
            if not others:
                lines.append(f"{mode}, {m.contender}: recovers in {fmt(m.production)} s; no other contender recovers at all")
                continue
            best = min(others, key=lambda o: o.production)
            ratio = m.production / best.production if m.production is not None and best.production else None
            lines.append(f"{mode}, {m.contender}: {fmt(m.production)} s vs best other ({best.contender}) "
                         f"{fmt(best.production)} s = {'-' if ratio is None else f'{ratio:.2f}x'} (goal <= 0.5x): "
                         f"{'met' if ratio is not None and ratio <= 0.5 else 'NOT met'}")
    false = [m for m in ours if not MODES[m.mode].rollback_wanted and m.rolled_back]
    lines.append(f"false rollbacks of the tool in mode slow: {len(false)} (goal 0): {'met' if not false else 'NOT met'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poll-interval", type=float, default=5.0, help="the tool's poll interval (default 5)")
    parser.add_argument("--mode", action="append", choices=list(MODES), help="only these failure modes")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPUs)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    jobs = [(mode, i, args.poll_interval) for mode in (args.mode or list(MODES)) for i in range(len(CONTENDERS))]
    with multiprocessing.get_context("fork").Pool(args.workers) as pool:
        rows = [Measure(**r) for r in pool.map(_run, jobs, chunksize=1)]
    if args.json:
        print(json.dumps([asdict(m) for m in rows], indent=2))
        return 0
    print(f"Desired {DESIRED}, target group health checks at AWS defaults (30 s x 5 healthy / 2 unhealthy), "
          "deregistration delay 300 s; virtual seconds from the first evidence.\n")
    for name, mode in MODES.items():
        print(f"- {name}: {mode.title}")
    print()
    print(table(rows))
    print()
    for line in verdicts(rows, args.poll_interval):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
