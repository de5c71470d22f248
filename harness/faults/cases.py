"""The fault matrix: each AWS call of the deploy tool's commands, failed every way, and what must hold after.

A *case* is a scenario (a command the tool runs against a prepared world),
a fault kind (`inject.Fault`) and the number of the call it hits. A case runs
in a fresh embedded AWS on the virtual clock: build the world, prepare it, run
the command with the fault injected on its session; after a kill, run the
scenario's next command from a fresh session (a new CD process): the same
command again, or, where the scenario says so, the next pipeline's deploy of
another release; after SIGTERM, the `next:` command the tool printed, then that
next pipeline's deploy. Then let the simulator settle and judge:

- **lost**: the service is left on a failing revision although the last run did
  not exit with a not-recovered code (4 or 5), or did but AWS answered again (a
  not-recovered exit is the answer only to AWS that stays unreachable); a
  revision some service runs or would roll back to (the named service's and the
  world's other services') was deregistered; an ACTIVE revision is new and no
  output mentions it; a revision was marked known good that never passed a
  bake (it was not steady, with every alarm out of ALARM, for the whole
  `--bake` before the mark, nor known good already, nor named with `--to`:
  judged from the simulator's own record, sampled every 2 s, not from what the
  tool said); a run's `next:` re-deploys a release that run saw fail; exit 1
  returned to a revision that was never proven;
- **misreported**: the exit code does not match where the service is: 4 or 5
  after a fault that ended, with the service on a good revision; 0 but not
  steady on what was asked for, 1 but not steady on a good known-good revision,
  2 or 3 (refused before any change) but the service was changed, 4 or 5 without the standing (running revision,
  known good) and the command that finishes the job, or an internal error;
- **held**: neither.
"""
from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import shlex
from dataclasses import asdict, dataclass, field
import signal
from typing import Any, Callable, Iterable, Iterator, Sequence
from unittest import mock

from ecs_template_deploy import knowngood
from ecs_template_deploy.clock import iso
from ecs_template_deploy.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT, EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, EXIT_TASK_FAILED, EXIT_TIMED_OUT
from ecs_template_deploy.views import family_of, revision_name

from harness.backends.embedded import EmbeddedAws
from harness.faults.inject import Fault, FaultInjector, Killed, Meanwhile
from harness.ecs.services import PRIMARY
from harness.ecs.tasks import RUNNING
from harness.worlds import CONTAINER, ToolRun, ToolWorld
from harness.worlds.images import push_images

POLL = ("--poll-interval", "10", "--timeout", "600")
SETTLE = 900.0  # virtual seconds after the last run, for what it started to finish
OUTAGE_SECONDS = 120.0  # an outage that ends (the "outage" kind); "outage-forever" never ends
CRASH = "crash"
ALARM = "HighErrors"
# A release that passes every check, then drives HighErrors into ALARM 30 s after it serves
# (the simulator never clears it: the alarm still fires when the CI job is retried).
ALARMING = "v3"
SAMPLE_EVERY = 2.0  # virtual seconds between the judge's looks at the service and the alarm


@dataclass(frozen=True)
class Scenario:
    """A command run against a prepared world, and what it should leave."""

    name: str
    argv: tuple[str, ...]
    prepare: Callable[[ToolWorld], None]
    wants_tag: str | None  # deploy: the image tag it deploys; rollback: None
    meanwhile: tuple[str, ...] = ()  # another command that runs to its end between two of this one's calls
    circuit_breaker: bool = False
    leaves_active: tuple[str, ...] = ()  # prune: the revisions of the target family an exit 0 leaves ACTIVE
    strategy: str = "ROLLING"
    configuration: tuple[tuple[str, Any], ...] = ()  # the service's deploymentConfiguration, beyond the defaults
    target_groups: tuple[tuple[str, int], ...] = ()  # blue/green: the target groups' settings (ToolWorld.build's)
    after_stop: tuple[str, ...] = ()  # after a kill or SIGTERM, the next pipeline's command (default: this one again)
    bad_tags: tuple[str, ...] = (CRASH,)  # images whose revisions must never be left running or marked
    others: tuple[tuple[str, str], ...] = ()  # (cluster, service): the world's other services; their needs must stay


MIGRATE = "bin/migrate --yes"


