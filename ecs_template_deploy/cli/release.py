"""Deploy several services as one release from a manifest: in waves, all or nothing.

The manifest (TOML, or YAML with PyYAML installed) lists the services, each with
its template and images, and which services each one comes `after`. Everything
is read and checked before the first change. The services of a wave deploy side
by side, as `deploy` would (watch, bake, mark known good); a wave starts once
every service of the one before has passed its bake. When any service fails,
every service the release changed returns to its known good, latest wave first
(exit 1; exit 4 names each service that could not). The release's id (the
manifest's `id`, --id, or a digest of the manifest) is written on the services
as it goes: re-running the same release finishes it from where it stands and
never deploys a failed release again; `status --release ID` and `rollback
--release ID` find it from any machine.
"""
from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable

from ..errors import (
    EXIT_NOT_RECOVERED, EXIT_OK, EXIT_ROLLED_BACK, BadInputError, DeployFailedError, DeployToolError, Next,
    NotRecoveredError,
    TaskFailedError,
)
from ..clock import Clock
from ..events import Sink
from ..manifest import Entry, load
from ..oneoff import run_task, shown_command
from ..plan import Plan
from ..release import Release, ReleaseReport, in_manifest_words
from ..resources import short
from ..service_deploy import check_images
from .common import Context, positive_seconds
from .run import check_task_options, job_from
from ..watch import DEFAULT_POLL_INTERVAL


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", required=True, metavar="FILE",
                        help="the release manifest: TOML (or .yaml/.yml with PyYAML); ${VAR} in its values is read "
                             "from the environment")
    parser.add_argument("--id", metavar="ID",
                        help="the release id (default: the manifest's `id`, else r-<digest of the manifest>); the same "
                             "id again picks the release up where it stands")
    parser.add_argument("--poll-interval", type=positive_seconds, default=DEFAULT_POLL_INTERVAL, metavar="SECONDS",
                        help=f"seconds between looks at each service (default {DEFAULT_POLL_INTERVAL:g})")


def run(args: argparse.Namespace, context: Context) -> int:
    manifest = load(args.manifest, release_id=args.id)
    shortest = min(manifest.entries, key=lambda e: e.watch.timeout)
    if args.poll_interval > shortest.watch.timeout:
        raise BadInputError(f"--poll-interval {args.poll_interval:g} is longer than service {shortest.name}'s timeout "
                            f"{shortest.watch.timeout:g}: poll more often than a deploy may take")
    for entry in manifest.entries:
        if entry.run_before is not None:
            check_task_options(None, entry.run_before, [], None, option=f"{entry.name}'s run_before")

    def before_update(entry: Entry, clock: Clock, sink: Sink) -> Callable[[Plan, str], None] | None:
        if entry.run_before is None:
            return None

        def run_before(plan: Plan, revision: str) -> None:
            # on the service's own clock and stream: the wave's other services are watched meanwhile,
            # and a signal or the release failing elsewhere stops the wait at its next poll
            job = job_from(context, entry.cluster, plan, revision, entry.run_before, [], None)
            end = run_task(context.ecs, job, clock=clock, timeout=entry.watch.timeout,
                           poll_interval=args.poll_interval, sink=sink, journal=context.journal)
            if not end.succeeded:
                raise TaskFailedError(f"run_before {shown_command(job)[0]!r}: {end.describe()}: service {entry.name} "
                                      f"was not changed ({short(revision)} stays registered: a re-run reuses it)")
        return run_before

    release = Release(context.ecs, manifest, clock=context.clock, sink=context.sink,
                      cloudwatch=context.cloudwatch, poll_interval=args.poll_interval, journal=context.journal,
                      before_update=before_update)
    release.prepare()
    if context.ecr_for is not None:
        for name, plan in release.plans.items():
            try:
                check_images(context.ecr_for, plan, warn=context.warn)  # as `deploy` checks them
            except DeployToolError as err:
                err.args = (f"service {name}: {in_manifest_words(str(err))}",)
                raise
    try:
        report = release.run()
    except BaseException:  # stopped (SIGTERM, Ctrl-C) or a bug: say where every service stands, then end as usual
        if release.journal.service_changed:
            context.journal.now.extend(release.where_each_stands())
        raise
    return conclude(report, context, args, clusters=manifest.clusters)


def conclude(report: ReleaseReport, context: Context, args: argparse.Namespace, *, clusters: list[str],
             rollback: bool = False) -> int:
    """Hand the report to `main` (printed last) and raise for a bad outcome, naming
    every service that is not where it should be (`now:` lines) and what finishes it."""
    context.result = report.to_dict()
    for service in report.services:
        context.journal.now.append(f"service {service.name} ({service.entry.cluster}, wave {service.entry.wave}): "
                                   f"{service.state}: {service.message}")
    code = report.exit_code
    if rollback and code == EXIT_ROLLED_BACK:
        code = EXIT_OK  # `rollback --release`: every service back is what was asked
        context.result.update(exitCode=code)
    if code == EXIT_OK or (code == EXIT_ROLLED_BACK and not report.astray):
        if not context.json:
            for service in report.services:
                context.print(f"{service.name}: {service.state}: {service.message}")
            context.print(report.message)
        if code == EXIT_OK:
            return code
        error = DeployFailedError(report.message)
        error.next = Next.NOTHING
        raise error
    astray = ", ".join(s.name for s in report.astray) or "none"
    stuck = NotRecoveredError(f"{report.message} (not where they should be: {astray})")
    if code != EXIT_NOT_RECOVERED:
        stuck.exit_code = code
    named = [s.next for s in report.astray if s.next]
    context.journal.next_commands = named or [shlex.join(["ecs-template-deploy", "rollback", "--release", report.release,
                                                          "--cluster", cluster]) for cluster in clusters]
    stuck.next = Next.ROLLBACK
    raise stuck
