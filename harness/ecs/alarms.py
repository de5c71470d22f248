"""CloudWatch alarms as the simulator reads and drives them: moto's CloudWatch
backend in this process (a scenario moves an alarm with SetAlarmState, or an
image declared to drive one does)."""
from __future__ import annotations

from typing import Iterable

from harness.ecs.moto_state import MotoState


def states(moto: MotoState, account: str, region: str, names: Iterable[str]) -> dict[str, str]:
    """Alarm name -> OK | ALARM | INSUFFICIENT_DATA; an alarm that does not exist is missing."""
    alarms = moto.cloudwatch(account, region).alarms
    return {name: alarms[name].state_value for name in names if name in alarms}


def set_state(moto: MotoState, account: str, region: str, name: str, state: str, reason: str) -> None:
    backend = moto.cloudwatch(account, region)
    if name not in backend.alarms:
        raise ValueError(f"no CloudWatch alarm {name!r} in {account}/{region}: create it (PutMetricAlarm) before "
                         "declaring an image that drives it")
    backend.set_alarm_state(name, reason, "{}", state)
