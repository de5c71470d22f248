"""`ecs-template-deploy policy`: the policy it prints allows every call the tool's
commands really make against the emulator (recorded call by call, command by
command, each call read as IAM authorizes it: its action on the resources IAM's
table names for it, with the condition keys the request carries), denies what
CD does not do, and holds no action that no command called except the
situational ones, each listed with when it is needed. Names that would widen
the policy (wildcards, malformed names) are refused before anything is read.

That each statement is one IAM's own table allows (resource types, ARN formats,
condition keys) is `test_policy_iam_table.py`'s job; the evaluation of a request
against a statement (ARN wildcards, conditions) is shared from there."""
from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import boto3
import pytest
from test_policy_iam_table import Request, as_list, denied, iam_table_problems

from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_BAD_INPUT
from ecs_template_deploy.policy import ACTIONS, SITUATIONAL
from harness.backends.embedded import ACCOUNT, EmbeddedAws
from harness.metrics.iam import ApiCall, ApiCallRecorder, permissions_for
from harness.worlds.tool import CLUSTER, CONTAINER, REGION, REPOSITORY, SERVICE, TEMPLATE, ToolWorld

README = Path(__file__).resolve().parents[2] / "docs" / "deploy-tool" / "iam.md"  # the IAM page of the docs
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-task"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-execution"
TARGET = ["--cluster", CLUSTER, "--service", SERVICE, "--template", TEMPLATE]
ECS = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
CLUSTER_ARN = f"{ECS}:cluster/{CLUSTER}"
RUNS = [("render", "--tag", "v1"), ("diff", "--tag", "v1"),
        ("deploy", "--tag", "v1", "--alarm", "HighErrors", "--run-before", "bin/migrate"),
        ("deploy", "--tag", "v2"), ("deploy", "--tag", "crash"), ("rollback",), ("status",),
        ("run", "--tag", "v2", "--command", "bin/migrate"), ("check",), ("prune", "--keep", "0", "--min-age", "0")]
README_COMMANDS = ("deploy", "rollback")   # the sample the README prints


def _print(session, *argv: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["policy", *TARGET, *argv], session=session) == 0
    return out.getvalue()


def _document(session, *argv: str) -> dict:
    return json.loads(_print(session, *argv))


@pytest.fixture(scope="module")
def recorded():
    """Every command, the ways CD runs them, on one world whose template passes two roles; the calls of each
    command recorded apart, and the policy printed for each command, for all, and for all with --alarm."""
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
        recorders = {command: ApiCallRecorder(account_id=ACCOUNT) for command in ACTIONS}
        codes = {}
        for argv in RUNS:
            session = world.session()
            recorders[argv[0]].attach(session)
            codes[" ".join(argv)] = world.run(*argv, session=session).code
        session = world.session()
        yield {"codes": codes, "calls": {command: r.calls for command, r in recorders.items()},
               "policy": _document(session), "with_alarm": _document(session, "--alarm", "HighErrors"),
               "by_command": {c: _document(session, "--command", c) for c in ACTIONS},
               "readme": _document(session, *(x for c in README_COMMANDS for x in ("--command", c))),
               "terraform": _print(session, "--terraform", "--command", "deploy")}


# --- what IAM authorizes for each call ------------------------------------------


def _name(value: str) -> str:
    return value.rsplit("/", 1)[-1] if value.startswith("arn:") else value


def _cluster_of(call: ApiCall) -> str | None:
    """The cluster an ECS call is about: its `cluster` parameter, or the cluster its ARNs name."""
    if "cluster" in call.params:
        return _name(call.params["cluster"])
    for arn in _arns(call):
        kind, _, rest = arn.split(":", 5)[-1].partition("/")
        if kind in ("service-deployment", "service-revision", "task", "service") and "/" in rest:
            return rest.split("/")[0]
    return None


def _arns(call: ApiCall) -> list[str]:
    p = call.params
    return [*p.get("serviceDeploymentArns", []), *p.get("serviceRevisionArns", []),
            *([p["serviceDeploymentArn"]] if "serviceDeploymentArn" in p else [])]


def _service_of(arn: str) -> str:
    """`...:service-deployment/prod/web/ID` -> `...:service/prod/web`."""
    head, resource = arn.rsplit(":", 1)
    _, cluster, service, _ = resource.split("/", 3)
    return f"{head}:service/{cluster}/{service}"


def _task_definition(reference: str, ecs: str) -> str:
    name = reference.split(":", 5)[-1].removeprefix("task-definition/") if reference.startswith("arn:") else reference
    family, _, revision = name.partition(":")
    return f"{ecs}:task-definition/{family}:{revision or '*'}"


