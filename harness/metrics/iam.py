"""What CD must be allowed to do: record the AWS API calls it really makes, turn
them into IAM actions, and write the least-privilege policy that allows them.

Recording is client-side, through botocore's event hooks, so it works the same
against moto, `harness serve`, LocalStack and real AWS:

    recorder = ApiCallRecorder()
    recorder.attach(session)          # a boto3.Session, before it makes clients
    ... CD procedure runs ...
    recorder.iam_actions()            # ["ecr:PutImage", "ecs:UpdateService", ...]
    recorder.policy_document()        # {"Version": "2012-10-17", "Statement": [...]}

A call is recorded when it is about to be sent (botocore's ``before-call``):
after client-side parameter validation, before the network, once per API call
whatever the retries, whether AWS then allows it or not (an AccessDenied call
is still one CD needed). Paginators and waiters go through the same clients and
are recorded call by call.

Implied actions. Some API calls need an IAM action that is not their own name.
The ones CD procedures meet are in ``IMPLIED_ACTIONS``, each with the reason:

- ``ecs:RegisterTaskDefinition`` with ``taskRoleArn`` or ``executionRoleArn``
  needs ``iam:PassRole`` on those roles (passed to ``ecs-tasks.amazonaws.com``);
- ``ecs:CreateService`` with ``role``, ``ecs:RunTask``/``StartTask`` with role
  overrides: ``iam:PassRole`` likewise;
- ``ecs:RegisterTaskDefinition``, ``CreateService``, ``RunTask``,
  ``StartTask`` with ``tags``: ``ecs:TagResource`` (ECS tagging authorization,
  mandatory since 2024), conditioned on ``ecs:CreateAction``;
- ``application-autoscaling:RegisterScalableTarget`` on an ECS service:
  ``iam:CreateServiceLinkedRole`` for Application Auto Scaling's ECS role (only
  the first time in an account, but a fresh account needs it).

Resource scoping is applied only where the Service Authorization Reference
allows it and the ARN follows from the request (``RESOURCE_SCOPES``): ECS
services, ECR repositories, roles passed, Secrets Manager secrets given by ARN.
Everything else (``ecs:RegisterTaskDefinition`` and ``DescribeTaskDefinition``
among them, which take no resource) gets ``"*"``. The account id is not known
client-side without an extra call, so ARNs use the ``account_id`` given to the
recorder (``"*"`` by default, which IAM accepts in a resource ARN).

Over 400 lines on purpose: the recorder, the table of implied actions with
their reasons and the policy writer are one pipeline (call -> action ->
statement); the table is most of it and reads best next to what uses it.
"""
from __future__ import annotations

import copy
import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping

# botocore signing names that differ from the IAM service prefix.
IAM_PREFIX_BY_SIGNING_NAME = {
    "monitoring": "cloudwatch",
    "email": "ses",
}

# Operations whose IAM action is not named after the operation.
ACTION_BY_OPERATION = {
    ("s3", "ListObjectsV2"): "s3:ListBucket",
    ("s3", "ListObjects"): "s3:ListBucket",
    ("s3", "HeadObject"): "s3:GetObject",
    ("s3", "HeadBucket"): "s3:ListBucket",
}

_PARAMS_KEY = "harness_recorded_api_params"


@dataclass(frozen=True)
class ApiCall:
    """One API call as CD made it: IAM service prefix, operation, region, and the
    request parameters (a deep copy) that decide resource scope and implied
    actions."""

    service: str
    operation: str
    region: str | None
    params: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def action(self) -> str:
        return ACTION_BY_OPERATION.get((self.service, self.operation), f"{self.service}:{self.operation}")


@dataclass(frozen=True)
class Permission:
    """An IAM action on a resource, with an optional condition, and why it is needed."""

    action: str
    resource: str = "*"
    condition: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (operator, key, values)
    reason: str = "called"


# --- ARNs --------------------------------------------------------------------


def _partition(region: str | None) -> str:
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _name_from(value: str) -> str:
    """Last path segment of an ARN, or the value itself when it is a name."""
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _ecs_service_arns(call: ApiCall, account: str) -> list[str]:
    params = call.params
    names = params.get("services") or ([params["service"]] if "service" in params else [])
    if not names and "serviceName" in params:
        names = [params["serviceName"]]
    cluster = _name_from(params.get("cluster") or "default")
    arns = []
    for name in names:
        if name.startswith("arn:"):
            arns.append(name)
        else:
            arns.append(f"arn:{_partition(call.region)}:ecs:{call.region or '*'}:{account}:service/{cluster}/{name}")
    return arns