def _deploys(*tags: str, alarm: bool = False, options: tuple[str, ...] = ()) -> Callable[[ToolWorld], None]:
    def prepare(world: ToolWorld) -> None:
        world.aws.sim.declare_image("web:crash", crash_after=5)
        world.aws.sim.declare_command(MIGRATE.split(), exit_code=0, exit_after=30)
        if alarm:
            _alarm(world)
        for tag in tags:
            run = world.run("deploy", "--tag", tag, *options, *POLL)
            if run.code not in (EXIT_OK, EXIT_ROLLED_BACK):
                raise AssertionError(f"preparing the world: deploy {tag} exited {run.code}: {run.stderr}")
    return prepare


def _alarm(world: ToolWorld) -> None:
    world.aws.client("cloudwatch").put_metric_alarm(
        AlarmName=ALARM, MetricName="5xx", Namespace="App", Statistic="Sum", Period=60, EvaluationPeriods=1,
        Threshold=1, ComparisonOperator="GreaterThanThreshold")
    world.aws.sim.declare_image(f"web:{ALARMING}", alarm=ALARM, alarm_after=30)


def _release_tripped_the_alarm(world: ToolWorld) -> None:
    """v1 proven; then a release that tripped HighErrors in its bake and was rolled back.
    HighErrors is still in ALARM: the CI job is about to be retried."""
    _deploys("v1", alarm=True)(world)
    run = world.run("deploy", "--tag", ALARMING, "--alarm", ALARM, "--bake", "120", *POLL)
    if run.code != EXIT_ROLLED_BACK:
        raise AssertionError(f"preparing the world: the alarming release exited {run.code}: {run.stderr}")


def _second_service(cluster: str, service: str, template: str, tags: tuple[str, ...]) -> Callable[[ToolWorld], None]:
    """Another service of the account, as Terraform creates it, deployed by the tool."""
    def prepare(world: ToolWorld) -> None:
        ecs = world.ecs
        if cluster not in [arn.rsplit("/", 1)[-1] for arn in ecs.list_clusters()["clusterArns"]]:
            ecs.create_cluster(clusterName=cluster)
        if not ecs.list_task_definitions(familyPrefix=template)["taskDefinitionArns"]:
            ecs.register_task_definition(family=template, containerDefinitions=[
                {"name": CONTAINER, "image": f"{world.repository_uri}:placeholder", "memory": 256, "essential": True}])
        ecs.create_service(cluster=cluster, serviceName=service, taskDefinition=template, desiredCount=2)
        world.aws.clock.sleep(300)
        for tag in tags:
            run = world.run_argv(["deploy", "--cluster", cluster, "--service", service, "--template", template,
                                  "--tag", tag, *POLL])
            if run.code != EXIT_OK:
                raise AssertionError(f"preparing {cluster}/{service}: deploy {tag} exited {run.code}: {run.stderr}")
    return prepare


def _proven_then_broken(world: ToolWorld) -> None:
    """v1 and v2 proven; the service put back on web:1 by hand (web:2 still proven);
    then v2 breaks (a dependency it needs is gone): re-releasing it crashes."""
    _deploys("v1", "v2")(world)
    web1 = world.ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["taskDefinitionArn"]
    world.ecs.update_service(cluster="prod", service="web", taskDefinition=web1)
    world.aws.clock.sleep(SETTLE)
    world.aws.sim.declare_image("web:v2", crash_after=5)


def _return_failed_then_fixed(world: ToolWorld) -> None:
    """v1 proven; its image deleted from ECR, so the way back from a crashing release
    failed too (exit 4, the service on a web:1 deployment that cannot pull); then the
    image pushed again: the `rollback` the deploy printed is about to run."""
    _deploys("v1")(world)
    world.ecr.batch_delete_image(repositoryName=world.names.repository, imageIds=[{"imageTag": "v1"}])
    run = world.run("deploy", "--tag", CRASH, *POLL)
    if run.code != EXIT_NOT_RECOVERED:
        raise AssertionError(f"preparing the world: the crashing release exited {run.code}: {run.stderr}")
    push_images(world.ecr, world.names.repository, ["v1"])


def _both(*steps: Callable[[ToolWorld], None]) -> Callable[[ToolWorld], None]:
    def prepare(world: ToolWorld) -> None:
        for step in steps:
            step(world)
    return prepare


