"""What every approach's CD procedure is handed, and the steps they share.

``Context`` carries the clients, the clock and the names of what Terraform
created; a scenario builds it (clients from the backend's session, the API-call
recorder attached to that session first). ``Step`` is what a CD step returns:
the revision and image it put in place and the watcher's outcome.

Every approach watches its rollouts with the deploy tool's ``RolloutWatcher``
(same polling, same evidence, same failure threshold), so differences in the
measured rollback come from the approach, not from how failure is detected.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from ecs_template_deploy.render import registrable_fields
from ecs_template_deploy.clock import Clock
from ecs_template_deploy.views import Service, TaskDefinition
from ecs_template_deploy.watch import Outcome, RolloutWatcher, WaitOptions

from harness.approaches import ApproachError, Facts

if TYPE_CHECKING:  # described imports this module
    from harness.approaches.described import CommandOutcome


# What a build may have pushed (Docker's classic store: a v2 manifest; its containerd store:
# an OCI index): asked for as it is, ECR hands it back unconverted and a retag keeps its digest.
ACCEPTED_MEDIA_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)


def container_image(ecs: Any, task_definition: str, container: str) -> str:
    """The image ``container`` runs in ``task_definition`` (an ARN or family[:revision])."""
    images = TaskDefinition(ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]).images
    if container not in images:
        raise ApproachError(f"container {container!r} not in {task_definition}; it has {sorted(images)}")
    return images[container]


@dataclass
class Context:
    """Everything a CD procedure needs; nothing is looked up globally.

    ``client(name)`` builds a boto3 client (the scenario's session, with the
    API-call recorder already attached). ``outputs`` are the Terraform outputs
    of the approach's configuration (cluster, service, repository...), or the
    equivalent names when a test builds the infrastructure with boto3.
    ``terraform`` is the approach's Terraform workspace (``apply(**vars)``,
    ``plan()``), absent when no Terraform runs.
    """

    client: Callable[[str], Any]
    now: Callable[[], float]
    sleep: Callable[[float], None]
    # The world's own dict: a stand-in's Terraform updates it, as an apply changes `terraform output`
    outputs: dict[str, Any]
    terraform: Any = None
    terraform_variables: dict[str, Any] = field(default_factory=dict)
    environment: str = "prod"
    poll_interval: float = 5.0
    timeout: float = 1800.0
    # What a CD that can bake is asked to do after a deployment completed: keep
    # watching this long, failing on these CloudWatch alarms (the deploy tool's
    # --bake/--alarm; the article's CD scripts stop at steady state).
    bake: float = 0.0
    alarms: tuple[str, ...] = ()
    # The emulator's endpoint, for CD that runs in another process (a described
    # approach's command); None where CD runs in-process only.
    endpoint_url: str | None = None

    @classmethod
    def on(cls, aws: Any, outputs: dict[str, Any], recorder: Any = None, **settings: Any) -> "Context":
        """A context on a backend (``aws.client``, ``aws.clock``), one client per
        service, each attached to ``recorder`` (an ``ApiCallRecorder``) if given."""
        clients: dict[str, Any] = {}

        def client(name: str) -> Any:
            if name not in clients:
                clients[name] = aws.client(name)
                if recorder is not None:
                    recorder.attach(clients[name])
            return clients[name]

        return cls(client=client, now=aws.clock.now, sleep=aws.clock.sleep, outputs=outputs, **settings)

    def output(self, name: str) -> Any:
        try:
            return self.outputs[name]
        except KeyError:
            raise ApproachError(f"the approach needs the Terraform output {name!r}; outputs: {sorted(self.outputs)}") from None

    @property
    def cluster(self) -> str:
        return str(self.output("cluster_name"))

    @property
    def service(self) -> str:
        return str(self.output("service_name"))

    @property
    def container(self) -> str:
        return str(self.outputs.get("container_name", "app"))


@dataclass(frozen=True)
class Step:
    """One CD step (deploy or rollback): what it put in place and how the rollout ended."""

    task_definition: str  # the revision the service runs (or was told to run)
    image: str  # the image reference CD deployed (a tag, a digest or a moving tag)
    outcome: Outcome | CommandOutcome | None = None  # the watcher's; a described approach's command's

    @property
    def succeeded(self) -> bool:
        return self.outcome is not None and self.outcome.succeeded


def make_watcher(ecs: Any, context: Context, *, bakes: bool = False) -> RolloutWatcher:
    """The deploy tool's watcher on the scenario's clock, with the context's waiting
    options; ``bakes``: with its bake and alarms too (a CD that can use them)."""
    options = WaitOptions(poll_interval=context.poll_interval, timeout=context.timeout)
    if bakes:
        options = replace(options, bake=context.bake, alarms=tuple(context.alarms))
    return RolloutWatcher(ecs, clock=Clock(context.now, context.sleep), options=options,
                          cloudwatch=context.client("cloudwatch") if bakes and context.alarms else None)


class EcsCd:
    """CD steps shared by the approaches that call ECS themselves."""

    # Seconds a deploy keeps watching after its rollout completed, before CD counts it as
    # known good: 0 for the CDs the article sketches (steady state is the end);
    # ``CapableCd`` sets the context's bake (and its watcher the alarms).
    bake_seconds = 0.0

    def __init__(self, context: Context) -> None:
        self.context = context
        self.ecs = context.client("ecs")
        self.watcher = make_watcher(self.ecs, context)

    def proven(self, outcome: Outcome) -> Outcome:
        """A deploy's rollout that completed, baked first where CD bakes: what CD may then count
        as known good. A bake that sees an alarm (or a failure) fails the deploy."""
        if not outcome.succeeded or self.bake_seconds <= 0:
            return outcome
        return self.watcher.bake(self.context.cluster, self.context.service, outcome, self.bake_seconds)

    def current_task_definition(self) -> str:
        service = self.ecs.describe_services(cluster=self.context.cluster, services=[self.context.service])["services"][0]
        return service["taskDefinition"]

    def register_with_image(self, base: str, image: str, family: str | None = None) -> str:
        """Register a revision copying ``base`` (an ARN or family[:revision]),
        with ``image`` in the approach's container; returns its ARN."""
        described = self.ecs.describe_task_definition(taskDefinition=base)["taskDefinition"]
        fields = registrable_fields(self.ecs)
        definition = {k: v for k, v in described.items() if k in fields}
        containers = definition["containerDefinitions"]
        names = [c["name"] for c in containers]
        if self.context.container not in names:
            raise ApproachError(f"container {self.context.container!r} not in {base}; it has {names}")
        for container in containers:
            if container["name"] == self.context.container:
                container["image"] = image
        if family is not None:
            definition["family"] = family
        return self.ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]

    def update_and_watch(self, task_definition: str | None = None, force: bool = False, *, proving: bool = False) -> Outcome:
        """UpdateService (to ``task_definition``, or forcing a new deployment), then watch it;
        ``proving``: a deploy, baked where CD bakes (``proven``) before it counts as known good."""
        since = self.context.now()
        kwargs: dict[str, Any] = {"cluster": self.context.cluster, "service": self.context.service}
        if task_definition is not None:
            kwargs["taskDefinition"] = task_definition
        if force:
            kwargs["forceNewDeployment"] = True
        primary = Service(self.ecs.update_service(**kwargs)["service"]).primary
        assert primary is not None, "UpdateService answered without a PRIMARY deployment"
        outcome = self.watcher.watch(self.context.cluster, self.context.service, deployment_id=primary.id, since=since)
        return self.proven(outcome) if proving else outcome


