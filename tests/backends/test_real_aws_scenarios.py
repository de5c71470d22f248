"""The deploy tool's rollback scenarios on a real backend, as `--backend aws
--aws-dry-run` runs them: `harness serve` posing as AWS in the process (its
virtual clock for the wall clock, the simulator behind a stand-in for Docker).
What runs is the real path: a run per scenario, every name prefixed and every
resource tagged with its id, Fargate tasks in a network of their own, images
pushed per behaviour, the budget, and the teardown; the dry run says, per
scenario, what it created and what its teardown left."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from harness.backends.aws_run import Sweep
from harness.backends.real_aws import NOT_MEASURED, BudgetClock, OverBudget, scenario_reason
from harness.clock import VirtualClock

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = "scenarios/test_deploy_tool_rollback.py"
ONE_OFF = "scenarios/test_deploy_tool_one_off.py"
BAKE = "scenarios/test_deploy_tool_bake_and_blue_green.py"
SUMMARY = re.compile(r"^dry run (?P<run>hr[0-9a-f]{8}): would create (?P<created>.*?); (?P<marked>.*?); "
                     r"(?P<seconds>\d+) s simulated \(budget (?P<budget>\d+) s\); teardown (?P<left>.*)$", re.M)


@pytest.fixture(scope="module")
def dry_run() -> SimpleNamespace:
    env = {name: value for name, value in os.environ.items()  # no credentials, no endpoint, no allowlist
           if not name.startswith(("AWS_", "HARNESS_AWS_"))}
    done = subprocess.run([sys.executable, "-m", "pytest", SCENARIOS, ONE_OFF, BAKE, "--backend", "aws", "--aws-dry-run",
                           "-n", "0", "-p", "no:cacheprovider", "-rs"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    return SimpleNamespace(done=done, output=done.stdout + done.stderr,
                           summaries=[m.groupdict() for m in SUMMARY.finditer(done.stderr)])


def test_the_rollback_scenarios_pass_on_the_real_path_and_the_rest_say_why(dry_run) -> None:
    assert dry_run.done.returncode == 0, dry_run.output[-3000:]
    summary = dry_run.done.stdout.strip().splitlines()[-1]
    assert re.search(r"\b26 passed, 9 skipped\b", summary), summary
    assert "not measured on real AWS: the image must be in ECR when the tool looks" in dry_run.done.stdout
    assert "not measured on real AWS: an image in ECR when the tool looks and unpullable" in dry_run.done.stdout
    # 5 scenarios, 4 lines: -rs gives the two parametrized ones one line
    assert dry_run.done.stdout.count("not measured on real AWS: the native blue/green load balancer") == 4
    assert "not measured on real AWS: it waits an hour for --min-age" in dry_run.done.stdout
    assert "nothing real is touched" in dry_run.done.stdout  # the header says it is a dry run


def test_each_scenario_is_a_run_of_its_own_on_fargate_everything_named_or_tagged(dry_run) -> None:
    runs = dry_run.summaries
    assert len(runs) == 26 and len({run["run"] for run in runs}) == 26, dry_run.output[-3000:]
    for run in runs:
        created = run["created"]
        assert "1 ecs cluster" in created and "1 ecs service (FARGATE)" in created, run
        assert "1 vpc, 1 internet gateway, 2 subnets, 1 security group, 1 iam role" in created, run
        assert run["marked"] == "each named or tagged with the run id", run
    balanced = [run for run in runs if "load balancer" in run["created"]]
    assert len(balanced) == 1 and "1 target group" in balanced[0]["created"] and "1 listener" in balanced[0]["created"]
    assert balanced[0]["budget"] == "2700"  # its own marker, over the module's
    assert sorted(run["budget"] for run in runs).count("2700") == 2  # and the crash during a bake
    # the run's id is said first, on the terminal: what `harness aws cleanup` needs if the run is killed
    first = dry_run.done.stderr.index(f"run {runs[0]['run']}: every resource is named {runs[0]['run']}-* and tagged")
    assert first < dry_run.done.stderr.index(f"dry run {runs[0]['run']}:")


def test_teardown_leaves_nothing_behind(dry_run) -> None:
    assert [run["left"] for run in dry_run.summaries] == ["left nothing"] * 26
    assert dry_run.done.stderr.count(": tearing down") == 26


def test_one_off_tasks_run_on_fargate_once_each_even_after_a_lost_reply(dry_run) -> None:
    one_off = [run for run in dry_run.summaries if "one-off task" in run["created"]]
    assert len(one_off) == 5, dry_run.output[-3000:]
    assert all(re.search(r"\b1 one-off task\b", run["created"]) for run in one_off), one_off  # RunTask's clientToken


def test_a_dry_run_is_only_for_the_aws_backend() -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", SCENARIOS, "--aws-dry-run", "-n", "0", "-q"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 4 and "--aws-dry-run is what --backend aws would do: add --backend aws" in done.stderr


def test_a_scenario_past_its_budget_fails_saying_so_and_is_still_torn_down() -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "HARNESS_AWS_"))}
    done = subprocess.run([sys.executable, "-m", "pytest", SCENARIOS, "--backend", "aws", "--aws-dry-run",
                           "--aws-budget-scale", "0.1", "-k", "test_slow_start", "-n", "0", "-p", "no:cacheprovider"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert re.search(r"OverBudget: scenarios/test_deploy_tool_rollback.py::test_slow_start\S*: \d+ s spent, and waiting "
                     r"[\d.]+ s more would pass its budget of 150 s on real AWS", done.stdout), done.stdout[-2000:]
    (run,) = [m.groupdict() for m in SUMMARY.finditer(done.stderr)]
    assert run["budget"] == "150" and run["left"] == "left nothing"
    assert f"run {run['run']} failed: tearing down" in done.stderr


def test_a_budget_is_counted_on_the_clock_the_scenario_waits_on() -> None:
    clock = VirtualClock()
    budget = BudgetClock(clock, budget=100, scenario="scenarios/x.py::test_y")
    budget.sleep(60)
    budget.sleep(40)  # exactly the budget: allowed
    with pytest.raises(OverBudget, match=r"scenarios/x.py::test_y: 100 s spent, and waiting 1 s more would pass its "
                                         r"budget of 100 s"):
        budget.sleep(1)
    assert clock.now() - budget.started == 100  # the sleep that would pass it never happened
    assert not isinstance(OverBudget("x"), Exception)  # the deploy tool's handlers cannot swallow it


def test_a_scenario_says_why_it_does_not_run_on_real_aws() -> None:
    def marks(**given):
        return lambda name: given.get(name)

    assert scenario_reason(marks(real_aws=SimpleNamespace(args=(), kwargs={"budget": 60}))) is None
    only = SimpleNamespace(args=("needs an hour",), kwargs={})
    assert scenario_reason(marks(real_aws=object(), simulator_only=only)) == "not measured on real AWS: needs an hour"
    assert scenario_reason(marks()) == NOT_MEASURED


def test_teardown_waits_for_aws_to_release_a_subnet_then_deletes_it() -> None:
    """Fargate's network interfaces outlive their tasks by minutes: a subnet is "in use" until then."""
    slept: list[float] = []
    attempts: list[int] = []

    def delete() -> None:
        attempts.append(1)
        if len(attempts) < 3:
            raise ClientError({"Error": {"Code": "DependencyViolation", "Message": "has dependencies"}}, "DeleteSubnet")

    Sweep(lambda name: None, "hr0123abcd", out=lambda line: None, sleep=slept.append)._when_released(delete)
    assert len(attempts) == 3 and slept == [15.0, 15.0]

    attempts.clear()
    no_waiting = Sweep(lambda name: None, "hr0123abcd", out=lambda line: None, wait=False, sleep=slept.append)
    with pytest.raises(ClientError, match="DependencyViolation"):  # said at once, for a re-run of cleanup
        no_waiting._when_released(delete)
    assert len(attempts) == 1 and slept == [15.0, 15.0]


