"""One-off tasks from the rendered revision: migrations before a deploy, a job.

`run_task()` starts one task of a revision (RunTask, with the service's network
configuration and launch settings unless given, a command and environment as
overrides), waits until it stops, and returns how it ended. RunTask starts
something each time it is asked: the request carries a `clientToken`, so
asking again after a lost reply (which the Retrier does) is answered with the
same task instead of a second one.

What it says about the task (progress, the journal's `done:` line,
`describe_job`) shows the command with what looks secret masked (`--password
***`, `postgres://app:***@db/app`; `secrets.mask`) and names the `--env`
variables without their values: the override RunTask gets carries them as
given, the output never does. Where something was masked, the progress event
lists it (`masked`: [{path, why}], paths like `--command[2]`) and a warning says
it once.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .clock import Clock
from .errors import AwsError, BadInputError, DeployToolError, aws_call
from .events import ProgressEvent, Sink, discard
from .resources import short
from .retry import Retrier
from .secrets import Masked, mask, note
from .standing import Journal
from .views import Service, StoppedTask, TaskDefinition

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_ecs.type_defs import ContainerOverrideTypeDef, TaskOverrideTypeDef, TaskTypeDef

STARTED_BY = "ecs-template-deploy"


@dataclass(frozen=True)
class OneOff:
    """What to run: a revision, in a cluster, with the service's settings."""

    cluster: str
    task_definition: TaskDefinition
    container: str  # the one whose command and environment are overridden, and whose exit code counts
    command: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = ()
    network: dict[str, Any] | None = None  # RunTask's launch settings: networkConfiguration, launchType, ...


@dataclass
class TaskEnd:
    task_arn: str
    exit_code: int | None  # None: the container never ran to an exit
    stop_code: str
    reason: str
    started_at: float
    ended_at: float | None  # None: still running at the deadline

    @property
    def succeeded(self) -> bool:
        return self.exit_code == 0

    @property
    def cluster(self) -> str:
        """The cluster, from the task's ARN (arn:...:task/CLUSTER/ID)."""
        parts = self.task_arn.split(":", 5)[-1].split("/")
        return parts[1] if len(parts) == 3 else "CLUSTER"

    @property
    def still_running(self) -> bool:
        return self.ended_at is None

    def describe(self) -> str:
        task = self.task_arn.rsplit("/", 1)[-1]
        if self.ended_at is None:
            return (f"task {task} is still running at --timeout; it is left running (stopping a one-off half-way, a "
                    f"migration say, is worse than waiting for it): the same command again follows it to its end; to "
                    f"stop it instead: aws ecs stop-task --cluster {self.cluster} --task {task}")
        if self.exit_code is None:
            return f"task {task} stopped without running to an exit: {self.reason or self.stop_code}"
        return f"task {task} exited {self.exit_code}"


def launch_settings(service: Service) -> dict[str, Any]:
    """What RunTask needs to place a task where the service's tasks run."""
    raw = service.raw
    settings: dict[str, Any] = {}
    for key in ("networkConfiguration", "platformVersion"):
        if raw.get(key):
            settings[key] = raw[key]
    if raw.get("capacityProviderStrategy"):
        settings["capacityProviderStrategy"] = raw["capacityProviderStrategy"]
    elif raw.get("launchType"):
        settings["launchType"] = raw["launchType"]
    return settings


def pick_container(task_definition: TaskDefinition, name: str | None, option: str = "--container") -> str:
    names: list[str] = [c["name"] for c in task_definition.container_definitions]
    if name is None:
        essential: list[str] = [c["name"] for c in task_definition.container_definitions if c.get("essential", True)]
        if len(essential) != 1:
            raise BadInputError(f"{task_definition.name} has {len(essential)} essential containers ({', '.join(essential)}): "
                                f"name the one to run with {option}")
        return essential[0]
    if name not in names:
        raise BadInputError(f"{option} {name!r} is not a container of {task_definition.name}: use one of {', '.join(names)}")
    return name


def shown_command(job: OneOff) -> tuple[str, list[Masked]]:
    """The command (and the names of the --env variables) as output may show them, and what was masked."""
    command, masked = mask(list(job.command), "--command", "command")
    text = " ".join(command)
    if job.environment:
        text += f" (env {', '.join(name for name, _ in job.environment)})"
    return text.strip(), masked


