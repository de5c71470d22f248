"""Real AWS: remove what a harness run left.

  harness aws cleanup --run-id ID [--dry-run]   list a run's resources, then delete them

A run on real AWS names every resource ID-* and tags it harness:run-id=ID, and
tears down when it ends, after a failure or Ctrl-C too; a run killed before
its teardown leaves them, and this finds them (by name, and by tag where AWS
filters by tag) and deletes them in the order AWS allows. It deletes nothing
without a run id, and only in an account listed in HARNESS_AWS_ACCOUNTS (the
credentials' account is read with STS first), or on a LocalStack
(``--endpoint-url`` where ``/_localstack/info`` answers: a run of
``--backend localstack``). Exit status: 0 nothing left, 1
something would not go (named, with AWS's reason: run it again), 2 refused.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any

from harness.backends.aws_run import RunIdError, Sweep, checked_run_id
from harness.backends.localstack import is_localstack
from harness.backends.real_aws import RealAwsRefused, check


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    cleanup = sub.add_parser("cleanup", help="list a run's resources, then delete them")
    cleanup.add_argument("--run-id", required=True, help="the id the run printed when it started (hr + 8 hex digits)")
    cleanup.add_argument("--dry-run", action="store_true", help="list what would be deleted; delete nothing")
    cleanup.add_argument("--profile", help="AWS profile (default: the environment's credentials)")
    cleanup.add_argument("--region", help="AWS region (default: the profile's or AWS_REGION)")
    cleanup.add_argument("--endpoint-url", help="an endpoint posing as AWS (harness serve, LocalStack)")
    cleanup.add_argument("--no-wait", action="store_true",
                         help="do not wait for services and load balancers to be gone before what they use")


def run(args: argparse.Namespace) -> int:
    try:
        run_id = checked_run_id(args.run_id)
        import boto3

        localstack = bool(args.endpoint_url) and is_localstack(args.endpoint_url)
        if localstack:  # it takes any credentials, and costs nothing: no account list to be on
            session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test",
                                    region_name=args.region or "us-east-1")
        else:
            session = boto3.Session(profile_name=args.profile, region_name=args.region)
        clients: dict[str, Any] = {}

        def client(service: str) -> Any:
            if service not in clients:
                clients[service] = session.client(service, endpoint_url=args.endpoint_url)  # type: ignore[call-overload]  # any service by name: the stubs type each by its literal name
            return clients[service]

        if localstack:
            where = f"LocalStack at {args.endpoint_url}"
        else:
            identity = check(True, lambda: client("sts"))
            where = f"account {identity.account} ({identity.arn})"
    except (RunIdError, RealAwsRefused) as err:
        print(f"harness aws cleanup: {err}", file=sys.stderr)
        return 2
    print(f"{where}, region {session.region_name or 'us-east-1'}")
    failed = Sweep(client, run_id, wait=not args.no_wait).run(dry_run=args.dry_run)
    return 1 if failed else 0
