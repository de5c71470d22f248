"""Realistic DescribeServices / DescribeTasks elements, checked against botocore's
ECS model so a misspelt field name fails here instead of passing silently."""
from __future__ import annotations

import datetime as dt
from typing import Any

import botocore.session
from botocore.validate import ParamValidator

_MODEL = botocore.session.get_session().get_service_model("ecs")
ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/prod"
T0 = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.timezone.utc)


def checked(shape_name: str, value: dict[str, Any]) -> dict[str, Any]:
    report = ParamValidator().validate(value, _MODEL.shape_for(shape_name))
    if report.has_errors():
        raise AssertionError(f"{shape_name} fixture does not match the ECS model:\n{report.generate_report()}")
    return value


def td(revision: int, family: str = "web") -> str:
    return f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/{family}:{revision}"


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def deployment(dep_id: str, revision: int, *, status: str = "PRIMARY", desired: int = 4, running: int = 0,
               pending: int = 0, failed: int = 0, rollout: str | None = "IN_PROGRESS", reason: str = "",
               created: float = 0.0) -> dict[str, Any]:
    value: dict[str, Any] = {
        "id": dep_id, "status": status, "taskDefinition": td(revision), "desiredCount": desired,
        "pendingCount": pending, "runningCount": running, "failedTasks": failed,
        "createdAt": at(created), "updatedAt": at(created), "launchType": "FARGATE",
    }
    if rollout is not None:
        value["rolloutState"] = rollout
        value["rolloutStateReason"] = reason or f"ECS deployment {dep_id} {rollout.lower().replace('_', ' ')}."
    return checked("Deployment", value)


def service(deployments: list[dict[str, Any]], *, desired: int = 4, running: int | None = None,
            breaker: bool = False, rollback: bool = False, events: list[dict[str, Any]] = (),
            tags: dict[str, str] | None = None) -> dict[str, Any]:
    primary = next(d for d in deployments if d["status"] == "PRIMARY")
    value = {
        "serviceArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/prod/web",
        "serviceName": "web", "clusterArn": CLUSTER_ARN, "status": "ACTIVE",
        "desiredCount": desired,
        "runningCount": sum(d["runningCount"] for d in deployments) if running is None else running,
        "pendingCount": sum(d["pendingCount"] for d in deployments),
        "taskDefinition": primary["taskDefinition"],
        "deploymentConfiguration": {
            "maximumPercent": 200, "minimumHealthyPercent": 100,
            "deploymentCircuitBreaker": {"enable": breaker, "rollback": rollback},
        },
        "deployments": deployments,
        "events": list(events),
        "tags": [{"key": k, "value": v} for k, v in (tags or {}).items()],
    }
    return checked("Service", value)


def event(event_id: str, message: str, seconds: float) -> dict[str, Any]:
    return checked("ServiceEvent", {"id": event_id, "createdAt": at(seconds), "message": message})


def stopped_task(task_id: str, revision: int, started_by: str, *, stop_code: str, reason: str,
                 exit_code: int | None = None, container_reason: str | None = None,
                 last_status: str = "STOPPED", stopped: float = 10.0) -> dict[str, Any]:
    container: dict[str, Any] = {
        "containerArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:container/prod/{task_id}/app",
        "taskArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/prod/{task_id}",
        "name": "app", "image": "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v2",
        "lastStatus": last_status,
    }
    if exit_code is not None:
        container["exitCode"] = exit_code
    if container_reason is not None:
        container["reason"] = container_reason
    value = {
        "taskArn": f"arn:aws:ecs:us-east-1:{ACCOUNT}:task/prod/{task_id}",
        "clusterArn": CLUSTER_ARN, "taskDefinitionArn": td(revision), "group": "service:web",
        "startedBy": started_by, "lastStatus": last_status, "desiredStatus": "STOPPED",
        "stopCode": stop_code, "stoppedReason": reason, "stoppingAt": at(stopped),
        "containers": [container], "launchType": "FARGATE",
    }
    if last_status == "STOPPED":
        value["stoppedAt"] = at(stopped + 1)
    return checked("Task", value)


def crashed(task_id: str, revision: int, started_by: str, stopped: float = 10.0) -> dict[str, Any]:
    return stopped_task(task_id, revision, started_by, stop_code="EssentialContainerExited",
                        reason="Essential container in task exited", exit_code=1, stopped=stopped)
