"""The least-privilege IAM policy CD needs to run this tool's commands against
one service: which actions each command's calls need, on which resources.

`ACTIONS` is the table, recorded from the calls the commands really make
(`tests/deploy/test_policy.py` runs deploy, rollback, prune and the rest against
the emulator with every call recorded, and checks both ways: no call outside the
policy, no action in it that no command called except the situational ones, each
listed with when it is needed). Resources are scoped where IAM allows it and the
tool knows the names: the service, the target family's revisions (tags, known-good
marks), the template's ECR repositories, and `iam:PassRole` only for the roles the
template names, only towards ECS tasks.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import BadInputError
from .images import parse_image
from .registry import ECR_HOST
from .views import TaskDefinition

# command -> the IAM actions its calls need
ACTIONS: dict[str, tuple[str, ...]] = {
    "render": ("ecs:DescribeTaskDefinition", "ecs:DescribeServices"),
    "diff": ("ecs:DescribeTaskDefinition", "ecs:DescribeServices"),
    "deploy": ("ecs:DescribeTaskDefinition", "ecs:DescribeServices", "ecs:ListTaskDefinitions",
               "ecs:RegisterTaskDefinition", "ecs:TagResource", "ecs:ListTagsForResource", "ecs:UpdateService",
               "ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment",
               "ecr:DescribeImages", "cloudwatch:DescribeAlarms", "ecs:RunTask"),
    "rollback": ("ecs:DescribeServices", "ecs:ListTaskDefinitions", "ecs:ListTagsForResource", "ecs:TagResource",
                 "ecs:UpdateService", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServiceDeployments",
                 "ecs:StopServiceDeployment"),
    "status": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListServiceDeployments",
               "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions"),
    "prune": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
              "ecs:ListTagsForResource", "ecs:DeregisterTaskDefinition"),
    "check": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListTagsForResource",
              "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
              "ecr:DescribeRepositories"),
    "run": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListTagsForResource",
            "ecs:RegisterTaskDefinition", "ecs:TagResource", "ecr:DescribeImages", "ecs:RunTask", "ecs:DescribeTasks"),
}
# Actions a command needs only in some runs: when, in the words the README uses.
SITUATIONAL: dict[str, str] = {
    "ecs:StopServiceDeployment": "rolling back a blue/green, linear or canary deployment by its traffic shift",
    "cloudwatch:DescribeAlarms": "deploy --alarm",
    "ecs:RunTask": "deploy --run-before, and run",
    "ecs:DeregisterTaskDefinition": "prune, when a revision is old enough to go",
    "ecs:ListTagsForResource": "reading known-good marks when the service's own record does not say",
    "ecr:DescribeImages": "checking that a new image is pushed (optional: skipped with a warning if denied)",
    "elasticloadbalancing:DescribeTargetGroups": "check, on a service behind a load balancer",
    "elasticloadbalancing:DescribeTargetGroupAttributes": "check, on a service behind a load balancer",
}
PASSED_TO_TASKS = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


@dataclass(frozen=True)
class PolicyRequest:
    cluster: str
    service: str
    family: str                       # the target family CD registers into
    commands: tuple[str, ...] = tuple(ACTIONS)
    extra_repositories: tuple[str, ...] = ()   # ECR repository ARNs for images not in the template
    roles: tuple[str, ...] = field(default=())  # role ARNs the revisions pass (from the template)


def _name(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """(partition, region, account) of an ARN."""
    fields = arn.split(":")
    return fields[1], fields[3], fields[4]


def template_roles(template: TaskDefinition) -> tuple[str, ...]:
    return tuple(dict.fromkeys(r for r in (template.raw.get("taskRoleArn"), template.raw.get("executionRoleArn")) if r))


def template_repositories(template: TaskDefinition, partition: str) -> tuple[str, ...]:
    """ARNs of the ECR repositories the template's containers pull from."""
    arns = []
    for container in template.raw.get("containerDefinitions", []):
        reference = parse_image(container["image"])
        host = ECR_HOST.match(reference.domain or "")
        if host:
            arns.append(f"arn:{partition}:ecr:{host['region']}:{host['account']}:repository/{reference.path}")
    return tuple(dict.fromkeys(arns))


def policy_for(template: TaskDefinition, request: PolicyRequest) -> dict[str, Any]:
    """The policy document for `request`'s commands on its service (account and region from the template's ARN)."""
    unknown = [c for c in request.commands if c not in ACTIONS]
    if unknown:
        raise BadInputError(f"--command {unknown[0]!r} is not a command of this tool: use one of {', '.join(ACTIONS)}")
    partition, region, account = _arn_parts(template.arn)
    ecs = f"arn:{partition}:ecs:{region}:{account}"
    cluster = _name(request.cluster)
    service = f"{ecs}:service/{cluster}/{_name(request.service)}"
    # Known-good marks are tags on revisions (the target family's, and the template's
    # when Terraform created the service on it) and a pointer tag on the service.
    marked = (service, f"{ecs}:task-definition/{request.family}:*", f"{ecs}:task-definition/{template.family}:*")
    repositories = tuple(dict.fromkeys((*template_repositories(template, partition), *request.extra_repositories)))
    # action -> (statement id, resources); an action not named here has no resource scope in IAM for us
    scoped: dict[str, tuple[str, tuple[str, ...]]] = {
        "ecs:DescribeServices": ("Service", (service,)),
        "ecs:UpdateService": ("Service", (service,)),
        # also what RegisterTaskDefinition's own tags need (ECS authorizes them as TagResource on create)
        "ecs:TagResource": ("KnownGoodMarks", marked),
        "ecs:ListTagsForResource": ("KnownGoodMarks", marked),
        "ecr:DescribeImages": ("EcrRepositories", repositories),
        "ecr:DescribeRepositories": ("EcrRepositories", repositories),
    }
    wanted = list(dict.fromkeys(a for c in request.commands for a in ACTIONS[c]))
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for action in wanted:
        sid, resources = scoped.get(action, ("NoResourceScope", ("*",)))
        if resources:   # no ECR image in the template and none given: the image check is skipped, not granted
            groups.setdefault((sid, resources), []).append(action)
    statements = [_statement(sid, actions, resources) for (sid, resources), actions in groups.items()]
    passing = {"ecs:RegisterTaskDefinition", "ecs:RunTask"} & set(wanted)
    if passing and request.roles:
        statements.append(_statement("PassTemplateRoles", ["iam:PassRole"], request.roles, PASSED_TO_TASKS))
    return {"Version": "2012-10-17", "Statement": statements}


def _statement(sid: str, actions: Iterable[str], resources: Iterable[str],
               condition: Mapping[str, Any] | None = None) -> dict[str, Any]:
    actions, resources = sorted(actions), list(resources)
    out: dict[str, Any] = {"Sid": sid, "Effect": "Allow", "Action": actions if len(actions) > 1 else actions[0],
                           "Resource": resources if len(resources) > 1 else resources[0]}
    if condition:
        out["Condition"] = dict(condition)
    return out


def as_terraform(document: Mapping[str, Any], name: str) -> str:
    """An `aws_iam_policy` resource holding `document` (a heredoc: JSON as it is)."""
    resource = "".join(c if c.isalnum() else "_" for c in name)
    body = json.dumps(document, indent=2)
    return (f'resource "aws_iam_policy" "{resource}" {{\n'
            f'  name        = "{name}"\n'
            f'  description = "What ecs-template-deploy needs to deploy and roll back this service"\n'
            f"  policy      = <<-POLICY\n{body}\n  POLICY\n}}\n")
