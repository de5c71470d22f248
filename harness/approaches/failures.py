"""The failure modes of the rollback matrix, as data: what goes wrong, how the
simulator is told, and which strategies and approaches it applies to. The
scenario (``scenarios/test_rollback_matrix.py``) runs each; the report reads
titles and parameters from the results, never from here.

Where the circuit breaker sees the failure at once (every task crashes), every
approach looks alike; the modes that tell them apart are the ones the breaker
sees late or not at all, and the ones where *what* an approach rolls back to
matters (a moving tag, an infrastructure change made just before).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

CRASH_AFTER = 5  # seconds after it starts that a crashing release's container exits (the worlds' BROKEN image)
STRATEGIES = ("ROLLING", "BLUE_GREEN")
# The release the alarm mode ships passes every check; this long after its
# deployment completed, the alarm its errors drive goes into ALARM.
ALARM_AFTER_COMPLETION = 120.0
# How long the deploy tool bakes (keeps watching) after a deployment completed, in
# every cell: `--bake 300`, as its docs recommend with `--alarm`.
TOOL_BAKE = 300.0
# After CD returns, the scenario waits this long before judging where the service is:
# long enough for the alarm mode's alarm to fire when CD is no longer watching.
AFTERWARDS = 300.0
# The infrastructure change made through Terraform before the failing deploy.
INFRA_CHANGE = {"setting": "environment", "value": {"INFRA_CHANGE": "applied"}}


@dataclass(frozen=True)
class FailureMode:
    key: str
    title: str
    what: str  # one line: what goes wrong
    image: Mapping[str, Any]  # the failing release's image behaviour in the simulator ({}: healthy)
    configuration: Mapping[str, Any] = field(default_factory=dict)  # the stand-in's options for it
    strategies: tuple[str, ...] = STRATEGIES
    # Only for an approach whose task definition names a tag that moves between deploys
    # (its claims' ``moving_tag``): what the mode breaks is that tag.
    only_moving_tag: bool = False
    alarm_after_completion: float | None = None
    infra_change: bool = False

    def applies_to(self, approach: Any, strategy: str) -> bool:
        """Does the mode apply to ``approach`` (a row of the table of approaches) on ``strategy``?"""
        return strategy in self.strategies and (not self.only_moving_tag or bool(approach.claims.expected("moving_tag")))

    def approaches(self) -> tuple[str, ...] | None:
        """The approaches it applies to by name, None for all."""
        if not self.only_moving_tag:
            return None
        from harness.approaches import rows

        return tuple(row.name for row in rows() if self.applies_to(row, self.strategies[0]))

    def parameters(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, "what": self.what, "image": dict(self.image),
                               "strategies": list(self.strategies), "order": MODES.index(self)}
        if self.configuration:
            out["configuration"] = dict(self.configuration)
        if self.only_moving_tag:
            out["approaches"] = list(self.approaches() or ())
        if self.alarm_after_completion is not None:
            out["alarm_after_completion_seconds"] = self.alarm_after_completion
            out["deploy_tool_bake_seconds"] = TOOL_BAKE
        if self.infra_change:
            out["infra_change"] = INFRA_CHANGE
        return out


MODES: tuple[FailureMode, ...] = (
    FailureMode("crash-at-once", "Every task crashes",
                f"the release's container exits {CRASH_AFTER} s after it starts, in every task",
                {"crash_after": CRASH_AFTER}),
    FailureMode("image-missing", "Image cannot be pulled",
                "the release's tag is in ECR, yet no task can pull it (deleted since, a registry policy)",
                {"missing": True}),
    FailureMode("one-in-four-unhealthy", "One task in four fails health checks",
                "every fourth task of the release fails its target group health checks: a trickle below the "
                "circuit breaker's threshold", {"target_health_fails_every": 4},
                {"load_balanced": True, "desired_count": 4}),
    FailureMode("alarm-after-release", "Alarm after the release completed",
                f"the release passes every check; {ALARM_AFTER_COMPLETION:g} s after its deployment completed, "
                "the alarm on its errors goes into ALARM", {}, alarm_after_completion=ALARM_AFTER_COMPLETION),
    FailureMode("breaker-off", "Every task crashes, circuit breaker off",
                "as 'every task crashes', on a service whose deployment circuit breaker is off (as many still are)",
                {"crash_after": CRASH_AFTER}, {"circuit_breaker": False}, strategies=("ROLLING",)),
    FailureMode("infra-change-then-fail", "Failing deploy after an infrastructure change",
                "Terraform adds an environment variable, then the next release crashes: does the way back keep "
                "the change?", {"crash_after": CRASH_AFTER}, infra_change=True),
    FailureMode("tag-moved-vc-off", "Moving tag, version consistency off",
                "approach 1's tag now names the crashing release, on a container with versionConsistency "
                "disabled: the tag is resolved again by every task ECS starts, the circuit breaker's rollback included",
                {"crash_after": CRASH_AFTER}, {"version_consistency": False}, strategies=("ROLLING",),
                only_moving_tag=True),
)
