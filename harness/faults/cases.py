"""The fault matrix: each AWS call of the deploy tool's commands, failed every way, and what must hold after.

A *case* is a scenario (a command the tool runs against a prepared world),
a fault kind (`inject.Fault`) and the number of the call it hits. A case runs
in a fresh embedded AWS on the virtual clock: build the world, prepare it, run
the command with the fault injected on its session; after a kill, run the same
command again from a fresh session (a new CD process); then let the simulator
settle and judge:

- **lost**: the service is left on a failing revision although the last run did
  not exit with a not-recovered code (4 or 5), or did but AWS answered again (a
  not-recovered exit is the answer only to AWS that stays unreachable); a
  known-good revision (the service's pointer, or the one a rollback would
  return to) was deregistered; an ACTIVE revision of the target family is new
  and no output mentions it;
- **misreported**: the exit code does not match where the service is: 4 or 5
  after a fault that ended, with the service on a good revision; 0 but not
  steady on what was asked for, 1 but not steady on a good known-good revision,
  2 or 3 (refused before any change) but the service was changed, 4 or 5 without the standing (running revision,
  known good) and the command that finishes the job, or an internal error;
- **held**: neither.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Iterator
from unittest import mock

from ecs_template_deploy import knowngood
from ecs_template_deploy.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT, EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, EXIT_TASK_FAILED, EXIT_TIMED_OUT
from ecs_template_deploy.views import revision_name

from harness.backends.embedded import EmbeddedAws
from harness.faults.inject import Fault, FaultInjector, Killed, Meanwhile
from harness.worlds import ToolRun, ToolWorld

POLL = ("--poll-interval", "10", "--timeout", "600")
SETTLE = 900.0  # virtual seconds after the last run, for what it started to finish
OUTAGE_SECONDS = 120.0  # an outage that ends (the "outage" kind); "outage-forever" never ends
CRASH = "crash"


@dataclass(frozen=True)
class Scenario:
    """A command run against a prepared world, and what it should leave."""

    name: str
    argv: tuple[str, ...]
    prepare: Callable[[ToolWorld], None]
    wants_tag: str | None  # deploy: the image tag it deploys; rollback: None
    meanwhile: tuple[str, ...] = ()  # another command that runs to its end between two of this one's calls
    circuit_breaker: bool = False
    leaves_active: tuple[str, ...] = ()  # prune: the revisions an exit 0 leaves ACTIVE


MIGRATE = "bin/migrate --yes"


def _deploys(*tags: str) -> Callable[[ToolWorld], None]:
    def prepare(world: ToolWorld) -> None:
        world.aws.sim.declare_image("web:crash", crash_after=5)
        world.aws.sim.declare_command(MIGRATE.split(), exit_code=0, exit_after=30)
        for tag in tags:
            run = world.run("deploy", "--tag", tag, *POLL)
            if run.code not in (EXIT_OK, EXIT_ROLLED_BACK):
                raise AssertionError(f"preparing the world: deploy {tag} exited {run.code}: {run.stderr}")
    return prepare


SCENARIOS = {s.name: s for s in (
    Scenario("good-deploy", ("deploy", "--tag", "v2", *POLL), _deploys("v1"), "v2"),
    Scenario("crash-deploy", ("deploy", "--tag", CRASH, *POLL), _deploys("v1"), CRASH),
    Scenario("migrate-then-deploy", ("deploy", "--tag", "v2", "--run-before", MIGRATE, *POLL), _deploys("v1"), "v2"),
    Scenario("rollback", ("rollback", *POLL), _deploys("v1", "v2"), None),
    # web:3 runs, web:2 is where a rollback from it goes; web:1 and the failed web:4 go
    Scenario("prune", ("prune", "--keep", "0", "--min-age", "0"), _deploys("v1", "v2", "v3", CRASH), None,
             leaves_active=("web:2", "web:3")),
)}
# Two CD jobs at once: the second runs to its end between two calls of the first
# (swept over every call of the first), so every interleaving at call boundaries is seen.
RACES = {s.name: s for s in (
    Scenario("concurrent-deploys", ("deploy", "--tag", "v2", *POLL), _deploys("v1"), "v2",
             meanwhile=("deploy", "--tag", "v3", *POLL)),
    Scenario("deploy-during-breaker-rollback", ("deploy", "--tag", CRASH, "--failure-threshold", "9", *POLL),
             _deploys("v1"), CRASH, meanwhile=("deploy", "--tag", "v2", *POLL), circuit_breaker=True),
    Scenario("prune-during-deploy", ("deploy", "--tag", "v2", *POLL), _deploys("v1"), "v2",
             meanwhile=("prune", "--keep", "0")),
    Scenario("deploy-during-prune", ("prune", "--keep", "0", "--min-age", "0"), _deploys("v1", "v2", "v3", CRASH), None,
             meanwhile=("deploy", "--tag", "v2", *POLL)),
)}
SCENARIOS.update(RACES)


@dataclass(frozen=True)
class Case:
    scenario: str
    fault: Fault | None = None
    at: int = 0
    forever: bool = False  # outage: never ends

    @property
    def id(self) -> str:
        if self.fault is None:
            return f"{self.scenario}-{'at-' + str(self.at) if self.at else 'clean'}"
        kind = "outage-forever" if self.forever else self.fault.value
        return f"{self.scenario}-{kind}-{self.at}"


@dataclass
class Before:
    service: str  # web:N the service ran
    active: set[str]
    protected: set[str]  # known good: the pointer and what a rollback would return to


@dataclass
class CaseResult:
    case: Case
    exit_codes: list[int | None]  # None: killed
    lost: list[str] = field(default_factory=list)
    misreported: list[str] = field(default_factory=list)
    ended_on: str = ""
    calls: int = 0
    operations: list[str] = field(default_factory=list)  # the command's calls, "ecs.DescribeServices", in order

    @property
    def held(self) -> bool:
        return not self.lost and not self.misreported

    def explain(self) -> str:
        return (f"{self.case.id}: exit {self.exit_codes}, ended on {self.ended_on}; "
                + "; ".join([f"LOST {p}" for p in self.lost] + [f"MISREPORTED {p}" for p in self.misreported]))


@contextlib.contextmanager
def embedded(seed: int = 7) -> Iterator[EmbeddedAws]:
    with EmbeddedAws(seed=seed) as aws, aws.virtual_sleep(), \
            mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}):
        yield aws


def _before(world: ToolWorld) -> Before:
    service = world.service()
    protected = {name for name in (world.known_good(),) if name}
    target = knowngood.rollback_target(world.ecs, service)
    if target is not None:
        protected.add(target.revision)
    return Before(revision_name(service.task_definition), set(world.revisions()), protected)


def run_case(case: Case) -> CaseResult:
    """One case in a world of its own."""
    return next(run_cases([case]))


def run_cases(cases: Iterable[Case]) -> Iterator[CaseResult]:
    """Each case, in the order given. The world of a scenario is built and prepared
    once; each case then runs in a forked copy of this process (moto and the
    simulator included), so cases share nothing and setup is paid once."""
    cases = list(cases)
    for name in dict.fromkeys(case.scenario for case in cases):
        scenario = SCENARIOS[name]
        with embedded() as aws:
            world = ToolWorld.build(aws, desired=2, circuit_breaker=scenario.circuit_breaker)
            scenario.prepare(world)
            before = _before(world)
            for case in (c for c in cases if c.scenario == name):
                yield _in_a_fork(lambda: _run(case, scenario, world, before)) if hasattr(os, "fork") \
                    else _run(case, scenario, world, before)


def _in_a_fork(work: Callable[[], CaseResult]) -> CaseResult:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, send the result, leave without running any cleanup
        try:
            payload = json.dumps(asdict(work()), default=str).encode()
        except BaseException as err:  # noqa: BLE001 - whatever happens, the parent must hear of it
            payload = json.dumps({"error": f"{type(err).__name__}: {err}"}).encode()
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        payload = pipe.read()
    os.waitpid(pid, 0)
    data = json.loads(payload or b'{"error": "the case process died without a word"}')
    if "error" in data:
        raise RuntimeError(f"a fault case failed to run: {data['error']}")
    data["case"] = Case(data["case"]["scenario"], Fault(data["case"]["fault"]) if data["case"]["fault"] else None,
                        data["case"]["at"], data["case"]["forever"])
    return CaseResult(**data)


def _run(case: Case, scenario: Scenario, world: ToolWorld, before: Before) -> CaseResult:
    aws = world.aws
    session = world.session()
    injector: FaultInjector | Meanwhile | None = None
    others: list[ToolRun] = []
    if scenario.meanwhile and case.at:
        injector = Meanwhile(session, case.at, lambda: others.append(world.run_argv(_target(scenario.meanwhile))))
    elif case.fault is not None:
        injector = FaultInjector(session, case.fault, case.at, now=aws.clock.now,
                                 outage_seconds=float("inf") if case.forever else OUTAGE_SECONDS)
    seen: list[str] = []  # every call of the command, any service, as the injectors count them
    session.events.register("before-call", lambda model, **_: seen.append(
        f"{model.service_model.endpoint_prefix}.{model.name}"))
    runs: list[ToolRun | None] = []
    try:
        runs.append(world.run_argv(_target(scenario.argv), session=session))
    except Killed:
        runs.append(None)
        runs.append(world.run_argv(_target(scenario.argv)))  # a new CD process: fresh session, no fault
    aws.clock.sleep(SETTLE)
    result = judge(case, scenario, world, before, runs, others)
    result.operations = list(injector.calls) if injector else seen
    result.calls = len(result.operations)
    return result


def _target(argv: tuple[str, ...]) -> list[str]:
    command, *rest = argv
    target = ["--cluster", "prod", "--service", "web"]
    if command in ("deploy", "prune"):
        target += ["--template", "web-template"]
    return [command, *target, *rest]


@dataclass(frozen=True)
class End:
    """Where the world ended up after a case, as the judge reads it."""

    running: str  # web:N the service runs
    steady: str  # web:N it is steady on ("" if not)
    failing: bool  # the running revision's image is the crashing one
    active: frozenset[str]
    pointer: str  # the service's known-good pointer, web:N
    describe: str

    @classmethod
    def read(cls, world: ToolWorld) -> "End":
        service = world.service()
        running = revision_name(service.task_definition)
        steady = world.steady_on()
        tag = world.tag_of(running)
        return cls(running, steady, tag == CRASH, frozenset(world.revisions()),
                   revision_name(service.tags.get(knowngood.TAG)), f"{running} ({tag}, {'steady' if steady else 'not steady'})")


def judge(case: Case, scenario: Scenario, world: ToolWorld, before: Before, runs: list[ToolRun | None],
          others: list[ToolRun] = ()) -> CaseResult:
    last = runs[-1]
    assert last is not None
    end = End.read(world)
    said = " ".join(run.text for run in [*others, *runs] if run)
    result = CaseResult(case, [run.code if run else None for run in [*others, *runs]], ended_on=end.describe)
    result.lost = _lost(case, scenario, world, before, end, last, said)
    result.misreported = _misreported(case, scenario, world, before, end, last, others)
    return result


def _lost(case: Case, scenario: Scenario, world: ToolWorld, before: Before, end: End, last: ToolRun,
          said: str) -> list[str]:
    lost = []
    gives_up = last.code in (EXIT_NOT_RECOVERED, EXIT_TIMED_OUT)
    if end.failing and not gives_up:
        lost.append(f"the service runs the failing {end.running} and the last run exited {last.code}")
    # Only AWS that never answers again (or another job's deploy) excuses giving up:
    # after any fault that ends, the tool must finish the job itself (on a good
    # revision, giving up is misreported instead: see _misreported).
    if end.failing and gives_up and not (case.forever or scenario.meanwhile):
        lost.append(f"exit {last.code} although AWS answered again: the tool gave up on {end.running}")
    if not scenario.meanwhile:  # in a race, what a rollback returns to moves with the other job's deploys
        lost.extend(f"known-good {name} was deregistered" for name in sorted(before.protected - end.active))
    for name, what in ((end.running, "the revision the service runs"), (end.pointer, "the service's known-good revision")):
        if name.startswith("web:") and name not in end.active:
            lost.append(f"{what}, {name}, was deregistered")
    if "may have registered a revision" not in said:
        lost.extend(f"{name} is ACTIVE and no output mentions it" for name in sorted(end.active - before.active)
                    if not _mentioned(name, said) and name != end.running)
    return lost


def _misreported(case: Case, scenario: Scenario, world: ToolWorld, before: Before, end: End, last: ToolRun,
                 others: list[ToolRun]) -> list[str]:
    problems = []
    for other in others:  # the other job ran alone, start to end: it must have done its job
        if other.code != EXIT_OK:
            problems.append(f"the concurrent {scenario.meanwhile[0]} exited {other.code}: {other.stderr.strip()}")
    if "internal error" in last.stderr:
        problems.append(f"internal error: {last.stderr.strip().splitlines()[-1]}")
    outcome, code = last.result, last.code
    observed = outcome.get("observedAt")
    if observed is not None and any(other.started >= observed for other in others) \
            and code in (EXIT_OK, EXIT_ROLLED_BACK):
        # The other job ran after the look at the service this one's verdict rests
        # on (a poll reads the service, then its tasks: the other job ran in between,
        # or while this one marked known good). This one's claim was about the
        # service then; where the service is now is the other job's claim.
        tag = scenario.meanwhile[scenario.meanwhile.index("--tag") + 1] if "--tag" in scenario.meanwhile else None
        if tag and not (end.steady == end.running and world.tag_of(end.running) == tag):
            problems.append(f"the concurrent deploy exited 0 but the service is on {end.describe}")
        return problems
    if code == EXIT_OK:
        if scenario.wants_tag is not None and not (end.steady == end.running and world.tag_of(end.running) == scenario.wants_tag):
            problems.append(f"exit 0 but the service is on {end.describe}, not steady on {scenario.wants_tag}")
        if scenario.name == "rollback" and end.steady != revision_name(outcome.get("returnedTo")):
            problems.append(f"exit 0 but the service is on {end.describe}, not {outcome.get('returnedTo')}")
        if scenario.leaves_active and sorted(end.active) != sorted(scenario.leaves_active):
            problems.append(f"exit 0 but ACTIVE are {sorted(end.active)}, not {list(scenario.leaves_active)}")
    elif code == EXIT_ROLLED_BACK:
        back = revision_name(outcome.get("returnedTo"))
        if not back or end.steady != back or world.tag_of(back) == CRASH:
            problems.append(f"exit 1 but the service is on {end.describe}, returnedTo {back or '-'}")
    elif code in (EXIT_BAD_INPUT, EXIT_AWS_ERROR, EXIT_TASK_FAILED):
        # refused before any change (ECS says "not found" with a ClientException; a one-off task before a deploy failed)
        if end.running != before.service:
            problems.append(f"exit {code} (nothing changed) but the service went {before.service} -> {end.running}")
    elif code in (EXIT_NOT_RECOVERED, EXIT_TIMED_OUT):
        standing = outcome.get("standing") or {}
        if not outcome.get("next"):
            problems.append(f"exit {code} without the command that finishes the job")
        if "taskDefinitionArn" not in standing or "knownGood" not in standing:
            problems.append(f"exit {code} without where the service stands")
        if not end.failing and not (case.forever or scenario.meanwhile):
            problems.append(f"exit {code} although AWS answered again: the tool gave up on {end.running}")
    else:
        problems.append(f"exit {code} is not a code this command documents here")
    return problems


def _mentioned(name: str, text: str) -> bool:
    """`web:3` appears as a whole revision name (not as the start of `web:30`)."""
    index = text.find(name)
    while index != -1:
        after = text[index + len(name): index + len(name) + 1]
        if not after.isdigit():
            return True
        index = text.find(name, index + 1)
    return False


def baseline(scenario: str) -> CaseResult:
    """The scenario without faults: it must hold, and says how many calls to sweep."""
    return run_case(Case(scenario))


def call_number(clean: CaseResult, operation: str, nth: int = 1) -> int:
    """The 1-based number of the `nth` call of `operation` ("ecs.TagResource") in a clean run."""
    numbers = [i for i, name in enumerate(clean.operations, start=1) if name == operation]
    if len(numbers) < nth:
        raise ValueError(f"{clean.case.scenario} makes {len(numbers)} {operation} call(s), not {nth}")
    return numbers[nth - 1]


KINDS = tuple(Fault)


def matrix(scenarios: Iterable[str] = SCENARIOS, kinds: Iterable[Fault] = KINDS,
           calls: dict[str, int] | None = None, every: int = 1) -> list[Case]:
    """Every call `1..calls[scenario]` (every `every`-th) of each scenario with each fault
    kind, plus an outage that never ends from each call; for a race, the other
    command at each call."""
    calls = calls or {name: baseline(name).calls for name in scenarios}
    cases = []
    for name in scenarios:
        for at in range(1, calls[name] + 1, every):
            if SCENARIOS[name].meanwhile:
                cases.append(Case(name, None, at))
                continue
            cases.extend(Case(name, kind, at) for kind in kinds)
            cases.append(Case(name, Fault.OUTAGE, at, forever=True))
    return cases
