"""A run's resources on real AWS: named and tagged with the run's id, removed
when the run ends (after a failure and on Ctrl-C or SIGTERM too), and found
again by `harness aws cleanup --run-id ID` when a run was killed first.

Every resource a run creates is named with the run's id as its prefix
(``hr1a2b3c4d-app``) and tagged ``harness:run-id = ID`` (Terraform's provider
``default_tags``: ``terraform_tags``; the boto3 builders pass ``Run.tags``).
Finding them again goes by name for what AWS lists by name (ECS clusters and
task definition families, scalable targets, ECR, IAM roles, load balancers,
target groups, secrets, log groups, alarms) and by tag where a list call
filters by tag (EC2: VPCs, subnets, security groups, internet gateways, and
what lies inside or is attached to the run's VPCs), so a resource whose tagging reply was lost is still found.
Deleting goes in the order AWS lets things go (a service before its cluster, a
load balancer before its target group, a VPC last); a resource that will not
go is named with AWS's reason, the others still go, and running the same
cleanup again picks up where it stopped.

The sweep deletes only what carries the run's id: no run id, no deletion
(``RunIdError`` for anything not shaped like one).
"""
from __future__ import annotations

import re
import secrets
import signal
import threading
import time
from dataclasses import dataclass
from functools import partial
from types import FrameType
from typing import Any, Callable, Iterator

RUN_TAG = "harness:run-id"
RELEASE_WAIT, RELEASE_POLL = 600.0, 15.0  # seconds: how long teardown waits for AWS to release network interfaces
RUN_ID = re.compile(r"^hr[0-9a-f]{8}$")


class RunIdError(ValueError):
    """Not a run id: the sweep refuses to match anything by it."""


class Interrupted(KeyboardInterrupt):
    """SIGTERM during a run, raised like Ctrl-C so the teardown in ``finally`` runs."""


def new_run_id() -> str:
    return "hr" + secrets.token_hex(4)


def checked_run_id(value: str) -> str:
    if not RUN_ID.match(value or ""):
        raise RunIdError(f"{value!r} is not a harness run id (hr and 8 hex digits, as the run printed "
                         "when it started)")
    return value


def terraform_tags(run_id: str) -> dict[str, str]:
    """The provider's ``default_tags`` for a run (``Terraform.workspace(tags=...)``):
    every resource Terraform creates carries the run's id."""
    return {RUN_TAG: checked_run_id(run_id)}


@dataclass(frozen=True)
class Found:
    """One resource of a run, as the sweep found it."""

    kind: str  # e.g. "ecs service"
    name: str  # what a person recognises: its name, or id
    delete: Callable[[], None]

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


