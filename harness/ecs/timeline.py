"""The timeline recorder: what the service looked like over time, for metrics
and the report. A sample is taken every scheduler pass and kept only when it
differs from the previous one for that service; events are kept as logged.

`to_json()` is byte-identical for the same scenario and seed.
"""
from __future__ import annotations

import json

from harness.ecs.services import PRIMARY, SimulatedService
from harness.ecs.tasks import ALIVE, PENDING, RUNNING


def traffic(service: SimulatedService) -> dict[str, tuple[float, float]]:
    """Deployment id -> (production %, test %) while a blue/green-family deployment
    moves traffic; empty otherwise (rolling updates balance over every task).
    Only the PRIMARY deployment's shift counts: one a newer deployment superseded
    stays IN_PROGRESS while it drains, but the listener follows the newer one."""
    for d in service.deployments:
        shift = d.shift
        if d.status == PRIMARY and shift is not None and not shift.rolled_back and d.rollout_state == "IN_PROGRESS":
            return {d.id: (shift.production, shift.test), shift.blue.id: (100 - shift.production, 100 - shift.test)}
    return {}


def snapshot(service: SimulatedService) -> dict:
    deployments = []
    digests: dict[str, int] = {}
    shares = traffic(service)
    for d in service.deployments:
        alive = [t for t in d.tasks if t.last_status in ALIVE]
        deployments.append({
            "id": d.id,
            "status": d.status,
            "rolloutState": d.rollout_state,
            "taskDefinition": d.task_definition_arn,
            "running": sum(1 for t in alive if t.last_status == RUNNING),
            "pending": sum(1 for t in alive if t.last_status == PENDING),
            "draining": sum(1 for t in alive if not t.wanted),
            "healthy": sum(1 for t in alive if t.healthy),
            "failedTasks": d.failed_tasks,
        })
        if shares:
            production, test = shares.get(d.id, (0.0, 0.0))
            # the key runningByDigest uses (the digests in container order), to name the image
            deployments[-1].update(productionWeight=production, testWeight=test,
                                   digests=",".join(digest or "?" for digest in d.digests.values()))
            if d.shift is not None and d.status == PRIMARY:  # green's stage, not blue's finished one
                deployments[-1]["lifecycleStage"] = d.shift.stage
        for t in alive:
            if t.last_status == RUNNING:
                key = ",".join(c.digest or "?" for c in t.containers)
                digests[key] = digests.get(key, 0) + 1
    return {
        "service": service.name,
        "desired": service.desired_count,
        "running": sum(d["running"] for d in deployments),
        "healthy": sum(d["healthy"] for d in deployments),
        "deployments": deployments,
        "runningByDigest": dict(sorted(digests.items())),
    }


class Timeline:
    def __init__(self) -> None:
        self.samples: list[dict] = []
        self.events: list[dict] = []
        self._last: dict[str, dict] = {}

    def sample(self, now: float, service: SimulatedService) -> None:
        snap = snapshot(service)
        if self._last.get(service.arn) == snap:
            return
        self._last[service.arn] = snap
        self.samples.append({"t": now, **snap})

    def event(self, now: float, service_name: str, message: str) -> None:
        self.events.append({"t": now, "service": service_name, "message": message})

    def messages(self, service_name: str | None = None) -> list[str]:
        return [e["message"] for e in self.events if service_name in (None, e["service"])]

    def as_dict(self) -> dict:
        return {"samples": self.samples, "events": self.events}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
