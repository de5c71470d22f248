"""Approach 2, ignore changes: Terraform owns the task definition and the
service, and ignores the service's ``task_definition`` so the revisions CD
registers are not drift.

CD procedure (the article's "aws CLI and jq" style, with boto3):

- deploy N: read the family's latest revision (``ecs:DescribeTaskDefinition``
  of the family), register a copy with image ``<repository>:N``,
  ``ecs:UpdateService`` to it, watch. The revision running before is kept as
  the known-good one when the new one succeeds;
- roll back: ``ecs:UpdateService`` to the known-good revision, watch;
- infrastructure change: `terraform apply` of the changed variable. Terraform
  replaces its own revision (with the image *it* declares); the service, whose
  task_definition it ignores, keeps running CD's revision until the next deploy
  copies the latest revision, Terraform's, and so picks the change up.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from harness.approaches import Approach, Claims, InfraChange, Said, StandInDefinition, owned, register
from harness.approaches.base import RevisionCd, Step, apply_through_terraform, replace_revision, terraform_container
from harness.approaches.claims import CIRCUIT_BREAKER, no_person_needed


@register
class IgnoreChanges(RevisionCd, Approach):
    name = "ignore-changes"
    facts = replace(RevisionCd.FACTS, notes=("Terraform's own revision declares image_tag, which is not what runs after a deploy",))
    claims = Claims(
        plan_clean_after_deploy=Said(True),  # it ignores task_definition so CD's revisions are not drift
        version_readable=Said(True),  # "Allows for declaring an explicit application artifact version"
        moving_tag=Said(False),
        scale_out_skew=Said(False),
        infra_change_reaches=Said("next deploy"),  # the service keeps CD's revision until CD copies Terraform's
        terraform_owns=Said(owned(image=True, settings=True)),
        rollback=Said(no_person_needed(default=False), because=CIRCUIT_BREAKER,
                      today=no_person_needed({"alarm-after-release": False}, default=True)),
        rollback_moves_tag=Said(False),
        multi_service_release=Said(("web",)),  # CD deploys one service at a time and knows no release
        quotes={"declaration-overwritten": "Infrastructure configuration changes could overwrite declaration of "
                                           "application artifact version"},
    )

    @classmethod
    def stand_in_definition(cls, shared: Any) -> StandInDefinition:
        return StandInDefinition(shared.name, terraform_container(shared, f"{shared.repository_url}:{shared.initial_tag}"),
                                 {"taskRoleArn": shared.task_role_arn},
                                 # the revision Terraform registered and tracks: what an infrastructure change replaces
                                 outputs=lambda arn: {"task_definition_arn": arn})

    def deploy(self, version: str) -> Step:
        image = f"{self.context.output('repository_url')}:{version}"
        family = str(self.context.output("family"))
        return self.deploy_image(image, lambda image: self.register_with_image(family, image))

    def apply_infra_changes(self, changes: Sequence[InfraChange]) -> float:
        if self.context.terraform is not None:
            return apply_through_terraform(self.context, changes)
        # the stand-in's Terraform: replace its own revision (image_tag as Terraform
        # declares it); the service, whose task_definition it ignores, is not touched
        for change in changes:
            self.context.outputs["task_definition_arn"] = replace_revision(
                self.ecs, self.context.output("task_definition_arn"), self.context.container, change.setting, change.value)
        return 0.0
