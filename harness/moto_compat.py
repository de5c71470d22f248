"""Where moto's answers differ from AWS in ways real clients (Terraform) trip on,
the harness patches moto here, in one small documented layer.

`install()` is called by every backend that starts moto (in-process and
`harness serve`); it must be idempotent. Each patch below says what AWS does,
what moto 5.2.1 does, and which Terraform resource trips on the difference;
`tests/terraform/test_moto_compat.py` shows each gap with the patch removed
(`uninstalled()`) and closed with it installed.

Patches change moto's classes in this process, so they reach every way moto is
served from it: `mock_aws`, `ThreadedMotoServer` and `harness serve`.
"""
from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from botocore import xform_name


@dataclass(frozen=True)
class Patch:
    """One attribute of a moto class replaced."""

    name: str
    owner: Any
    attribute: str
    replacement: Any


_state = {"installed": False}
# moto's own attributes, read once before anything patched them: what our
# wrappers wrap and what uninstall puts back (None: moto has no such action).
_moto_originals: dict[tuple[Any, str], Any] = {}


def _original(owner: Any, attribute: str) -> Any:
    key = (owner, attribute)
    if key not in _moto_originals:
        _moto_originals[key] = owner.__dict__.get(attribute)
    return _moto_originals[key]


# --- Application Auto Scaling: resource tags --------------------------------
# AWS: scalable targets are taggable (RegisterScalableTarget `Tags`,
#   TagResource, UntagResource, ListTagsForResource by the target's ARN).
# moto: none of the three tag actions exist; the server answers HTTP 500 with
#   an HTML body.
# Trips: `aws_appautoscaling_target` reads tags after every create and refresh;
#   the provider retries the 500 for minutes, then fails the apply.

_AAS_TAGS_ATTR = "_harness_tags"  # {target ARN: {key: value}} on the backend


def _aas_tags(backend: Any) -> dict[str, dict[str, str]]:
    if not hasattr(backend, _AAS_TAGS_ATTR):
        setattr(backend, _AAS_TAGS_ATTR, {})
    return getattr(backend, _AAS_TAGS_ATTR)


def _aas_target_arns(backend: Any) -> set[str]:
    return {t.arn for by_id in backend.targets.values() for t in by_id.values()}


def _aas_check_arn(backend: Any, arn: str) -> None:
    from moto.applicationautoscaling.exceptions import AWSValidationException
    from moto.core.exceptions import JsonRESTError

    if not arn:
        raise AWSValidationException("ResourceARN is required")
    if arn not in _aas_target_arns(backend):
        raise JsonRESTError("ResourceNotFoundException", f"No scalable target found for {arn}")


def _aas_list_tags_for_resource(self: Any) -> str:
    backend = self.applicationautoscaling_backend
    arn = self._get_param("ResourceARN")
    _aas_check_arn(backend, arn)
    return json.dumps({"Tags": _aas_tags(backend).get(arn, {})})


def _aas_tag_resource(self: Any) -> str:
    backend = self.applicationautoscaling_backend
    arn = self._get_param("ResourceARN")
    _aas_check_arn(backend, arn)
    _aas_tags(backend).setdefault(arn, {}).update(self._get_param("Tags") or {})
    return "{}"


def _aas_untag_resource(self: Any) -> str:
    backend = self.applicationautoscaling_backend
    arn = self._get_param("ResourceARN")
    _aas_check_arn(backend, arn)
    tags = _aas_tags(backend).setdefault(arn, {})
    for key in self._get_param("TagKeys") or []:
        tags.pop(key, None)
    return "{}"


def _aas_wrap_register(original: Callable[..., str]) -> Callable[..., str]:
    def register_scalable_target(self: Any) -> str:
        body = original(self)
        tags = self._get_param("Tags")
        if tags:
            arn = json.loads(body)["ScalableTargetARN"]
            _aas_tags(self.applicationautoscaling_backend).setdefault(arn, {}).update(tags)
        return body

    return register_scalable_target


# --- ECS CreateService: settings moto drops -----------------------------------
# AWS: CreateService keeps deploymentConfiguration (incl. the circuit
#   breaker), availabilityZoneRebalancing (ENABLED when not given),
#   enableECSManagedTags, enableExecuteCommand, healthCheckGracePeriodSeconds,
#   placementConstraints/Strategy, and omits networkConfiguration when none was
#   given.
# moto: ignores all of those on create (UpdateService does keep them) and
#   answers `networkConfiguration: {}` for a service without one.
# Trips: `aws_ecs_service`: a plan right after a clean apply wants to set
#   deployment_circuit_breaker and availability_zone_rebalancing again, and
#   provider 5.100 dereferences nil in flattenNetworkConfiguration on `{}`.

_ECS_KEPT_ON_CREATE = (
    "deploymentConfiguration",
    "availabilityZoneRebalancing",
    "enableECSManagedTags",
    "enableExecuteCommand",
    "healthCheckGracePeriodSeconds",
    "placementConstraints",
    "placementStrategy",
)


