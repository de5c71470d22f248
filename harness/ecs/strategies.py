"""Blue/green, linear and canary deployments (ECS, 2025): green tasks come up next
to blue, traffic moves on the load balancer's listener rules, blue keeps running
through the bake, and a rollback before clean-up puts traffic back on blue
without starting a task.

A deployment of one of these strategies walks ECS's lifecycle stages in order:
RECONCILE_SERVICE (only if more than blue is still running), PRE_SCALE_UP,
SCALE_UP (green to the desired count, no traffic), POST_SCALE_UP,
TEST_TRAFFIC_SHIFT (the test rule to green), POST_TEST_TRAFFIC_SHIFT,
PRODUCTION_TRAFFIC_SHIFT (BLUE_GREEN: all at once; LINEAR: `stepPercent` per
step, `stepBakeTimeInMinutes` between; CANARY: `canaryPercent`, wait
`canaryBakeTimeInMinutes`, then all), POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME
(`bakeTimeInMinutes`), CLEAN_UP (blue stops: the only moment it does).

Lifecycle hooks run at their stages (PRE_PRODUCTION_TRAFFIC_SHIFT and
PRODUCTION_TRAFFIC_SHIFT at every production step). moto cannot run Lambda
code here, so a scenario declares what a Lambda hook answers per stage
(`Simulator.declare_hook`, `POST /_harness/hooks`): SUCCEEDED (the default),
FAILED (roll back), IN_PROGRESS (asked again after the callback delay). A
PAUSE hook waits for ContinueServiceDeployment. A hook's timeout acts as its
timeoutConfiguration says (ROLLBACK by default).

Modelled where the documentation is silent: alarms are watched from the first
production shift to the end of the bake (ECS documents the bake); green tasks
that fail are replaced (the circuit breaker is for rolling updates), so only a
hook, an alarm, a stop or the 24 h stage limit rolls back; the first
deployment of a service has no blue and rolls out as a rolling one.

Just over 400 lines on purpose: the stage walk, the traffic moves, the hooks,
the alarm watch and the rollback all read and write one `Shift`; split apart,
each part would reach into the others' state.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.ecs import deployments as records
from harness.ecs import loadbalancers
from harness.ecs.moto_state import MotoState
from harness.ecs.services import ACTIVE, COMPLETED, FAILED, PRIMARY, SimulatedDeployment, SimulatedService
from harness.ecs.tasks import SERVICE_SCHEDULER_INITIATED, reason_scaling

if TYPE_CHECKING:
    from harness.ecs.cluster import Cluster

ROLLING, BLUE_GREEN, LINEAR, CANARY = "ROLLING", "BLUE_GREEN", "LINEAR", "CANARY"
SHIFTING = (BLUE_GREEN, LINEAR, CANARY)
RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP = "RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP"
TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT = "TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT"
PRE_PRODUCTION_TRAFFIC_SHIFT = "PRE_PRODUCTION_TRAFFIC_SHIFT"  # a hook stage only, not a lifecycleStage value
PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT = "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT"
BAKE_TIME, CLEAN_UP = "BAKE_TIME", "CLEAN_UP"
STAGES = (RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT,
          PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP)
HOOK_STAGES = (RECONCILE_SERVICE, PRE_SCALE_UP, POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT,
               PRE_PRODUCTION_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT)
NO_PAUSE_STAGES = (TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT)
ALARM_STAGES = (PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME)
STAGE_LIMIT = 24 * 3600.0
HOOK_ANSWERS = ("SUCCEEDED", "FAILED", "IN_PROGRESS")


@dataclass
class HookRun:
    """One lifecycle hook at one stage: ECS's lifecycleHookDetails entry."""

    hook_id: str
    target_type: str  # AWS_LAMBDA | PAUSE
    target_arn: str
    stage: str
    expires_at: float
    timeout_action: str  # ROLLBACK | CONTINUE
    status: str = "IN_PROGRESS"
    next_call: float = 0.0
    calls: int = 0

    def detail(self) -> dict[str, Any]:
        return {"hookId": self.hook_id, "targetType": self.target_type, "targetArn": self.target_arn,
                "status": self.status, "expiresAt": self.expires_at, "timeoutAction": self.timeout_action}


