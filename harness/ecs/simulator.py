"""The simulated ECS service scheduler: one object that owns services,
deployments and tasks, advanced by a clock. The API layer (`api.py`) reads and
changes it; scenarios use it to declare image behaviour and drive load.

Over 400 lines on purpose: each transition here (a deployment opened, rolled
back or stopped, a task started or failed) changes services, tasks and service
deployment records together, and one object holding them is what keeps them
consistent. The rooms that *decide* are apart: `scheduler` (rolling updates and
the circuit breaker), `strategies` (blue/green, linear, canary), `scaling`, each
written against the narrow `cluster.Cluster` this object offers; the request
checks are in `backend`, moto's state behind `moto_state`.
"""
from __future__ import annotations

import random
import uuid
from typing import Any

from moto.ecs.models import Service as MotoService

from harness.clock import VirtualClock
from harness.ecs import alarms, loadbalancers, placement
from harness.ecs import deployments as records
from harness.ecs import scheduler, strategies
from harness.ecs.exceptions import ConflictException, InvalidParameterException, ServiceDeploymentNotFoundException
from harness.ecs.images import ImageBehaviour, ImagePullError, Images
from harness.ecs.moto_state import MotoState, account_region
from harness.ecs.params import Params
from harness.ecs.scaling import Scaling
from harness.ecs.services import ACTIVE, COMPLETED, FAILED, IN_PROGRESS, PRIMARY, SimulatedDeployment, SimulatedService, ts
from harness.ecs.tasks import REASON_CONTAINER_HEALTH, SERVICE_SCHEDULER_INITIATED, USER_INITIATED, Container, Task, TaskRunner, reason_scaling
from harness.ecs.timeline import Timeline