def _ecr_repository_arns(call: ApiCall, account: str) -> list[str]:
    # most calls name one repository; DescribeRepositories a list (none: every one, "*")
    names = [call.params["repositoryName"]] if call.params.get("repositoryName") else call.params.get("repositoryNames") or []
    registry = call.params.get("registryId") or account
    return [f"arn:{_partition(call.region)}:ecr:{call.region or '*'}:{registry}:repository/{name}" for name in names]


# Secrets Manager appends six random characters to a secret's ARN; AWS's own
# advice for policies is to match them with six "?". The callers recorded here
# (Terraform refreshing its state, the deploy tool) pass complete ARNs, as the
# API returned them; a partial ARN ending in "-" and six characters would be
# taken for a complete one.
_SECRET_SUFFIX = re.compile(r"(:secret:.+)-[A-Za-z0-9]{6}$")
# A policy for one revision would stop working at the next deploy.
_REVISION = re.compile(r"(:task-definition/[^:]+):\d+$")


def _secret_arns(call: ApiCall, account: str) -> list[str]:
    secret = call.params.get("SecretId", "")
    return [_SECRET_SUFFIX.sub(r"\1-??????", secret)] if secret.startswith("arn:") else []


def _tagged_resource_arns(call: ApiCall, account: str) -> list[str]:
    arn = call.params.get("resourceArn") or call.params.get("ResourceArn")
    return [_REVISION.sub(r"\1:*", arn)] if arn else []


def with_placeholder(policy: dict[str, Any], name: str, placeholder: str = "<name>") -> dict[str, Any]:
    """``policy`` with the run's resource ``name`` (a random prefix in the
    harness) replaced by ``placeholder`` wherever it stands as a name of its
    own in a Resource or Condition value: a template to fill in with one's own
    application name, identical from run to run. Actions and keys are never
    touched; an empty name changes nothing."""
    if not name:
        return copy.deepcopy(policy)
    whole = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])")

    def swap(value: Any) -> Any:
        if isinstance(value, str):
            return whole.sub(placeholder, value)
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    out = copy.deepcopy(policy)
    for statement in out.get("Statement", []):
        for key in ("Resource", "NotResource", "Condition"):
            if key in statement:
                statement[key] = swap(statement[key])
    return out


# action -> function(call, account) -> ARNs; an empty list means "*".
RESOURCE_SCOPES: dict[str, Callable[[ApiCall, str], list[str]]] = {
    "ecs:UpdateService": _ecs_service_arns,
    "ecs:DescribeServices": _ecs_service_arns,
    "ecs:DeleteService": _ecs_service_arns,
    "ecs:TagResource": _tagged_resource_arns,
    "ecs:UntagResource": _tagged_resource_arns,
    "ecs:ListTagsForResource": _tagged_resource_arns,
    **{
        f"ecr:{op}": _ecr_repository_arns
        for op in (
            "PutImage", "BatchGetImage", "BatchDeleteImage", "DescribeImages", "ListImages",
            "GetDownloadUrlForLayer", "BatchCheckLayerAvailability", "InitiateLayerUpload",
            "UploadLayerPart", "CompleteLayerUpload", "DescribeRepositories", "ListTagsForResource",
        )
    },
    "secretsmanager:GetSecretValue": _secret_arns,
    "secretsmanager:DescribeSecret": _secret_arns,
}


# --- implied actions -----------------------------------------------------------

_PASSED_TO_ECS_TASKS = (("StringEquals", "iam:PassedToService", ("ecs-tasks.amazonaws.com",)),)
_PASSED_TO_ECS = (("StringEquals", "iam:PassedToService", ("ecs.amazonaws.com",)),)


def _pass_task_roles(call: ApiCall, account: str) -> list[Permission]:
    params = call.params
    overrides = params.get("overrides") or {}
    roles = [params.get("taskRoleArn"), params.get("executionRoleArn"),
             overrides.get("taskRoleArn"), overrides.get("executionRoleArn")]
    return [
        Permission("iam:PassRole", role, _PASSED_TO_ECS_TASKS, f"implied by {call.action} (role passed to tasks)")
        for role in roles
        if role
    ]