@dataclass
class Shift:
    """Where a blue/green-family deployment is in its lifecycle."""

    strategy: str
    blue: SimulatedDeployment
    green_target_group: str | None
    blue_target_group: str | None
    production_rule: str | None
    test_rule: str | None
    steps: list[float]  # green's production share after each step
    step_bakes: list[float]  # seconds to wait after each step but the last
    bake_seconds: float
    hooks: list[dict[str, Any]]  # the deploymentConfiguration's lifecycleHooks
    stage: str = ""
    stage_started: float = 0.0
    todo: list[tuple[Any, ...]] = field(default_factory=list)  # what is left to do in the stage
    running: list[HookRun] = field(default_factory=list)  # the hooks of the item being done
    waiting_until: float | None = None
    production: float = 0.0  # green's shares, 0-100
    test: float = 0.0
    rolled_back: bool = False
    stopped: bool = False  # StopServiceDeployment ABORT: no further stage (modelled)


def steps_of(config: dict[str, Any]) -> tuple[list[float], list[float]]:
    """(green's share after each production step, the wait after each step but the last)."""
    strategy = config.get("strategy", ROLLING)
    if strategy == LINEAR:
        linear = config.get("linearConfiguration") or {}
        step, bake = float(linear.get("stepPercent", 10.0)), 60.0 * linear.get("stepBakeTimeInMinutes", 6)
        shares, share = [], 0.0
        while share < 100.0:
            share = min(100.0, round(share + step, 1))
            shares.append(share)
        return shares, [bake] * (len(shares) - 1)
    if strategy == CANARY:
        canary = config.get("canaryConfiguration") or {}
        return [float(canary.get("canaryPercent", 5.0)), 100.0], [60.0 * canary.get("canaryBakeTimeInMinutes", 10)]
    return [100.0], []


def advanced(service: SimulatedService) -> dict[str, Any]:
    balancers = service.load_balancers
    return (balancers[0].get("advancedConfiguration") or {}) if balancers else {}


def begin(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment) -> None:
    """A deployment of a shifting strategy starts: next to the last completed one (blue)."""
    config = service.deployment_configuration
    lb, adv = (service.load_balancers[0] if service.load_balancers else {}), advanced(service)
    live = service.live_target_group or lb.get("targetGroupArn")
    # Blue is what serves production now: a deployment in CLEAN_UP (not COMPLETED
    # yet, and already serving everything), else the completed one in the live
    # target group with tasks still wanted, else the newest completed one. An older
    # deployment may still be draining from a clean-up: it is not blue.
    older = service.deployments[1:]
    serving = [d for d in older if d.wanted_tasks() and (
        (d.shift is not None and d.shift.stage == CLEAN_UP and not d.shift.stopped and not d.shift.rolled_back)
        or (d.rollout_state == COMPLETED and (d.target_group or lb.get("targetGroupArn")) == live))]
    completed = [d for d in older if d.rollout_state == COMPLETED]
    blue = max(serving or [d for d in completed if d.wanted_tasks()] or completed, key=lambda d: d.created_at,
               default=None)
    if config.get("strategy", ROLLING) not in SHIFTING or blue is None:
        return  # the service's first deployment, or nothing steady to shift from: a rolling one
    live = blue.target_group or live  # green goes to the other target group of the pair
    pair = [lb.get("targetGroupArn"), adv.get("alternateTargetGroupArn")]
    green_tg = next((tg for tg in pair if tg and tg != live), None) if adv else None
    steps, bakes = steps_of(config)
    green.shift = Shift(strategy=config["strategy"], blue=blue, green_target_group=green_tg, blue_target_group=live,
                        production_rule=adv.get("productionListenerRule"), test_rule=adv.get("testListenerRule"),
                        steps=steps, step_bakes=bakes, bake_seconds=60.0 * (config.get("bakeTimeInMinutes") or 0),
                        hooks=list(config.get("lifecycleHooks") or []))
    green.target_group = green_tg
    others_alive = any(d.alive_tasks() for d in service.deployments[1:] if d is not blue)
    _enter(sim, service, green, RECONCILE_SERVICE if others_alive else PRE_SCALE_UP)


