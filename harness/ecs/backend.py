"""ECS's service, task and deployment actions as the simulator answers them:
the checks ECS makes on a request, the lookups, filters and pages, then the
simulator's change of state. The handlers in `api.py` hand each request's
parameters here and serialize what comes back, as moto's responses hand theirs
to moto's models.

moto keeps a *shadow* of each service (ARN, tags, what Application Auto Scaling
looks up); an action that changes a service is given `shadow`, moto's own
handler, to call once the request has passed ECS's checks, so nothing is half
done when a check refuses it.
"""
from __future__ import annotations

from typing import Any, Callable

from harness.ecs import deployments as records
from harness.ecs import strategies
from harness.ecs.exceptions import InvalidParameterException, ServiceNotActiveException, ServiceNotFoundException
from harness.ecs.services import SimulatedService
from harness.ecs.simulator import Simulator
from harness.ecs.tasks import RUNNING, Task

DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
# UpdateService fields that shape a deployment: changing one starts a new one.
SHAPING_FIELDS = ("networkConfiguration", "platformVersion", "launchType", "capacityProviderStrategy",
                  "loadBalancers", "serviceRegistries", "serviceConnectConfiguration")
# (volumeConfigurations shape one too, but DescribeServices shows them on deployments only: see update_service)
# CreateService/UpdateService fields echoed back by DescribeServices as given.
ECHOED_FIELDS = ("loadBalancers", "serviceRegistries", "launchType", "capacityProviderStrategy", "platformVersion",
                 "placementConstraints", "placementStrategy", "networkConfiguration", "healthCheckGracePeriodSeconds",
                 "schedulingStrategy", "deploymentController", "enableECSManagedTags", "propagateTags",
                 "enableExecuteCommand", "availabilityZoneRebalancing", "serviceConnectConfiguration")
# UpdateService of the task definition on services ECS does not deploy itself.
CONTROLLER_REFUSALS = {
    "CODE_DEPLOY": "Unable to update task definition on services with a CODE_DEPLOY deployment controller. "
                   "Use AWS CodeDeploy to trigger a new deployment.",
    "EXTERNAL": "Unable to update task definition on services with a EXTERNAL deployment controller. "
                "Please use Task Set API to create a new task set.",
}
MAX_DESCRIBE_SERVICES = 10
MAX_DESCRIBE_TASKS = 100

Failure = dict[str, str]


