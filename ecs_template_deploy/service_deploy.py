"""One deploy of one service, from its checks to its end: the library's entry point.

`deploy_service()` is the whole of `ecs-template-deploy deploy` apart from
parsing options and printing: the CLI (and through it the GitHub Action and
the tool's harness worlds) and approach 5's CD in the harness call it, so what
the scenarios measure is what users run. In order:

1. **validate, changing nothing**: the waiting options together, the alarms
   exist (their states then are the watch's baseline), the deploy's plan
   (template, service, images, rendered definition); a warning when a failure
   would have no known-good revision to return to; the images the deploy
   changes are in ECR;
2. **register and update** (`deploy.apply`), with `run_before` between the two
   (a one-off task: migrations);
3. **watch, bake, mark known good, or return to known good**
   (`rollout.Rollout.see_through`), unless asked not to wait.

Nothing here prints: progress goes to the sink as events, and `applied` hears
of the update before the watch starts, for a caller that says it its own way.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any, Callable

from . import knowngood
from .clock import WALL, Clock, iso
from .deploy import DeployResult, apply
from .errors import EXIT_OK, BadInputError, aws_call, one_line, shown
from .events import ProgressEvent, Sink, discard
from .plan import DeployRequest, Plan, prepare
from .registry import check_pushed
from .resources import short
from .rollout import Rollout, RolloutReport
from .standing import Journal
from .views import family_of
from .watch import AlarmState, RolloutWatcher, WaitOptions, alarm_states

# CloudWatch's AlarmName: 1 to 255 characters, any but ASCII control characters.
ALARM_NAME_LENGTH = 255
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class ServiceDeployReport:
    """The end of one deploy: what was registered and updated, and how its rollout
    ended (None when it was not watched: `WaitOptions.wait` false)."""

    deployed: DeployResult
    rollout: RolloutReport | None

    @property
    def exit_code(self) -> int:
        return self.rollout.exit_code if self.rollout is not None else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        """The deploy's result object (the last line `--json` prints)."""
        if self.rollout is not None:
            return self.rollout.to_dict()
        deployed = self.deployed
        return {"state": "not watched", "taskDefinitionArn": deployed.task_definition_arn, "updated": deployed.updated,
                "message": f"{'updated' if deployed.updated else 'nothing to deploy'}: "
                           f"{short(deployed.task_definition_arn)}, rollout not watched (--no-wait)"}


def deploy_service(ecs: Any, request: DeployRequest, options: WaitOptions, *, clock: Clock = WALL,
                   sink: Sink = discard, journal: Journal | None = None, cloudwatch: Any = None,
                   ecr_for: Callable[[str], Any] | None = None, warn: Callable[[str], None] | None = None,
                   run_before: Callable[[Plan, str], None] | None = None,
                   applied: Callable[[DeployResult], None] | None = None) -> ServiceDeployReport:
    """Deploy `request` and see it through as `options` say.

    `cloudwatch` is needed when `options.alarms` names any; `ecr_for(region)` gives
    an ECR client to check the images are pushed (None: not checked);
    `warn` hears what could not be checked (default: a warning event);
    `run_before(plan, revision_arn)` runs between register and update (if it
    raises, the service is not changed); `applied(result)` hears of the update
    before the watch starts. Raises the tool's errors for bad input and for a
    failure before the service changed; once it changed, the report says how it
    ended (`RolloutReport.raise_for_outcome` turns a bad end into the error)."""
    journal = journal if journal is not None else Journal()
    check_wait_options(options)
    alarms_at_start = check_alarms(cloudwatch, options.alarms, clock=clock, sink=sink, journal=journal)
    plan = prepare(ecs, request)
    if options.wait and options.rollback and not plan.unchanged:
        warn_if_nothing_known_good(ecs, plan, clock=clock, sink=sink, journal=journal)
    if ecr_for is not None:
        check_images(ecr_for, plan, warn=warn or (lambda text: sink(ProgressEvent("warning", clock.now(), text))))
    result = apply(ecs, plan, clock=clock, journal=journal, sink=sink, before_update=run_before)
    if applied is not None:
        applied(result)
    if not options.wait:
        return ServiceDeployReport(result, None)
    watcher = RolloutWatcher(ecs, clock=clock, options=options, sink=sink, journal=journal,
                             cloudwatch=cloudwatch if options.alarms else None,
                             alarms_at_start=alarms_at_start if options.alarms else None)
    return ServiceDeployReport(result, see_through(ecs, result, watcher))


