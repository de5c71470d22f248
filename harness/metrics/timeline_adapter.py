"""From the simulator's timeline recorder (``harness.ecs.timeline``) to the
report's ``Timeline``: one service, times relative to the failing deploy,
running tasks per image, healthy count, and the marked moments.

The recorder keeps, per service and scheduler pass, ``runningByDigest``
(digest -> running tasks), ``healthy``, ``desired`` and per deployment
``failedTasks``; and the service events. The moments come from them:

- ``failure``: the first sample after ``start`` where a deployment has a failed task;
- ``decision``: the circuit breaker's "rolling back" event, unless the scenario
  passes the moment CD decided (``markers``), which then wins;
- ``recovery``: the first "has reached a steady state" event after the decision
  (or after the failure when there was no decision).

``labels`` turns digests into names people read (``{"sha256:ab..": "app:v1"}``);
an unlabelled digest shows as its first 12 hex digits.
"""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from harness.metrics.results import MARKER_KINDS, Marker, Sample, Timeline

STEADY = "has reached a steady state"
CIRCUIT_BREAKER_ROLLBACK = "rolling back to deployment"


def from_recorder(
    recorder: Any,
    service: str,
    *,
    start: float,
    end: float | None = None,
    labels: Mapping[str, str] | None = None,
    markers: Iterable[Marker] = (),
) -> Timeline:
    """Build the report's timeline of ``service`` from ``start`` (the failing
    deploy's moment on the virtual clock) to ``end`` (default: the last sample).

    ``recorder`` is a ``harness.ecs.timeline.Timeline`` or its ``as_dict()``;
    ``markers`` are moments the scenario knows (e.g. CD's rollback decision),
    with ``t`` on the same virtual clock as ``start``.
    """
    data = recorder.as_dict() if hasattr(recorder, "as_dict") else recorder
    labels = dict(labels or {})
    samples_in = [s for s in data.get("samples", []) if s.get("service") == service]
    if not samples_in:
        known = sorted({s.get("service") for s in data.get("samples", [])})
        raise ValueError(f"the timeline has no samples of service {service!r}; services sampled: {known}")
    # The state at `start` is the last sample at or before it.
    before = [s for s in samples_in if s["t"] <= start]
    window = ([before[-1]] if before else []) + [s for s in samples_in if start < s["t"] and (end is None or s["t"] <= end)]
    samples = []
    order: dict[str, None] = {}
    for s in window:
        tasks: dict[str, int] = {}
        for digest, count in s.get("runningByDigest", {}).items():
            label = labels.get(digest) or _short(digest)
            tasks[label] = tasks.get(label, 0) + count
            order.setdefault(label)
        traffic: dict[str, float] = {}
        stage = ""
        for d in s.get("deployments", []):
            if "productionWeight" in d:
                label = labels.get(d["digests"]) or _short(d["digests"])
                traffic[label] = traffic.get(label, 0.0) + d["productionWeight"]
            stage = d.get("lifecycleStage", stage)
        samples.append(Sample(max(0.0, s["t"] - start), tasks, s.get("healthy", 0), traffic, stage))

    given = {m.kind: Marker(m.t - start, m.kind, m.label) for m in markers}
    found: dict[str, Marker] = {"deploy": Marker(0.0, "deploy", "deploy starts")}
    failed = next((s for s in window if s["t"] > start and any(d.get("failedTasks", 0) for d in s.get("deployments", []))), None)
    if failed is not None:
        found["failure"] = Marker(failed["t"] - start, "failure", "first task failed")
    events = [e for e in data.get("events", []) if e.get("service") == service and e["t"] >= start
              and (end is None or e["t"] <= end)]
    breaker = next((e for e in events if CIRCUIT_BREAKER_ROLLBACK in e["message"]), None)
    if breaker is not None:
        found["decision"] = Marker(breaker["t"] - start, "decision", "circuit breaker rolls back")
    found.update(given)
    after = found.get("decision") or found.get("failure")
    if after is not None:
        steady = next((e for e in events if STEADY in e["message"] and e["t"] - start >= after.t), None)
        if steady is not None and "recovery" not in given:
            found["recovery"] = Marker(steady["t"] - start, "recovery", "steady on known-good")
    rank = {kind: i for i, kind in enumerate(MARKER_KINDS)}  # same moment: failure before decision
    ordered = sorted(found.values(), key=lambda m: (m.t, rank.get(m.kind, len(rank)), m.kind))
    desired = window[0].get("desired") if window else None
    images = tuple(labels[d] for d in labels if labels[d] in order) + tuple(i for i in order if i not in labels.values())
    return Timeline(samples=tuple(samples), markers=tuple(ordered), desired=desired, images=images)


def _short(digest: str) -> str:
    parts = []
    for one in digest.split(","):
        parts.append(one.split(":", 1)[-1][:12] if one.startswith("sha256:") else one)
    return ",".join(parts)
