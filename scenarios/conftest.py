"""What every scenario stands on: the approaches as a parameter, and a *world*
per approach (what its Terraform built, its CD procedure, the clock and the
simulator) to run the claim in.

- ``approach_name`` is parametrized over all six approaches (``ORDER``), each
  in its own ``xdist_group``: with ``--dist loadgroup`` one worker does one
  approach's Terraform work. An approach whose module has not landed is
  skipped with the registry's reason.
- ``world(terraform=...)`` builds the world:

  * ``terraform=True``: the approach's real configuration, applied once per
    approach per worker and shared by the scenarios that follow. Each scenario
    brings the world to the version it starts from (``ensure_deployed``: a
    deploy only if that version is not already running steady, which saves
    approach 4 an apply when an earlier scenario left it there), so none
    depends on running after another.
    It lives on this worker's ``harness serve`` and is never destroyed: the
    server goes with the worker. If something reset the server meanwhile
    (another test's moto mock), the world is applied again.
  * ``terraform=False``: the moto-only columns. The boto3 stand-in
    (``harness.approaches.stand_in``) builds what the configuration would,
    fresh for the test; an approach with no stand-in (its CD runs Terraform)
    falls back to the shared Terraform world.

  Without Terraform (not installed, or ``--no-terraform``) a scenario that
  needs it is skipped with the reason, and the report shows its cells as not
  measured.

Every world lives on one ``HarnessServer`` per worker (Terraform talks HTTP),
whose virtual time moves only when a scenario or CD sleeps (speed ~0): the
measured simulated seconds do not depend on how loaded the machine is.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import boto3
import pytest

from harness import approaches
from harness.approaches import ORDER, Approach, ApproachError
from harness.approaches.base import Context
from harness.approaches.stand_in import MANIFEST_TYPE, push_images, stand_in
from harness.backends.embedded import ACCOUNT, TEST_CREDENTIALS
from harness.ecs import api as sim_api
from harness.metrics.iam import ApiCall, ApiCallRecorder

from scenario_support import BROKEN, CRASH_AFTER, SETTLE, SPEED, VERSIONS


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "ECS Terraform/CD harness")
    group.addoption(
        "--no-terraform",
        dest="harness_no_terraform",
        action="store_true",
        default=False,
        help="scenarios: measure only what needs no Terraform (the boto3 stand-in); "
        "Terraform-backed cells are reported as not measured",
    )


def pytest_configure(config: pytest.Config) -> None:
    directory = config.getoption("harness_report_dir", None)
    if directory and not hasattr(config, "workerinput"):  # the controller starts from no timings
        for stale in (Path(directory) / "timings").glob("*.jsonl"):
            stale.unlink()


def approach_of(nodeid: str) -> str | None:
    """The approach a scenario's node id is parametrized with (``...[template-vc-on]`` -> template)."""
    found = re.search(r"\[([^\]]*)\](@.*)?$", nodeid)
    if found is None:
        return None
    for name in sorted(ORDER, key=len, reverse=True):
        if re.search(rf"(^|-){re.escape(name)}(-|$)", found.group(1)):
            return name
    return None


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup``, grouping by approach: one worker runs all of an
    approach's scenarios, so its Terraform world is applied once. (xdist's own
    loadgroup tags node ids with the ``xdist_group`` mark, which pytest 9 no
    longer lets it do; this finds the approach in the parameter id instead.
    Tests that are not scenarios stay one work unit each.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ApproachScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            approach = approach_of(nodeid) if "scenarios/" in nodeid and "test_deploy_tool_rollback" not in nodeid else None
            return f"approach-{approach}" if approach else nodeid

    return ApproachScheduling(config, log)


