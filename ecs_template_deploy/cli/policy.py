"""Print the least-privilege IAM policy CD needs for this tool on one service.

Checks every name first (a wildcard would widen the policy), then reads the
template (DescribeTaskDefinition only: it changes nothing) for the account,
region, ECR repositories and the roles its revisions pass, and prints a policy
document scoped to the service, its cluster, the target family, the alarms
(--alarm, repeatable; default: any in the account and region) and those roles,
for the commands CD runs (--command, repeatable; default: all of them).
--terraform prints it as an `aws_iam_policy` resource instead.
"""
from __future__ import annotations

import argparse

from ..errors import EXIT_OK
from ..policy import ACTIONS, PolicyRequest, as_terraform, check_names, policy_for, template_roles
from ..render import target_family
from ..resources import fetch_template
from .common import Context, add_target_arguments


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    parser.add_argument("--command", dest="commands", action="append", choices=list(ACTIONS), metavar="COMMAND",
                        help=f"a command CD runs (repeatable; default: all of {', '.join(ACTIONS)})")
    parser.add_argument("--ecr-repository", action="append", default=[], metavar="ARN",
                        help="an ECR repository ARN that deployed images come from besides the template's (repeatable)")
    parser.add_argument("--alarm", dest="alarms", action="append", default=[], metavar="NAME",
                        help="a CloudWatch alarm deploy --alarm watches (repeatable; default: any alarm in the "
                             "account and region)")
    parser.add_argument("--terraform", action="store_true", help="print an aws_iam_policy resource (HCL) instead of JSON")


def run(args: argparse.Namespace, context: Context) -> int:
    check_names(args.cluster, args.service, args.family, args.alarms, args.ecr_repository)
    template = fetch_template(context.ecs, args.template)
    family = target_family(template.family, args.family)
    request = PolicyRequest(cluster=args.cluster, service=args.service, family=family,
                            commands=tuple(args.commands or ACTIONS), extra_repositories=tuple(args.ecr_repository),
                            roles=template_roles(template), alarms=tuple(dict.fromkeys(args.alarms)))
    document = policy_for(template, request)
    if args.terraform:
        context.print(as_terraform(document, f"ecs-template-deploy-{family}").rstrip("\n"))
    else:
        context.print_json(document)
    return EXIT_OK
