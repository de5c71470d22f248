"""Approach 3, container definition in the application repository: Terraform
owns the service (created with a dummy task definition, ``task_definition``
ignored) and the shared infrastructure; the task definition lives in the app
repo (``taskdef.json`` beside this module).

CD procedure:

- deploy N: render the app repo's ``taskdef.json`` with image
  ``<repository>:N`` (and the ARNs the app team copied from the infrastructure:
  here the Terraform outputs), ``ecs:RegisterTaskDefinition``,
  ``ecs:UpdateService``, watch; the revision that ran before stays the
  known-good one until the new one succeeds;
- roll back: ``ecs:UpdateService`` to the known-good revision, watch (what the
  ECS console's "update service to an earlier revision" does);
- infrastructure change: CPU, memory, environment and secret ARNs are in the
  app repo, not in Terraform: the change is an edit of ``taskdef.json`` and
  reaches the service with the next deploy. No Terraform runs (0 s).
"""
from __future__ import annotations

import json
from dataclasses import replace
import string
from pathlib import Path
from typing import Any, Sequence

from harness.approaches import Approach, ApproachError, Claims, InfraChange, Said, StandInDefinition, owned, register
from harness.approaches.base import Context, RevisionCd, Step
from harness.approaches.claims import CIRCUIT_BREAKER, no_person_needed

TASKDEF = Path(__file__).resolve().parent / "taskdef.json"


def render(template_text: str, values: dict[str, Any]) -> dict[str, Any]:
    """The app repo's task definition with ``${placeholders}`` filled; a missing value is an error."""
    try:
        return json.loads(string.Template(template_text).substitute({k: str(v) for k, v in values.items()}))
    except KeyError as err:
        raise ApproachError(f"taskdef.json needs a value for ${{{err.args[0]}}}") from None


@register
class AppRepo(RevisionCd, Approach):
    name = "app-repo"
    facts = replace(RevisionCd.FACTS, notes=("the service is created with a dummy task definition",))
    claims = Claims(
        plan_clean_after_deploy=Said(True),  # its Terraform holds only a dummy task definition
        version_readable=Said(True),  # "Easy to update image tag & push new version"
        moving_tag=Said(False),
        scale_out_skew=Said(False),
        infra_change_reaches=Said("next deploy"),  # the settings are in the app repo: the next deploy carries them
        # "infrastructure configuration would be stored outside Terraform (i.e. CPU/memory values, Secrets Manager ARNs)"
        terraform_owns=Said(owned(image=False, settings=False)),
        rollback=Said(no_person_needed(default=False), because=CIRCUIT_BREAKER,
                      today=no_person_needed({"alarm-after-release": False}, default=True)),
        rollback_moves_tag=Said(False),
        multi_service_release=Said(("web",)),  # CD deploys one service at a time and knows no release
    )

    @classmethod
    def stand_in_definition(cls, shared: Any) -> StandInDefinition:
        # Terraform creates the service with a dummy (bootstrap) task definition: the app repo holds the real one
        container = {"name": shared.container_name, "image": f"{shared.repository_url}:{shared.initial_tag}",
                     "essential": True}
        return StandInDefinition(f"{shared.name}-bootstrap", container)

    def __init__(self, context: Context, taskdef: Path = TASKDEF) -> None:
        super().__init__(context)
        self.taskdef_text = taskdef.read_text()
        self.edits: list[InfraChange] = []  # commits to the app repo since the checkout

    def task_definition(self, image: str) -> dict[str, Any]:
        """The app repo's task definition for ``image``, with the edits made so far."""
        c = self.context
        # the Region CD deploys to: the log group is there (a fixed one fails every task elsewhere)
        values = {"family": c.output("family"), "image": image, "container_name": c.container,
                  "environment": c.environment, "region": self.ecs.meta.region_name, **{k: c.output(k) for k in (
                      "execution_role_arn", "task_role_arn", "secret_arn", "log_group_name")}}
        definition = render(self.taskdef_text, values)
        for change in self.edits:
            _edit(definition, c.container, change)
        return definition

    def deploy(self, version: str) -> Step:
        image = f"{self.context.output('repository_url')}:{version}"
        return self.deploy_image(image, lambda image: self.ecs.register_task_definition(
            **self.task_definition(image))["taskDefinition"]["taskDefinitionArn"])

    def apply_infra_changes(self, changes: Sequence[InfraChange]) -> float:
        self.edits.extend(changes)
        return 0.0


def _edit(definition: dict[str, Any], container_name: str, change: InfraChange) -> None:
    container = next(c for c in definition["containerDefinitions"] if c["name"] == container_name)
    if change.setting in ("cpu", "memory"):
        definition[change.setting] = str(change.value)
    elif change.setting == "environment":
        merged = {e["name"]: e["value"] for e in container.get("environment", [])} | dict(change.value)
        container["environment"] = [{"name": k, "value": v} for k, v in merged.items()]
    elif change.setting == "secrets":
        merged = {s["name"]: s["valueFrom"] for s in container.get("secrets", [])} | dict(change.value)
        container["secrets"] = [{"name": k, "valueFrom": v} for k, v in merged.items()]
