"""Approach worlds where tasks really run: real AWS, or a LocalStack that serves
ECS (``--backend aws|localstack``), on the wall clock of one scenario's run.

An approach's own Terraform configuration is applied there by real Terraform,
its resources named with the run's prefix and tagged with its id (the provider's
``default_tags``), so the run's teardown (``harness.backends.aws_run``) finds
every one, CD's revisions and images included. The configuration is applied in
two steps: first the shared base (network, cluster, roles, repository), then,
once the world's images are built and pushed there, the rest: the service's
first tasks find their image, and the roles have had the build's time to reach
ECS. The subnets get a way out (``public_network``): Fargate tasks pull from ECR.

``WallClockPlace`` stands where `harness serve` stands for a simulated world:
the clients' endpoint (None: boto3's own resolution, which is
``AWS_ENDPOINT_URL`` for a LocalStack), the run's budget clock, no simulator,
and no server-side recording: what CD's Terraform calls is not seen there.
Its clock reads ECS every ``SAMPLE_EVERY`` seconds while anyone waits on it
(``SamplingClock``), into a ``PolledTimeline`` of the same shape as the
simulator's recorder, so a rollback is measured from the same timeline there.
"""
from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from ecs_template_deploy.views import Service

from harness.approaches.base import Context
from harness.ecs.images import HEALTHY, ImageBehaviour

REAL_SETTLE = 900.0  # wall seconds a new service (or a CD step's aftermath) gets to become steady
STEADY_POLL = 10.0
SAMPLE_EVERY = 5.0  # seconds between two readings of a watched service (3 read calls each)
BOOTSTRAP_TAGS = ("latest", "bootstrap", Context.environment)  # what the configurations' first task definitions name


class NotRecorded:
    """The server-side recording a real endpoint does not have: no calls seen."""

    calls: list = []

    @contextlib.contextmanager
    def recording(self, recorder: Any = None, access_key: str | None = None) -> Iterator["NotRecorded"]:
        yield self


class PolledTimeline:
    """The simulator's timeline recorder (``harness.ecs.timeline``) in shape, filled by
    reading ECS: a sample per poll, kept when it differs from the last one of its
    service; the service's events as ECS logged them, each once."""

    def __init__(self) -> None:
        self.samples: list[dict] = []
        self._events: dict[str, dict] = {}  # ECS event id -> event
        self._last: dict[str, dict] = {}

    def poll(self, ecs: Any, cluster: str, service_name: str, now: float) -> None:
        from ecs_template_deploy.clock import epoch

        found = ecs.describe_services(cluster=cluster, services=[service_name])["services"]
        if not found:
            return
        service = Service(found[0])
        arns = ecs.list_tasks(cluster=cluster, serviceName=service_name, desiredStatus="RUNNING")["taskArns"]
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns)["tasks"] if arns else []
        running = [task for task in tasks if task.get("lastStatus") == "RUNNING"]
        by_digest: dict[str, int] = {}
        for task in running:
            key = ",".join(c.get("imageDigest") or "?" for c in task.get("containers", []))
            by_digest[key] = by_digest.get(key, 0) + 1
        snap = {
            "service": service_name,
            "desired": service.desired_count,
            "running": len(running),
            # no health check says UNKNOWN: running is as healthy as ECS can tell
            "healthy": sum(1 for task in running if task.get("healthStatus") != "UNHEALTHY"),
            "deployments": [{"id": d.id, "status": d.status, "rolloutState": d.rollout_state,
                             "taskDefinition": d.task_definition, "running": d.running_count,
                             "pending": d.pending_count, "failedTasks": d.failed_tasks}
                            for d in service.deployments],
            "runningByDigest": dict(sorted(by_digest.items())),
        }
        for event in service.raw.get("events", []):  # newest first, as ECS lists them
            self._events.setdefault(event["id"], {"t": epoch(event["createdAt"]) or now, "service": service_name,
                                                  "message": event["message"]})
        if self._last.get(service_name) != snap:
            self._last[service_name] = snap
            self.samples.append({"t": now, **snap})

    @property
    def events(self) -> list[dict]:
        return sorted(self._events.values(), key=lambda e: e["t"])

    def as_dict(self) -> dict:
        return {"samples": self.samples, "events": self.events}


