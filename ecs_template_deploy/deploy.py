"""Deploy: validate -> render -> register -> update the service.

Waiting for the rollout, detecting failure and rolling back build on the
`DeployResult` this returns (previous and new task definition ARNs); the CLI
calls them after `deploy`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .errors import AwsError, aws_call
from .plan import DeployRequest, Plan, prepare


@dataclass(frozen=True)
class DeployResult:
    cluster: str
    service: str
    template_arn: str
    previous_task_definition_arn: str  # what the service ran before; the rollback candidate
    task_definition_arn: str  # what the service runs now (== previous when nothing changed)
    registered: bool
    updated: bool
    images: dict[str, str]
    definition: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.updated

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "service": self.service,
            "template": self.template_arn,
            "previousTaskDefinitionArn": self.previous_task_definition_arn,
            "taskDefinitionArn": self.task_definition_arn,
            "registered": self.registered,
            "updated": self.updated,
            "images": dict(self.images),
        }


def deploy(ecs: Any, request: DeployRequest) -> DeployResult:
    """Deploy `request`; if the service already runs the rendered definition, change nothing."""
    return apply(ecs, prepare(ecs, request))


def apply(ecs: Any, plan: Plan) -> DeployResult:
    """Register the plan's definition and point the service at it (unless unchanged)."""
    previous = plan.current.arn  # described, so a full ARN even if the service holds `family:revision`
    result = dict(
        cluster=plan.request.cluster,
        service=plan.service.name,
        template_arn=plan.template.arn,
        previous_task_definition_arn=previous,
        images=plan.images,
        definition=plan.definition,
    )
    if plan.unchanged:
        return DeployResult(task_definition_arn=previous, registered=False, updated=False, **result)
    with aws_call("ecs:RegisterTaskDefinition"):
        new_arn = ecs.register_task_definition(**plan.definition)["taskDefinition"]["taskDefinitionArn"]
    try:
        with aws_call("ecs:UpdateService"):
            ecs.update_service(cluster=plan.request.cluster, service=plan.service.arn, taskDefinition=new_arn)
    except AwsError as err:
        _withdraw(ecs, new_arn, err)
        raise
    return DeployResult(task_definition_arn=new_arn, registered=True, updated=True, **result)


def _withdraw(ecs: Any, arn: str, err: AwsError) -> None:
    """Deregister a revision the service never used, so a failed deploy leaves nothing behind."""
    try:
        ecs.deregister_task_definition(taskDefinition=arn)
    except (ClientError, BotoCoreError):
        err.args = (f"{err.args[0]}; also could not deregister the unused {arn}: deregister it by hand",)
    else:
        err.args = (f"{err.args[0]}; deregistered the unused {arn}",)