def _call_resources(call: ApiCall) -> list[str] | None:
    """The resources IAM authorizes a call on, from the Service Authorization Reference, for the calls
    `permissions_for` leaves on "*"; every required resource type counts (service deployments: the
    deployment and its service). None: as `permissions_for` has it."""
    p, ecs = call.params, f"arn:aws:ecs:{call.region}:{ACCOUNT}"
    cluster = _name(p.get("cluster") or "default")
    if call.action == "ecs:RunTask":
        return [_task_definition(p["taskDefinition"], ecs)]
    if call.action == "ecs:RegisterTaskDefinition":
        return [f"{ecs}:task-definition/{p['family']}:*"]   # the revision it creates
    if call.action == "ecs:DescribeTasks":
        return [t if t.startswith("arn:") else f"{ecs}:task/{cluster}/{t}" for t in p["tasks"]]
    if call.action in ("ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment", "ecs:DescribeServiceRevisions",
                       "ecs:ContinueServiceDeployment"):
        return list(dict.fromkeys([*_arns(call), *map(_service_of, _arns(call))]))
    if call.action == "ecs:ListServiceDeployments":
        return [f"{ecs}:service/{cluster}/{_name(p['service'])}"]
    if call.action == "cloudwatch:DescribeAlarms":
        return [f"arn:aws:cloudwatch:{call.region}:{ACCOUNT}:alarm:{n}" for n in p.get("AlarmNames") or ["*"]]
    return None


def requests_for(calls: list[ApiCall]) -> list[Request]:
    """Each call as IAM authorizes it: `permissions_for` (its action and the ones it implies, such as
    iam:PassRole, with their resources and condition keys), the resources it leaves on "*" filled in
    from the call, and the cluster (`ecs:cluster`) every ECS call about one carries."""
    requests: dict[Request, None] = {}
    for call in calls:
        for permission in permissions_for([call], ACCOUNT):
            context = {key: values for _, key, values in permission.condition}
            resources = [permission.resource]
            if permission.action == call.action:
                resources = _call_resources(call) or resources
                cluster = _cluster_of(call) if call.service == "ecs" else None
                if cluster:
                    context["ecs:cluster"] = (f"arn:aws:ecs:{call.region}:{ACCOUNT}:cluster/{cluster}",)
            for resource in resources:
                requests.setdefault(Request(permission.action, resource, tuple(sorted(context.items()))))
    return list(requests)


def pending_calls(recorded_calls: dict[str, list[ApiCall]]) -> dict[str, list[ApiCall]]:
    """Calls the policy must allow that these runs do not make, recorded by hand as the tool makes them:
    `prune` reading the cluster's other services (what keeps it from deregistering what they run) and every
    revision's tags, deploy and rollback tagging revisions of the target family (changes under way in
    other parts of the tool), stopping a service deployment (rolling back a blue/green one), and answering
    a PAUSE lifecycle hook (`--on-pause continue|rollback`, and `continue`: no recorded world pauses)."""
    deployment = next(a for c in recorded_calls["status"] for a in c.params.get("serviceDeploymentArns", []))
    stop = ApiCall("ecs", "StopServiceDeployment", REGION, {"serviceDeploymentArn": deployment, "stopType": "ROLLBACK"})
    answer = ApiCall("ecs", "ContinueServiceDeployment", REGION, {"serviceDeploymentArn": deployment, "hookId": "h1",
                                                                  "action": "CONTINUE"})
    tag = ApiCall("ecs", "TagResource", REGION, {"resourceArn": f"{ECS}:task-definition/web:2",
                                                 "tags": [{"key": "ecs-template-deploy:known-good", "value": "x"}]})
    return {
        "prune": [ApiCall("ecs", "ListServices", REGION, {"cluster": CLUSTER}),
                  ApiCall("ecs", "DescribeServices", REGION, {"cluster": CLUSTER, "services": ["api", "worker"],
                                                              "include": ["TAGS"]}),
                  ApiCall("ecs", "ListTagsForResource", REGION, {"resourceArn": f"{ECS}:task-definition/web:1"})],
        "deploy": [tag, stop, answer],
        "rollback": [tag, stop, answer],
        "continue": [ApiCall("ecs", "DescribeServices", REGION, {"cluster": CLUSTER, "services": ["web"]}),
                     ApiCall("ecs", "DescribeServiceDeployments", REGION, {"serviceDeploymentArns": [deployment]}),
                     answer],
    }


