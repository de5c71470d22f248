"""A run's resources on real AWS (harness.backends.aws_run, `harness aws
cleanup`), with `harness serve` posing as AWS: names and tags carry the run's
id; the teardown runs after a failure, on Ctrl-C and on SIGTERM; a killed run's
leftovers are listed, then deleted, by `harness aws cleanup --run-id`; nothing
without the run's id is touched; Terraform's resources carry the id as well."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest
from botocore.exceptions import ClientError
from aws_world import build

from harness import commands
from harness.backends.aws_run import RUN_TAG, Run, RunIdError, Sweep, checked_run_id, terraform_tags
from harness.terraform.fixtures import skip_without_provider
from harness.terraform.runner import TerraformError

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "harness" / "approaches" / "terraform" / "base"
SERVE_ACCOUNT = "123456789012"
OTHER_RUN = "hr00000000"
KINDS = {"vpc", "subnet", "security group", "ecs cluster", "ecs service", "ecs task definition", "ecr repository",
         "iam role", "secret", "log group", "load balancer", "target group", "cloudwatch alarm", "scalable target"}


@pytest.fixture
def endpoint(harness_server, monkeypatch) -> str:
    harness_server.reset()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                        "HARNESS_AWS_ACCOUNTS": SERVE_ACCOUNT}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    return harness_server.url


def clients(url: str) -> Callable[[str], Any]:
    made: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in made:
            made[service] = boto3.client(service, endpoint_url=url, region_name="us-east-1")
        return made[service]

    return client


def build_unrelated(client: Callable[[str], Any]) -> None:
    """What is not the run's: names without a run id, and another run's."""
    build(client, lambda suffix: f"keep-{suffix}", [], [])
    build(client, lambda suffix: f"{OTHER_RUN}-{suffix}", [{"Key": RUN_TAG, "Value": OTHER_RUN}],
          [{"key": RUN_TAG, "value": OTHER_RUN}])


def test_a_failing_run_tears_down_everything_it_made_and_nothing_else(endpoint) -> None:
    client = clients(endpoint)
    build_unrelated(client)
    kept = [str(item) for item in Sweep(client, OTHER_RUN).find()]
    lines: list[str] = []
    with pytest.raises(RuntimeError, match="scenario failed"):
        with Run(client, out=lines.append, wait=False) as run:
            assert run.name("app") == f"{run.id}-app" and checked_run_id(run.id) == run.id
            build(client, run.name, run.tags, run.ecs_tags)
            found = Sweep(client, run.id).find()
            assert {item.kind for item in found} == KINDS
            assert sum(item.kind == "subnet" for item in found) == 2  # the untagged one too: it is in the run's VPC
            raise RuntimeError("scenario failed")
    assert lines[0].startswith(f"run {run.id}: every resource is named {run.id}-*")
    assert f"run {run.id} failed: tearing down" in lines
    assert not run.failed, run.failed
    assert Sweep(client, run.id).find() == []
    assert [str(item) for item in Sweep(client, OTHER_RUN).find()] == kept
    assert client("ecs").describe_clusters(clusters=["keep-app"])["clusters"][0]["status"] == "ACTIVE"
    assert client("iam").get_role(RoleName="keep-task")["Role"]["RoleName"] == "keep-task"


SCRIPT = textwrap.dedent("""
    import signal, sys
    import boto3
    # as a run started from a shell gets it: under pytest-xdist the worker's children inherit SIGINT ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, sys.argv[2])
    from aws_world import build
    from harness.backends.aws_run import Run
    made = {}
    def client(service):
        if service not in made:
            made[service] = boto3.client(service, endpoint_url=sys.argv[1], region_name="us-east-1")
        return made[service]
    with Run(client, wait=False, out=lambda line: print(line, flush=True)) as run:
        build(client, run.name, run.tags, run.ecs_tags)
        print("ready", run.id, flush=True)
        signal.pause()  # a long scenario: it ends when a signal comes
