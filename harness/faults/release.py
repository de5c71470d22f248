"""`ecs-template-deploy release` under faults: three services, killed at every call, then run again.

The release world (`harness.worlds.release`): worker and scheduler in wave 1, web
in wave 2, each proven once on v1. Each scenario releases v2 (or a failing web)
once without faults to count its AWS calls; then, for every call N and each
fault kind, the release runs with that fault at call N and, when the fault
stopped it (a kill, SIGTERM), a fresh process runs the same release again, as
a pipeline's retry (or its operator, pasting `next:`) would. After the
simulator has had time to finish what was started, the case is judged:

- **lost**: the services left apart (some on the release, some not) when the last
  run did not say so (exit 4), or at all after a re-run (it must finish the job);
  a revision that was known good before the release deregistered; a service
  updated to a revision of the release after that revision's failure was
  recorded (a failed release deployed twice).
- **misreported**: exit 0 without every service steady on the release and known
  good; exit 1 without every service steady on the known good it ran before.
"""
from __future__ import annotations

import functools
import os
import shlex
import signal
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Iterable, Iterator

from ecs_template_deploy import knowngood
from ecs_template_deploy.views import revision_name
from harness.faults.cases import OUTAGE_SECONDS, Case, CaseResult, _in_a_fork, embedded
from harness.faults.inject import Fault, FaultInjector, Killed
from harness.worlds.release import ReleaseWorld
from harness.worlds.tool import ToolRun