BAKE = ("--bake", "60", "--alarm", ALARM)
NEXT_RELEASE = ("deploy", "--tag", CRASH, *POLL)  # the next pipeline: another release, which fails
PAUSED = ("--on-pause", "continue")
PAUSE_AFTER_SCALE_UP = ({"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                         "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}},)
SCENARIOS = {s.name: s for s in (
    Scenario("good-deploy", ("deploy", "--tag", "v2", *POLL), _deploys("v1"), "v2"),
    Scenario("crash-deploy", ("deploy", "--tag", CRASH, *POLL), _deploys("v1"), CRASH),
    Scenario("migrate-then-deploy", ("deploy", "--tag", "v2", "--run-before", MIGRATE, *POLL), _deploys("v1"), "v2"),
    Scenario("rollback", ("rollback", *POLL), _deploys("v1", "v2"), None),
    # web:3 runs, web:2 is where a rollback from it goes; web:1 and the failed web:4 go
    Scenario("prune", ("prune", "--keep", "0", "--min-age", "0"), _deploys("v1", "v2", "v3", CRASH), None,
             leaves_active=("web:2", "web:3")),
    # A bake with an alarm, stopped at each of its calls; the next pipeline then deploys
    # a failing release, whose rollback must find the last proven revision, not the unbaked one.
    Scenario("bake-deploy", ("deploy", "--tag", "v2", *BAKE, *POLL), _deploys("v1", alarm=True), "v2",
             after_stop=NEXT_RELEASE),
    # (ECS's own bake of 1 minute, and a drain of 30 s instead of AWS's 300 s, keep its sweep to 120-odd calls)
    Scenario("bake-deploy-blue-green", ("deploy", "--tag", "v2", *BAKE, "--poll-interval", "20", "--timeout", "600"),
             _deploys("v1", alarm=True), "v2", strategy="BLUE_GREEN", configuration=(("bakeTimeInMinutes", 1),),
             target_groups=(("deregistration_delay", 30),), after_stop=NEXT_RELEASE),
    # Blue/green whose deployments stop at a PAUSE hook after green is up: the tool answers it
    # (--on-pause continue), under every fault; the next pipeline's release fails and must find web:2.
    Scenario("paused-deploy-blue-green", ("deploy", "--tag", "v2", *PAUSED, "--poll-interval", "20", "--timeout", "600"),
             _deploys("v1", options=PAUSED), "v2", strategy="BLUE_GREEN",
             configuration=(("bakeTimeInMinutes", 1), ("lifecycleHooks", PAUSE_AFTER_SCALE_UP)),
             target_groups=(("deregistration_delay", 30),), after_stop=(*NEXT_RELEASE, *PAUSED)),
    # The release trips the alarm during the bake: never known good, not even for the next pipeline.
    Scenario("alarm-in-bake", ("deploy", "--tag", ALARMING, *BAKE, *POLL), _deploys("v1", alarm=True), ALARMING,
             bad_tags=(CRASH, ALARMING), after_stop=NEXT_RELEASE),
    # A revision proven once is re-released and now fails: it must never be returned to
    # or marked again, and a rollback during its rollout is not one to follow.
    Scenario("rerelease-fails", ("deploy", "--tag", "v2", *POLL), _proven_then_broken, "v2",
             bad_tags=(CRASH, "v2")),
    # The return to known good failed (its image was deleted), the image is back: the
    # printed `rollback` starts the return over and proves web:1 again, under every fault.
    Scenario("return-started-over", ("rollback", *POLL), _return_failed_then_fixed, None),
    # The CI job retried while the alarm that failed its release still fires.
    Scenario("rerun-while-alarm", ("deploy", "--tag", ALARMING, *BAKE, *POLL), _release_tripped_the_alarm,
             ALARMING, bad_tags=(CRASH, ALARMING)),
    # Prune run for web with another service's family: refused; api keeps its way back.
    Scenario("prune-other-family", ("prune", "--family", "api", "--keep", "0", "--min-age", "0"),
             _both(_deploys("v1", "v2"), _second_service("other", "api", "api-template", ("v1", "v2"))), None,
             others=(("other", "api"),)),
    # Staging deploys the same family: prune from prod keeps what staging runs and returns to.
    Scenario("prune-shared-family", ("prune", "--keep", "0", "--min-age", "0"),
             _both(_deploys("v1", "v2"), _second_service("staging", "web", "web-template", ("v3", "sick"))), None,
             leaves_active=("web:1", "web:2", "web:3", "web:4"), others=(("staging", "web"),)),
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
    active: set[str]  # every ACTIVE revision of the account, family:N
    protected: set[str]  # what a service of the world runs or would roll back to
    proven: set[str]  # revisions whose known-good mark counts


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


def _services(world: ToolWorld, scenario: Scenario) -> list:
    """The named service and the world's other ones, as the tool's views."""
    from ecs_template_deploy.views import Service
    found = [world.service()]
    for cluster, name in scenario.others:
        found.append(Service(world.ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])
                             ["services"][0]))
    return found


