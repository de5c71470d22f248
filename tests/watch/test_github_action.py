"""The GitHub Action (`action.yml`): every input is a real option of `deploy`,
and its step, run as GitHub runs it (inputs in `INPUT_*`, `GITHUB_OUTPUT` and
`GITHUB_STEP_SUMMARY` files), deploys against `harness serve`, writes the
outputs and the summary, and on failure an error annotation and the tool's exit code."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ecs_template_deploy.cli import build_parser
from ecs_template_deploy.github_action import INPUTS, OUTPUTS, RELEASE_INPUTS, InputError, argv_from, summary
from harness.server import HarnessServer
from harness.worlds.tool import bare_template_service
from harness.backends.embedded import cd_process_env

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text())


def _deploy_options() -> set[str]:
    parser, _ = build_parser()
    deploy = next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == "deploy")[1]
    return {option for action in deploy._actions for option in action.option_strings}


def _options(command: str) -> set[str]:
    parser, _ = build_parser()
    sub = dict(parser._subparsers._group_actions[0].choices.items())[command]
    return {option for action in sub._actions for option in action.option_strings}


def test_every_input_is_an_option_of_deploy_or_release_and_passed_to_the_step():
    assert set(ACTION["inputs"]) == set(INPUTS) | set(RELEASE_INPUTS)
    assert {option for option, _ in INPUTS.values()} <= _deploy_options()
    assert {option for option, _ in RELEASE_INPUTS.values()} <= _options("release")
    step_env = next(s for s in ACTION["runs"]["steps"] if s.get("id") == "deploy")["env"]
    assert step_env == {f"INPUT_{name.upper().replace('-', '_')}": f"${{{{ inputs.{name} }}}}"
                        for name in {**INPUTS, **RELEASE_INPUTS}}
    assert set(ACTION["outputs"]) == set(OUTPUTS)
    assert ACTION["runs"]["using"] == "composite"


def test_inputs_become_options_lines_and_flags():
    argv = argv_from({"INPUT_CLUSTER": "prod", "INPUT_SERVICE": "web", "INPUT_TEMPLATE": "web-template",
                      "INPUT_ALARMS": "HighErrors\nLatency", "INPUT_KEEP-IMAGE": "log_router",
                      "INPUT_NO_ROLLBACK": "true", "INPUT_TAG": " abc123 "})
    assert argv == ["deploy", "--cluster", "prod", "--service", "web", "--template", "web-template", "--tag", "abc123",
                    "--keep-image", "log_router", "--alarm", "HighErrors", "--alarm", "Latency", "--no-rollback", "--json"]
    with pytest.raises(InputError, match="input no-rollback is 'yes': write true or false"):
        argv_from({"INPUT_CLUSTER": "prod", "INPUT_SERVICE": "web", "INPUT_TEMPLATE": "t", "INPUT_NO_ROLLBACK": "yes"})


def test_a_manifest_runs_release_and_refuses_the_inputs_of_one_service():
    assert argv_from({"INPUT_MANIFEST": "release.toml", "INPUT_RELEASE_ID": "build-7", "INPUT_POLL_INTERVAL": "5",
                      "INPUT_NO_ROLLBACK": "false"}) == [
        "release", "--manifest", "release.toml", "--id", "build-7", "--poll-interval", "5", "--json"]
    with pytest.raises(InputError, match="input tag applies to one service's deploy: with manifest"):
        argv_from({"INPUT_MANIFEST": "release.toml", "INPUT_TAG": "v2"})
    with pytest.raises(InputError, match="input service is required: give cluster, service and template"):
        argv_from({"INPUT_CLUSTER": "prod", "INPUT_TEMPLATE": "t"})
    with pytest.raises(InputError, match="input release-id names a release: it needs manifest"):
        argv_from({"INPUT_CLUSTER": "prod", "INPUT_SERVICE": "web", "INPUT_TEMPLATE": "t", "INPUT_RELEASE_ID": "x"})


def test_a_release_summary_says_where_each_service_ended():
    result = {"exitCode": 1, "message": "release r-1 failed (web failed)", "release": "r-1", "services": [
        {"service": "worker", "wave": 1, "state": "returned", "message": "rolled back to worker:1: steady state"},
        {"service": "web", "wave": 2, "state": "returned", "message": "deploy of web:2 failed"}]}
    text = summary(result, [])
    assert "| worker | 1 | returned | rolled back to worker:1: steady state |" in text
    assert text.startswith("### ecs-template-deploy: failed (exit 1)")


@pytest.fixture
def served(tmp_path):
    # The tool waits on the wall clock: 2 virtual minutes a second. ECS's circuit breaker is off so the
    # tool's own rollback is what the step reports (with it on, under load the breaker and the tool race:
    # see the closing note of this change).
    with HarnessServer(speed=120) as server:
        server.reset()  # moto's state is the process's: start from none, whatever ran before here
        bare_template_service(server.url)
        server.sim.declare_image("nginx:crash", crash_after=5)
        yield server
        server.check()


def _step(server: HarnessServer, tmp_path: Path, image: str) -> tuple[subprocess.CompletedProcess, dict, str]:
    output, summary = tmp_path / f"output-{image}", tmp_path / f"summary-{image}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "INPUT_", "GITHUB_"))}
    env.update(**cd_process_env(server.url), GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary),
               INPUT_CLUSTER="c", INPUT_SERVICE="web", INPUT_TEMPLATE="web-template", INPUT_IMAGE=f"app=nginx:{image}",
               # --timeout is on AWS's clock (the server's, 120x the wall's): on a loaded machine one poll
               # can take a virtual minute, so a 60 s timeout ran out before a healthy rollout ended
               INPUT_POLL_INTERVAL="0.05", INPUT_TIMEOUT="900", INPUT_NO_ROLLBACK="false")
    done = subprocess.run([sys.executable, "-m", "ecs_template_deploy.github_action"], capture_output=True, text=True,
                          env=env, timeout=120, cwd=ROOT)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return done, outputs, summary.read_text()


def test_the_step_deploys_writes_outputs_and_summary_and_annotates_a_failure(served, tmp_path):
    good, outputs, summary = _step(served, tmp_path, "1.27")
    assert good.returncode == 0, good.stdout + good.stderr
    assert outputs["result"] == "success" and outputs["revision-arn"].endswith(":task-definition/web:1")
    assert outputs["known-good"] == outputs["revision-arn"]
    assert summary.startswith("### ecs-template-deploy: succeeded") and "| verdict |" in summary

    bad, outputs, summary = _step(served, tmp_path, "crash")
    assert bad.returncode == 1, bad.stdout + bad.stderr   # rolled back: the tool's exit code
    assert (outputs["result"], outputs["known-good"].rsplit("/", 1)[-1]) == ("failure", "web:1")
    assert outputs["revision-arn"].endswith(":task-definition/web:2")
    errors = [line for line in bad.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1 and "deploy of web:2 failed" in errors[0] and "rolled back to known-good web:1" in errors[0]
    assert summary.startswith("### ecs-template-deploy: failed (exit 1)")
