"""Predict how long this service takes to get back to known good, and what would make it faster.

    harness rehearse --cluster C --service S [--region R] [--profile P] [--endpoint-url URL]
    harness rehearse --from check.json        (what `ecs-template-deploy check --json` prints)
    harness rehearse ... --timing-profile NAME|FILE   (the simulator's timings; default fargate)
    harness rehearse ... --write-profile FILE         (a timing profile with this service's own settings)

Reads the service's settings read-only (the same Describe/List calls as
`ecs-template-deploy check`; it never writes to the account), builds the same
service in the simulator (desired count, minimum/maximum percent, circuit
breaker, deployment alarms, strategy and bake, health check grace period,
target group health checks and deregistration delay, container health check
and stop timeout) and replays, with the deploy tool as CD, one good deploy and
failing ones: every new task crashing, one task in four failing its health
checks, every task failing them, and an alarm 120 s after the rollout is done.
Then the same with one change at a time: the changes that would cut the time
most. Times are virtual seconds on the simulator, from the first evidence of the
failure to the service steady on known good alone, under a timing profile
(`--timing-profile`; `--profile` stays the AWS CLI's named profile). The profile
`--write-profile` writes can be replayed by the whole comparison:
`harness compare --profile FILE`.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable
from unittest import mock

from ecs_template_deploy.views import SHIFTING_STRATEGIES as SHIFTING
from harness.backends.embedded import ACCOUNT, EmbeddedAws
from harness.ecs import alarms as cloudwatch_alarms
from harness.ecs import loadbalancers
from harness.ecs.params import Params
from harness.worlds import IMAGES, REGION, SERVICE, ToolWorld

SETTLE = 900.0       # virtual seconds for known good to settle before the deploy (as bench/rollback.py)
PHASE = 2.5          # the deploy starts between two scheduler passes
LIMIT = 3600.0       # measure this long after the deploy starts
ALARM_AFTER = 120.0  # the alarm mode: ALARM this long after the rollout is done
REHEARSAL_ALARM = "rehearsal-errors"  # the alarm driven when neither the service nor CD watches one


class RehearsalError(ValueError):
    """Settings the rehearsal cannot build a service from: the message says what to do."""


# -- what a rehearsal builds --------------------------------------------------------

@dataclass(frozen=True)
class Service:
    """The settings of one service as the simulator takes them."""

    desired: int = 4
    strategy: str = "ROLLING"
    minimum_percent: int = 100
    maximum_percent: int = 200
    breaker: bool = False
    breaker_rollback: bool = False
    alarms: tuple[str, ...] = ()          # deployment alarms on the service
    alarms_rollback: bool = False
    bake_minutes: int = 0                  # ECS's bakeTimeInMinutes (shifting strategies)
    shifting: dict[str, Any] = field(default_factory=dict)  # linearConfiguration / canaryConfiguration
    grace: int = 0
    load_balanced: bool = False
    tg_interval: int = 30
    tg_healthy: int = 5
    tg_unhealthy: int = 2
    deregistration_delay: int = 300
    health_check: dict[str, Any] | None = None   # the essential container's healthCheck
    stop_timeout: int = 30
    cd_alarms: tuple[str, ...] = ()        # deploy --alarm
    cd_bake: float = 0.0                   # deploy --bake
    poll: float = 5.0                      # deploy --poll-interval
    timing: Params = field(default_factory=Params)  # the timing profile's parameters (the CLI: fargate)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], *, cd_alarms: tuple[str, ...] = (), cd_bake: float = 0.0,
                      poll: float = 5.0) -> "Service":
        """From `ecs_template_deploy.settings.read_settings`'s document (`check --json`'s `settings`)."""
        from ecs_template_deploy.settings import stop_timeout, target_group_setting

        if isinstance(settings, dict) and isinstance(settings.get("settings"), dict):
            settings = settings["settings"]  # check --json's result object
        if not isinstance(settings, dict) or settings.get("kind") != "settings":
            raise RehearsalError("not a settings document: pass what `ecs-template-deploy check --json` prints")
        if settings.get("deploymentController", "ECS") != "ECS":
            raise RehearsalError(f"the service uses the {settings['deploymentController']} deployment controller: "
                                 "the simulator replays ECS-controlled deployments only")
        if not settings.get("desiredCount"):
            raise RehearsalError("the service's desired count is 0: nothing would be deployed; scale it up first")
        config = settings["deploymentConfiguration"]
        essential = [c for c in settings.get("containers", []) if c.get("essential", True)]
        checks = [c["healthCheck"] for c in essential if c.get("healthCheck")]
        alarms = config.get("alarms") or {}
        return cls(
            desired=int(settings["desiredCount"]), strategy=config.get("strategy", "ROLLING"),
            minimum_percent=int(config.get("minimumHealthyPercent", 100)),
            maximum_percent=int(config.get("maximumPercent", 200)),
            breaker=bool(config["circuitBreaker"]["enable"]), breaker_rollback=bool(config["circuitBreaker"]["rollback"]),
            alarms=tuple(alarms.get("alarmNames") or ()) if alarms.get("enable") else (),
            alarms_rollback=bool(alarms.get("rollback")), bake_minutes=int(config.get("bakeTimeInMinutes") or 0),
            shifting={k: config[k] for k in ("linearConfiguration", "canaryConfiguration") if config.get(k)},
            grace=int(settings.get("healthCheckGracePeriodSeconds") or 0),
            load_balanced=bool(settings.get("loadBalanced")),
            tg_interval=int(target_group_setting(settings, "healthCheckIntervalSeconds")),
            tg_healthy=int(target_group_setting(settings, "healthyThresholdCount")),
            tg_unhealthy=int(target_group_setting(settings, "unhealthyThresholdCount")),
            deregistration_delay=int(target_group_setting(settings, "deregistrationDelaySeconds")),
            health_check=checks[0] if checks else None, stop_timeout=int(stop_timeout(settings)),
            cd_alarms=tuple(cd_alarms), cd_bake=cd_bake, poll=poll,
        )

    @property
    def watched_alarm(self) -> str:
        """The alarm the alarm mode drives: one the service or CD watches, else one nobody does."""
        return (self.alarms or self.cd_alarms or (REHEARSAL_ALARM,))[0]

    def params(self) -> Params:
        # the target groups carry their own checks and drain (the simulator reads them); the stop bound is the container's
        return replace(self.timing, stop_timeout=float(self.stop_timeout))

    def own_values(self) -> dict[str, float]:
        """The simulator's parameters this service sets for itself: a timing profile's
        values that `--write-profile` replaces with the service's."""
        values: dict[str, float] = {"stop_timeout": self.stop_timeout}
        if self.load_balanced or self.strategy in SHIFTING:
            values.update(tg_health_interval=self.tg_interval, tg_healthy_threshold=self.tg_healthy,
                          tg_unhealthy_threshold=self.tg_unhealthy, deregistration_delay=self.deregistration_delay)
        check = self.health_check or {}
        for key, param in (("interval", "container_health_interval"), ("retries", "container_health_retries"),
                           ("startPeriod", "container_health_start_period")):
            if isinstance(check.get(key), (int, float)) and not isinstance(check.get(key), bool):
                values[param] = check[key]
        return values

    def build(self, aws: EmbeddedAws, images: tuple[str, ...]) -> ToolWorld:
        configuration: dict[str, Any] = {
            "minimumHealthyPercent": self.minimum_percent, "maximumPercent": self.maximum_percent,
            "deploymentCircuitBreaker": {"enable": self.breaker, "rollback": self.breaker_rollback},
            **self.shifting,
        }
        if self.alarms:
            configuration["alarms"] = {"alarmNames": list(self.alarms), "enable": True, "rollback": self.alarms_rollback}
        if self.strategy in SHIFTING:
            configuration["bakeTimeInMinutes"] = self.bake_minutes
        container: dict[str, Any] = {"healthCheck": self.health_check} if self.health_check else {}
        container["stopTimeout"] = self.stop_timeout
        groups = {"interval": self.tg_interval, "healthy": self.tg_healthy, "unhealthy": self.tg_unhealthy,
                  "deregistration_delay": self.deregistration_delay}
        return ToolWorld.build(aws, desired=self.desired, load_balanced=self.load_balanced, strategy=self.strategy,
                               images=images, health_check_grace=self.grace, container_settings=container,
                               target_group_settings=groups, **configuration)

    def deploy_options(self) -> list[str]:
        options = ["--poll-interval", f"{self.poll:g}"]
        for alarm in self.cd_alarms:
            options += ["--alarm", alarm]
        if self.cd_bake:
            options += ["--bake", f"{self.cd_bake:g}"]
        return options

    def describe(self) -> str:
        parts = [f"{self.desired} tasks", self.strategy,
                 f"min {self.minimum_percent}% / max {self.maximum_percent}%",
                 "breaker " + ("on, rollback" if self.breaker and self.breaker_rollback else "on" if self.breaker else "off"),
                 f"alarms {', '.join(self.alarms)}" if self.alarms else "no deployment alarms"]
        if self.strategy in SHIFTING:
            parts.append(f"bake {self.bake_minutes} min")
        if self.load_balanced or self.strategy in SHIFTING:
            parts.append(f"target group {self.tg_healthy} x {self.tg_interval} s healthy / {self.tg_unhealthy} unhealthy, "
                         f"deregistration {self.deregistration_delay} s, grace {self.grace} s")
        parts.append("container health check" if self.health_check else "no container health check")
        cd = " ".join(self.deploy_options())
        return "; ".join(parts) + f"; CD: ecs-template-deploy deploy {cd}"


