"""The seam between moto and the simulator: the ECS API for services,
deployments and tasks.

moto's in-process mock and moto's server both answer ECS requests through
`moto.ecs.responses.EC2ContainerServiceResponse` action methods. `install(sim)`
replaces the methods of the actions the simulator owns with the functions
below (one patch point, removed by `uninstall`), so in-process and HTTP clients
go through one path. moto still parses and validates requests and keeps a
*shadow* of each service (ARN, tags, what Application Auto Scaling looks up);
the simulator answers with the state it owns, as dicts keyed as ECS keys
them; `wire.WireResult` puts them on the wire along botocore's output shapes
(moto's serializer, same JSON, was a third of a scenario's time).

One thin handler per owned ECS action: the request's parameters go to
`backend.SimulatedEcs`, which checks them as ECS does and changes the
simulator; what comes back is serialized by the models' own `describe`.
"""
from __future__ import annotations

import threading
from typing import Any, Callable

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from werkzeug.exceptions import HTTPException
from moto.ecs.responses import DESCRIBE_SERVICES_TAGS, DESCRIBE_TASKS_TAGS, EC2ContainerServiceResponse

from harness.ecs import moto_clock, task_definitions
from harness.ecs.backend import SimulatedEcs
from harness.ecs.simulator import Simulator
from harness.ecs.tasks import ts
from harness.ecs.wire import WireResult

OWNED_ACTIONS = (
    "create_service", "update_service", "describe_services", "delete_service",
    "list_tasks", "describe_tasks", "stop_task", "run_task", "register_task_definition",
    # the service deployments API (2024-25), which moto does not have
    "list_service_deployments", "describe_service_deployments", "describe_service_revisions",
    "stop_service_deployment", "continue_service_deployment",
)

_originals: dict[str, Callable | None] = {}  # None: an action moto does not have
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
            moto_clock.install(sim_now)
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
            moto_clock.restore()


def active() -> Simulator | None:
    return _active[-1] if _active else None


def sim_now() -> float | None:
    """The routed simulator's time (None: no simulator routed)."""
    sim = active()
    return sim.clock.now() if sim is not None else None


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
    action._harness_route = True  # type: ignore[attr-defined]  # a mark uninstall() looks for on moto's class
    return action


# -- handlers ----------------------------------------------------------------
def _params(self: EC2ContainerServiceResponse) -> dict:
    params = self._get_params()
    return dict(params.original_dict() if hasattr(params, "original_dict") else params)


def _ecs(self: EC2ContainerServiceResponse, sim: Simulator) -> SimulatedEcs:
    return SimulatedEcs(sim, self.ecs_backend, self.region, self.current_account)


def _described(sim: Simulator, service) -> dict[str, Any]:
    return service.describe(False, None, sim.params.max_events)


def _show_tags(self, key_path: str, include: bool) -> None:
    # moto keeps "leave tags out" as class-level serializer state that persists
    # across requests (and mock sessions): set it on every answer, as moto does.
    if include:
        self._include_in_response(key_path)
    else:
        self._exclude_from_response(key_path)


def _paged(key: str, items: list, next_token: str | None) -> ActionResult:
    return WireResult({key: items, **({"nextToken": next_token} if next_token else {})})


def _create_service(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    service = _ecs(self, sim).create_service(_params(self), lambda: moto_action(self).result["service"])
    shadow = sim.shadow(service)   # CreateService answers with the tags it was given
    return WireResult({"service": service.describe(True, shadow.tags if shadow else None, sim.params.max_events)})


def _update_service(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    service = _ecs(self, sim).update_service(_params(self), lambda: moto_action(self))
    return WireResult({"service": _described(sim, service)})


def _delete_service(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    service = _ecs(self, sim).delete_service(_params(self), lambda: moto_action(self))
    return WireResult({"service": _described(sim, service)})


def _describe_services(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    include_tags = "TAGS" in (params.get("include") or [])
    services, failures = _ecs(self, sim).describe_services(params)
    described = []
    for service in services:
        shadow = sim.shadow(service)
        described.append(service.describe(include_tags, shadow.tags if shadow else None, sim.params.max_events))
    _show_tags(self, DESCRIBE_SERVICES_TAGS, include_tags)
    return WireResult({"services": described, "failures": failures}, hidden=() if include_tags else (("Service", "tags"),))


def _list_tasks(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    return _paged("taskArns", *_ecs(self, sim).list_tasks(_params(self)))


def _describe_tasks(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    params = _params(self)
    include_tags = "TAGS" in (params.get("include") or [])
    tasks, failures = _ecs(self, sim).describe_tasks(params)
    _show_tags(self, DESCRIBE_TASKS_TAGS, include_tags)
    return WireResult({"tasks": [t.describe(include_tags) for t in tasks], "failures": failures},
                      hidden=() if include_tags else (("Task", "tags"),))


def _stop_task(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    return WireResult({"task": _ecs(self, sim).stop_task(_params(self)).describe()})


def _run_task(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    tasks = _ecs(self, sim).run_task(_params(self))
    return WireResult({"tasks": [t.describe() for t in tasks], "failures": []})


def _register_task_definition(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    # ECS's checks first (moto's are fewer), so nothing is registered that ECS refuses
    params = _params(self)
    kept = task_definitions.check_registration(params)
    result = moto_action(self)
    td = result.result["taskDefinition"]
    # ECS answers with `registeredAt` (moto does not): on the simulator's clock,
    # so a revision's age reads true next to the service events and deployments.
    td.registered_at = ts(sim.clock.now())
    td.registered_by = task_definitions.registered_by(self.current_account)
    td.requires_attributes = task_definitions.requires_attributes(params)
    td.cpu, td.memory = kept.get("cpu", td.cpu), kept.get("memory", td.memory)
    task_definitions.complete_port_mappings(td.container_definitions, td.network_mode)
    if params.get("tags"):
        result.result["tags"] = params["tags"]  # ECS echoes the revision's tags beside it
    return result


def _list_service_deployments(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    records, next_token = _ecs(self, sim).list_service_deployments(_params(self))
    return _paged("serviceDeployments", [r.brief() for r in records], next_token)


def _describe_service_deployments(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    items, failures = _ecs(self, sim).describe_service_deployments(_params(self))
    return WireResult({"serviceDeployments": items, "failures": failures})


def _describe_service_revisions(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    items, failures = _ecs(self, sim).describe_service_revisions(_params(self))
    return WireResult({"serviceRevisions": items, "failures": failures})


def _stop_service_deployment(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    return WireResult({"serviceDeploymentArn": _ecs(self, sim).stop_service_deployment(_params(self)).arn})


def _continue_service_deployment(self, sim: Simulator, moto_action: Callable) -> ActionResult:
    return WireResult({"serviceDeploymentArn": _ecs(self, sim).continue_service_deployment(_params(self)).arn})