class Simulator:
    def __init__(self, clock: VirtualClock | None = None, seed: int = 0, params: Params | None = None,
                 moto: MotoState | None = None):
        self.clock = clock or VirtualClock()
        self.params = params or Params()
        self.moto = moto or MotoState()
        self.seed = seed
        self.rng = random.Random(seed)
        self.images = Images(self.moto)
        self.runner = TaskRunner(self.clock, self.params, self.images, self._task_failed, self._task_stopped,
                                 self._task_healthy, self._task_running,
                                 target_group_timing=lambda arn: loadbalancers.timing(self.moto, arn))
        self.services: dict[str, SimulatedService] = {}
        self.tasks: dict[str, Task] = {}
        self.service_deployments: dict[str, records.SimulatedServiceDeployment] = {}
        self.revisions: dict[str, records.ServiceRevision] = {}
        self.hooks: dict[str, dict[str, list[str]]] = {}  # Lambda hook ARN -> stage -> its answers, in order
        self.run_tokens: dict[str, list[str]] = {}  # RunTask clientToken -> the tasks it started
        self.create_tokens: dict[str, str] = {}  # CreateService clientToken -> the service it created
        self.timeline = Timeline()
        self.scaling = Scaling(self)
        self.errors: list[BaseException] = []   # unexpected errors in API handlers (server threads)
        self._tick_timer = self.clock.call_later(self.params.scheduler_interval, self._tick)

    def retime(self, params: Params) -> None:
        """From now on, time what happens by ``params`` (a timing profile's): what is already on
        the clock (a pull under way, a scheduled pass) keeps the time it was given."""
        self.params = self.runner.params = params

    # -- time ------------------------------------------------------------
    def sync(self) -> None:
        """Bring the simulation up to the clock's present (scaled clocks move on their own)."""
        catch_up = getattr(self.clock, "catch_up", None)
        if catch_up:
            catch_up()

    def step(self, seconds: float) -> None:
        self.clock.sleep(seconds)

    def _tick(self) -> None:
        for service in list(self.services.values()):
            scheduler.run_pass(self, service)
            self.timeline.sample(self.clock.now(), service)
        self._tick_timer = self.clock.call_later(self.params.scheduler_interval, self._tick)

    def close(self) -> None:
        self._tick_timer.cancel()
        for task in self.tasks.values():
            task.cancel_timers()

    # -- identifiers (all from the seeded generator) ------------------------
    def _deployment_id(self) -> str:
        return f"ecs-svc/{self.rng.randrange(10**18, 10**19)}"

    def _task_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _record_arn(self, kind: str, service: SimulatedService, suffix: str) -> str:
        """`arn:aws:ecs:R:A:service-deployment/CLUSTER/SERVICE/ID` (or service-revision)."""
        region, account = service.arn.split(":")[3], service.arn.split(":")[4]
        cluster = service.cluster_arn.rsplit("/", 1)[-1]
        return f"arn:aws:ecs:{region}:{account}:{kind}/{cluster}/{service.name}/{suffix}"

    def _service_deployment_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        chars = "".join(self.rng.choice(alphabet) for _ in range(19))
        return f"{chars[:8]}-{chars[8:]}"

    def event(self, service: SimulatedService, message: str) -> None:
        ev = {"id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)), "createdAt": ts(self.clock.now()), "message": message}
        service.events.insert(0, ev)
        del service.events[self.params.max_events * 10 :]
        self.timeline.event(self.clock.now(), service.name, message)

    # -- scenario controls --------------------------------------------------
    def declare_image(self, image_or_digest: str, behaviour: ImageBehaviour | dict | None = None, **fields: Any) -> None:
        """e.g. `sim.declare_image("app:bad", crash_after=20)`."""
        self.images.declare(image_or_digest, behaviour if behaviour is not None else ImageBehaviour.from_dict(fields))

    def declare_command(self, command: list[str] | str, behaviour: ImageBehaviour | dict | None = None,
                        **fields: Any) -> None:
        """e.g. `sim.declare_command(["bin/migrate"], exit_code=0, exit_after=20)`."""
        self.images.declare_command(command, behaviour if behaviour is not None else ImageBehaviour.from_dict(fields))

    def declare_hook(self, target_arn: str, answers: dict[str, str | list[str]]) -> None:
        """What a Lambda lifecycle hook answers at each stage, e.g.
        `{"POST_TEST_TRAFFIC_SHIFT": "FAILED"}` or `{"POST_SCALE_UP": ["IN_PROGRESS", "SUCCEEDED"]}`
        (successive calls; the last answer repeats). Undeclared: SUCCEEDED."""
        checked: dict[str, list[str]] = {}
        if not isinstance(target_arn, str) or not isinstance(answers, dict):
            raise ValueError("a hook is declared by its Lambda ARN (a string) and {STAGE: answer or [answers]}")
        for stage, answer in answers.items():
            if not isinstance(answer, (str, list)):
                raise ValueError(f"the answer at {stage} is {answer!r}: give one of {', '.join(strategies.HOOK_ANSWERS)} "
                                 "or a list of them")
            if stage not in strategies.HOOK_STAGES:
                raise ValueError(f"{stage!r} is not a lifecycle hook stage; hook stages: {', '.join(strategies.HOOK_STAGES)}")
            sequence = [answer] if isinstance(answer, str) else list(answer)
            bad = [a for a in sequence if a not in strategies.HOOK_ANSWERS]
            if bad or not sequence:
                raise ValueError(f"a hook answers {', '.join(strategies.HOOK_ANSWERS)}, not {bad or sequence}")
            checked[stage] = sequence
        self.hooks[target_arn] = checked

    def hook_answer(self, target_arn: str, stage: str, call: int) -> str:
        answers = self.hooks.get(target_arn, {}).get(stage) or ["SUCCEEDED"]
        return answers[min(call, len(answers) - 1)]

    def hook_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def service(self, name_or_arn: str) -> SimulatedService:
        for service in self.services.values():
            if name_or_arn in (service.arn, service.name):
                return service
        raise KeyError(f"no simulated service {name_or_arn!r}; known: {sorted(s.name for s in self.services.values())}")

    def set_desired_count(self, service: SimulatedService, count: int, source: str = "user") -> None:
        """Resize PRIMARY. From autoscaling, scale-in waits while a deployment runs."""
        if count < 0:
            raise ValueError(f"desired count {count} must be >= 0")
        if source == "autoscaling" and count < service.desired_count and service.primary.rollout_state == IN_PROGRESS:
            service.deferred_scale_in = count
            return
        if count != service.desired_count:
            service.desired_count = count
            service.steady = False
            shadow = self.shadow(service)
            if shadow is not None:
                shadow.desired_count = count

    def shadow(self, service: SimulatedService) -> MotoService | None:
        """moto's record of ``service`` (its tags, what Application Auto Scaling reads), or None."""
        return self.moto.service_shadow(service.arn)

    # -- services -------------------------------------------------------------
    def create_service(self, arn: str, name: str, cluster_arn: str, desired: int, task_definition_arn: str,
                       deployment_configuration: dict, spec: dict, volume_configurations: list | None = None) -> SimulatedService:
        now = self.clock.now()
        service = SimulatedService(arn=arn, name=name, cluster_arn=cluster_arn, desired_count=desired,
                          task_definition_arn=task_definition_arn, created_at=now,
                          deployment_configuration=deployment_configuration, spec=spec)
        service.volume_configurations = volume_configurations
        self.services[arn] = service
        self._new_deployment(service, task_definition_arn)
        return service

    def update_service(self, service: SimulatedService, task_definition_arn: str | None, desired: int | None,
                       force: bool, deployment_configuration: dict | None, spec_changes: dict,
                       shaping_change: bool, volume_configurations: list | None = None) -> None:
        if deployment_configuration is not None:
            service.deployment_configuration = deployment_configuration
        if volume_configurations is not None:
            service.volume_configurations = volume_configurations or None
        service.spec.update(spec_changes)
        if desired is not None:
            self.set_desired_count(service, desired)
        new_td = task_definition_arn is not None and task_definition_arn != service.task_definition_arn
        if new_td and task_definition_arn is not None:  # new_td says so; said again for the type checker
            service.task_definition_arn = task_definition_arn
        if new_td or force or shaping_change:
            self._new_deployment(service, service.task_definition_arn)

    def delete_service(self, service: SimulatedService) -> None:
        service.status = "DRAINING"
        service.desired_count = 0
        for task in service.tasks():
            self.runner.stop(task, SERVICE_SCHEDULER_INITIATED, reason_scaling(service.primary.id))
        self.clock.call_later(self.params.scheduler_interval, lambda: self._maybe_inactive(service))

    def _maybe_inactive(self, service: SimulatedService) -> None:
        if any(t.alive for t in service.tasks()):
            self.clock.call_later(self.params.scheduler_interval, lambda: self._maybe_inactive(service))
            return
        service.status = "INACTIVE"   # still described (as ECS does for a while), never scheduled

    def _task_definition(self, arn: str):
        return self.moto.task_definition(arn)

    def _new_deployment(self, service: SimulatedService, task_definition_arn: str, digests=None, pull_errors=None,
                        reason: str | None = None, rollback_of: SimulatedDeployment | None = None,
                        revision: records.ServiceRevision | None = None) -> SimulatedDeployment:
        now = self.clock.now()
        if digests is None:
            digests, pull_errors = {}, {}
            for c in self._task_definition(task_definition_arn).container_definitions:
                if c.get("versionConsistency") == "disabled":
                    digests[c["name"]] = None
                    continue
                try:
                    digests[c["name"]] = self.images.resolve(c["image"])
                except ImagePullError as err:
                    digests[c["name"]] = None
                    pull_errors[c["name"]] = str(err)
        dep_id = self._deployment_id()
        deployment = SimulatedDeployment(
            id=dep_id, service_arn=service.arn, task_definition_arn=task_definition_arn, created_at=now, updated_at=now,
            digests=digests, pull_errors=pull_errors or {}, desired_count=service.desired_count,
            rollout_state_reason=reason or f"ECS deployment {dep_id} in progress.",
            launch_type=service.spec.get("launchType"), platform_version=service.spec.get("platformVersion"),
            network_configuration=service.spec.get("networkConfiguration"),
            volume_configurations=service.volume_configurations,
        )
        for previous in service.deployments:
            if previous.status == PRIMARY:
                # superseded: ECS leaves an unfinished one IN_PROGRESS and drains it
                previous.status = ACTIVE
                previous.updated_at = now
        service.deployments.insert(0, deployment)
        service.history.append(deployment)
        service.steady = False
        if rollback_of is None:
            self._open_service_deployment(service, deployment)
            strategies.begin(self, service, deployment)
        else:  # a rollback: no new revision, and it belongs to the service deployment it undoes
            deployment.revision = revision
            deployment.service_deployment = rollback_of.service_deployment
            if rollback_of.service_deployment is not None:
                rollback_of.service_deployment.rollback_deployment = deployment
        return deployment

    # -- service revisions and service deployments ----------------------------
    def _open_service_deployment(self, service: SimulatedService, deployment: SimulatedDeployment) -> None:
        """A deployment-starting Create/UpdateService: a new revision, a new service
        deployment; one still ongoing is superseded (STOPPED: modelled)."""
        now = self.clock.now()
        td = self._task_definition(deployment.task_definition_arn)
        images = [{"containerName": c["name"], "image": c["image"],
                   **({"imageDigest": deployment.digests[c["name"]]} if deployment.digests.get(c["name"]) else {})}
                  for c in td.container_definitions]
        revision = records.ServiceRevision(self._record_arn("service-revision", service, str(self.rng.randrange(10**18, 10**19))),
                                           service.arn, service.cluster_arn, deployment.task_definition_arn, now, images,
                                           dict(service.spec))
        self.revisions[revision.arn] = revision
        deployment.revision = revision
        sources = list(dict.fromkeys(d.revision for d in service.deployments[1:] if d.revision is not None))
        threshold = scheduler.breaker_threshold(service)
        breaker, watched = records.monitors(service.deployment_configuration, threshold)
        record = records.SimulatedServiceDeployment(
            self._record_arn("service-deployment", service, self._service_deployment_id()), service.arn,
            service.cluster_arn, now, revision, sources, deployment, dict(service.deployment_configuration),
            breaker=breaker, alarms=watched)
        for earlier in service.service_deployments:
            if earlier.ongoing:
                earlier.stopped_at = now
                earlier.move(records.STOPPED, now, "Superseded by a newer service deployment.")
        deployment.service_deployment = record
        deployment.alarms_ignored = frozenset(name for name, state in self.alarm_states(service, watched["alarmNames"]).items()
                                              if state == "ALARM")
        service.service_deployments.append(record)
        self.service_deployments[record.arn] = record
        self.timeline.event(now, service.name, f"service deployment {record.arn.rsplit('/', 1)[-1]}: PENDING")

    def alarm_states(self, service: SimulatedService, names: list[str]) -> dict[str, str]:
        return alarms.states(self.moto, *account_region(service.arn), names) if names else {}

    def continue_service_deployment(self, arn: str, hook_id: str, action: str) -> records.SimulatedServiceDeployment:
        record = self.service_deployments.get(arn)
        if record is None:
            raise ServiceDeploymentNotFoundException(arn)
        if record.status != records.IN_PROGRESS or record.deployment.shift is None:
            raise InvalidParameterException(f"The service deployment is {record.status}: ContinueServiceDeployment "
                                            "needs one IN_PROGRESS with a hook awaiting action.")
        try:
            strategies.continue_hook(self, record.deployment, hook_id, action)
        except ValueError as err:
            raise InvalidParameterException(f"The lifecycle hook {hook_id} is not awaiting action.") from err
        return record

    def record_moves(self, service: SimulatedService, record: records.SimulatedServiceDeployment, status: str, reason: str = "") -> None:
        record.move(status, self.clock.now(), reason)
        if status == records.IN_PROGRESS and record.started_at is None:
            record.started_at = self.clock.now()
        self.timeline.event(self.clock.now(), service.name, f"service deployment {record.arn.rsplit('/', 1)[-1]}: {status}")

    def stop_service_deployment(self, arn: str, stop_type: str) -> records.SimulatedServiceDeployment:
        """StopServiceDeployment: ROLLBACK returns to the last successful revision
        (rollback configured or not); ABORT stops where it is (modelled: no more
        tasks of the target start, nothing is rolled back)."""
        record = self.service_deployments.get(arn)
        if record is None:
            raise ServiceDeploymentNotFoundException(arn)
        service = self.services[record.service_arn]
        if not record.ongoing:
            raise ConflictException(f"The service deployment is {record.status}: only a PENDING or IN_PROGRESS one can be stopped.")
        if record.status != records.IN_PROGRESS and record.status != records.PENDING:
            return record  # already stopping or rolling back: it carries on
        deployment = record.deployment
        if deployment.shift is not None:
            if stop_type == "ABORT":
                self.record_moves(service, record, records.STOP_REQUESTED, "Service deployment stop requested (ABORT).")
                deployment.shift.stopped = True
                record.stopped_at = self.clock.now()
                self.record_moves(service, record, records.STOPPED)
            else:
                self.record_moves(service, record, records.ROLLBACK_REQUESTED, "Service deployment rollback requested.")
                strategies.roll_back(self, service, deployment, "StopServiceDeployment ROLLBACK requested.")
            return record
        if stop_type == "ABORT":
            self.record_moves(service, record, records.STOP_REQUESTED, "Service deployment stop requested (ABORT).")
            deployment.rollout_state = FAILED
            deployment.rollout_state_reason = "ECS deployment stopped: StopServiceDeployment ABORT."
            record.stopped_at = self.clock.now()
            self.record_moves(service, record, records.STOPPED)
            return record
        target = scheduler.last_completed(service, exclude=deployment)
        if target is None:
            raise ConflictException("The service has no successful service revision to roll back to.")
        self.record_moves(service, record, records.ROLLBACK_REQUESTED, "Service deployment rollback requested.")
        self.event(service, f"(service {service.name}) (deployment {deployment.id}) rolling back to deployment {target.id}.")
        record.rollback = {"reason": "StopServiceDeployment ROLLBACK requested.", "startedAt": self.clock.now(),
                           "serviceRevisionArn": target.revision.arn if target.revision else ""}
        deployment.rollout_state = FAILED
        deployment.rollout_state_reason = "ECS deployment rollback requested."
        self.roll_back(service, deployment, target, reason=f"ECS deployment rollback requested: rolling back to "
                                                           f"deploymentId {target.id}.")
        for t in deployment.wanted_tasks():
            self.runner.stop(t, SERVICE_SCHEDULER_INITIATED, reason_scaling(service.primary.id))
        deployment.status = ACTIVE
        self.record_moves(service, record, records.ROLLBACK_IN_PROGRESS)
        return record

    def complete_deployment(self, service: SimulatedService, deployment: SimulatedDeployment) -> None:
        deployment.rollout_state = COMPLETED
        deployment.rollout_state_reason = f"ECS deployment {deployment.id} completed."
        deployment.updated_at = self.clock.now()
        self.event(service, f"(service {service.name}) (deployment {deployment.id}) deployment completed.")
        record = deployment.service_deployment
        if record is None:
            return
        if deployment is record.rollback_deployment and record.status == records.ROLLBACK_IN_PROGRESS:
            self.record_moves(service, record, records.ROLLBACK_SUCCESSFUL, "Service deployment rolled back.")
        elif deployment is record.deployment and record.status == records.IN_PROGRESS:
            self.record_moves(service, record, records.SUCCESSFUL, "Service deployment completed.")

    def roll_back(self, service: SimulatedService, failed: SimulatedDeployment, target: SimulatedDeployment, reason: str = "") -> None:
        service.task_definition_arn = target.task_definition_arn
        self._new_deployment(service, target.task_definition_arn, digests=dict(target.digests),
                             pull_errors=dict(target.pull_errors),
                             reason=reason or f"ECS deployment circuit breaker: rolling back to deploymentId {target.id}.",
                             rollback_of=failed, revision=target.revision)
        shadow = self.shadow(service)
        if shadow is not None:
            shadow.task_definition = target.task_definition_arn

    # -- tasks -----------------------------------------------------------------
    def _make_task(self, cluster_arn: str, task_definition_arn: str, started_by: str | None, group: str,
                   digests: dict[str, str | None], launch_type: str | None, overrides: dict | None = None,
                   network_configuration: dict | None = None, platform_version: str | None = None) -> Task:
        td = self._task_definition(task_definition_arn)
        prefix = cluster_arn.replace(":cluster/", ":task/")
        commands = {o["name"]: o["command"] for o in (overrides or {}).get("containerOverrides", [])
                    if o.get("name") and o.get("command")}
        containers = [
            Container(name=c["name"], image=c["image"], digest=digests.get(c["name"]),
                      essential=c.get("essential", True), health_check=c.get("healthCheck"),
                      command=commands.get(c["name"], c.get("command")))
            for c in td.container_definitions
        ]
        task = Task(arn=f"{prefix}/{self._task_id()}", cluster_arn=cluster_arn, task_definition_arn=td.arn,
                    started_by=started_by, group=group, created_at=self.clock.now(), containers=containers,
                    launch_type=launch_type, overrides=overrides)
        task.placement = placement.place(task.arn, td, launch_type, platform_version, network_configuration,
                                         lambda subnet: self.moto.subnet(task.arn, subnet))
        task.provisioning = launch_type == "FARGATE"
        self.tasks[task.arn] = task
        return task

    def _service_task_tags(self, service: SimulatedService, task_definition_arn: str) -> list[dict]:
        """What ECS tags a service's task with: its managed tags (enableECSManagedTags), and
        the service's or the task definition's own (propagateTags SERVICE | TASK_DEFINITION)."""
        propagate = service.spec.get("propagateTags") or "NONE"
        if propagate == "SERVICE":
            shadow = self.shadow(service)
            propagated = list(shadow.tags) if shadow is not None else []
        elif propagate == "TASK_DEFINITION":
            propagated = list(self._task_definition(task_definition_arn).tags)
        else:
            propagated = []
        return _task_tags(service.cluster_arn, service.name, propagated, [], bool(service.spec.get("enableECSManagedTags")))

    def start_service_tasks(self, service: SimulatedService, deployment: SimulatedDeployment, count: int) -> None:
        lb = service.load_balancers[0] if service.load_balancers else None
        tg = deployment.target_group or (service.live_target_group or lb.get("targetGroupArn") if lb else None)
        grace = float(service.spec.get("healthCheckGracePeriodSeconds") or 0)
        pull_error = next(iter(deployment.pull_errors.values()), None)
        started = []
        for _ in range(count):
            task = self._make_task(service.cluster_arn, deployment.task_definition_arn, deployment.id,
                                   f"service:{service.name}", deployment.digests, service.spec.get("launchType"),
                                   network_configuration=deployment.network_configuration,
                                   platform_version=deployment.platform_version)
            task.tags = self._service_task_tags(service, deployment.task_definition_arn)
            task.deployment = deployment
            deployment.tasks.append(task)
            self.runner.launch(task, pull_error, tg, grace)
            started.append(task)
        deployment.updated_at = self.clock.now()
        self.event(service, f"(service {service.name}) has started {len(started)} tasks: "
                   + " ".join(f"(task {t.id})" for t in started) + ".")

    def stop_service_tasks(self, service: SimulatedService, tasks: list[Task], reason: str) -> None:
        for task in tasks:
            self.runner.stop(task, SERVICE_SCHEDULER_INITIATED, reason)
        self.event(service, f"(service {service.name}) has stopped {len(tasks)} running tasks: "
                   + " ".join(f"(task {t.id})" for t in tasks) + ".")

    def run_task(self, cluster_arn: str, task_definition_arn: str, count: int, started_by: str | None,
                 group: str | None, launch_type: str | None, overrides: dict | None = None,
                 tags: list[dict] | None = None, managed_tags: bool = False,
                 propagate: str | None = None, network_configuration: dict | None = None,
                 platform_version: str | None = None) -> list[Task]:
        td = self._task_definition(task_definition_arn)
        digests: dict[str, str | None] = {}
        error = None
        for c in td.container_definitions:
            try:
                digests[c["name"]] = self.images.resolve(c["image"])
            except ImagePullError as err:
                digests[c["name"]], error = None, str(err)
        tasks = []
        for _ in range(count):
            task = self._make_task(cluster_arn, td.arn, started_by, group or f"family:{td.family}", digests, launch_type,
                                   overrides, network_configuration, platform_version)
            task.tags = _task_tags(cluster_arn, None, td.tags if propagate == "TASK_DEFINITION" else [], tags or [],
                                   managed_tags)
            self.runner.launch(task, error, None, 0.0)
            tasks.append(task)
        return tasks

    def stop_task(self, task: Task, reason: str | None) -> None:
        self.runner.stop(task, USER_INITIATED, reason or "Task stopped by user")

    def _task_failed(self, task: Task) -> None:
        service = self._service_of(task)
        if service is None:
            return
        if task.stopped_reason == REASON_CONTAINER_HEALTH:
            self.event(service, f"(service {service.name}) (task {task.id}) failed container health checks.")
        elif task.stopped_reason and task.stopped_reason.startswith("Task failed ELB health checks"):
            lb = service.load_balancers[0]
            self.event(service, f"(service {service.name}) (task {task.id}) (port {lb.get('containerPort')}) is unhealthy "
                                f"in (target-group {lb.get('targetGroupArn')}) due to (reason Health checks failed).")
        if task.stop_code == SERVICE_SCHEDULER_INITIATED:
            self.event(service, f"(service {service.name}) has stopped 1 running tasks: (task {task.id}).")
        scheduler.on_task_failed(self, service, task.deployment)
        if task.started_at is None:
            scheduler.on_start_failed(self, service, task.deployment)

    def _task_running(self, task: Task) -> None:
        if task.deployment is not None:
            scheduler.on_task_running(task.deployment)

    def _task_healthy(self, task: Task) -> None:
        service = self._service_of(task) if task.deployment is not None else None
        if service is not None:
            scheduler.on_task_healthy(self, service, task.deployment)
            shift = task.deployment.shift
            if shift is None or shift.production > 0:  # green serves production only once traffic moves to it
                self.serves_production(service, task)

    def serves_production(self, service: SimulatedService, task: Task) -> None:
        """A task starts serving production traffic: an image declared to drive an
        alarm (a release that passes its checks and then misbehaves) drives it."""
        for c in task.containers:
            behaviour = self.images.behaviour(c.image, c.digest, c.command)
            if behaviour.alarm:
                account, region = account_region(service.arn)
                name, image = behaviour.alarm, c.image

                def fire(name: str = name, image: str = image, account: str = account, region: str = region) -> None:
                    if task.alive and task.wanted:
                        alarms.set_state(self.moto, account, region, name, "ALARM", f"{image} misbehaves under production traffic")
                        self.timeline.event(self.clock.now(), service.name, f"alarm {name}: ALARM ({image})")
                task.timers.append(self.clock.call_later(behaviour.alarm_after, fire))

    def _task_stopped(self, task: Task) -> None:
        self.clock.call_later(self.params.stopped_task_retention, lambda: self._forget(task))

    def _forget(self, task: Task) -> None:
        self.tasks.pop(task.arn, None)
        if task.deployment is not None and task in task.deployment.tasks:
            task.deployment.tasks.remove(task)

    def _service_of(self, task: Task) -> SimulatedService | None:
        return self.services.get(task.deployment.service_arn) if task.deployment is not None else None


def _task_tags(cluster_arn: str, service_name: str | None, propagated: list[dict], given: list[dict],
               managed: bool) -> list[dict]:
    """A task's tags: ECS's managed ones (aws:ecs:clusterName, and aws:ecs:serviceName for a
    service's task), then the propagated ones, then the caller's; a later key wins."""
    tags: dict[str, str] = {}
    if managed:
        tags["aws:ecs:clusterName"] = cluster_arn.rsplit("/", 1)[-1]
        if service_name:
            tags["aws:ecs:serviceName"] = service_name
    for tag in [*propagated, *given]:
        tags[tag["key"]] = tag.get("value", "")
    return [{"key": key, "value": value} for key, value in tags.items()]