# -- what is replayed ---------------------------------------------------------------

@dataclass(frozen=True)
class Mode:
    name: str
    title: str
    fails: bool = True

    def behaviour(self, service: Service) -> dict[str, Any]:
        if self.name == "crash":
            return {"crash_after": 5.0}
        if self.name == "trickle":
            return {"target_health_fails_every": 4}  # without a load balancer nothing sees it: so be it
        if self.name == "unhealthy":
            return {"target_health": "fail", "container_health": "fail"}
        return {}


MODES = {m.name: m for m in (
    Mode("good", "a good release (no rollback wanted)", fails=False),
    Mode("crash", "every new task crashes 5 s after it starts"),
    Mode("trickle", "one new task in four fails its load balancer health checks"),
    Mode("unhealthy", "every new task fails its health checks (load balancer and container)"),
    Mode("alarm", f"the release passes every check; an alarm fires {ALARM_AFTER:g} s after the rollout is done"),
)}


@dataclass(frozen=True)
class Lever:
    name: str
    title: str
    kind: str  # "setting": one attribute of an existing resource; "design": a change of shape
    applies: Callable[[Service], bool]
    apply: Callable[[Service], Service]


LEVERS = {lever.name: lever for lever in (
    Lever("deregistration-delay", "deregistration delay 30 s", "setting",
          lambda s: (s.load_balanced or s.strategy in SHIFTING) and s.deregistration_delay > 30,
          lambda s: replace(s, deregistration_delay=30)),
    Lever("fast-health-checks", "target group health checks 2 x 10 s", "setting",
          lambda s: (s.load_balanced or s.strategy in SHIFTING) and s.tg_interval * s.tg_healthy > 20,
          lambda s: replace(s, tg_interval=10, tg_healthy=2)),
    Lever("circuit-breaker", "circuit breaker on, with rollback", "setting",
          lambda s: not (s.breaker and s.breaker_rollback), lambda s: replace(s, breaker=True, breaker_rollback=True)),
    Lever("deployment-alarms", "the alarm on the deployment, with rollback", "setting",
          lambda s: not (s.alarms and s.alarms_rollback),
          lambda s: replace(s, alarms=(s.watched_alarm,), alarms_rollback=True)),
    Lever("cd-bake", "CD watches its alarm for 10 minutes after the rollout (deploy --alarm --bake 600)", "setting",
          lambda s: not (s.cd_alarms and s.cd_bake >= 600),
          lambda s: replace(s, cd_alarms=s.cd_alarms or (s.watched_alarm,), cd_bake=max(s.cd_bake, 600.0))),
    Lever("blue-green", "BLUE_GREEN with a 5-minute bake", "design",
          lambda s: s.strategy == "ROLLING" and s.load_balanced,
          lambda s: replace(s, strategy="BLUE_GREEN", bake_minutes=5)),
)}