class RevisionCd(EcsCd):
    """CD that deploys by registering a revision and rolls back by updating the
    service to the last revision that rolled out (approaches 2 and 3)."""

    # What the approaches whose CD this is share: CD moves the service's task definition,
    # so their Terraform must ignore it; and how CD, or a person, returns to known good.
    # An approach adds its own notes: ``dataclasses.replace(RevisionCd.FACTS, notes=...)``.
    FACTS = Facts(
        ignores=("aws_ecs_service.app: task_definition",),
        rolls_back="updates the service to the revision that ran before",
        manual_rollback=("find the last revision that ran well", "update the service to it"),
    )

    # ECS's own rollback returns to the last revision that completed: the one CD would return to
    follows_ecs_rollback = True

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.known_good: str | None = None

    def deploy_image(self, image: str, register: Callable[[str], str]) -> Step:
        """Register a revision for ``image`` (``register(image) -> ARN``), roll it
        out and remember what to come back to."""
        running = self.current_task_definition()
        revision = register(image)
        outcome = self.update_and_watch(revision, proving=True)
        if outcome.succeeded:
            self.known_good = revision
        elif self.known_good is None:
            self.known_good = running
        return Step(revision, image, outcome)

    def rollback(self) -> Step:
        if self.known_good is None:
            raise ApproachError("nothing to roll back to: no deploy has run yet")
        image = container_image(self.ecs, self.known_good, self.context.container)
        return Step(self.known_good, image, self.update_and_watch(self.known_good))

