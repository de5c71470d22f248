"""Service revisions and service deployments (ECS, 2024-25): the records ECS keeps
of every deployment, beside the older `deployments` list of DescribeServices.

- A *service revision* is what one deployment-starting CreateService or
  UpdateService asked for (task definition, images resolved to digests, load
  balancers, network): immutable. A rollback makes none: it returns to the
  revision of the last successful deployment.
- A *service deployment* is one move from source revisions to a target
  revision, with a status (PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED,
  STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS,
  ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED) and the state of what watches it (the
  circuit breaker, alarms). A rollback shows on the deployment that failed:
  ROLLBACK_* status and `rollback.serviceRevisionArn`.

Each service deployment drives one deployment of the older list (`ecs-svc/`
ids); a rollback's `ecs-svc/` deployment belongs to the deployment it rolls
back. Choices the documentation leaves open are marked "(modelled)".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.ecs.services import ts

if TYPE_CHECKING:
    from harness.ecs.services import SimulatedDeployment, SimulatedService

PENDING, IN_PROGRESS, SUCCESSFUL, STOPPED = "PENDING", "IN_PROGRESS", "SUCCESSFUL", "STOPPED"
STOP_REQUESTED, ROLLBACK_REQUESTED = "STOP_REQUESTED", "ROLLBACK_REQUESTED"
ROLLBACK_IN_PROGRESS, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED = "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"
ONGOING = (PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS)
COMPLETED = (SUCCESSFUL, STOPPED, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED)
# the monitors' (circuit breaker, alarms) status
TRIGGERED, MONITORING, MONITORING_COMPLETE, DISABLED = "TRIGGERED", "MONITORING", "MONITORING_COMPLETE", "DISABLED"
MAX_DESCRIBE = 20


@dataclass(eq=False)
class ServiceRevision:
    arn: str
    service_arn: str
    cluster_arn: str
    task_definition_arn: str
    created_at: float
    container_images: list[dict[str, str]]  # containerName, image, imageDigest
    spec: dict[str, Any]  # launchType, platformVersion, loadBalancers, networkConfiguration, ...

    def describe(self) -> dict[str, Any]:
        out = {
            "serviceRevisionArn": self.arn, "serviceArn": self.service_arn, "clusterArn": self.cluster_arn,
            "taskDefinition": self.task_definition_arn, "containerImages": self.container_images,
            "createdAt": ts(self.created_at), "guardDutyEnabled": False,
        }
        for key in ("launchType", "platformVersion", "loadBalancers", "serviceRegistries", "networkConfiguration",
                    "capacityProviderStrategy", "serviceConnectConfiguration", "volumeConfigurations"):
            if self.spec.get(key) not in (None, [], {}):
                out[key] = self.spec[key]
        return out


@dataclass(eq=False)
class SimulatedServiceDeployment:
    """The simulator's record of one service deployment (ListServiceDeployments); named apart
    from ``ecs_template_deploy.views.ServiceDeployment``, the view of one."""

    arn: str
    service_arn: str
    cluster_arn: str
    created_at: float
    target: ServiceRevision
    sources: list[ServiceRevision]
    deployment: "SimulatedDeployment"  # the `ecs-svc/` deployment rolling the target out
    configuration: dict[str, Any]  # deploymentConfiguration as it was when the deployment started
    status: str = PENDING
    status_reason: str = ""
    started_at: float | None = None
    finished_at: float | None = None
    stopped_at: float | None = None
    updated_at: float | None = None
    rollback: dict[str, Any] | None = None
    rollback_deployment: "SimulatedDeployment | None" = None  # the `ecs-svc/` deployment taking it back
    breaker: dict[str, Any] = field(default_factory=dict)
    alarms: dict[str, Any] = field(default_factory=dict)
    lifecycle_stage: str | None = None
    hook_details: list[dict[str, Any]] = field(default_factory=list)
    # requested traffic weights of the target revision (blue/green family), None: not shifted by ECS
    production_weight: float | None = None
    test_weight: float | None = None

    @property
    def ongoing(self) -> bool:
        return self.status in ONGOING

    def move(self, status: str, now: float, reason: str = "") -> None:
        self.status = status
        self.updated_at = now
        if reason:
            self.status_reason = reason
        if status in COMPLETED:
            self.finished_at = now
            for monitor in (self.breaker, self.alarms):
                if monitor.get("status") == MONITORING:
                    monitor["status"] = MONITORING_COMPLETE

    def _summary(self, revision: ServiceRevision, service: "SimulatedService") -> dict[str, Any]:
        tasks = [t for d in service.deployments if d.revision is revision for t in d.tasks if t.alive]
        wanted_by_ecs = revision is self.target and (self.ongoing or self.status == SUCCESSFUL)
        out: dict[str, Any] = {
            "arn": revision.arn,
            "requestedTaskCount": service.desired_count if wanted_by_ecs else sum(1 for t in tasks if t.wanted),
            "runningTaskCount": sum(1 for t in tasks if t.last_status == "RUNNING"),
            "pendingTaskCount": sum(1 for t in tasks if t.last_status == "PENDING"),
        }
        if revision is self.target and self.production_weight is not None:
            out["requestedProductionTrafficWeight"] = self.production_weight
            out["requestedTestTrafficWeight"] = self.test_weight if self.test_weight is not None else self.production_weight
        return out

    def describe(self, service: "SimulatedService") -> dict[str, Any]:
        out: dict[str, Any] = {
            "serviceDeploymentArn": self.arn, "serviceArn": self.service_arn, "clusterArn": self.cluster_arn,
            "createdAt": ts(self.created_at), "updatedAt": ts(self.updated_at or self.created_at),
            "sourceServiceRevisions": [self._summary(r, service) for r in self.sources],
            "targetServiceRevision": self._summary(self.target, service),
            "status": self.status, "deploymentConfiguration": self.configuration,
            "deploymentCircuitBreaker": dict(self.breaker), "alarms": dict(self.alarms),
        }
        for key, value in (("startedAt", self.started_at), ("finishedAt", self.finished_at), ("stoppedAt", self.stopped_at)):
            if value is not None:
                out[key] = ts(value)
        if self.status_reason:
            out["statusReason"] = self.status_reason
        if self.rollback:
            out["rollback"] = {**self.rollback, "startedAt": ts(self.rollback["startedAt"])}
        if self.lifecycle_stage:
            out["lifecycleStage"] = self.lifecycle_stage
        if self.hook_details:
            out["lifecycleHookDetails"] = [{k: (ts(v) if k == "expiresAt" else v) for k, v in h.items()}
                                           for h in self.hook_details]
        return out

    def brief(self) -> dict[str, Any]:
        out = {"serviceDeploymentArn": self.arn, "serviceArn": self.service_arn, "clusterArn": self.cluster_arn,
               "createdAt": ts(self.created_at), "targetServiceRevisionArn": self.target.arn, "status": self.status}
        for key, value in (("startedAt", self.started_at), ("finishedAt", self.finished_at)):
            if value is not None:
                out[key] = ts(value)
        if self.status_reason:
            out["statusReason"] = self.status_reason
        return out


def monitors(configuration: dict[str, Any], threshold: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(deploymentCircuitBreaker, alarms) as a new deployment starts watching."""
    breaker_on = bool((configuration.get("deploymentCircuitBreaker") or {}).get("enable"))
    alarms = configuration.get("alarms") or {}
    alarms_on = bool(alarms.get("enable")) and bool(alarms.get("alarmNames"))
    return ({"status": MONITORING if breaker_on else DISABLED, "failureCount": 0, "threshold": threshold},
            {"status": MONITORING if alarms_on else DISABLED, "alarmNames": list(alarms.get("alarmNames") or []),
             "triggeredAlarmNames": []})
