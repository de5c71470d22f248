"""`ecs-template-deploy policy`: the policy it prints allows every call the tool's
commands really make against the emulator (recorded call by call, with the
actions they imply), and holds no action that no command called, except the
situational ones, each listed with when it is needed."""
from __future__ import annotations

import contextlib
import fnmatch
import io
import json
import re
import shutil
import subprocess

import pytest

from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_BAD_INPUT
from ecs_template_deploy.policy import SITUATIONAL
from harness.backends.embedded import ACCOUNT, EmbeddedAws
from harness.metrics.iam import ApiCallRecorder, Permission, permissions_for
from harness.worlds.tool import CLUSTER, CONTAINER, REPOSITORY, SERVICE, TEMPLATE, ToolWorld

TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-task"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-execution"
TARGET = ["--cluster", CLUSTER, "--service", SERVICE, "--template", TEMPLATE]


@pytest.fixture(scope="module")
def recorded():
    """Every command, the ways CD runs them, on one world whose template passes two roles."""
    with EmbeddedAws() as aws:
        world = ToolWorld.build(aws, desired=2, circuit_breaker=True)
        world.ecs.register_task_definition(
            family=TEMPLATE, taskRoleArn=TASK_ROLE, executionRoleArn=EXECUTION_ROLE,
            containerDefinitions=[{"name": CONTAINER, "image": f"{REPOSITORY}:placeholder", "memory": 256}])
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName="HighErrors", MetricName="5xx", Namespace="App", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        aws.sim.declare_image(f"{REPOSITORY}:crash", crash_after=5)
        aws.sim.declare_command(["bin/migrate"], exit_code=0, exit_after=20)
        recorder = ApiCallRecorder(account_id=ACCOUNT)
        codes = {}
        for argv in [("render", "--tag", "v1"), ("diff", "--tag", "v1"),
                     ("deploy", "--tag", "v1", "--alarm", "HighErrors", "--run-before", "bin/migrate"),
                     ("deploy", "--tag", "v2"), ("deploy", "--tag", "crash"), ("rollback",), ("status",),
                     ("run", "--tag", "v2", "--command", "bin/migrate"), ("check",),
                     ("prune", "--keep", "0", "--min-age", "0")]:
            session = world.session()
            recorder.attach(session)
            codes[" ".join(argv)] = world.run(*argv, session=session).code
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["policy", *TARGET], session=world.session()) == 0
        terraform = io.StringIO()
        with contextlib.redirect_stdout(terraform):
            assert main(["policy", *TARGET, "--terraform", "--command", "deploy"], session=world.session()) == 0
        yield {"codes": codes, "calls": recorder.calls, "policy": json.loads(out.getvalue()),
               "terraform": terraform.getvalue()}


def _allows(statement: dict, permission: Permission) -> bool:
    as_list = lambda v: v if isinstance(v, list) else [v]  # noqa: E731
    if permission.action not in as_list(statement["Action"]):
        return False
    if not any(fnmatch.fnmatchcase(permission.resource, pattern) for pattern in as_list(statement["Resource"])):
        return False
    wanted = {}
    for operator, key, values in permission.condition:
        wanted.setdefault(operator, {})[key] = list(values) if len(values) > 1 else values[0]
    return "Condition" not in statement or statement["Condition"] == wanted


def test_every_command_ran_as_cd_runs_it(recorded):
    assert recorded["codes"] == {"render --tag v1": 0, "diff --tag v1": 0,
                                 "deploy --tag v1 --alarm HighErrors --run-before bin/migrate": 0,
                                 "deploy --tag v2": 0, "deploy --tag crash": 1, "rollback": 0, "status": 0,
                                 "run --tag v2 --command bin/migrate": 0, "check": 0, "prune --keep 0 --min-age 0": 0}


def test_the_policy_allows_every_call_the_commands_made(recorded):
    needed = permissions_for(recorded["calls"], ACCOUNT)
    assert any(p.action == "iam:PassRole" and p.resource == TASK_ROLE for p in needed)  # the recording is real
    statements = recorded["policy"]["Statement"]
    denied = [p for p in needed if not any(_allows(s, p) for s in statements)]
    assert not denied, "\n".join(f"{p.action} {p.resource} {p.condition}" for p in denied)


def test_the_policy_holds_no_action_no_command_called_but_the_situational_ones(recorded):
    called = {p.action for p in permissions_for(recorded["calls"], ACCOUNT)}
    granted = {a for s in recorded["policy"]["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    assert granted - called <= set(SITUATIONAL), granted - called - set(SITUATIONAL)
    assert {"cloudwatch:DescribeAlarms", "ecs:RunTask", "ecs:DeregisterTaskDefinition"} <= called


def test_resources_are_scoped_to_the_service_the_family_the_repository_and_the_template_roles(recorded):
    by_sid = {s["Sid"]: s for s in recorded["policy"]["Statement"]}
    assert by_sid["Service"]["Resource"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{CLUSTER}/{SERVICE}"
    assert by_sid["Service"]["Action"] == ["ecs:DescribeServices", "ecs:UpdateService"]
    assert by_sid["KnownGoodMarks"]["Resource"] == [f"arn:aws:ecs:us-east-1:{ACCOUNT}:service/{CLUSTER}/{SERVICE}",
                                 f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:*",
                                 f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web-template:*"]
    assert by_sid["EcrRepositories"]["Resource"] == f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/web"
    assert by_sid["PassTemplateRoles"] == {
        "Sid": "PassTemplateRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": [TASK_ROLE, EXECUTION_ROLE],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}
    assert "iam:PassRole" not in json.dumps(by_sid["NoResourceScope"])


def test_the_terraform_form_holds_the_same_kind_of_document_and_terraform_parses_it(recorded):
    text = recorded["terraform"]
    assert text.startswith('resource "aws_iam_policy" "ecs_template_deploy_web" {')
    body = re.search(r"<<-POLICY\n(.*)\n  POLICY", text, re.S).group(1)
    document = json.loads(body)
    assert "ecs:UpdateService" in json.dumps(document) and "ecs:DeregisterTaskDefinition" not in json.dumps(document)
    terraform = shutil.which("terraform") or shutil.which("tofu")
    if terraform is None:
        pytest.skip("no terraform binary: the HCL was checked as JSON only")
    done = subprocess.run([terraform, "fmt", "-"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_repository_that_is_not_an_ecr_arn_is_refused_in_one_line(moto_ecs, capsys):
    code = main(["policy", *TARGET, "--ecr-repository", "web"])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ecs-template-deploy: error: --ecr-repository 'web' is not an ECR repository ARN: "
                   "e.g. arn:aws:ecr:eu-west-1:123456789012:repository/web"]
