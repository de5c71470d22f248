"""Clean baseline: every Terraform configuration the harness ships plans no
change right after it is applied. Without this, drift measured later would
be the emulator's, not the approach's."""
from __future__ import annotations

import pytest

from harness.terraform.fixtures import APPROACHES_DIR, approach_configs
from harness.terraform.runner import requirement

CONFIGS = approach_configs()


def test_the_harness_ships_the_template_configuration():
    assert "template" in [config.parent.name for config in CONFIGS]


@pytest.mark.terraform
@pytest.mark.parametrize("config", CONFIGS, ids=[str(config.parent.relative_to(APPROACHES_DIR)) for config in CONFIGS])
def test_plan_after_apply_is_empty(config, tf_workspace):
    variables = {}
    needed = requirement(config)  # a config reading another's state (4b's app service) gets it applied first
    if needed is not None:
        dependency = tf_workspace(needed.config)
        dependency.apply()
        variables[needed.state_variable] = str(dependency.directory / "terraform.tfstate")
    ws = tf_workspace(config, variables=variables)
    ws.apply()
    result = ws.plan()
    # exit code 0 is the claim; the changes (a `terraform show`, ~2 s) are read only to explain a failure
    assert result.exit_code == 0, [f"{c.address} {c.action} {c.paths}" for c in result.summary.changes]
