"""Results the report tests draw: built by hand, as scenarios would record them,
so the writers are tested before the scenarios exist."""
from __future__ import annotations

from harness.metrics.results import (
    AutoscalingDrift,
    CdPermissions,
    Clobber,
    ClobberCase,
    ConfigOwnership,
    DriftAfterDeploy,
    ExplicitVersion,
    Marker,
    ResourceChange,
    Results,
    Rollback,
    Sample,
    Timeline,
    VersionSkew,
)


def rollback_timeline(fail_at: float, decide_at: float, recover_at: float, desired: int = 4) -> Timeline:
    samples = [Sample(0.0, {"app:v1": desired}, desired)]
    samples.append(Sample(fail_at - 10, {"app:v1": desired, "app:v2": 2}, desired))
    samples.append(Sample(fail_at, {"app:v1": desired, "app:v2": 1}, desired))
    samples.append(Sample(decide_at, {"app:v1": desired - 1, "app:v2": 1}, desired - 1))
    samples.append(Sample(recover_at, {"app:v1": desired}, desired))
    return Timeline(
        samples=tuple(samples),
        markers=(Marker(0.0, "deploy"), Marker(fail_at, "failure"), Marker(decide_at, "decision"), Marker(recover_at, "recovery")),
        desired=desired,
        images=("app:v1", "app:v2"),
    )


def sample_results() -> Results:
    r = Results(parameters={"backend": "moto", "simulator": {"scheduler_interval": 5.0, "image_pull_seconds": 10.0}})
    owns_all = {"cpu": True, "memory": True, "environment": True, "secrets": True}
    r.add("persistent-tag", DriftAfterDeploy(plan_exit_code=0, changes=[]))
    r.add("persistent-tag", ExplicitVersion(readable=False, image="repo/app:prod", pinned_by="moving tag"))
    r.add("persistent-tag", Rollback(simulated_seconds=95.0, terraform_seconds=0.0, api_calls=9, lowest_healthy=3,
                                     desired=4, recovered=True, by="cd", timeline=rollback_timeline(30, 60, 95)))
    r.add("persistent-tag", VersionSkew(share_vc_on=0.0, share_vc_off=0.5))
    r.add("persistent-tag", CdPermissions(iam_actions=["ecr:BatchGetImage", "ecr:PutImage", "ecs:DescribeServices", "ecs:UpdateService"],
                                          needs_terraform_state=False, needs_git_push=False,
                                          policy={"Version": "2012-10-17", "Statement": []}))
    r.add("persistent-tag", ConfigOwnership(terraform_owns=owns_all))
    r.add("ignore-changes", DriftAfterDeploy(plan_exit_code=0, changes=[]))
    r.add("ignore-changes", Clobber(cases={"memory": ClobberCase("repo/app:v2", "repo/app:v1", True, "immediately", 40.0)}))
    r.add("app-repo", DriftAfterDeploy(plan_exit_code=0, changes=[]))
    r.add("app-repo", ConfigOwnership(terraform_owns={"cpu": False, "memory": False, "environment": False, "secrets": False}))
    r.add("terraform-cd-central", DriftAfterDeploy(plan_exit_code=2, changes=[
        ResourceChange("aws_ecs_task_definition.app", ("delete", "create"), ("container_definitions",))]))
    r.add("terraform-cd-central", CdPermissions(needs_terraform_state=True, needs_git_push=True))
    r.add("template", DriftAfterDeploy(plan_exit_code=0, changes=[]))
    r.add("template", Clobber(cases={"memory": ClobberCase("repo/app:v2", "repo/app:v2", False, "next deploy")}))
    r.add("template", ExplicitVersion(readable=True, image="repo/app:v2", pinned_by="tag"))
    r.add("template", Rollback(simulated_seconds=65.0, terraform_seconds=0.0, api_calls=5, lowest_healthy=4,
                               desired=4, recovered=True, by="cd", timeline=rollback_timeline(30, 35, 65)))
    r.add("template", VersionSkew(share_vc_on=0.0, share_vc_off=0.0))
    r.add("template", AutoscalingDrift(drift=False, desired_count_ignored=True, plan_exit_code=0))
    r.add("template", CdPermissions(iam_actions=["ecs:DescribeServices", "ecs:DescribeTaskDefinition",
                                                 "ecs:RegisterTaskDefinition", "ecs:UpdateService"],
                                    needs_terraform_state=False, needs_git_push=False))
    r.add("template", ConfigOwnership(terraform_owns=owns_all))
    return r