class SimulatedEcs:
    """One request's view: the simulator and moto's ECS backend of the request's
    account and region (clusters and task definitions stay moto's)."""

    def __init__(self, sim: Simulator, ecs_backend: Any, region: str, account: str):
        self.sim, self.moto_ecs, self.region, self.account = sim, ecs_backend, region, account

    # -- services ---------------------------------------------------------------
    def create_service(self, params: dict, shadow: Callable[[], Any]) -> SimulatedService:
        if not params.get("serviceName"):
            raise InvalidParameterException("serviceName can not be empty.")
        if not params.get("taskDefinition"):
            raise InvalidParameterException("TaskDefinition can not be blank.")
        desired = _desired_count(params)
        config = deployment_configuration(params.get("deploymentConfiguration"))
        self._check_strategy(config, params.get("deploymentController"), params.get("loadBalancers"))
        self._check_capacity_providers(params)
        cluster = self.moto_ecs._get_cluster(params.get("cluster", "default"))
        token = params.get("clientToken")
        for existing in self.sim.services.values():
            if existing.cluster_arn == cluster.arn and existing.name == params["serviceName"] and existing.status == "ACTIVE":
                if token and self.sim.create_tokens.get(token) == existing.arn:
                    return existing  # idempotent by clientToken, as RunTask: a client's retry after a lost reply
                raise InvalidParameterException("Creation of service was not idempotent.")
        td = self.moto_ecs.describe_task_definition(params["taskDefinition"])   # ClientException if missing
        volumes = _volume_configurations(params.get("volumeConfigurations"), td)
        moto_service = shadow()
        spec = echoed(params)
        if spec.get("launchType") == "FARGATE" and not spec.get("platformVersion"):
            spec["platformVersion"] = "LATEST"   # ECS's default, shown as given; its tasks run what it resolves to
        spec["roleArn"] = (f"arn:aws:iam::{self.account}:role/aws-service-role/ecs.amazonaws.com/"
                           "AWSServiceRoleForECS")  # the service-linked role ECS acts with
        spec["createdBy"] = f"arn:aws:iam::{self.account}:root"   # the emulator's callers: the account's root
        created = self.sim.create_service(moto_service.arn, moto_service.name, cluster.arn, desired or 0, td.arn, config,
                                          spec, volumes or None)
        if token:
            self.sim.create_tokens[token] = created.arn
        return created

    def update_service(self, params: dict, shadow: Callable[[], Any]) -> SimulatedService:
        service = self.active_service(params.get("cluster", "default"), params.get("service", ""))
        config = None
        if params.get("deploymentConfiguration") is not None:
            config = deployment_configuration(params["deploymentConfiguration"], service.deployment_configuration)
        self._check_strategy(config or service.deployment_configuration, service.spec.get("deploymentController"),
                             params.get("loadBalancers", service.spec.get("loadBalancers")))
        td_arn = None
        if params.get("taskDefinition"):
            td_arn = self.moto_ecs.describe_task_definition(params["taskDefinition"]).arn
            controller = (service.spec.get("deploymentController") or {}).get("type", "ECS")
            if controller in CONTROLLER_REFUSALS and td_arn != service.task_definition_arn:
                raise InvalidParameterException(CONTROLLER_REFUSALS[controller])
        desired = _desired_count(params)
        changes = {k: params[k] for k in ECHOED_FIELDS if k in params and params[k] is not None}
        shaping = any(k in changes and changes[k] != service.spec.get(k) for k in SHAPING_FIELDS)
        volumes = None
        if params.get("volumeConfigurations") is not None:   # [] takes them away
            td = self.moto_ecs.describe_task_definition(td_arn or service.task_definition_arn)
            volumes = _volume_configurations(params["volumeConfigurations"], td)
            shaping = shaping or (volumes or None) != service.volume_configurations
        shadow()
        self.sim.update_service(service, td_arn, desired, bool(params.get("forceNewDeployment")), config, changes, shaping,
                                volumes)
        return service

    def delete_service(self, params: dict, shadow: Callable[[], Any]) -> SimulatedService:
        service = self.active_service(params.get("cluster", "default"), params.get("service", ""))
        if service.desired_count > 0 and not params.get("force"):
            raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
        shadow()
        self.sim.delete_service(service)
        return service

    def describe_services(self, params: dict) -> tuple[list[SimulatedService], list[Failure]]:
        names = params.get("services") or []
        if len(names) > MAX_DESCRIBE_SERVICES:
            raise InvalidParameterException(f"services can have at most {MAX_DESCRIBE_SERVICES} items.")
        cluster = self.moto_ecs._get_cluster(params.get("cluster", "default"))
        found, failures = [], []
        for name in names:
            short = name.split("/")[-1]
            service = next((s for s in self.sim.services.values()
                            if s.cluster_arn == cluster.arn and name in (s.arn, s.name, short) and s.name == short), None)
            if service is None:
                failures.append({"arn": f"arn:aws:ecs:{self.region}:{self.account}:service/{cluster.name}/{short}",
                                 "reason": "MISSING"})
            else:
                found.append(service)
        return found, failures

    def service(self, cluster: str, name: str) -> SimulatedService:
        shadow = self.moto_ecs._get_service(cluster, name)   # ClusterNotFound / ServiceNotFound as ECS
        service = self.sim.services.get(shadow.arn)
        if service is None:
            raise ServiceNotFoundException
        return service

    def active_service(self, cluster: str, name: str) -> SimulatedService:
        service = self.service(cluster, name)
        if service.status != "ACTIVE":
            raise ServiceNotActiveException()
        return service

    def _check_strategy(self, config: dict, controller: dict | None, load_balancers: list | None) -> None:
        refusal = strategies.check(self.sim.moto, config, (controller or {}).get("type", "ECS"), load_balancers or [])
        if refusal:
            raise InvalidParameterException(refusal)

    # -- tasks ------------------------------------------------------------------
    def _check_capacity_providers(self, params: dict) -> None:
        """A capacity provider strategy names only providers associated with the cluster
        (ECS's words, as users report them); no launch type beside it."""
        strategy = params.get("capacityProviderStrategy") or []
        if not strategy:
            return
        if params.get("launchType"):
            raise InvalidParameterException("Specifying both a launch type and capacity provider strategy is not "
                                            "supported. Remove one and try again.")
        cluster = self.moto_ecs._get_cluster(params.get("cluster", "default"))
        associated = set(cluster.capacity_providers or [])
        if any(item.get("capacityProvider") not in associated for item in strategy):
            raise InvalidParameterException(
                "The specified capacity provider strategy cannot contain a capacity provider that is not associated "
                "with the cluster. Associate the capacity provider with the cluster or specify a valid capacity "
                "provider and try again.")

    def _cluster_arn(self, params: dict) -> str:
        return self.moto_ecs._get_cluster(params.get("cluster", "default")).arn

    def list_tasks(self, params: dict) -> tuple[list[str], str | None]:
        cluster_arn = self._cluster_arn(params)
        desired = params.get("desiredStatus") or RUNNING
        group = None
        if params.get("serviceName"):
            group = f"service:{self.service(cluster_arn, params['serviceName']).name}"
        family = params.get("family")
        arns = [
            t.arn for t in self.sim.tasks.values()
            if t.cluster_arn == cluster_arn and t.desired_status == desired
            and (group is None or t.group == group)
            and (params.get("startedBy") is None or t.started_by == params["startedBy"])
            and (family is None or t.task_definition_arn.rsplit("/", 1)[-1].split(":")[0] == family)
            and (params.get("launchType") is None or t.launch_type == params["launchType"])
        ]
        return page(arns, params)

    def describe_tasks(self, params: dict) -> tuple[list[Task], list[Failure]]:
        cluster_arn = self._cluster_arn(params)
        refs = params.get("tasks")
        if not refs:
            raise InvalidParameterException("Tasks cannot be empty.")
        if len(refs) > MAX_DESCRIBE_TASKS:
            raise InvalidParameterException(f"tasks can have at most {MAX_DESCRIBE_TASKS} items.")
        tasks, failures = [], []
        for ref in refs:
            task = self._task(cluster_arn, ref)
            if task is None:
                failures.append({"arn": ref, "reason": "MISSING"})
            else:
                tasks.append(task)
        return tasks, failures

    def _task(self, cluster_arn: str, ref: str) -> Task | None:
        task = self.sim.tasks.get(ref)
        if task is None:
            task = self.sim.tasks.get(f"{cluster_arn.replace(':cluster/', ':task/')}/{ref.rsplit('/', 1)[-1]}")
        return task if task is not None and task.cluster_arn == cluster_arn else None

    def stop_task(self, params: dict) -> Task:
        task = self._task(self._cluster_arn(params), params.get("task", ""))
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        self.sim.stop_task(task, params.get("reason"))
        return task

    def run_task(self, params: dict) -> list[Task]:
        cluster_arn = self._cluster_arn(params)
        count = int(params.get("count") or 1)
        if not 1 <= count <= 10:
            raise InvalidParameterException(f"count {count} must be between 1 and 10.")
        if not params.get("taskDefinition"):
            raise InvalidParameterException("TaskDefinition can not be blank.")
        td = self.moto_ecs.describe_task_definition(params["taskDefinition"])
        if td.network_mode == "awsvpc" and not (params.get("networkConfiguration") or {}).get("awsvpcConfiguration"):
            # ECS's words (aws-actions/amazon-ecs-deploy-task-definition#802, fabfuel/ecs-deploy#133)
            raise InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is specified.")
        self._check_capacity_providers(params)
        if params.get("launchType") == "EC2":
            # The simulator places EC2 tasks on no instance: it refuses them where ECS could place none
            cluster = self.moto_ecs._get_cluster(params.get("cluster", "default"))
            instances = self.moto_ecs.container_instances.get(cluster.name, {}).values()
            if not any(instance.status == "ACTIVE" for instance in instances):
                raise InvalidParameterException("No Container Instances were found in your cluster.")
        overrides = params.get("overrides")
        names = {c["name"] for c in td.container_definitions}
        for override in (overrides or {}).get("containerOverrides", []):
            if override.get("name") not in names:
                raise InvalidParameterException(
                    f"Override for container named {override.get('name')} is not a container in the TaskDefinition.")
        token = params.get("clientToken")
        if token and token in self.sim.run_tokens:  # RunTask is idempotent by clientToken: the same tasks again
            return [self.sim.tasks[arn] for arn in self.sim.run_tokens[token] if arn in self.sim.tasks]
        propagate = params.get("propagateTags")
        if propagate not in (None, "NONE", "TASK_DEFINITION"):
            raise InvalidParameterException(f"propagateTags {propagate} is not valid for RunTask: use TASK_DEFINITION "
                                            "or NONE.")
        launch_type = params.get("launchType")
        first = (params.get("capacityProviderStrategy") or [{}])[0].get("capacityProvider")
        if launch_type is None and first in ("FARGATE", "FARGATE_SPOT"):
            launch_type = "FARGATE"   # ECS shows a Fargate capacity provider's tasks as launch type FARGATE
        tasks = self.sim.run_task(cluster_arn, td.arn, count, params.get("startedBy"), params.get("group"),
                                  launch_type, overrides, tags=params.get("tags"),
                                  managed_tags=bool(params.get("enableECSManagedTags")), propagate=propagate,
                                  network_configuration=params.get("networkConfiguration"),
                                  platform_version=params.get("platformVersion"))
        if token:
            self.sim.run_tokens[token] = [t.arn for t in tasks]
        return tasks

    # -- the service deployments API (2024-25), which moto does not have ---------------
    def list_service_deployments(self, params: dict) -> tuple[list[records.SimulatedServiceDeployment], str | None]:
        if not params.get("service"):
            raise InvalidParameterException("service can not be empty.")
        service = self.service(params.get("cluster", "default"), params["service"])
        wanted = set(params.get("status") or [])
        unknown = wanted - set(records.ONGOING + records.COMPLETED)
        if unknown:
            raise InvalidParameterException(f"status {sorted(unknown)[0]} is not a service deployment status.")
        window = params.get("createdAt") or {}
        after, before = window.get("after"), window.get("before")
        found = [r for r in reversed(service.service_deployments)  # newest first
                 if (not wanted or r.status in wanted)
                 and (after is None or r.created_at >= _epoch(after)) and (before is None or r.created_at <= _epoch(before))]
        return page(found, params, default_size=20)  # ListServiceDeployments pages 20 by default

    def describe_service_deployments(self, params: dict) -> tuple[list[dict], list[Failure]]:
        def found(arn: str) -> dict | None:
            record = self.sim.service_deployments.get(arn)
            return record.describe(self.sim.services[record.service_arn]) if record else None
        return _described(params.get("serviceDeploymentArns"), "serviceDeployment", found)

    def describe_service_revisions(self, params: dict) -> tuple[list[dict], list[Failure]]:
        def found(arn: str) -> dict | None:
            revision = self.sim.revisions.get(arn)
            return revision.describe() if revision else None
        return _described(params.get("serviceRevisionArns"), "serviceRevision", found)

    def stop_service_deployment(self, params: dict) -> records.SimulatedServiceDeployment:
        arn, stop_type = params.get("serviceDeploymentArn"), params.get("stopType") or "ROLLBACK"
        if not arn:
            raise InvalidParameterException("serviceDeploymentArn can not be empty.")
        if stop_type not in ("ROLLBACK", "ABORT"):
            raise InvalidParameterException(f"stopType {stop_type} is not ROLLBACK or ABORT.")
        return self.sim.stop_service_deployment(arn, stop_type)

    def continue_service_deployment(self, params: dict) -> records.SimulatedServiceDeployment:
        arn, hook, action = params.get("serviceDeploymentArn"), params.get("hookId"), params.get("action") or "CONTINUE"
        if not arn or not hook:
            raise InvalidParameterException("serviceDeploymentArn and hookId can not be empty.")
        if action not in ("CONTINUE", "ROLLBACK"):
            raise InvalidParameterException(f"action {action} is not CONTINUE or ROLLBACK.")
        return self.sim.continue_service_deployment(arn, hook, action)