@dataclass
class Outcome:
    mode: str
    variant: str             # "current" or a lever's name
    recovered: bool          # failing modes: steady on known good alone at the end; good: steady on the release
    seconds: float | None    # failing: first evidence -> steady on known good; good: deploy -> steady on the release
    from_deploy: float | None  # deploy start -> the same moment
    fewest_healthy: int
    exit_code: int
    note: str = ""


class Replay:
    """One simulated account with the service steady on known good, and one deploy into it."""

    def __init__(self, service: Service, mode: Mode, seed: int = 7) -> None:
        self.service, self.mode = service, mode
        self.stack = contextlib.ExitStack()
        self.aws = self.stack.enter_context(EmbeddedAws(seed=seed, params=service.params()))
        self.stack.enter_context(mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "testing",
                                                              "AWS_SECRET_ACCESS_KEY": "testing"}))
        if self.aws.sim is None:  # EmbeddedAws makes its simulator as it is entered, just above
            raise RuntimeError("the embedded AWS has no simulator")
        self.clock, self.sim = self.aws.clock, self.aws.sim
        cloudwatch = self.aws.client("cloudwatch")
        for alarm in dict.fromkeys((*service.alarms, *service.cd_alarms, service.watched_alarm)):
            cloudwatch.put_metric_alarm(AlarmName=alarm, MetricName="Errors", Namespace="App", Statistic="Sum",
                                        Period=60, EvaluationPeriods=1, Threshold=1,
                                        ComparisonOperator="GreaterThanThreshold")
        self.world = service.build(self.aws, (*IMAGES, "release"))
        # known good as bench/rollback.py makes it: a plain deploy (a --bake here would only cost time)
        setup = self.world.run("deploy", "--tag", "v1", "--poll-interval", f"{service.poll:g}")
        if setup.code != 0:
            raise RehearsalError(f"the service never became steady on a good release in the simulator (exit "
                                 f"{setup.code}: {setup.stderr.strip()[:200]}): check its settings with "
                                 "ecs-template-deploy check")
        self.clock.sleep(SETTLE + PHASE)
        self.good = self.world.service().task_definition
        behaviour = mode.behaviour(service)
        if behaviour:
            self.sim.declare_image("web:release", **behaviour)
        self.evidence: float | None = None
        self.alarm_scheduled = False
        runner = self.sim.runner
        original = runner.on_failure

        def on_failure(task: Any) -> None:
            if task.task_definition_arn != self.good and self.evidence is None:
                self.evidence = self.clock.now()
            original(task)

        runner.on_failure = on_failure

    def close(self) -> None:
        self.stack.close()

    def _watch_for_done(self) -> None:
        """The alarm mode: ALARM_AFTER seconds after the release took all the traffic."""
        if self.alarm_scheduled or self.clock.now() - self.started > LIMIT:
            return
        service = self.sim.service(SERVICE)
        new = [d for d in service.deployments if d.task_definition_arn != self.good]
        done = False
        if new and self.world.balancer is not None:
            weights = loadbalancers.weights(self.sim.moto, self.world.balancer.production_rule)
            done = weights.get(new[0].target_group or "", 0) == 100
        elif new:
            done = len(service.deployments) == 1 and new[0].settled_at is not None
        if done:
            self.alarm_scheduled = True
            self.clock.call_later(ALARM_AFTER, self._fire)
        else:
            self.clock.call_later(1, self._watch_for_done)

    def _fire(self) -> None:
        cloudwatch_alarms.set_state(self.sim.moto, ACCOUNT, REGION, self.service.watched_alarm, "ALARM",
                                    "the release misbehaves under production traffic")
        if self.evidence is None:
            self.evidence = self.clock.now()

    def run(self, variant: str) -> Outcome:
        self.started = self.clock.now()
        if self.mode.name == "alarm":
            self.clock.call_later(0, self._watch_for_done)
        deploy = self.world.run("deploy", "--tag", "release", *self.service.deploy_options())
        left = self.started + LIMIT - self.clock.now()
        if left > 0:
            self.clock.sleep(left)
        fewest = self.world.min_healthy_since(self.started)
        if not self.mode.fails:
            at = self._steady_on(lambda arns: len(arns) == 1 and arns[0] != self.good, self.started)
            recovered = at is not None
            return Outcome(self.mode.name, variant, recovered, None if at is None else at - self.started,
                           None if at is None else at - self.started, fewest, deploy.code,
                           "" if recovered else "the good release was rolled back or never steady")
        since = self.evidence if self.evidence is not None else self.started
        at = self._steady_on(lambda arns: arns == [self.good], since)
        on_good = self.world.service().task_definition == self.good
        recovered_at = at if on_good else None  # steady on known good, and still on it at the end
        recovered = recovered_at is not None
        note = ""
        if self.evidence is None:
            note = "nothing saw the failure: the broken release runs"
        elif not on_good:
            note = "the failure showed, but nothing rolled back: the broken release still runs"
        return Outcome(self.mode.name, variant, recovered, None if recovered_at is None else recovered_at - since,
                       None if recovered_at is None else recovered_at - self.started, fewest, deploy.code, note)

    def _steady_on(self, wanted: Callable[[list[str]], bool], since: float) -> float | None:
        """The first steady-state event after `since` with the service on what `wanted` accepts."""
        samples = [s for s in self.sim.timeline.samples if s["service"] == SERVICE]
        for event in self.sim.timeline.events:
            if event["t"] < since or "has reached a steady state" not in event["message"]:
                continue
            if event["t"] > self.started + LIMIT:  # past the span every replay is measured over
                return None
            before = [s for s in samples if s["t"] <= event["t"]]
            if before and wanted([d["taskDefinition"] for d in before[-1]["deployments"]]):
                return event["t"]
        return None


