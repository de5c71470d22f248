"""Answer a deployment paused at a PAUSE lifecycle hook: CONTINUE, or --rollback.

ECS (2026) can hold a blue/green, linear or canary deployment at a lifecycle
stage until someone calls ContinueServiceDeployment, or the hook expires and ECS
takes its timeout action. This answers every PAUSE hook of the service's
current deployment that awaits one, says what it answered and what ECS does
next, and waits for nothing (a deploy watching the service goes on by itself;
`status` shows where it stands). Run again after an answer, it finds nothing
awaiting one and says so (exit 0): the answer was given. A service whose
current deployment has no PAUSE hook at all is bad input (exit 2).
"""
from __future__ import annotations

import argparse

from ..errors import BadInputError, aws_call
from ..resources import fetch_service
from ..views import ServiceDeployment
from .common import Context, add_service_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_service_arguments(parser)
    parser.add_argument("--rollback", action="store_true",
                        help="answer ROLLBACK: ECS shifts traffic back to what ran before and ends the deployment "
                             "(default: CONTINUE, the deployment goes on to its next stage)")


def run(args: argparse.Namespace, context: Context) -> int:
    action = "ROLLBACK" if args.rollback else "CONTINUE"
    service = fetch_service(context.ecs, args.cluster, args.service)
    arn = service.current_service_deployment
    if not arn:
        raise BadInputError(f"service {service.name} has no current service deployment to answer (ECS shows none): "
                            "check --cluster and --service")
    with aws_call("ecs:DescribeServiceDeployments"):
        found = context.ecs.describe_service_deployments(serviceDeploymentArns=[arn]).get("serviceDeployments") or []
    record = ServiceDeployment(found[0]) if found else None
    hooks = [h for h in (record.raw.get("lifecycleHookDetails") or []) if h.get("targetType") == "PAUSE"] if record else []
    if not hooks:
        raise BadInputError(f"service {service.name}'s current deployment ({arn.rsplit('/', 1)[-1]}, "
                            f"{record.status if record else 'not found'}) has no PAUSE lifecycle hook: nothing to "
                            "answer; check --service")
    stage = record.lifecycle_stage or "its stage"
    answered = []
    for hook in record.paused_hooks:
        with aws_call("ecs:ContinueServiceDeployment"):
            context.ecs.continue_service_deployment(serviceDeploymentArn=record.arn, hookId=hook.hook_id, action=action)
        context.journal.did(f"answered PAUSE hook {hook.hook_id} at {stage}: {action}", service_changed=True)
        answered.append(hook.hook_id)
    if answered:
        then = ("goes on from" if action == "CONTINUE" else "shifts traffic back to what ran before and rolls back from")
        message = (f"answered {len(answered)} PAUSE hook{'s' if len(answered) > 1 else ''} of {service.name} at "
                   f"{stage}: {action} ({', '.join(answered)}); ECS {then} {stage}")
    else:
        states = ", ".join(f"{h.get('hookId', '?')} {h.get('status', '?')}" for h in hooks)
        message = (f"nothing awaits an answer in {service.name}'s current deployment ({record.status}, at {stage}): "
                   f"its PAUSE hooks are {states} (answered, or past their expiry); nothing was changed")
    context.result = {"kind": "result", "exitCode": 0, "message": message, "service": service.name,
                      "serviceDeployment": record.arn, "stage": record.lifecycle_stage, "action": action,
                      "answered": answered}
    if not context.json:
        context.print(message)
    return 0
