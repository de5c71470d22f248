"""Findings about a service's deploy and rollback settings: what slows a rollback,
what stops one, what lets a broken release stay.

`findings(settings)` judges the document `settings.read_settings` reads and
makes no call of its own, so the same judgement runs on a live service (`check`)
and on a saved document. Each finding names the setting, says why it matters
and what to change. Severity: `error` (deploys cannot progress, or a failing
deploy cannot get back to known good), `warning` (a rollback is slower or later
than it needs to be, or a failure can go unseen), `info` (worth knowing).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator

from .settings import REPOSITORY_MISSING, TEMPLATE_SUFFIX, declared_start_seconds, stop_timeout, target_group_setting
from .views import SHIFTING_STRATEGIES, stuck_rolling_update

SEVERITIES = ("error", "warning", "info")
# Seconds a replacement task needs before its health checks start (pull + start, typical).
START_ALLOWANCE = 15


@dataclass(frozen=True)
class Finding:
    code: str        # stable, for CI filters: e.g. "deregistration-delay"
    severity: str    # error | warning | info
    setting: str     # where to change it, as the resource and field
    problem: str     # what is the case here
    why: str         # why it matters for deploys and rollbacks
    fix: str         # what to change

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _deployment(s: dict[str, Any]) -> Iterator[Finding]:
    config = s["deploymentConfiguration"]
    desired, strategy = s["desiredCount"], config["strategy"]
    low, high = config["minimumHealthyPercent"], config["maximumPercent"]
    if s["deploymentController"] != "ECS":
        yield Finding("deployment-controller", "error", "service.deploymentController",
                      f"the service uses the {s['deploymentController']} deployment controller",
                      "the tool deploys and rolls back through UpdateService, which only the ECS controller honours",
                      "move the service to the ECS controller (ECS's own blue/green replaces CODE_DEPLOY since 2025)")
    stuck = stuck_rolling_update(desired, low, high, strategy=strategy, scheduling=s.get("schedulingStrategy", "REPLICA"))
    if stuck:
        floor, ceiling = stuck
        yield Finding("no-progress", "error", "service.deploymentConfiguration",
                      f"minimumHealthyPercent {low:g} and maximumPercent {high:g} at {desired} task(s) leave no room: "
                      f"ECS may neither start a task above {ceiling} nor stop one below {floor}",
                      "a deploy, and the rollback after it, can never replace a task",
                      "raise maximumPercent (200 is ECS's default) or lower minimumHealthyPercent")
    if desired == 1 and low >= 100:
        yield Finding("single-task", "warning", "service.desiredCount",
                      "one task, with minimumHealthyPercent 100",
                      "a crash of that task is an outage, and every deploy or rollback needs room for a second task",
                      "run at least 2 tasks (spread over zones) or accept the outage window")
    breaker, alarms = config["circuitBreaker"], config["alarms"]
    watched = alarms["enable"] and alarms["alarmNames"]
    if not breaker["enable"] and not watched:
        yield Finding("no-failure-detection", "warning", "service.deploymentConfiguration.deploymentCircuitBreaker",
                      "no circuit breaker and no deployment alarms",
                      "ECS itself never rolls back: a broken release stays whenever the CD job that watches it is "
                      "cancelled, killed or times out",
                      "enable the circuit breaker with rollback (and CloudWatch alarms on the deployment)")
    elif breaker["enable"] and not breaker["rollback"]:
        yield Finding("breaker-without-rollback", "warning", "service.deploymentConfiguration.deploymentCircuitBreaker.rollback",
                      "the circuit breaker fails deployments but does not roll back",
                      "a failed deployment leaves the broken revision as the service's task definition",
                      "set rollback = true")
    if watched and not alarms["rollback"]:
        yield Finding("alarms-without-rollback", "warning", "service.deploymentConfiguration.alarms.rollback",
                      f"alarms {', '.join(alarms['alarmNames'])} fail deployments but do not roll back",
                      "an alarm during a deployment marks it failed and leaves the release running",
                      "set rollback = true")
    if strategy in SHIFTING_STRATEGIES and not config.get("bakeTimeInMinutes"):
        yield Finding("no-bake", "warning", "service.deploymentConfiguration.bakeTimeInMinutes",
                      f"{strategy} with a bake time of 0",
                      "ECS tears the old (blue) tasks down as soon as traffic has moved, so a problem found a minute "
                      "later needs a full new deployment instead of a traffic shift back",
                      "set bakeTimeInMinutes to how long your alarms need to see a bad release (e.g. 5-15)")
    if strategy == "ROLLING" and low < 100 and desired > 1:
        yield Finding("reduced-capacity", "info", "service.deploymentConfiguration.minimumHealthyPercent",
                      f"minimumHealthyPercent {low:g}: deploys and rollbacks may run on "
                      f"{-(-desired * low // 100):g} of {desired} tasks",
                      "a rollback under load serves with fewer tasks than normal",
                      "keep 100 if the service cannot lose capacity")


def _health(s: dict[str, Any]) -> Iterator[Finding]:
    grace = float(s["healthCheckGracePeriodSeconds"] or 0)
    start = declared_start_seconds(s)
    container_checks = [c for c in s["containers"] if c.get("essential", True) and c.get("healthCheck")]
    if s["loadBalanced"] and start is not None and grace < start:
        yield Finding("grace-shorter-than-start", "warning", "service.healthCheckGracePeriodSeconds",
                      f"health check grace period {grace:g} s, but the app takes {start:g} s to start",
                      "the load balancer's checks fail while the app starts, ECS replaces healthy-to-be tasks and a "
                      "good release can fail (a false rollback)",
                      f"set health_check_grace_period_seconds to at least {start:g}")
    if not s["loadBalanced"] and not container_checks:
        yield Finding("no-health-check", "warning", "taskDefinition.containerDefinitions[].healthCheck",
                      "no load balancer and no container health check",
                      "ECS counts any RUNNING task as healthy: a release that runs but does not work is never caught",
                      "add a container healthCheck to the essential container")
    missing = [g for g in s["targetGroups"] if g.get("missing")]
    for gone in missing:
        yield Finding("target-group-missing", "error", "service.loadBalancers[]" + (
                          ".targetGroupArn" if gone["role"] == "production" else ".advancedConfiguration.alternateTargetGroupArn"),
                      f"{gone['role']} target group {gone['arn']} does not exist",
                      "new tasks cannot register, so no deploy or rollback can become healthy",
                      "recreate the target group (terraform apply) or point the service at an existing one")
    if missing:
        return
    if not s["loadBalanced"]:
        return
    interval = target_group_setting(s, "healthCheckIntervalSeconds")
    healthy = target_group_setting(s, "healthyThresholdCount")
    delay = target_group_setting(s, "deregistrationDelaySeconds")
    to_healthy = interval * healthy
    rest = START_ALLOWANCE + to_healthy + min(stop_timeout(s), 2)
    if delay > rest and s["deploymentConfiguration"]["strategy"] == "ROLLING":  # shifting: a traffic shift back
        yield Finding("deregistration-delay", "warning", "targetGroup.deregistration_delay",
                      f"deregistration delay {delay:g} s, longer than the rest of a rolling rollback "
                      f"(about {rest:g} s: start, {healthy} x {interval:g} s health checks, stop)",
                      "every replaced task drains for the full delay before it stops, so it dominates how long "
                      "a rolling rollback takes to be steady on known good",
                      "set deregistration_delay to a little more than your longest request (e.g. 30 s)")
    if to_healthy > 60:
        yield Finding("slow-to-healthy", "info", "targetGroup.health_check",
                      f"a new task needs {healthy} healthy checks {interval:g} s apart: {to_healthy:g} s before it "
                      "receives traffic",
                      "each batch of a deploy or rollback waits this long",
                      "lower healthy_threshold (2-3) or the interval (10-15 s) on the target group")
    unhealthy = target_group_setting(s, "unhealthyThresholdCount")
    if interval * unhealthy > 120:
        yield Finding("slow-to-unhealthy", "info", "targetGroup.health_check",
                      f"a failing task is marked unhealthy only after {unhealthy} x {interval:g} s",
                      "failing health checks are noticed late, and the circuit breaker with them",
                      "lower unhealthy_threshold or the interval")


def _revisions(s: dict[str, Any]) -> Iterator[Finding]:
    template = s["template"]
    if template["named"] and not template["family"].endswith(TEMPLATE_SUFFIX):
        yield Finding("template-name", "warning", "template task definition family",
                      f"template family {template['family']} does not end in {TEMPLATE_SUFFIX}",
                      "the tool derives the family it registers into by dropping the suffix; without it every deploy "
                      "needs --family, and the two families are easy to mix up",
                      f"name the template family <family>{TEMPLATE_SUFFIX} in Terraform")
    elif template["found"] is False:
        yield Finding("template-missing", "warning", "template task definition family",
                      f"no template family {template['family']} found",
                      "the tool renders every deploy from the template Terraform manages",
                      f"create {template['family']} in Terraform, or pass --template to check the one you use")
    running_template = s["runningFamily"] == template["family"]
    if s["knownGood"] is None and s["taskDefinition"]:
        # Known good is what a bake of this tool proved, or a person named: never merely
        # what ECS calls COMPLETED. Until there is one, a failing deploy stops where it is.
        name = f"ecs-template-deploy rollback --cluster {s['cluster']} --service {s['service']} --to {s['taskDefinition']}"
        if running_template:
            yield Finding("no-known-good-yet", "warning", "known-good record",
                          f"the service still runs the template {s['taskDefinition']}: no revision is known good yet",
                          "a failing first deploy has nowhere to return to: it stops with the service on the failed "
                          "revision (exit 4) unless ECS's circuit breaker takes it back",
                          f"name the running revision known good if it serves: {name} --family {template['family']} "
                          "(it changes nothing); or deploy with --bake: the first deploy whose bake passes is the "
                          "first known good")
        else:
            yield Finding("known-good-missing", "error", "known-good record (tag ecs-template-deploy:known-good)",
                          f"no revision of {s['targetFamily']} carries a known-good mark",
                          "a failing deploy has no last known good to roll back to (a service deployed by something "
                          "else, marks deleted, revisions deregistered, or every bake failed): it stops with the "
                          "service on the failed revision, and `rollback` has nothing to return to",
                          f"name the running revision known good once it is verified: {name} (steady: it changes "
                          "nothing and marks it), then deploy as usual")
    for c in s["containers"]:
        if c.get("repositoryTagMutability") == REPOSITORY_MISSING:
            yield Finding("repository-missing", "error", f"containerDefinitions[{c['name']}].image",
                          f"container {c['name']} runs {c['image']}, from an ECR repository that does not exist",
                          "every task ECS starts from now on (scale-out, a replacement, a rollback) fails to pull",
                          "recreate the repository and push the image, or deploy an image that exists")
            continue
        image = c["image"]
        by_tag = "@sha256:" not in image
        mutability = c.get("repositoryTagMutability")
        mutable = mutability is None or not mutability.startswith("IMMUTABLE") or mutability.endswith("WITH_EXCLUSION")
        if by_tag and c.get("versionConsistency") == "disabled" and mutable:
            yield Finding("mutable-tag", "warning", f"containerDefinitions[{c['name']}].versionConsistency",
                          f"container {c['name']} runs {image} by tag with version consistency disabled"
                          + (f" from a {mutability} repository" if mutability else ""),
                          "every task ECS starts later (scale-out, replacement, a rollback) pulls whatever the tag "
                          "names then, so a moved tag brings a different image back",
                          "leave versionConsistency enabled (ECS pins the digest), make the repository IMMUTABLE, or "
                          "deploy by digest")


def _state(s: dict[str, Any]) -> Iterator[Finding]:
    if s["deployments"] > 1 or s["rolloutState"] == "IN_PROGRESS":
        yield Finding("deployment-in-progress", "info", "service.deployments",
                      f"{s['deployments']} deployment(s), rollout {(s['rolloutState'] or '-').lower()}",
                      "the service is between revisions now; settings read now may be what the rollout is changing",
                      "check again when the service is steady")
    for reason in s["unread"]:
        yield Finding("unread", "info", "permissions", f"could not read {reason}",
                      "findings that need it were judged on AWS's defaults",
                      "grant the Describe call named (see ecs-template-deploy policy --command check)")


def findings(settings: dict[str, Any]) -> list[Finding]:
    found = [*_deployment(settings), *_health(settings), *_revisions(settings), *_state(settings)]
    return sorted(found, key=lambda f: SEVERITIES.index(f.severity))


def has_errors(found: list[Finding]) -> bool:
    return any(f.severity == "error" for f in found)
