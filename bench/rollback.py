"""Rollback speed: the same failing deploy, handled by each contender, on the simulator.

    python3 dev.py bench rollback [--poll-interval 5] [--phase 2.5] [--json]

The service: desired count 4 behind a target group with AWS's default health
checks (interval 30 s, healthy threshold 5, unhealthy 2), minimumHealthyPercent
100, maximumPercent 200, running the known-good web:1. The deploy: web:2, whose
image crashes 5 s after it starts. Contenders:

- ecs-template-deploy (`deploy`, defaults: poll every 5 s, first failure decides);
- fabfuel's ecs-deploy from PyPI (`ecs deploy --rollback`, its defaults: 1 s polls,
  300 s timeout), in-process with its sleep and clock patched to the virtual clock;
- ECS's deployment circuit breaker alone (enable + rollback; CD only registers
  and updates);
- the floor: UpdateService back to web:1 at the very moment the first task fails.

Measured, all in virtual seconds from the first failed task: when the contender
decided to roll back, when the service was steady on web:1 again (the
deployment COMPLETED and the old ones drained: what `aws ecs wait
services-stable` waits for); plus the fewest healthy tasks on the way and the
AWS API calls the contender made. Everything runs on virtual time: the wall
time of a run is a few seconds.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterator
from unittest import mock

import botocore.client

from ecs_template_deploy.cli import main as deploy_tool
from harness.backends.embedded import EmbeddedAws

ACCOUNT, REGION = "123456789012", "us-east-1"
REPO = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web"
TG = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/web/0123456789abcdef"
DESIRED = 4
CRASH_AFTER = 5.0
SETTLE = 900.0  # virtual seconds for the starting state to settle
LIMIT = 3600.0  # give up measuring steady state after this long


@dataclass
class Measure:
    contender: str
    detect: float | None  # first failed task -> decision to roll back
    steady: float | None  # first failed task -> steady on web:1
    min_healthy: int
    api_calls: int
    note: str = ""


class Bench:
    """One fresh simulated AWS with the service steady on web:1 (known good)."""

    def __init__(self, circuit_breaker: bool = False, phase: float = 0.0) -> None:
        self.stack = contextlib.ExitStack()
        self.aws = self.stack.enter_context(EmbeddedAws(seed=7))
        self.stack.enter_context(mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}))
        self.clock, self.sim = self.aws.clock, self.aws.sim
        self.ecs = self.aws.client("ecs")
        ecr = self.aws.client("ecr")
        ecr.create_repository(repositoryName="web")
        for tag in ("placeholder", "v1", "crash"):
            manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                                   "config": {"digest": "sha256:" + hashlib.sha256(tag.encode()).hexdigest()}})
            ecr.put_image(repositoryName="web", imageManifest=manifest, imageTag=tag)
        self.sim.declare_image("web:crash", crash_after=CRASH_AFTER)
        self.ecs.create_cluster(clusterName="prod")
        template = self.ecs.register_task_definition(family="web-template", containerDefinitions=[
            {"name": "app", "image": f"{REPO}:placeholder", "memory": 256, "essential": True,
             "portMappings": [{"containerPort": 8080}]}])["taskDefinition"]["taskDefinitionArn"]
        self.ecs.create_service(
            cluster="prod", serviceName="web", taskDefinition=template, desiredCount=DESIRED,
            loadBalancers=[{"targetGroupArn": TG, "containerName": "app", "containerPort": 8080}],
            deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100,
                                     "deploymentCircuitBreaker": {"enable": circuit_breaker, "rollback": circuit_breaker}})
        self.clock.sleep(SETTLE)
        with redirect_stdout(io.StringIO()):
            code = self.tool("deploy", "--tag", "v1")
        assert code == 0, f"setting up web:1 failed with exit code {code}"
        self.clock.sleep(SETTLE)
        self.good = self.service()["taskDefinition"]
        self.first_failure: float | None = None
        self.on_first_failure: Callable[[], None] | None = None
        runner = self.sim.runner
        original = runner.on_failure

        def on_failure(task) -> None:
            if self.first_failure is None and task.task_definition_arn != self.good:
                self.first_failure = self.clock.now()
                if self.on_first_failure:
                    self.on_first_failure()
            original(task)

        runner.on_failure = on_failure
        # Start the deploy `phase` s after a scheduler pass, so the first failure
        # does not fall exactly on one of the tool's polls.
        self.clock.sleep(phase)
        self.started = self.clock.now()

    def close(self) -> None:
        self.stack.close()

    def tool(self, command: str, *argv: str) -> int:
        return deploy_tool([command, "--cluster", "prod", "--service", "web", "--template", "web-template", *argv],
                           session=self.aws.session, clock=self.clock)

    def service(self) -> dict[str, Any]:
        return self.ecs.describe_services(cluster="prod", services=["web"])["services"][0]

    def register_crash(self) -> str:
        definition = self.ecs.describe_task_definition(taskDefinition=self.good)["taskDefinition"]
        container = dict(definition["containerDefinitions"][0], image=f"{REPO}:crash")
        return self.ecs.register_task_definition(family="web", containerDefinitions=[container])[
            "taskDefinition"]["taskDefinitionArn"]

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

    def steady_on_good_after(self, since: float) -> float | None:
        """When the service first reached a steady state on web:1 after `since` (None if not yet)."""
        for event in self.sim.timeline.events:
            if event["t"] < since or "has reached a steady state" not in event["message"]:
                continue
            sample = [s for s in self.sim.timeline.samples if s["t"] <= event["t"]][-1]
            if [d["taskDefinition"] for d in sample["deployments"]] == [self.good]:
                return event["t"]
        return None

    def wait_steady(self) -> float | None:
        while self.clock.now() - self.started < LIMIT:
            if self.first_failure is not None:
                found = self.steady_on_good_after(self.first_failure)
                if found is not None:
                    return found
            self.clock.sleep(5)
        return None

    def min_healthy(self, until: float | None) -> int:
        end = until if until is not None else float("inf")
        samples = [s["healthy"] for s in self.sim.timeline.samples if self.started <= s["t"] <= end]
        return min(samples) if samples else DESIRED

    def measure(self, contender: str, decided: float | None, calls: int, note: str = "") -> Measure:
        steady = self.wait_steady()
        since = self.first_failure
        return Measure(contender,
                       None if decided is None or since is None else decided - since,
                       None if steady is None or since is None else steady - since,
                       self.min_healthy(steady), calls, note)


def ecs_template_deploy(poll_interval: float, phase: float) -> Measure:
    bench = Bench(phase=phase)
    try:
        out = io.StringIO()
        with bench.counting_calls() as calls, redirect_stdout(out), redirect_stderr(io.StringIO()):
            code = bench.tool("deploy", "--tag", "crash", "--json", "--poll-interval", f"{poll_interval:g}")
        result = next(json.loads(line) for line in reversed(out.getvalue().splitlines()) if '"kind": "result"' in line)
        return bench.measure("ecs-template-deploy", result["decidedAt"], len(calls), f"exit {code}: {result['rolledBackBy']}")
    finally:
        bench.close()


class VirtualDatetime(dt.datetime):
    """`datetime` whose now() reads the bench's virtual clock (for fabfuel's loop)."""

    clock: Any = None

    @classmethod
    def now(cls, tz=None):
        return dt.datetime.fromtimestamp(cls.clock.now(), tz)


def fabfuel_ecs_deploy(phase: float) -> Measure:
    import ecs_deploy.cli
    import ecs_deploy.ecs
    from click.testing import CliRunner

    bench = Bench(phase=phase)
    try:
        VirtualDatetime.clock = bench.clock
        with contextlib.ExitStack() as patches:
            patches.enter_context(mock.patch.object(ecs_deploy.cli, "sleep", bench.clock.sleep))
            patches.enter_context(mock.patch.object(ecs_deploy.cli, "datetime", VirtualDatetime))
            patches.enter_context(mock.patch.object(ecs_deploy.ecs, "datetime", VirtualDatetime))
            calls = patches.enter_context(bench.counting_calls())
            outcome = CliRunner().invoke(ecs_deploy.cli.ecs, [
                "deploy", "prod", "web", "--image", "app", f"{REPO}:crash", "--rollback", "--region", REGION])
        updates = [t for t, name in calls if name == "UpdateService"]
        decided = updates[1] if len(updates) > 1 else None
        return bench.measure("fabfuel ecs-deploy --rollback", decided, len(calls),
                             f"exit {outcome.exit_code}: rolls back after its 300 s timeout")
    finally:
        bench.close()


def circuit_breaker_alone(phase: float) -> Measure:
    bench = Bench(circuit_breaker=True, phase=phase)
    try:
        with bench.counting_calls() as calls:
            crash = bench.register_crash()
            bench.ecs.update_service(cluster="prod", service="web", taskDefinition=crash)
        steady = bench.wait_steady()
        failed = [e["t"] for e in bench.sim.timeline.events
                  if e["t"] >= bench.started and "deployment failed" in e["message"]]
        measure = bench.measure("ECS circuit breaker alone", failed[0] if failed else None, len(calls),
                                "threshold max(3, 50% of desired)")
        assert steady is None or measure.steady == steady - bench.first_failure
        return measure
    finally:
        bench.close()


def floor(phase: float) -> Measure:
    bench = Bench(phase=phase)
    try:
        with bench.counting_calls() as calls:
            crash = bench.register_crash()
            bench.on_first_failure = lambda: bench.clock.call_later(
                0, lambda: bench.ecs.update_service(cluster="prod", service="web", taskDefinition=bench.good))
            bench.ecs.update_service(cluster="prod", service="web", taskDefinition=crash)
            steady = bench.wait_steady()
        return bench.measure("floor (roll back at the first failure)", bench.first_failure, len(calls),
                             "no detection delay")
    finally:
        bench.close()


def fmt(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}".removesuffix(".0")


def table(rows: list[Measure]) -> str:
    lines = ["| contender | first failure -> decision (s) | first failure -> steady on web:1 (s) | fewest healthy | API calls | note |",
             "|---|---:|---:|---:|---:|---|"]
    lines += [f"| {m.contender} | {fmt(m.detect)} | {fmt(m.steady)} | {m.min_healthy}/{DESIRED} | {m.api_calls} | {m.note} |"
              for m in rows]
    return "\n".join(lines)


def verdicts(ours: Measure, floor_: Measure, others: list[Measure], poll_interval: float) -> list[str]:
    finished = [m.steady for m in others if m.steady is not None]
    best = min(finished) if finished else None
    lines = []
    if ours.detect is not None:
        lines.append(f"detection: {ours.detect:g} s after the first failed task "
                     f"(goal: within one poll interval, {poll_interval:g} s): {'met' if ours.detect <= poll_interval else 'NOT met'}")
    if ours.steady is not None and floor_.steady:
        ratio = ours.steady / floor_.steady
        lines.append(f"time to steady / floor: {ratio:.2f}x (goal <= 1.2x): {'met' if ratio <= 1.2 else 'NOT met'}")
    if ours.steady is not None and best:
        ratio = ours.steady / best
        name = next(m.contender for m in others if m.steady == best)
        lines.append(f"time to steady / best other ({name}): {ratio:.2f}x (goal <= 0.5x): {'met' if ratio <= 0.5 else 'NOT met'}")
    if best and floor_.steady:
        lines.append(f"floor / best other: {floor_.steady / best:.2f}x: no contender can do better than the floor")
    for m in others:
        if m.steady and ours.steady:
            lines.append(f"  {m.contender}: {m.steady / ours.steady:.2f}x ecs-template-deploy's time to steady")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--poll-interval", type=float, default=5.0, help="ecs-template-deploy's poll interval (default 5)")
    parser.add_argument("--phase", type=float, default=2.5,
                        help="seconds after a scheduler pass the deploy starts (default 2.5: failures fall between polls)")
    parser.add_argument("--json", action="store_true", help="print the measurements as JSON")
    args = parser.parse_args(argv)
    ours = ecs_template_deploy(args.poll_interval, args.phase)
    others = [fabfuel_ecs_deploy(args.phase), circuit_breaker_alone(args.phase)]
    bottom = floor(args.phase)
    rows = [ours, *others, bottom]
    if args.json:
        print(json.dumps([asdict(m) for m in rows], indent=2))
        return 0
    print(f"Failing deploy: desired {DESIRED}, image crashes {CRASH_AFTER:g} s after start, target group health checks "
          "at AWS defaults (30 s x 5 healthy / 2 unhealthy), deregistration delay 300 s; virtual seconds.\n")
    print(table(rows))
    print()
    for line in verdicts(ours, bottom, others, args.poll_interval):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
