"""Read the service's deploy and rollback settings and say what slows, stops or blinds a rollback.

Read-only (Describe and List calls: the service, its target groups, the running
task definition, the template, the image repositories, the known-good record).
Each finding names the setting, why it matters and the fix. Exit 0 when no
finding is an error, 7 when one is (deploys or rollbacks cannot work as set).
--json prints one result object with "settings" and "findings": the file
`harness rehearse --from FILE` replays.
"""
from __future__ import annotations

import argparse

from ..check import SEVERITIES, findings, has_errors
from ..errors import EXIT_CHECK_FAILED, EXIT_OK, FamilyClashError
from ..resources import check_family, check_task_definition_reference
from ..views import family_of
from ..settings import read_settings
from .common import Context, add_service_arguments, non_negative_seconds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    target = add_service_arguments(parser)
    target.add_argument("--template", help="the template task definition family (default: <running family>-template)")
    target.add_argument("--family", help="the family CD registers into (default: the template family without '-template')")
    parser.add_argument("--start-seconds", type=non_negative_seconds, metavar="SECONDS",
                        help="how long the app takes to start (default: the containers' health check startPeriod)")
    parser.add_argument("--min-severity", choices=SEVERITIES, default="info",
                        help="print findings of this severity and worse (default info: all)")


def run(args: argparse.Namespace, context: Context) -> int:
    # the names are checked as deploy checks them, before anything is read
    if args.template is not None:
        check_task_definition_reference(args.template, "--template", context.ecs.meta.region_name)
    if args.family is not None:
        check_family(args.family)
        if args.template is not None and family_of(args.template) == args.family:
            raise FamilyClashError(f"target family {args.family!r} is the template's own family: pass a --family that "
                                   "Terraform does not manage")
    settings = read_settings(context.ecs, args.cluster, args.service, elbv2=context.elbv2, ecr_for=context.ecr_for,
                             template=args.template, family=args.family, start_seconds=args.start_seconds)
    found = findings(settings)
    shown = [f for f in found if SEVERITIES.index(f.severity) <= SEVERITIES.index(args.min_severity)]
    code = EXIT_CHECK_FAILED if has_errors(found) else EXIT_OK
    counts = {severity: sum(f.severity == severity for f in found) for severity in SEVERITIES}
    if context.json:  # one object, the result line every command ends with (`main` prints it, last)
        context.result = {"kind": "result", "command": "check", "settings": settings,
                          "findings": [f.to_dict() for f in shown], "errors": counts["error"]}
        return code
    config = settings["deploymentConfiguration"]
    context.print(f"service {settings['service']} in {settings['cluster']}: {settings['taskDefinition']}, "
                  f"{settings['desiredCount']} task(s), {config['strategy']}, known good: {settings['knownGood'] or 'none'}")
    for finding in shown:
        context.print(f"{finding.severity.upper():<7} {finding.code}: {finding.problem}")
        context.print(f"        setting: {finding.setting}")
        context.print(f"        why: {finding.why}")
        context.print(f"        fix: {finding.fix}")
    context.print(", ".join(f"{n} {severity}{'s' if n != 1 else ''}" for severity, n in counts.items()))
    return code