def _ecs_wrap_create_service(original: Callable[..., Any]) -> Callable[..., Any]:
    def create_service(self: Any) -> Any:
        result = original(self)
        cluster = self._get_param("cluster", "default").split("/")[-1]
        service = self.ecs_backend.services[f"{cluster}:{self._get_param('serviceName')}"]
        for key in _ECS_KEPT_ON_CREATE:
            value = self._get_param(key)
            if value is not None:
                setattr(service, xform_name(key), value)
        if self._get_param("availabilityZoneRebalancing") is None:
            service.availability_zone_rebalancing = "ENABLED"
        if not service.network_configuration:
            service.network_configuration = None
        return result

    return create_service


# --- ECS CreateService: awsvpc without security groups --------------------------
# AWS: `awsvpcConfiguration.securityGroups` is optional (the VPC's default group
#   is used).
# moto: reads `securityGroups` unconditionally: KeyError, an HTML 500 that
#   botocore retries (the official deploy action's service, made without one).

def _ecs_validate_network(original: Callable[..., Any]) -> Callable[..., Any]:
    def _validate_network(self: Any, nc: dict) -> dict:
        config = nc.get("awsvpcConfiguration") or {}
        if "securityGroups" in config:
            return original(self, nc)
        original(self, {**nc, "awsvpcConfiguration": {**config, "securityGroups": []}})  # moto's subnet checks
        return nc   # as given: no security groups named

    return _validate_network


# --- Secrets Manager CreateSecret: a retry after a lost reply -----------------
# AWS: CreateSecret's ClientRequestToken (which SDKs fill in and repeat on every
#   retry of one call) keeps a retried request from failing on the secret its
#   first attempt made.
# moto: honours the token only when the request carries a value (it becomes the
#   first version's id); a secret created without one answers the SDK's retry
#   ResourceExistsException.
# Trips: `aws_secretsmanager_secret` (created without a value): when the answer
#   to the first attempt is lost on a loaded machine, the provider's SDK retries
#   and the apply fails on a secret it made itself (seen once in CI).

_SECRET_CREATE_TOKEN_ATTR = "_harness_create_token"  # the token of the CreateSecret that made it


def _secrets_wrap_create(original: Callable[..., str]) -> Callable[..., str]:
    def create_secret(self: Any, name: str, *args: Any, client_request_token: str | None = None,
                      **kwargs: Any) -> str:
        existing = self.secrets.get(name)
        if (existing is not None and client_request_token
                and getattr(existing, _SECRET_CREATE_TOKEN_ATTR, None) == client_request_token
                and kwargs.get("secret_string") is None and kwargs.get("secret_binary") is None):
            return existing.to_short_dict()
        answer = original(self, name, *args, client_request_token=client_request_token, **kwargs)
        created = self.secrets.get(name)
        if created is not None and client_request_token and not hasattr(created, _SECRET_CREATE_TOKEN_ATTR):
            setattr(created, _SECRET_CREATE_TOKEN_ATTR, client_request_token)
        return answer

    return create_secret


# --- CodeDeploy: times on the wire, and ECS deployments -------------------------
# AWS: CodeDeploy speaks JSON 1.1, whose timestamps are epoch seconds
#   (createTime, startTime, completeTime of applications and deployments).
# moto: sends them as ISO 8601 strings. botocore parses either; the AWS SDK for
#   JavaScript v3 refuses the string, so every GetDeployment poll of the official
#   GitHub deploy action fails.
# And the harness: CodeDeploy's blue/green of an ECS service (task sets, traffic
#   shifting, the service moving) is not emulated. A CreateDeployment for an ECS
#   application is refused, with the reason, rather than recorded as a
#   deployment that never progresses. ECS's own blue/green is modelled.

_CODEDEPLOY_TIMES = ("createTime", "startTime", "completeTime")
CODEDEPLOY_ECS_REFUSAL = (
    "The emulator does not run CodeDeploy deployments of ECS services (task sets, traffic shifting): "
    "use ECS's own blue/green instead (deploymentController ECS, deploymentConfiguration.strategy BLUE_GREEN), "
    "which the simulator models")


def _epoch_times(original: Callable[..., dict]) -> Callable[..., dict]:
    def to_dict(self: Any) -> dict:
        from datetime import datetime

        out = original(self)
        for key in _CODEDEPLOY_TIMES:
            if isinstance(out.get(key), str):
                out[key] = datetime.fromisoformat(out[key].replace("Z", "+00:00")).timestamp()
        return out

    return to_dict


def _codedeploy_wrap_create_deployment(original: Callable[..., str]) -> Callable[..., str]:
    def create_deployment(self: Any, application_name: str, *args: Any, **kwargs: Any) -> str:
        from moto.codedeploy.exceptions import CodeDeployException

        application = self.applications.get(application_name)
        if application is not None and application.compute_platform == "ECS":
            error = CodeDeployException("UnsupportedActionForDeploymentTypeException", CODEDEPLOY_ECS_REFUSAL)
            error.code = 400
            raise error
        return original(self, application_name, *args, **kwargs)

    return create_deployment


