"""One of everything a harness world has on AWS, for the cleanup tests: built
in the test process and in the run the tests kill (a subprocess)."""
from __future__ import annotations

import json
from typing import Any, Callable

ASSUME = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
EXECUTION_POLICY = "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"


def build(client: Callable[[str], Any], name: Callable[[str], str], tags: list, ecs_tags: list) -> None:
    """One of everything a world has, named ``name(...)`` and tagged ``tags``."""
    ec2, ecs, elb = client("ec2"), client("ecs"), client("elbv2")

    def tagged(kind: str) -> list:
        return [{"ResourceType": kind, "Tags": tags}] if tags else []

    tags_ = {"Tags": tags} if tags else {}  # AWS refuses an empty tag list
    ecr_tags = {"tags": tags} if tags else {}
    ecs_tagged = {"tags": ecs_tags} if ecs_tags else {}

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tagged("vpc"))["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{zone}",
                                 TagSpecifications=tagged("subnet") if i else [])["Subnet"]["SubnetId"]
               for i, zone in ((0, "a"), (1, "b"))]  # the first untagged: a creation whose tagging reply was lost
    ec2.create_security_group(GroupName=name("service"), Description="tasks", VpcId=vpc,
                              TagSpecifications=tagged("security-group"))
    ecs.create_cluster(clusterName=name("app"), **ecs_tagged)
    definition = ecs.register_task_definition(family=name("app"), **ecs_tagged, containerDefinitions=[
        {"name": "app", "image": "nginx:1", "memory": 128, "essential": True}])["taskDefinition"]["taskDefinitionArn"]
    ecs.register_task_definition(family=name("app"), containerDefinitions=[
        {"name": "app", "image": "nginx:2", "memory": 128, "essential": True}])
    ecs.create_service(cluster=name("app"), serviceName=name("app"), taskDefinition=definition, desiredCount=1,
                       **ecs_tagged)
    client("ecr").create_repository(repositoryName=name("app"), **ecr_tags)
    iam = client("iam")
    iam.create_role(RoleName=name("task"), AssumeRolePolicyDocument=ASSUME, **tags_)
    iam.attach_role_policy(RoleName=name("task"), PolicyArn=EXECUTION_POLICY)
    iam.put_role_policy(RoleName=name("task"), PolicyName="inline", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ecs:ListClusters", "Resource": "*"}]}))
    client("secretsmanager").create_secret(Name=name("app") + "/db", SecretString="x", **tags_)
    client("logs").create_log_group(logGroupName="/ecs/" + name("app"))
    lb = elb.create_load_balancer(Name=name("lb"), Subnets=subnets, **tags_)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name=name("tg"), Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip",
                                 **tags_)["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])
    client("cloudwatch").put_metric_alarm(AlarmName=name("errors"), MetricName="5xx", Namespace="App",
                                          Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                          ComparisonOperator="GreaterThanThreshold")
    scaling = client("application-autoscaling")
    resource = f"service/{name('app')}/{name('app')}"
    scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource, MinCapacity=1, MaxCapacity=4,
                                     ScalableDimension="ecs:service:DesiredCount")
    scaling.put_scaling_policy(PolicyName=name("cpu"), ServiceNamespace="ecs", ResourceId=resource,
                               ScalableDimension="ecs:service:DesiredCount", PolicyType="TargetTrackingScaling",
                               TargetTrackingScalingPolicyConfiguration={
                                   "TargetValue": 50.0,
                                   "PredefinedMetricSpecification": {"PredefinedMetricType": "ECSServiceAverageCPUUtilization"}})
