"""`ecs-template-deploy release`: three services as one release, against the simulator.

worker and scheduler form wave 1, web wave 2 (after both). Each service was
deployed once (v1, baked), so each has a known-good revision to return to."""
from __future__ import annotations

from datetime import datetime

import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK
from ecs_template_deploy.release import RELEASE_TAG, STATE_TAG, Record
from harness.worlds.release import ReleaseWorld

GOOD = {"worker": "v2", "scheduler": "v2", "web": "v2"}
MUTATING = ("RegisterTaskDefinition", "UpdateService", "TagResource", "StopServiceDeployment", "DeregisterTaskDefinition")


@pytest.fixture
def release_world(aws) -> ReleaseWorld:
    return ReleaseWorld.build(aws, after={"web": ["worker", "scheduler"]})


def events_of(run, service: str) -> list[dict]:
    return [line for line in run.lines if line.get("service") == service]


def first(run, service: str, text: str) -> float:
    from ecs_template_deploy.clock import epoch  # noqa: F401  (times are ISO strings: compare as strings)
    return next(line["at"] for line in events_of(run, service) if text in line["message"])


def test_a_good_release_deploys_wave_by_wave_and_every_service_ends_known_good(release_world):
    run = release_world.release(GOOD)
    assert run.code == EXIT_OK, run.stderr
    assert release_world.steady() == {"worker": "worker:2", "scheduler": "scheduler:2", "web": "web:2"}
    assert release_world.known_good() == release_world.steady()
    result = run.result
    assert result["state"] == "deployed" and [s["state"] for s in result["services"]] == ["passed"] * 3
    # wave 2 starts only once both services of wave 1 passed their bake; wave 1 ran side by side
    assert first(run, "web", "updated service web") >= max(first(run, "worker", "marked worker:2 known good"),
                                                           first(run, "scheduler", "marked scheduler:2 known good"))
    assert first(run, "scheduler", "updated service") < first(run, "worker", "marked worker:2 known good")
    # one progress stream: every line of a service's step names it
    steps = [line for line in run.lines if line.get("kind") in ("rollout", "verdict", "service-event")]
    assert steps and all(line.get("service") in GOOD and line["message"].startswith(line["service"] + ": ")
                         for line in steps)
    record = Record.read(release_world.services["web"].service().tags)
    assert record.release == result["release"] and record.state == "passed" and record.to == "web:2"
    assert record.came_from == "web:1" and record.wave == 2
    tags = release_world.any.ecs.list_tags_for_resource(resourceArn=release_world.services["web"].service().task_definition)["tags"]
    assert {"key": RELEASE_TAG, "value": result["release"]} in tags


def test_the_last_service_failing_returns_every_service_to_its_known_good_latest_wave_first(release_world):
    run = release_world.release({"worker": "v2", "scheduler": "v2", "web": "crash"})
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}
    assert release_world.known_good() == release_world.steady()
    for name in ("worker", "scheduler"):  # proven by their own bake, and taken back with the release
        revision = release_world.services[name].service().task_definition
        assert knowngood.read_mark(release_world.any.ecs, revision.replace(":1", ":2")) is None
        # web failed on its own and is on its own way back: the first wave does not wait for it
        assert first(run, "web", "failed") <= first(run, name, "rolling back") < first(run, "web", "marked web:1 known good")
    assert [s["state"] for s in run.result["services"]] == ["returned"] * 3
    assert "web failed" in run.result["message"] and "back on its known good" in run.result["message"]
    assert run.result["services"][2]["running"].endswith("task-definition/web:1")


def test_without_json_the_end_names_every_service_and_where_it_stands(release_world):
    import contextlib
    import io

    from ecs_template_deploy.cli import main

    path = release_world.manifest({"worker": "v2", "scheduler": "v2", "web": "crash"})
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["release", "--manifest", str(path), "--poll-interval", "5"], session=release_world.any.session(),
                    clock=release_world.aws.clock)
    assert code == EXIT_ROLLED_BACK
    said = err.getvalue()
    for name, wave in (("worker", 1), ("scheduler", 1), ("web", 2)):
        assert f"now: service {name} (prod, wave {wave}): returned" in said, said
    assert all(line.split(None, 2)[2].split(" ")[0].rstrip(":") in ("worker", "scheduler", "web", "wave", "release")
               for line in out.getvalue().splitlines() if line[:4].isdigit()), out.getvalue()


