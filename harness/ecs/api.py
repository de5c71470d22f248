"""The seam between moto and the simulator: the ECS API for services,
deployments and tasks.

moto's in-process mock and moto's server both answer ECS requests through
`moto.ecs.responses.EC2ContainerServiceResponse` action methods. `install(sim)`
replaces the methods of the actions the simulator owns with the functions
below (one patch point, removed by `uninstall`), so in-process and HTTP clients
go through one path. moto still parses and validates requests and keeps a
*shadow* of each service (ARN, tags, what Application Auto Scaling looks up);
the simulator answers with the state it owns. moto's serializer shapes the
answers from botocore's model, so keys and timestamp formats are ECS's.

One handler per owned ECS action; over 400 lines since the service deployments API
joined: thin handlers into their own module is the harness-rooms issue's work.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from werkzeug.exceptions import HTTPException
from moto.ecs.responses import DESCRIBE_SERVICES_TAGS, DESCRIBE_TASKS_TAGS, EC2ContainerServiceResponse

from harness.ecs import deployments as records
from harness.ecs import strategies
from harness.ecs.exceptions import InvalidParameterException, ServiceNotActiveException, ServiceNotFoundException
from harness.ecs.services import ts
from harness.ecs.simulator import Simulator
from harness.ecs.tasks import RUNNING, Task

OWNED_ACTIONS = (
    "create_service", "update_service", "describe_services", "delete_service",
    "list_tasks", "describe_tasks", "stop_task", "run_task", "register_task_definition",
    # the service deployments API (2024-25), which moto does not have
    "list_service_deployments", "describe_service_deployments", "describe_service_revisions",
    "stop_service_deployment", "continue_service_deployment",
)
DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
# UpdateService fields that shape a deployment: changing one starts a new one.
SHAPING_FIELDS = ("networkConfiguration", "platformVersion", "launchType", "capacityProviderStrategy",
                  "loadBalancers", "serviceRegistries", "serviceConnectConfiguration", "volumeConfigurations")
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

_originals: dict[str, Callable] = {}
_active: list[Simulator] = []
_install_lock = threading.Lock()


def install(sim: Simulator) -> None:
    """Route the simulator-owned ECS actions to `sim` (stacked: the newest answers)."""
    with _install_lock:
        if not _originals:
            for name in OWNED_ACTIONS:
                _originals[name] = getattr(EC2ContainerServiceResponse, name, None)
            for name in OWNED_ACTIONS:
                setattr(EC2ContainerServiceResponse, name, _route(name))
        _active.append(sim)


def uninstall(sim: Simulator) -> None:
    with _install_lock:
        if sim in _active:
            _active.remove(sim)
        if not _active and _originals:
            for name, fn in _originals.items():
                # restore only our own routing: a patch installed on top of it stays
                if getattr(getattr(EC2ContainerServiceResponse, name, None), "_harness_route", False):
                    if fn is None:
                        delattr(EC2ContainerServiceResponse, name)  # an action moto does not have
                    else:
                        setattr(EC2ContainerServiceResponse, name, fn)
            _originals.clear()


def active() -> Simulator | None:
    return _active[-1] if _active else None


_local = threading.local()


def _route(name: str) -> Callable:
    handler = globals()[f"_{name}"]
    original = _originals[name]

    def action(self: EC2ContainerServiceResponse) -> ActionResult:
        sim = active()
        if sim is None or getattr(_local, "inside", False):
            # uninstalled but still wrapped by a later patch, or moto's own method
            # reached through such a wrapper from inside a handler: plain moto
            if original is None:
                raise NotImplementedError(f"moto has no ECS action {name}: it needs the simulator")
            return original(self)
        _local.inside = True
        try:
            with sim.clock.lock:
                sim.sync()
                return handler(self, sim, original)
        except (ServiceException, HTTPException):
            raise
        except Exception as err:   # a simulator bug: kept for HarnessServer.check()
            sim.errors.append(err)
            raise
        finally:
            _local.inside = False

    action.__name__ = name
    action._harness_route = True
    return action


# -- helpers -----------------------------------------------------------------
def _deployment_configuration(given: dict | None, current: dict | None = None) -> dict:
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


def _check_strategy(config: dict, controller: dict | None, load_balancers: list | None) -> None:
    refusal = strategies.check(config, (controller or {}).get("type", "ECS"), load_balancers or [])
    if refusal:
        raise InvalidParameterException(refusal)


def _echoed(params: dict) -> dict:
    spec = {k: params[k] for k in ECHOED_FIELDS if params.get(k) not in (None, {}, [])}
    spec.setdefault("schedulingStrategy", "REPLICA")
    spec.setdefault("deploymentController", {"type": "ECS"})
    spec.setdefault("enableECSManagedTags", False)
    spec.setdefault("propagateTags", "NONE")
    spec.setdefault("enableExecuteCommand", False)
    spec.setdefault("loadBalancers", [])
    spec.setdefault("serviceRegistries", [])
    spec.setdefault("placementConstraints", [])
    spec.setdefault("placementStrategy", [])
    return spec


def _params(self: EC2ContainerServiceResponse) -> dict:
    params = self._get_params()
    return dict(params.original_dict() if hasattr(params, "original_dict") else params)


def _find_service(self: EC2ContainerServiceResponse, sim: Simulator, cluster: str, name: str):
    shadow = self.ecs_backend._get_service(cluster, name)   # ClusterNotFound / ServiceNotFound as ECS
    service = sim.services.get(shadow.arn)
    if service is None:
        raise ServiceNotFoundException
    return shadow, service


def _task_dict(task: Task, include_tags: bool) -> dict[str, Any]:
    def opt(value):
        return ts(value) if value is not None else None

    out = {
        "taskArn": task.arn,
        "clusterArn": task.cluster_arn,
        "taskDefinitionArn": task.task_definition_arn,
        "lastStatus": task.last_status,
        "desiredStatus": task.desired_status,
        "healthStatus": task.health_status,
        "group": task.group,
        "createdAt": ts(task.created_at),
        "launchType": task.launch_type,
        "startedBy": task.started_by,
        "pullStartedAt": opt(task.pull_started_at),
        "pullStoppedAt": opt(task.pull_stopped_at if task.started_at is not None else None),
        "startedAt": opt(task.started_at),
        "stoppingAt": opt(task.stopping_at),
        "executionStoppedAt": opt(task.execution_stopped_at),
        "stoppedAt": opt(task.stopped_at),
        "stopCode": task.stop_code,
        "stoppedReason": task.stopped_reason,
        "version": 1,
        "containers": [
            {
                "containerArn": task.arn.replace(":task/", ":container/") + f"/{c.name}",
                "taskArn": task.arn,
                "name": c.name,
                "image": c.image,
                "imageDigest": c.digest,
                "lastStatus": c.last_status,
                "exitCode": c.exit_code,
                "healthStatus": c.health_status,
            }
            for c in task.containers
        ],
        "tags": [] if include_tags else None,
        "overrides": _overrides(task),
    }
    return {k: v for k, v in out.items() if v is not None}


def _overrides(task: Task) -> dict[str, Any]:
    """As ECS shows them: every container named, with what the override set."""
    given = {o["name"]: o for o in (task.overrides or {}).get("containerOverrides", []) if o.get("name")}
    out: dict[str, Any] = {"containerOverrides": [{**given.get(c.name, {}), "name": c.name} for c in task.containers],
                           "inferenceAcceleratorOverrides": []}
    for key, value in (task.overrides or {}).items():
        if key != "containerOverrides":
            out[key] = value
    return out


# -- actions -----------------------------------------------------------------
def _create_service(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    if not params.get("serviceName"):
        raise InvalidParameterException("serviceName can not be empty.")
    if not params.get("taskDefinition"):
        raise InvalidParameterException("TaskDefinition can not be blank.")
    desired = params.get("desiredCount")
    if desired is not None and int(desired) < 0:
        raise InvalidParameterException("desiredCount can not be negative.")
    config = _deployment_configuration(params.get("deploymentConfiguration"))
    _check_strategy(config, params.get("deploymentController"), params.get("loadBalancers"))
    cluster = self.ecs_backend._get_cluster(params.get("cluster", "default"))
    for existing in sim.services.values():
        if existing.cluster_arn == cluster.arn and existing.name == params["serviceName"] and existing.status == "ACTIVE":
            raise InvalidParameterException("Creation of service was not idempotent.")
    td = self.ecs_backend.describe_task_definition(params["taskDefinition"])   # ClientException if missing
    shadow = moto_action(self).result["service"]
    service = sim.create_service(shadow.arn, shadow.name, cluster.arn, int(desired or 0), td.arn, config, _echoed(params))
    return ActionResult({"service": service.describe(False, None, sim.params.max_events)})


def _update_service(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    cluster = params.get("cluster", "default")
    _, service = _find_service(self, sim, cluster, params.get("service", ""))
    if service.status != "ACTIVE":
        raise ServiceNotActiveException()
    config = None
    if params.get("deploymentConfiguration") is not None:
        config = _deployment_configuration(params["deploymentConfiguration"], service.deployment_configuration)
    _check_strategy(config or service.deployment_configuration, service.spec.get("deploymentController"),
                    params.get("loadBalancers", service.spec.get("loadBalancers")))
    td_arn = None
    if params.get("taskDefinition"):
        td_arn = self.ecs_backend.describe_task_definition(params["taskDefinition"]).arn
        controller = (service.spec.get("deploymentController") or {}).get("type", "ECS")
        if controller in CONTROLLER_REFUSALS and td_arn != service.task_definition_arn:
            raise InvalidParameterException(CONTROLLER_REFUSALS[controller])
    desired = params.get("desiredCount")
    if desired is not None and int(desired) < 0:
        raise InvalidParameterException("desiredCount can not be negative.")
    changes = {k: params[k] for k in ECHOED_FIELDS if k in params and params[k] is not None}
    shaping = any(k in changes and changes[k] != service.spec.get(k) for k in SHAPING_FIELDS)
    moto_action(self)   # keeps moto's shadow in step
    sim.update_service(service, td_arn, None if desired is None else int(desired), bool(params.get("forceNewDeployment")),
                       config, changes, shaping)
    return ActionResult({"service": service.describe(False, None, sim.params.max_events)})


def _describe_services(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    if len(params.get("services") or []) > MAX_DESCRIBE_SERVICES:
        raise InvalidParameterException(f"services can have at most {MAX_DESCRIBE_SERVICES} items.")
    cluster = self.ecs_backend._get_cluster(params.get("cluster", "default"))
    include_tags = "TAGS" in (params.get("include") or [])
    services, failures = [], []
    for name in params.get("services") or []:
        short = name.split("/")[-1]
        found = next((s for s in sim.services.values()
                      if s.cluster_arn == cluster.arn and name in (s.arn, s.name, short) and s.name == short), None)
        if found is None:
            failures.append({"arn": f"arn:aws:ecs:{self.region}:{self.current_account}:service/{cluster.name}/{short}",
                             "reason": "MISSING"})
            continue
        shadow = sim.shadow(found)
        services.append(found.describe(include_tags, shadow.tags if shadow else None, sim.params.max_events))
    _show_tags(self, DESCRIBE_SERVICES_TAGS, include_tags)
    return ActionResult({"services": services, "failures": failures})


def _delete_service(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    cluster = params.get("cluster", "default")
    _, service = _find_service(self, sim, cluster, params.get("service", ""))
    if service.status != "ACTIVE":
        raise ServiceNotActiveException()
    if service.desired_count > 0 and not params.get("force"):
        raise InvalidParameterException("The service cannot be stopped while it is scaled above 0.")
    moto_action(self)
    sim.delete_service(service)
    return ActionResult({"service": service.describe(False, None, sim.params.max_events)})


def _cluster_arn(self, params: dict) -> str:
    return self.ecs_backend._get_cluster(params.get("cluster", "default")).arn


def _list_tasks(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    cluster_arn = _cluster_arn(self, params)
    desired = params.get("desiredStatus") or RUNNING
    group = None
    if params.get("serviceName"):
        _, service = _find_service(self, sim, cluster_arn, params["serviceName"])
        group = f"service:{service.name}"
    family = params.get("family")
    arns = [
        t.arn for t in sim.tasks.values()
        if t.cluster_arn == cluster_arn and t.desired_status == desired
        and (group is None or t.group == group)
        and (params.get("startedBy") is None or t.started_by == params["startedBy"])
        and (family is None or t.task_definition_arn.rsplit("/", 1)[-1].split(":")[0] == family)
        and (params.get("launchType") is None or t.launch_type == params["launchType"])
    ]
    start, size = _page(params)
    result: dict[str, Any] = {"taskArns": arns[start:start + size]}
    if start + size < len(arns):
        result["nextToken"] = str(start + size)
    return ActionResult(result)


def _page(params: dict, default_size: int = 100) -> tuple[int, int]:
    """(offset, page size) from nextToken and maxResults, as ECS checks them."""
    size = params.get("maxResults")
    if size is not None and not 1 <= int(size) <= 100:
        raise InvalidParameterException("maxResults must be between 1 and 100.")
    token = params.get("nextToken")
    if token is not None and not str(token).isdigit():
        raise InvalidParameterException("Invalid nextToken.")
    return int(token or 0), int(size or default_size)


def _lookup_task(sim: Simulator, cluster_arn: str, ref: str) -> Task | None:
    task = sim.tasks.get(ref)
    if task is None:
        task = sim.tasks.get(f"{cluster_arn.replace(':cluster/', ':task/')}/{ref.rsplit('/', 1)[-1]}")
    return task if task is not None and task.cluster_arn == cluster_arn else None


def _describe_tasks(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    cluster_arn = _cluster_arn(self, params)
    if not params.get("tasks"):
        raise InvalidParameterException("Tasks cannot be empty.")
    if len(params["tasks"]) > MAX_DESCRIBE_TASKS:
        raise InvalidParameterException(f"tasks can have at most {MAX_DESCRIBE_TASKS} items.")
    include_tags = "TAGS" in (params.get("include") or [])
    tasks, failures = [], []
    for ref in params["tasks"]:
        task = _lookup_task(sim, cluster_arn, ref)
        if task is None:
            failures.append({"arn": ref, "reason": "MISSING"})
        else:
            tasks.append(_task_dict(task, include_tags))
    _show_tags(self, DESCRIBE_TASKS_TAGS, include_tags)
    return ActionResult({"tasks": tasks, "failures": failures})


def _show_tags(self, key_path: str, include: bool) -> None:
    # moto keeps "leave tags out" as class-level serializer state that persists
    # across requests (and mock sessions): set it on every answer, as moto does.
    if include:
        self._include_in_response(key_path)
    else:
        self._exclude_from_response(key_path)


def _stop_task(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    cluster_arn = _cluster_arn(self, params)
    task = _lookup_task(sim, cluster_arn, params.get("task", ""))
    if task is None:
        raise InvalidParameterException("The referenced task was not found.")
    sim.stop_task(task, params.get("reason"))
    return ActionResult({"task": _task_dict(task, False)})


def _register_task_definition(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    # ECS answers with `registeredAt` (moto does not): on the simulator's clock,
    # so a revision's age reads true next to the service events and deployments.
    result = moto_action(self)
    result.result["taskDefinition"].registered_at = ts(sim.clock.now())
    return result


def _run_task(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    cluster_arn = _cluster_arn(self, params)
    count = int(params.get("count") or 1)
    if not 1 <= count <= 10:
        raise InvalidParameterException(f"count {count} must be between 1 and 10.")
    if not params.get("taskDefinition"):
        raise InvalidParameterException("TaskDefinition can not be blank.")
    td = self.ecs_backend.describe_task_definition(params["taskDefinition"])
    overrides = params.get("overrides")
    names = {c["name"] for c in td.container_definitions}
    for override in (overrides or {}).get("containerOverrides", []):
        if override.get("name") not in names:
            raise InvalidParameterException(f"Override for container named {override.get('name')} is not a container in the TaskDefinition.")
    token = params.get("clientToken")
    if token and token in sim.run_tokens:  # RunTask is idempotent by clientToken: the same tasks again
        return ActionResult({"tasks": [_task_dict(sim.tasks[arn], False) for arn in sim.run_tokens[token] if arn in sim.tasks],
                             "failures": []})
    tasks = sim.run_task(cluster_arn, td.arn, count, params.get("startedBy"), params.get("group"), params.get("launchType"),
                         overrides)
    if token:
        sim.run_tokens[token] = [t.arn for t in tasks]
    return ActionResult({"tasks": [_task_dict(t, False) for t in tasks], "failures": []})


# -- the service deployments API ------------------------------------------------
def _list_service_deployments(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    if not params.get("service"):
        raise InvalidParameterException("service can not be empty.")
    _, service = _find_service(self, sim, params.get("cluster", "default"), params["service"])
    wanted = set(params.get("status") or [])
    unknown = wanted - set(records.ONGOING + records.COMPLETED)
    if unknown:
        raise InvalidParameterException(f"status {sorted(unknown)[0]} is not a service deployment status.")
    window = params.get("createdAt") or {}
    after, before = window.get("after"), window.get("before")
    found = [r for r in reversed(service.service_deployments)  # newest first
             if (not wanted or r.status in wanted)
             and (after is None or r.created_at >= _epoch(after)) and (before is None or r.created_at <= _epoch(before))]
    start, size = _page(params, default_size=20)  # ListServiceDeployments pages 20 by default
    result: dict[str, Any] = {"serviceDeployments": [r.brief() for r in found[start:start + size]]}
    if start + size < len(found):
        result["nextToken"] = str(start + size)
    return ActionResult(result)


def _epoch(value: Any) -> float:
    return value.timestamp() if hasattr(value, "timestamp") else float(value)


def _described(arns: list[str] | None, kind: str, found: Callable[[str], Any]) -> tuple[list, list]:
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


def _describe_service_deployments(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    def found(arn: str) -> dict | None:
        record = sim.service_deployments.get(arn)
        return record.describe(sim.services[record.service_arn]) if record else None
    items, failures = _described(_params(self).get("serviceDeploymentArns"), "serviceDeployment", found)
    return ActionResult({"serviceDeployments": items, "failures": failures})


def _describe_service_revisions(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    def found(arn: str) -> dict | None:
        revision = sim.revisions.get(arn)
        return revision.describe() if revision else None
    items, failures = _described(_params(self).get("serviceRevisionArns"), "serviceRevision", found)
    return ActionResult({"serviceRevisions": items, "failures": failures})


def _stop_service_deployment(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    arn, stop_type = params.get("serviceDeploymentArn"), params.get("stopType") or "ROLLBACK"
    if not arn:
        raise InvalidParameterException("serviceDeploymentArn can not be empty.")
    if stop_type not in ("ROLLBACK", "ABORT"):
        raise InvalidParameterException(f"stopType {stop_type} is not ROLLBACK or ABORT.")
    return ActionResult({"serviceDeploymentArn": sim.stop_service_deployment(arn, stop_type).arn})


def _continue_service_deployment(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    arn, hook, action = params.get("serviceDeploymentArn"), params.get("hookId"), params.get("action") or "CONTINUE"
    if not arn or not hook:
        raise InvalidParameterException("serviceDeploymentArn and hookId can not be empty.")
    if action not in ("CONTINUE", "ROLLBACK"):
        raise InvalidParameterException(f"action {action} is not CONTINUE or ROLLBACK.")
    return ActionResult({"serviceDeploymentArn": sim.continue_service_deployment(arn, hook, action).arn})