def _all_active(world: ToolWorld) -> set[str]:
    pages = world.ecs.get_paginator("list_task_definitions").paginate(status="ACTIVE")
    return {revision_name(arn) for page in pages for arn in page["taskDefinitionArns"]}


def _before(world: ToolWorld, scenario: Scenario) -> Before:
    protected: set[str] = set()
    for service in _services(world, scenario):
        protected.add(revision_name(service.task_definition))
        target = knowngood.rollback_target(world.ecs, service)
        if target is not None:
            protected.add(target.revision)
        pointer = service.tags.get(knowngood.TAG)
        if pointer and knowngood.read_mark(world.ecs, pointer) is not None:
            protected.add(revision_name(pointer))
    active = _all_active(world)
    proven = {name for name in active if knowngood.read_mark(world.ecs, name) is not None}
    return Before(revision_name(world.service().task_definition), active, protected, proven)


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
        with _prepared(scenario) as (world, before):
            for case in (c for c in cases if c.scenario == name):
                yield _isolated(case, scenario, world, before)


def sweep(name: str, plan: Callable[[CaseResult], Iterable[Case]]) -> Iterator[CaseResult]:
    """The scenario's clean run (``baseline``'s), then each case ``plan`` makes of it, all
    from one world built and prepared once: a sweep needs the clean run's calls to know
    what to sweep, and would otherwise build and prepare the same world twice."""
    scenario = SCENARIOS[name]
    with _prepared(scenario) as (world, before):
        clean = _isolated(Case(name), scenario, world, before)
        yield clean
        for case in plan(clean):
            yield _isolated(case, scenario, world, before)


@contextlib.contextmanager
def _prepared(scenario: Scenario) -> Iterator[tuple[ToolWorld, Before]]:
    with embedded() as aws:
        world = ToolWorld.build(aws, desired=2, circuit_breaker=scenario.circuit_breaker, strategy=scenario.strategy,
                                target_group_settings=dict(scenario.target_groups) or None,
                                **dict(scenario.configuration))
        scenario.prepare(world)
        yield world, _before(world, scenario)


def _isolated(case: Case, scenario: Scenario, world: ToolWorld, before: Before) -> CaseResult:
    """One case on the prepared world, in a fork of this process so the world stays as prepared."""
    return _in_a_fork(functools.partial(_run, case, scenario, world, before)) if hasattr(os, "fork") \
        else _run(case, scenario, world, before)


def _in_a_fork(work: Callable[[], CaseResult]) -> CaseResult:
    read, write = os.pipe()
    # The parent's objects go to the collector's permanent generation for the fork: a
    # child's collections then skip them instead of walking (and so copying) the whole
    # inherited heap. In a pytest worker grown to a few million objects, that walk made
    # each case about 4x slower (measured: 10 cases 4.2 s -> 16.0 s beside 3 M objects,
    # 4.6 s frozen). CPython's documented use of gc.freeze before fork.
    gc.freeze()
    try:
        pid = os.fork()
    except BaseException:
        gc.unfreeze()
        raise
    if pid != 0:
        gc.unfreeze()
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


@dataclass(frozen=True)
class Mark:
    """A known-good mark the case's runs wrote: when (virtual time), on what, by which command."""

    at: float
    revision: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class Look:
    """The judge's own look at the named service and the alarm (the simulator's state, not the API)."""

    at: float
    steady_on: str  # web:N when one COMPLETED deployment runs every task, else ""
    alarm: bool  # HighErrors in ALARM


