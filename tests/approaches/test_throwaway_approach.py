"""A new approach is one package plus one row: a throwaway package written into a
temporary directory, its row added (``approaches.add``), and a real scenario run
on it, in a pytest of its own, passing or failing as its claims say."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "scenarios/test_explicit_version.py"

# Approach 2's CD (copy the family's latest revision with the new image), its own stand-in,
# and one claim the scenario asserts: whether the deployed version can be read from the task definition.
PACKAGE = '''
from harness.approaches import Approach, Claims, Facts, Said, StandInDefinition, register
from harness.approaches.base import RevisionCd, terraform_container


@register
class Throwaway(RevisionCd, Approach):
    name = "throwaway"
    facts = Facts(rolls_back="updates the service to the revision that ran before",
                  manual_rollback=("update the service to the last revision that ran well",))
    claims = Claims(version_readable=Said({readable}), moving_tag=Said(False))

    @classmethod
    def stand_in_definition(cls, shared):
        image = f"{{shared.repository_url}}:{{shared.initial_tag}}"
        return StandInDefinition(shared.name, terraform_container(shared, image), {{"taskRoleArn": shared.task_role_arn}})

    def deploy(self, version):
        image = f"{{self.context.output('repository_url')}}:{{version}}"
        return self.deploy_image(image, lambda image: self.register_with_image(str(self.context.output("family")), image))

    def apply_infra_changes(self, changes):
        return 0.0
'''
# Its row, added when pytest loads this plugin (-p): after the table's, with a stand-in.
ROW = '''
from harness.approaches import Entry, add

add(Entry("throwaway", "t", "a throwaway approach", "throwaway_approach", stand_in=True, cost=9))
'''


@pytest.mark.parametrize("readable", [True, False], ids=["claim-holds", "claim-wrong"])
def test_a_throwaway_approach_runs_a_scenario_as_its_claims_say(tmp_path: Path, readable: bool) -> None:
    (tmp_path / "throwaway_approach").mkdir()
    (tmp_path / "throwaway_approach" / "__init__.py").write_text(textwrap.dedent(PACKAGE.format(readable=readable)))
    (tmp_path / "throwaway_row.py").write_text(ROW)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))}
    ran = subprocess.run([sys.executable, "-m", "pytest", SCENARIO, "-p", "throwaway_row", "-k", "throwaway",
                          "-n", "0", "-p", "no:randomly", "-p", "no:cacheprovider", "-q", "-rA"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    out = ran.stdout + ran.stderr
    node = f"{SCENARIO}::test_deployed_version_can_be_read_from_the_task_definition[throwaway]"
    # it ran once, on the throwaway approach only: its stand-in built, its CD deployed v3
    assert ("1 passed" if readable else "1 failed") in out and "error" not in out.splitlines()[-1], out[-3000:]
    if readable:  # the stand-in's task definition names the version tag CD deployed: the claim holds
        assert ran.returncode == 0 and f"PASSED {node}" in out, out[-3000:]
    else:
        assert ran.returncode == 1 and f"FAILED {node}" in out, out[-3000:]
        assert "claimed: False" in out, out[-3000:]  # the assertion cites the claim it checked