def replay(service: Service, mode: str, variant: str = "current") -> Outcome:
    if variant != "current":
        service = LEVERS[variant].apply(service)
    run = Replay(service, MODES[mode])
    try:
        return run.run(variant)
    finally:
        run.close()


def _job(job: tuple[Service, str, str]) -> dict[str, Any]:
    return asdict(replay(*job))


# -- the rehearsal --------------------------------------------------------------------

@dataclass
class Rehearsal:
    service: Service
    outcomes: list[Outcome]
    levers: list[str]

    def cell(self, mode: str, variant: str) -> Outcome | None:
        return next((o for o in self.outcomes if o.mode == mode and o.variant == variant), None)

    def modes(self) -> list[str]:
        return list(dict.fromkeys(o.mode for o in self.outcomes))

    def gains(self) -> dict[str, float]:
        """Lever -> virtual seconds it saves, summed over the failing modes (a mode
        that was never recovered counts as LIMIT seconds). A lever that gets a good
        release rolled back pays LIMIT for it: a faster rollback of everything is
        no gain."""
        def cost(o: Outcome | None) -> float:
            return LIMIT if o is None or o.seconds is None else o.seconds

        def false_rollback(lever: str) -> float:
            good = self.cell("good", lever)
            return LIMIT if good is not None and not good.recovered else 0.0

        return {lever: sum(cost(self.cell(m, "current")) - cost(self.cell(m, lever))
                           for m in self.modes() if MODES[m].fails) - false_rollback(lever)
                for lever in self.levers}

    def largest(self, kind: str) -> tuple[str, float] | None:
        gains = [(lever, gain) for lever, gain in self.gains().items() if LEVERS[lever].kind == kind and gain > 0]
        return max(gains, key=lambda item: item[1]) if gains else None

    def to_dict(self) -> dict[str, Any]:
        return {"kind": "rehearsal", "service": asdict(self.service), "described": self.service.describe(),
                "limitSeconds": LIMIT, "outcomes": [asdict(o) for o in self.outcomes],
                "levers": {name: {"title": LEVERS[name].title, "kind": LEVERS[name].kind,
                                  "savesSeconds": gain} for name, gain in self.gains().items()},
                "largestSettingLever": (self.largest("setting") or (None,))[0],
                "largestDesignLever": (self.largest("design") or (None,))[0]}


