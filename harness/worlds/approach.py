"""Approach worlds: what an approach's Terraform (or its boto3 stand-in) built on
one `HarnessServer`, with its CD procedure and the means to observe it.

    worlds = ApproachWorlds(server)
    world = worlds.stand_in(BY_NAME["template"], name="s1234abcd")      # boto3, seconds
    world = worlds.terraform(BY_NAME["terraform-cd-app"], terraform)     # real Terraform, shared
    step = world.deploy("v2")          # CD, its AWS calls recorded client- and server-side
    world.running_digests(), world.service(), world.sleep(60)

Every world holds the same images (``VERSIONS`` and ``BROKEN``, which crashes
``CRASH_AFTER`` s after it starts) and is settled on v1. A Terraform world is
applied once per approach and server and shared by the scenarios that follow;
if the server lost it (a reset), it is applied again.
"""
from __future__ import annotations

import contextlib

import hashlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import boto3

from ecs_template_deploy.views import Service

from harness.approaches import Approach, ApproachError, Entry
from harness.approaches.base import Context, container_image
from harness.approaches.command import CD_ACCESS_KEY
from harness.approaches.failures import CRASH_AFTER
from harness.backends.embedded import ACCOUNT, TEST_CREDENTIALS
from harness.backends.images import MANIFEST_TYPE, manifest
from harness.metrics.iam import ApiCall, ApiCallRecorder
from harness.worlds.images import digests_by_tag, point_tag, push_images
from harness.worlds.stand_in import stand_in

if TYPE_CHECKING:  # the stubs are for mypy only
    from mypy_boto3_ecs.type_defs import ServiceTypeDef

VERSIONS = ("v1", "v2", "v3", "v4", "v5", "v6")
BROKEN = "v9-broken"
SETTLE = 300.0  # virtual seconds for a service to settle after it is built


def unique_name(*key: object) -> str:
    """A resource name unique on one server and the same in every run (the
    report names images by it): ``s`` + 8 hex digits of ``key``."""
    return "s" + hashlib.sha256(repr(key).encode()).hexdigest()[:8]


@dataclass
class CdStep:
    """One CD step a scenario ran, and the AWS calls it made: as botocore saw them
    (client-side) and as the server saw them (Terraform's too)."""

    kind: str  # "deploy" or "rollback"
    version: str | None
    succeeded: bool
    client_calls: list[ApiCall]
    server_calls: list[ApiCall]
    terraform_seconds: float  # virtual seconds Terraform took in this step (the profile's model), part of its time
    decided_at: float | None = None  # virtual time the watcher decided the rollout (succeeded or failed)
    state: str | None = None  # the watcher's verdict ("failed", "rolled-back-by-ecs", ...)
    message: str = ""  # a described approach's command: how it ended ("`./deploy.sh ...` exited 1: ...")

    def calls(self, server_side: bool) -> list[ApiCall]:
        return self.server_calls if server_side else self.client_calls


