"""Approach 1, persistent tag: Terraform owns the task definition, whose image
is ``<repository>:<environment>``; CD deploys by moving that tag in ECR to the
new image and forcing a new deployment, then watches the rollout.

CD procedure (what the article's CD script does, with boto3):

- deploy N: ``ecr:BatchGetImage`` of tag N, ``ecr:PutImage`` of that manifest
  as ``<environment>``, ``ecs:UpdateService --force-new-deployment``, watch;
  when the rollout succeeds, mark it known-good by also tagging it
  ``<environment>-known-good`` (the durable record a later rollback reads:
  the task definition cannot say what ran);
- roll back: move ``<environment>`` back to the ``<environment>-known-good``
  manifest, force a new deployment, watch ("rollbacks require re-updating the
  image tag before deploying");
- infrastructure change: `terraform apply` of the changed variable (the task
  definition is Terraform's; the service follows it at once).

With ECS software version consistency (2024), a forced deployment resolves the
tag to a digest once, so tasks started later by a scale-out keep that digest.
"""
from __future__ import annotations

from typing import Any, Sequence

from harness.approaches import Approach, ApproachError, Facts, InfraChange, owned, register
from harness.approaches.base import ACCEPTED_MEDIA_TYPES, Context, EcsCd, Step, apply_through_terraform, replace_revision


@register
class PersistentTag(EcsCd, Approach):
    name = "persistent-tag"
    facts = Facts(
        terraform_owns=owned(image=True, settings=True),
        notes=("the image Terraform declares is a moving tag: the task definition never names the version",),
        rolls_back="moves the tag back to the known-good image in ECR and forces a new deployment",
        manual_rollback=("find the known-good image digest", "move the environment tag back to it in ECR",
                         "force a new deployment of the service"),
    )

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.ecr = context.client("ecr")

    @property
    def tag(self) -> str:
        return self.context.environment

    @property
    def known_good_tag(self) -> str:
        return f"{self.context.environment}-known-good"

    @property
    def image(self) -> str:
        return f"{self.context.output('repository_url')}:{self.tag}"

    def _manifest(self, tag: str) -> dict[str, Any]:
        answer = self.ecr.batch_get_image(repositoryName=self.context.output("repository_name"),
                                          imageIds=[{"imageTag": tag}], acceptedMediaTypes=list(ACCEPTED_MEDIA_TYPES))
        if not answer.get("images"):
            raise ApproachError(f"no image tagged {tag!r} in {self.context.output('repository_name')}: push it first")
        return answer["images"][0]

    def _move_tag(self, tag: str, image: dict[str, Any]) -> None:
        kwargs = {"repositoryName": self.context.output("repository_name"), "imageManifest": image["imageManifest"],
                  "imageTag": tag}
        if image.get("imageManifestMediaType"):
            kwargs["imageManifestMediaType"] = image["imageManifestMediaType"]
        try:
            self.ecr.put_image(**kwargs)
        except self.ecr.exceptions.ImageAlreadyExistsException:
            pass  # the tag already points at this manifest

    def deploy(self, version: str) -> Step:
        image = self._manifest(version)
        self._move_tag(self.tag, image)
        outcome = self.update_and_watch(force=True)
        if outcome.succeeded:
            self._move_tag(self.known_good_tag, image)
        return Step(outcome.task_definition or self.current_task_definition(), self.image, outcome)

    def rollback(self) -> Step:
        self._move_tag(self.tag, self._manifest(self.known_good_tag))
        outcome = self.update_and_watch(force=True)
        return Step(outcome.task_definition or self.current_task_definition(), self.image, outcome)

    def apply_infra_changes(self, changes: Sequence[InfraChange]) -> float:
        if self.context.terraform is not None:
            return apply_through_terraform(self.context, changes)
        # the stand-in's Terraform: replace its revision, and the service (whose
        # task_definition Terraform owns here) follows at once
        outputs = self.context.outputs
        for change in changes:
            outputs["task_definition_arn"] = replace_revision(self.ecs, self.context.output("task_definition_arn"),
                                                              self.context.container, change.setting, change.value)
        self.ecs.update_service(cluster=self.context.cluster, service=self.context.service,
                                taskDefinition=outputs["task_definition_arn"])
        return 0.0