def rehearse(service: Service, modes: list[str] | None = None, levers: list[str] | None = None,
             workers: int = 1) -> Rehearsal:
    modes = modes or list(MODES)
    chosen = [name for name in (levers if levers is not None else LEVERS) if LEVERS[name].applies(service)]
    jobs = [(service, mode, variant) for mode in modes for variant in ("current", *chosen)]
    if workers > 1 and len(jobs) > 1:
        with multiprocessing.get_context("fork").Pool(min(workers, len(jobs))) as pool:
            outcomes = [Outcome(**o) for o in pool.map(_job, jobs, chunksize=1)]
    else:
        outcomes = [Outcome(**_job(job)) for job in jobs]
    return Rehearsal(service, outcomes, chosen)


# -- showing it -----------------------------------------------------------------------

def _cell(o: Outcome | None) -> str:
    if o is None:
        return "-"
    if not o.recovered:
        return "never" if MODES[o.mode].fails else "rolled back"
    return f"{o.seconds:g} s ({o.fewest_healthy} healthy)"


def table(rehearsal: Rehearsal) -> list[str]:
    variants = ["current", *rehearsal.levers]
    heads = ["settings now"] + [LEVERS[v].title for v in rehearsal.levers]
    lines = ["| replayed deploy | " + " | ".join(heads) + " |", "|---" * (len(heads) + 1) + "|"]
    for mode in rehearsal.modes():
        cells = [_cell(rehearsal.cell(mode, v)) for v in variants]
        lines.append(f"| {mode}: {MODES[mode].title} | " + " | ".join(cells) + " |")
    return lines