def see_through(ecs: Any, result: DeployResult, watcher: RolloutWatcher) -> RolloutReport:
    """Watch what `apply` did to its end, bake, mark or return to known good (a
    release does this for each of its services, with a watcher of its own)."""
    # Service events from the watched deployment's creation on: a re-run shows the rollout so far.
    return Rollout(ecs, watcher).see_through(result.cluster, result.service, result.task_definition_arn,
                                             deployment_id=result.deployment_id or None,
                                             record_arn=result.service_deployment_arn,
                                             previous=result.previous_task_definition_arn)


def check_images(ecr_for: Callable[[str], Any], plan: Plan, *, warn: Callable[[str], None]) -> None:
    """The images the plan changes are in ECR (`registry.check_pushed`): none to
    check when the service already runs the definition."""
    if not plan.unchanged:
        check_pushed(ecr_for, plan.images, unchanged=plan.current.images, warn=warn)


def check_wait_options(options: WaitOptions) -> None:
    """The waiting options checked together (each on its own is checked as it is
    parsed, and by `WaitOptions`), before any call."""
    if options.poll_interval > options.timeout:
        raise BadInputError(f"--poll-interval {options.poll_interval:g} is longer than --timeout {options.timeout:g}: "
                            "poll more often than the deploy may take")
    if not options.wait and not options.rollback:
        raise BadInputError("--no-rollback has no effect with --no-wait (nothing is watched): pass one of them")
    for name in options.alarms:
        check_alarm_name(name)
    if not options.rollback and options.on_pause == "rollback":
        raise BadInputError("--on-pause rollback takes the release back at a pause, --no-rollback leaves it in place on "
                            "failure: they contradict each other; pass one")
    if not options.wait and options.on_pause != "wait":
        raise BadInputError(f"--on-pause {options.on_pause} answers a pause the watch meets: it has no effect with "
                            "--no-wait; pass one or the other (`continue` answers a pause later)")
    if not options.wait and (options.alarms or options.bake):
        raise BadInputError("--bake and --alarm watch the rollout: they have no effect with --no-wait; pass one or the other")


def check_alarm_name(name: str) -> None:
    """An --alarm is a name CloudWatch can hold, checked before any call (botocore
    would refuse an empty one only when DescribeAlarms is sent)."""
    if not name or len(name) > ALARM_NAME_LENGTH:
        raise BadInputError(f"--alarm {shown(name)} is not a CloudWatch alarm name: give its name, 1 to "
                            f"{ALARM_NAME_LENGTH} characters")
    if _ASCII_CONTROL.search(name):
        raise BadInputError(f"--alarm {shown(name)} is not a CloudWatch alarm name: it holds a control character; "
                            "give the name as CloudWatch shows it")


def check_alarms(cloudwatch: Any, names: tuple[str, ...], *, clock: Clock, sink: Sink,
                 journal: Journal) -> dict[str, AlarmState]:
    """Every --alarm names a CloudWatch alarm that exists: checked before anything
    changes. Returns their states then, the baseline the watch starts from; one
    already in ALARM is said at once, on the first lines of the output."""
    if not names:
        return {}
    if cloudwatch is None:
        raise BadInputError("--alarm needs a CloudWatch client, and none was given")
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
            journal.warn(warning)
            sink(ProgressEvent("warning", clock.now(), warning, {"alarm": state.name}))
    return states


def warn_if_nothing_known_good(ecs: Any, plan: Plan, *, clock: Clock, sink: Sink, journal: Journal) -> None:
    """Say on the first lines when a failure of this deploy would have nowhere to
    return to: no revision of the target family has been proven (a service the tool
    never deployed, or whose every bake failed). Read before anything changes; the
    service's pointer answers in the usual case without a call."""
    pointer = plan.service.tags.get(knowngood.TAG, "")
    if pointer and family_of(pointer) == plan.family:
        return
    if knowngood.find(ecs, plan.family, service_tags=plan.service.tags, service_arn=plan.service.arn) is not None:
        return
    running = plan.current.name
    named = ["--to", running] + (["--family", plan.current.family] if plan.current.family != plan.family else [])
    warning = (f"no revision of {plan.family} is known good yet (none has passed a bake of this tool, nor been named "
               f"with rollback --to): if this deploy fails, it has nowhere to return to and stops with the service on "
               f"the new revision (exit 4). To give it one, name the revision the service runs now first: "
               + shlex.join(["ecs-template-deploy", "rollback", "--cluster", plan.request.cluster, "--service",
                             plan.service.name, *named]))
    journal.warn(warning)
    sink(ProgressEvent("warning", clock.now(), warning))