class Sweep:
    """Finds a run's resources and deletes them; ``client(service)`` makes the
    clients (real AWS, or any endpoint posing as it), ``out`` takes the lines;
    ``wait``: wait for services and load balancers to be gone before deleting
    what they use (real AWS needs it; an emulator deletes at once)."""

    def __init__(self, client: Callable[[str], Any], run_id: str, out: Callable[[str], None] = print,
                 wait: bool = True, sleep: Callable[[float], None] = time.sleep,
                 cleanup: str = "harness aws cleanup") -> None:
        self.client, self.run_id, self.out, self.wait = client, checked_run_id(run_id), out, wait
        self.sleep, self.cleanup = sleep, f"{cleanup} --run-id {self.run_id}"
        self.unlisted: list[tuple[str, str]] = []  # (what, why) the last find could not list

    def ours(self, name: str) -> bool:
        """Named by the run: a name, or a path segment of one (``/ecs/hr1a2b3c4d-app``), starts with its id."""
        return any(part.startswith(self.run_id) for part in name.split("/"))

    # -- finding, in deletion order ------------------------------------------------------
    def find(self) -> list[Found]:
        """What is left of the run. A service that cannot be listed (no permission, say) does
        not stop the others: it goes into ``unlisted`` with AWS's reason. One the endpoint
        does not serve at all (HTTP 501: a LocalStack without the plan) holds nothing of the run."""
        from botocore.exceptions import BotoCoreError, ClientError

        found: list[Found] = []
        self.unlisted = []
        for what, finder in (("scalable targets", self._scaling), ("ecs", self._ecs), ("alarms", self._alarms),
                             ("load balancers", self._load_balancers), ("target groups", self._target_groups),
                             ("ecr repositories", self._repositories), ("secrets", self._secrets),
                             ("log groups", self._log_groups), ("iam roles", self._roles), ("network", self._network)):
            try:
                found += finder()
            except ClientError as err:
                if err.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 501:
                    continue
                self.unlisted.append((what, str(err).splitlines()[0]))
            except BotoCoreError as err:
                self.unlisted.append((what, str(err).splitlines()[0]))
        return found

    def _pages(self, service: str, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
        paginator = self.client(service).get_paginator(operation)
        for page in paginator.paginate(**kwargs):
            yield from page.get(key, [])

    def _scaling(self) -> list[Found]:
        scaling = self.client("application-autoscaling")
        found = []
        for target in self._pages("application-autoscaling", "describe_scalable_targets", "ScalableTargets",
                                  ServiceNamespace="ecs"):
            if self.ours(target["ResourceId"]):  # service/<cluster>/<service>
                found.append(Found("scalable target", target["ResourceId"], partial(scaling.deregister_scalable_target,
                    ServiceNamespace="ecs", ResourceId=target["ResourceId"], ScalableDimension=target["ScalableDimension"])))
        return found  # its scaling policies go with it

    def _ecs(self) -> list[Found]:
        ecs = self.client("ecs")
        found: list[Found] = []
        named = [arn for arn in self._pages("ecs", "list_clusters", "clusterArns") if self.ours(arn.rsplit("/", 1)[-1])]
        # a deleted cluster stays visible INACTIVE for a while, a deleted service DRAINING then INACTIVE: gone already
        clusters = [c["clusterArn"] for start in range(0, len(named), 100)
                    for c in ecs.describe_clusters(clusters=named[start:start + 100])["clusters"] if c["status"] == "ACTIVE"]
        for cluster in clusters:
            services = list(self._pages("ecs", "list_services", "serviceArns", cluster=cluster))
            for start in range(0, len(services), 10):
                for service in ecs.describe_services(cluster=cluster, services=services[start:start + 10])["services"]:
                    if service["status"] == "ACTIVE":
                        found.append(Found("ecs service", service["serviceName"],
                                           partial(self._delete_service, cluster, service["serviceArn"])))
        for family in self._pages("ecs", "list_task_definition_families", "families", familyPrefix=self.run_id):
            for status in ("ACTIVE", "INACTIVE"):
                for arn in self._pages("ecs", "list_task_definitions", "taskDefinitionArns", familyPrefix=family,
                                       status=status):
                    if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:  # the prefix matches longer families too
                        found.append(Found("ecs task definition", arn.rsplit("/", 1)[-1],
                                           partial(self._delete_revision, arn, status)))
        for cluster in clusters:
            # a deleted service's tasks stop for up to their stopTimeout after it is INACTIVE,
            # and ECS will not delete a cluster with tasks in it until then
            found.append(Found("ecs cluster", cluster.rsplit("/", 1)[-1], partial(self._when_released,
                partial(ecs.delete_cluster, cluster=cluster), ("ClusterContainsTasksException", "ClusterContainsServicesException"))))
        return found

    def _delete_service(self, cluster: str, service: str) -> None:
        ecs = self.client("ecs")
        ecs.delete_service(cluster=cluster, service=service, force=True)  # force: stops its tasks, no scale-down first
        if self.wait:
            ecs.get_waiter("services_inactive").wait(cluster=cluster, services=[service],
                                                     WaiterConfig={"Delay": 10, "MaxAttempts": 60})

    def _delete_revision(self, arn: str, status: str) -> None:
        ecs = self.client("ecs")
        if status == "ACTIVE":
            ecs.deregister_task_definition(taskDefinition=arn)
        # INACTIVE revisions stay until deleted; a refusal comes back in the answer, not as an error
        failures = ecs.delete_task_definitions(taskDefinitions=[arn]).get("failures", [])
        if failures:
            raise RuntimeError(f"DeleteTaskDefinitions: {failures[0].get('reason', failures[0])}")

    def _alarms(self) -> list[Found]:
        cloudwatch = self.client("cloudwatch")
        names = [a["AlarmName"] for a in self._pages("cloudwatch", "describe_alarms", "MetricAlarms",
                                                      AlarmNamePrefix=self.run_id)]
        return [Found("cloudwatch alarm", name, partial(cloudwatch.delete_alarms, AlarmNames=[name])) for name in names]

    def _load_balancers(self) -> list[Found]:
        elb = self.client("elbv2")
        return [Found("load balancer", lb["LoadBalancerName"],
                      partial(self._delete_load_balancer, elb, lb["LoadBalancerArn"]))
                for lb in self._pages("elbv2", "describe_load_balancers", "LoadBalancers")
                if self.ours(lb["LoadBalancerName"])]

    def _delete_load_balancer(self, elb: Any, arn: str) -> None:
        elb.delete_load_balancer(LoadBalancerArn=arn)  # its listeners and rules go with it
        if self.wait:
            elb.get_waiter("load_balancers_deleted").wait(LoadBalancerArns=[arn])

    def _target_groups(self) -> list[Found]:
        elb = self.client("elbv2")
        return [Found("target group", tg["TargetGroupName"],
                      partial(elb.delete_target_group, TargetGroupArn=tg["TargetGroupArn"]))
                for tg in self._pages("elbv2", "describe_target_groups", "TargetGroups") if self.ours(tg["TargetGroupName"])]

    def _repositories(self) -> list[Found]:
        ecr = self.client("ecr")
        return [Found("ecr repository", r["repositoryName"],
                      partial(ecr.delete_repository, repositoryName=r["repositoryName"], force=True))
                for r in self._pages("ecr", "describe_repositories", "repositories") if self.ours(r["repositoryName"])]

    def _secrets(self) -> list[Found]:
        secretsmanager = self.client("secretsmanager")
        return [Found("secret", s["Name"], partial(secretsmanager.delete_secret,
                                                   SecretId=s["ARN"], ForceDeleteWithoutRecovery=True))
                for s in self._pages("secretsmanager", "list_secrets", "SecretList") if self.ours(s["Name"])]

    def _log_groups(self) -> list[Found]:
        logs = self.client("logs")
        return [Found("log group", g["logGroupName"], partial(logs.delete_log_group, logGroupName=g["logGroupName"]))
                for g in self._pages("logs", "describe_log_groups", "logGroups") if self.ours(g["logGroupName"])]

    def _roles(self) -> list[Found]:
        return [Found("iam role", r["RoleName"], partial(self._delete_role, r["RoleName"]))
                for r in self._pages("iam", "list_roles", "Roles") if self.ours(r["RoleName"])]

    def _delete_role(self, name: str) -> None:
        iam = self.client("iam")
        for policy in self._pages("iam", "list_attached_role_policies", "AttachedPolicies", RoleName=name):
            iam.detach_role_policy(RoleName=name, PolicyArn=policy["PolicyArn"])
        for policy in self._pages("iam", "list_role_policies", "PolicyNames", RoleName=name):
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)

    def _network(self) -> list[Found]:
        ec2 = self.client("ec2")
        tagged = [{"Name": f"tag:{RUN_TAG}", "Values": [self.run_id]}]
        vpcs = [v["VpcId"] for v in self._pages("ec2", "describe_vpcs", "Vpcs", Filters=tagged)]
        groups = {g["GroupId"]: g for g in self._pages("ec2", "describe_security_groups", "SecurityGroups", Filters=tagged)}
        subnets = {s["SubnetId"] for s in self._pages("ec2", "describe_subnets", "Subnets", Filters=tagged)}
        if vpcs:  # what lives in the run's VPCs is the run's, tagged or not (a lost reply)
            inside = [{"Name": "vpc-id", "Values": vpcs}]
            groups.update({g["GroupId"]: g for g in self._pages("ec2", "describe_security_groups", "SecurityGroups",
                                                                 Filters=inside) if g["GroupName"] != "default"})
            subnets |= {s["SubnetId"] for s in self._pages("ec2", "describe_subnets", "Subnets", Filters=inside)}
        gateways = {g["InternetGatewayId"]: g for g in self._pages("ec2", "describe_internet_gateways",
                                                                   "InternetGateways", Filters=tagged)}
        if vpcs:
            gateways.update({g["InternetGatewayId"]: g for g in self._pages(
                "ec2", "describe_internet_gateways", "InternetGateways",
                Filters=[{"Name": "attachment.vpc-id", "Values": vpcs}])})
        found = [Found("internet gateway", gid, partial(self._delete_gateway, gateway))
                 for gid, gateway in sorted(gateways.items())]
        # Fargate tasks and load balancers leave network interfaces that AWS releases
        # minutes after they stop: until then their subnets and groups are "in use".
        found += [Found("security group", f"{g['GroupName']} ({gid})",
                        partial(self._when_released, partial(ec2.delete_security_group, GroupId=gid)))
                  for gid, g in sorted(groups.items())]
        found += [Found("subnet", s, partial(self._when_released, partial(ec2.delete_subnet, SubnetId=s)))
                  for s in sorted(subnets)]
        found += [Found("vpc", v, partial(self._when_released, partial(ec2.delete_vpc, VpcId=v))) for v in vpcs]
        return found

    def _delete_gateway(self, gateway: dict[str, Any]) -> None:
        ec2 = self.client("ec2")
        for attachment in gateway.get("Attachments", []):  # refused while stopped tasks' public IPs are still mapped
            self._when_released(partial(ec2.detach_internet_gateway,
                                       InternetGatewayId=gateway["InternetGatewayId"], VpcId=attachment["VpcId"]))
        ec2.delete_internet_gateway(InternetGatewayId=gateway["InternetGatewayId"])

    def _when_released(self, delete: Callable[[], None], codes: tuple[str, ...] = ("DependencyViolation",)) -> None:
        """``delete``, again while AWS says (error ``codes``) something still uses it (waiting only when ``wait``)."""
        from botocore.exceptions import ClientError

        waited = 0.0
        while True:
            try:
                return delete()
            except ClientError as err:
                if not self.wait or err.response["Error"]["Code"] not in codes or waited >= RELEASE_WAIT:
                    raise
            self.sleep(RELEASE_POLL)
            waited += RELEASE_POLL

    # -- deleting -------------------------------------------------------------------------
    def run(self, dry_run: bool = False) -> list[tuple[Found, str]]:
        """Delete (or with ``dry_run`` only list) everything of the run; returns what would not go, and why."""
        found = self.find()
        if not found and not self.unlisted:
            self.out(f"run {self.run_id}: nothing left")
            return []
        self.out(f"run {self.run_id}: {len(found)} resource(s)" + (" (dry run: nothing deleted)" if dry_run else ""))
        failed: list[tuple[Found, str]] = []
        for what, reason in self.unlisted:  # what may still be there: never "nothing left"
            self.out(f"  could NOT list {what}: {reason}")
            failed.append((Found(what, "(not listed)", lambda: None), reason))
        for item in found:
            if dry_run:
                self.out(f"  would delete {item}")
                continue
            try:
                item.delete()
                self.out(f"  deleted {item}")
            except Exception as err:  # noqa: BLE001 - one that will not go must not keep the rest
                reason = str(err).splitlines()[0] if str(err) else type(err).__name__
                failed.append((item, reason))
                self.out(f"  NOT deleted {item}: {reason}")
        if failed:
            self.out(f"run {self.run_id}: {len(failed)} resource(s) left; run `{self.cleanup}` again once the "
                     "reason above is dealt with")
        return failed