def stubbed_ecs():
    import boto3
    from botocore.stub import Stubber

    ecs = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    return ecs, Stubber(ecs)


def test_a_cluster_whose_tasks_are_still_stopping_is_deleted_once_they_are_gone() -> None:
    """DeleteService makes a service INACTIVE while its tasks are still STOPPING; ECS refuses
    to delete their cluster until they have stopped."""
    ecs, stub = stubbed_ecs()
    arn = "arn:aws:ecs:us-east-1:123456789012:cluster/hr0123abcd-prod"
    stub.add_response("list_clusters", {"clusterArns": [arn]})
    stub.add_response("describe_clusters", {"clusters": [{"clusterArn": arn, "status": "ACTIVE"}]})
    stub.add_response("list_services", {"serviceArns": []})
    stub.add_response("list_task_definition_families", {"families": []})
    for _ in range(2):
        stub.add_client_error("delete_cluster", "ClusterContainsTasksException",
                              "The Cluster cannot be deleted while Tasks are active.")
    stub.add_response("delete_cluster", {"cluster": {"clusterArn": arn, "status": "INACTIVE"}})
    slept: list[float] = []
    with stub:
        (cluster,) = Sweep(lambda name: ecs, "hr0123abcd", out=lambda line: None, sleep=slept.append)._ecs()
        assert str(cluster) == "ecs cluster hr0123abcd-prod"
        cluster.delete()
    stub.assert_no_pending_responses()
    assert slept == [15.0, 15.0]