def _all_calls(recorded) -> dict[str, list[ApiCall]]:
    pending = pending_calls(recorded["calls"])
    return {command: [*calls, *pending.get(command, [])] for command, calls in recorded["calls"].items()}


def _explain(requests: list[Request]) -> str:
    return "\n".join(map(str, requests))


# --- the tests -------------------------------------------------------------------


def test_every_command_ran_as_cd_runs_it(recorded):
    assert recorded["codes"] == {"render --tag v1": 0, "diff --tag v1": 0,
                                 "deploy --tag v1 --alarm HighErrors --run-before bin/migrate": 0,
                                 "deploy --tag v2": 0, "deploy --tag crash": 1, "rollback": 0, "status": 0,
                                 "run --tag v2 --command bin/migrate": 0, "check": 0, "prune --keep 0 --min-age 0": 0}


def test_the_policy_allows_every_call_the_commands_made(recorded):
    needed = requests_for([c for calls in _all_calls(recorded).values() for c in calls])
    assert any(r.action == "iam:PassRole" and r.resource == TASK_ROLE for r in needed)  # the recording is real
    assert any(r.action == "ecs:RunTask" and dict(r.context) == {"ecs:cluster": (CLUSTER_ARN,)} for r in needed)
    assert not denied(recorded["policy"], needed), _explain(denied(recorded["policy"], needed))
    assert not denied(recorded["with_alarm"], needed), _explain(denied(recorded["with_alarm"], needed))


@pytest.mark.parametrize("command", list(ACTIONS))
def test_the_policy_for_one_command_allows_every_call_it_made(recorded, command):
    needed = requests_for(_all_calls(recorded)[command])
    assert needed
    assert not denied(recorded["by_command"][command], needed), _explain(denied(recorded["by_command"][command], needed))


def test_prune_may_read_every_service_of_its_cluster_and_list_them_there_only(recorded):
    prune, deploy = recorded["by_command"]["prune"], recorded["by_command"]["deploy"]
    other = requests_for([ApiCall("ecs", "DescribeServices", REGION, {"cluster": CLUSTER, "services": ["api"]})])
    listing = requests_for([ApiCall("ecs", "ListServices", REGION, {"cluster": CLUSTER})])
    elsewhere = requests_for([ApiCall("ecs", "ListServices", REGION, {"cluster": "staging"}),
                              ApiCall("ecs", "DescribeServices", REGION, {"cluster": "staging", "services": ["api"]})])
    assert not denied(prune, other + listing)
    assert denied(prune, elsewhere) == elsewhere
    assert denied(deploy, other + listing) == other + listing   # deploy reads its own service only


def test_the_policy_denies_what_cd_does_not_do(recorded):
    """Each scope bites: the same calls on another cluster, service, family or alarm are denied."""
    policy, with_alarm = recorded["policy"], recorded["with_alarm"]
    staging_deployment = f"{ECS}:service-deployment/staging/web/Wb1"
    outside = requests_for([
        ApiCall("ecs", "RunTask", REGION, {"cluster": "staging", "taskDefinition": f"{ECS}:task-definition/web:1"}),
        ApiCall("ecs", "RunTask", REGION, {"cluster": CLUSTER, "taskDefinition": "other-app:3"}),
        ApiCall("ecs", "RunTask", REGION, {"cluster": CLUSTER, "taskDefinition": f"{TEMPLATE}:2"}),
        ApiCall("ecs", "RegisterTaskDefinition", REGION, {"family": "other-app"}),
        ApiCall("ecs", "RegisterTaskDefinition", REGION, {"family": TEMPLATE}),
        ApiCall("ecs", "UpdateService", REGION, {"cluster": CLUSTER, "service": "api"}),
        ApiCall("ecs", "DescribeTasks", REGION, {"cluster": "staging", "tasks": [f"{ECS}:task/staging/abc"]}),
        ApiCall("ecs", "ListTasks", REGION, {"cluster": "staging", "serviceName": "web"}),
        ApiCall("ecs", "StopServiceDeployment", REGION, {"serviceDeploymentArn": staging_deployment}),
        ApiCall("ecs", "DescribeServiceDeployments", REGION,
                {"serviceDeploymentArns": [f"{ECS}:service-deployment/{CLUSTER}/api/Wb1"]}),
        ApiCall("ecs", "DescribeServiceRevisions", REGION,
                {"serviceRevisionArns": [f"{ECS}:service-revision/{CLUSTER}/api/1"]}),
        ApiCall("ecs", "ListServiceDeployments", REGION, {"cluster": CLUSTER, "service": "api"}),
        ApiCall("ecs", "TagResource", REGION, {"resourceArn": f"{ECS}:task-definition/other-app:1", "tags": []}),
    ])
    assert denied(policy, outside) == outside
    other_alarm = requests_for([ApiCall("cloudwatch", "DescribeAlarms", REGION, {"AlarmNames": ["SomeoneElses"]})])
    assert not denied(policy, other_alarm)             # no --alarm: alarms of the account and region
    assert denied(with_alarm, other_alarm) == other_alarm


