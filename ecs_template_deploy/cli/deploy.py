"""Render the template with the image, register it in the target family, update the service, watch, roll back.

If the service already runs the same definition (provenance tags aside),
nothing is registered or updated; a rollout of it still in progress is watched
to its end. Re-running a deploy is always safe: it reuses a revision an earlier
run registered and never got to use.
"""
from __future__ import annotations

import argparse
import json
import shlex

from .. import knowngood
from ..deploy import DeployResult, apply
from ..errors import EXIT_OK, Next, TaskFailedError
from ..events import ProgressEvent
from ..oneoff import run_task, shown_command
from ..plan import Plan, prepare
from ..registry import check_pushed
from ..resources import short
from ..views import family_of
from .common import Context, add_image_arguments, add_target_arguments
from .render import request_from
from .run import check_task_options, job_from
from .wait import add_wait_arguments, check_alarms, conclude, rollout_for, wait_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)
    add_wait_arguments(parser, deploy=True)
    parser.add_argument("--run-before", metavar="CMD",
                        help="run CMD as a one-off task of the new revision (say, database migrations), where the "
                             "service's tasks run, before the service is updated; if it does not exit 0 the deploy "
                             "stops there (exit 6) and nothing else changes")


def run(args: argparse.Namespace, context: Context) -> int:
    options = wait_options(args)
    request = request_from(args)
    alarms_at_start = check_alarms(context, options.alarms)
    if args.run_before is not None:
        check_task_options(None, args.run_before, [], None, option="--run-before")  # never echoes what looks secret

    def run_before(plan: Plan, revision: str) -> None:
        job = job_from(context, args.cluster, plan, revision, args.run_before, [], None)
        end = run_task(context.ecs, job, clock=context.clock, timeout=options.timeout,
                       poll_interval=options.poll_interval, sink=context.sink, journal=context.journal)
        if not end.succeeded:
            failed = TaskFailedError(f"--run-before {shown_command(job)[0]!r}: {end.describe()}: the service was not "
                                     f"changed ({short(revision)} stays registered: a re-run reuses it)")
            if end.still_running:
                failed.next = Next.RERUN  # a re-run follows the task still running, then deploys if it exits 0
            raise failed

    plan = prepare(context.ecs, request)
    if options.wait and options.rollback and not plan.unchanged:
        warn_if_nothing_known_good(context, plan)
    if not plan.unchanged and context.ecr_for is not None:
        check_pushed(context.ecr_for, plan.images, unchanged=plan.current.images, warn=context.warn)
    result = apply(context.ecs, plan, clock=context.clock, journal=context.journal, sink=context.sink,
                   before_update=run_before if args.run_before is not None else None)
    report(result, context)
    if not options.wait:
        # --json's contract holds here too: the result object is the last line.
        context.result = {"kind": "result", "state": "not watched", "taskDefinitionArn": result.task_definition_arn,
                          "updated": result.updated,
                          "message": f"{'updated' if result.updated else 'nothing to deploy'}: "
                                     f"{short(result.task_definition_arn)}, rollout not watched (--no-wait)"}
        return EXIT_OK
    rollout = rollout_for(context, options, alarms_at_start if options.alarms else None)
    # Service events from the watched deployment's creation on: a re-run shows the rollout so far.
    outcome = rollout.see_through(result.cluster, result.service, result.task_definition_arn,
                                  deployment_id=result.deployment_id or None, record_arn=result.service_deployment_arn,
                                  previous=result.previous_task_definition_arn)
    return conclude(outcome, context)


def warn_if_nothing_known_good(context: Context, plan: Plan) -> None:
    """Say on the first lines when a failure of this deploy would have nowhere to
    return to: no revision of the target family has been proven (a service the tool
    never deployed, or whose every bake failed). Read before anything changes; the
    service's pointer answers in the usual case without a call."""
    pointer = plan.service.tags.get(knowngood.TAG, "")
    if pointer and family_of(pointer) == plan.family:
        return
    if knowngood.find(context.ecs, plan.family, service_tags=plan.service.tags, service_arn=plan.service.arn) is not None:
        return
    running = plan.current.name
    named = ["--to", running] + (["--family", plan.current.family] if plan.current.family != plan.family else [])
    warning = (f"no revision of {plan.family} is known good yet (none has passed a bake of this tool, nor been named "
               f"with rollback --to): if this deploy fails, it has nowhere to return to and stops with the service on "
               f"the new revision (exit 4). To give it one, name the revision the service runs now first: "
               + shlex.join(["ecs-template-deploy", "rollback", "--cluster", plan.request.cluster, "--service",
                             plan.service.name, *named]))
    context.journal.warn(warning)
    context.sink(ProgressEvent("warning", context.clock.now(), warning))


def report(result: DeployResult, context: Context) -> None:
    if context.json:
        # One line: the watch's progress events and the result follow as JSON lines.
        context.stdout.write(json.dumps({"kind": "deploy", **result.to_dict()}, default=str) + "\n")
        return
    images = ", ".join(f"{name}={image}" for name, image in result.images.items())
    if not result.updated:
        context.print(
            f"nothing to deploy: service {result.service} already runs {short(result.task_definition_arn)} "
            f"with {images} from {short(result.template_arn)}"
        )
        return
    verb = "registered" if result.registered else "reused (an earlier run registered it)"
    context.print(f"{verb} {short(result.task_definition_arn)} from {short(result.template_arn)} with {images}")
    context.print(
        f"updated service {result.service} in cluster {result.cluster}: "
        f"{short(result.previous_task_definition_arn)} -> {short(result.task_definition_arn)}"
    )
