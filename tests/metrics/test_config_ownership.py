"""Config ownership measured from Terraform's state and the running revision."""
from __future__ import annotations

import json

from harness.metrics.ownership import TEMPLATE_TAG, config_ownership

CONTAINER = {"name": "app", "image": "repo:prod", "environment": [{"name": "APP_ENV", "value": "prod"}],
             "secrets": [{"name": "APP_SECRET", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:x"}]}


def _state(family: str, arn: str, container: dict = CONTAINER) -> dict:
    task_definition = {"address": "aws_ecs_task_definition.app", "mode": "managed", "type": "aws_ecs_task_definition",
                       "values": {"family": family, "arn": arn, "cpu": "256", "memory": "512",
                                  "container_definitions": json.dumps([container])}}
    return {"values": {"root_module": {"resources": [], "child_modules": [
        {"address": "module.service", "resources": [task_definition]}]}}}


ALL = {"cpu": True, "memory": True, "environment": True, "secrets": True}
NONE = {"cpu": False, "memory": False, "environment": False, "secrets": False}


def test_a_revision_in_terraforms_family_is_configured_by_terraform() -> None:
    state = _state("app", "arn:aws:ecs:us-east-1:1:task-definition/app:1")
    measured = config_ownership(state, {"family": "app"}, {}, "app")
    assert measured.terraform_owns == ALL


def test_a_revision_copied_from_a_terraform_template_is_configured_by_terraform() -> None:
    template = "arn:aws:ecs:us-east-1:1:task-definition/app-template:3"
    state = _state("app-template", template)
    assert config_ownership(state, {"family": "app"}, {TEMPLATE_TAG: template}, "app").terraform_owns == ALL


def test_a_revision_from_the_app_repo_leaves_terraform_owning_nothing() -> None:
    state = _state("app-bootstrap", "arn:aws:ecs:us-east-1:1:task-definition/app-bootstrap:1",
                   {"name": "app", "image": "repo:bootstrap"})
    assert config_ownership(state, {"family": "app"}, {}, "app").terraform_owns == NONE


def test_only_what_terraforms_definition_declares_is_owned() -> None:
    state = _state("app", "arn:aws:ecs:us-east-1:1:task-definition/app:1", {"name": "app", "image": "repo:v1"})
    owns = config_ownership(state, {"family": "app"}, {}, "app").terraform_owns
    assert owns == {"cpu": True, "memory": True, "environment": False, "secrets": False}