def summary(rehearsal: Rehearsal) -> list[str]:
    lines = []
    for kind, words in (("setting", "largest lever among settings"), ("design", "largest lever among design changes")):
        best = rehearsal.largest(kind)
        if best:
            lever, gain = best
            lines.append(f"{words}: {LEVERS[lever].title} (saves {gain:g} s over the failing deploys)")
    if not lines:
        lines.append("no lever tried cuts the time to known good")
    never = [o for o in rehearsal.outcomes if MODES[o.mode].fails and o.seconds is None]
    if never and any(gain > 0 for gain in rehearsal.gains().values()):
        lines.append(f"(savings count a deploy that never got back to known good, {len(never)} of the cells, as "
                     f"{LIMIT:g} s, the rehearsal's horizon: 'never' is worse than that, by how much no replay can say)")
    return lines


def chart(rehearsal: Rehearsal) -> Any:
    from harness.report.charts import IMAGE_COLOURS, plt

    failing = [m for m in rehearsal.modes() if MODES[m].fails]
    variants = ["current", *rehearsal.levers]
    fig, ax = plt.subplots(figsize=(9, 1.6 + 0.9 * len(failing)))
    height = 0.8 / len(variants)
    for i, variant in enumerate(variants):
        values = [rehearsal.cell(m, variant) for m in failing]
        seconds = [LIMIT if o is None or o.seconds is None else o.seconds for o in values]
        label = "settings now" if variant == "current" else LEVERS[variant].title
        colour = "#555555" if variant == "current" else IMAGE_COLOURS[(i - 1) % len(IMAGE_COLOURS)]
        bars = ax.barh([y + i * height for y in range(len(failing))], seconds, height=height, label=label, color=colour)
        for bar, o in zip(bars, values, strict=True):
            if o is None or o.seconds is None:
                bar.set_hatch("//")
            ax.text(bar.get_width(), bar.get_y() + bar.get_height() / 2, f" {_cell(o).split(' (')[0]}",
                    va="center", fontsize=6)
    ax.set_yticks([y + 0.4 - height / 2 for y in range(len(failing))], failing)
    ax.invert_yaxis()
    ax.set_xlabel(f"virtual seconds, first evidence -> steady on known good (hatched: never, shown at {LIMIT:g})")
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.12 - 0.25 / len(failing)),
              ncol=3)
    ax.margins(x=0.08)
    fig.tight_layout()
    return fig