def _pass_service_role(call: ApiCall, account: str) -> list[Permission]:
    role = call.params.get("role")
    if not role:
        return []
    if not role.startswith("arn:"):
        role = f"arn:{_partition(call.region)}:iam::{account}:role/{role}"
    return [Permission("iam:PassRole", role, _PASSED_TO_ECS, f"implied by {call.action} (service role)")]


def _tag_on_create(call: ApiCall, account: str) -> list[Permission]:
    if not call.params.get("tags"):
        return []
    resource = "*"
    if call.operation == "RegisterTaskDefinition" and call.params.get("family"):
        family = call.params["family"]
        resource = f"arn:{_partition(call.region)}:ecs:{call.region or '*'}:{account}:task-definition/{family}:*"
    elif call.operation == "CreateService":
        arns = _ecs_service_arns(call, account)
        resource = arns[0] if arns else "*"
    return [
        Permission(
            "ecs:TagResource", resource, (("StringEquals", "ecs:CreateAction", (call.operation,)),),
            f"implied by {call.action} with tags (ECS tagging authorization)",
        )
    ]


def _autoscaling_service_linked_role(call: ApiCall, account: str) -> list[Permission]:
    if call.params.get("ServiceNamespace") != "ecs":
        return []
    role = (f"arn:{_partition(call.region)}:iam::{account}:role/aws-service-role/"
            "ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService")
    return [Permission(
        "iam:CreateServiceLinkedRole", role,
        (("StringLike", "iam:AWSServiceName", ("ecs.application-autoscaling.amazonaws.com",)),),
        "implied by application-autoscaling:RegisterScalableTarget (service-linked role, first use in an account)",
    )]


# action -> functions(call, account) -> the extra permissions that call needs.
IMPLIED_ACTIONS: dict[str, tuple[Callable[[ApiCall, str], list[Permission]], ...]] = {
    "ecs:RegisterTaskDefinition": (_pass_task_roles, _tag_on_create),
    "ecs:RunTask": (_pass_task_roles, _tag_on_create),
    "ecs:StartTask": (_pass_task_roles, _tag_on_create),
    "ecs:CreateService": (_pass_service_role, _tag_on_create),
    "application-autoscaling:RegisterScalableTarget": (_autoscaling_service_linked_role,),
}


def permissions_for(calls: Iterable[ApiCall], account_id: str = "*") -> list[Permission]:
    """The permissions a sequence of calls needs: each call's own action on its
    scoped resources, plus implied actions. Deduplicated, order of first need."""
    seen: dict[Permission, None] = {}
    for call in calls:
        scope = RESOURCE_SCOPES.get(call.action)
        resources = (scope(call, account_id) if scope else []) or ["*"]
        for resource in resources:
            seen.setdefault(Permission(call.action, resource))
        for implied in IMPLIED_ACTIONS.get(call.action, ()):
            for permission in implied(call, account_id):
                seen.setdefault(permission)
    return list(seen)


def policy_document(permissions: Iterable[Permission]) -> dict[str, Any]:
    """A least-privilege IAM policy: one statement per (service, condition, set of
    resources), actions and resources sorted, so equal inputs give equal JSON.

    An action allowed on ``"*"`` needs no narrower statement: its scoped
    resources are dropped.
    """
    by_action: dict[tuple[str, tuple], set[str]] = {}
    for p in permissions:
        by_action.setdefault((p.action, p.condition), set()).add(p.resource)
    for key, resources in by_action.items():
        if "*" in resources:
            by_action[key] = {"*"}
    grouped: dict[tuple[str, tuple, tuple[str, ...]], list[str]] = {}
    for (action, condition), resources in by_action.items():
        service = action.split(":", 1)[0]
        grouped.setdefault((service, condition, tuple(sorted(resources))), []).append(action)
    statements = []
    for (_service, condition, arns), actions in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        statement: dict[str, Any] = {
            "Sid": "",
            "Effect": "Allow",
            "Action": sorted(actions) if len(actions) > 1 else actions[0],
            "Resource": list(arns) if len(arns) > 1 else arns[0],
        }
        if condition:
            block: dict[str, dict[str, Any]] = {}
            for operator, key, values in condition:
                block.setdefault(operator, {})[key] = list(values) if len(values) > 1 else values[0]
            statement["Condition"] = block
        statements.append(statement)
    counts: Counter[str] = Counter()
    for statement in statements:
        service = statement_service(statement)
        counts[service] += 1
        statement["Sid"] = _sid(service, counts[service])
    return {"Version": "2012-10-17", "Statement": statements}


