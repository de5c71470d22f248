"""The measurements, as data: one dataclass per property the scenarios measure,
the rollout timeline the report draws, and the container that holds them per
approach.

Every field of a property is optional: separate scenarios (or separate xdist
workers) may each measure part of one property, e.g. version skew with version
consistency on in one test and off in another. ``collect`` merges the parts.
A field left ``None`` is "not measured" and the report says so; nothing is ever
filled in by hand.

The table's columns and how each column's winner is decided live in
``harness.metrics.columns``.

Over 400 lines on purpose: it is the one schema of the results (a dataclass per
measured property, each with its merge rule), read by the report, the JSONL
sink and the comparison; one file keeps that schema in one reading.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping, TypeVar

from harness.approaches import CDS

T = TypeVar("T", bound="Property")


class ResultsError(Exception):
    """Measurements that cannot be recorded or merged; the message says which."""


# --- the rollout timeline ----------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """The service at one moment: running tasks per image (label or digest) and
    how many of them are healthy. ``t`` is seconds since the failing deploy began."""

    t: float
    tasks: Mapping[str, int]
    healthy: int
    # blue/green family: the share of production traffic (%) each image gets, and the
    # lifecycle stage the deployment is in; empty for rolling updates
    traffic: Mapping[str, float] = field(default_factory=dict)
    stage: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", float(self.t))  # 30 and 30.0 must serialise alike
        if not math.isfinite(self.t):
            raise ResultsError(f"timeline sample time {self.t!r} is not a finite number")
        if self.healthy < 0 or any(n < 0 for n in self.tasks.values()):
            raise ResultsError(f"timeline sample at t={self.t} has a negative count: {dict(self.tasks)}, healthy {self.healthy}")

    @property
    def running(self) -> int:
        return sum(self.tasks.values())


# Moments the report marks on a timeline. Others are allowed and drawn unlabelled-coloured.
MARKER_KINDS = ("deploy", "failure", "decision", "recovery")


@dataclass(frozen=True)
class Marker:
    """A moment worth a vertical line: the deploy started, the failure became
    visible, CD (or the circuit breaker) decided to roll back, the service was
    steady on the known-good version again."""

    t: float
    kind: str
    label: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "t", float(self.t))


@dataclass(frozen=True)
class Timeline:
    """A failing deploy and its rollback, sampled.

    The input structure the report draws; ``harness.metrics.timeline_adapter``
    builds it from the simulator's recorder. ``images`` orders the images for the
    chart's legend (known-good first); images only seen in samples follow.
    """

    samples: tuple[Sample, ...]
    markers: tuple[Marker, ...] = ()
    desired: int | None = None
    images: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        times = [s.t for s in self.samples]
        if times != sorted(times):
            raise ResultsError("timeline samples must be in time order")

    def all_images(self) -> list[str]:
        seen = dict.fromkeys(self.images)
        for sample in self.samples:
            seen.update(dict.fromkeys(sorted(sample.tasks)))
        return list(seen)

    def lowest_healthy(self) -> int | None:
        return min((s.healthy for s in self.samples), default=None)

    def marker(self, kind: str) -> Marker | None:
        return next((m for m in self.markers if m.kind == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "samples": [{"t": s.t, "tasks": dict(sorted(s.tasks.items())), "healthy": s.healthy,
                         **({"traffic": dict(sorted(s.traffic.items()))} if s.traffic else {}),
                         **({"stage": s.stage} if s.stage else {})} for s in self.samples],
            "markers": [dataclasses.asdict(m) for m in self.markers],
            "desired": self.desired,
            "images": list(self.images),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Timeline":
        return cls(
            samples=tuple(Sample(float(s["t"]), dict(s["tasks"]), int(s["healthy"]), dict(s.get("traffic", {})),
                                 s.get("stage", "")) for s in data.get("samples", ())),
            markers=tuple(Marker(float(m["t"]), m["kind"], m.get("label", "")) for m in data.get("markers", ())),
            desired=data.get("desired"),
            images=tuple(data.get("images", ())),
        )


# --- properties ------------------------------------------------------------------


@dataclass
class Property:
    """Base of the measured properties. ``key`` names it in records and reports."""

    key: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        """The measured fields only (``None`` = not measured is left out)."""
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.name] = _plain(value)
        return out

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ResultsError(f"{cls.key}: unknown fields {sorted(unknown)}; known: {sorted(names)}")
        return cls(**cls._decode(dict(data)))

    # A field holding {name: part} -> how each part is read back from its dict.
    parts: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    @classmethod
    def _decode(cls, data: dict[str, Any]) -> dict[str, Any]:
        for name, read in cls.parts.items():
            if data.get(name) is not None:
                data[name] = {key: read(part) for key, part in data[name].items()}
        return data


def _plain(value: Any) -> Any:
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):  # an instance, not a dataclass itself
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


@dataclass(frozen=True)
class ResourceChange:
    """One resource a `terraform plan` would change, and which attributes."""

    address: str
    actions: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()


@dataclass
class DriftAfterDeploy(Property):
    """A real `terraform plan -detailed-exitcode` right after CD deployed: 0 no
    changes, 2 changes (drift)."""

    key: ClassVar[str] = "drift_after_deploy"
    plan_exit_code: int | None = None
    changes: list[ResourceChange] | None = None

    @property
    def drifted(self) -> bool | None:
        return None if self.plan_exit_code is None else self.plan_exit_code == 2

    @classmethod
    def _decode(cls, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("changes") is not None:
            data["changes"] = [
                ResourceChange(c["address"], tuple(c.get("actions", ())), tuple(c.get("attributes", ())))
                for c in data["changes"]
            ]
        return data


# When an infrastructure change reaches the running tasks.
REACHES = ("immediately", "next deploy", "never")


@dataclass(frozen=True)
class ClobberCase:
    """One infrastructure change applied by Terraform after a deploy."""

    image_deployed: str | None = None  # what CD deployed before the change
    image_after: str | None = None  # what the service runs after Terraform applied
    version_lost: bool | None = None  # image_after is not what CD deployed
    reaches_tasks: str | None = None  # one of REACHES
    seconds_to_reach: float | None = None  # simulated seconds until every task has it
    # The family's latest ACTIVE revision after the change, what an update to the
    # family (no revision number: the console's default) would run:
    family_latest_image: str | None = None  # the image as it names it ("app:v1")
    family_latest_version: str | None = None  # the version its tag resolves to
    declaration_lost: bool | None = None  # it no longer names what CD deployed


@dataclass
class Clobber(Property):
    """Deploy, then an infrastructure change through Terraform (memory, an
    environment variable, a secret ARN), one case per change."""

    key: ClassVar[str] = "clobber"
    cases: dict[str, ClobberCase] | None = None
    parts: ClassVar[dict[str, Callable[[Any], Any]]] = {"cases": lambda case: ClobberCase(**case)}


    @property
    def version_lost(self) -> bool | None:
        lost = [c.version_lost for c in (self.cases or {}).values() if c.version_lost is not None]
        return any(lost) if lost else None

    @property
    def declaration_lost(self) -> bool | None:
        lost = [c.declaration_lost for c in (self.cases or {}).values() if c.declaration_lost is not None]
        return any(lost) if lost else None

    @property
    def anything_lost(self) -> bool | None:
        """The running version or its declaration (the family's latest revision)."""
        answers = [v for v in (self.version_lost, self.declaration_lost) if v is not None]
        return any(answers) if answers else None

    @property
    def reaches_tasks(self) -> str | None:
        """The cases' answers, e.g. "next deploy" or "immediately (memory), never (secret)"."""
        answers = {name: c.reaches_tasks for name, c in sorted((self.cases or {}).items()) if c.reaches_tasks}
        if not answers:
            return None
        if len(set(answers.values())) == 1:
            return next(iter(answers.values()))
        return ", ".join(f"{answer} ({name})" for name, answer in answers.items())


@dataclass
class ExplicitVersion(Property):
    """Can the deployed version be read from the service's task definition?"""

    key: ClassVar[str] = "explicit_version"
    readable: bool | None = None
    image: str | None = None  # the image as the task definition names it
    pinned_by: str | None = None  # "tag", "digest" or "moving tag"


@dataclass
class Rollback(Property):
    """A failing deploy and its rollback to the known-good version."""

    key: ClassVar[str] = "rollback"
    simulated_seconds: float | None = None  # deploy start -> steady on known-good (on ``clock``), Terraform's part included
    terraform_seconds: float | None = None  # of which Terraform in CD's path (the profile's model; 0 if none)
    api_calls: int | None = None  # AWS API calls CD made (recorded)
    lowest_healthy: int | None = None
    desired: int | None = None
    recovered: bool | None = None  # steady on the known-good version at the end
    by: str | None = None  # who rolled back, as the matrix says: "cd", "ecs-circuit-breaker", "deploy tool", ...
    timeline: Timeline | None = None
    # the clock simulated_seconds were counted on: "virtual" (the simulator's; None in
    # results written before real backends) or "wall" (where tasks really ran)
    clock: str | None = None

    @property
    def total_seconds(self) -> float | None:
        """One clock: Terraform's seconds are already part of ``simulated_seconds``."""
        return self.simulated_seconds

    @classmethod
    def _decode(cls, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("timeline") is not None:
            data["timeline"] = Timeline.from_dict(data["timeline"])
        return data


@dataclass(frozen=True)
class RollbackCell:
    """One cell of the rollback matrix: an approach's CD against one failure
    mode on one deployment strategy, measured on the simulator."""

    mode: str  # a failure mode's key (harness.approaches.failures)
    strategy: str  # ROLLING | BLUE_GREEN
    recovered: bool  # back on the known-good version, every task, without a person
    seconds: float | None = None  # failing deploy's start -> steady on known good, Terraform included (None: not recovered)
    terraform_seconds: float = 0.0  # of which Terraform in CD's path (the profile's model, virtual seconds)
    lowest_healthy: int | None = None
    desired: int | None = None
    api_calls: int | None = None  # AWS API calls CD made (failing deploy and its rollback)
    human_steps: tuple[str, ...] = ()  # what a person must still do to get back to known good
    rollback_actions: tuple[str, ...] = ()  # the AWS actions CD's own rollback called, sorted ("" when none ran)
    final: str = ""  # where the service ended: "v3 (web:4)"
    rolled_back_by: str = ""  # "cd", "deploy tool", "ecs-circuit-breaker", "" (nobody)
    kept_infra_change: bool | None = None  # infra-change modes: does the service still run the change?
    note: str = ""  # one line: why this cell reads as it does
    timeline: Timeline | None = None
    cd: str = "article"  # which CD ran: the article's for the approach, or "capable" (harness.approaches.capable)

    @property
    def total_seconds(self) -> float | None:
        return self.seconds  # one clock: Terraform's part is in it

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)
               if getattr(self, f.name) is not None}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RollbackCell":
        data = dict(data)
        if data.get("timeline") is not None:
            data["timeline"] = Timeline.from_dict(data["timeline"])
        data["human_steps"] = tuple(data.get("human_steps", ()))
        data["rollback_actions"] = tuple(data.get("rollback_actions", ()))
        return cls(**data)




