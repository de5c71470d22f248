"""Worlds: what Terraform built for the deploy tool, ready for CD to deploy into.

`ToolWorld.build(aws)` creates what the template approach's Terraform owns (an
ECR repository with pushed images, a cluster, the template task definition
with a placeholder image, the service created on the template), lets the
service settle on the simulator, and runs `ecs-template-deploy` against it
in-process on the backend's clock. The deploy tool's scenarios, the fault
suite and the benchmarks build their worlds here, so "what Terraform built"
is said once.

    world = ToolWorld.build(aws, load_balanced=True)
    run = world.run("deploy", "--tag", "v1")          # the CLI, --json, on aws.clock
    run.code, run.result, world.steady_on()
"""
from __future__ import annotations

import io
import json
import signal
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from typing import Any, Sequence

import boto3
import botocore.session

from harness.ecs.images import HEALTHY, ImageBehaviour

from ecs_template_deploy import knowngood
from ecs_template_deploy.cli import main as deploy_tool
from ecs_template_deploy.views import Service, family_of, revision_name

from harness.backends.aws_run import Interrupted
from harness.backends.embedded import ACCOUNT
from harness.worlds.images import push_images

REGION = "us-east-1"
CLUSTER, SERVICE, TEMPLATE, FAMILY, CONTAINER = "prod", "web", "web-template", "web", "app"
REPOSITORY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/web"
IMAGES = ("placeholder", "v1", "v2", "v3", "crash", "sick", "slow")
SETTLE = 300.0  # virtual seconds for a new service to settle on the placeholder
REAL_SETTLE = 900.0  # seconds a new Fargate service gets to settle on real AWS (pulls, ENIs, IAM propagation)
# Real tasks get a container health check: a container that sleeps before serving is
# RUNNING at once, and only its health check (the image's /healthy: passes once the
# server is up) shows ECS that it is still starting, as the simulator's declared start
# time does. startPeriod 300 (ECS's most): a slow start is not counted as failures.
REAL_HEALTH_CHECK = {"command": ["CMD-SHELL", "/healthy"], "interval": 10, "timeout": 5, "retries": 3,
                     "startPeriod": 300}
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
# Where Fargate runs in only some of a Region's zones, by zone ID (the same place in every
# account): ECS's "Supported Regions for Amazon ECS on AWS Fargate". Elsewhere: any zone.
FARGATE_ZONE_IDS = {"us-west-1": {"usw1-az1", "usw1-az3"}, "ap-northeast-1": {"apne1-az1", "apne1-az2", "apne1-az4"}}
# Fargate runs x86_64 unless told otherwise; the images are built for it on any machine.
FARGATE_PLATFORM = {"cpuArchitecture": "X86_64", "operatingSystemFamily": "LINUX"}
# The tool's exit codes after SIGINT and SIGTERM, and what a real run raises for them.
STOPPED_BY: dict[int, type[BaseException]] = {128 + signal.SIGINT: KeyboardInterrupt, 128 + signal.SIGTERM: Interrupted}
IAM_SETTLE = 10.0  # seconds: a new role reaches ECS some seconds after IAM says it exists


@dataclass(frozen=True)
class Names:
    """What the world's resources are called. On a simulator the plain names
    (``prod``, ``web``, ``web-template``); on real AWS each is prefixed with the
    run's id (``hr1a2b3c4d-prod``), since families and repositories are
    account-wide and the run's teardown finds its own by that prefix. The service
    keeps its name: it lives in the run's cluster."""

    cluster: str = CLUSTER
    service: str = SERVICE
    template: str = TEMPLATE
    family: str = FAMILY
    repository: str = "web"

    @classmethod
    def of(cls, service: str, prefix: str = "") -> "Names":
        """Another service of the same cluster, with its own template, family and repository."""
        return cls(f"{prefix}{CLUSTER}", service, f"{prefix}{service}-template", f"{prefix}{service}", f"{prefix}{service}")

    @classmethod
    def prefixed(cls, prefix: str) -> "Names":
        return cls(f"{prefix}{CLUSTER}", SERVICE, f"{prefix}{TEMPLATE}", f"{prefix}{FAMILY}", f"{prefix}web")


