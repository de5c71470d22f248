"""Drift measures from plan data, on `terraform show -json` documents shaped as
Terraform writes them."""
from __future__ import annotations

import json
from pathlib import Path

from harness.metrics.drift import autoscaling_drift, drift_after_deploy
from harness.metrics.results import ResourceChange
from harness.terraform.plan import PlanSummary
from harness.terraform.runner import PlanResult


def _containers(image: str) -> str:
    return json.dumps([{"name": "app", "image": image, "memory": 512}])


def _plan(*resource_changes: dict) -> dict:
    return {"format_version": "1.2", "resource_changes": list(resource_changes)}


def _change(address: str, actions: list[str], before: dict, after: dict) -> dict:
    return {"address": address, "type": address.split(".")[0], "name": address.split(".")[1],
            "change": {"actions": actions, "before": before, "after": after, "after_unknown": {}}}


def _result(exit_code: int, plan: dict) -> PlanResult:
    return PlanResult(exit_code, PlanSummary.from_json(plan), Path("plan.tfplan"))


def test_a_deploy_terraform_does_not_know_shows_as_a_task_definition_replacement() -> None:
    plan = _plan(
        _change("aws_ecs_task_definition.app", ["delete", "create"],
                {"container_definitions": _containers("repo/app:v2")}, {"container_definitions": _containers("repo/app:v1")}),
        _change("aws_ecs_service.app", ["update"], {"task_definition": "app:2", "desired_count": 2},
                {"task_definition": "app:1", "desired_count": 2}),
    )
    drift = drift_after_deploy(_result(2, plan))
    assert drift.drifted is True
    assert drift.changes == [
        ResourceChange("aws_ecs_service.app", ("update",), ("task_definition",)),
        ResourceChange("aws_ecs_task_definition.app", ("replace",), ("container_definitions.0.image",)),
    ]


def test_an_empty_plan_is_no_drift() -> None:
    drift = drift_after_deploy(_result(0, _plan()))
    assert (drift.drifted, drift.changes) == (False, [])


def test_an_unchanged_plan_is_measured_without_reading_the_plan_file() -> None:
    # `terraform show -json` is a provider start of its own: exit code 0 says all there is to say.
    shown: list[str] = []

    def show() -> PlanSummary:
        shown.append("show")
        return PlanSummary.from_json(_plan())

    assert drift_after_deploy(PlanResult(0, show, Path("plan.tfplan"))).drifted is False
    assert autoscaling_drift(PlanResult(0, show, Path("plan.tfplan")), "aws_ecs_service.app", False).drift is False
    assert shown == []
    changed = PlanResult(2, show, Path("plan.tfplan"))
    drift_after_deploy(changed)
    drift_after_deploy(changed)
    assert shown == ["show"]  # read once, on demand


def test_autoscaling_drift_is_a_planned_desired_count_change_on_the_service() -> None:
    wants_back = _plan(_change("aws_ecs_service.app", ["update"], {"desired_count": 6}, {"desired_count": 2}))
    measured = autoscaling_drift(_result(2, wants_back), "aws_ecs_service.app", desired_count_ignored=False)
    assert (measured.drift, measured.plan_exit_code) == (True, 2)

    other_change = _plan(_change("aws_ecs_service.app", ["update"], {"tags": {"a": "1"}}, {"tags": {"a": "2"}}))
    assert autoscaling_drift(_result(2, other_change), "aws_ecs_service.app", desired_count_ignored=True).drift is False