def cell_key(mode: str, strategy: str, cd: str = "article") -> str:
    """``mode/STRATEGY`` for the article's CD (the key results always had), ``mode/STRATEGY/capable``
    for the most capable CD the approach allows (``harness.approaches.capable``)."""
    if cd not in CDS:
        raise ResultsError(f"unknown CD {cd!r}: a cell runs one of {', '.join(CDS)}")
    return f"{mode}/{strategy}" if cd == "article" else f"{mode}/{strategy}/{cd}"


def split_cell_key(key: str) -> tuple[str, str, str]:
    """(mode, strategy, cd) of a ``cell_key``."""
    mode, strategy, *cd = key.split("/")
    return mode, strategy, cd[0] if cd else "article"


@dataclass
class RollbackMatrix(Property):
    """The rollback matrix: one cell per failure mode and strategy (``cell_key``)."""

    key: ClassVar[str] = "rollback_matrix"
    cells: dict[str, RollbackCell] | None = None
    parts: ClassVar[dict[str, Callable[[Any], Any]]] = {"cells": RollbackCell.from_dict}


    def cell(self, mode: str, strategy: str, cd: str = "article") -> RollbackCell | None:
        return (self.cells or {}).get(cell_key(mode, strategy, cd))


@dataclass(frozen=True)
class ProfileOutcome:
    """A rollback cell's answer under one timing profile: back without a person, and when."""

    recovered: bool
    seconds: float | None = None  # failing deploy's start -> steady on known good (None: not back)

    def to_dict(self) -> dict[str, Any]:
        return {"recovered": self.recovered} | ({"seconds": self.seconds} if self.seconds is not None else {})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "ProfileOutcome":
        return cls(recovered=bool(data["recovered"]), seconds=data.get("seconds"))