@dataclass
class ToolRun:
    """One CLI invocation: exit code, JSON lines on stdout, stderr, the ECS calls it made."""

    code: int
    lines: list[dict[str, Any]]
    stderr: str
    started: float
    calls: list[str] = field(default_factory=list)

    @property
    def result(self) -> dict[str, Any]:
        """The result object, always the last line (empty if the command prints none)."""
        return self.lines[-1] if self.lines and self.lines[-1].get("kind") == "result" else {}

    def kinds(self, kind: str) -> list[dict[str, Any]]:
        return [line for line in self.lines if line.get("kind") == kind]

    @property
    def text(self) -> str:
        return json.dumps(self.lines) + self.stderr


@dataclass(frozen=True)
class BlueGreenLoadBalancer:
    """An ALB for blue/green-family deployments: a production listener (port 80)
    and a test listener (8080), each with a rule forwarding to a blue and a green
    target group (blue 100, green 0), in a VPC of two subnets."""

    blue: str  # target group ARNs
    green: str
    production_rule: str
    test_rule: str

    @classmethod
    def build(cls, aws: Any, name: str = "web", target_group_settings: dict[str, int] | None = None
              ) -> "BlueGreenLoadBalancer":
        """On `aws` (a backend: anything with `client(name)`), or a client factory itself;
        both target groups get `target_group_settings` (as `_create_target_group` takes them)."""
        client = aws if callable(aws) and not hasattr(aws, "client") else aws.client
        ec2, elb = client("ec2"), client("elbv2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")
                   ["Subnet"]["SubnetId"] for i, zone in ((1, "a"), (2, "b"))]
        lb = elb.create_load_balancer(Name=name, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        blue, green = [_create_target_group(elb, vpc, f"{name}-{colour}", 80, **(target_group_settings or {}))
                       for colour in ("blue", "green")]
        forward = {"Type": "forward", "ForwardConfig": {"TargetGroups": [
            {"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]}}
        rules = []
        for port in (80, 8080):
            listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=port, DefaultActions=[forward])
            rules.append(elb.describe_rules(ListenerArn=listener["Listeners"][0]["ListenerArn"])["Rules"][0]["RuleArn"])
        return cls(blue, green, *rules)

    def load_balancers(self, container: str = CONTAINER, port: int = 80,
                       role: str = f"arn:aws:iam::{ACCOUNT}:role/ecs-infrastructure") -> list[dict[str, Any]]:
        """CreateService's `loadBalancers` for it, with the advancedConfiguration blue/green needs."""
        return [{"targetGroupArn": self.blue, "containerName": container, "containerPort": port, "advancedConfiguration": {
            "alternateTargetGroupArn": self.green, "productionListenerRule": self.production_rule,
            "testListenerRule": self.test_rule, "roleArn": role}}]


@dataclass(frozen=True)
class FargateNetwork:
    """Where Fargate tasks run on real AWS: a VPC with two public subnets in two
    zones, an internet gateway (tasks pull from ECR through it, with a public IP
    each: no NAT to pay for), one security group letting the VPC reach the app
    and the load balancer, and the execution role ECS pulls images with. Every
    piece is named with the run's prefix and tagged with its id."""

    vpc: str
    subnets: tuple[str, ...]
    security_group: str
    execution_role: str

    @classmethod
    def build(cls, aws: Any, prefix: str) -> "FargateNetwork":
        ec2, iam = aws.client("ec2"), aws.client("iam")

        def tagged(kind: str, name: str) -> list[dict[str, Any]]:
            return [{"ResourceType": kind, "Tags": [*aws.tags, {"Key": "Name", "Value": f"{prefix}{name}"}]}]

        fargate = FARGATE_ZONE_IDS.get(getattr(aws, "region", ""))
        zones = [z["ZoneName"] for z in ec2.describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}, {"Name": "zone-type", "Values": ["availability-zone"]}]
        )["AvailabilityZones"] if fargate is None or z.get("ZoneId") in fargate][:2]
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc", "vpc"))["Vpc"]["VpcId"]
        gateway = ec2.create_internet_gateway(TagSpecifications=tagged("internet-gateway", "igw"))
        gateway_id = gateway["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway_id, VpcId=vpc)
        (main,) = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                     {"Name": "association.main", "Values": ["true"]}])["RouteTables"]
        ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway_id)
        subnets = tuple(ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=zone,
                                          TagSpecifications=tagged("subnet", f"subnet-{i}"))["Subnet"]["SubnetId"]
                        for i, zone in enumerate(zones, start=1))
        group = ec2.create_security_group(GroupName=f"{prefix}tasks", VpcId=vpc, TagSpecifications=tagged(
            "security-group", "tasks"), Description="harness: the app's port and the load balancer, from the VPC only")
        ec2.authorize_security_group_ingress(GroupId=group["GroupId"], IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}
            for port in (80, 8080)])
        role = iam.create_role(RoleName=f"{prefix}execution", Tags=aws.tags, AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}))
        partition = getattr(aws, "partition", "aws")  # aws-cn, aws-us-gov: the managed policy's ARN says it
        iam.attach_role_policy(RoleName=f"{prefix}execution",
                               PolicyArn=EXECUTION_POLICY.replace("arn:aws:", f"arn:{partition}:", 1))
        iam.get_waiter("role_exists").wait(RoleName=f"{prefix}execution", WaiterConfig={"Delay": 2, "MaxAttempts": 30})
        return cls(vpc, subnets, group["GroupId"], role["Role"]["Arn"])

    @property
    def service_settings(self) -> dict[str, Any]:
        """CreateService's launch type and network for it."""
        return {"launchType": "FARGATE", "networkConfiguration": {"awsvpcConfiguration": {
            "subnets": list(self.subnets), "securityGroups": [self.security_group], "assignPublicIp": "ENABLED"}}}

    @property
    def task_settings(self) -> dict[str, Any]:
        """RegisterTaskDefinition's Fargate settings: the smallest task there is."""
        return {"requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc", "cpu": "256", "memory": "512",
                "executionRoleArn": self.execution_role, "runtimePlatform": FARGATE_PLATFORM}

    def load_balanced_target_group(self, aws: Any, prefix: str, **settings: int) -> str:
        """A target group in this VPC behind an internal ALB's listener (ECS refuses a target
        group no load balancer uses); `settings` as `_create_target_group` takes them."""
        elb = aws.client("elbv2")
        balancer = elb.create_load_balancer(Name=f"{prefix}web", Subnets=list(self.subnets), Scheme="internal",
                                            SecurityGroups=[self.security_group], Tags=aws.tags)
        arn = _create_target_group(elb, self.vpc, f"{prefix}web", 8080, aws.tags, **settings)
        elb.create_listener(LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"], Protocol="HTTP", Port=80,
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}], Tags=aws.tags)
        return arn