""")


def start_run(endpoint: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, endpoint, str(Path(__file__).parent)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    for line in process.stdout:
        if line.startswith("ready "):
            return process, line.split()[1]
    process.wait()
    raise AssertionError(f"the run did not start (exit {process.returncode})")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_run_tears_down_before_it_exits(endpoint, signum) -> None:
    client = clients(endpoint)
    process, run_id = start_run(endpoint)
    assert {item.kind for item in Sweep(client, run_id).find()} == KINDS
    process.send_signal(signum)
    try:
        rest, _ = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode != 0
    assert f"run {run_id} interrupted: tearing down" in rest and "NOT deleted" not in rest, rest
    assert Sweep(client, run_id).find() == []


def test_cleanup_lists_then_deletes_what_a_killed_run_left(endpoint, capsys) -> None:
    client = clients(endpoint)
    build_unrelated(client)
    process, run_id = start_run(endpoint)
    process.kill()  # SIGKILL: no teardown
    process.wait()
    left = Sweep(client, run_id).find()
    assert {item.kind for item in left} == KINDS
    capsys.readouterr()

    argv = ["aws", "cleanup", "--run-id", run_id, "--endpoint-url", endpoint, "--no-wait"]
    assert commands.main([*argv, "--dry-run"]) == 0
    listed = capsys.readouterr().out
    assert f"account {SERVE_ACCOUNT}" in listed and "dry run: nothing deleted" in listed
    assert all(f"would delete {item}" in listed for item in left)
    assert len(Sweep(client, run_id).find()) == len(left)  # a dry run deletes nothing

    assert commands.main(argv) == 0
    deleted = capsys.readouterr().out
    assert all(f"deleted {item}" in deleted for item in left) and "NOT deleted" not in deleted
    assert Sweep(client, run_id).find() == []
    assert len(Sweep(client, OTHER_RUN).find()) == len(left)  # another run's are untouched
    assert client("ecr").describe_repositories(repositoryNames=["keep-app"])["repositories"]

    assert commands.main(argv) == 0  # again: nothing left, and it says so
    assert f"run {run_id}: nothing left" in capsys.readouterr().out


def test_a_resource_that_will_not_go_is_named_and_the_rest_still_go(endpoint, capsys) -> None:
    client = clients(endpoint)
    with Run(client, wait=False, out=lambda line: None) as run:
        build(client, run.name, run.tags, run.ecs_tags)
        # something outside the run holds the run's role: IAM will not delete it (DeleteConflict)
        client("iam").create_instance_profile(InstanceProfileName="keep-profile")
        client("iam").add_role_to_instance_profile(InstanceProfileName="keep-profile", RoleName=run.name("task"))
    ((item, reason),) = run.failed
    assert (item.kind, item.name) == ("iam role", run.name("task")) and "instance profile" in reason
    assert [str(found) for found in Sweep(client, run.id).find()] == [str(item)]  # everything else went

    argv = ["aws", "cleanup", "--run-id", run.id, "--endpoint-url", endpoint, "--no-wait"]
    assert commands.main(argv) == 1
    out = capsys.readouterr().out
    assert f"NOT deleted iam role {run.name('task')}: " in out and "run it again" not in out
    assert f"harness aws cleanup --run-id {run.id}` again once the reason above is dealt with" in out
    client("iam").remove_role_from_instance_profile(InstanceProfileName="keep-profile", RoleName=run.name("task"))
    assert commands.main(argv) == 0  # the reason dealt with, the same command finishes the job
    assert Sweep(client, run.id).find() == []
    assert client("iam").get_instance_profile(InstanceProfileName="keep-profile")


def test_a_service_that_cannot_be_listed_is_named_and_the_rest_still_go(endpoint) -> None:
    """Credentials without secretsmanager:ListSecrets: the sweep cannot see the run's
    secrets, says so, removes everything else, and never says "nothing left"."""
    client = clients(endpoint)
    build(client, lambda suffix: f"hr0123abcd-{suffix}", [{"Key": RUN_TAG, "Value": "hr0123abcd"}],
          [{"key": RUN_TAG, "value": "hr0123abcd"}])

    def refused(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not authorized to perform: "
                                     "secretsmanager:ListSecrets"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
                          "ListSecrets")

    client("secretsmanager").meta.events.register("before-call.secrets-manager.ListSecrets", refused)
    lines: list[str] = []
    failed = Sweep(client, "hr0123abcd", out=lines.append, wait=False).run()
    assert [(item.kind, reason.split(": ")[0]) for item, reason in failed] == [
        ("secrets", "An error occurred (AccessDeniedException) when calling the ListSecrets operation")]
    assert "  could NOT list secrets: An error occurred (AccessDeniedException)" in "\n".join(lines)
    assert any(line.startswith("  deleted vpc ") for line in lines)
    client("secretsmanager").meta.events.unregister("before-call.secrets-manager.ListSecrets", refused)
    assert [item.kind for item in Sweep(client, "hr0123abcd").find()] == ["secret"]  # only what it could not see
    lines.clear()
    assert Sweep(client, "hr0123abcd", out=lines.append, wait=False).run() == []  # with the permission: finished


@pytest.mark.parametrize("run_id", ["app", "hr1234", ""])
def test_cleanup_matches_nothing_without_a_run_id(endpoint, capsys, run_id) -> None:
    assert commands.main(["aws", "cleanup", "--run-id", run_id, "--endpoint-url", endpoint]) == 2
    assert f"{run_id!r} is not a harness run id" in capsys.readouterr().err
    with pytest.raises(RunIdError):
        Sweep(clients(endpoint), run_id)


def test_cleanup_refuses_an_account_not_on_the_list(endpoint, capsys, monkeypatch) -> None:
    monkeypatch.setenv("HARNESS_AWS_ACCOUNTS", "111111111111")
    assert commands.main(["aws", "cleanup", "--run-id", "hr0123abcd", "--endpoint-url", endpoint]) == 2
    err = capsys.readouterr().err
    assert err.startswith("harness aws cleanup: ") and f"account {SERVE_ACCOUNT}" in err and len(err.splitlines()) == 1


@pytest.mark.terraform
def test_terraform_tags_every_resource_with_the_run_and_the_sweep_removes_them(endpoint, terraform) -> None:
    client = clients(endpoint)
    run_id = "hr0badc0de"
    ws = terraform.workspace(BASE, endpoint, {"name": f"{run_id}-base"}, root=BASE.parent, name=f"{run_id}-base",
                             tags=terraform_tags(run_id))
    # the base is a module: as a root configuration it names no region (the approaches' configurations do)
    (ws.directory / "region.tf").write_text('provider "aws" {\n  region = "us-east-1"\n}\n')
    try:
        ws.init()
    except TerraformError as err:
        skip_without_provider(err, "this test")
        raise
    ws.apply()
    (vpc,) = client("ec2").describe_vpcs(Filters=[{"Name": f"tag:{RUN_TAG}", "Values": [run_id]}])["Vpcs"]
    assert {"Key": RUN_TAG, "Value": run_id} in vpc["Tags"]
    found = {item.kind for item in Sweep(client, run_id).find()}
    assert {"vpc", "subnet", "security group", "ecs cluster", "ecr repository", "iam role", "secret",
            "log group"} <= found
    assert Sweep(client, run_id, out=lambda line: None, wait=False).run() == []
    assert Sweep(client, run_id).find() == []