# -- request checks shared by the actions -------------------------------------------
def deployment_configuration(given: dict | None, current: dict | None = None) -> dict:
    """`deploymentConfiguration` merged over the service's (or ECS's defaults), checked as ECS checks it."""
    base = {**DEFAULT_DEPLOYMENT_CONFIGURATION, **(current or {})}
    merged = {**base, **(given or {})}
    low, high = merged["minimumHealthyPercent"], merged["maximumPercent"]
    if not 0 <= low <= 100:
        raise InvalidParameterException(f"minimumHealthyPercent {low} must be between 0 and 100.")
    if high < 100 or high < low:
        raise InvalidParameterException(f"maximumPercent {high} must be at least 100 and at least minimumHealthyPercent.")
    breaker = dict(merged.get("deploymentCircuitBreaker") or {})
    breaker.update(enable=bool(breaker.get("enable")), rollback=bool(breaker.get("rollback")))
    threshold = breaker.get("thresholdConfiguration")
    if threshold is not None:
        kind = threshold.get("type", "BOUNDED_PERCENT")
        if kind not in ("COUNT", "BOUNDED_PERCENT", "UNBOUNDED_PERCENT") or int(threshold.get("value", 50)) < 1:
            raise InvalidParameterException(
                f"thresholdConfiguration {threshold} needs type COUNT, BOUNDED_PERCENT or UNBOUNDED_PERCENT and a value >= 1.")
    merged["deploymentCircuitBreaker"] = breaker
    return merged


