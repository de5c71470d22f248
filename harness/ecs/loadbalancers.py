"""Load balancer listener rules as blue/green deployments move traffic on them:
moto's ELBv2 rules in this process, so a client describing the rule sees the
forward weights change (`DescribeRules`: `ForwardConfig.TargetGroups[].Weight`)."""
from __future__ import annotations

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


def check_associated(moto: MotoState, rule_arn: str, target_groups: tuple[str, str]) -> None:
    """ECS refuses a rule that does not forward to both target groups."""
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
