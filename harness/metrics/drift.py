"""Drift, as measured by a real `terraform plan -detailed-exitcode`: from the
Terraform runner's plan data (``harness.terraform.plan.PlanSummary``) to the
measured properties.

- ``drift_after_deploy``: right after CD deployed a new version, which resources
  would Terraform change, and which attributes (``container_definitions.0.image``).
- ``autoscaling_drift``: after auto scaling changed the service's desiredCount,
  does the plan want to set ``desired_count`` back?
"""
from __future__ import annotations

from typing import Any

from harness.metrics.results import AutoscalingDrift, DriftAfterDeploy, ResourceChange

DESIRED_COUNT = "desired_count"


def drift_after_deploy(plan: Any) -> DriftAfterDeploy:
    """The drift CD's deploy caused, from the ``PlanResult`` of the plan that followed it."""
    exit_code, changes = plan.exit_code, []
    if exit_code != 0:  # exit 0: no changes, and no `terraform show` needed to list them
        changes = [
            ResourceChange(address=c.address, actions=(c.action,), attributes=tuple(c.paths))
            for c in sorted(plan.summary.changes, key=lambda c: c.address)
        ]
    return DriftAfterDeploy(plan_exit_code=exit_code, changes=changes)


def autoscaling_drift(plan: Any, service_address: str, desired_count_ignored: bool) -> AutoscalingDrift:
    """Does the plan after a scale-out want to change ``desired_count`` of
    ``service_address`` (e.g. ``aws_ecs_service.app``)?"""
    exit_code = plan.exit_code
    wants_it_back = exit_code != 0 and any(
        c.address == service_address and any(path and path[0] == DESIRED_COUNT for path in c.changed)
        for c in plan.summary.changes
    )
    return AutoscalingDrift(drift=wants_it_back, desired_count_ignored=desired_count_ignored, plan_exit_code=exit_code)
