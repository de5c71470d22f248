"""The fault judge fails the tool as the issue found it: each test puts one old
behaviour back (patched in this process only) and the cases that hit it are not held.
Without these, a sweep that always passes would prove nothing."""
from __future__ import annotations

from unittest import mock

from ecs_template_deploy import deploy, knowngood, prune, rollback, watch
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
    assert result.lost == ["known-good web:2 was deregistered"], result.explain()


def test_a_failed_known_good_mark_after_a_good_deploy_must_not_fail_the_deploy():
    def mark_once(self, outcome, proof):  # no retry, no warning: the error ends the command
        service = outcome.service
        return knowngood.mark(self.ecs, outcome.task_definition, at=self.clock.now(), service_arn=service.arn), []
    with mock.patch.object(rollback.Rollout, "_mark", mark_once):
        result = judged("good-deploy", Fault.CLIENT_ERROR, "ecs.TagResource", 1)
    assert result.misreported and "gave up" in result.misreported[0], result.explain()


def test_registering_again_after_a_kill_leaves_an_orphan_nobody_mentions():
    with mock.patch.object(deploy, "identical_revisions", lambda ecs, plan: []):
        result = judged("good-deploy", Fault.KILL_AFTER, "ecs.RegisterTaskDefinition")
    assert result.lost == ["web:2 is ACTIVE and no output mentions it"], result.explain()


def test_withdrawing_after_a_lost_update_reply_deregisters_what_the_service_runs():
    def once(self, fn, *, until, what):
        return fn()
    with mock.patch.object(Retrier, "call", once), \
            mock.patch.object(deploy, "_deployment_of", lambda ecs, plan, arn: None):  # no reading back
        result = judged("good-deploy", Fault.LOST_REPLY, "ecs.UpdateService")
    assert any("the revision the service runs" in problem for problem in result.lost), result.explain()
