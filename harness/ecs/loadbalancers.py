"""Load balancer listener rules as blue/green deployments move traffic on them:
moto's ELBv2 rules in this process, so a client describing the rule sees the
forward weights change (`DescribeRules`: `ForwardConfig.TargetGroups[].Weight`)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.ecs.moto_state import MotoState


class ListenerRuleError(ValueError):
    """A listener rule the service names is missing or does not forward to its target groups."""


def _forward(moto: MotoState, rule_arn: str) -> dict[str, Any]:
    try:
        (rule,) = moto.elbv2(rule_arn).describe_rules(listener_arn=None, rule_arns=[rule_arn])
    except Exception as err:  # moto's RuleNotFoundError, or a malformed ARN
        raise ListenerRuleError(f"listener rule {rule_arn} not found") from err
    for action in rule.actions:
        if getattr(action, "type", None) == "forward":
            config = action.data.setdefault("ForwardConfig", {})
            if "TargetGroups" not in config and action.data.get("TargetGroupArn"):
                config["TargetGroups"] = [{"TargetGroupArn": action.data["TargetGroupArn"], "Weight": 1}]
            return config
    raise ListenerRuleError(f"listener rule {rule_arn} has no forward action")


def check_associated(moto: MotoState, rule_arn: str, target_groups: tuple[str | None, str]) -> None:
    """ECS refuses a rule that does not forward to both target groups (a missing one included)."""
    forwarded = {tg["TargetGroupArn"] for tg in _forward(moto, rule_arn).get("TargetGroups", [])}
    if not set(target_groups) <= forwarded:
        raise ListenerRuleError("Both targetGroup and alternateTargetGroup must be associated with the "
                                "productionListenerRule or testListenerRule.")


def set_weights(moto: MotoState, rule_arn: str, weights: dict[str, float]) -> None:
    """Forward `weights` (target group ARN -> share 0-100) on the rule."""
    groups = _forward(moto, rule_arn).setdefault("TargetGroups", [])
    known = {tg["TargetGroupArn"] for tg in groups}
    for arn in weights:
        if arn not in known:
            groups.append({"TargetGroupArn": arn, "Weight": 0})
    for tg in groups:
        if tg["TargetGroupArn"] in weights:
            tg["Weight"] = int(round(weights[tg["TargetGroupArn"]]))


def weights(moto: MotoState, rule_arn: str) -> dict[str, int]:
    return {tg["TargetGroupArn"]: tg.get("Weight", 1) for tg in _forward(moto, rule_arn).get("TargetGroups", [])}


@dataclass(frozen=True)
class TargetGroupTiming:
    """What a target group's own settings make of a task's life behind it."""

    interval: float        # HealthCheckIntervalSeconds
    healthy: int           # HealthyThresholdCount
    unhealthy: int         # UnhealthyThresholdCount
    deregistration_delay: float  # deregistration_delay.timeout_seconds


def timing(moto: MotoState, arn: str) -> TargetGroupTiming | None:
    """The target group's health check and deregistration settings as moto holds
    them (what Terraform or a test created), or None when moto has no such group
    (a service naming an ARN nobody created): then the simulator's parameters apply."""
    try:
        group = moto.elbv2(arn).target_groups.get(arn)
    except Exception:  # a malformed ARN: no account or region to look in
        return None
    if group is None:
        return None
    return TargetGroupTiming(
        interval=float(group.health_check_interval_seconds or 30),
        healthy=int(group.healthy_threshold_count or 5),
        unhealthy=int(group.unhealthy_threshold_count or 2),
        deregistration_delay=float(group.attributes.get("deregistration_delay.timeout_seconds", 300)),
    )
