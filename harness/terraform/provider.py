"""What the runner writes next to a configuration: the AWS provider pointed at
an emulated endpoint, and the CLI configuration that picks providers from a
mirror into one shared plugin cache."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from .settings import TerraformSettings

# Provider `endpoints` keys of every service the harness's configurations may
# use. Pointing an unused one at the emulator costs nothing; missing one would
# send that service's calls to real AWS with test credentials.
SERVICES = (
    "applicationautoscaling",
    "cloudwatch",
    "ec2",
    "ecr",
    "ecs",
    "elbv2",
    "iam",
    "kms",
    "logs",
    "s3",
    "secretsmanager",
    "ssm",
    "sts",
)

OVERRIDE_FILE = "zz_harness_override.tf.json"

# A gap in the emulator must fail within seconds, not after the SDK's
# exponential back-off (the default of 25 attempts takes minutes).
MAX_RETRIES = 2


def provider_override(endpoint: str | None, region: str = "us-east-1", tags: Mapping[str, str] | None = None) -> dict:
    """An override file's content: Terraform merges it into the configuration's
    own `provider "aws"` block (region and anything else stay the config's).
    ``endpoint``: every service pointed there, with test credentials; None for
    real AWS, whose endpoints and credentials (this process's environment) the
    provider finds as it always does. ``tags``: the provider's ``default_tags``,
    on every resource it creates (a run's id: ``harness.backends.aws_run.terraform_tags``)."""
    aws: dict = {}
    if endpoint is not None:
        aws.update({
            "access_key": "test",
            "secret_key": "test",
            "skip_credentials_validation": True,
            "skip_metadata_api_check": True,
            "skip_requesting_account_id": True,
            "skip_region_validation": True,
            "s3_use_path_style": True,
            "max_retries": MAX_RETRIES,
            "endpoints": {service: endpoint for service in SERVICES},
        })
    if tags:
        aws["default_tags"] = [{"tags": dict(tags)}]
    return {"provider": {"aws": aws}}


def write_override(config_dir: Path, endpoint: str | None, tags: Mapping[str, str] | None = None) -> Path:
    path = config_dir / OVERRIDE_FILE
    path.write_text(json.dumps(provider_override(endpoint, tags=tags), indent=2) + "\n")
    return path


def _hcl_string(value: str | Path) -> str:
    return json.dumps(str(value))  # HCL strings escape like JSON strings


def mirrored_aws_addresses(mirror: Path) -> list[str]:
    """hashicorp/aws under each registry host the mirror holds: Terraform
    looks for registry.terraform.io/..., OpenTofu for registry.opentofu.org/..."""
    hosts = sorted(p.name for p in mirror.iterdir() if (p / "hashicorp" / "aws").is_dir()) if mirror.is_dir() else []
    return [f"{host}/hashicorp/aws" for host in hosts] or ["registry.terraform.io/hashicorp/aws"]


def cli_config(settings: TerraformSettings) -> str | None:
    """The CLI configuration the runner writes when a mirror is configured:
    hashicorp/aws from the mirror only (never the network), everything else as
    usual, and the shared plugin cache. None without a mirror: then the user's
    own TF_CLI_CONFIG_FILE (if any) applies."""
    if settings.mirror is None:
        return None
    aws = ", ".join(_hcl_string(a) for a in mirrored_aws_addresses(settings.mirror))
    return (
        "# written by harness.terraform: providers from a local mirror, one shared cache\n"
        f"plugin_cache_dir = {_hcl_string(settings.plugin_cache)}\n"
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {_hcl_string(settings.mirror)}\n"
        f"    include = [{aws}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{aws}]\n"
        "  }\n"
        "}\n"
    )
