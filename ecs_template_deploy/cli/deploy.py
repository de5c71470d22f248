"""Render the template with the image, register it in the target family, update the service, watch, roll back.

If the service already runs the same definition (provenance tags aside),
nothing is registered or updated; a rollout of it still in progress is watched
to its end. Re-running a deploy is always safe: it reuses a revision an earlier
run registered and never got to use.
"""
from __future__ import annotations

import argparse
import json

from ..deploy import DeployResult
from ..errors import Next, TaskFailedError
from ..oneoff import run_task, shown_command
from ..plan import Plan
from ..resources import short
from ..service_deploy import deploy_service
from .common import Context, add_image_arguments, add_target_arguments
from .render import request_from
from .run import check_task_options, job_from
from .wait import add_wait_arguments, conclude, wait_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)
    add_wait_arguments(parser, deploy=True)
    parser.add_argument("--run-before", metavar="CMD",
                        help="run CMD as a one-off task of the new revision (say, database migrations), where the "
                             "service's tasks run, before the service is updated; if it does not exit 0 the deploy "
                             "stops there (exit 6) and nothing else changes")


def run(args: argparse.Namespace, context: Context) -> int:
    """`deploy`: the options to the library's one deploy (`service_deploy`), its report to the output."""
    options = wait_options(args)
    request = request_from(args)
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

    deployed = deploy_service(context.ecs, request, options, clock=context.clock, sink=context.sink,
                              journal=context.journal, cloudwatch=context.cloudwatch, ecr_for=context.ecr_for,
                              warn=context.warn, run_before=run_before if args.run_before is not None else None,
                              applied=lambda result: report(result, context))
    if deployed.rollout is None:
        # --json's contract holds here too: the result object is the last line.
        context.result = {"kind": "result", **deployed.to_dict()}
        return deployed.exit_code
    return conclude(deployed.rollout, context)


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