def _volume_configurations(given: list | None, td: Any) -> list | None:
    """volumeConfigurations checked against the task definition: one volume, named as one of its
    volumes with configuredAtLaunch. (The words are the emulator's: ECS's were not found documented.)"""
    if not given:
        return [] if given == [] else None
    if len(given) > 1:
        raise InvalidParameterException(f"volumeConfigurations has {len(given)} volumes: ECS attaches one "
                                        "service-managed volume per task.")
    at_launch = {v.get("name") for v in td.volumes or [] if v.get("configuredAtLaunch")}
    for volume in given:
        if volume.get("name") not in at_launch:
            raise InvalidParameterException(
                f"The volume {volume.get('name')} in volumeConfigurations is not a volume of task definition "
                f"{td.family}:{td.revision} with configuredAtLaunch true"
                + (f" (it has: {', '.join(sorted(at_launch))})." if at_launch else " (it has none)."))
    return given


def echoed(params: dict) -> dict:
    """What DescribeServices echoes of a CreateService request, with ECS's defaults."""
    spec = {k: params[k] for k in ECHOED_FIELDS if params.get(k) not in (None, {}, [])}
    spec.setdefault("schedulingStrategy", "REPLICA")
    spec.setdefault("deploymentController", {"type": "ECS"})
    spec.setdefault("enableECSManagedTags", False)
    spec.setdefault("propagateTags", "NONE")
    spec.setdefault("enableExecuteCommand", False)
    for key in ("loadBalancers", "serviceRegistries", "placementConstraints", "placementStrategy"):
        spec.setdefault(key, [])
    return spec


