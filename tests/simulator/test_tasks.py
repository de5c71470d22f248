"""Semantics page, "Tasks": lifecycle, failure modes, draining."""
from __future__ import annotations

import re

import pytest

from harness.ecs.images import ImageBehaviour

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/0123456789abcdef"
LB = [{"targetGroupArn": TG, "containerName": "app", "containerPort": 80}]


def statuses(aws, task_arn: str, seconds: int) -> list[tuple[int, str]]:
    """(virtual second, lastStatus) at each change, read through DescribeTasks."""
    ecs = aws.client("ecs")
    start, seen = aws.clock.now(), []
    for _ in range(seconds):
        status = ecs.describe_tasks(cluster="c", tasks=[task_arn])["tasks"][0]["lastStatus"]
        if not seen or seen[-1][1] != status:
            seen.append((round(aws.clock.now() - start), status))
        aws.clock.sleep(1)
    return seen


def test_task_lifecycle_and_fields_are_visible_through_list_and_describe_tasks(ecs, aws):
    """lastStatus, desiredStatus, startedBy (the deployment id), taskDefinitionArn,
    container image and imageDigest are visible through ListTasks/DescribeTasks."""
    td = ecs.task_definition("nginx:1.27")
    ecs.service(td, desired=1)
    aws.clock.sleep(5)
    (arn,) = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    assert re.fullmatch(r"arn:aws:ecs:us-east-1:123456789012:task/c/[0-9a-f]{32}", arn)
    assert statuses(aws, arn, 30) == [(0, "PENDING"), (15, "RUNNING")]
    (task,) = ecs.tasks()
    deployment_id = ecs.describe()["deployments"][0]["id"]
    assert (task["desiredStatus"], task["startedBy"], task["taskDefinitionArn"], task["group"]) == (
        "RUNNING", deployment_id, td, "service:web")
    container = task["containers"][0]
    assert container["image"] == "nginx:1.27" and container["imageDigest"].startswith("sha256:")