@dataclass
class World:
    """An approach's infrastructure, its CD procedure and the means to observe it."""

    entry: Entry
    kind: str  # "terraform" or "stand-in"
    server: Any
    session: boto3.Session
    outputs: dict[str, Any]
    digests: dict[str, str]  # tag -> digest
    recorder: ApiCallRecorder
    resource_name: str = ""  # the name its resources were created under (Terraform's var.name)
    workspaces: list[Any] = field(default_factory=list)  # every Terraform workspace applied for it (4b: two)
    approach: Approach | None = None
    context: Context | None = None
    history: list[CdStep] = field(default_factory=list)  # every CD step run in this world
    simulation_seconds: float = 0.0  # wall seconds spent advancing the simulator (bench/compare.py)
    _clients: dict[str, Any] = field(default_factory=dict)
    _sim: Any = None  # the simulator it was built on: a server reset replaces it

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def workspace(self) -> Any:
        """The approach's own Terraform workspace (the last applied), None for a stand-in."""
        return self.workspaces[-1] if self.workspaces else None

    # --- CD, recorded ---
    def deploy(self, version: str) -> CdStep:
        approach = self._ready_approach()
        return self._step("deploy", version, lambda: approach.deploy(version))

    def rollback(self) -> CdStep:
        return self._step("rollback", None, self._ready_approach().rollback)

    @contextlib.contextmanager
    def using_cd(self, which: str) -> Iterator[None]:
        """Inside the block, CD is ``which``: the approach's own, as the article sketches it
        (``ARTICLE``), or the most capable one it allows (``CAPABLE``: ``CapableCd`` around
        it). A shared world gets its own CD back after the block."""
        from harness.approaches import ARTICLE
        from harness.approaches.capable import CapableCd

        own = self._ready_approach()
        if which == ARTICLE:
            yield
            return
        capable = CapableCd(own)
        self.approach = capable  # type: ignore[assignment]  # it stands for the approach: its CD, its facts
        try:
            yield
        finally:
            capable.close()
            self.approach = own

    def _ready_approach(self) -> Approach:
        """The CD procedure, which `ApproachWorlds` hands the world once it is settled."""
        if self.approach is None:
            raise ApproachError(f"{self.name}: this world has no CD procedure yet (ApproachWorlds gives it one)")
        return self.approach

    def ensure_deployed(self, version: str) -> None:
        """CD has deployed ``version`` and the service is steady on it; deploy only if not.
        (A Terraform world is shared: skipping a deploy that changes nothing saves an apply for approach 4.)"""
        service = self.service()
        tag = self.running_image().rsplit(":", 1)[-1]
        steady = Service(service).is_steady
        environment = self.context.environment if self.context is not None else None
        last = next((step for step in reversed(self.history) if step.kind == "deploy"), None)
        if (steady and last is not None and last.version == version and last.succeeded
                and tag in (version, environment) and set(self.running_digests()) == {self.digests[version]}):
            return
        step = self.deploy(version)
        assert step.succeeded, f"{self.name}: CD could not deploy {version}" + (f": {step.message}" if step.message else "")

    def _step(self, kind: str, version: str | None, run: Callable[[], Any]) -> CdStep:
        before, wall = len(self.recorder.calls), self.terraform_seconds()
        # A command's CD signs with keys of its own: the harness's looking meanwhile is not CD's.
        only = CD_ACCESS_KEY if self.entry.described else None
        # On the simulator, Terraform's time in the step is the profile's model on the virtual
        # clock; where tasks really run, it is the wall time the clock already counted.
        modelled = self.server.modelling_terraform() if self.sim is not None else contextlib.nullcontext()
        with self.server.recording.recording(access_key=only) as server_side, modelled as terraform:
            outcome = run()
        seconds = terraform.seconds if terraform is not None else self.terraform_seconds() - wall
        watched = getattr(outcome, "outcome", None)
        step = CdStep(kind, version, bool(outcome.succeeded), self.recorder.calls[before:], server_side.calls,
                      round(seconds, 3), getattr(watched, "decided_at", None),
                      getattr(getattr(watched, "state", None), "value", None), getattr(watched, "message", ""))
        self.history.append(step)
        return step

    # --- observing (the scenario's own calls are not recorded) ---
    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(service, endpoint_url=self.server.url)  # type: ignore[call-overload]  # any service by name: the stubs type each by its literal name
        return self._clients[service]

    @property
    def clock(self) -> Any:
        """The simulator's virtual clock, or a wall-clock run's budget clock."""
        return self.server.clock

    @property
    def sim(self) -> Any:
        return self.server.sim

    @property
    def timeline(self) -> Any:
        """What the service looked like over time: the simulator's recorder, or where
        tasks really run the readings of ECS taken while anyone waited."""
        return self.sim.timeline if self.sim is not None else self.server.timeline

    @property
    def cluster(self) -> str:
        return str(self.outputs["cluster_name"])

    @property
    def service_name(self) -> str:
        return str(self.outputs["service_name"])

    @property
    def container(self) -> str:
        return str(self.outputs.get("container_name", "app"))

    def service(self) -> ServiceTypeDef:
        return self.client("ecs").describe_services(cluster=self.cluster, services=[self.service_name])["services"][0]

    def running_definition(self) -> dict[str, Any]:
        return self.client("ecs").describe_task_definition(taskDefinition=self.service()["taskDefinition"])["taskDefinition"]

    def running_container(self) -> dict[str, Any]:
        return next(c for c in self.running_definition()["containerDefinitions"] if c["name"] == self.container)

    def running_image(self) -> str:
        """The image the service's task definition names for the app container."""
        return container_image(self.client("ecs"), self.service()["taskDefinition"], self.container)

    def running_tasks(self) -> list[dict[str, Any]]:
        ecs = self.client("ecs")
        arns = ecs.list_tasks(cluster=self.cluster, serviceName=self.service_name, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return []
        return [t for t in ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"] if t["lastStatus"] == "RUNNING"]

    def running_digests(self) -> list[str]:
        return sorted(c.get("imageDigest", "") for t in self.running_tasks()
                      for c in t["containers"] if c["name"] == self.container)

    def push_faulty(self, tag: str, **behaviour: Any) -> str:
        """Push an image as ``tag`` that behaves as ``behaviour`` says (the
        simulator's image behaviour: ``missing=True``, ``target_health_fails_every=4``...,
        or nothing: a healthy release). Its manifest is this world's own, so what it
        is declared to do touches no other world on the server. Where tasks really
        run, the behaviour is built into the image instead. Returns the tag."""
        if self.sim is None:
            return self._push_built(tag, behaviour)
        repository = str(self.outputs["repository_name"])
        ecr = self.client("ecr")
        try:
            digest = ecr.put_image(repositoryName=repository, imageManifest=manifest(f"{self.resource_name}/{tag}"),
                                   imageTag=tag, imageManifestMediaType=MANIFEST_TYPE)["image"]["imageId"]["imageDigest"]
        except ecr.exceptions.ImageAlreadyExistsException:  # a shared world pushed it before
            digest = digests_by_tag(ecr, repository)[tag]
        self.digests[tag] = digest
        if behaviour:
            self.sim.declare_image(digest, **behaviour)
        return tag

    def _push_built(self, tag: str, behaviour: dict[str, Any]) -> str:
        from harness.worlds.wall_clock import faulty_behaviour

        pushed = self.server.push(self.client("ecr"), str(self.outputs["repository_name"]), {tag: faulty_behaviour(behaviour)})
        self.digests[tag] = pushed[tag]
        return tag

    def label(self, digest: str) -> str:
        """The version tag a digest was pushed as (the first one, for the chart's legend)."""
        return next((tag for tag, d in self.digests.items() if d == digest), digest)

    def labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for tag, digest in self.digests.items():
            out.setdefault(digest, tag)
        return out

    def settle(self, seconds: float = SETTLE) -> None:
        """Let the service settle: ``seconds`` of virtual time, or on the wall clock
        until it is steady (no fixed wait: real AWS takes what it takes)."""
        if self.sim is None:
            from harness.worlds.wall_clock import wait_steady

            wait_steady(self)
            return
        self.sleep(seconds)

    def sleep(self, seconds: float) -> None:
        """Advance virtual time (the simulator runs); its wall cost is counted for bench/compare.py."""
        started = time.perf_counter()
        try:
            self.clock.sleep(seconds)
        finally:
            self.simulation_seconds += time.perf_counter() - started

    def alive(self) -> bool:
        """Does the server still hold this world (nothing reset it)?"""
        if self.server.sim is not self._sim:
            return False
        try:
            found = self.client("ecs").describe_services(cluster=self.cluster, services=[self.service_name])
        except Exception:  # noqa: BLE001 - any failure to read it back means it is gone
            return False
        return bool(found.get("services")) and found["services"][0].get("status") == "ACTIVE"

    def terraform_seconds(self) -> float:
        """Wall seconds of every Terraform command this world's workspaces ran so far
        (harness overhead, for bench/compare.py: never part of a measurement)."""
        return float(sum(seconds for ws in self.workspaces for _, seconds in ws.timings.runs))

    def config_text(self) -> str:
        """The configuration's *.tf text, with that of the local modules it calls
        (``source = "./..."`` or ``"../..."``, followed transitively)."""
        seen: set[Path] = set()
        texts: list[str] = []

        def read(directory: Path) -> None:
            directory = directory.resolve()
            if directory in seen or not directory.is_dir():
                return
            seen.add(directory)
            for tf in sorted(directory.glob("*.tf")):
                text = tf.read_text()
                texts.append(text)
                for source in re.findall(r'source\s*=\s*"(\.{1,2}/[^"]*)"', text):
                    read(directory / source)

        read(Path(self.entry.cls().terraform_config()))
        return "\n".join(texts)

    def service_address(self) -> str:
        """The address of the aws_ecs_service Terraform manages for this world's
        service: ``aws_ecs_service.app`` in the approaches' own configurations,
        read from the state for a described one (a module's, a variant's)."""
        if not self.entry.described:
            return "aws_ecs_service.app"
        modules = [self.workspace.state().get("values", {}).get("root_module", {})]
        while modules:
            module = modules.pop()
            modules.extend(module.get("child_modules", []))
            for resource in module.get("resources", []):
                if (resource.get("type") == "aws_ecs_service" and resource.get("mode") == "managed"
                        and resource.get("values", {}).get("name") == self.service_name):
                    return str(resource["address"])
        raise AssertionError(f"{self.name}: no aws_ecs_service named {self.service_name} in Terraform's state")

    def service_ignores(self, attribute: str) -> bool:
        """Does the configuration's aws_ecs_service (the one in state, where a module
        has variants) ignore ``attribute`` (lifecycle ignore_changes)?"""
        text = self.config_text()
        if self.entry.described:
            resource = re.sub(r"\[[^\]]*\]$", "", self.service_address()).rsplit(".", 1)[-1]  # fixed[0] -> fixed
            block = re.search(rf'resource\s+"aws_ecs_service"\s+"{re.escape(resource)}"(.*?)(?=^resource\s|\Z)',
                              text, re.S | re.M)
            text = block.group(1) if block else text
        return any(attribute in re.split(r"[\s,]+", found)
                   for found in re.findall(r"ignore_changes\s*=\s*\[([^\]]*)\]", text))


class ApproachWorlds:
    """Builds the approaches' worlds on one server and keeps the Terraform ones.

    One boto3 session serves every world: its loader caches the service models
    (parsing ec2's alone takes most of a second), and clients do not share event
    hooks, so each world's recorder still sees only its own clients."""

    def __init__(self, server: Any, session: boto3.Session | None = None) -> None:
        self.server = server  # a HarnessServer, or a WallClockPlace (harness.worlds.wall_clock)
        self.session = session or boto3.Session(**TEST_CREDENTIALS)
        server.in_process(self.session)  # the worlds' clients skip the socket (harness.server.in_process)
        self.built: list[World] = []  # every Terraform world built, rebuilt ones included
        # The scenarios' own (unrecorded) clients, one per service for every world:
        # same session, same endpoint, no hooks of their own; building a client
        # costs tens of milliseconds (ec2's has 600 methods to make).
        self._observers: dict[str, Any] = {}
        self._shared: dict[tuple, World] = {}  # (approach, *configuration) -> its world
        self._failed: dict[tuple, Exception] = {}  # (approach, *configuration) -> why it did not apply

    def stand_in(self, entry: Entry, name: str, **configuration: Any) -> World:
        """What ``entry``'s Terraform would build, built with boto3 (``NoStandIn`` for 4a/4b).
        ``configuration``: the stand-in's options (strategy, load_balanced, circuit_breaker,
        version_consistency, desired_count)."""
        world = self._world(entry, "stand-in", name)
        built = stand_in(world.client, entry.name, images=(*VERSIONS, BROKEN), name=name, **configuration)
        world.outputs, world.digests = dict(built.outputs), dict(built.digests)
        self._declare_broken(world)
        return self._ready(world)

    def terraform(self, entry: Entry, terraform: Any, instance: str = "", **configuration: Any) -> World:
        """``entry``'s configuration applied with ``terraform`` (a ``Terraform`` runner),
        its variables varied by ``configuration`` (``Approach.terraform_options``;
        ``ApproachError`` naming ``variation_problem`` otherwise); shared: the same
        world again, for the same configuration, while the server holds it.
        ``instance`` names another world of the same configuration beside the shared
        one (a second service of a release: "worker"), shared in the same way."""
        cls = entry.cls()
        problem = cls.variation_problem(configuration) if configuration else None
        if problem is not None:
            raise ApproachError(f"{entry.name}: {problem}")
        key = (entry.name, *sorted(configuration.items()), *((("instance", instance),) if instance else ()))
        if self.server.sim is None:
            return self._terraform_on_wall_clock(entry, terraform, key, configuration, instance)
        existing = self._shared.get(key)
        if existing is not None and existing.alive():
            return existing
        if key in self._failed:  # a configuration that did not apply will not apply for the next scenario
            raise self._failed[key]
        name = unique_name(entry.name, sum(w.entry is entry for w in self.built))
        world = self._world(entry, "terraform", name)
        self.built.append(world)  # before applying: its Terraform seconds count even if it fails
        world.workspaces = terraform.workspaces_for(cls.terraform_config(), self.server.url.rstrip("/"),
                                                    cls.terraform_variables(name, **configuration),
                                                    root=cls.terraform_root(), name=name)
        try:
            world.workspace.apply()
        except Exception as err:
            self._failed[key] = err
            raise
        world.outputs = cls.named_outputs(world.workspace.outputs())
        repository = str(world.outputs["repository_name"])
        ecr = world.client("ecr")
        existing_tags = set(digests_by_tag(ecr, repository))
        world.digests = push_images(ecr, repository, [tag for tag in (*VERSIONS, BROKEN) if tag not in existing_tags])
        for tag, digest in digests_by_tag(ecr, repository).items():
            world.digests.setdefault(tag, digest)
        # The service was created before any image existed: point the tag its
        # task definition names at v1 (the bootstrap, placeholder or environment
        # tag), then start it again the way an operator would.
        image = world.running_image()
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
        if tag not in VERSIONS and tag != BROKEN:
            point_tag(ecr, repository, tag, at="v1")
            world.digests.setdefault(tag, world.digests["v1"])
        self._declare_broken(world)
        world.client("ecs").update_service(cluster=world.cluster, service=world.service_name, forceNewDeployment=True)
        self._shared[key] = self._ready(world)
        return world

    def _terraform_on_wall_clock(self, entry: Entry, terraform: Any, key: tuple, configuration: dict[str, Any],
                                 instance: str = "") -> World:
        """As ``terraform``, where tasks really run (``harness.worlds.wall_clock``): named
        with the run's prefix, the images built with their behaviours and pushed."""
        from harness.ecs.images import HEALTHY, ImageBehaviour
        from harness.worlds.wall_clock import apply_on_wall_clock

        existing = self._shared.get(key)
        if existing is not None:
            return existing
        world = self._world(entry, "terraform", self.server.real.run.name(f"{entry.name}-{instance}" if instance
                                                                          else entry.name))
        self.built.append(world)
        images = {**{tag: HEALTHY for tag in VERSIONS}, BROKEN: ImageBehaviour(crash_after=CRASH_AFTER)}
        apply_on_wall_clock(world, terraform, configuration, images)
        self.server.watch(world)
        self._shared[key] = self._ready(world)
        return world

    def terraform_seconds(self) -> float:
        """Wall seconds of every Terraform command of every world built so far."""
        return sum(world.terraform_seconds() for world in self.built)

    def _world(self, entry: Entry, kind: str, name: str) -> World:
        return World(entry, kind, self.server, self.session, {}, {}, ApiCallRecorder(account_id=ACCOUNT), name,
                     _clients=self._observers, _sim=self.server.sim)

    @staticmethod
    def _declare_broken(world: World) -> None:
        if world.sim is not None:
            world.sim.declare_image(world.digests[BROKEN], crash_after=CRASH_AFTER)

    def _ready(self, world: World) -> World:
        """Settle, and hand CD its context: clients of its own, recorded."""
        world.settle()
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = self.session.client(service, endpoint_url=self.server.url)  # type: ignore[call-overload]  # any service by name: the stubs type each by its literal name
                world.recorder.attach(clients[service])
            return clients[service]

        if world.sim is not None:
            for workspace in world.workspaces:  # from now on CD's Terraform starts on the virtual clock
                workspace.before_command = self.server.terraform_started
        world.context = Context(client=client, now=world.clock.now, sleep=world.sleep, outputs=world.outputs,
                                terraform=world.workspace, endpoint_url=self.server.url)
        world.approach = world.entry.cls()(world.context)
        return world
