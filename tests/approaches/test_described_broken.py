"""Deliberately broken descriptions through `harness compare`, with real
Terraform: a CD command that exits 1 and a configuration that does not apply
each give one clear line, and the report lists the cells they left unmeasured."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = ROOT / "examples" / "article-script"

pytestmark = pytest.mark.terraform


def broken_copy(tmp_path: Path, name: str, **replace: str) -> Path:
    directory = tmp_path / name
    shutil.copytree(ARTICLE, directory)
    toml = directory / "harness.toml"
    text = toml.read_text().replace('name = "article-script"', f'name = "{name}"')
    for old, new in replace.items():
        path = toml if old == "toml" else directory / old
        if old == "toml":
            text = text.replace(*new.split("=>", 1))
        else:
            path.write_text(path.read_text().replace(*new.split("=>", 1)))
    toml.write_text(text)
    return directory


def test_a_failing_cd_command_and_a_failing_apply_are_named_in_the_report(tmp_path: Path, terraform) -> None:
    exits = broken_copy(tmp_path, "cd-exits-one", toml='deploy = "./deploy.sh=>deploy = "echo no credentials for the registry >&2; exit 1; ./deploy.sh')
    # A repository name ECR refuses: the provider says so at plan time, naming the resource.
    bad_tf = broken_copy(tmp_path, "tf-fails", **{"terraform/main.tf": 'name = var.name\n}=>name = "Not A Valid Name"\n}'})
    before = (exits / "harness.toml").read_text(), (bad_tf / "terraform" / "main.tf").read_text()
    out = tmp_path / "report"
    env = {**os.environ, "HARNESS_REQUIRE_TERRAFORM": "1"}
    done = subprocess.run([sys.executable, "-m", "harness", "compare", "--approach", str(exits), "--approach", str(bad_tf),
                           "--only-approaches", "-k", "test_cd_deploy_leaves_terraform_plan_clean", "-n", "0",
                           "--out", str(out)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    reasons = json.loads((out / "not-measured.json").read_text())
    assert done.returncode == 1, done.stdout + done.stderr  # the failing CD fails its scenario
    failed = reasons["scenarios/test_drift_after_deploy.py::test_cd_deploy_leaves_terraform_plan_clean[cd-exits-one]"]
    assert "exited 1: no credentials for the registry" in failed and "\n" not in failed
    skipped = reasons["scenarios/test_drift_after_deploy.py::test_cd_deploy_leaves_terraform_plan_clean[tf-fails]"]
    assert skipped.startswith("not measured: tf-fails's Terraform configuration did not apply")
    assert "aws_ecr_repository.app: Error:" in skipped  # per resource, with Terraform's own error
    markdown = (out / "report.md").read_text()
    assert "## Not measured in this run" in markdown and "no credentials for the registry" in markdown
    assert ((exits / "harness.toml").read_text(), (bad_tf / "terraform" / "main.tf").read_text()) == before