def _work(stage: str, shift: Shift) -> list[tuple[Any, ...]]:
    if stage == RECONCILE_SERVICE:
        return [("hooks", stage), ("reconcile",)]
    if stage == SCALE_UP:
        return [("scale_up",)]
    if stage == TEST_TRAFFIC_SHIFT:
        return [("test", 100.0), ("hooks", stage)]
    if stage == PRODUCTION_TRAFFIC_SHIFT:
        work: list[tuple[Any, ...]] = []
        for index, share in enumerate(shift.steps):
            work += [("hooks", PRE_PRODUCTION_TRAFFIC_SHIFT), ("production", share), ("hooks", stage)]
            if index < len(shift.step_bakes):
                work.append(("wait", shift.step_bakes[index]))
        return work
    if stage == BAKE_TIME:
        return [("wait", shift.bake_seconds)]
    if stage == CLEAN_UP:
        return [("clean_up",)]
    return [("hooks", stage)]  # PRE_SCALE_UP, POST_SCALE_UP, POST_TEST_..., POST_PRODUCTION_...


def _enter(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment, stage: str) -> None:
    shift = green.shift
    shift.stage, shift.stage_started, shift.todo = stage, sim.clock.now(), _work(stage, shift)
    record = green.service_deployment
    if record is not None:
        record.lifecycle_stage = stage
        record.hook_details = []
    sim.timeline.event(sim.clock.now(), service.name, f"lifecycle stage {stage} ({green.id})")


def run_pass(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment) -> None:
    """Move the deployment on as far as it can go at this moment."""
    shift = green.shift
    if shift.stopped or shift.rolled_back or green.rollout_state != "IN_PROGRESS":
        return
    now = sim.clock.now()
    if now - shift.stage_started > STAGE_LIMIT:
        roll_back(sim, service, green, f"Lifecycle stage {shift.stage} ran past its 24 hour limit.")
        return
    if shift.production > 0 and shift.stage in ALARM_STAGES and _alarm(sim, service, green):
        return
    while shift.todo:
        item = shift.todo[0]
        if not _do(sim, service, green, item):
            return  # blocked: next pass
        if shift.rolled_back:
            return
        shift.todo.pop(0)
        shift.running, shift.waiting_until = [], None
    index = STAGES.index(shift.stage)
    if shift.stage == CLEAN_UP:
        sim.complete_deployment(service, green)
        return
    _enter(sim, service, green, STAGES[index + 1])


def _do(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment, item: tuple[Any, ...]) -> bool:
    """Do one item of the stage's work; False while it must wait."""
    shift, kind, now = green.shift, item[0], sim.clock.now()
    if kind == "hooks":
        return _hooks(sim, service, green, item[1])
    if kind == "reconcile":
        others = [t for d in service.deployments[1:] if d is not shift.blue for t in d.wanted_tasks()]
        if others:
            sim.stop_service_tasks(service, others, reason_scaling(green.id))
        return not any(d.alive_tasks() for d in service.deployments[1:] if d is not shift.blue)
    if kind == "scale_up":
        missing = service.desired_count - len(green.wanted_tasks())
        if missing > 0:
            sim.start_service_tasks(service, green, missing)
        return len(green.wanted_tasks()) == service.desired_count and all(t.healthy for t in green.wanted_tasks())
    if kind == "test":
        _weights(sim, service, green, test=item[1])
        return True
    if kind == "production":
        first = shift.production == 0
        _weights(sim, service, green, production=item[1])
        if first:  # green serves production traffic from now on
            for task in green.wanted_tasks():
                sim.serves_production(service, task)
        return True
    if kind == "wait":
        if shift.waiting_until is None:
            shift.waiting_until = now + item[1]
        return now >= shift.waiting_until
    if kind == "clean_up":
        blue_tasks = shift.blue.wanted_tasks()
        if blue_tasks:
            sim.stop_service_tasks(service, blue_tasks, reason_scaling(green.id))
        if not shift.blue.alive_tasks():
            shift.blue.status = "INACTIVE"
            if shift.blue in service.deployments:
                service.deployments.remove(shift.blue)
            service.live_target_group = shift.green_target_group or service.live_target_group
            return True
        return False
    raise ValueError(f"unknown lifecycle work {item!r}")