def run_task(ecs: ECSClient, job: OneOff, *, clock: Clock, timeout: float, poll_interval: float, sink: Sink = discard,
             journal: Journal | None = None) -> TaskEnd:
    """Start the task, watch it until it stops or `timeout` passes."""
    journal = journal if journal is not None else Journal()
    retry = Retrier(clock, sink)
    override: ContainerOverrideTypeDef = {"name": job.container}
    if job.command:
        override["command"] = list(job.command)
    if job.environment:
        override["environment"] = [{"name": k, "value": v} for k, v in job.environment]
    overrides: TaskOverrideTypeDef = {"containerOverrides": [override]}
    token = uuid.uuid4().hex  # the same for every attempt of this run: one task, however often asked
    started = clock.now()
    deadline = started + timeout

    def start() -> str:
        with aws_call("ecs:RunTask"):
            answer = ecs.run_task(cluster=job.cluster, taskDefinition=job.task_definition.arn, count=1,
                                  startedBy=STARTED_BY, clientToken=token,
                                  overrides=overrides, **(job.network or {}))
        if not answer.get("tasks"):
            failure = (answer.get("failures") or [{}])[0]
            raise AwsError(f"ecs:RunTask started no task: {failure.get('reason', 'no reason given')} "
                           f"{failure.get('detail', '')}".strip(), action="ecs:RunTask")
        started: str = answer["tasks"][0]["taskArn"]
        return started

    command, masked = shown_command(job)
    twin = retry.call(lambda: running_twin(ecs, job, override), until=min(deadline, started + 300),
                      what="looking for the same task still running")
    if twin:
        # A run stopped while its task ran left it running: finish that run's job, never
        # run the same migration twice at once.
        sink(ProgressEvent("action", clock.now(), f"task {twin.rsplit('/', 1)[-1]} of {job.task_definition.name}, the "
                           "same command started by an earlier run, is still running: following it instead of "
                           "starting another", {"task": twin}))
        journal.did(f"followed task {twin.rsplit('/', 1)[-1]} of {job.task_definition.name}, still running from an "
                    "earlier run")
        return _follow(ecs, job, twin, clock=clock, deadline=deadline, poll_interval=poll_interval, sink=sink,
                       started=started)
    arn = retry.call(start, until=min(deadline, started + 300), what=f"starting a task of {job.task_definition.name}")
    if masked:
        journal.warn(note(masked))
    journal.did(f"ran task {arn.rsplit('/', 1)[-1]} of {job.task_definition.name}" + (f" ({command})" if command else ""))
    data: dict[str, Any] = {"task": arn}
    if masked:
        data["masked"] = [m.to_dict() for m in masked]
    sink(ProgressEvent("action", clock.now(), f"started task {arn.rsplit('/', 1)[-1]} of {job.task_definition.name}"
                       + (f": {command}" if command else ""), data))
    return _follow(ecs, job, arn, clock=clock, deadline=deadline, poll_interval=poll_interval, sink=sink,
                   started=started)


def running_twin(ecs: ECSClient, job: OneOff, override: ContainerOverrideTypeDef) -> str:
    """A task this tool started of the same revision with the same container override
    (command, environment) that has not stopped: what a run stopped mid-way left
    running. "" if none."""
    arns: list[str] = []
    with aws_call("ecs:ListTasks"):
        for page in ecs.get_paginator("list_tasks").paginate(cluster=job.cluster, startedBy=STARTED_BY,
                                                             desiredStatus="RUNNING"):
            arns.extend(page.get("taskArns", []))
    for start in range(0, len(arns), 100):
        with aws_call("ecs:DescribeTasks"):
            tasks = ecs.describe_tasks(cluster=job.cluster, tasks=arns[start:start + 100]).get("tasks") or []
        for task in tasks:
            overrides = (task.get("overrides") or {}).get("containerOverrides") or []
            same = [o for o in overrides if o.get("name") == job.container]
            if task.get("taskDefinitionArn") == job.task_definition.arn and same and \
                    same[0].get("command") == override.get("command") and \
                    (same[0].get("environment") or None) == override.get("environment"):
                running: str = task["taskArn"]
                return running
    return ""


def _follow(ecs: ECSClient, job: OneOff, arn: str, *, clock: Clock, deadline: float, poll_interval: float, sink: Sink,
            started: float) -> TaskEnd:
    """Watch task `arn` until it stops or `deadline` passes."""
    last = ""
    while True:
        try:
            with aws_call("ecs:DescribeTasks"):
                tasks = ecs.describe_tasks(cluster=job.cluster, tasks=[arn]).get("tasks") or []
        except DeployToolError as err:  # the task runs regardless: keep asking until the deadline
            if clock.now() >= deadline:
                raise
            sink(ProgressEvent("warning", clock.now(), f"cannot read task {arn.rsplit('/', 1)[-1]} ({err}); asking again"))
            clock.sleep(poll_interval)
            continue
        raw: TaskTypeDef = tasks[0] if tasks else {"taskArn": arn, "lastStatus": "PENDING"}
        status = raw.get("lastStatus", "")
        if status != last:
            last = status
            sink(ProgressEvent("rollout", clock.now(), f"task {arn.rsplit('/', 1)[-1]}: {status}", {"task": arn, "status": status}))
        if status == "STOPPED":
            task = StoppedTask(raw)
            container = next((c for c in task.containers if c.get("name") == job.container), {})
            code = container.get("exitCode")
            return TaskEnd(arn, code, task.stop_code, task.stopped_reason, started, clock.now())
        if clock.now() >= deadline:
            return TaskEnd(arn, None, "", "", started, None)
        clock.sleep(min(poll_interval, max(deadline - clock.now(), 0.0)) or poll_interval)


def describe_job(job: OneOff) -> str:
    command, _ = shown_command(job)
    return f"{short(job.task_definition.arn)}" + (f" ({command})" if command else "")
