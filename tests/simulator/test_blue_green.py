"""Semantics page 2025, "Blue/green lifecycle", "lifecycle hooks" and the linear and
canary strategies: green next to blue, traffic on the listener rules, bake, clean-up,
and rollbacks that put traffic back on blue without starting a task."""
from __future__ import annotations

import itertools

import pytest

from harness.ecs import strategies
from harness.worlds import BlueGreenLoadBalancer

HOOK = "arn:aws:lambda:us-east-1:123456789012:function:smoke-test"
ROLE = "arn:aws:iam::123456789012:role/ecs-infrastructure"
ALL_STAGES = ["PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT",
              "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP"]


class Balanced:
    """The service behind a blue/green load balancer (`harness.worlds`), and ways to look at it."""

    def __init__(self, ecs, aws):
        self.ecs, self.aws = ecs, aws
        self.elb = aws.client("elbv2")
        self.lb = BlueGreenLoadBalancer.build(aws)
        self.blue, self.green = self.lb.blue, self.lb.green
        self.production_rule, self.test_rule = self.lb.production_rule, self.lb.test_rule

    def load_balancers(self) -> list[dict]:
        return self.lb.load_balancers(role=ROLE)

    def service(self, strategy: str = "BLUE_GREEN", desired: int = 2, **config) -> None:
        self.ecs.service(self.ecs.task_definition("app:v1", portMappings=[{"containerPort": 80}]), desired=desired,
                         loadBalancers=self.load_balancers(), healthCheckGracePeriodSeconds=0,
                         deploymentConfiguration={"strategy": strategy, **config})
        self.ecs.settle(600)

    def deploy(self, image: str = "app:v2") -> str:
        self.ecs.update(taskDefinition=self.ecs.task_definition(image, portMappings=[{"containerPort": 80}]))
        return self.ecs.describe()["currentServiceDeployment"]

    def weight(self, rule: str, group: str) -> int:
        (found,) = self.elb.describe_rules(RuleArns=[rule])["Rules"]
        forward = found["Actions"][0]["ForwardConfig"]["TargetGroups"]
        return next(tg["Weight"] for tg in forward if tg["TargetGroupArn"] == group)

    def record(self, arn: str) -> dict:
        return self.ecs.client.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0]

    def stages(self) -> list[str]:
        return [e["message"].split()[2] for e in self.aws.sim.timeline.events if e["message"].startswith("lifecycle stage")]

    def tasks_by_image(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for t in self.aws.sim.service("web").tasks():
            if t.alive:
                counts[t.containers[0].image] = counts.get(t.containers[0].image, 0) + 1
        return counts

    def until(self, predicate, limit: float = 3600) -> float:
        assert self.aws.clock.run_until(predicate, limit=limit), "the condition never held"
        return self.aws.clock.now()


@pytest.fixture
def bg(ecs, aws) -> Balanced:
    return Balanced(ecs, aws)


def test_a_blue_green_deployment_walks_the_stages_moving_traffic_on_the_listener_rules(bg, aws):
    bg.service(bakeTimeInMinutes=5)
    arn = bg.deploy()
    seen, alive = [], []

    def sample() -> bool:
        record = bg.record(arn)
        seen.append((record.get("lifecycleStage"), bg.weight(bg.test_rule, bg.green), bg.weight(bg.production_rule, bg.green),
                     bg.tasks_by_image().get("app:v1", 0)))
        alive.append(sum(bg.tasks_by_image().values()))
        return record["status"] == "SUCCESSFUL"

    bg.until(sample)
    assert bg.stages() == ALL_STAGES
    during = {stage: (test, production, blue) for stage, test, production, blue in seen}
    assert during["SCALE_UP"][:2] == (0, 0)                       # green comes up with no traffic
    assert during["POST_TEST_TRAFFIC_SHIFT"][:2] == (100, 0)      # test traffic first
    assert during["BAKE_TIME"] == (100, 100, 2)                   # all traffic on green, blue still running
    assert bg.weight(bg.production_rule, bg.blue) == 0
    assert bg.tasks_by_image() == {"app:v2": 2}                    # blue stopped at clean-up only
    assert max(alive) == 4  # green at 100% of desired next to blue: twice the tasks
    assert bg.ecs.describe()["deployments"][0]["rolloutState"] == "COMPLETED"


def test_the_bake_keeps_blue_running_for_its_minutes(bg, aws):
    bg.service(bakeTimeInMinutes=10)
    arn = bg.deploy()
    start = bg.until(lambda: bg.record(arn).get("lifecycleStage") == "BAKE_TIME")
    end = bg.until(lambda: bg.record(arn).get("lifecycleStage") == "CLEAN_UP")
    assert 600 <= end - start <= 605
    assert bg.tasks_by_image().get("app:v1") == 2


def test_linear_moves_step_percent_at_a_time_with_a_bake_between_steps(bg, aws):
    bg.service("LINEAR", linearConfiguration={"stepPercent": 25.0, "stepBakeTimeInMinutes": 1})
    arn = bg.deploy()
    bg.until(lambda: bg.record(arn).get("lifecycleStage") == "PRODUCTION_TRAFFIC_SHIFT")
    shares = [(aws.clock.now(), 0)]
    while bg.record(arn)["status"] == "IN_PROGRESS" and shares[-1][1] < 100:
        aws.clock.sleep(5)
        share = bg.weight(bg.production_rule, bg.green)
        if shares[-1][1] != share:
            shares.append((aws.clock.now(), share))
    shares = shares[1:]
    assert [share for _, share in shares] == [25, 50, 75, 100]
    assert [round(b[0] - a[0]) for a, b in itertools.pairwise(shares)] == [60, 60, 60]
    assert bg.record(arn)["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0


def test_canary_moves_its_percent_then_waits_then_all(bg, aws):
    bg.service("CANARY", canaryConfiguration={"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 2})
    arn = bg.deploy()
    canary = bg.until(lambda: bg.weight(bg.production_rule, bg.green) == 10)
    full = bg.until(lambda: bg.weight(bg.production_rule, bg.green) == 100)
    assert 120 <= full - canary <= 125
    bg.until(lambda: bg.record(arn)["status"] == "SUCCESSFUL")


def test_a_test_traffic_hook_that_fails_rolls_back_before_production_ever_sees_green(bg, aws):
    bg.service(bakeTimeInMinutes=5, lifecycleHooks=[{"hookTargetArn": HOOK, "roleArn": ROLE,
                                                     "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}])
    aws.sim.declare_hook(HOOK, {"POST_TEST_TRAFFIC_SHIFT": "FAILED"})
    blue_tasks = {t.arn for t in aws.sim.service("web").tasks() if t.alive}
    arn = bg.deploy()
    production = []
    bg.until(lambda: production.append(bg.weight(bg.production_rule, bg.green)) or bg.record(arn)["status"] != "IN_PROGRESS"
             and bg.record(arn)["status"] != "PENDING")
    record = bg.record(arn)
    assert record["status"] == "ROLLBACK_IN_PROGRESS" and record["lifecycleHookDetails"][0]["status"] == "FAILED"
    assert "POST_TEST_TRAFFIC_SHIFT" in record["rollback"]["reason"]
    bg.until(lambda: bg.record(arn)["status"] == "ROLLBACK_SUCCESSFUL")
    assert max(production) == 0  # production never went to green
    traffic = [e["message"] for e in aws.sim.timeline.events if e["message"].startswith("traffic ")]
    assert traffic and all("production 0%" in message for message in traffic)  # the timeline says so too
    assert (bg.weight(bg.production_rule, bg.blue), bg.weight(bg.test_rule, bg.green)) == (100, 0)
    assert {t.arn for t in aws.sim.service("web").tasks() if t.alive} == blue_tasks  # no task started for the way back
    assert bg.ecs.describe()["taskDefinition"].endswith("app:1")


def test_an_alarm_during_the_bake_puts_production_back_on_blue_at_once(bg, aws):
    aws.client("cloudwatch").put_metric_alarm(AlarmName="HighErrors", MetricName="5xx", Namespace="App", Statistic="Sum",
                                              Period=60, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    bg.service(bakeTimeInMinutes=10, alarms={"alarmNames": ["HighErrors"], "enable": True, "rollback": True})
    aws.sim.declare_image("app:v2", alarm="HighErrors", alarm_after=120)
    arn = bg.deploy()
    shifted = bg.until(lambda: bg.weight(bg.production_rule, bg.green) == 100)
    back = bg.until(lambda: bg.weight(bg.production_rule, bg.green) == 0)
    assert 120 <= back - shifted <= 125  # green had production traffic only until its alarm fired
    moves = [(e["t"], e["message"].split("production ")[1].split("%")[0]) for e in aws.sim.timeline.events
             if e["message"].startswith("traffic ")]
    assert [share for _, share in moves][-2:] == ["100", "0"] and moves[-1][0] - moves[-2][0] == back - shifted
    record = bg.record(arn)
    assert record["status"] in ("ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL")
    assert record["alarms"]["triggeredAlarmNames"] == ["HighErrors"] and record["lifecycleStage"] == "BAKE_TIME"
    assert bg.tasks_by_image().get("app:v1") == 2


def test_a_pause_hook_waits_for_continue_service_deployment(bg, aws):
    bg.service(lifecycleHooks=[{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                                "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"}}])
    arn = bg.deploy()
    bg.until(lambda: bg.record(arn).get("lifecycleHookDetails", [{}])[0].get("status") == "AWAITING_ACTION")
    aws.clock.sleep(600)
    (hook,) = bg.record(arn)["lifecycleHookDetails"]
    assert bg.record(arn)["lifecycleStage"] == "POST_SCALE_UP" and hook["targetType"] == "PAUSE"
    bg.ecs.client.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    bg.until(lambda: bg.record(arn)["status"] == "SUCCESSFUL")
    with pytest.raises(bg.ecs.client.exceptions.InvalidParameterException):
        bg.ecs.client.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"])


def test_continue_with_rollback_rolls_back_and_a_pause_past_its_timeout_does_too(bg, aws):
    bg.service(lifecycleHooks=[{"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"],
                                "timeoutConfiguration": {"timeoutInMinutes": 5}}])
    arn = bg.deploy()
    bg.until(lambda: bg.record(arn).get("lifecycleHookDetails", [{}])[0].get("status") == "AWAITING_ACTION")
    hook = bg.record(arn)["lifecycleHookDetails"][0]["hookId"]
    bg.ecs.client.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook, action="ROLLBACK")
    bg.until(lambda: bg.record(arn)["status"] == "ROLLBACK_SUCCESSFUL")
    second = bg.deploy("app:v3")
    started = bg.until(lambda: bg.record(second).get("lifecycleHookDetails", [{}])[0].get("status") == "AWAITING_ACTION")
    ended = bg.until(lambda: bg.record(second)["status"] not in ("IN_PROGRESS",))
    assert 300 <= ended - started <= 310 and bg.record(second)["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"


def test_a_lambda_hook_in_progress_is_asked_again_after_the_callback_delay(bg, aws):
    bg.service(lifecycleHooks=[{"hookTargetArn": HOOK, "roleArn": ROLE, "lifecycleStages": ["POST_SCALE_UP"]}])
    aws.sim.declare_hook(HOOK, {"POST_SCALE_UP": ["IN_PROGRESS", "IN_PROGRESS", "SUCCEEDED"]})
    arn = bg.deploy()
    entered = bg.until(lambda: bg.record(arn).get("lifecycleStage") == "POST_SCALE_UP")
    left = bg.until(lambda: bg.record(arn).get("lifecycleStage") == "TEST_TRAFFIC_SHIFT")
    assert 60 <= left - entered <= 65  # answered at once, then twice 30 s later


def test_a_hook_timing_out_with_continue_goes_on(bg, aws):
    bg.service(lifecycleHooks=[{"hookTargetArn": HOOK, "roleArn": ROLE, "lifecycleStages": ["PRE_SCALE_UP"],
                                "timeoutConfiguration": {"timeoutInMinutes": 2, "action": "CONTINUE"}}])
    aws.sim.declare_hook(HOOK, {"PRE_SCALE_UP": "IN_PROGRESS"})
    arn = bg.deploy()
    bg.until(lambda: bg.record(arn)["status"] == "SUCCESSFUL")


@pytest.mark.parametrize("stage", ["SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"])
def test_stop_with_rollback_in_any_stage_before_clean_up_starts_no_task(bg, aws, stage):
    bg.service("LINEAR", bakeTimeInMinutes=5, linearConfiguration={"stepPercent": 50.0, "stepBakeTimeInMinutes": 2})
    before = sum(1 for t in aws.sim.tasks.values())
    arn = bg.deploy()
    bg.until(lambda: bg.record(arn).get("lifecycleStage") == stage)
    green_started = sum(1 for t in aws.sim.tasks.values()) - before
    bg.ecs.client.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    assert bg.weight(bg.production_rule, bg.green) == 0 and bg.weight(bg.production_rule, bg.blue) == 100
    bg.until(lambda: bg.record(arn)["status"] == "ROLLBACK_SUCCESSFUL")
    assert sum(1 for t in aws.sim.tasks.values()) - before == green_started
    assert bg.tasks_by_image() == {"app:v1": 2}


def test_the_next_deployment_comes_up_in_the_other_target_group(bg, aws):
    bg.service()
    first = bg.deploy("app:v2")
    bg.until(lambda: bg.record(first)["status"] == "SUCCESSFUL")
    assert bg.weight(bg.production_rule, bg.green) == 100
    second = bg.deploy("app:v3")
    bg.until(lambda: bg.record(second)["status"] == "SUCCESSFUL")
    assert (bg.weight(bg.production_rule, bg.blue), bg.weight(bg.production_rule, bg.green)) == (100, 0)


def test_the_first_deployment_has_no_blue_and_rolls_out_as_usual(bg, aws):
    bg.service()
    (first,) = bg.ecs.client.list_service_deployments(cluster="c", service="web")["serviceDeployments"]
    assert first["status"] == "SUCCESSFUL" and "lifecycleStage" not in bg.record(first["serviceDeploymentArn"])


def test_more_than_blue_running_makes_the_deployment_reconcile_first(bg, aws):
    bg.service()
    aws.sim.declare_image("app:slow", start_seconds=3000)
    bg.ecs.update(deploymentConfiguration={"strategy": "ROLLING"})
    bg.deploy("app:slow")  # a rolling deployment left unfinished
    aws.clock.sleep(60)
    bg.ecs.update(deploymentConfiguration={"strategy": "BLUE_GREEN"})
    arn = bg.deploy("app:v3")
    bg.until(lambda: bg.record(arn)["status"] == "SUCCESSFUL")
    assert bg.stages()[-len(ALL_STAGES) - 1:] == ["RECONCILE_SERVICE", *ALL_STAGES]
    assert bg.tasks_by_image() == {"app:v3": 2}


@pytest.mark.parametrize("change, words", [
    ({"deploymentController": {"type": "CODE_DEPLOY"}}, "requires the ECS deployment controller"),
    ({"deploymentConfiguration": {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 1.0}}}, "stepPercent must be between 3.0"),
    ({"deploymentConfiguration": {"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"targetType": "PAUSE", "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]}]}}, "PAUSE lifecycle hook is not supported"),
    ({"deploymentConfiguration": {"strategy": "BLUE_GREEN", "lifecycleHooks": [
        {"hookTargetArn": HOOK, "lifecycleStages": ["SCALE_UP"]}]}}, "SCALE_UP cannot have a hook"),
    ({"deploymentConfiguration": {"strategy": "DARK_LAUNCH"}}, "is not ROLLING, BLUE_GREEN, LINEAR or CANARY"),
])
def test_configurations_ecs_refuses_are_refused_with_its_words(bg, change, words):
    kwargs = {"loadBalancers": bg.load_balancers(), "deploymentConfiguration": {"strategy": "BLUE_GREEN"}, **change}
    with pytest.raises(bg.ecs.client.exceptions.InvalidParameterException, match=words):
        bg.ecs.service(bg.ecs.task_definition("app:v1"), desired=1, **kwargs)


def test_target_groups_the_listener_rule_does_not_forward_to_are_refused(bg, aws):
    balancers = bg.load_balancers()
    other = bg.elb.create_target_group(Name="other", Protocol="HTTP", Port=80, VpcId=bg.elb.describe_target_groups(
        TargetGroupArns=[bg.blue])["TargetGroups"][0]["VpcId"], TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
    balancers[0]["advancedConfiguration"]["alternateTargetGroupArn"] = other
    with pytest.raises(bg.ecs.client.exceptions.InvalidParameterException, match="Both targetGroup and alternateTargetGroup"):
        bg.ecs.service(bg.ecs.task_definition("app:v1"), desired=1, loadBalancers=balancers,
                       deploymentConfiguration={"strategy": "BLUE_GREEN"})


def test_declaring_a_hook_answer_for_a_stage_without_hooks_is_refused(aws):
    with pytest.raises(ValueError, match="not a lifecycle hook stage"):
        aws.sim.declare_hook(HOOK, {"BAKE_TIME": "FAILED"})
    with pytest.raises(ValueError, match="a hook answers"):
        aws.sim.declare_hook(HOOK, {"PRE_SCALE_UP": "MAYBE"})
    assert "PRE_PRODUCTION_TRAFFIC_SHIFT" in strategies.HOOK_STAGES


def test_the_timeline_records_traffic_per_revision_and_the_stages(bg, aws):
    bg.service(bakeTimeInMinutes=1)
    arn = bg.deploy()
    bg.until(lambda: bg.record(arn)["status"] == "SUCCESSFUL")
    shifting = [s for s in aws.sim.timeline.samples if any("productionWeight" in d for d in s["deployments"])]
    assert shifting, "no sample recorded the traffic"
    green_shares = [next(d["productionWeight"] for d in s["deployments"] if "lifecycleStage" in d) for s in shifting]
    assert green_shares[0] == 0 and green_shares[-1] == 100
    assert {d["lifecycleStage"] for s in shifting for d in s["deployments"] if "lifecycleStage" in d} >= {
        "SCALE_UP", "PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME"}
    assert any(e["message"].startswith("traffic ") for e in aws.sim.timeline.events)


def test_the_report_draws_the_traffic_of_a_blue_green_rollback(bg, aws):
    from harness.metrics.timeline_adapter import from_recorder
    from harness.report.charts import svg, timeline_figure

    bg.service(bakeTimeInMinutes=10)
    aws.sim.declare_hook(HOOK, {"POST_PRODUCTION_TRAFFIC_SHIFT": "FAILED"})
    bg.ecs.update(deploymentConfiguration={"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10, "lifecycleHooks": [
        {"hookTargetArn": HOOK, "roleArn": ROLE, "lifecycleStages": ["POST_PRODUCTION_TRAFFIC_SHIFT"]}]})
    start = aws.clock.now()
    arn = bg.deploy()
    bg.until(lambda: bg.record(arn)["status"] == "ROLLBACK_SUCCESSFUL")
    timeline = from_recorder(aws.sim.timeline, "web", start=start)
    shares = [max(s.traffic.values(), default=None) for s in timeline.samples if s.traffic]
    assert 100.0 in shares  # green had production traffic ...
    assert timeline.samples[-1].traffic == {}  # ... and the rollback ended the shift
    drawn = svg(timeline_figure(timeline, "blue/green rollback"))
    assert "production traffic to" in drawn  # the legend of the traffic lines (text drawn as paths, named in comments)
    assert "post production traffic shift" in drawn and {s.stage for s in timeline.samples} >= {"SCALE_UP", "POST_PRODUCTION_TRAFFIC_SHIFT"}


def test_a_deployment_started_during_clean_up_takes_the_one_cleaning_up_as_blue(bg, aws):
    """v2 serves all production in CLEAN_UP while v1 still drains: v3's blue is v2,
    green goes to v1's old target group, and production never lacks a healthy task."""
    bg.service(bakeTimeInMinutes=1)
    arn = bg.deploy("app:v2")
    bg.until(lambda: bg.record(arn).get("lifecycleStage") == "CLEAN_UP")
    aws.clock.sleep(30)  # v1 is draining (deregistration delay 300 s)
    assert bg.weight(bg.production_rule, bg.green) == 100  # v2 is on green
    since = aws.clock.now()
    third = bg.deploy("app:v3")
    bg.until(lambda: bg.record(third)["status"] == "SUCCESSFUL")
    assert bg.weight(bg.production_rule, bg.blue) == 100  # v3 went to the other target group: blue's
    served = [s for s in aws.sim.timeline.samples if s["t"] >= since and s["service"] == "web"]
    assert min(s["healthy"] for s in served) >= 2
    assert bg.tasks_by_image() == {"app:v3": 2}


def test_a_superseded_deployment_left_in_progress_does_not_steer_the_recorded_traffic(bg, aws):
    """v2 crashes before traffic moves; CD deploys v1 again, which supersedes v2 (ECS
    leaves v2 IN_PROGRESS while it drains). The listener follows the newer deployment,
    so once v1's own shift has all production the timeline never records v1 at 0 %,
    and only the PRIMARY deployment carries a lifecycle stage."""
    bg.service(bakeTimeInMinutes=1)
    aws.sim.declare_image("app:v2", crash_after=5)
    bg.deploy("app:v2")
    aws.clock.sleep(60)
    since = aws.clock.now()
    again = bg.deploy("app:v1")
    bg.until(lambda: bg.record(again)["status"] == "SUCCESSFUL")
    aws.clock.sleep(600)
    good = aws.sim.service("web").task_definition_arn
    served = [s for s in aws.sim.timeline.samples if s["t"] >= since and s["service"] == "web"]

    def good_share(sample: dict) -> float:
        if any("productionWeight" in d for d in sample["deployments"]):
            return sum(d["productionWeight"] for d in sample["deployments"] if d["taskDefinition"] == good)
        running = [d for d in sample["deployments"] if d["running"]]
        return 100.0 if running and all(d["taskDefinition"] == good for d in running) else 0.0

    shares = [good_share(s) for s in served]
    first_full = shares.index(100.0)
    assert min(shares[first_full:]) == 100.0, shares
    assert all(sum(1 for d in s["deployments"] if "lifecycleStage" in d) <= 1 for s in served)
    assert all(d["status"] == "PRIMARY" for s in served for d in s["deployments"] if "lifecycleStage" in d)
