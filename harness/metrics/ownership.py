"""Where configuration lives, measured: which container settings (CPU, memory,
environment, secret ARNs) of the revision the service runs come from a task
definition Terraform manages.

The running revision (after a CD deploy) derives from a Terraform-managed task
definition when it is in the same family (approaches 1, 2, 4: Terraform's own
family) or when its provenance tag names one (approach 5: the deploy tool tags
each revision with the template it copied). Terraform then owns the settings
that task definition declares. A revision derived from nothing Terraform
manages (approach 3: the app repo's JSON) leaves Terraform owning none.
"""
from __future__ import annotations

import json
from typing import Any, Iterator, Mapping

from harness.metrics.results import CONFIG_SETTINGS, ConfigOwnership

TEMPLATE_TAG = "ecs-template-deploy:template"  # the deploy tool's provenance tag (its value: the template's ARN)


def managed_task_definitions(state: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The ``values`` of every aws_ecs_task_definition in `terraform show -json` state, modules included."""
    def walk(module: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        for resource in module.get("resources", []):
            if resource.get("type") == "aws_ecs_task_definition" and resource.get("mode", "managed") == "managed":
                yield resource["values"]
        for child in module.get("child_modules", []):
            yield from walk(child)

    yield from walk(state.get("values", {}).get("root_module", {}))


def _family_of(arn: str) -> str:
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[0]


def declared_settings(values: Mapping[str, Any], container: str) -> dict[str, bool]:
    """Which settings a Terraform task definition declares for ``container``."""
    containers = values.get("container_definitions") or "[]"
    if isinstance(containers, str):
        containers = json.loads(containers)
    found: Mapping[str, Any] = next((c for c in containers if c.get("name") == container), {})
    return {
        "cpu": bool(values.get("cpu") or found.get("cpu")),
        "memory": bool(values.get("memory") or found.get("memory") or found.get("memoryReservation")),
        "environment": bool(found.get("environment") or found.get("environmentFiles")),
        "secrets": bool(found.get("secrets")),
    }


def config_ownership(state: Mapping[str, Any], running: Mapping[str, Any], running_tags: Mapping[str, str],
                     container: str) -> ConfigOwnership:
    """``running`` is DescribeTaskDefinition's ``taskDefinition`` of the service's
    revision, ``running_tags`` its tags (key -> value)."""
    managed = list(managed_task_definitions(state))
    source = next((v for v in managed if v.get("family") == running.get("family")), None)
    template_arn = running_tags.get(TEMPLATE_TAG)
    if source is None and template_arn:
        source = next((v for v in managed if v.get("arn") == template_arn
                       or v.get("family") == _family_of(template_arn)), None)
    if source is None:
        return ConfigOwnership(terraform_owns={setting: False for setting in CONFIG_SETTINGS})
    return ConfigOwnership(terraform_owns=declared_settings(source, container))
