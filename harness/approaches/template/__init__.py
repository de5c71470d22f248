"""Approach 5, the article's own: Terraform owns a *template* task definition
(family ``<name>-template``, placeholder image) and the service, whose
``task_definition`` (and ``desired_count``) it ignores; CD never touches
either Terraform resource's settings.

CD procedure, with the real deploy tool (``ecs_template_deploy``), through the
library entry point its CLI's ``deploy`` is a thin adapter over:

- deploy N: ``deploy_service()`` checks what the CLI checks (the waiting
  options, that the ``--alarm``s exist, that the image is pushed to ECR),
  reads the template's latest revision, sets the image tag N, registers the
  result in the family ``<name>`` (which Terraform does not manage) and
  updates the service; then it watches the rollout with the virtual clock's
  now/sleep, marks the revision known good on success, and on failure returns
  to the last known-good revision itself (or follows ECS's circuit breaker
  when that is already rolling back);
- roll back: when the failing deploy already brought the service back (the
  usual case, see above), nothing is left to do; otherwise ``Rollback.roll_back()``:
  ``UpdateService`` to the last known-good revision (tags on the revision and
  the service say which), watched;
- infrastructure change: `terraform apply` of the template's variable (through
  the context's workspace); without Terraform, the stand-in does to the
  template what that apply does (``base.replace_revision``). Either way
  the running service is not touched: the change reaches the tasks with the
  next deploy, which renders the new template.

CD needs no Terraform state and no git push: it reads the template from ECS.
"""
from __future__ import annotations

from collections.abc import Sequence

from ecs_template_deploy.plan import DeployRequest
from ecs_template_deploy.render import ImageSelection
from ecs_template_deploy.rollback import Rollback, RolloutReport
from ecs_template_deploy.service_deploy import deploy_service

from typing import Any

from harness.approaches import Approach, Claims, Facts, InfraChange, Said, StandInDefinition, owned, register
from harness.approaches.base import Context, Step, apply_through_terraform, container_image, make_watcher, replace_revision
from harness.approaches.base import terraform_container
from harness.approaches.claims import no_person_needed


@register
class Template(Approach):
    name = "template"
    facts = Facts(
        ignores=("aws_ecs_service.app: task_definition", "aws_ecs_service.app: desired_count"),
        notes=(
            "Terraform's template declares a placeholder image; CD registers revisions in a family Terraform does not manage",
            "an infrastructure change reaches the running tasks at the next deploy",
        ),
        rolls_back="the deploy tool: UpdateService to the revision marked known good, or on blue/green a traffic "
                   "shift back to blue (StopServiceDeployment ROLLBACK)",
        manual_rollback=("run `ecs-template-deploy rollback`",),
        cd_is_deploy_tool=True,
    )
    claims = Claims(
        plan_clean_after_deploy=Said(True),  # CD registers revisions in a family Terraform does not manage
        version_readable=Said(True),  # "The desired image tag is injected into the new Task Definition"
        moving_tag=Said(False),
        scale_out_skew=Said(False),
        infra_change_reaches=Said("next deploy"),  # "picked up by the service on the next deployment"
        terraform_owns=Said(owned(image=False, settings=True)),
        # "allow speedy rollback to the last known good ... version": every failed deploy. An alarm that goes off
        # after the rollout completed is no failed deploy to the CD the article sketches, which stops at steady
        # state; the deploy tool with --bake sees it (the matrix's most capable CD row).
        rollback=Said(no_person_needed({"alarm-after-release": False}, default=True)),
        rollback_moves_tag=Said(False),
        multi_service_release=Said(()),  # `ecs-template-deploy release`: all or nothing
        quotes={
            "speedy-rollback": "allow speedy rollback to the last known good application version if a deploy fails",
            "no-terraform-to-deploy": "Deploys are still handled by CD tooling",
            "next-deployment": "Such changes will be picked up by the service on the next deployment triggered by CI",
        },
    )

    @classmethod
    def stand_in_definition(cls, shared: Any) -> StandInDefinition:
        # Terraform's template family, its placeholder image being initial_tag
        # (as if applied with -var placeholder_tag=<initial_tag>)
        family = f"{shared.name}-template"
        return StandInDefinition(family, terraform_container(shared, f"{shared.repository_url}:{shared.initial_tag}"),
                                 {"taskRoleArn": shared.task_role_arn},
                                 outputs=lambda arn: {"template_family": family, "template_arn": arn})

    def __init__(self, context: Context) -> None:
        super().__init__(context)
        self.ecs = context.client("ecs")
        self.watcher = make_watcher(self.ecs, context)
        self.last_report: RolloutReport | None = None  # the deploy tool's verdict on the last CD step

    @property
    def template_family(self) -> str:
        return str(self.context.output("template_family"))

    def deploy(self, version: str) -> Step:
        c = self.context
        request = DeployRequest(cluster=c.cluster, service=c.service, template=self.template_family,
                                images=ImageSelection(tag=version))
        if c.bake or c.alarms:  # `deploy --bake S --alarm NAME`: a watcher that keeps watching
            self.watcher = make_watcher(self.ecs, c, bakes=True)
        # what `ecs-template-deploy deploy --tag N` runs, on the scenario's clients and clock
        deployed = deploy_service(self.ecs, request, self.watcher.options, clock=self.watcher.clock,
                                  journal=self.watcher.journal, cloudwatch=self.watcher.cloudwatch,
                                  ecr_for=lambda region: c.client("ecr"))
        result, report = deployed.deployed, deployed.rollout
        assert report is not None  # the options always wait
        self.last_report = report
        return Step(result.task_definition_arn, result.images[c.container], report.outcome)

    def rollback(self) -> Step:
        c = self.context
        last = self.last_report
        if last is not None and last.returned_to is not None:
            # The failing deploy already went back to known good (the tool's own
            # rollback or ECS's circuit breaker): CD has nothing left to do.
            return Step(last.returned_to, self._image(last.returned_to), last.recovery)
        report = Rollback(self.ecs, self.watcher).roll_back(c.cluster, c.service, since=c.now())
        self.last_report = report
        return Step(report.task_definition, self._image(report.task_definition), report.outcome)

    def apply_infra_changes(self, changes: Sequence[InfraChange]) -> float:
        if self.context.terraform is not None:
            return apply_through_terraform(self.context, changes)
        for change in changes:
            replace_revision(self.ecs, self.template_family, self.context.container, change.setting, change.value)
        return 0.0

    def _image(self, task_definition: str) -> str:
        return container_image(self.ecs, task_definition, self.context.container)