class Recorder:
    """What the judge needs beyond the end state: every mark the case's runs wrote
    (from any session they make) and the service and alarm every 2 virtual seconds."""

    def __init__(self, world: ToolWorld) -> None:
        self.world = world
        self.marks: list[Mark] = []
        self.looks: list[Look] = []
        self.argv: tuple[str, ...] = ()
        self.killed: ToolRun | None = None
        self._service = world.service().arn
        self._sessions = world.session
        # the runs' fresh sessions come from here: the recorder stands in for the world's session factory
        world.session = self.session  # type: ignore[method-assign]
        world.aws.clock.call_later(0, self._look)

    def session(self) -> Any:
        return self.attach(self._sessions())

    def attach(self, session: Any) -> Any:
        def note(params: dict, **_: Any) -> None:
            if any(tag["key"] == knowngood.TAG for tag in params.get("tags", [])) and ":task-definition/" in \
                    params.get("resourceArn", ""):
                self.marks.append(Mark(self.world.aws.clock.now(), revision_name(params["resourceArn"]), self.argv))
        session.events.register("provide-client-params.ecs.TagResource", note)
        return session

    def run(self, argv: list[str], session: Any = None) -> ToolRun:
        self.argv = tuple(argv)
        try:
            return self.world.run_argv(argv, session=session)
        except Killed as killed:
            self.killed = getattr(killed, "partial", None)  # what it printed before it died (a CI log keeps it)
            raise

    def _look(self) -> None:
        sim = self.world.aws.sim
        service = sim.service(self._service)
        steady = ""
        if len(service.deployments) == 1:
            primary = service.deployments[0]
            running = sum(1 for task in primary.tasks if task.last_status == RUNNING)
            if primary.status == PRIMARY and primary.rollout_state == "COMPLETED" and running == service.desired_count:
                steady = revision_name(primary.task_definition_arn)
        alarm = sim.alarm_states(service, [ALARM]).get(ALARM) == "ALARM"
        self.looks.append(Look(self.world.aws.clock.now(), steady, alarm))
        self.world.aws.clock.call_later(SAMPLE_EVERY, self._look)

    def steady_without_alarm(self, revision: str, start: float, end: float) -> bool:
        """The service was steady on `revision` with the alarm out of ALARM at every look
        from `start` to `end` (at least the last look at or before `end`)."""
        window = [look for look in self.looks if start - SAMPLE_EVERY < look.at <= end]
        return bool(window) and all(look.steady_on == revision and not look.alarm for look in window)


def _run(case: Case, scenario: Scenario, world: ToolWorld, before: Before) -> CaseResult:
    aws = world.aws
    recorder = Recorder(world)
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
    argvs: list[tuple[str, ...]] = [tuple(_target(scenario.argv))]
    # what the service ran before the last run: a re-run's "nothing changed" (exit 2) is about itself
    last_before = before.service
    try:
        runs.append(recorder.run(_target(scenario.argv), session=session))
    except Killed:
        runs.append(None)
    first = runs[0]
    stopped = first is not None and first.code == 128 + signal.SIGTERM
    if first is not None and stopped and first.result.get("next"):
        # a cancelled job: the pipeline (or its operator) runs what the tool said finishes the job
        argvs.append(tuple(shlex.split(first.result["next"])[1:]))
        last_before = revision_name(world.service().task_definition)
        runs.append(recorder.run(list(argvs[-1])))
    if runs[0] is None or (stopped and scenario.after_stop):
        # a new CD process: the next pipeline's release (or, after a kill, this command again)
        argvs.append(tuple(_target(scenario.after_stop or scenario.argv)))
        last_before = revision_name(world.service().task_definition)
        runs.append(recorder.run(list(argvs[-1])))
    aws.clock.sleep(SETTLE)
    result = judge(case, scenario, world, before, runs, others, recorder, argvs, last_before)
    result.operations = list(injector.calls) if injector else seen
    result.calls = len(result.operations)
    return result


def _target(argv: tuple[str, ...]) -> list[str]:
    command, *rest = argv
    if "--cluster" in rest:
        return [command, *rest]
    target = ["--cluster", "prod", "--service", "web"]
    if command in ("deploy", "prune"):
        target += ["--template", "web-template"]
    return [command, *target, *rest]


