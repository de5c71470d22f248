"""The Terraform configurations of approaches 1-3 declare every output their
CD procedure reads. (That each applies for real and then plans clean is
tests/terraform/test_clean_baseline.py, which covers every shipped config.)"""
from __future__ import annotations

import re

import pytest

from harness import approaches

# What the CD procedures read from the outputs (see each approach's module).
NEEDED = {
    "persistent-tag": {"cluster_name", "service_name", "repository_url", "repository_name", "container_name"},
    "ignore-changes": {"cluster_name", "service_name", "repository_url", "container_name", "family"},
    "app-repo": {"cluster_name", "service_name", "repository_url", "container_name", "family",
                 "execution_role_arn", "task_role_arn", "secret_arn", "log_group_name"},
}
INFRA_CHANGE_VARIABLES = {"cpu", "memory", "extra_environment", "extra_secrets"}


def _declared(config, kind: str) -> set[str]:
    text = "\n".join(p.read_text() for p in config.glob("*.tf"))
    return set(re.findall(rf'^{kind} "(\w+)"', text, flags=re.MULTILINE))


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_configuration_outputs_what_cd_reads(name) -> None:
    config = approaches.get(name).terraform_config()
    assert NEEDED[name] <= _declared(config, "output")


@pytest.mark.parametrize("name", ["persistent-tag", "ignore-changes"])
def test_infrastructure_changes_have_a_variable_each(name) -> None:
    # harness.approaches.base.TERRAFORM_VARIABLES maps the scenarios' changes onto these
    assert INFRA_CHANGE_VARIABLES <= _declared(approaches.get(name).terraform_config(), "variable")