@dataclass
class Sensitivity(Property):
    """The rollback matrix's cells replayed under the other bundled timing profiles:
    profile name -> ``cell_key`` -> outcome. The run's own profile is in ``RollbackMatrix``."""

    key: ClassVar[str] = "sensitivity"
    outcomes: dict[str, dict[str, ProfileOutcome]] | None = None

    @classmethod
    def _decode(cls, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("outcomes") is not None:
            data["outcomes"] = {profile: {key: ProfileOutcome.from_dict(o) for key, o in cells.items()}
                                for profile, cells in data["outcomes"].items()}
        return data


@dataclass(frozen=True)
class ReleasedService:
    """One service of a release of several services, where it ended."""

    released: str  # the version the release deploys to it ("v4")
    known_good: str  # the version it ran before the release ("v3")
    ended_on: str  # the version(s) its running tasks run at the end ("v4", "v3", "v3 + v4", "nothing running")
    on_release: bool  # steady on the release's version at the end
    back_on_good: bool  # steady on the known-good version at the end
    back_at: float | None = None  # release's start -> steady on known good for good (None: not back)
    revision: str = ""  # the task definition the service names at the end ("s1234abcd:5")


@dataclass
class MultiServiceRelease(Property):
    """Several services released together (issue 41: web and worker, worker's
    release crashes): where each ended, and whether every one got back to known
    good without a person."""

    key: ClassVar[str] = "multi_service_release"
    procedure: str | None = None  # how CD released them, in a few words
    services: dict[str, ReleasedService] | None = None  # by role: "web", "worker"
    parts: ClassVar[dict[str, Callable[[Any], Any]]] = {"services": lambda service: ReleasedService(**service)}
    all_back: bool | None = None  # every service steady on its known good at the end, without a person
    seconds: float | None = None  # release's start -> the last service back, Terraform included (None unless all_back)
    terraform_seconds: float | None = None  # of which Terraform in CD's path (the profile's model, virtual seconds)
    human_steps: list[str] | None = None  # what a person must still do to get every service back
    note: str | None = None  # one line: why it reads as it does

    @property
    def left_on_release(self) -> list[str]:
        """The services that end on the failed release."""
        return [name for name, service in (self.services or {}).items() if service.on_release]

    @property
    def back_on_good(self) -> list[str]:
        return [name for name, service in (self.services or {}).items() if service.back_on_good]

    @property
    def total_seconds(self) -> float | None:
        return self.seconds  # one clock: Terraform's part is in it



@dataclass
class VersionSkew(Property):
    """Share of running tasks whose image digest differs from the one the
    service declares, during and after a scale-out around a deploy or a tag move."""

    key: ClassVar[str] = "version_skew"
    share_vc_on: float | None = None
    share_vc_off: float | None = None


@dataclass
class AutoscalingDrift(Property):
    """Auto scaling changed desiredCount; does `terraform plan` want it back?"""

    key: ClassVar[str] = "autoscaling_drift"
    drift: bool | None = None
    desired_count_ignored: bool | None = None
    plan_exit_code: int | None = None


@dataclass
class CdPermissions(Property):
    """What CD needed: IAM actions it called (recorded), Terraform state, git push."""

    key: ClassVar[str] = "cd_permissions"
    iam_actions: list[str] | None = None
    needs_terraform_state: bool | None = None
    needs_git_push: bool | None = None
    policy: dict[str, Any] | None = None


# Container settings the article's "sources of truth" table cares about.
CONFIG_SETTINGS = ("cpu", "memory", "environment", "secrets")


@dataclass
class ConfigOwnership(Property):
    """Which container settings Terraform owns (read from the configuration)."""

    key: ClassVar[str] = "config_ownership"
    terraform_owns: dict[str, bool] | None = None

    @property
    def owned_count(self) -> int | None:
        return None if self.terraform_owns is None else sum(bool(v) for v in self.terraform_owns.values())


PROPERTIES: dict[str, type[Property]] = {
    cls.key: cls
    for cls in (DriftAfterDeploy, Clobber, ExplicitVersion, Rollback, RollbackMatrix, Sensitivity, MultiServiceRelease,
                VersionSkew, AutoscalingDrift, CdPermissions, ConfigOwnership)
}


def property_class(key: str) -> type[Property]:
    try:
        return PROPERTIES[key]
    except KeyError:
        raise ResultsError(f"unknown property {key!r}; known: {', '.join(PROPERTIES)}") from None


# --- all results ---------------------------------------------------------------------


@dataclass
class Results:
    """Measured properties per approach, plus the parameters they were measured with.

    ``data`` holds the merged plain-JSON fields (approach -> property key ->
    fields); ``get`` gives the typed property.
    """

    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def phase_seconds(self, profile: str | None = None) -> float:
        """How far two measurements of the same thing may land apart on the simulator: where
        the deploy falls between two scheduler passes, and between two of CD's polls. Seconds
        closer than this say the same (a tie, no difference). ``profile``: under a timing profile
        the sensitivity pass replayed the matrix with (its recorded ``sensitivity`` parameters)."""
        replayed = (self.parameters.get("sensitivity") or {}).get(profile) if profile is not None else None
        simulator = replayed or self.parameters.get("simulator") or {}
        scenario = replayed or self.parameters.get("scenario") or {}
        return float(simulator.get("scheduler_interval") or 5.0) + float(scenario.get("poll_interval_seconds") or 5.0)

    def approaches(self) -> list[str]:
        """Approach names in the article's order (unknown names after, sorted)."""
        from harness.approaches import rank

        return sorted(self.data, key=lambda name: (rank(name), name))

    def get(self, approach: str, cls: type[T]) -> T | None:
        fields_ = self.data.get(approach, {}).get(cls.key)
        return None if fields_ is None else cls.from_dict(fields_)

    def add(self, approach: str, measured: Property, source: str = "") -> None:
        """Merge a (partial) measurement in; a field measured twice with different values is an error."""
        into = self.data.setdefault(approach, {}).setdefault(measured.key, {})
        deep_merge(into, measured.to_dict(), f"{approach}.{measured.key}", source)

    def add_parameters(self, parameters: Mapping[str, Any], source: str = "") -> None:
        deep_merge(self.parameters, _plain(dict(parameters)), "parameters", source)

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": _sorted(self.parameters), "approaches": {a: _sorted(self.data[a]) for a in self.approaches()}}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Results":
        results = cls(parameters=dict(data.get("parameters", {})))
        for approach, properties in data.get("approaches", {}).items():
            for key, fields_ in properties.items():
                results.add(approach, property_class(key).from_dict(fields_))
        return results


def _sorted(value: Any) -> Any:
    """Dicts with sorted keys, recursively: merge order must not show in output."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def deep_merge(into: dict[str, Any], new: Mapping[str, Any], where: str, source: str = "") -> None:
    """Merge ``new`` into ``into``: dicts key by key, anything else must be equal."""
    for key, value in new.items():
        path = f"{where}.{key}"
        if key not in into:
            into[key] = value
        elif isinstance(into[key], dict) and isinstance(value, Mapping):
            deep_merge(into[key], value, path, source)
        elif into[key] != value:
            origin = f" (from {source})" if source else ""
            raise ResultsError(f"{path} measured twice with different values: {into[key]!r} and {value!r}{origin}; "
                               "give each scenario its own field or run it once")