# -- the command ------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    source = parser.add_argument_group("the service (read-only)")
    source.add_argument("--cluster", help="ECS cluster name or ARN")
    source.add_argument("--service", help="ECS service name or ARN")
    source.add_argument("--region", help="AWS region (default: the usual chain)")
    source.add_argument("--profile", help="named AWS profile")
    source.add_argument("--endpoint-url", help="read from this endpoint (e.g. a `harness serve` URL) instead of AWS")
    source.add_argument("--template", help="the template family, as for ecs-template-deploy check")
    source.add_argument("--from", dest="from_file", metavar="FILE",
                        help="read the settings from FILE (`ecs-template-deploy check --json` output) instead")
    cd = parser.add_argument_group("the CD step replayed (ecs-template-deploy deploy)")
    cd.add_argument("--alarm", action="append", default=[], metavar="NAME", help="deploy --alarm (repeatable)")
    cd.add_argument("--bake", type=float, default=0.0, metavar="SECONDS", help="deploy --bake")
    cd.add_argument("--poll-interval", type=float, default=5.0, metavar="SECONDS", help="deploy --poll-interval (default 5)")
    what = parser.add_argument_group("what is replayed")
    what.add_argument("--mode", action="append", choices=list(MODES), help="only these deploys (default: all)")
    what.add_argument("--lever", action="append", choices=list(LEVERS), help="only these changes (default: all that apply)")
    what.add_argument("--no-levers", action="store_true", help="replay the settings as they are only")
    timing = parser.add_argument_group("timings")
    timing.add_argument("--timing-profile", default=None, metavar="NAME|FILE",
                        help="the simulator's timing profile: fargate (default), ec2-cached, fast, or a profile file "
                        "(docs/timing-profiles.md)")
    timing.add_argument("--write-profile", metavar="FILE", default=None,
                        help="write a timing profile with this service's own health checks, drain and stop timeout "
                        "(the rest from --timing-profile), for harness compare --profile FILE")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPUs)")
    parser.add_argument("--out", metavar="DIR", help="also write rehearsal.md, rehearsal.json and rehearsal.png here")
    parser.add_argument("--json", action="store_true", help="print the rehearsal as JSON")


def read_live(args: argparse.Namespace) -> dict[str, Any]:
    """The service's settings, read-only, through the deploy tool's own reader."""
    import boto3

    from ecs_template_deploy.settings import read_settings

    session = boto3.Session(profile_name=args.profile, region_name=args.region or os.environ.get("AWS_REGION") or None)
    clients: dict[str, Any] = {}

    def client(name: str, region: str | None = None) -> Any:
        key = f"{name}:{region}"
        if key not in clients:
            clients[key] = session.client(name, region_name=region or session.region_name,  # type: ignore[call-overload]  # any service by name: the stubs type each by its literal name
                                          endpoint_url=args.endpoint_url)
        return clients[key]

    return read_settings(client("ecs"), args.cluster, args.service, elbv2=client("elbv2"),
                         ecr_for=lambda region: client("ecr", region), template=args.template)


