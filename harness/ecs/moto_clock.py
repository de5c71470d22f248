"""moto's other services on the simulator's clock: the times CloudWatch alarms,
ELBv2 load balancers and target groups, and CodeDeploy applications and
deployments are stamped with.

Answers carry the simulator's time in their Date header, and ECS's own times
come from it; moto stamps these with the wall clock, so a client saw a load
balancer created a year after the service that uses it. While a simulator is
routed (`api.install`), the module-level clock functions those moto modules
imported answer from the newest simulator's clock; `restore` puts moto's back.
"""
from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable
from typing import Any

_saved: dict[tuple[str, str], Any] = {}


def _iso(now: Callable[[], datetime.datetime]) -> Callable[..., str]:
    def iso_8601_datetime_with_milliseconds(value: datetime.datetime | None = None) -> str:
        return (value or now()).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    return iso_8601_datetime_with_milliseconds


# (module, the name it imported) -> a replacement built from "now" (a naive UTC datetime)
_PATCHED: list[tuple[str, str, Callable[[Callable[[], datetime.datetime]], Any]]] = [
    ("moto.cloudwatch.models", "utcnow", lambda now: now),
    ("moto.elbv2.models", "iso_8601_datetime_with_milliseconds", _iso),
    ("moto.codedeploy.models", "iso_8601_datetime_with_milliseconds", _iso),
]


def install(now_epoch: Callable[[], float | None]) -> None:
    """`now_epoch()`: the routed simulator's time, or None when none is (moto's own clock then)."""
    from moto.core.utils import utcnow as wall_now

    def now() -> datetime.datetime:
        epoch = now_epoch()
        if epoch is None:
            return wall_now()
        return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).replace(tzinfo=None)

    for module_name, attribute, build in _PATCHED:
        module = importlib.import_module(module_name)
        _saved.setdefault((module_name, attribute), getattr(module, attribute))
        setattr(module, attribute, build(now))


def restore() -> None:
    for (module_name, attribute), original in _saved.items():
        setattr(importlib.import_module(module_name), attribute, original)
    _saved.clear()
