"""Measurements taken from observations: rollback from its timeline, version
skew from running tasks, CD's permissions from the recorder."""
from __future__ import annotations

import pytest

from harness.metrics.iam import ApiCallRecorder
from harness.metrics.measure import cd_permissions, rollback_measure, running_digests, skew_share, version_skew
from harness.metrics.results import Marker, ResultsError, Sample, Timeline, VersionSkew


def _timeline(recovered: bool) -> Timeline:
    markers = [Marker(0, "deploy"), Marker(20, "failure"), Marker(25, "decision")]
    if recovered:
        markers.append(Marker(70, "recovery"))
    return Timeline(samples=(Sample(0, {"v1": 3}, 3), Sample(30, {"v1": 2, "v2": 1}, 2), Sample(80, {"v1": 3}, 3)),
                    markers=tuple(markers), desired=3)


def test_rollback_time_is_the_recovery_moment_and_lowest_healthy_comes_from_the_samples() -> None:
    measured = rollback_measure(_timeline(recovered=True), api_calls=11, by="cd", terraform_seconds=4.5)
    # one clock: Terraform's 4.5 s happened on the timeline, inside the 70 s, not on top of them
    assert (measured.simulated_seconds, measured.total_seconds, measured.terraform_seconds) == (70.0, 70.0, 4.5)
    assert (measured.lowest_healthy, measured.desired, measured.recovered, measured.api_calls) == (2, 3, True, 11)


def test_a_rollback_that_never_recovers_says_so_and_runs_to_the_last_sample() -> None:
    measured = rollback_measure(_timeline(recovered=False), api_calls=4, by="nobody")
    assert (measured.recovered, measured.simulated_seconds) == (False, 80.0)


def test_skew_is_the_share_of_running_tasks_off_the_declared_digest() -> None:
    tasks = [
        {"lastStatus": "RUNNING", "containers": [{"name": "app", "imageDigest": "sha256:a"}, {"name": "proxy", "imageDigest": "sha256:p"}]},
        {"lastStatus": "RUNNING", "containers": [{"name": "app", "imageDigest": "sha256:b"}]},
        {"lastStatus": "PENDING", "containers": [{"name": "app", "imageDigest": "sha256:b"}]},
        {"lastStatus": "RUNNING", "containers": [{"name": "app", "imageDigest": "sha256:a"}]},
        {"lastStatus": "RUNNING", "containers": [{"name": "app", "imageDigest": "sha256:a"}]},
    ]
    digests = running_digests(tasks, "app")
    assert digests == ["sha256:a", "sha256:b", "sha256:a", "sha256:a"]
    assert skew_share(digests, "sha256:a") == 0.25
    assert skew_share([], "sha256:a") == 0.0
    with pytest.raises(ResultsError, match="declared digest is empty"):
        skew_share(digests, "")


def test_version_skew_fills_the_half_that_was_measured() -> None:
    assert version_skew(True, 0.0) == VersionSkew(share_vc_on=0.0)
    assert version_skew(False, 0.5) == VersionSkew(share_vc_off=0.5)
    with pytest.raises(ResultsError, match="between 0 and 1"):
        version_skew(False, 1.5)


def test_cd_permissions_come_from_the_recorded_calls() -> None:
    recorder = ApiCallRecorder()
    recorder.record("ecs", "UpdateService", "us-east-1", {"cluster": "c", "service": "s"})
    recorder.record("ecr", "PutImage", "us-east-1", {"repositoryName": "app"})
    measured = cd_permissions(recorder, needs_terraform_state=False, needs_git_push=False)
    assert measured.iam_actions == ["ecr:PutImage", "ecs:UpdateService"]
    assert [s["Sid"] for s in measured.policy["Statement"]] == ["Ecr1", "Ecs1"]