def _fail(message: str) -> int:
    print(f"harness rehearse: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    from ecs_template_deploy.errors import DeployToolError

    if args.from_file:
        if args.cluster or args.service:
            return _fail("--from FILE replaces --cluster/--service: pass one or the other")
        try:
            settings = json.loads(Path(args.from_file).read_text())
        except (OSError, ValueError) as err:
            return _fail(f"cannot read settings from {args.from_file}: {err}: pass the file "
                         "`ecs-template-deploy check --json` wrote")
    elif args.cluster and args.service:
        try:
            settings = read_live(args)
        except DeployToolError as err:
            return _fail(str(err))
        except Exception as err:  # no credentials, no region: botocore's own words, on one line
            return _fail(" ".join(f"{type(err).__name__}: {err}".split()))
    else:
        return _fail("say which service: --cluster C --service S, or --from FILE")
    try:
        service = Service.from_settings(settings, cd_alarms=tuple(args.alarm), cd_bake=args.bake,
                                        poll=args.poll_interval)
    except RehearsalError as err:
        return _fail(str(err))
    except (KeyError, TypeError, ValueError) as err:  # a settings document with a field missing or mistyped
        return _fail(f"cannot rehearse these settings ({type(err).__name__}: {err}): pass the file "
                     "`ecs-template-deploy check --json` wrote, unchanged")
    from harness.ecs import profiles

    try:
        profile = profiles.load(args.timing_profile or profiles.DEFAULT)
    except profiles.ProfileError as err:
        return _fail(f"--timing-profile: {err}")
    service = replace(service, timing=profile.params)
    if args.write_profile:
        where = args.cluster and args.service and f"service {args.cluster}/{args.service}" or f"{args.from_file}"
        try:
            Path(args.write_profile).write_text(profile_text(profile, service, where))
        except OSError as err:
            return _fail(f"cannot write --write-profile {args.write_profile}: {err}")
    try:
        result = rehearse(service, args.mode, [] if args.no_levers else args.lever, workers=args.workers)
    except RehearsalError as err:
        return _fail(str(err))
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "rehearsal.json").write_text(json.dumps(result.to_dict(), indent=2) + "\n")
        (out / "rehearsal.md").write_text("\n".join(report_lines(result)) + "\n")
        from harness.report.charts import png
        (out / "rehearsal.png").write_bytes(png(chart(result)))
    if args.json:
        print(json.dumps({**result.to_dict(), "timingProfile": profile.name}, indent=2))
    else:
        print("\n".join(report_lines(result)))
        print(f"\nTimings: the {profile.name} timing profile (harness profiles --markdown lists its values and sources)."
              + (f" This service's own timings: {args.write_profile}." if args.write_profile else ""))
    return 0


def profile_text(profile: Any, service: Service, where: str) -> str:
    """A timing profile file: ``profile``'s values, with the service's own settings in place
    of its defaults, every value with its source."""
    import datetime
    from dataclasses import fields as dataclass_fields

    own = service.own_values()
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    lines = [f"# Timing profile written by harness rehearse from {where} on {today}.",
             "# Replay the comparison with it: harness compare --profile THIS_FILE", "",
             f"summary = {json.dumps(f'{where}: its own health checks, drain and stop timeout; the rest from {profile.name}')}",
             ""]
    for f in dataclass_fields(Params):
        value = own.get(f.name, getattr(profile.params, f.name))
        source = (f"read from {where} by harness rehearse on {today}" if f.name in own
                  else f"{profile.sources[f.name]} (from {profile.name})")
        lines.append(f"[{f.name}]")
        if value is not None:
            lines.append(f"value = {value}")
        lines += [f"source = {json.dumps(source)}", ""]
    return "\n".join(lines)


def report_lines(result: Rehearsal) -> list[str]:
    return [f"Rehearsed: {result.service.describe()}.", "",
            "Virtual seconds from the first evidence of the failure to the service steady on known good "
            "alone (good release: from the deploy to steady on it), and the fewest healthy tasks on the way.", "",
            *table(result), "", *summary(result)]

