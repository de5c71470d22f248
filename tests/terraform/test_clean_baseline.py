"""Clean baseline: every Terraform configuration the harness ships plans no
change right after it is applied. Without this, drift measured later would
be the emulator's, not the approach's."""
from __future__ import annotations

import pytest

from harness.terraform.fixtures import approach_configs

CONFIGS = approach_configs()


def test_the_harness_ships_the_template_configuration():
    assert "template" in [config.parent.name for config in CONFIGS]


@pytest.mark.terraform
@pytest.mark.parametrize("config", CONFIGS, ids=[config.parent.name for config in CONFIGS])
def test_plan_after_apply_is_empty(config, tf_workspace):
    ws = tf_workspace(config)
    ws.apply()
    result = ws.plan()
    assert result.summary.changes == ()
    assert result.exit_code == 0