SETTLE = 900.0
PAUSE_AFTER_SCALE_UP = [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                         "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}]


@dataclass(frozen=True)
class ReleaseScenario:
    name: str
    tags: dict[str, str]  # service -> tag the release deploys
    fails: bool  # the release cannot pass: every service must end back on what it ran
    strategies: dict[str, str] = field(default_factory=dict)
    on_pause: str = ""  # the manifest's on_pause, for a blue/green web whose deployments pause
    description: str = ""


RELEASE_SCENARIOS = {s.name: s for s in (
    ReleaseScenario("release-good", {"worker": "v2", "scheduler": "v2", "web": "v2"}, False,
                    description="three services, two waves, every one passes its bake"),
    ReleaseScenario("release-last-fails", {"worker": "v2", "scheduler": "v2", "web": "crash"}, True,
                    description="web, the last wave, crashes: all three return to known good"),
    ReleaseScenario("release-first-wave-fails", {"worker": "v2", "scheduler": "crash", "web": "v2"}, True,
                    description="scheduler crashes in wave 1 while worker rolls out: worker stops and returns, web "
                                "is never reached"),
    ReleaseScenario("release-blue-green-paused", {"worker": "v2", "scheduler": "v2", "web": "v2"}, False,
                    strategies={"web": "BLUE_GREEN"}, on_pause="continue",
                    description="web is blue/green and pauses at POST_SCALE_UP; the release answers CONTINUE"),
    ReleaseScenario("release-blue-green-fails", {"worker": "v2", "scheduler": "v2", "web": "sick"}, True,
                    strategies={"web": "BLUE_GREEN"}, on_pause="continue",
                    description="web (blue/green) fails its health checks: traffic goes back to blue "
                                "(StopServiceDeployment), the first wave returns to known good"),
)}
KILLS = (Fault.KILL_BEFORE, Fault.KILL_AFTER, Fault.SIGTERM)
# The calls that change AWS: where a kill (before: not applied; after: applied, reply never read) matters most.
MUTATING = ("ecs.TagResource", "ecs.UpdateService", "ecs.RegisterTaskDefinition", "ecs.StopServiceDeployment",
            "ecs.ContinueServiceDeployment", "ecs.DeregisterTaskDefinition")


def build(aws: Any, scenario: ReleaseScenario) -> ReleaseWorld:
    paused = {"web": {"lifecycleHooks": PAUSE_AFTER_SCALE_UP}} if scenario.on_pause else {}
    return ReleaseWorld.build(aws, after={"web": ["worker", "scheduler"]}, strategies=scenario.strategies,
                              configuration=paused)


def _argv(world: ReleaseWorld, scenario: ReleaseScenario) -> list[str]:
    extra = f'on_pause = "{scenario.on_pause}"' if scenario.on_pause else ""
    path = world.manifest(scenario.tags, extra=extra, name=f"{scenario.name}.toml")
    return ["release", "--manifest", str(path), "--poll-interval", "10"]


@dataclass
class _Seen:
    """What the runs asked of ECS that the judge needs: updates and failure records, by time."""

    updates: list[tuple[float, str]] = field(default_factory=list)  # (when, family:N) of every UpdateService
    failed: dict[str, float] = field(default_factory=dict)  # family:N -> when its failure was first written

    def attach(self, session: Any, clock: Any) -> Any:
        def update(params: dict, **_: Any) -> None:
            if params.get("taskDefinition"):
                self.updates.append((clock.now(), revision_name(params["taskDefinition"])))

        def tag(params: dict, **_: Any) -> None:
            for pair in params.get("tags", []):
                if pair["key"] == knowngood.BAKE and pair["value"].startswith(knowngood.FAILED) \
                        and ":task-definition/" in params.get("resourceArn", ""):
                    self.failed.setdefault(revision_name(params["resourceArn"]), clock.now())

        session.events.register("provide-client-params.ecs.UpdateService", update)
        session.events.register("provide-client-params.ecs.TagResource", tag)
        return session


def run_release_cases(cases: Iterable[Case]) -> Iterator[CaseResult]:
    """Each case in a forked copy of a world built once per scenario."""
    cases = list(cases)
    for name in dict.fromkeys(case.scenario for case in cases):
        scenario = RELEASE_SCENARIOS[name]
        with embedded() as aws:
            world = build(aws, scenario)
            before = world.steady()
            for case in (c for c in cases if c.scenario == name):
                work = functools.partial(_run, case, scenario, world, before)
                yield _in_a_fork(work) if hasattr(os, "fork") else work()


def sweep(name: str, plan: Callable[[CaseResult], Iterable[Case]]) -> Iterator[CaseResult]:
    """The scenario's clean run (``baseline``'s), then each case ``plan`` makes of it, all in
    forks of one world built once (not once for the baseline and again for the sweep)."""
    scenario = RELEASE_SCENARIOS[name]
    with embedded() as aws:
        world = build(aws, scenario)
        before = world.steady()
        clean = functools.partial(_run, Case(name), scenario, world, before)
        result = _in_a_fork(clean) if hasattr(os, "fork") else clean()
        yield result
        for case in plan(result):
            work = functools.partial(_run, case, scenario, world, before)
            yield _in_a_fork(work) if hasattr(os, "fork") else work()


def _run(case: Case, scenario: ReleaseScenario, world: ReleaseWorld, before: dict[str, str]) -> CaseResult:
    aws = world.aws
    seen = _Seen()
    protected = {revision for revision in before.values()}
    session = seen.attach(world.any.session(), aws.clock)
    calls: list[str] = []
    session.events.register("before-call", lambda model, **_: calls.append(
        f"{model.service_model.endpoint_prefix}.{model.name}"))
    injector = FaultInjector(session, case.fault, case.at, now=aws.clock.now,
                             outage_seconds=float("inf") if case.forever else OUTAGE_SECONDS) \
        if case.fault is not None else None
    argv = _argv(world, scenario)
    runs: list[ToolRun | None] = []
    try:
        runs.append(world.any.run_argv(argv, session=session))
    except Killed:
        runs.append(None)
    first = runs[0]
    if first is None or first.code == 128 + signal.SIGTERM:
        # a new CD process: the pipeline's retry of the same release, or the `next:` it printed
        again = argv if first is None or not first.result.get("next") else shlex.split(first.result["next"])[1:]
        runs.append(world.any.run_argv(again, session=seen.attach(world.any.session(), aws.clock)))
    aws.clock.sleep(SETTLE)
    result = CaseResult(case, [r.code if r is not None else None for r in runs])
    result.operations = list(injector.calls) if injector else calls
    result.calls = len(result.operations)
    _judge(result, scenario, world, before, protected, seen, runs)
    return result


def _judge(result: CaseResult, scenario: ReleaseScenario, world: ReleaseWorld, before: dict[str, str],
           protected: set[str], seen: _Seen, runs: list[ToolRun | None]) -> None:
    steady = world.steady()
    known = world.known_good()
    on_release = all(steady[name] and world.services[name].tag_of(steady[name]) == tag and known[name] == steady[name]
                     for name, tag in scenario.tags.items())
    all_back = all(steady[name] == before[name] and known[name] == before[name] for name in before)
    result.ended_on = ", ".join(f"{name}={steady[name] or 'not steady'}" for name in steady)
    last = runs[-1]
    code = last.code if last is not None else None
    rerun = len(runs) > 1
    if not (on_release or all_back):
        if rerun or code not in (4, 5):
            result.lost.append(f"services left apart ({result.ended_on}; known good {known}) after exit {code}"
                               + (" of a re-run, which must finish the release" if rerun else ""))
    active = {revision_name(arn) for page in world.any.ecs.get_paginator("list_task_definitions").paginate(
        status="ACTIVE") for arn in page["taskDefinitionArns"]}
    for revision in sorted(protected - active):
        result.lost.append(f"{revision}, known good before the release, was deregistered")
    for at, revision in seen.updates:
        if revision in seen.failed and at > seen.failed[revision]:
            result.lost.append(f"{revision} deployed again after its failure was recorded (a failed release released "
                               "twice)")
            break
    if code == 0 and not on_release:
        result.misreported.append(f"exit 0, but not every service is on the release and known good ({result.ended_on})")
    if code == 1 and not all_back:
        result.misreported.append(f"exit 1, but not every service is back on what it ran ({result.ended_on})")
    if scenario.fails and code == 0:
        result.misreported.append("exit 0 for a release that cannot pass")


def baseline(name: str) -> CaseResult:
    return next(run_release_cases([Case(name)]))


def matrix(names: Iterable[str] = RELEASE_SCENARIOS, kinds: Iterable[Fault] = tuple(Fault),
           calls: dict[str, int] | None = None, every: int = 1) -> list[Case]:
    """Every call (every `every`-th) of each scenario with each kind, and an outage that never ends."""
    calls = calls or {name: baseline(name).calls for name in names}
    kinds = tuple(kinds)
    cases: list[Case] = []
    for name in names:
        for at in range(1, calls[name] + 1, every):
            cases.extend(Case(name, kind, at) for kind in kinds)
            if Fault.OUTAGE in kinds:
                cases.append(Case(name, Fault.OUTAGE, at, forever=True))
    return cases


def sampled(clean: CaseResult) -> list[Case]:
    """For a regression run: a kill after every call that changes AWS (applied, its reply
    never read), a kill before each call that moves a service, and every other kind
    of fault at every 13th call, the kinds in rotation. `bench/faults.py` runs them all."""
    name = clean.case.scenario
    cases = [Case(name, Fault.KILL_AFTER, at) for at, call in enumerate(clean.operations, start=1) if call in MUTATING]
    cases += [Case(name, Fault.KILL_BEFORE, at) for at, call in enumerate(clean.operations, start=1)
              if call in ("ecs.UpdateService", "ecs.StopServiceDeployment", "ecs.ContinueServiceDeployment")]
    others = [kind for kind in Fault if not kind.kills]
    for index, at in enumerate(range(3, clean.calls + 1, 13)):
        kind = others[index % len(others)]
        cases.append(Case(name, kind, at, forever=kind is Fault.OUTAGE and index % 2 == 1))
    return cases


def as_row(result: CaseResult) -> dict[str, Any]:
    row = asdict(result)
    row["held"] = result.held
    return row