class SamplingClock:
    """``clock``, with ``poll()`` called after every ``every`` seconds of a sleep:
    whoever waits (CD watching a rollout, the scenario afterwards) has the service
    read meanwhile. A reading that fails is skipped, not the scenario's failure."""

    def __init__(self, clock: Any, poll: Callable[[], None], every: float = SAMPLE_EVERY) -> None:
        self.clock, self.poll, self.every = clock, poll, every
        self.missed = 0  # readings that failed (throttled, a lost reply)

    def now(self) -> float:
        return self.clock.now()

    def sleep(self, seconds: float) -> None:
        """Until ``seconds`` from now, reading every ``every``: the readings' own time
        counts in the wait (3 calls each would otherwise stretch it by a tenth or more)."""
        end = self.clock.now() + seconds
        while (left := end - self.clock.now()) > 0:
            self.clock.sleep(min(left, self.every))
            self.read()

    def read(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.poll()
        except (BotoCoreError, ClientError):
            self.missed += 1


class WallClockPlace:
    """Where a wall-clock world lives: ``real`` is the scenario's `RealAws`."""

    sim = None
    url = None  # boto3 resolves it: AWS, or AWS_ENDPOINT_URL (LocalStack, a dry run)

    def __init__(self, real: Any) -> None:
        self.real = real
        self.recording = NotRecorded()
        self.timeline = PolledTimeline()
        self.clock = SamplingClock(real.clock, self.poll)
        self._watched: list[Any] = []

    def watch(self, world: Any) -> None:
        """Read ``world``'s service into the timeline whenever anyone waits."""
        self._watched.append(world)
        self.clock.read()

    def poll(self) -> None:
        for world in self._watched:
            self.timeline.poll(world.client("ecs"), world.cluster, world.service_name, self.clock.now())

    @property
    def terraform_endpoint(self) -> str | None:
        """Where Terraform's provider goes: the endpoint every client of the process was
        pointed at (a LocalStack, a dry run's server), or None: real AWS."""
        return (os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/") or None

    def in_process(self, session: Any) -> None:
        pass  # nothing to short-cut: the endpoint is another process or AWS

    def check(self) -> None:
        pass

    def push(self, ecr: Any, repository: str, images: Mapping[str, ImageBehaviour]) -> dict[str, str]:
        """Build and push ``tag -> behaviour`` to ``repository`` (the run's `BuiltImages`)."""
        uri = ecr.describe_repositories(repositoryNames=[repository])["repositories"][0]["repositoryUri"]
        return self.real.push_images(ecr, uri, images)


def declared_variables(config: Path) -> set[str]:
    """The variables a configuration declares (``variable "x"`` in its *.tf files):
    Terraform refuses a ``-var`` for any other."""
    return {name for tf in Path(config).glob("*.tf") for name in re.findall(r'^variable\s+"([^"]+)"', tf.read_text(), re.M)}


def calls_base_module(config: Path) -> bool:
    return any(re.search(r'^module\s+"base"', tf.read_text(), re.M) for tf in Path(config).glob("*.tf"))


def wait_steady(world: Any, limit: float = REAL_SETTLE) -> None:
    """Wait on the world's clock until its service is steady (one deployment, completed,
    every task running); TimeoutError with what ECS says past ``limit``."""
    started = world.clock.now()
    while not (service := Service(world.service())).is_steady:
        if world.clock.now() - started >= limit:
            raise TimeoutError(f"{world.name}: service {world.service_name} not steady after {limit:g} s: "
                               f"{service.running_count} of {service.desired_count} tasks running; ECS says: "
                               + "; ".join(e["message"] for e in service.raw.get("events", [])[:3]))
        world.clock.sleep(STEADY_POLL)


def apply_on_wall_clock(world: Any, terraform: Any, configuration: Mapping[str, Any], images: Mapping[str, ImageBehaviour]) -> None:
    """Apply ``world.entry``'s configuration where ``world.server`` (a `WallClockPlace`)
    runs, with its images pushed between the base and the rest; sets the world's
    workspaces, outputs and digests."""
    from harness.backends.aws_run import terraform_tags
    from harness.worlds.images import digests_by_tag, point_tag

    place, cls = world.server, world.entry.cls()
    config, name = Path(cls.terraform_config()), world.resource_name
    declared = declared_variables(config)
    shared = {"region": place.real.region, "public_network": True}  # the central config (4b) takes these too
    # real auto scaling would scale an idle test app in mid-scenario: its policy is suspended there
    wall_clock_only = {**shared, "scaling_suspended": True}
    variables = {key: value for key, value in {**cls.terraform_variables(name, **configuration), **wall_clock_only}.items()
                 if key in declared}
    world.workspaces = terraform.workspaces_for(config, place.terraform_endpoint, variables, root=cls.terraform_root(),
                                                name=name, tags=terraform_tags(place.real.run.id), shared=shared)
    workspace = world.workspace
    if calls_base_module(config):  # the repository first: the service's first tasks pull from it
        workspace.targets = ("module.base",)
        try:
            workspace.apply()
        finally:
            workspace.targets = ()
    ecr = world.client("ecr")
    repository = name  # every configuration names its repository after var.name (terraform/base)
    place.push(ecr, repository, images)
    for tag in BOOTSTRAP_TAGS:
        if tag not in images:
            point_tag(ecr, repository, tag, at="v1")
    workspace.apply()
    world.outputs = cls.named_outputs(workspace.outputs())
    world.digests = digests_by_tag(ecr, str(world.outputs["repository_name"]))
    running = world.running_image().rsplit(":", 1)[-1]
    if running not in world.digests:
        raise AssertionError(f"{world.name}: the service's first task definition names tag {running!r}, which the "
                             f"world did not push (it points {', '.join(BOOTSTRAP_TAGS)} at v1): add it to BOOTSTRAP_TAGS")


def faulty_behaviour(behaviour: Mapping[str, Any]) -> ImageBehaviour:
    return ImageBehaviour.from_dict(dict(behaviour)) if behaviour else HEALTHY