def _weights(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment, *, production: float | None = None,
             test: float | None = None) -> None:
    """Green gets `production`/`test` percent, blue the rest, on the listener rules."""
    shift = green.shift
    if production is not None:
        shift.production = production
    if test is not None:
        shift.test = test
    for rule, share in ((shift.production_rule, shift.production), (shift.test_rule, shift.test)):
        if rule and shift.green_target_group and shift.blue_target_group:
            loadbalancers.set_weights(sim.moto, rule, {shift.green_target_group: share, shift.blue_target_group: 100 - share})
    record = green.service_deployment
    if record is not None:
        record.production_weight, record.test_weight = shift.production, shift.test
    sim.timeline.event(sim.clock.now(), service.name,
                       f"traffic {green.id}: production {shift.production:g}%, test {shift.test:g}%")


def _hooks(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment, stage: str) -> bool:
    """Run the stage's hooks; True once all succeeded (a failed one rolls back)."""
    shift, now = green.shift, sim.clock.now()
    if not shift.running:
        hooks = [h for h in shift.hooks if stage in (h.get("lifecycleStages") or [])]
        if not hooks:
            return True
        for hook in hooks:
            timeout = hook.get("timeoutConfiguration") or {}
            shift.running.append(HookRun(sim.hook_id(), hook.get("targetType", "AWS_LAMBDA"), hook.get("hookTargetArn", ""),
                                         stage, now + 60.0 * timeout.get("timeoutInMinutes", 1440),
                                         timeout.get("action", "ROLLBACK"),
                                         status="AWAITING_ACTION" if hook.get("targetType") == "PAUSE" else "IN_PROGRESS"))
    for run in shift.running:
        if run.status == "IN_PROGRESS" and run.target_type == "AWS_LAMBDA" and now >= run.next_call:
            answer = sim.hook_answer(run.target_arn, stage, run.calls)
            run.calls += 1
            if answer == "IN_PROGRESS":
                run.next_call = now + sim.params.hook_callback_delay
            else:
                run.status = answer
        if run.status in ("IN_PROGRESS", "AWAITING_ACTION") and now >= run.expires_at:
            run.status = "TIMED_OUT"
    _show_hooks(green)
    failed = [r for r in shift.running if r.status == "FAILED" or (r.status == "TIMED_OUT" and r.timeout_action == "ROLLBACK")]
    if failed:
        roll_back(sim, service, green, f"Lifecycle hook {failed[0].target_arn} {failed[0].status} at {stage}.")
        return False
    return all(r.status in ("SUCCEEDED", "TIMED_OUT") for r in shift.running)


def _show_hooks(green: SimulatedDeployment) -> None:
    record = green.service_deployment
    if record is not None:
        record.hook_details = [r.detail() for r in green.shift.running]


def continue_hook(sim: "Cluster", green: SimulatedDeployment, hook_id: str, action: str) -> None:
    """ContinueServiceDeployment: a PAUSE hook awaiting action goes on, or rolls back."""
    shift = green.shift
    run = next((r for r in (shift.running if shift else []) if r.hook_id == hook_id), None)
    if run is None or run.status != "AWAITING_ACTION":
        raise ValueError(f"hook {hook_id} is not awaiting action")
    run.status = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
    _show_hooks(green)


def _alarm(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment) -> bool:
    record = green.service_deployment
    if record is None or record.alarms.get("status") != records.MONITORING:
        return False
    states = sim.alarm_states(service, record.alarms["alarmNames"])
    triggered = sorted(n for n, s in states.items() if s == "ALARM" and n not in green.alarms_ignored)
    if not triggered:
        return False
    record.alarms["triggeredAlarmNames"] = triggered
    record.alarms["status"] = records.TRIGGERED
    roll_back(sim, service, green, f"Alarm(s) {', '.join(triggered)} went into ALARM at {green.shift.stage}.")
    return True


