"""Answer a deployment paused at a PAUSE lifecycle hook: CONTINUE, or --rollback.

ECS (2026) can hold a blue/green, linear or canary deployment at a lifecycle
stage until someone calls ContinueServiceDeployment, or the hook expires and ECS
takes its timeout action. This answers every PAUSE hook of the service's
current deployment that awaits one, says what it answered and what ECS does
next, and waits for nothing (a deploy watching the service goes on by itself;
`status` shows where it stands). Run again after an answer (its reply lost, a
retried job), it finds nothing awaiting one and says so (exit 0): the answer was
given; but `--rollback` that finds the release going on says so and how to take
it back (exit 2). A service whose deployments have no PAUSE hook is bad input
(exit 2).
"""
from __future__ import annotations

import argparse
from ..errors import BadInputError, aws_call
from ..resources import fetch_service
from ..views import Service, ServiceDeployment
from ..watch import PauseAnswer, continue_paused
from .common import Context, add_service_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_service_arguments(parser)
    parser.add_argument("--rollback", action="store_true",
                        help="answer ROLLBACK: ECS shifts traffic back to what ran before and ends the deployment "
                             "(default: CONTINUE, the deployment goes on to its next stage)")


def run(args: argparse.Namespace, context: Context) -> int:
    action: PauseAnswer = "ROLLBACK" if args.rollback else "CONTINUE"
    service = fetch_service(context.ecs, args.cluster, args.service)
    if not service.pauses:
        raise BadInputError(f"service {service.name}'s deployments have no PAUSE lifecycle hook: nothing to answer; "
                            "check --service (its deploymentConfiguration.lifecycleHooks names none)")
    record = _current(context, service)
    stage = (record.lifecycle_stage if record else "") or "its stage"
    answered = []
    paused = [(record.arn, hook) for hook in record.paused_hooks] if record else []
    for arn, hook in paused:
        if not continue_paused(context.ecs, arn, hook.hook_id, action):
            continue   # answered (or expired) between the read and this call: what stands is read again below
        context.journal.did(f"answered PAUSE hook {hook.hook_id} at {stage}: {action}", service_changed=True)
        answered.append(hook.hook_id)
    if answered:
        then = ("goes on from" if action == "CONTINUE" else "shifts traffic back to what ran before and rolls back from")
        message = (f"answered {len(answered)} PAUSE hook{'s' if len(answered) > 1 else ''} of {service.name} at "
                   f"{stage}: {action} ({', '.join(answered)}); ECS {then} {stage}")
    else:
        record = _current(context, service) or record   # where it stands now
        where = f"{record.status}{', at ' + record.lifecycle_stage if record and record.lifecycle_stage else ''}" \
            if record else "no service deployment"
        if action == "ROLLBACK" and record is not None and not record.is_rolling_back \
                and record.status != "STOPPED":
            # a rollback was asked for and is not happening: not a success
            raise BadInputError(f"nothing awaits an answer in {service.name}'s current deployment ({where}): it was "
                                "answered or has expired, and it is not rolling back; to take the release back, run "
                                f"`ecs-template-deploy rollback --cluster {args.cluster} --service {args.service}`")
        message = (f"nothing awaits an answer in {service.name}'s current deployment ({where}): answered, past its "
                   "expiry, or not at a pause yet; nothing was changed")
    context.result = {"kind": "result", "exitCode": 0, "message": message, "service": service.name,
                      "serviceDeployment": record.arn if record else None,
                      "stage": record.lifecycle_stage if record else None, "action": action, "answered": answered}
    if not context.json:
        context.print(message)
    return 0


def _current(context: Context, service: Service) -> ServiceDeployment | None:
    """The service's current service deployment, as ECS records it (None: ECS shows none)."""
    arn = service.current_service_deployment
    if not arn:
        return None
    with aws_call("ecs:DescribeServiceDeployments"):
        found = context.ecs.describe_service_deployments(serviceDeploymentArns=[arn]).get("serviceDeployments") or []
    return ServiceDeployment(found[0]) if found else None