def test_an_earlier_wave_returns_only_once_the_later_wave_services_that_ran_the_release_are_back(aws):
    """web passed in wave 2 while api, beside it, failed: worker (wave 1) ran v2 with web v2, so it returns
    only once web is back on v1; api is on its own way back and nobody waits for it."""
    release_world = ReleaseWorld.build(aws, ["worker", "web", "api"], after={"web": ["worker"], "api": ["worker"]})
    release_world.services["api"].declare_image("v3", crash_after=120)  # fails in its bake, after web passed its own
    run = release_world.release({"worker": "v2", "web": "v2", "api": "v3"}, per_service={"web": "bake = 0", "api": "bake = 300"})
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert release_world.steady() == {"worker": "worker:1", "web": "web:1", "api": "api:1"}
    assert first(run, "web", "marked web:2 known good") < first(run, "api", "failed")
    assert first(run, "worker", "rolling back") >= first(run, "web", "marked web:1 known good")
    assert first(run, "web", "rolling back") < first(run, "api", "marked api:1 known good")


def test_a_re_run_of_a_failed_release_never_deploys_it_again(release_world):
    tags = {"worker": "v2", "scheduler": "v2", "web": "crash"}
    assert release_world.release(tags).code == EXIT_ROLLED_BACK
    again = release_world.release(tags)
    assert again.code == EXIT_ROLLED_BACK, again.stderr
    assert "failed in an earlier run" in again.result["message"], again.result
    assert not set(again.calls) & set(MUTATING), again.calls
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}


def test_a_service_failing_in_the_first_wave_stops_its_sibling_and_the_next_wave_never_starts(release_world):
    run = release_world.release({"worker": "crash", "scheduler": "slow", "web": "v2"})
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}
    states = {s["service"]: s["state"] for s in run.result["services"]}
    assert states == {"worker": "returned", "scheduler": "returned", "web": "untouched"}
    # the slow sibling was not watched to the end of its rollout first
    assert not any("scheduler:2 reached a steady state" in line["message"] for line in events_of(run, "scheduler"))
    assert release_world.services["web"].revisions() == ["web:1"]


@pytest.mark.parametrize("change, said", [
    (lambda text: text.replace('"scheduler"', '"cron"'), "service cron: service 'cron' not found"),
    (lambda text: text.replace('template = "scheduler-template"', 'template = "worker"\nfamily = "scheduler"'),
     "template worker is the family service worker deploys into (a template is Terraform's"),
    (lambda text: text.replace('name = "scheduler"', 'name = "scheduler"\nfamily = "worker"'),
     "both register into family worker"),
    (lambda text: text.replace('tag = "v2"', 'images = { sidecar = "x:1" }', 1), "service worker: "),
])
def test_a_manifest_wrong_against_aws_is_refused_before_any_change(release_world, change, said):
    path = release_world.manifest(GOOD)
    path.write_text(change(path.read_text()))
    run = release_world.run("release", "--manifest", str(path))
    assert run.code == EXIT_BAD_INPUT and said in run.stderr, run.stderr
    assert not set(run.calls) & set(MUTATING), run.calls
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}


def test_status_and_rollback_by_release_id_work_from_the_records_alone(release_world):
    deployed = release_world.release(GOOD)
    release = deployed.result["release"]
    status = release_world.run("status", "--cluster", "prod", "--release", release)
    assert status.code == EXIT_OK
    (shown,) = status.lines
    assert shown["state"] == "known good" and [r["service"] for r in shown["services"]] == ["scheduler", "worker", "web"]
    back = release_world.run("rollback", "--cluster", "prod", "--release", release, "--poll-interval", "5")
    assert back.code == EXIT_OK, back.stderr
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}
    assert release_world.known_good() == release_world.steady()
    status = release_world.run("status", "--cluster", "prod", "--release", release)
    assert status.lines[0]["state"] == "rolled back" and not status.lines[0]["knownGood"]
    again = release_world.run("rollback", "--cluster", "prod", "--release", release, "--poll-interval", "5")
    assert again.code == EXIT_OK and "UpdateService" not in again.calls, again.stderr
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}


