"""Application Auto Scaling for simulated services.

The scalable target (`ecs:service:DesiredCount`, min, max) lives in moto's
Application Auto Scaling backend, registered by clients as on AWS. A scenario
drives it: `set_desired(service, n, at=...)` acts as a scaling activity, clamped
to the target's min/max; `set_load(service, percent, at=...)` applies a target
tracking policy (desired = ceil(desired x load / target value)). Scale-in waits
while a deployment is IN_PROGRESS; scale-out goes ahead.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.ecs.services import SimulatedService
    from harness.ecs.cluster import Cluster


class ScalingError(ValueError):
    pass


class Scaling:
    def __init__(self, sim: "Cluster"):
        self.sim = sim

    def _backend(self, service: "SimulatedService"):
        return self.sim.moto.autoscaling(service.arn)

    def _resource_id(self, service: "SimulatedService") -> str:
        cluster = service.cluster_arn.rsplit("/", 1)[-1]
        return f"service/{cluster}/{service.name}"

    def _scalable(self, service: "SimulatedService"):
        return self._backend(service).targets.get("ecs:service:DesiredCount", {}).get(self._resource_id(service))

    def set_desired(self, service: "SimulatedService | str", count: int, at: float | None = None) -> None:
        svc = self.sim.service(service) if isinstance(service, str) else service
        target = self._scalable(svc)
        if target is None:
            raise ScalingError(f"service {svc.name} has no scalable target ecs:service:DesiredCount; register one first")
        clamped = max(target.min_capacity, min(target.max_capacity, count))
        self._when(at, lambda: self.sim.set_desired_count(svc, clamped, source="autoscaling"))

    def set_load(self, service: "SimulatedService | str", percent: float, at: float | None = None) -> None:
        svc = self.sim.service(service) if isinstance(service, str) else service
        policy = next((p for p in self._backend(svc).policies.values()
                       if p.resource_id == self._resource_id(svc) and p.policy_type == "TargetTrackingScaling"), None)
        if policy is None:
            raise ScalingError(f"service {svc.name} has no target tracking policy; put one first")
        target_value = float(policy.target_tracking_scaling_policy_configuration["TargetValue"])

        def apply() -> None:
            self.set_desired(svc, max(1, math.ceil(svc.desired_count * percent / target_value)))

        self._when(at, apply)

    def _when(self, at: float | None, fn) -> None:
        if at is None:
            fn()
        else:
            self.sim.clock.call_at(at, fn)