def test_the_policy_holds_no_action_no_command_called_but_the_situational_ones(recorded):
    called = {r.action for calls in _all_calls(recorded).values() for r in requests_for(calls)}
    granted = {a for s in recorded["policy"]["Statement"] for a in as_list(s["Action"])}
    assert granted - called <= set(SITUATIONAL), granted - called - set(SITUATIONAL)
    assert {"cloudwatch:DescribeAlarms", "ecs:RunTask", "ecs:DeregisterTaskDefinition"} <= called


def test_each_action_is_scoped_to_what_the_tool_touches(recorded):
    by_sid = {s["Sid"]: s for s in recorded["policy"]["Statement"]}
    service = f"{ECS}:service/{CLUSTER}/{SERVICE}"
    in_cluster = {"ArnEquals": {"ecs:cluster": CLUSTER_ARN}}
    assert by_sid["Service"] == {"Sid": "Service", "Effect": "Allow",
                                 "Action": ["ecs:ListServiceDeployments", "ecs:UpdateService"], "Resource": service}
    assert by_sid["ClusterServices"]["Resource"] == f"{ECS}:service/{CLUSTER}/*"   # prune reads its neighbours
    assert by_sid["ClusterServices"]["Action"] == "ecs:DescribeServices"
    assert by_sid["ServiceDeployments"]["Resource"] == [service, f"{ECS}:service-deployment/{CLUSTER}/{SERVICE}/*"]
    assert by_sid["ServiceDeployments"]["Action"] == ["ecs:ContinueServiceDeployment", "ecs:DescribeServiceDeployments",
                                                      "ecs:StopServiceDeployment"]
    assert by_sid["ServiceRevisions"]["Resource"] == [service, f"{ECS}:service-revision/{CLUSTER}/{SERVICE}/*"]
    assert by_sid["RunTargetFamilyInCluster"] == {
        "Sid": "RunTargetFamilyInCluster", "Effect": "Allow", "Action": "ecs:RunTask",
        "Resource": f"{ECS}:task-definition/web:*", "Condition": in_cluster}
    assert by_sid["RegisterTargetFamily"]["Resource"] == f"{ECS}:task-definition/web:*"
    assert by_sid["ClusterTasks"] == {"Sid": "ClusterTasks", "Effect": "Allow", "Action": "ecs:DescribeTasks",
                                      "Resource": f"{ECS}:task/{CLUSTER}/*", "Condition": in_cluster}
    assert by_sid["ListInCluster"] == {"Sid": "ListInCluster", "Effect": "Allow",
                                       "Action": ["ecs:ListServices", "ecs:ListTasks"], "Resource": "*",
                                       "Condition": in_cluster}
    assert by_sid["Alarms"]["Resource"] == f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:*"
    assert {s["Sid"]: s for s in recorded["with_alarm"]["Statement"]}["Alarms"]["Resource"] == \
        f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:HighErrors"
    assert by_sid["KnownGoodMarks"]["Resource"] == [service, f"{ECS}:task-definition/web:*",
                                                    f"{ECS}:task-definition/web-template:*"]
    assert by_sid["EcrRepositories"]["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/web"
    assert by_sid["PassTemplateRoles"] == {
        "Sid": "PassTemplateRoles", "Effect": "Allow", "Action": "iam:PassRole", "Resource": [TASK_ROLE, EXECUTION_ROLE],
        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}}
    # "*" only for what IAM gives no resource type
    assert by_sid["NoResourceTypeInIam"]["Action"] == [
        "ecs:DeregisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTaskDefinitions",
        "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetGroups"]
    assert sorted(s["Sid"] for s in recorded["policy"]["Statement"] if s["Resource"] == "*") == [
        "ListInCluster", "NoResourceTypeInIam"]


def test_a_command_without_prune_reads_only_its_own_service(recorded):
    by_sid = {s["Sid"]: s for s in recorded["by_command"]["deploy"]["Statement"]}
    assert "ClusterServices" not in by_sid
    assert by_sid["Service"]["Action"] == ["ecs:DescribeServices", "ecs:UpdateService"]