def test_rollback_by_release_refuses_options_for_one_service_and_an_unknown_id(release_world):
    run = release_world.run("rollback", "--cluster", "prod", "--release", "r-nope")
    assert run.code == EXIT_BAD_INPUT and "no service of cluster 'prod' records release 'r-nope'" in run.stderr
    run = release_world.run("rollback", "--cluster", "prod", "--release", "r-nope", "--to", "3")
    assert run.code == EXIT_BAD_INPUT and "--to applies to one service" in run.stderr
    run = release_world.run("status", "--cluster", "prod")
    assert run.code == EXIT_BAD_INPUT and "no service named: pass --service NAME, or --release ID" in run.stderr
    run = release_world.run("status", "--cluster", "prod", "--release", "a b")
    assert run.code == EXIT_BAD_INPUT and "is not a release id" in run.stderr and not run.calls


def test_the_same_id_with_another_manifest_is_refused(release_world):
    assert release_world.release(GOOD, release_id="build-7").code == EXIT_OK
    run = release_world.release({**GOOD, "web": "v3"}, release_id="build-7")
    assert run.code == EXIT_BAD_INPUT and "was started with another manifest" in run.stderr
    assert not set(run.calls) & set(MUTATING)


def test_a_service_with_nothing_known_good_makes_the_release_say_where_it_is_left(aws):
    release_world = ReleaseWorld.build(aws, ["worker", "web"], after={"web": ["worker"]}, first=None)
    run = release_world.release({"worker": "v2", "web": "crash"})
    assert run.code == EXIT_NOT_RECOVERED, run.stderr
    assert "not where they should be: worker, web" in run.stderr
    # nothing was proven before the release: what ran before is named, as the command that returns there
    assert run.result["next"] == ("ecs-template-deploy rollback --cluster prod --service worker --to worker-template:1 "
                                  "--family worker-template && ecs-template-deploy rollback --cluster prod --service web "
                                  "--to web-template:1 --family web-template")
    assert STATE_TAG in release_world.services["web"].service().tags


def test_sigterm_mid_release_says_where_every_service_stands_and_a_re_run_finishes_it(release_world):
    from harness.faults.inject import Fault, FaultInjector

    session = release_world.any.session()
    calls: list[str] = []
    session.events.register("before-call.ecs.UpdateService", lambda **_: calls.append("update"))
    FaultInjector(session, Fault.SIGTERM, 3, operation="UpdateService")  # as web's update is about to go out
    stopped = release_world.release(GOOD, session=session)
    assert stopped.code == 143, stopped.stderr
    assert stopped.result["next"].startswith("ecs-template-deploy release --manifest ")
    standing = stopped.result["now"]
    assert len(standing) == 3 and sum("in release" in line and ": passed" in line for line in standing) == 2, standing
    again = release_world.release(GOOD)
    assert again.code == EXIT_OK, again.stderr
    assert release_world.steady() == {"worker": "worker:2", "scheduler": "scheduler:2", "web": "web:2"}
    assert release_world.known_good() == release_world.steady()


# -- what a hostile review found, kept found ------------------------------------------------------

def _stopped_at(release_world: ReleaseWorld, tags: dict, operation: str, nth: int, fault=None, **kwargs):
    from harness.faults.inject import Fault, FaultInjector, Killed

    session = release_world.any.session()
    FaultInjector(session, fault or Fault.SIGTERM, nth, operation=operation)
    try:
        return release_world.release(tags, session=session, **kwargs)
    except Killed:
        return None


def test_a_revision_reused_from_a_failed_release_does_not_make_a_re_run_of_the_next_one_fail(release_world):
    assert release_world.release({"worker": "v2", "scheduler": "v2", "web": "crash"}).code == EXIT_ROLLED_BACK
    tags = {"worker": "v2", "scheduler": "v2", "web": "v3"}  # worker:2 and scheduler:2 reused: identical
    stopped = _stopped_at(release_world, tags, "UpdateService", 2)
    assert stopped.code == 143, stopped.stderr
    again = release_world.release(tags)
    assert again.code == EXIT_OK, again.stderr
    assert release_world.steady() == {"worker": "worker:2", "scheduler": "scheduler:2", "web": "web:3"}