def roll_back(sim: "Cluster", service: SimulatedService, green: SimulatedDeployment, reason: str) -> None:
    """Traffic back on blue, which never stopped; green stops. No task starts."""
    shift, now = green.shift, sim.clock.now()
    shift.rolled_back, shift.todo, shift.running = True, [], []
    _weights(sim, service, green, production=0.0, test=0.0)
    blue = shift.blue
    green.rollout_state, green.rollout_state_reason = FAILED, f"ECS deployment rolled back: {reason}"
    green.status, blue.status = ACTIVE, PRIMARY
    if green in service.deployments:  # blue in front again
        service.deployments.remove(blue)
        service.deployments.insert(0, blue)
    service.task_definition_arn = blue.task_definition_arn
    shadow = sim.shadow(service)
    if shadow is not None:
        shadow.task_definition = blue.task_definition_arn
    sim.event(service, f"(service {service.name}) (deployment {green.id}) rolling back to deployment {blue.id}.")
    record = green.service_deployment
    if record is not None:
        record.rollback = {"reason": reason, "startedAt": now, "serviceRevisionArn": blue.revision.arn if blue.revision else ""}
        record.rollback_deployment = blue
        sim.record_moves(service, record, records.ROLLBACK_IN_PROGRESS)
    for task in green.wanted_tasks():
        sim.runner.stop(task, SERVICE_SCHEDULER_INITIATED, reason_scaling(blue.id))


def drained(sim: "Cluster", service: SimulatedService, deployment: SimulatedDeployment) -> None:
    """A rolled-back green has no task left: the rollback is done."""
    record = deployment.service_deployment
    if deployment.shift is not None and deployment.shift.rolled_back and record is not None \
            and record.status == records.ROLLBACK_IN_PROGRESS:
        sim.record_moves(service, record, records.ROLLBACK_SUCCESSFUL, "Service deployment rolled back.")


def check(moto: MotoState, service_config: dict[str, Any], controller: str, load_balancers: list[dict[str, Any]]) -> str:
    """Why ECS refuses this strategy configuration ("" if it accepts it)."""
    strategy = service_config.get("strategy", ROLLING)
    if strategy not in (ROLLING, *SHIFTING):
        return f"strategy {strategy} is not ROLLING, BLUE_GREEN, LINEAR or CANARY."
    if strategy == ROLLING:
        return ""
    if controller != "ECS":
        return f"The {strategy} deployment strategy requires the ECS deployment controller."
    linear = service_config.get("linearConfiguration") or {}
    if "stepPercent" in linear and not 3.0 <= float(linear["stepPercent"]) <= 100.0:
        return "linearConfiguration.stepPercent must be between 3.0 and 100.0."
    canary = service_config.get("canaryConfiguration") or {}
    if "canaryPercent" in canary and not 0.1 <= float(canary["canaryPercent"]) <= 100.0:
        return "canaryConfiguration.canaryPercent must be between 0.1 and 100.0."
    for key, config in (("stepBakeTimeInMinutes", linear), ("canaryBakeTimeInMinutes", canary)):
        if key in config and not 0 <= int(config[key]) <= 1440:
            return f"{key} must be between 0 and 1440."
    if not 0 <= int(service_config.get("bakeTimeInMinutes") or 0) <= 1440:
        return "bakeTimeInMinutes must be between 0 and 1440."
    for hook in service_config.get("lifecycleHooks") or []:
        kind, stages = hook.get("targetType", "AWS_LAMBDA"), hook.get("lifecycleStages") or []
        if kind == "AWS_LAMBDA" and not hook.get("hookTargetArn"):
            return "hookTargetArn is required for an AWS_LAMBDA lifecycle hook."
        bad = [s for s in stages if s not in HOOK_STAGES]
        if bad:
            return f"lifecycle stage {bad[0]} cannot have a hook."
        if kind == "PAUSE" and any(s in NO_PAUSE_STAGES for s in stages):
            return "A PAUSE lifecycle hook is not supported at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT."
    for lb in load_balancers:
        adv = lb.get("advancedConfiguration")
        if adv is None:
            continue
        if not adv.get("alternateTargetGroupArn") or not adv.get("productionListenerRule"):
            return "advancedConfiguration needs alternateTargetGroupArn and productionListenerRule."
        for rule in filter(None, (adv.get("productionListenerRule"), adv.get("testListenerRule"))):
            try:
                loadbalancers.check_associated(moto, rule, (lb.get("targetGroupArn"), adv["alternateTargetGroupArn"]))
            except loadbalancers.ListenerRuleError as err:
                return str(err)
    return ""
