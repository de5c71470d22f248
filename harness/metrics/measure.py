"""Small measurements scenarios take from what they observed: a rollback from
its timeline and recorded calls, version skew from the running tasks, CD's
permissions from the recorder. Each returns a property of ``results``."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from harness.metrics.iam import ApiCallRecorder
from harness.metrics.results import CdPermissions, ResultsError, Rollback, Timeline, VersionSkew


def rollback_measure(timeline: Timeline, *, api_calls: int | None, by: str, terraform_seconds: float = 0.0,
                     clock: str = "virtual") -> Rollback:
    """A failing deploy and its rollback, read off its timeline: seconds (on
    ``clock``: "virtual" or "wall") from the deploy (t=0) to the ``recovery``
    marker, lowest healthy count on the way. No recovery marker means the
    service never got back. ``api_calls``: None where they could not be seen;
    ``by``: who rolled back, as the rollback matrix's cell says it."""
    recovery = timeline.marker("recovery")
    return Rollback(
        simulated_seconds=recovery.t if recovery is not None else (timeline.samples[-1].t if timeline.samples else 0.0),
        terraform_seconds=terraform_seconds,
        api_calls=api_calls,
        lowest_healthy=timeline.lowest_healthy(),
        desired=timeline.desired,
        recovered=recovery is not None,
        by=by,
        timeline=timeline,
        clock=clock,
    )


def skew_share(running_digests: Iterable[str], declared_digest: str) -> float:
    """Share of running tasks whose image digest is not ``declared_digest``
    (0.0 when nothing runs)."""
    digests = list(running_digests)
    if not declared_digest:
        raise ResultsError("the declared digest is empty: resolve the service's image before measuring skew")
    if not digests:
        return 0.0
    return sum(1 for d in digests if d != declared_digest) / len(digests)


def version_skew(version_consistency: bool, share: float) -> VersionSkew:
    """The half of ``VersionSkew`` one run measured (consistency on or off)."""
    if not 0.0 <= share <= 1.0:
        raise ResultsError(f"a share of tasks is between 0 and 1, got {share}")
    return VersionSkew(share_vc_on=share) if version_consistency else VersionSkew(share_vc_off=share)


def running_digests(tasks: Iterable[Mapping[str, Any]], container: str) -> list[str]:
    """Image digests of ``container`` in RUNNING tasks, from DescribeTasks answers."""
    return [
        c.get("imageDigest", "")
        for t in tasks if t.get("lastStatus") == "RUNNING"
        for c in t.get("containers", []) if c.get("name") == container
    ]


def cd_permissions(recorder: ApiCallRecorder, *, needs_terraform_state: bool, needs_git_push: bool) -> CdPermissions:
    """What CD needed: the IAM actions it called (and those they imply), the
    least-privilege policy for them, and the non-AWS rights it used."""
    return CdPermissions(
        iam_actions=recorder.iam_actions(),
        needs_terraform_state=needs_terraform_state,
        needs_git_push=needs_git_push,
        policy=recorder.policy_document(),
    )