def _create_target_group(elb: Any, vpc: str, name: str, port: int, tags: list[dict[str, str]] | None = None, /, *,
                         interval: int = 30, healthy: int = 5, unhealthy: int = 2,
                         deregistration_delay: int = 300) -> str:
    """An IP target group with these health check settings and drain (AWS's defaults
    unless given). `tags` is positional only so that a `**dict[str, int]` of
    settings can only name the int settings. The simulator times the tasks behind it by them
    (`harness.ecs.loadbalancers.timing`), and `check` reads the same."""
    arn = elb.create_target_group(Name=name, Protocol="HTTP", Port=port, VpcId=vpc, TargetType="ip",
                                  HealthCheckIntervalSeconds=interval, HealthyThresholdCount=healthy,
                                  UnhealthyThresholdCount=unhealthy, **({"Tags": tags} if tags else {})
                                  )["TargetGroups"][0]["TargetGroupArn"]
    elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}])
    return arn


def target_group(aws: Any, name: str = "web", /, **settings: int) -> str:
    """What a rolling service behind a load balancer registers into: a target group
    in a VPC of its own, `settings` as `_create_target_group` takes them (`name`
    positional only, so that they cannot name it)."""
    vpc = aws.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    return _create_target_group(aws.client("elbv2"), vpc, name, 8080, **settings)


