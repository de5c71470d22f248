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

from harness.approaches import (Approach, ApproachError, Claims, Facts, InfraChange, Said, StandInDefinition, owned,
                                register)
from harness.approaches.base import (ACCEPTED_MEDIA_TYPES, Context, EcsCd, Step, apply_through_terraform, replace_revision,
                                     terraform_container)
from harness.approaches.claims import CIRCUIT_BREAKER, VERSION_CONSISTENCY, no_person_needed


@register
class PersistentTag(EcsCd, Approach):
    name = "persistent-tag"
    facts = Facts(
        notes=("the image Terraform declares is a moving tag: the task definition never names the version",),
        rolls_back="moves the tag back to the known-good image in ECR and forces a new deployment",
        manual_rollback=("find the known-good image digest", "move the environment tag back to it in ECR",
                         "force a new deployment of the service"),
    )
    claims = Claims(
        plan_clean_after_deploy=Said(True),  # "no Terraform changes are required in order to deploy a new version"
        version_readable=Said(False),  # "Cannot declare an explicit application artifact version to deploy"
        moving_tag=Said(True),
        scale_out_skew=Said(True, today=False, because=VERSION_CONSISTENCY),
        infra_change_reaches=Said("immediately"),  # "All infrastructure configuration is defined in Terraform"
        terraform_owns=Said(owned(image=True, settings=True)),
        rollback=Said(no_person_needed(default=False), because=CIRCUIT_BREAKER,
                      # with version consistency off, the breaker's and CD's way back resolve the moved tag again
                      today=no_person_needed({"alarm-after-release": False, "tag-moved-vc-off": False}, default=True)),
        rollback_moves_tag=Said(True),
        multi_service_release=Said(("web",)),  # CD deploys one service at a time and knows no release
        quotes={
            "rollback-moves-tag": "Rollbacks require re-updating the image tag before deploying",
            "autoscaling-tag": "ECS Autoscaling is inconsistent if the Docker tag changes separately from deployment",
        },
    )

    @classmethod
    def stand_in_definition(cls, shared: Any) -> StandInDefinition:
        # its task definition names the environment tag, which must exist: point it at the first version
        shared.point_tag(shared.environment, at=shared.initial_tag)
        return StandInDefinition(shared.name, terraform_container(shared, f"{shared.repository_url}:{shared.environment}"),
                                 {"taskRoleArn": shared.task_role_arn},
                                 # the revision Terraform registered and tracks: what an infrastructure change replaces
                                 outputs=lambda arn: {"task_definition_arn": arn})

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
        outcome = self.update_and_watch(force=True, proving=True)
        if outcome.succeeded:
            self._move_tag(self.known_good_tag, image)
        return Step(outcome.task_definition or self.current_task_definition(), self.image, outcome)

    def rollback(self) -> Step:
        self._move_tag(self.tag, self._manifest(self.known_good_tag))
        outcome = self.update_and_watch(force=True)
        return Step(outcome.task_definition or self.current_task_definition(), self.image, outcome)

    def after_shift_back(self) -> None:
        """Traffic is back on blue, whose tasks run the known-good digest; the tag still
        names the failed release, which the next task started (a scale-out) would pull."""
        self._move_tag(self.tag, self._manifest(self.known_good_tag))

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