def test_a_task_definition_ecs_would_not_delete_is_not_said_deleted() -> None:
    """DeleteTaskDefinitions answers a refusal in its `failures`, not as an error."""
    ecs, stub = stubbed_ecs()
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/hr0123abcd-web:3"
    stub.add_response("delete_task_definitions", {"taskDefinitions": [], "failures": [
        {"arn": arn, "reason": "The specified task definition is still in use."}]})
    with stub, pytest.raises(RuntimeError, match="DeleteTaskDefinitions: The specified task definition is still in use"):
        Sweep(lambda name: ecs, "hr0123abcd", out=lambda line: None)._delete_revision(arn, "INACTIVE")


def test_ctrl_c_that_stops_the_tool_stops_a_real_run_too() -> None:
    """On a real backend the tool's exit 130 (it caught Ctrl-C, said where things stand)
    is raised on: the session must not go on to build the next scenario's resources. On
    the simulator a test injects that interrupt on purpose and reads the exit code."""
    from harness.backends.embedded import EmbeddedAws
    from harness.worlds import ToolWorld

    with EmbeddedAws() as aws:
        world = ToolWorld.build(aws, desired=2)

        def interrupted_session():
            session = world.session()
            session.events.register("after-call.ecs.UpdateService", lambda **_: (_ for _ in ()).throw(KeyboardInterrupt))
            return session

        assert world.run("deploy", "--tag", "v1", session=interrupted_session()).code == 130
        world.simulated = False
        with pytest.raises(KeyboardInterrupt, match=r"the deploy tool was stopped by a signal \(exit 130\)"):
            world.run("deploy", "--tag", "v2", session=interrupted_session())


def test_under_xdist_this_modules_tests_go_to_one_worker_so_the_dry_run_runs_once() -> None:
    from harness.plugin.scheduling import ONE_UNIT_MODULES, work_unit

    here = "tests/backends/test_real_aws_scenarios.py"
    assert work_unit(f"{here}::test_teardown_leaves_nothing_behind") == work_unit(
        f"{here}::test_a_dry_run_is_only_for_the_aws_backend") == here
    assert work_unit("tests/backends/test_real_aws.py::test_x") == "tests/backends/test_real_aws.py::test_x"
    assert all((ROOT / module).is_file() for module in ONE_UNIT_MODULES)  # no stale name keeps nothing together