# Approach 4's CD is `terraform apply`: its scenarios take longest, so they are
# handed out first (one to each worker) and the rest fill in behind them.
HEAVIEST_FIRST = ("terraform-cd-central", "terraform-cd-app", "persistent-tag", "ignore-changes", "template", "app-repo")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Scenarios grouped by approach, heaviest approach first; within one, the
    CD-permissions scenario goes last: in a shared Terraform world it reads the
    calls of the deploys and rollbacks the other scenarios already ran instead
    of paying for three more `terraform apply` (approach 4). Every worker
    computes the same order, as xdist requires."""
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}

    def key(indexed: tuple[int, pytest.Item]) -> tuple[int, int, int]:
        index, item = indexed
        approach = approach_of(item.nodeid)
        last = item.nodeid.startswith("scenarios/test_cd_permissions.py")
        return (rank.get(approach, len(rank)) if approach else len(rank), int(last), index)

    mine = [(i, item) for i, item in enumerate(items) if item.nodeid.startswith("scenarios/") and approach_of(item.nodeid)]
    if not mine:
        return
    slots = [i for i, _ in mine]
    for slot, (_, item) in zip(slots, sorted(mine, key=key)):
        items[slot] = item


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "approach_name" in metafunc.fixturenames:
        metafunc.parametrize(
            "approach_name",
            [pytest.param(name, id=name, marks=pytest.mark.xdist_group(f"approach-{name}")) for name in ORDER],
        )


def terraform_problem(config: pytest.Config) -> str | None:
    """Why Terraform cannot run in this session, or None."""
    if config.getoption("harness_no_terraform", False):
        return "--no-terraform was given"
    from harness.terraform.fixtures import required, settings_key

    problem = config.stash[settings_key].problem()
    if problem is not None and required():
        pytest.fail(f"HARNESS_REQUIRE_TERRAFORM=1 but Terraform cannot run: {problem}", pytrace=False)
    return problem


@pytest.fixture
def approach_cls(approach_name: str) -> type[Approach]:
    try:
        return approaches.get(approach_name)
    except ApproachError as err:
        pytest.skip(f"not measured: {err}")


# --- the server ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def scenario_server() -> Iterator[Any]:
    """One `harness serve` per worker for every scenario world, recording API
    calls server-side too (CD that is Terraform is not seen by botocore hooks)."""
    from harness.server import HarnessServer

    with HarnessServer(speed=SPEED) as server:  # server.recording: its calls, Terraform's included
        yield server


@pytest.fixture(scope="session")
def terraform_endpoint(scenario_server: Any) -> str:
    """Terraform talks to the same server the scenarios watch (overrides the plugin's)."""
    return scenario_server.url.rstrip("/")


# --- worlds ---------------------------------------------------------------------------


@dataclass
class CdStep:
    """One CD step a scenario ran, and the AWS calls it made: as botocore saw them
    (client-side) and as the server saw them (Terraform's too)."""

    kind: str  # "deploy" or "rollback"
    version: str | None
    succeeded: bool
    client_calls: list[ApiCall]
    server_calls: list[ApiCall]
    terraform_seconds: float
    decided_at: float | None = None  # virtual time the watcher decided the rollout (succeeded or failed)

    def calls(self, server_side: bool) -> list[ApiCall]:
        return self.server_calls if server_side else self.client_calls


@dataclass
class World:
    """An approach's infrastructure, its CD procedure and the means to observe it."""

    name: str  # the approach
    kind: str  # "terraform" or "stand-in"
    server: Any
    outputs: dict[str, Any]
    digests: dict[str, str]  # tag -> digest
    recorder: ApiCallRecorder
    resource_name: str = ""  # the random name its resources were created under (Terraform's var.name)
    workspace: Any = None  # the Terraform workspace (terraform worlds)
    workspaces: list[Any] = field(default_factory=list)  # every workspace applied for it (4b: two)
    approach: Approach | None = None
    context: Context | None = None
    history: list[CdStep] = field(default_factory=list)  # every CD step run in this world
    _clients: dict[str, Any] = field(default_factory=dict)

    # --- CD, recorded ---
    def deploy(self, version: str) -> CdStep:
        return self._step("deploy", version, lambda: self.approach.deploy(version))

    def rollback(self) -> CdStep:
        return self._step("rollback", None, self.approach.rollback)

    def ensure_deployed(self, version: str) -> None:
        """CD has deployed ``version`` and the service is steady on it; deploy only if not.
        (A Terraform world is shared: skipping a deploy that changes nothing saves an apply for approach 4.)"""
        service = self.service()
        tag = self.running_container()["image"].rsplit(":", 1)[-1]
        steady = len(service["deployments"]) == 1 and service["runningCount"] == service["desiredCount"]
        last = next((step for step in reversed(self.history) if step.kind == "deploy"), None)
        if (steady and last is not None and last.version == version and last.succeeded
                and tag in (version, self.context.environment) and set(self.running_digests()) == {self.digests[version]}):
            return
        assert self.deploy(version).succeeded, f"{self.name}: CD could not deploy {version}"

    def _step(self, kind: str, version: str | None, run: Callable[[], Any]) -> CdStep:
        before, terraform = len(self.recorder.calls), self.terraform_seconds()
        with self.server.recording.recording() as server_side:
            outcome = run()
        watched = getattr(outcome, "outcome", None)
        step = CdStep(kind, version, bool(outcome.succeeded), self.recorder.calls[before:], server_side.calls,
                      self.terraform_seconds() - terraform, getattr(watched, "decided_at", None))
        self.history.append(step)
        return step

    # --- observing (the scenario's own calls are not recorded) ---
    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = _session().client(service, endpoint_url=self.server.url)
        return self._clients[service]

    @property
    def clock(self) -> Any:
        return self.server.sim.clock

    @property
    def sim(self) -> Any:
        return self.server.sim

    @property
    def cluster(self) -> str:
        return str(self.outputs["cluster_name"])

    @property
    def service_name(self) -> str:
        return str(self.outputs["service_name"])

    @property
    def container(self) -> str:
        return str(self.outputs.get("container_name", "app"))

    def service(self) -> dict[str, Any]:
        return self.client("ecs").describe_services(cluster=self.cluster, services=[self.service_name])["services"][0]

    def running_definition(self) -> dict[str, Any]:
        return self.client("ecs").describe_task_definition(taskDefinition=self.service()["taskDefinition"])["taskDefinition"]

    def running_container(self) -> dict[str, Any]:
        return next(c for c in self.running_definition()["containerDefinitions"] if c["name"] == self.container)

    def running_tasks(self) -> list[dict[str, Any]]:
        ecs = self.client("ecs")
        arns = ecs.list_tasks(cluster=self.cluster, serviceName=self.service_name, desiredStatus="RUNNING")["taskArns"]
        if not arns:
            return []
        return [t for t in ecs.describe_tasks(cluster=self.cluster, tasks=arns)["tasks"] if t["lastStatus"] == "RUNNING"]

    def running_digests(self) -> list[str]:
        return sorted(c.get("imageDigest", "") for t in self.running_tasks()
                      for c in t["containers"] if c["name"] == self.container)

    def label(self, digest: str) -> str:
        """The version tag a digest was pushed as (the first one, for the chart's legend)."""
        return next((tag for tag, d in self.digests.items() if d == digest), digest)

    def labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for tag, digest in self.digests.items():
            out.setdefault(digest, tag)
        return out

    def settle(self, seconds: float = SETTLE) -> None:
        self.sleep(seconds)

    def sleep(self, seconds: float) -> None:
        """Advance virtual time (the simulator runs); its wall cost is counted for bench/compare.py."""
        started = time.perf_counter()
        try:
            self.clock.sleep(seconds)
        finally:
            SPENT["simulation"] += time.perf_counter() - started

    def alive(self) -> bool:
        """Does the server still hold this world (nothing reset it)?"""
        if sim_api.active() is not self.server.sim:
            return False
        try:
            found = self.client("ecs").describe_services(cluster=self.cluster, services=[self.service_name])
        except Exception:
            return False
        return bool(found.get("services")) and found["services"][0].get("status") == "ACTIVE"

    def terraform_seconds(self) -> float:
        """Wall seconds of every Terraform command this world's workspaces ran so far."""
        return float(sum(seconds for ws in self.workspaces for _, seconds in ws.timings.runs))

    def config_text(self) -> str:
        config = approaches.get(self.name).terraform_config()
        return "\n".join(p.read_text() for p in sorted(Path(config).glob("*.tf")))

    def service_ignores(self, attribute: str) -> bool:
        """Does the configuration's aws_ecs_service ignore ``attribute`` (lifecycle ignore_changes)?"""
        return any(attribute in re.split(r"[\s,]+", found)
                   for found in re.findall(r"ignore_changes\s*=\s*\[([^\]]*)\]", self.config_text()))


_sessions: list[boto3.Session] = []


def _session() -> boto3.Session:
    """One boto3 session per process: its loader caches the service models
    (parsing ec2's alone takes most of a second), and clients do not share
    event hooks, so each world's recorder still sees only its own clients."""
    if not _sessions:
        _sessions.append(boto3.Session(**TEST_CREDENTIALS))
    return _sessions[0]


# Wall seconds this process spent advancing the simulator, for bench/compare.py.
SPENT: dict[str, float] = {"simulation": 0.0}


BUILT: list["World"] = []  # every Terraform world this process built, rebuilt ones included


def _terraform_wall() -> float:
    return sum(seconds for w in BUILT for ws in w.workspaces for _, seconds in ws.timings.runs)


def _unique(*key: object) -> str:
    """A resource name unique on one server and the same in every run (the
    report's figures name images by it): ``s`` + 8 hex digits of ``key``."""
    return "s" + hashlib.sha256(repr(key).encode()).hexdigest()[:8]


def _make_context(world: World, extra_variables: dict[str, Any] | None = None) -> Context:
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = _session().client(service, endpoint_url=world.server.url)
            world.recorder.attach(clients[service])
        return clients[service]

    return Context(client=client, now=world.clock.now, sleep=world.sleep, outputs=world.outputs,
                   terraform=world.workspace, terraform_variables=dict(extra_variables or {}))


def _push_all(world: World, repository: str) -> dict[str, str]:
    ecr = world.client("ecr")
    existing = {i.get("imageTag") for i in ecr.list_images(repositoryName=repository)["imageIds"]}
    wanted = [tag for tag in (*VERSIONS, BROKEN) if tag not in existing]
    digests = push_images(ecr, repository, wanted)
    for image in ecr.describe_images(repositoryName=repository)["imageDetails"]:
        for tag in image.get("imageTags", []):
            digests.setdefault(tag, image["imageDigest"])
    return digests


def _point_tag(world: World, repository: str, tag: str, at: str) -> None:
    ecr = world.client("ecr")
    found = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": at}])["images"][0]
    try:
        ecr.put_image(repositoryName=repository, imageManifest=found["imageManifest"], imageTag=tag,
                      imageManifestMediaType=MANIFEST_TYPE)
    except ecr.exceptions.ImageAlreadyExistsException:
        pass


def _declare_broken(world: World) -> None:
    world.sim.declare_image(world.digests[BROKEN], crash_after=CRASH_AFTER)


def build_terraform_world(name: str, server: Any, terraform: Any, unique: str) -> World:
    """Apply ``name``'s configuration on ``server``, push the versions, and let
    the service settle on v1."""
    from harness.terraform.fixtures import requirement

    cls = approaches.get(name)
    root, endpoint = Path(approaches.__file__).resolve().parent, server.url.rstrip("/")
    variables: dict[str, Any] = {"name": unique}
    infra_workspace = None
    needed = requirement(cls.terraform_config())
    if needed is not None:  # 4b: the service config reads the central infrastructure's state
        infra = terraform.workspace(needed.config, endpoint, {"name": unique}, root=root, name=f"{unique}-infra")
        infra.init()
        infra.apply()
        infra_workspace = infra
        variables[needed.state_variable] = str(infra.directory / "terraform.tfstate")
    workspace = terraform.workspace(cls.terraform_config(), endpoint, variables, root=root, name=unique)
    workspace.init()
    workspace.apply()
    outputs = workspace.outputs()
    world = World(name, "terraform", server, outputs, {}, ApiCallRecorder(account_id=ACCOUNT), unique, workspace=workspace,
                  workspaces=[w for w in (infra_workspace, workspace) if w is not None])
    repository = str(outputs["repository_name"])
    world.digests = _push_all(world, repository)
    # The service was created before any image existed: point the tag its
    # task definition names at v1 (the bootstrap, placeholder or environment
    # tag), then start it again the way an operator would.
    image = world.running_container()["image"]
    tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else "latest"
    if tag not in VERSIONS and tag != BROKEN:
        _point_tag(world, repository, tag, "v1")
        world.digests.setdefault(tag, world.digests["v1"])
    _declare_broken(world)
    world.client("ecs").update_service(cluster=world.cluster, service=world.service_name, forceNewDeployment=True)
    world.settle()
    world.context = _make_context(world)
    world.approach = cls(world.context)
    return world


def build_stand_in_world(name: str, server: Any, unique: str) -> World:
    world = World(name, "stand-in", server, {}, {}, ApiCallRecorder(account_id=ACCOUNT), unique)
    built = stand_in(world.client, name, images=(*VERSIONS, BROKEN), name=world.resource_name)
    world.outputs, world.digests = dict(built.outputs), dict(built.digests)
    _declare_broken(world)
    world.settle()
    world.context = _make_context(world)
    world.approach = approaches.get(name)(world.context)
    return world


@pytest.fixture(scope="session")
def _terraform_worlds() -> dict[str, World]:
    return {}


@pytest.fixture
def world(request: pytest.FixtureRequest, approach_name: str, approach_cls: type[Approach], scenario_server: Any,
          _terraform_worlds: dict[str, World]) -> Callable[..., World]:
    """``world(terraform=True|False)``: see the module docstring."""

    from harness.plugin import backend_key

    backend = request.config.stash.get(backend_key, "moto")
    if backend not in ("moto", "server"):
        pytest.skip(f"not measured: the scenarios need the ECS simulator (harness serve); --backend {backend} "
                    "has none: use --backend moto or server")

    made = []

    def make(terraform: bool) -> World:
        if not terraform:
            made.append(None)
            try:
                return build_stand_in_world(approach_name, scenario_server,
                                            _unique(request.node.nodeid.split("@", 1)[0], len(made)))
            except ApproachError as err:
                if "no stand-in" not in str(err):
                    raise
        problem = terraform_problem(request.config)
        if problem is not None:
            pytest.skip(f"not measured: {approach_name} needs Terraform here ({problem})")
        existing = _terraform_worlds.get(approach_name)
        if existing is not None and existing.alive():
            return existing
        from harness.terraform.fixtures import skip_without_provider
        from harness.terraform.runner import TerraformError

        terraform_runner = request.getfixturevalue("terraform")
        try:
            built = build_terraform_world(approach_name, scenario_server, terraform_runner,
                                          _unique(approach_name, sum(w.name == approach_name for w in BUILT)))
        except TerraformError as err:
            # no provider here (offline, no mirror): a report with reasons beats a wall of errors
            skip_without_provider(err, f"not measured: {approach_name}")
            raise
        _terraform_worlds[approach_name] = built
        BUILT.append(built)
        return built

    started, simulation, terraform = time.perf_counter(), SPENT["simulation"], _terraform_wall()
    yield make
    scenario_server.check()
    _timing_sink(request, {
        "test": request.node.nodeid.split("@", 1)[0], "approach": approach_name,
        "wall": time.perf_counter() - started, "simulation": SPENT["simulation"] - simulation,
        "terraform": _terraform_wall() - terraform,
    })


def _timing_sink(request: pytest.FixtureRequest, record: dict[str, Any]) -> None:
    """One JSON line per scenario into <report dir>/timings/<worker>.jsonl (bench/compare.py reads them)."""
    from harness.metrics.collect import worker_name
    from harness.metrics.fixtures import report_dir_key

    directory = request.config.stash.get(report_dir_key, None)
    if directory is None:
        return
    path = Path(directory) / "timings" / f"{worker_name(request.config)}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record, sort_keys=True) + "\n")


@pytest.fixture
def needs_terraform(request: pytest.FixtureRequest) -> None:
    problem = terraform_problem(request.config)
    if problem is not None:
        pytest.skip(f"not measured: needs Terraform ({problem})")