def _patches() -> list[Patch]:
    from moto.applicationautoscaling.responses import ApplicationAutoScalingResponse as AAS
    from moto.codedeploy.models import Application, CodeDeployBackend, DeploymentInfo
    from moto.ecs.models import Service as EcsService
    from moto.ecs.responses import EC2ContainerServiceResponse as ECS
    from moto.iam.models import IAMBackend
    from moto.secretsmanager.models import SecretsManagerBackend

    return [
        Patch("iam-managed-policies-once", IAMBackend, "_init_aws_policies", _iam_init_aws_policies),
        Patch("aas-list-tags", AAS, "list_tags_for_resource", _aas_list_tags_for_resource),
        Patch("aas-tag", AAS, "tag_resource", _aas_tag_resource),
        Patch("aas-untag", AAS, "untag_resource", _aas_untag_resource),
        Patch("aas-register-tags", AAS, "register_scalable_target",
              _aas_wrap_register(_original(AAS, "register_scalable_target"))),
        Patch("ecs-create-service", ECS, "create_service", _ecs_wrap_create_service(_original(ECS, "create_service"))),
        Patch("ecs-awsvpc-no-security-groups", EcsService, "_validate_network",
              _ecs_validate_network(_original(EcsService, "_validate_network"))),
        Patch("secrets-create-retry", SecretsManagerBackend, "create_secret",
              _secrets_wrap_create(_original(SecretsManagerBackend, "create_secret"))),
        Patch("codedeploy-application-times", Application, "to_dict", _epoch_times(_original(Application, "to_dict"))),
        Patch("codedeploy-deployment-times", DeploymentInfo, "to_dict",
              _epoch_times(_original(DeploymentInfo, "to_dict"))),
        Patch("codedeploy-ecs-refused", CodeDeployBackend, "create_deployment",
              _codedeploy_wrap_create_deployment(_original(CodeDeployBackend, "create_deployment"))),
    ]


# --- IAM: AWS managed policies ----------------------------------------------
# AWS: managed policies such as
#   arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy exist
#   in every account.
# moto: loads them only when configured to (`iam.load_aws_managed_policies`),
#   else AttachRolePolicy answers NoSuchEntity.
# Trips: `aws_iam_role_policy_attachment` of the ECS task execution role.
# Loading costs about 60 ms per IAM backend (1,485 policies).


# Speed, not a gap: moto parses its 1,485-policy JSON blob and builds every
# policy object for each IAM backend it makes, one per partition (six), again
# after each reset: about 3 s of every test's 4. The harness emulates the "aws"
# partition only, so parse once per process and build policies there alone.


@functools.cache
def _aws_managed_policy_data() -> dict[str, Any]:
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    return json.loads(aws_managed_policies_data)


def _iam_init_aws_policies(self: Any) -> list[Any]:
    from moto.iam.models import AWSManagedPolicy
    from moto.settings import load_iam_aws_managed_policies

    if not load_iam_aws_managed_policies() or self.partition != "aws":
        return []
    return [AWSManagedPolicy.from_data(name, self.account_id, self.region_name, data)
            for name, data in _aws_managed_policy_data().items()]


def _set_iam_managed_policies(value: bool) -> bool:
    from moto.core.config import default_user_config

    iam = default_user_config.setdefault("iam", {})
    previous = bool(iam.get("load_aws_managed_policies", False))
    iam["load_aws_managed_policies"] = value
    return previous


_iam_previous: list[bool] = []


def _ours(value: Any) -> bool:
    return bool(getattr(value, "_harness_moto_compat", False))


def install() -> None:
    """Apply the compatibility patches; calling it again changes nothing.
    An action another layer has patched on top (the ECS simulator's routes)
    stays theirs."""
    if _state["installed"]:
        return
    for patch in _patches():
        current = patch.owner.__dict__.get(patch.attribute)
        if current is not _original(patch.owner, patch.attribute) and not _ours(current):
            continue
        patch.replacement._harness_moto_compat = True
        setattr(patch.owner, patch.attribute, patch.replacement)
    _iam_previous.append(_set_iam_managed_policies(True))
    _state["installed"] = True


def installed() -> bool:
    return _state["installed"]


def uninstall() -> None:
    """Undo `install()` (for tests that show a gap): every action still
    answered by one of our patches gets moto's own back. Backends created
    while installed keep what they loaded."""
    for patch in _patches():
        if not _ours(patch.owner.__dict__.get(patch.attribute)):
            continue
        original = _original(patch.owner, patch.attribute)
        if original is None:
            delattr(patch.owner, patch.attribute)
        else:
            setattr(patch.owner, patch.attribute, original)
    while _iam_previous:
        _set_iam_managed_policies(_iam_previous.pop())
    _state["installed"] = False


@contextlib.contextmanager
def uninstalled() -> Iterator[None]:
    """Run a block against plain moto, then restore the patches if they were on."""
    was_installed = installed()
    uninstall()
    try:
        yield
    finally:
        if was_installed:
            install()