def test_image_missing_from_ecr_fails_the_task_with_cannot_pull_container_error(ecs, aws):
    ecr = aws.client("ecr")
    repo = ecr.create_repository(repositoryName="app")["repository"]["repositoryUri"]
    ecs.service(ecs.task_definition(f"{repo}:nope"), desired=1)
    aws.clock.sleep(30)
    task = ecs.tasks("STOPPED")[0]
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith(f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref {repo}:nope")


def test_a_tag_whose_digest_is_declared_missing_fails_to_pull(ecs, aws):
    """A tag that is in ECR, pointing at a digest a scenario declared unpullable
    (deleted since, a registry policy): the task fails as if the image were absent."""
    ecr = aws.client("ecr")
    repo = ecr.create_repository(repositoryName="app")["repository"]["repositoryUri"]
    manifest = '{"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {}, "layers": []}'
    digest = ecr.put_image(repositoryName="app", imageManifest=manifest, imageTag="v9")["image"]["imageId"]["imageDigest"]
    aws.sim.declare_image(digest, missing=True)
    ecs.service(ecs.task_definition(f"{repo}:v9"), desired=1)
    aws.clock.sleep(30)
    task = ecs.tasks("STOPPED")[0]
    assert task["stopCode"] == "TaskFailedToStart"
    assert task["stoppedReason"].startswith("CannotPullContainerError")


def test_container_exiting_soon_after_start_stops_the_task_as_essential_container_exited(ecs, aws):
    aws.sim.declare_image("nginx:crash", crash_after=3)
    ecs.service(ecs.task_definition("nginx:crash"), desired=1)
    aws.clock.sleep(30)
    task = ecs.tasks("STOPPED")[0]
    assert (task["stopCode"], task["stoppedReason"]) == ("EssentialContainerExited", "Essential container in task exited")
    assert task["containers"][0]["exitCode"] == 1
    assert (task["startedAt"] - task["createdAt"]).total_seconds() == 15
    assert (task["stoppedAt"] - task["startedAt"]).total_seconds() == 3


def test_failing_container_health_check_stops_the_task(ecs, aws):
    aws.sim.declare_image("nginx:sick", container_health="fail")
    check = {"command": ["CMD", "false"], "interval": 10, "retries": 3, "startPeriod": 0}
    ecs.service(ecs.task_definition("nginx:sick", health_check=check), desired=1)
    aws.clock.sleep(60)   # RUNNING at 20 s, UNHEALTHY after 3 x 10 s
    task = ecs.tasks("STOPPED")[0]
    assert (task["stopCode"], task["stoppedReason"]) == ("ServiceSchedulerInitiated", "Task failed container health checks")
    assert task["containers"][0]["healthStatus"] == "UNHEALTHY"
    assert (task["stoppingAt"] - task["startedAt"]).total_seconds() == 30


def test_failing_target_group_health_check_stops_the_task_after_the_grace_period(ecs, aws):
    aws.sim.declare_image("nginx:elb-sick", target_health="fail")
    ecs.service(ecs.task_definition("nginx:elb-sick"), desired=1, loadBalancers=LB, healthCheckGracePeriodSeconds=120)
    aws.clock.sleep(20 + 119)
    assert ecs.tasks("STOPPED") == []
    aws.clock.sleep(1)
    (task,) = [t for t in ecs.client.describe_tasks(cluster="c", tasks=[aws.sim.service("web").primary.tasks[0].arn])["tasks"]]
    assert task["desiredStatus"] == "STOPPED"
    assert task["stoppedReason"] == f"Task failed ELB health checks in (target-group {TG})"


def test_slow_start_delays_running(ecs, aws):
    aws.sim.declare_image("nginx:slow", start_seconds=90)
    ecs.service(ecs.task_definition("nginx:slow"), desired=1)
    aws.clock.sleep(5)
    (arn,) = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    assert statuses(aws, arn, 110) == [(0, "PENDING"), (100, "RUNNING")]


def test_load_balanced_task_drains_for_the_deregistration_delay_before_stopping(ecs, aws):
    """A target drains for deregistration_delay (300 s) before the task stops;
    stopTimeout bounds SIGTERM to SIGKILL."""
    ecs.service(ecs.task_definition(), desired=1, loadBalancers=LB)
    ecs.settle()
    (arn,) = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    ecs.client.stop_task(cluster="c", task=arn, reason="drain me")
    assert statuses(aws, arn, 310) == [(0, "DEACTIVATING"), (300, "STOPPING"), (302, "STOPPED")]
    task = ecs.client.describe_tasks(cluster="c", tasks=[arn])["tasks"][0]
    assert (task["stopCode"], task["stoppedReason"]) == ("UserInitiated", "drain me")


def test_target_that_never_turned_healthy_stops_without_draining(ecs, aws):
    """ELB completes deregistration at once for a target with no connections, and
    it routes none to a target that never passed its health check."""
    aws.sim.declare_image("nginx:slow-health", start_seconds=5)
    ecs.service(ecs.task_definition("nginx:slow-health"), desired=1, loadBalancers=LB)
    aws.clock.sleep(30)   # RUNNING, still inside the target group's first health checks
    (arn,) = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    ecs.client.stop_task(cluster="c", task=arn)
    assert statuses(aws, arn, 5) == [(0, "STOPPING"), (2, "STOPPED")]


def test_task_without_load_balancer_stops_without_draining(ecs, aws):
    ecs.settled_service("nginx:1.27", desired=1)
    (arn,) = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    ecs.client.stop_task(cluster="c", task=arn)
    assert statuses(aws, arn, 5) == [(0, "STOPPING"), (2, "STOPPED")]


def test_stopped_service_task_is_replaced(ecs, aws):
    ecs.service(ecs.task_definition(), desired=2)
    ecs.settle()
    (first, _) = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    ecs.client.stop_task(cluster="c", task=first)
    ecs.settle(60)
    running = ecs.client.list_tasks(cluster="c", serviceName="web")["taskArns"]
    assert len(running) == 2 and first not in running


def test_run_task_starts_one_off_tasks_that_stop_with_ecs_wording(ecs, aws):
    td = ecs.task_definition("nginx:job")
    aws.sim.declare_image("nginx:job", crash_after=60)
    tasks = ecs.client.run_task(cluster="c", taskDefinition=td, count=2, startedBy="migrate")["tasks"]
    assert [t["lastStatus"] for t in tasks] == ["PENDING", "PENDING"]
    ecs.settle(120)
    described = ecs.client.describe_tasks(cluster="c", tasks=[t["taskArn"] for t in tasks])["tasks"]
    assert {(t["lastStatus"], t["startedBy"], t["group"]) for t in described} == {("STOPPED", "migrate", "family:app")}


def test_describe_tasks_reports_unknown_tasks_as_missing_failures(ecs):
    result = ecs.client.describe_tasks(cluster="c", tasks=["0" * 32])
    assert result["tasks"] == []
    assert result["failures"] == [{"arn": "0" * 32, "reason": "MISSING"}]


def test_health_check_failures_are_logged_as_service_events(ecs, aws):
    aws.sim.declare_image("nginx:sick", container_health="fail")
    ecs.service(ecs.task_definition("nginx:sick", health_check={"command": ["CMD", "false"], "interval": 10}), desired=1)
    aws.clock.sleep(60)
    task_id = ecs.tasks("STOPPED")[0]["taskArn"].rsplit("/", 1)[-1]
    events = ecs.events()
    at = events.index(f"(service web) (task {task_id}) failed container health checks.")
    assert events[at + 1] == f"(service web) has stopped 1 running tasks: (task {task_id})."


def test_elb_health_check_failures_are_logged_as_service_events(ecs, aws):
    aws.sim.declare_image("nginx:elb-sick", target_health="fail")
    ecs.service(ecs.task_definition("nginx:elb-sick"), desired=1, loadBalancers=LB)
    aws.clock.sleep(90)
    task = aws.sim.service("web").primary.tasks[0]
    assert f"(service web) (task {task.id}) (port 80) is unhealthy in (target-group {TG}) due to (reason Health checks failed)." in ecs.events()


def test_a_trickle_image_fails_every_nth_task_and_stays_below_the_circuit_breaker(ecs, aws):
    aws.sim.declare_image("nginx:trickle", target_health_fails_every=4)
    ecs.service(ecs.task_definition("nginx:trickle"), desired=4, loadBalancers=LB,
                deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
    aws.clock.sleep(600)
    stopped = ecs.tasks("STOPPED")
    assert [t["stoppedReason"] for t in stopped] == [f"Task failed ELB health checks in (target-group {TG})"]
    primary = aws.sim.service("web").primary
    assert primary.rollout_state == "COMPLETED"  # one failure: below the breaker's threshold of 3
    assert len([t for t in primary.tasks if t.healthy]) == 4


def test_a_trickle_needs_a_whole_number_of_tasks():
    with pytest.raises(ValueError, match="target_health_fails_every must be a whole number"):
        ImageBehaviour.from_dict({"target_health_fails_every": 0})
