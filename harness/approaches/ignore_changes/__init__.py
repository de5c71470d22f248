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

from harness.approaches import Approach, Facts, InfraChange, owned, register
from harness.approaches.base import RevisionCd, Step, apply_through_terraform, replace_revision


@register
class IgnoreChanges(RevisionCd, Approach):
    name = "ignore-changes"
    facts = Facts(
        terraform_owns=owned(image=True, settings=True),
        ignores=("aws_ecs_service.app: task_definition",),
        notes=("Terraform's own revision declares image_tag, which is not what runs after a deploy",),
        rolls_back="updates the service to the revision that ran before",
        manual_rollback=("find the last revision that ran well", "update the service to it"),
    )

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