def terraform_container(shared: Any, image: str) -> dict[str, Any]:
    """The app container as the approaches' configurations that own the task definition
    declare it (port, environment, secret), with ``image``: their stand-ins' (``shared``:
    ``harness.worlds.stand_in.Shared``)."""
    return {
        "name": shared.container_name, "image": image, "essential": True,
        "portMappings": [{"containerPort": 8080, "hostPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "APP_ENV", "value": shared.environment}],
        "secrets": [{"name": "APP_SECRET", "valueFrom": shared.secret_arn}],
    }


# InfraChange.setting -> (Terraform variable, how the change's value combines with the current one)
TERRAFORM_VARIABLES: dict[str, tuple[str, Callable[[Any, Any], Any]]] = {
    "cpu": ("cpu", lambda current, value: value),
    "memory": ("memory", lambda current, value: value),
    "environment": ("extra_environment", lambda current, value: {**(current or {}), **value}),
    "secrets": ("extra_secrets", lambda current, value: {**(current or {}), **value}),
}


def replace_revision(ecs: Any, task_definition: str, container_name: str, setting: str, value: Any) -> str:
    """What `terraform apply` of an infrastructure change does to an
    ``aws_ecs_task_definition``, done with boto3 (the stand-ins' Terraform):
    register a revision of ``task_definition`` with the changed setting and
    deregister the old one, as Terraform replaces the resource. ``setting`` and
    ``value`` are an ``InfraChange``'s. Returns the new revision's ARN."""
    described = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    definition = {k: v for k, v in described.items() if k in registrable_fields(ecs)}
    containers = [c for c in definition["containerDefinitions"] if c["name"] == container_name]
    if not containers:
        raise ApproachError(f"container {container_name!r} not in {task_definition}: "
                            f"it has {[c['name'] for c in definition['containerDefinitions']]}")
    container = containers[0]
    if setting in ("cpu", "memory"):
        definition[setting] = str(value)
    elif setting in ("environment", "secrets"):
        key = "value" if setting == "environment" else "valueFrom"
        merged = {e["name"]: e[key] for e in container.get(setting, [])} | dict(value)
        container[setting] = [{"name": k, key: v} for k, v in merged.items()]
    else:
        raise ApproachError(f"unknown infrastructure change {setting!r}; use cpu, memory, environment or secrets")
    arn = ecs.register_task_definition(**definition)["taskDefinition"]["taskDefinitionArn"]
    ecs.deregister_task_definition(taskDefinition=described["taskDefinitionArn"])
    return arn


def apply_through_terraform(context: Context, changes: Sequence[Any], variables: Mapping[str, str] | None = None) -> float:
    """The infra team's commit: edit the configuration's variable for each
    change's setting (``variables[setting]``, default the approaches' own name
    for it; kept, as a commit to the infra repo would be) and run one
    `terraform apply`. ``changes``: ``InfraChange``s. Returns Terraform's wall seconds."""
    workspace = context.terraform
    if workspace is None:
        raise ApproachError("an infrastructure change runs Terraform: give the context the approach's workspace")
    for change in changes:
        default, combine = TERRAFORM_VARIABLES[change.setting]
        variable = (variables or {}).get(change.setting, default)
        workspace.variables[variable] = combine(workspace.variables.get(variable), change.value)
    workspace.apply()
    return workspace.timings.last("apply")
