"""The plan parser on plan JSON recorded from real runs of the template
approach's configuration against `harness serve` (see plans/README.md)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.terraform.plan import PlanSummary, ResourceChange, diff_paths

PLANS = Path(__file__).parent / "plans"


def recorded(name: str) -> PlanSummary:
    return PlanSummary.from_json(json.loads((PLANS / f"{name}.json").read_text()))


def test_clean_apply_plans_no_change_and_only_the_role_refresh_drift():
    clean = recorded("clean")
    assert clean.is_empty
    assert clean.changes == ()
    # Refresh notices the policies attached to the role after it was created:
    # Terraform's own artefact, present in every baseline.
    assert clean.drift_paths() == {
        ("module.base.aws_iam_role.execution", "inline_policy"),
        ("module.base.aws_iam_role.execution", "managed_policy_arns"),
    }


def test_memory_change_replaces_the_template_and_leaves_the_service_alone():
    plan = recorded("memory_change")
    assert plan.by_action() == {"replace": ["aws_ecs_task_definition.template"]}
    template = plan.change("aws_ecs_task_definition.template")
    assert template.paths == ["memory"]
    assert template.replace_paths == (("memory",),)
    assert ("revision",) in template.unknown  # a new revision, known after apply
    assert plan.output_changes == ("template_arn",)
    with pytest.raises(KeyError, match="aws_ecs_service.app has no planned change"):
        plan.change("aws_ecs_service.app")


def test_out_of_band_changes_are_drift_and_only_unignored_ones_are_changes():
    plan = recorded("out_of_band")
    # CD moved the service's task definition and autoscaling its count: both
    # ignored by the configuration, so drift without a planned change...
    assert plan.drifted("aws_ecs_service.app").paths == ["desired_count", "task_definition"]
    # ...while the log group's retention, changed by hand, is reverted.
    assert plan.by_action() == {"update": ["module.base.aws_cloudwatch_log_group.app"]}
    assert plan.change("module.base.aws_cloudwatch_log_group.app").paths == ["retention_in_days"]
    assert plan.drift_since(recorded("clean")) == {
        ("aws_ecs_service.app", "desired_count"),
        ("aws_ecs_service.app", "task_definition"),
        ("module.base.aws_cloudwatch_log_group.app", "retention_in_days"),
    }


def test_unset_values_read_back_differently_are_not_changes():
    assert list(diff_paths({"tags": None, "ipc_mode": ""}, {"tags": {}, "ipc_mode": None})) == []


def test_json_encoded_attributes_are_compared_field_by_field():
    before = {"container_definitions": json.dumps([{"name": "app", "image": "repo:v1", "memory": 512}])}
    after = {"container_definitions": json.dumps([{"image": "repo:v2", "memory": 512, "name": "app"}])}
    assert list(diff_paths(before, after)) == [("container_definitions", 0, "image")]


def test_unknown_values_are_listed_apart_from_known_differences():
    change = ResourceChange.from_json({
        "address": "aws_ecs_service.app",
        "type": "aws_ecs_service",
        "change": {
            "actions": ["update"],
            "before": {"task_definition": "arn:td:1", "desired_count": 2},
            "after": {"task_definition": None, "desired_count": 3},
            "after_unknown": {"task_definition": True},
        },
    })
    assert change.action == "update"
    assert change.paths == ["desired_count"]
    assert change.unknown == (("task_definition",),)


@pytest.mark.parametrize(
    ("actions", "expected"),
    [(["no-op"], "no-op"), (["create"], "create"), (["update"], "update"), (["delete"], "delete"),
     (["delete", "create"], "replace"), (["create", "delete"], "replace")],
)
def test_action_names(actions, expected):
    change = ResourceChange.from_json(
        {"address": "a.b", "type": "a", "change": {"actions": actions, "before": None, "after": None}}
    )
    assert change.action == expected


def test_a_resource_deleted_out_of_band_is_drift():
    plan = PlanSummary.from_json({
        "resource_drift": [{"address": "aws_ecr_repository.app", "type": "aws_ecr_repository",
                            "change": {"actions": ["delete"], "before": {"name": "x"}, "after": None}}],
        "resource_changes": [{"address": "aws_ecr_repository.app", "type": "aws_ecr_repository",
                              "change": {"actions": ["create"], "before": None, "after": {"name": "x"}}}],
    })
    assert plan.drift_paths() == {("aws_ecr_repository.app", "<resource>")}
    assert plan.by_action() == {"create": ["aws_ecr_repository.app"]}
