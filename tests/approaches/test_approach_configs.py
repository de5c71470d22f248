"""The Terraform configurations of approaches 1-3 apply for real against the
emulated endpoint, give the CD procedure every output it reads, and plan clean
right after apply (nothing the harness later calls drift is there from the start)."""
from __future__ import annotations

import pytest

from harness import approaches

# What the CD procedures read from the outputs (see each approach's module).
NEEDED = {
    "persistent-tag": {"cluster_name", "service_name", "repository_url", "repository_name", "container_name"},
    "ignore-changes": {"cluster_name", "service_name", "repository_url", "container_name", "family"},
    "app-repo": {"cluster_name", "service_name", "repository_url", "container_name", "family",
                 "execution_role_arn", "task_role_arn", "secret_arn", "log_group_name"},
}


@pytest.mark.terraform
@pytest.mark.parametrize("name", sorted(NEEDED))
def test_configuration_applies_outputs_what_cd_reads_and_plans_clean(name, tf_workspace) -> None:
    workspace = tf_workspace(approaches.get(name).terraform_config())
    workspace.apply()
    outputs = workspace.outputs()
    assert NEEDED[name] <= set(outputs)
    assert outputs["service_name"] == workspace.variables["name"]
    plan = workspace.plan()
    assert plan.exit_code == 0, [(c.address, c.paths) for c in plan.summary.changes]