def statement_service(statement: Mapping[str, Any]) -> str:
    action = statement["Action"]
    return (action if isinstance(action, str) else action[0]).split(":", 1)[0]


def _sid(service: str, index: int) -> str:
    # Sids are alphanumeric: "application-autoscaling" -> "ApplicationAutoscaling1"
    return "".join(part.capitalize() for part in service.split("-")) + str(index)


# --- the recorder ------------------------------------------------------------


class ApiCallRecorder:
    """Records every API call made by the boto3 sessions or clients it is attached to.

    Thread-safe: the simulator or a waiter may call from another thread.
    ``account_id`` fills the account field of scoped resource ARNs.
    """

    def __init__(self, account_id: str = "*") -> None:
        self.account_id = account_id
        self._calls: list[ApiCall] = []
        self._lock = threading.Lock()

    # attaching ---------------------------------------------------------------

    def attach(self, target: Any) -> Any:
        """Attach to a boto3 ``Session``, a botocore session, or a client; returns it.

        A boto3 session hands each client a copy of its event handlers when the
        client is created: attach to the session *before* creating clients, or
        attach each client.
        """
        events = _event_emitter(target)
        events.register("before-parameter-build", self._remember_params, unique_id=self._unique("params"))
        events.register("before-call", self._record, unique_id=self._unique("call"))
        return target

    def detach(self, target: Any) -> None:
        events = _event_emitter(target)
        events.unregister("before-parameter-build", unique_id=self._unique("params"))
        events.unregister("before-call", unique_id=self._unique("call"))

    def _unique(self, what: str) -> str:
        return f"harness-api-call-recorder-{id(self)}-{what}"

    def _remember_params(self, params: Mapping[str, Any], context: dict, **_: Any) -> None:
        context[_PARAMS_KEY] = copy.deepcopy(dict(params))

    def _record(self, model: Any, context: dict, **_: Any) -> None:
        service_model = model.service_model
        signing_name = service_model.signing_name or service_model.endpoint_prefix
        prefix = IAM_PREFIX_BY_SIGNING_NAME.get(signing_name, signing_name)
        self.record(prefix, model.name, context.get("client_region"), context.get(_PARAMS_KEY, {}))

    def record(self, service: str, operation: str, region: str | None = None,
               params: Mapping[str, Any] | None = None) -> None:
        """Record one call by hand (for calls made outside botocore, e.g. read
        from a server-side log)."""
        with self._lock:
            self._calls.append(ApiCall(service, operation, region, dict(params or {})))

    # reading -----------------------------------------------------------------

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def operations(self) -> list[tuple[str, str]]:
        """(service, operation) in call order."""
        return [(c.service, c.operation) for c in self.calls]

    def counts(self) -> dict[str, int]:
        """IAM action -> number of calls, in order of first call."""
        return dict(Counter(c.action for c in self.calls))

    def iam_actions(self, implied: bool = True) -> list[str]:
        """Sorted IAM actions CD needed (called, plus implied ones unless told not to)."""
        if not implied:
            return sorted({c.action for c in self.calls})
        return sorted({p.action for p in permissions_for(self.calls, self.account_id)})

    def permissions(self) -> list[Permission]:
        return permissions_for(self.calls, self.account_id)

    def policy_document(self) -> dict[str, Any]:
        return policy_document(self.permissions())


def _event_emitter(target: Any) -> Any:
    if hasattr(target, "meta") and hasattr(target.meta, "events"):  # a client
        return target.meta.events
    if hasattr(target, "events"):  # boto3.Session
        return target.events
    if hasattr(target, "get_component"):  # botocore session
        return target.get_component("event_emitter")
    raise TypeError(f"cannot record API calls of {type(target).__name__}: pass a boto3 Session, botocore session or client")
