"""Waiting options and the result shared by `deploy` and `rollback`."""
from __future__ import annotations

import argparse
import re

from ..clock import iso
from ..errors import BadInputError, aws_call, one_line, shown
from ..events import ProgressEvent
from ..rollback import Rollout, RolloutReport
from ..verdict import DEFAULT_FAILURE_THRESHOLD
from ..watch import DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT, ON_PAUSE, AlarmState, RolloutWatcher, WaitOptions, alarm_states
from .common import Context, at_least_one, non_negative_seconds, positive_seconds


def add_wait_arguments(parser: argparse.ArgumentParser, *, deploy: bool) -> None:
    wait = parser.add_argument_group("waiting and rollback")
    if deploy:
        wait.add_argument("--no-wait", action="store_true",
                          help="return once the service is updated; do not watch the rollout or roll back")
        wait.add_argument("--no-rollback", action="store_true",
                          help="on failure, leave the service on the new revision (exit 4) instead of returning "
                               "to the last known-good one")
        wait.add_argument("--bake", type=non_negative_seconds, default=0.0, metavar="SECONDS",
                          help="keep watching this long after the deployment completed; a failed task or an alarm "
                               "then still rolls back, and the revision is marked known good only after it passed "
                               "(recorded on the revision as it starts, so a run killed during it leaves it unproven)")
        wait.add_argument("--alarm", action="append", default=[], metavar="NAME",
                          help="a CloudWatch alarm whose ALARM fails the deploy during the rollout and the bake "
                               "(repeatable). One already in ALARM when the deploy starts is said on the first line; "
                               "the deploy goes ahead, and the bake passes only once it has left ALARM (within its "
                               "periods x (evaluation periods + 1)) and stayed out for the whole bake")
    wait.add_argument("--timeout", type=positive_seconds, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                      help=f"give up waiting after this long (default {DEFAULT_TIMEOUT:g}); a deploy then rolls back")
    wait.add_argument("--poll-interval", type=positive_seconds, default=DEFAULT_POLL_INTERVAL, metavar="SECONDS",
                      help=f"seconds between looks at the service (default {DEFAULT_POLL_INTERVAL:g})")
    wait.add_argument("--failure-threshold", type=at_least_one, default=DEFAULT_FAILURE_THRESHOLD, metavar="N",
                      help="failed tasks of the new revision (crash, pull error, failed health check) that fail "
                           f"the deploy (default {DEFAULT_FAILURE_THRESHOLD}: the first)")
    wait.add_argument("--on-pause", choices=ON_PAUSE, default="wait",
                      help="when the deployment stops at a PAUSE lifecycle hook (blue/green, linear, canary): wait "
                           "for someone to answer it (default; `continue` answers it), answer CONTINUE or ROLLBACK "
                           "(ContinueServiceDeployment), or fail the deploy (which then rolls back as on any failure). "
                           "The pause is said, with its stage and when it expires, whatever is chosen. On the tool's "
                           "own way back to known good a pause is answered CONTINUE whatever is chosen")


def wait_options(args: argparse.Namespace) -> WaitOptions:
    """The parsed waiting options, checked together (argparse checked each one)."""
    if args.poll_interval > args.timeout:
        raise BadInputError(f"--poll-interval {args.poll_interval:g} is longer than --timeout {args.timeout:g}: "
                            "poll more often than the deploy may take")
    no_wait = getattr(args, "no_wait", False)
    no_rollback = getattr(args, "no_rollback", False)
    if no_wait and no_rollback:
        raise BadInputError("--no-rollback has no effect with --no-wait (nothing is watched): pass one of them")
    alarms = tuple(getattr(args, "alarm", None) or ())
    for name in alarms:
        check_alarm_name(name)
    if no_rollback and args.on_pause == "rollback":
        raise BadInputError("--on-pause rollback takes the release back at a pause, --no-rollback leaves it in place on "
                            "failure: they contradict each other; pass one")
    if no_wait and args.on_pause != "wait":
        raise BadInputError(f"--on-pause {args.on_pause} answers a pause the watch meets: it has no effect with "
                            "--no-wait; pass one or the other (`continue` answers a pause later)")
    bake: float = getattr(args, "bake", 0.0)  # commands without --bake watch no bake
    if no_wait and (alarms or bake):
        raise BadInputError("--bake and --alarm watch the rollout: they have no effect with --no-wait; pass one or the other")
    return WaitOptions(poll_interval=args.poll_interval, timeout=args.timeout,
                       failure_threshold=args.failure_threshold, wait=not no_wait, rollback=not no_rollback,
                       bake=bake, alarms=alarms, on_pause=args.on_pause)


# CloudWatch's AlarmName: 1 to 255 characters, any but ASCII control characters.
ALARM_NAME_LENGTH = 255
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_alarm_name(name: str) -> None:
    """An --alarm is a name CloudWatch can hold, checked before any call (botocore
    would refuse an empty one only when DescribeAlarms is sent)."""
    if not name or len(name) > ALARM_NAME_LENGTH:
        raise BadInputError(f"--alarm {shown(name)} is not a CloudWatch alarm name: give its name, 1 to "
                            f"{ALARM_NAME_LENGTH} characters")
    if _ASCII_CONTROL.search(name):
        raise BadInputError(f"--alarm {shown(name)} is not a CloudWatch alarm name: it holds a control character; "
                            "give the name as CloudWatch shows it")


def rollout_for(context: Context, options: WaitOptions, alarms_at_start: dict[str, AlarmState] | None = None) -> Rollout:
    return Rollout(context.ecs, RolloutWatcher(context.ecs, clock=context.clock, options=options, sink=context.sink,
                                               journal=context.journal,
                                               cloudwatch=context.cloudwatch if options.alarms else None,
                                               alarms_at_start=alarms_at_start))


def check_alarms(context: Context, names: tuple[str, ...]) -> dict[str, AlarmState]:
    """Every --alarm names a CloudWatch alarm that exists: checked before anything
    changes. Returns their states then, the baseline the watch starts from; one
    already in ALARM is said at once, on the first lines of the output."""
    if not names:
        return {}
    cloudwatch = context.cloudwatch
    assert cloudwatch is not None  # build_context always makes one
    with aws_call("cloudwatch:DescribeAlarms"):
        answer = cloudwatch.describe_alarms(AlarmNames=list(names))
    states = alarm_states(answer)
    missing = [name for name in names if name not in states]
    if missing:
        raise BadInputError(f"--alarm {missing[0]}: no CloudWatch alarm of that name in "
                            f"{cloudwatch.meta.region_name}: check the name and --region")
    for state in states.values():
        if state.firing:
            since = f" since {iso(state.since)}" if state.since is not None else ""
            warning = (f"alarm {state.name} is already in ALARM{since} ({one_line(state.reason)}): the deploy goes ahead "
                       "(a fix for an ongoing incident must be deployable), but the new revision is marked known good "
                       f"only after {state.name} has left ALARM and the bake has passed with every alarm out of ALARM; if "
                       f"it does not leave ALARM within {state.clears_within:g} s of the new revision running steady, "
                       "the deploy rolls back")
            context.journal.warn(warning)
            context.sink(ProgressEvent("warning", context.clock.now(), warning, {"alarm": state.name}))
    return states


def conclude(report: RolloutReport, context: Context) -> int:
    """Hand the report to `main` (which prints it last) and raise for a bad outcome."""
    context.result = {"kind": "result", **report.to_dict()}
    report.raise_for_outcome()
    if not context.json:
        context.print(report.message)
    return report.exit_code