def test_a_migration_waits_on_its_own_service_so_the_wave_is_watched_meanwhile(release_world):
    release_world.aws.sim.declare_command(["bin/migrate", "--yes"], exit_code=0, exit_after=900)
    run = release_world.release({"worker": "crash", "scheduler": "v2", "web": "v2"},
                        per_service={"scheduler": 'run_before = "bin/migrate --yes"'})
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    # worker's failure was seen while the migration ran, and scheduler was never updated to the failed release
    started = datetime.fromisoformat(run.lines[0]["at"].replace("Z", "+00:00"))
    seen = datetime.fromisoformat(first(run, "worker", "failed").replace("Z", "+00:00"))
    assert (seen - started).total_seconds() < 900  # the migration takes 900 s
    assert release_world.services["scheduler"].revisions() == ["scheduler:1", "scheduler:2"]
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}
    assert {s["service"]: s["state"] for s in run.result["services"]}["scheduler"] in ("untouched", "returned")
    assert any(line.get("service") == "scheduler" and "bin/migrate" in line["message"] for line in run.lines)


def test_a_re_run_keeps_what_each_service_ran_before_the_release(aws):
    from harness.faults.inject import Fault

    release_world = ReleaseWorld.build(aws, ["worker", "web"], after={"web": ["worker"]}, first=None)
    tags = {"worker": "v2", "web": "crash"}
    assert _stopped_at(release_world, tags, "UpdateService", 1, Fault.KILL_AFTER) is None
    again = release_world.release(tags)
    assert again.code == EXIT_NOT_RECOVERED, again.stderr
    assert "--service worker --to worker-template:1" in again.result["next"], again.result["next"]
    assert "--service web --to web-template:1" in again.result["next"], again.result["next"]


def test_status_of_a_release_stopped_before_its_last_wave_is_not_known_good(release_world):
    stopped = _stopped_at(release_world, GOOD, "RegisterTaskDefinition", 3)
    assert stopped.code == 143
    (status,) = release_world.run("status", "--cluster", "prod", "--release", stopped.lines[0]["release"]).lines
    assert not status["knownGood"] and status["state"] == "in progress (2 of its 3 services started)", status


def test_a_failing_run_before_leaves_its_service_untouched_and_the_release_says_rolled_back(release_world):
    release_world.aws.sim.declare_command(["bin/migrate", "--yes"], exit_code=3, exit_after=30)
    run = release_world.release(GOOD, per_service={"web": 'run_before = "bin/migrate --yes"'})
    assert run.code == EXIT_ROLLED_BACK, run.stderr
    assert release_world.steady() == {"worker": "worker:1", "scheduler": "scheduler:1", "web": "web:1"}


def test_a_release_is_refused_while_another_is_still_deploying_a_service(release_world):
    stopped = _stopped_at(release_world, GOOD, "UpdateService", 3)
    run = release_world.release({"worker": "v3", "scheduler": "v3", "web": "v3"})
    assert run.code == EXIT_BAD_INPUT and f"is in release {stopped.lines[0]['release']}, still deploying" in run.stderr
    assert not set(run.calls) & set(MUTATING)


def test_rollback_of_a_release_a_later_deploy_superseded_says_so(release_world):
    release = release_world.release(GOOD).result["release"]
    assert release_world.services["web"].run("deploy", "--tag", "v3", "--poll-interval", "5").code == EXIT_OK
    (status,) = release_world.run("status", "--cluster", "prod", "--release", release).lines
    assert status["state"] == "superseded" and not status["knownGood"]
    back = release_world.run("rollback", "--cluster", "prod", "--release", release, "--poll-interval", "5")
    assert back.code == EXIT_NOT_RECOVERED, back.stderr
    states = {s["service"]: s["state"] for s in back.result["services"]}
    assert states["web"] == "superseded" and release_world.steady()["web"] == "web:3"


def test_a_poll_interval_longer_than_a_service_timeout_is_refused(release_world):
    run = release_world.release(GOOD, poll="7200")
    assert run.code == EXIT_BAD_INPUT and "--poll-interval 7200 is longer than service" in run.stderr and not run.calls