def _option(argv: tuple[str, ...], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


@dataclass(frozen=True)
class End:
    """Where the world ended up after a case, as the judge reads it."""

    running: str  # web:N the service runs
    steady: str  # web:N it is steady on ("" if not)
    failing: bool  # the running revision's image is a bad one
    active: frozenset[str]  # every ACTIVE revision of the account
    pointer: str  # the service's known-good pointer, web:N
    describe: str

    @classmethod
    def read(cls, world: ToolWorld, bad_tags: tuple[str, ...]) -> "End":
        service = world.service()
        running = revision_name(service.task_definition)
        steady = world.steady_on()
        tag = world.tag_of(running)
        return cls(running, steady, tag in bad_tags, frozenset(_all_active(world)),
                   revision_name(service.tags.get(knowngood.TAG)), f"{running} ({tag}, {'steady' if steady else 'not steady'})")


def judge(case: Case, scenario: Scenario, world: ToolWorld, before: Before, runs: list[ToolRun | None],
          others: Sequence[ToolRun] = (), recorder: Recorder | None = None,
          argvs: Sequence[tuple[str, ...]] = (), last_before: str | None = None) -> CaseResult:
    """`last_before`: the revision the service ran when the last run began (default:
    when the case began)."""
    last = runs[-1]
    assert last is not None
    end = End.read(world, scenario.bad_tags)
    killed = [recorder.killed] if recorder is not None and recorder.killed is not None else []
    said = " ".join(run.text for run in [*others, *killed, *runs] if run)
    result = CaseResult(case, [run.code if run else None for run in [*others, *runs]], ended_on=end.describe)
    deploys = [(run, argv) for run, argv in zip(runs, argvs, strict=True) if run is not None]
    deploys += [(run, tuple(_target(scenario.meanwhile))) for run in others]
    deploys += [(run, argvs[0]) for run in killed]
    proven = _proven(world, scenario, before, recorder, deploys) if recorder else (before.proven, [])
    result.lost = _lost(case, scenario, world, before, end, last, said, proven, runs, argvs)
    result.misreported = _misreported(case, scenario, world, before, end, last, others, argvs[-1] if argvs else (),
                                      last_before or before.service)
    return result


MARK_SLACK = 130.0  # a mark may follow the look it rests on by a poll and the marking's retries (120 s)


def _proven(world: ToolWorld, scenario: Scenario, before: Before, recorder: Recorder,
            deploys: list[tuple[ToolRun, tuple[str, ...]]]) -> tuple[set[str], list[str]]:
    """The revisions that are rightly known good at the end, and the marks that were not.
    A mark is right if the revision was known good already (a rollback marks the
    revision it returned to again), a person named it (`rollback --to`), or the
    judge's own looks saw it steady, with the alarm out of ALARM, for the whole
    `--bake` of the deploy that released it (of any run: a later run marking it
    does not lower the bar), ending at most a poll and the marking's retries
    before the mark."""
    bakes: dict[str, float] = {}
    for run, argv in deploys:
        for line in run.kinds("deploy"):
            released = revision_name(line.get("taskDefinitionArn"))
            bakes[released] = max(bakes.get(released, 0.0), float(_option(argv, "--bake") or 0))
    # a revision whose image is bad now is not known good, whatever proved it before
    proven = {name for name in before.proven if world.tag_of(name) not in scenario.bad_tags}
    wrong = []
    for mark in recorder.marks:
        tag = world.tag_of(mark.revision)
        if tag not in scenario.bad_tags and (mark.revision in proven or "--to" in mark.argv):
            proven.add(mark.revision)
            continue
        bake = bakes.get(mark.revision, float(_option(mark.argv, "--bake") or 0))
        if tag not in scenario.bad_tags and any(
                recorder.steady_without_alarm(mark.revision, end - bake, end)
                for end in _times(mark.at - MARK_SLACK, mark.at)):
            proven.add(mark.revision)
            continue
        wrong.append(f"{mark.revision} ({tag}) was marked known good at {iso(mark.at)} by `{mark.argv[0]}` without a "
                     f"bake that passed (steady, {ALARM} out of ALARM, for {bake:g} s)")
    return proven, wrong


def _times(start: float, end: float) -> list[float]:
    """Every look's time from `start` to `end`."""
    times = []
    at = end
    while at >= start:
        times.append(at)
        at -= SAMPLE_EVERY
    return times


def _lost(case: Case, scenario: Scenario, world: ToolWorld, before: Before, end: End, last: ToolRun,
          said: str, proven: tuple[set[str], list[str]], runs: list[ToolRun | None],
          argvs: Sequence[tuple[str, ...]]) -> list[str]:
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
        lost.extend(f"{name}, which a service runs or would roll back to, was deregistered"
                    for name in sorted(before.protected - end.active))
    for name, what in ((end.running, "the revision the service runs"), (end.pointer, "the service's known-good revision")):
        if name.startswith("web:") and name not in end.active:
            lost.append(f"{what}, {name}, was deregistered")
    if "may have registered a revision" not in said:
        lost.extend(f"{name} is ACTIVE and no output mentions it" for name in sorted(end.active - before.active)
                    if not _mentioned(name, said) and name != end.running)
    rightly, wrongly = proven
    lost.extend(wrongly)
    if last.code == EXIT_ROLLED_BACK and not scenario.meanwhile:
        back = revision_name(last.result.get("returnedTo"))
        if back and back not in rightly:
            lost.append(f"exit 1 returned to {back}, which never passed a bake")
    for run, argv in zip(runs, argvs, strict=True):
        if run is not None and _redeploys_a_failed_release(run, argv):
            lost.append(f"`{argv[0]}` saw its release fail, then said next: {run.result['next']}")
    return lost


FAILED_STATES = ("failed", "rolled-back-by-ecs", "timed-out")


def _redeploys_a_failed_release(run: ToolRun, argv: tuple[str, ...]) -> bool:
    """The run deployed a revision, saw it fail (a verdict on it), and its `next:` is a deploy again."""
    following = shlex.split(run.result.get("next") or "")
    if argv[:1] != ("deploy",) or following[1:2] != ["deploy"]:
        return False
    deployed = next((revision_name(line.get("taskDefinitionArn")) for line in run.kinds("deploy")), "")
    return any(line.get("revision") == deployed and line.get("state") in FAILED_STATES for line in run.kinds("verdict"))


def _misreported(case: Case, scenario: Scenario, world: ToolWorld, before: Before, end: End, last: ToolRun,
                 others: Sequence[ToolRun], last_argv: tuple[str, ...] = (), last_before: str = "") -> list[str]:
    problems = []
    for other in others:  # the other job ran alone, start to end: it must have done its job
        if other.code != EXIT_OK:
            problems.append(f"the concurrent {scenario.meanwhile[0]} exited {other.code}: {other.stderr.strip()}")
    if "internal error" in last.stderr:
        problems.append(f"internal error: {last.stderr.strip().splitlines()[-1]}")
    outcome, code = last.result, last.code
    wants = _option(last_argv, "--tag") if last_argv[:1] == ("deploy",) else None
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
        if wants is not None and not (end.steady == end.running and world.tag_of(end.running) == wants):
            problems.append(f"exit 0 but the service is on {end.describe}, not steady on {wants}")
        if last_argv[:1] == ("rollback",) and end.steady != revision_name(outcome.get("returnedTo")):
            problems.append(f"exit 0 but the service is on {end.describe}, not {outcome.get('returnedTo')}")
        target = {name for name in end.active if family_of(name) == "web"}
        if scenario.leaves_active and last_argv[:1] == ("prune",) and sorted(target) != sorted(scenario.leaves_active):
            problems.append(f"exit 0 but ACTIVE are {sorted(target)}, not {list(scenario.leaves_active)}")
    elif code == EXIT_ROLLED_BACK:
        back = revision_name(outcome.get("returnedTo"))
        if not back or end.steady != back or world.tag_of(back) in scenario.bad_tags:
            problems.append(f"exit 1 but the service is on {end.describe}, returnedTo {back or '-'}")
    elif code in (EXIT_BAD_INPUT, EXIT_AWS_ERROR, EXIT_TASK_FAILED):
        # refused before any change (ECS says "not found" with a ClientException; a one-off task before a deploy failed)
        if end.running != (last_before or before.service):
            problems.append(f"exit {code} (nothing changed) but the service went {last_before or before.service} -> "
                            f"{end.running}")
        # "nothing to do" while the service runs short of its tasks, from a run no fault
        # hit (the clean run, or the one after a kill or SIGTERM): a failed read excuses it
        clean_run = case.fault is None or case.fault in (Fault.KILL_BEFORE, Fault.KILL_AFTER, Fault.SIGTERM)
        if not end.steady and not scenario.meanwhile and clean_run:
            problems.append(f"exit {code} (nothing changed) but the service is not steady on {end.running}")
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
