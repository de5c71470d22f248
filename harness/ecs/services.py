"""Services and their deployments: the state DescribeServices reports."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from harness.ecs import placement
from harness.ecs.tasks import ALIVE, PENDING, RUNNING, Task, ts

PRIMARY, ACTIVE, INACTIVE = "PRIMARY", "ACTIVE", "INACTIVE"
IN_PROGRESS, COMPLETED, FAILED = "IN_PROGRESS", "COMPLETED", "FAILED"


def circuit_breaker_threshold(desired: int, threshold_configuration: dict | None = None) -> int:
    """Default (BOUNDED_PERCENT 50): 0.5 x desiredCount, rounded up, at least 3
    and at most 200. `thresholdConfiguration` (newer ECS) may say COUNT n or
    UNBOUNDED_PERCENT p instead."""
    config = threshold_configuration or {}
    kind, value = config.get("type", "BOUNDED_PERCENT"), config.get("value", 50)
    if kind == "COUNT":
        return max(1, value)
    percent = math.ceil(desired * value / 100)
    if kind == "UNBOUNDED_PERCENT":
        return max(1, percent)
    return min(200, max(3, percent))


@dataclass(eq=False)
class SimulatedDeployment:
    """The simulator's state of one `ecs-svc/` deployment (what DescribeServices' `deployments`
    are written from); named apart from ``ecs_template_deploy.views.Deployment``, the view of one."""

    id: str
    service_arn: str
    task_definition_arn: str
    created_at: float
    updated_at: float
    # container name -> digest resolved at creation (software version consistency);
    # None for containers with versionConsistency "disabled" or a failed resolution.
    digests: dict[str, str | None]
    pull_errors: dict[str, str]
    status: str = PRIMARY
    rollout_state: str = IN_PROGRESS
    rollout_state_reason: str = ""
    desired_count: int = 0
    failed_tasks: int = 0
    tasks: list[Task] = field(default_factory=list)
    launch_type: str | None = None
    platform_version: str | None = None
    network_configuration: dict | None = None
    volume_configurations: list | None = None  # service-managed EBS volumes its tasks get
    revision: Any = None            # deployments.ServiceRevision it rolls out
    alarms_ignored: frozenset = frozenset()  # alarms already in ALARM when it started
    settled_at: float | None = None  # when it was alone, full and healthy (a bake counts from here)
    shift: Any = None               # strategies.Shift of a blue/green, linear or canary deployment
    target_group: str | None = None  # where its tasks register, if not the service's first target group
    start_failures: int = 0          # its tasks that failed to start, in a row (a task reaching RUNNING resets)
    throttle_delay: float = 0.0      # the gap ECS leaves between start attempts now (0: not throttled)
    throttled_until: float = 0.0
    service_deployment: Any = None  # deployments.SimulatedServiceDeployment it belongs to (a rollback's: the one it undoes)

    def alive_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.last_status in ALIVE]

    def wanted_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.wanted and t.last_status in ALIVE]

    def count(self, status: str) -> int:
        return sum(1 for t in self.tasks if t.last_status == status)

    def describe(self, service: "SimulatedService") -> dict[str, Any]:
        desired = service.desired_count if self.status == PRIMARY else len(self.wanted_tasks())
        out: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "taskDefinition": self.task_definition_arn,
            "desiredCount": desired,
            "pendingCount": self.count(PENDING),
            "runningCount": self.count(RUNNING),
            "failedTasks": self.failed_tasks,
            "createdAt": ts(self.created_at),
            "updatedAt": ts(self.updated_at),
            "rolloutState": self.rollout_state,
            "rolloutStateReason": self.rollout_state_reason,
        }
        if self.launch_type:
            out["launchType"] = self.launch_type
        if self.launch_type == "FARGATE":   # as its tasks run: LATEST resolved
            out["platformVersion"] = placement.fargate_version(self.platform_version)
            out["platformFamily"] = placement.FARGATE_FAMILY
        elif self.platform_version:
            out["platformVersion"] = self.platform_version
        if self.network_configuration:
            out["networkConfiguration"] = self.network_configuration
        if self.volume_configurations:
            out["volumeConfigurations"] = self.volume_configurations
        return out


@dataclass(eq=False)
class SimulatedService:
    """The simulator's state of one service; named apart from ``ecs_template_deploy.views.Service``,
    the view of a DescribeServices answer the harness reads services through."""

    arn: str
    name: str
    cluster_arn: str
    desired_count: int
    task_definition_arn: str
    created_at: float
    deployment_configuration: dict
    # everything else the request set and DescribeServices echoes back
    spec: dict
    status: str = "ACTIVE"
    deployments: list[SimulatedDeployment] = field(default_factory=list)   # newest first, INACTIVE dropped
    history: list[SimulatedDeployment] = field(default_factory=list)       # every deployment ever, oldest first
    events: list[dict] = field(default_factory=list)              # newest first
    steady: bool = False
    # desired count an autoscaling scale-in asked for while a deployment ran
    deferred_scale_in: int | None = None
    service_deployments: list = field(default_factory=list)      # deployments.SimulatedServiceDeployment, oldest first
    live_target_group: str | None = None  # blue/green: the target group production traffic goes to now
    # CreateService/UpdateService volumeConfigurations: ECS shows them on deployments, not the service
    volume_configurations: list | None = None

    @property
    def primary(self) -> SimulatedDeployment:
        return self.deployments[0]

    @property
    def load_balancers(self) -> list[dict]:
        return self.spec.get("loadBalancers") or []

    @property
    def min_healthy_percent(self) -> int:
        return self.deployment_configuration["minimumHealthyPercent"]

    @property
    def max_percent(self) -> int:
        return self.deployment_configuration["maximumPercent"]

    @property
    def circuit_breaker(self) -> dict:
        return self.deployment_configuration.get("deploymentCircuitBreaker") or {"enable": False, "rollback": False}

    def tasks(self) -> list[Task]:
        return [t for d in self.deployments for t in d.tasks]

    def current_revisions(self) -> list[dict[str, Any]]:
        """ServiceCurrentRevisionSummary: each revision a deployment of the service runs now."""
        out: dict[str, dict[str, Any]] = {}
        for d in self.deployments:
            if d.revision is None:
                continue
            summary = out.setdefault(d.revision.arn, {"arn": d.revision.arn, "requestedTaskCount": 0,
                                                      "runningTaskCount": 0, "pendingTaskCount": 0})
            summary["requestedTaskCount"] += self.desired_count if d.status == PRIMARY else len(d.wanted_tasks())
            summary["runningTaskCount"] += d.count(RUNNING)
            summary["pendingTaskCount"] += d.count(PENDING)
        return list(out.values())

    def describe(self, include_tags: bool, tags: list | None, max_events: int) -> dict[str, Any]:
        out = dict(self.spec)
        out.update(
            serviceArn=self.arn,
            serviceName=self.name,
            clusterArn=self.cluster_arn,
            status=self.status,
            desiredCount=self.desired_count,
            runningCount=sum(d.count(RUNNING) for d in self.deployments),
            pendingCount=sum(d.count(PENDING) for d in self.deployments),
            taskDefinition=self.task_definition_arn,
            deploymentConfiguration=self.deployment_configuration,
            deployments=[d.describe(self) for d in self.deployments],
            events=self.events[:max_events],
            createdAt=ts(self.created_at),
        )
        if self.service_deployments:
            out["currentServiceDeployment"] = self.service_deployments[-1].arn
            out["currentServiceRevisions"] = self.current_revisions()
        if self.spec.get("launchType") == "FARGATE":
            out["platformFamily"] = placement.FARGATE_FAMILY
        if include_tags and tags:
            out["tags"] = tags
        return out