def _desired_count(params: dict) -> int | None:
    desired = params.get("desiredCount")
    if desired is not None and int(desired) < 0:
        raise InvalidParameterException("desiredCount can not be negative.")
    return None if desired is None else int(desired)


def page(items: list, params: dict, default_size: int = 100) -> tuple[list, str | None]:
    """One page of `items` and the next token (None on the last page), from nextToken and
    maxResults as ECS checks them."""
    size = params.get("maxResults")
    if size is not None and not 1 <= int(size) <= 100:
        raise InvalidParameterException("maxResults must be between 1 and 100.")
    token = params.get("nextToken")
    if token is not None and not str(token).isdigit():
        raise InvalidParameterException("Invalid nextToken.")
    start, size = int(token or 0), int(size or default_size)
    return items[start:start + size], (str(start + size) if start + size < len(items) else None)


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _described(arns: list[str] | None, kind: str, found: Callable[[str], Any]) -> tuple[list, list[Failure]]:
    if not arns:
        raise InvalidParameterException(f"{kind}Arns can not be empty.")
    if len(arns) > records.MAX_DESCRIBE:
        raise InvalidParameterException(f"{kind}Arns can have at most {records.MAX_DESCRIBE} items.")
    items, failures = [], []
    for arn in arns:
        item = found(arn)
        if item is None:
            failures.append({"arn": arn, "reason": "MISSING", "detail": f"The {kind} does not exist."})
        else:
            items.append(item)
    return items, failures
