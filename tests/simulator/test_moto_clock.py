"""CloudWatch alarms and ELBv2 resources are stamped on the simulator's clock,
as ECS's own times are (moto stamps them with the wall clock)."""
from __future__ import annotations

from datetime import datetime, timezone


def virtual_now(aws) -> datetime:
    return datetime.fromtimestamp(aws.clock.now(), tz=timezone.utc)


def test_an_alarm_is_stamped_on_the_simulators_clock(aws):
    cloudwatch = aws.client("cloudwatch")
    aws.clock.sleep(90)
    cloudwatch.put_metric_alarm(AlarmName="errors", MetricName="5xx", Namespace="AWS/ApplicationELB", Statistic="Sum",
                                Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    created = virtual_now(aws)
    aws.clock.sleep(30)
    cloudwatch.set_alarm_state(AlarmName="errors", StateValue="ALARM", StateReason="test")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=["errors"])["MetricAlarms"]
    assert alarm["AlarmConfigurationUpdatedTimestamp"] == created
    assert (alarm["StateUpdatedTimestamp"] - created).total_seconds() == 30


def test_a_load_balancer_and_its_creation_time_are_on_the_simulators_clock(aws):
    ec2, elbv2 = aws.client("ec2"), aws.client("elbv2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    aws.clock.sleep(45)
    (lb,) = elbv2.create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"]
    assert abs((lb["CreatedTime"] - virtual_now(aws)).total_seconds()) < 1


def test_a_codedeploy_application_is_created_on_the_simulators_clock(aws):
    codedeploy = aws.client("codedeploy")
    aws.clock.sleep(30)
    codedeploy.create_application(applicationName="app", computePlatform="Server")
    created = codedeploy.get_application(applicationName="app")["application"]["createTime"]
    assert abs((created - virtual_now(aws)).total_seconds()) < 1
