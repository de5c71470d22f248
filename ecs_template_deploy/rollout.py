"""After the update: watch the rollout, bake, mark the revision known good; hand a failure to rollback.

`Rollout.see_through()` is what `deploy` does after it updated the service (or
found it already running the definition), in named steps:

- watch our deployment;
- steady: bake (`--bake`, and while an `--alarm` that was already firing is
  still in ALARM), with the bake's start recorded on the revision;
- the bake passed: mark the revision known good (only a bake this run saw pass
  does that);
- failed: `Rollback.after_failure` (rollback.py) records it on the revision
  and returns the service to known good, or says why it does not.

Once the service has been changed, nothing ends this early: whatever still goes
wrong becomes a `RolloutReport` with the documented exit code (rollback.py says
how), never an exception the CLI would report as "nothing changed".
"""
from __future__ import annotations

from . import knowngood
from .errors import EXIT_OK, DeployToolError, Next
from .resources import short
from .rollback import Rollback, RolloutReport
from .views import Service, same_revision
from .watch import Outcome

__all__ = ["Rollout", "RolloutReport"]


class Rollout(Rollback):
    """Sees one deploy of a service through; on failure, its way back is
    `Rollback`'s, which it is (so `roll_back` works on it too)."""

    def see_through(self, cluster: str, service: str, task_definition: str, *, deployment_id: str | None = None,
                    since: float | None = None, record_arn: str = "", previous: str = "") -> RolloutReport:
        """Watch the deployment of `task_definition` to its end and act on the verdict.
        `previous` is what the service ran before this deploy, for the message and the
        `rollback --to` a failure suggests when no revision is known good."""
        what = f"deploy of {short(task_definition)}"
        self._previous = previous
        return self._guarded(what, task_definition, Next.ROLLBACK,
                             lambda: self._see_through(cluster, service, task_definition, deployment_id, since, record_arn))

    def _see_through(self, cluster: str, service: str, task_definition: str, deployment_id: str | None,
                     since: float | None, record_arn: str = "") -> RolloutReport:
        first = self._first_look(cluster, service)
        if first is not None and same_revision(first.steady_on, task_definition) \
                and knowngood.is_marked(first, task_definition) and knowngood.read_mark(self.ecs, task_definition):
            return RolloutReport(EXIT_OK, f"{short(task_definition)} already runs, steady and known good: nothing to do",
                                 task_definition)
        # a blue/green, linear or canary deployment's own bake and steps come on top of --timeout
        waits = first.strategy_waits if first is not None else 0.0
        outcome = self.watcher.watch(cluster, service, deployment_id=deployment_id, task_definition=task_definition,
                                     since=since, record_arn=record_arn, timeout=self.options.timeout + waits)
        if outcome.succeeded and (self.options.bake or self.watcher.alarms_firing):
            outcome = self._bake(cluster, service, outcome)
        if outcome.succeeded:
            return self._succeeded(outcome, f"deployed {short(task_definition)}: steady state"
                                   + (f", baked {self.options.bake:g} s" if self.options.bake else ""))
        return self.after_failure(cluster, service, task_definition, outcome, since)

    def _bake(self, cluster: str, service: str, outcome: Outcome) -> Outcome:
        """The bake after the rollout: recorded on the revision as it starts, so a
        later run knows it never finished if this one is killed; judged by the
        watcher. Returns the bake's outcome if it failed, else the rollout's."""
        revision = outcome.task_definition
        arn = outcome.service.arn if outcome.service else None
        try:
            earlier = knowngood.read_bake(self.ecs, revision)
        except DeployToolError:
            earlier = None
        if earlier is not None and earlier.state == knowngood.STARTED:
            self.watcher.emit("action", f"{short(revision)}'s bake, {earlier.describe()} by an earlier run, never "
                              "finished: baking it again in full")
        try:
            knowngood.record_bake(self.ecs, revision, knowngood.STARTED, at=self.clock.now(), service_arn=arn)
        except DeployToolError as err:
            self.watcher.emit("warning", f"could not record the start of {short(revision)}'s bake ({err}): baking anyway")
        baked = self.watcher.bake(cluster, service, outcome, self.options.bake)
        return outcome if baked.succeeded else baked  # a failure during the bake is a failed deploy

    def _succeeded(self, outcome: Outcome, message: str) -> RolloutReport:
        marked, warnings = self._mark(outcome, knowngood.PASSED)
        return RolloutReport(EXIT_OK, message + (", marked known good" if marked else ""), outcome.task_definition,
                             outcome, known_good=marked, warnings=warnings)

    def _first_look(self, cluster: str, service: str) -> Service | None:
        """The service before watching (one DescribeServices): whether the deploy is
        already done, and how long the strategy waits. Best effort: the watch that
        follows has its own patience. Nothing is marked here: a deployment ECS calls
        COMPLETED is not a bake this tool saw pass."""
        try:
            return self.watcher.describe(cluster, service)
        except DeployToolError as err:
            self.watcher.emit("warning", f"could not read the service before watching ({err}); watching")
            return None
