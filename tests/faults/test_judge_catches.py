"""The fault judge fails the tool as the issue found it: each test puts one old
behaviour back (patched in this process only) and the cases that hit it are not held.
Without these, a sweep that always passes would prove nothing."""
from __future__ import annotations

from unittest import mock

from ecs_template_deploy import deploy, knowngood, prune, rollback, rollout, standing, watch
from ecs_template_deploy.views import revision_name
from ecs_template_deploy.retry import Retrier
from harness.faults.cases import Case, baseline, call_number, run_case
from harness.faults.inject import Fault


def judged(scenario: str, fault: Fault, operation: str, nth: int = 1):
    clean = baseline(scenario)
    return run_case(Case(scenario, fault, call_number(clean, operation, nth)))


def test_giving_up_the_watch_on_one_failed_call_is_a_lost_rollback():
    def give_up(self, err, deadline):
        raise err
    with mock.patch.object(watch._Blind, "failed", give_up):
        result = judged("crash-deploy", Fault.CLIENT_ERROR, "ecs.ListTasks", 2)
    assert not result.held and "gave up" in " ".join(result.lost), result.explain()


def test_pruning_the_revision_a_rollback_returns_to_is_lost():
    def running_and_latest_mark_only(service, family, marks, tags, scan_limit=25):
        latest = max(marks, key=marks.get) if marks else ""
        return {revision_name(service.task_definition): "runs", **({revision_name(latest): "latest"} if latest else {})}
    with mock.patch.object(prune, "needs", running_and_latest_mark_only):
        result = run_case(Case("prune"))
    assert result.lost == ["web:2, which a service runs or would roll back to, was deregistered"], result.explain()


def test_a_failed_known_good_mark_after_a_good_deploy_must_not_fail_the_deploy():
    def mark_once(self, outcome, proof):  # no retry, no warning: the error ends the command
        service = outcome.service
        return knowngood.mark(self.ecs, outcome.task_definition, at=self.clock.now(), service_arn=service.arn), []
    with mock.patch.object(rollback.Rollback, "_mark", mark_once):
        result = judged("good-deploy", Fault.CLIENT_ERROR, "ecs.TagResource", 1)
    assert result.misreported and "gave up" in result.misreported[0], result.explain()


def test_registering_again_after_a_kill_leaves_an_orphan_nobody_mentions():
    with mock.patch.object(deploy, "identical_revisions", lambda ecs, plan, others=None: []):
        result = judged("good-deploy", Fault.KILL_AFTER, "ecs.RegisterTaskDefinition")
    assert result.lost == ["web:2 is ACTIVE and no output mentions it"], result.explain()


def test_withdrawing_after_a_lost_update_reply_deregisters_what_the_service_runs():
    def once(self, fn, *, until, what):
        return fn()
    with mock.patch.object(Retrier, "call", once), \
            mock.patch.object(deploy, "_deployment_of", lambda ecs, plan, arn: None):  # no reading back
        result = judged("good-deploy", Fault.LOST_REPLY, "ecs.UpdateService")
    assert any("the revision the service runs" in problem for problem in result.lost), result.explain()


# -- known good means proven good: the judge fails the tool as the issue found it --


def test_marking_what_ecs_calls_completed_is_a_mark_without_a_bake():
    """The old first look: mark every deployment ECS reports COMPLETED. A deploy killed in
    its bake, then the next pipeline's release, marked the unbaked revision."""
    def first_look_that_marks(self, cluster, service):
        snapshot = self.watcher.describe(cluster, service)
        for deployment in snapshot.deployments:
            if deployment.is_completed and not knowngood.is_marked(snapshot, deployment.task_definition):
                knowngood.mark(self.ecs, deployment.task_definition, at=self.clock.now(), service_arn=snapshot.arn)
        return snapshot
    clean = baseline("bake-deploy")
    at = call_number(clean, "ecs.TagResource", 1) + 4  # a poll of the bake (its start is the first tag written)
    with mock.patch.object(rollout.Rollout, "_first_look", first_look_that_marks):
        result = run_case(Case("bake-deploy", Fault.KILL_BEFORE, at))
    assert any("web:2 (v2) was marked known good" in problem for problem in result.lost), result.explain()


def test_next_that_deploys_the_failed_release_again_is_lost():
    """The old `next:` after SIGTERM: the same deploy, whatever the release had shown."""
    clean = baseline("crash-deploy")
    at = call_number(clean, "ecs.UpdateService", 2)  # the rollback's update
    with mock.patch.object(standing.Journal, "resume", property(lambda self: None, lambda self, value: None)):
        result = run_case(Case("crash-deploy", Fault.SIGTERM, at))
    assert any("saw its release fail, then said next: ecs-template-deploy deploy" in p for p in result.lost), \
        result.explain()


def test_ignoring_an_alarm_already_in_alarm_marks_the_failed_release_on_a_retry():
    with mock.patch.object(watch.RolloutWatcher, "alarms_firing", property(lambda self: [])):
        result = run_case(Case("rerun-while-alarm"))
    assert any("web:2 (v3) was marked known good" in problem for problem in result.lost), result.explain()


def test_pruning_with_the_named_service_alone_deregisters_what_another_service_needs():
    def named_only(ecs, named, cluster, tags):
        return [named], set()
    with mock.patch.object(prune, "services_that_may_need", named_only):
        shared = run_case(Case("prune-shared-family"))
        with mock.patch.object(prune, "check_deploys_to", lambda *args: None):
            other = run_case(Case("prune-other-family"))
    assert any("web:3, which a service runs or would roll back to, was deregistered" in p for p in shared.lost), \
        shared.explain()
    assert any("api:1, which a service runs or would roll back to, was deregistered" in p for p in other.lost), \
        other.explain()


def test_following_a_return_whose_tasks_failed_gives_up_on_the_known_good_revision():
    """rollback as it was: it followed the failed return (its image was gone when
    that deployment began) instead of starting it over, and exited 4 once more."""
    with mock.patch.object(rollback.Rollback, "_failed_return", lambda self, snapshot: 0):
        result = run_case(Case("return-started-over"))
    assert any("exit 4 although AWS answered again" in p for p in result.misreported + result.lost), result.explain()
