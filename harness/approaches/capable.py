"""The most capable CD an approach allows, apart from the approach itself.

The article sketches a minimal CD for each approach: deploy, watch until steady,
roll back when the rollout fails. Any CD could do more, whatever the approach:
keep watching alarms after the rollout completed (and count a release as known
good only once that bake passed), stop a blue/green deployment
while ECS still holds blue, follow ECS's own rollback instead of starting
another. ``CapableCd`` adds those to an approach's own CD, from the deploy
tool's library parts (its watcher, bake and alarm checks, the StopServiceDeployment
ROLLBACK it uses), and still returns to what *that approach* can return to: its
own ``rollback()`` (approach 1 moves its tag back; 2 and 3 update the service to
the revision that ran; 4 applies the known-good tag).

So a difference between two approaches' capable CDs comes from the approaches;
a difference between an approach's article CD and its capable CD comes from the CD.

What an approach adds to it (class attributes and a hook):

- ``follows_ecs_rollback``: ECS's own rollback (circuit breaker, alarms) returns
  to what the approach's rollback would; following it is the whole way back.
  False where the approach still has to put something right (its moving tag, its
  Terraform state).
- ``after_shift_back()``: what is left to do once blue/green traffic is back on
  blue (approach 1: the tag).
"""
from __future__ import annotations

from typing import Any

from ecs_template_deploy.verdict import State
from ecs_template_deploy.watch import Outcome

from harness.approaches import ApproachError
from harness.approaches.base import Step, container_image, make_watcher



class CapableCd:
    """An approach's CD (``approach``: an ``EcsCd`` approach instance), made as capable
    as the approach allows. Use as a context manager or call ``close()``: it lends the
    approach a baking watcher and gives the approach's own back when done."""

    def __init__(self, approach: Any) -> None:
        if not hasattr(approach, "watcher"):
            raise ApproachError(f"{approach.name}: its CD is not the harness's to extend (a command or the deploy tool)")
        self.approach = approach
        self._own_watcher = approach.watcher
        self._baking = make_watcher(approach.ecs, approach.context, bakes=True)
        approach.watcher = self._baking
        approach.bake_seconds = approach.context.bake  # known good only once the bake passed
        self.failed: Step | None = None
        self.last_way_back = ""  # how the last rollback went: "shift back", "followed ECS", "the approach's own"

    def __getattr__(self, name: str) -> Any:  # facts, claims, supports, apply_infra_change...: the approach's
        return getattr(self.approach, name)

    def close(self) -> None:
        self.approach.watcher = self._own_watcher
        del self.approach.bake_seconds  # the class's 0 again: the article's CD

    def __enter__(self) -> CapableCd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def deploy(self, version: str) -> Step:
        step: Step = self.approach.deploy(version)
        self.failed = None if step.succeeded else step
        return step

    def rollback(self) -> Step:
        # The way back is watched for a steady service, not against the release's alarm, which
        # may still be firing (as the deploy tool watches its own rollback)
        self.approach.watcher = self._own_watcher
        try:
            return self._way_back()
        finally:
            self.approach.watcher = self._baking

    def _way_back(self) -> Step:
        outcome = self.failed.outcome if self.failed is not None else None
        if isinstance(outcome, Outcome):
            record = outcome.record
            if record is not None and record.keeps_blue and not record.is_rolling_back:
                self.last_way_back = "shift back"
                return self._shift_back(outcome, record.arn)
            if outcome.state is State.ROLLED_BACK_BY_ECS and getattr(self.approach, "follows_ecs_rollback", False):
                self.last_way_back = "followed ECS"
                return self._follow(outcome)
        self.last_way_back = "the approach's own"
        step: Step = self.approach.rollback()
        return step

    def _shift_back(self, outcome: Outcome, deployment_arn: str) -> Step:
        """Blue still runs and ECS can take traffic back to it: StopServiceDeployment
        ROLLBACK (no task started), then what the approach must still put right."""
        context, ecs = self.approach.context, self.approach.ecs
        ecs.stop_service_deployment(serviceDeploymentArn=deployment_arn, stopType="ROLLBACK")
        recovery = self.approach.watcher.watch_replacement(context.cluster, context.service, outcome.deployment_id,
                                                           since=outcome.started_at, failed=outcome.task_definition)
        getattr(self.approach, "after_shift_back", lambda: None)()
        return self._step(recovery)

    def _follow(self, outcome: Outcome) -> Step:
        context = self.approach.context
        recovery = self.approach.watcher.watch_replacement(context.cluster, context.service, outcome.deployment_id,
                                                           since=outcome.started_at, failed=outcome.task_definition)
        return self._step(recovery)

    def _step(self, recovery: Outcome) -> Step:
        definition = recovery.task_definition or self.approach.current_task_definition()
        return Step(definition, container_image(self.approach.ecs, definition, self.approach.context.container), recovery)