def test_the_terraform_form_holds_the_same_kind_of_document_and_terraform_parses_it(recorded):
    text = recorded["terraform"]
    assert text.startswith('resource "aws_iam_policy" "ecs_template_deploy_web" {')
    body = re.search(r"<<-POLICY\n(.*)\n  POLICY", text, re.S).group(1)
    document = json.loads(body)
    assert "ecs:UpdateService" in json.dumps(document) and "ecs:DeregisterTaskDefinition" not in json.dumps(document)
    assert iam_table_problems(document) == []
    terraform = shutil.which("terraform") or shutil.which("tofu")
    if terraform is None:
        pytest.skip("no terraform binary: the HCL was checked as JSON only")
    done = subprocess.run([terraform, "fmt", "-"], input=text, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_the_readme_sample_is_what_the_command_prints(recorded):
    section = README.read_text().split("# IAM permissions for the CD role", 1)[1].split("\n## ", 1)[0]
    command = " ".join(["policy", *TARGET, *(f"--command {c}" for c in README_COMMANDS)])
    assert command in " ".join(section.split())   # the section names the command it ran
    sample = json.loads(re.search(r"```json\n(.*?)\n```", section, re.S).group(1))
    assert sample == recorded["readme"]


# --- refused before anything is read --------------------------------------------


@pytest.mark.parametrize("option, value, message", [
    ("--cluster", "*", "--cluster '*' is a wildcard: the policy is scoped to one cluster; give its exact name or ARN"),
    ("--service", "web*", "--service 'web*' is a wildcard: the policy is scoped to one service; give its exact name or ARN"),
    ("--service", f"{ECS}:service/{CLUSTER}/*", f"--service '{ECS}:service/{CLUSTER}/*' is a wildcard: the policy is "
                                                "scoped to one service; give its exact name or ARN"),
    ("--family", "*", "--family '*' is a wildcard: the policy is scoped to one task definition family; give its exact name"),
    ("--family", "web?", "--family 'web?' is a wildcard: the policy is scoped to one task definition family; "
                         "give its exact name"),
    ("--alarm", "*", "--alarm '*' holds '*', which IAM reads as a wildcard: the policy names each alarm; "
                     "give its exact name (repeat --alarm for more)"),
    ("--alarm", "High?", "--alarm 'High?' holds '?', which IAM reads as a wildcard: the policy names each alarm; "
                         "give its exact name (repeat --alarm for more)"),
    ("--ecr-repository", f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*",
     f"--ecr-repository 'arn:aws:ecr:{REGION}:{ACCOUNT}:repository/*' is a wildcard: give one repository's ARN "
     "(repeat --ecr-repository for more)"),
    ("--cluster", "prod/eu", "--cluster 'prod/eu' is not a cluster name or ARN: names use letters, digits, '-' and '_'"),
    ("--service", f"{ECS}:task/{CLUSTER}/web", f"--service '{ECS}:task/{CLUSTER}/web' is not an ECS service ARN: "
                                               "give a name or arn:aws:ecs:REGION:ACCOUNT:service/..."),
    ("--family", "web app", "--family 'web app' is not a task definition family: use up to 255 letters, digits, "
                            "'-' and '_'"),
    ("--alarm", "", "--alarm '' is not a CloudWatch alarm name: give its name, 1 to 255 characters"),
    ("--template", "web*", "--template 'web*' is not a task definition: give a family (letters, digits, '-', '_'), "
                           "family:REVISION or an ARN"),
])
def test_a_wildcard_or_malformed_name_is_refused_in_one_line_before_anything_is_read(
        moto_ecs, capsys, option, value, message):
    options = list(TARGET)
    if option in options:
        options[options.index(option) + 1] = value
    else:
        options += [option, value]
    session = boto3.Session(region_name="us-east-1")
    recorder = ApiCallRecorder()
    recorder.attach(session)
    code = main(["policy", *options], session=session)
    assert code == EXIT_BAD_INPUT
    assert capsys.readouterr().err.strip().splitlines() == [f"ecs-template-deploy: error: {message}"]
    assert recorder.calls == []


def test_a_repository_that_is_not_an_ecr_arn_is_refused_in_one_line(moto_ecs, capsys):
    code = main(["policy", *TARGET, "--ecr-repository", "web"])
    assert code == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["ecs-template-deploy: error: --ecr-repository 'web' is not an ECR repository ARN: "
                   "e.g. arn:aws:ecr:eu-west-1:123456789012:repository/web"]