def bare_template_service(url: str) -> Any:
    """Cluster `c` and service `web` (2 tasks) created on template `web-template` (container `app`,
    image `nginx:placeholder`), for a CD process run against the server at `url`; returns an ECS client."""
    ecs = boto3.client("ecs", endpoint_url=url, region_name=REGION,
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    ecs.create_cluster(clusterName="c")
    template = ecs.register_task_definition(family="web-template", containerDefinitions=[
        {"name": "app", "image": "nginx:placeholder", "memory": 128}])["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="c", serviceName="web", taskDefinition=template, desiredCount=2)
    return ecs


def _json_lines(stdout: str) -> list[dict[str, Any]]:
    """The JSON objects on stdout, in order: JSON lines (deploy, rollback) or the
    indented document other commands print (then a result line after a failure)."""
    decoder, objects, index = json.JSONDecoder(), [], 0
    while (start := stdout.find("{", index)) != -1:
        value, index = decoder.raw_decode(stdout, start)
        objects.append(value)
    return objects


class ToolWorld:
    """A settled service on `aws` (EmbeddedAws, ServedAws, or RealAws), and the tool to run against it."""

    def __init__(self, aws: Any, names: Names | None = None) -> None:
        self.aws = aws
        self.simulated = getattr(aws, "simulated", True)
        self.names = names or Names()
        self.ecs = aws.client("ecs")
        self.ecr = aws.client("ecr")
        self.region = getattr(aws, "region", REGION)
        # On a real backend the URI is ECR's answer to CreateRepository (`build`): its
        # host differs by partition (China, GovCloud) and on LocalStack.
        self.repository_uri = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{self.names.repository}"
        self.network: FargateNetwork | None = None  # where tasks run on a real backend (`build`)
        self.balancer: BlueGreenLoadBalancer | None = None  # blue/green-family strategies (`build`)
        self.target_group: str | None = None  # a load-balanced ROLLING service's (`build`)
        self.commands: dict[str, ImageBehaviour] = {}  # one-off command -> how it behaves (`build`)
        # Service models are read once: fresh sessions share the loader (and its cache).
        self._loader = aws.session._session.get_component("data_loader")

    @classmethod
    def build(cls, aws: Any, *, desired: int = 4, load_balanced: bool = False, circuit_breaker: bool = False,
              images: Sequence[str] = IMAGES, strategy: str = "ROLLING", health_check_grace: int = 0,
              container_settings: dict[str, Any] | None = None, target_group_settings: dict[str, int] | None = None,
              commands: dict[str, dict[str, Any]] | None = None, names: Names | None = None,
              **configuration: Any) -> "ToolWorld":
        """`strategy` BLUE_GREEN, LINEAR or CANARY puts the service behind a blue/green
        load balancer (`self.balancer`); `load_balanced` a ROLLING one behind a target
        group (`self.target_group`, `target_group_settings` as `_create_target_group`
        takes them); `configuration` goes into its deploymentConfiguration
        (bakeTimeInMinutes, alarms, linearConfiguration, ...); `container_settings`
        into the container definition (healthCheck, stopTimeout, versionConsistency);
        `names` another service (``Names.of("worker")``: a release's second service, in
        the same cluster); `commands` how one-off commands behave in any of its images
        (``{"bin/migrate --yes": {"exit_code": 0, "exit_after": 30}}``): declared to the
        simulator, or built into every image where tasks really run.

        On a real backend (``aws.simulated`` false: real AWS, or an endpoint posing
        as it) every name carries the run's prefix, the tasks run on Fargate in a
        network of their own (`FargateNetwork`), the images are really built and
        pushed, and the world waits for the service to be steady on the wall clock."""
        prefix = getattr(aws, "prefix", "")
        world = cls(aws, names or (Names.prefixed(prefix) if prefix else Names()))
        world.commands = {command: ImageBehaviour.from_dict(behaviour) for command, behaviour in (commands or {}).items()}
        names = world.names
        real = not world.simulated
        if real and strategy != "ROLLING":
            raise ValueError(f"strategy {strategy}: the blue/green load balancer is built for the simulator only")
        if real:  # first: the execution role has the image builds' time to reach ECS
            world.network = FargateNetwork.build(aws, prefix)
            settled = aws.clock.now() + IAM_SETTLE
        created = world.ecr.create_repository(repositoryName=names.repository, **({"tags": aws.tags} if real else {}))
        if real:
            world.repository_uri = created["repository"]["repositoryUri"]
            aws.push_images(world.ecr, world.repository_uri, {tag: HEALTHY for tag in images}, world.commands)
        else:
            push_images(world.ecr, names.repository, images)
            for command, behaviour in world.commands.items():
                aws.sim.declare_command(command.split(), behaviour)
        world.ecs.create_cluster(clusterName=names.cluster, **({"tags": aws.ecs_tags} if real else {}))
        container: dict[str, Any] = {"name": CONTAINER, "image": f"{world.repository_uri}:placeholder", "memory": 256,
                                     "essential": True, **(container_settings or {})}
        extra: dict[str, Any] = {}
        task: dict[str, Any] = {}
        if world.network is not None:  # real
            container.setdefault("healthCheck", REAL_HEALTH_CHECK)
            task, extra = world.network.task_settings, {**world.network.service_settings, "tags": aws.ecs_tags,
                                                        "propagateTags": "SERVICE"}
        if strategy != "ROLLING":
            world.balancer = BlueGreenLoadBalancer.build(aws, name=names.service, target_group_settings=target_group_settings)
            container["portMappings"] = [{"containerPort": 80}]
            extra = {"loadBalancers": world.balancer.load_balancers(), "healthCheckGracePeriodSeconds": health_check_grace}
        elif load_balanced:
            container["portMappings"] = [{"containerPort": 8080}]
            world.target_group = (world.network.load_balanced_target_group(aws, prefix, **(target_group_settings or {}))
                                  if world.network is not None else target_group(aws, **(target_group_settings or {})))
            extra = {**extra, "loadBalancers": [{"targetGroupArn": world.target_group, "containerName": CONTAINER,
                                                 "containerPort": 8080}],
                     "healthCheckGracePeriodSeconds": health_check_grace}
        template = world.ecs.register_task_definition(family=names.template, containerDefinitions=[container], **task)
        if real and aws.clock.now() < settled:
            aws.clock.sleep(settled - aws.clock.now())
        world.ecs.create_service(
            cluster=names.cluster, serviceName=names.service,
            taskDefinition=template["taskDefinition"]["taskDefinitionArn"], desiredCount=desired,
            deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100, "strategy": strategy,
                                     "deploymentCircuitBreaker": {"enable": circuit_breaker, "rollback": circuit_breaker},
                                     **configuration},
            **extra,
        )
        if real:
            world.wait_steady(REAL_SETTLE)
        else:
            aws.clock.sleep(SETTLE)
        return world

    def wait_steady(self, limit: float, poll: float = 10.0) -> None:
        """Wait (on the backend's clock) until the service is steady on its task definition."""
        started = self.aws.clock.now()
        while not self.steady_on():
            if self.aws.clock.now() - started >= limit:
                service = self.service()
                raise TimeoutError(f"service {self.names.service} not steady after {limit:g} s: {service.running_count} "
                                   f"of {service.desired_count} tasks running; its events say: "
                                   + "; ".join(e["message"] for e in service.raw.get("events", [])[:3]))
            self.aws.clock.sleep(poll)

    # -- names as the assertions read them ----------------------------------------
    def rev(self, number: int) -> str:
        """`web:N` of the family the tool registers into (`hr1a2b3c4d-web:N` on real AWS)."""
        return f"{self.names.family}:{number}"

    def declare_image(self, tag: str, **behaviour: Any) -> None:
        """Make the image `repository:tag` behave so (`harness.ecs.images.ImageBehaviour`'s
        fields): declared to the simulator, or built that way and pushed where tasks
        really run."""
        image = f"{self.repository_uri}:{tag}"
        if self.simulated:
            self.aws.sim.declare_image(image, **behaviour)
        else:
            self.aws.push_images(self.ecr, self.repository_uri, {tag: ImageBehaviour.from_dict(behaviour)},
                                 self.commands)

    def production_share(self) -> int:
        """Blue/green worlds: the share of production traffic the green target group gets now."""
        if self.balancer is None:
            raise ValueError(f"a {self.names.service} world built with the ROLLING strategy has no production share")
        elb = self.aws.client("elbv2")
        (rule,) = elb.describe_rules(RuleArns=[self.balancer.production_rule])["Rules"]
        forward = rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
        live = self.aws.sim.service(self.names.service).live_target_group or self.balancer.blue
        return next(tg["Weight"] for tg in forward if tg["TargetGroupArn"] != live)

    # -- running the tool --------------------------------------------------------
    def session(self) -> boto3.Session:
        """A fresh session, as a fresh CD process would make (no events, no clients,
        no credentials cached); only the parsed service models are shared."""
        core = botocore.session.Session()
        core.register_component("data_loader", self._loader)
        return boto3.Session(botocore_session=core, region_name=self.region)

    def run(self, command: str, *argv: str, session: Any = None, clock: Any = None) -> ToolRun:
        """`ecs-template-deploy COMMAND --cluster prod --service web [--template web-template] ARGV --json`."""
        target = ["--cluster", self.names.cluster, "--service", self.names.service]
        if command in ("render", "diff", "deploy", "prune", "run"):
            target += ["--template", self.names.template]
        return self.run_argv([command, *target, *argv], session=session, clock=clock)

    def run_argv(self, argv: Sequence[str], *, session: Any = None, clock: Any = None) -> ToolRun:
        calls: list[str] = []
        session = session or self.session()
        session.events.register("before-call.ecs", lambda model, **_: calls.append(model.name))
        out, err = io.StringIO(), io.StringIO()
        started = self.aws.clock.now()
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = deploy_tool([*argv, "--json"], session=session, clock=clock or self.aws.clock)
            except BaseException as stop:  # a kill the fault suite injects: what was printed before it stays said
                stop.partial = ToolRun(-9, _json_lines(out.getvalue()), err.getvalue(), started, calls)  # type: ignore[attr-defined]
                raise
        if not self.simulated and code in STOPPED_BY:
            # Ctrl-C or a cancelled CI job reached the tool, which stopped as it should (the
            # simulator's tests inject that on purpose; here only a real signal does it): the
            # session stops too, not the next scenario's real resources.
            raise STOPPED_BY[code](f"the deploy tool was stopped by a signal (exit {code}): {err.getvalue()[-300:]}")
        return ToolRun(code, _json_lines(out.getvalue()), err.getvalue(), started, calls)

    # -- reading what is there ---------------------------------------------------
    def service(self) -> Service:
        return Service(self.ecs.describe_services(cluster=self.names.cluster, services=[self.names.service],
                                                  include=["TAGS"])["services"][0])

    def steady_on(self) -> str:
        """The revision (`web:N`) the service is steady on, with every task running; "" while it is not."""
        service = self.service()
        primary = service.primary
        return primary.revision if service.is_steady and primary is not None else ""

    def known_good(self) -> str | None:
        service = self.service()
        found = knowngood.find(self.ecs, family_of(service.task_definition), service_tags=service.tags,
                               service_arn=service.arn)
        return found.revision if found else None

    def image_of(self, revision: str) -> str:
        described = self.ecs.describe_task_definition(taskDefinition=revision)["taskDefinition"]
        return next(c["image"] for c in described["containerDefinitions"] if c["name"] == CONTAINER)

    def tag_of(self, revision: str) -> str:
        return self.image_of(revision).rsplit(":", 1)[-1]

    def one_off_tasks(self) -> list[str]:
        """The tasks the tool started itself (`run`, `--run-before`), running or stopped."""
        from ecs_template_deploy.oneoff import STARTED_BY

        return [arn for status in ("RUNNING", "STOPPED") for arn in self.ecs.get_paginator("list_tasks").paginate(
            cluster=self.names.cluster, startedBy=STARTED_BY, desiredStatus=status).build_full_result()["taskArns"]]

    def revisions(self, status: str = "ACTIVE") -> list[str]:
        """`web:N` of the target family with `status`, oldest first."""
        family = self.names.family
        arns = self.ecs.list_task_definitions(familyPrefix=family, status=status)["taskDefinitionArns"]
        return sorted((revision_name(a) for a in arns if family_of(a) == family), key=lambda n: int(n.split(":")[1]))

    def min_healthy_since(self, since: float) -> int:
        samples = [s for s in self.aws.sim.timeline.samples if s["t"] >= since and s["service"] == self.names.service]
        return min(s["healthy"] for s in samples)
