"""PAUSE lifecycle hooks (ECS, 2026): a blue/green deployment held at a stage until
someone calls ContinueServiceDeployment. The deploy tool says so once, with the
stage and the expiry, and does what --on-pause says; `continue` answers a pause
from another job."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest
from botocore.exceptions import ReadTimeoutError

from ecs_template_deploy import knowngood
from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_OK, EXIT_ROLLED_BACK
from harness.worlds import ToolWorld

WAIT = ("--poll-interval", "5")
PAUSE_AFTER_SCALE_UP = [{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                         "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}]


@pytest.fixture
def tool_world(aws) -> ToolWorld:
    """A blue/green service whose deployments pause after green is up, on web:1 (proven by a bake)."""
    tool_world = ToolWorld.build(aws, desired=2, strategy="BLUE_GREEN", bakeTimeInMinutes=1, lifecycleHooks=PAUSE_AFTER_SCALE_UP)
    first = tool_world.run("deploy", "--tag", "v1", "--on-pause", "continue", *WAIT)
    assert first.code == EXIT_OK, first.stderr
    return tool_world


def record(tool_world: ToolWorld) -> dict:
    ecs = tool_world.ecs
    arn = ecs.describe_services(cluster=tool_world.names.cluster, services=[tool_world.names.service])["services"][0][
        "currentServiceDeployment"]
    return ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]


def paused(run) -> list[dict]:
    return [line for line in run.kinds("paused") if line["message"].startswith("paused at ")]


def test_on_pause_continue_says_the_pause_once_answers_it_and_the_release_goes_on_to_known_good(tool_world):
    run = tool_world.run("deploy", "--tag", "v2", "--on-pause", "continue", *WAIT)
    assert run.code == EXIT_OK, run.stderr
    (said,) = paused(run)
    assert said["stage"] == "POST_SCALE_UP" and said["expiresAt"] and said["onPause"] == "continue"
    assert "awaits ContinueServiceDeployment until" in said["message"] and "timeout action ROLLBACK" in said["message"]
    assert run.calls.count("ContinueServiceDeployment") == 1
    assert tool_world.steady_on() == tool_world.rev(2) and tool_world.production_share() in (0, 100)
    assert tool_world.known_good() == tool_world.rev(2)


def test_on_pause_rollback_answers_rollback_and_ends_on_the_known_good_revision(tool_world):
    run = tool_world.run("deploy", "--tag", "v2", "--on-pause", "rollback", *WAIT)
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert run.calls.count("ContinueServiceDeployment") == 1
    assert record(tool_world)["status"] == "ROLLBACK_SUCCESSFUL"
    assert tool_world.steady_on() == tool_world.rev(1)
    assert tool_world.known_good() == tool_world.rev(1) and knowngood.read_mark(tool_world.ecs, tool_world.rev(2)) is None


def test_on_pause_fail_fails_the_release_and_the_tool_shifts_traffic_back_to_blue(tool_world):
    run = tool_world.run("deploy", "--tag", "v2", "--on-pause", "fail", *WAIT)
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert "PAUSE hook" in run.result["message"] and "--on-pause fail" in run.result["message"]
    assert "StopServiceDeployment" in run.calls and "ContinueServiceDeployment" not in run.calls
    assert tool_world.steady_on() == tool_world.rev(1) and tool_world.production_share() == 0


@pytest.mark.parametrize("on_pause", ["wait", "fail", "rollback"])
def test_on_the_way_back_to_known_good_a_pause_is_answered_continue(tool_world, on_pause):
    """The tool's own return waits for no one: waiting could let the hook's timeout put the release back, and
    failing or rolling back a return would leave the service on the release it leaves."""
    assert tool_world.run("deploy", "--tag", "v2", "--on-pause", "continue", *WAIT).code == EXIT_OK
    run = tool_world.run("rollback", "--on-pause", on_pause, *WAIT)
    assert run.code == EXIT_OK, run.stderr
    (said,) = paused(run)
    assert f"answering CONTINUE: this is the way back to known good (--on-pause {on_pause} is for the release; a " \
        "return waits for no one)" in said["message"]
    assert run.calls.count("ContinueServiceDeployment") == 1
    assert tool_world.steady_on() == tool_world.rev(1) and record(tool_world)["status"] == "SUCCESSFUL"


def test_a_kill_right_after_answering_rollback_leaves_the_release_recorded_failed_and_next_is_rollback(tool_world):
    session = tool_world.session()
    seen = {}

    def killed(**_):
        arn = tool_world.ecs.describe_task_definition(taskDefinition=tool_world.rev(2))["taskDefinition"]["taskDefinitionArn"]
        seen["bake"] = knowngood.read_bake(tool_world.ecs, arn)
        raise KeyboardInterrupt

    session.events.register("after-call.ecs.ContinueServiceDeployment", killed)
    run = tool_world.run("deploy", "--tag", "v2", "--on-pause", "rollback", *WAIT, session=session)
    assert run.code == 130   # stopped as Ctrl-C stops it
    assert seen["bake"].state == knowngood.FAILED   # written before the answer
    assert run.result["next"].startswith("ecs-template-deploy rollback "), run.result   # never the release again


@pytest.mark.parametrize("on_pause, ends_on", [("rollback", 1), ("continue", 2)])
def test_a_lost_reply_to_the_answer_is_found_applied_and_said_so(tool_world, on_pause, ends_on):
    """ECS applied the answer, its reply never came: the retry finds the hook answered, and the tool
    says the deployment went as it asked (no second way back on top of ECS's)."""
    session = tool_world.session()
    lost = []

    def lose_the_first_reply(**_):
        if not lost:
            lost.append(True)
            raise ReadTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com")

    session.events.register("after-call.ecs.ContinueServiceDeployment", lose_the_first_reply)
    run = tool_world.run("deploy", "--tag", "v2", "--on-pause", on_pause, *WAIT, session=session)
    assert run.code == (EXIT_ROLLED_BACK if on_pause == "rollback" else EXIT_OK), run.stderr
    said = [line["message"] for line in run.kinds("paused")]
    assert any("no longer awaits an answer: its deployment is" in m and f"as {on_pause.upper()} asked" in m for m in said), said
    assert not any("not answered" in m for m in said)
    assert "StopServiceDeployment" not in run.calls
    assert tool_world.steady_on() == tool_world.rev(ends_on)


def test_on_pause_rollback_says_the_pause_hook_rolled_back_not_the_breaker(tool_world):
    run = tool_world.run("deploy", "--tag", "v2", "--on-pause", "rollback", *WAIT)
    assert run.code == EXIT_ROLLED_BACK
    assert run.result["rolledBackBy"] == "pause-hook-rollback"
    assert "ECS (its PAUSE hook answered ROLLBACK) rolled back to web:1" in run.result["message"]


def test_waiting_by_default_it_says_how_to_answer_and_goes_on_when_someone_does(tool_world, aws):
    def operator_continues() -> None:   # another job answers, 10 virtual minutes into the pause
        current = record(tool_world)
        hooks = [h for h in current.get("lifecycleHookDetails", []) if h["status"] == "AWAITING_ACTION"]
        if not hooks:
            aws.clock.call_later(30, operator_continues)
            return
        aws.clock.call_later(600, lambda: tool_world.ecs.continue_service_deployment(
            serviceDeploymentArn=current["serviceDeploymentArn"], hookId=hooks[0]["hookId"], action="CONTINUE"))

    aws.clock.call_later(30, operator_continues)
    run = tool_world.run("deploy", "--tag", "v2", *WAIT)
    assert run.code == EXIT_OK, run.stderr
    (said,) = paused(run)
    assert f"`ecs-template-deploy continue --cluster {tool_world.names.cluster} --service {tool_world.names.service}` goes on" \
        in said["message"]
    assert "ContinueServiceDeployment" not in run.calls   # the tool waited: the operator answered
    assert tool_world.steady_on() == tool_world.rev(2)


def test_continue_answers_the_pause_and_a_rerun_finds_nothing_to_answer(tool_world, aws):
    assert tool_world.run("deploy", "--tag", "v2", "--no-wait").code == EXIT_OK
    aws.clock.sleep(300)
    assert record(tool_world)["lifecycleStage"] == "POST_SCALE_UP"
    answered = tool_world.run("continue")
    assert answered.code == EXIT_OK, answered.stderr
    assert answered.result["answered"] and answered.result["action"] == "CONTINUE"
    assert "ECS goes on from POST_SCALE_UP" in answered.result["message"]
    again = tool_world.run("continue")   # a re-run after the answer (say its reply was lost): a known state, not an error
    assert again.code == EXIT_OK and again.result["answered"] == []
    assert "nothing awaits an answer" in again.result["message"] and "nothing was changed" in again.result["message"]
    aws.clock.sleep(20)   # the deployment moved on: its current stage has no hook
    later = tool_world.run("continue")
    assert later.code == EXIT_OK and "nothing awaits an answer" in later.result["message"], later.stderr
    taken_back = tool_world.run("continue", "--rollback")   # asked to take it back, but it goes on: not a success
    assert taken_back.code == EXIT_BAD_INPUT and "it is not rolling back; to take the release back, run " \
        f"`ecs-template-deploy rollback --cluster {tool_world.names.cluster}" in taken_back.stderr
    aws.clock.sleep(900)
    assert record(tool_world)["status"] == "SUCCESSFUL" and tool_world.steady_on() == tool_world.rev(2)
    assert tool_world.run("continue").code == EXIT_OK   # and after it ended


def test_without_rollback_a_failed_pause_says_blue_still_serves(tool_world):
    run = tool_world.run("deploy", "--tag", "v2", "--on-pause", "fail", "--no-rollback", *WAIT)
    assert run.code != EXIT_OK
    assert "rollback disabled (--no-rollback), web:2 stays where ECS holds it" in run.result["message"]
    assert "with blue still taking production traffic" in run.result["message"]
    assert tool_world.production_share() == 0   # nothing moved production: blue serves


def test_status_shows_the_pause_and_how_to_answer_it(tool_world, aws):
    assert tool_world.run("deploy", "--tag", "v2", "--no-wait").code == EXIT_OK
    aws.clock.sleep(300)
    status = tool_world.run("status")
    (paused_by,) = next(d for d in status.lines[-1]["serviceDeployments"]["deployments"] if d["pausedBy"])["pausedBy"]
    assert paused_by["timeoutAction"] == "ROLLBACK" and paused_by["expiresAt"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", "--cluster", tool_world.names.cluster, "--service", tool_world.names.service],
                    session=tool_world.session(), clock=aws.clock) == EXIT_OK
    assert f"paused by PAUSE hook {paused_by['hook']} until {paused_by['expiresAt']} (then ROLLBACK): answer with " \
           f"`ecs-template-deploy continue --cluster {tool_world.names.cluster} --service {tool_world.names.service}`" in out.getvalue()


def test_continue_rollback_takes_the_paused_release_back(tool_world, aws):
    assert tool_world.run("deploy", "--tag", "v2", "--no-wait").code == EXIT_OK
    aws.clock.sleep(300)
    answered = tool_world.run("continue", "--rollback")
    assert answered.code == EXIT_OK and answered.result["action"] == "ROLLBACK"
    aws.clock.sleep(600)
    assert record(tool_world)["status"] == "ROLLBACK_SUCCESSFUL" and tool_world.steady_on() == tool_world.rev(1)


def test_continue_on_a_service_without_pause_hooks_is_bad_input_and_changes_nothing(aws):
    tool_world = ToolWorld.build(aws, desired=2, strategy="BLUE_GREEN", bakeTimeInMinutes=1)
    assert tool_world.run("deploy", "--tag", "v1", *WAIT).code == EXIT_OK
    run = tool_world.run("continue")
    assert run.code == EXIT_BAD_INPUT and "no PAUSE lifecycle hook: nothing to answer" in run.stderr
    assert "ContinueServiceDeployment" not in run.calls


def test_the_readme_sample_is_what_deploy_prints(tool_world):
    """The docs' PAUSE sample (docs/deploy-tool/ecs-2026.md): the lines `deploy --tag v2 --on-pause fail` prints
    on this world, hook ids shortened."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        code = main(["deploy", "--cluster", tool_world.names.cluster, "--service", tool_world.names.service, "--template",
                     tool_world.names.template, "--tag", "v2", "--on-pause", "fail"], session=tool_world.session(),
                    clock=tool_world.aws.clock)
    assert code == EXIT_ROLLED_BACK

    def hooks_shortened(text: str) -> str:
        return re.sub(r"\b([0-9a-f]{8})-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "HOOK", text).replace(
            "705fca16-...", "HOOK")

    readme = Path(__file__).resolve().parents[2] / "docs" / "deploy-tool" / "ecs-2026.md"
    sample = readme.read_text().split("`deploy --tag v2 --on-pause fail` printed:", 1)[1].split("```", 2)[1]
    printed = hooks_shortened(out.getvalue() + err.getvalue()).splitlines()   # progress on stdout, the end on stderr
    for line in hooks_shortened(sample).strip().splitlines():
        if line != "...":
            assert line in printed, f"docs line not printed: {line}\nprinted:\n" + "\n".join(printed)
