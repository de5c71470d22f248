"""The pipelines in docs/ci (Semaphore with promotion to production, GitLab CI)
have the structure their CI systems read, and every `ecs-template-deploy`
command in them is one the tool accepts, with its real options."""
from __future__ import annotations

import contextlib
import io
import os
import shlex
from pathlib import Path

import pytest
import yaml

from ecs_template_deploy.cli import build_parser

CI = Path(__file__).resolve().parents[2] / "docs" / "ci"


def _commands(node) -> list[str]:
    if isinstance(node, dict):
        return [c for value in node.values() for c in _commands(value)]
    if isinstance(node, list):
        return [c for value in node for c in _commands(value)]
    return [node] if isinstance(node, str) and node.startswith("ecs-template-deploy ") and " @ " not in node else []


def _parses(command: str) -> None:
    words = [os.path.expandvars(w) for w in shlex.split(command)][1:]
    parser, _ = build_parser()
    with contextlib.redirect_stderr(io.StringIO()) as err:
        try:
            parser.parse_args([w.replace("$", "x") for w in words])
        except SystemExit as exit_:
            pytest.fail(f"{command!r} is refused by the tool: {err.getvalue().strip()} (exit {exit_.code})")


def test_semaphore_pipeline_deploys_staging_and_promotes_production_on_request():
    main = yaml.safe_load((CI / "semaphore.yml").read_text())
    assert main["version"] == "v1.0" and [b["name"] for b in main["blocks"]] == ["Build and push", "Deploy to staging"]
    (promotion,) = main["promotions"]
    assert "auto_promote" not in promotion   # a person promotes
    production = yaml.safe_load((CI / promotion["pipeline_file"]).read_text())
    assert production["version"] == "v1.0"
    commands = _commands(main) + _commands(production)
    assert len(commands) == 3 and any("--cluster prod" in c and "--alarm" in c for c in commands)
    for command in commands:
        _parses(command)


def test_gitlab_pipeline_deploys_staging_and_production_by_hand():
    pipeline = yaml.safe_load((CI / "gitlab-ci.yml").read_text())
    assert pipeline["stages"] == ["build", "staging", "production"]
    assert pipeline["deploy-production"]["when"] == "manual"
    assert all(pipeline[job]["extends"] == ".deploy" for job in ("deploy-staging", "deploy-production"))
    commands = _commands(pipeline)
    assert len(commands) == 3
    for command in commands:
        _parses(command)


def test_a_wrong_option_would_be_caught():
    with pytest.raises(pytest.fail.Exception, match="refused by the tool"):
        _parses("ecs-template-deploy deploy --cluster c --service s --template t --tagg x")


def test_the_release_example_is_a_manifest_the_tool_reads_in_two_waves():
    from ecs_template_deploy.manifest import load

    manifest = load(str(CI / "release.toml"), environ={"BUILD_TAG": "abc123", "ECR_REGISTRY": "registry.example"})
    assert [[e.name for e in wave] for wave in manifest.waves] == [["worker", "scheduler"], ["web"]]
    assert manifest.entry("web").images.images["app"] == "registry.example/web:abc123"
    assert manifest.entry("worker").run_before == "bin/migrate --yes" and manifest.entry("scheduler").watch.bake == 60


def test_the_github_release_workflow_runs_the_action_with_the_manifest_and_a_stable_release_id():
    from ecs_template_deploy.github_action import RELEASE_INPUTS, argv_from

    workflow = yaml.safe_load((CI / "github-actions-release.yml").read_text())
    steps = workflow["jobs"]["release"]["steps"]
    (action,) = [s for s in steps if s.get("id") == "release"]
    assert (CI.parents[1] / action["with"]["manifest"]).is_file()
    assert set(action["with"]) <= set(RELEASE_INPUTS) and "github.run_id" in action["with"]["release-id"]
    env = {f"INPUT_{k.upper().replace('-', '_')}": v for k, v in action["with"].items()}
    assert argv_from(env)[:3] == ["release", "--manifest", "docs/ci/release.toml"]
    for command in _commands(workflow):
        _parses(command.replace('"build-${{ github.run_id }}"', "build-1"))