class Run:
    """One run's lifetime on real AWS: its id, names and tags; the teardown on leaving,
    however it is left (an error, Ctrl-C, SIGTERM).

        with Run(client) as run:
            ecs.create_cluster(clusterName=run.name("app"), tags=run.ecs_tags)
    """

    def __init__(self, client: Callable[[str], Any], run_id: str | None = None,
                 out: Callable[[str], None] = print, wait: bool = True, cleanup: str = "harness aws cleanup") -> None:
        self.id = checked_run_id(run_id) if run_id else new_run_id()
        self.client, self.out, self.wait = client, out, wait
        self.cleanup_command = cleanup
        self.cleanup = f"{cleanup} --run-id {self.id}"  # what finishes a teardown this process could not
        self.failed: list[tuple[Found, str]] = []
        self.ended: str | None = None  # how the run ended, when its caller knows better than the block's exception
        self._previous_sigterm: Any = None

    def name(self, suffix: str) -> str:
        return f"{self.id}-{suffix}"

    @property
    def tags(self) -> list[dict[str, str]]:
        """``Tags`` as most services take them (EC2, ELBv2, IAM, ECR, Secrets Manager)."""
        return [{"Key": RUN_TAG, "Value": self.id}]

    @property
    def ecs_tags(self) -> list[dict[str, str]]:
        return [{"key": RUN_TAG, "value": self.id}]

    def __enter__(self) -> "Run":
        self.out(f"run {self.id}: every resource is named {self.id}-* and tagged {RUN_TAG}={self.id}; if this run "
                 f"is killed, `{self.cleanup}` removes what it left")
        if _main_thread():
            self._previous_sigterm = signal.signal(signal.SIGTERM, _interrupt)
        return self

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        if _main_thread() and self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        why = ("interrupted" if isinstance(error, KeyboardInterrupt) else "failed" if error is not None
               else self.ended or "done")
        self.out(f"run {self.id} {why}: tearing down")
        try:
            self.failed = Sweep(self.client, self.id, self.out, wait=self.wait, cleanup=self.cleanup_command).run()
        except KeyboardInterrupt:
            self.out(f"run {self.id}: teardown interrupted; `{self.cleanup}` finishes it")
            raise


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(f"signal {signum}")
