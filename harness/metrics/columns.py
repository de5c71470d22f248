"""The comparison table's columns, as data: what each shows, which article claim
it checks, and how its winner is decided. Renderers only draw what is here.

Winner rules (``Column.better``):

- ``"lower"`` / ``"higher"``: the smallest / largest measured value wins;
- ``"false"`` / ``"true"``: approaches whose value is False / True win;
- ``None``: informational, no winner (e.g. *when* an infrastructure change
  reaches the tasks: immediately and at the next deploy are both defensible).

Only measured values take part. Ties share the win; simulated seconds within
``Results.phase_seconds`` of the best (a scheduler pass and a poll) tie. A column where fewer than
two approaches were measured, or where every measured value is the same, has
no winner: marking everyone would say nothing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Literal

from harness.metrics.results import (
    CONFIG_SETTINGS,
    AutoscalingDrift,
    CdPermissions,
    Clobber,
    ConfigOwnership,
    DriftAfterDeploy,
    ExplicitVersion,
    MultiServiceRelease,
    Property,
    Results,
    Rollback,
    RollbackMatrix,
    VersionSkew,
    split_cell_key,
)

Better = Literal["lower", "higher", "true", "false"] | None

NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    prop: type[Property]
    value: Callable[[Any], Any]  # property -> comparable value (None = not measured)
    better: Better
    claim: str  # the article's claim this column checks
    unit: str = ""
    display: Callable[[Any, Any], str] | None = None  # (value, property) -> text
    short: str = ""  # header where space is tight (the terminal)
    compact: Callable[[Any, Any], str] | None = None  # cell text where space is tight
    # seconds on the simulator: values within Results.phase_seconds of the best tie (where a deploy
    # falls between two scheduler passes is no difference between approaches)
    simulated_seconds: bool = False

    @property
    def short_title(self) -> str:
        return self.short or self.title

    def measure(self, results: Results, approach: str) -> tuple[Any, Any]:
        """(value, property) for one approach; value None when not measured."""
        prop = results.get(approach, self.prop)
        return (None if prop is None else self.value(prop)), prop

    def compact_text(self, value: Any, prop: Any) -> str:
        if value is None:
            return "–"
        if self.compact is not None:
            return self.compact(value, prop)
        return self.text(value, prop)

    def text(self, value: Any, prop: Any) -> str:
        if value is None:
            return NOT_MEASURED
        if self.display is not None:
            return self.display(value, prop)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:.1f}{self.unit}"
        return f"{value}{self.unit}"


def _drift_text(drifted: bool, prop: DriftAfterDeploy) -> str:
    if not drifted:
        return "none"
    changes = prop.changes or []
    where = "; ".join(
        c.address + (f" ({', '.join(c.attributes)})" if c.attributes else "") for c in changes
    )
    return f"yes: {where}" if where else "yes"


def _drift_compact(drifted: bool, prop: DriftAfterDeploy) -> str:
    return f"yes ({len(prop.changes or [])})" if drifted else "none"


def _lost_text(lost: bool, prop: Clobber) -> str:
    if not lost:
        return "no"
    if prop.version_lost:
        return "yes: the service runs " + ", ".join(sorted({c.image_after or "?" for c in (prop.cases or {}).values()
                                                            if c.version_lost}))
    names = sorted({c.family_latest_version or c.family_latest_image or "?"
                    for c in (prop.cases or {}).values() if c.declaration_lost})
    return f"declaration: the family's latest revision names {', '.join(names)}"


def _owned_compact(value: int, prop: ConfigOwnership) -> str:
    return f"{value}/{len(prop.terraform_owns or {})}"


def _percent(value: float, prop: Any) -> str:
    return f"{value * 100:.0f}%"


def _healthy_text(value: int, prop: Rollback) -> str:
    return f"{value}/{prop.desired}" if prop.desired is not None else str(value)


def _rollback_seconds_text(value: float, prop: Rollback) -> str:
    text = f"{prop.total_seconds:.1f} s"
    if prop.terraform_seconds:
        text += f" (of which {prop.terraform_seconds:.1f} s Terraform)"
    if prop.recovered is False:
        text += ", not recovered"
    return text


def _owned_text(value: int, prop: ConfigOwnership) -> str:
    owned = prop.terraform_owns or {}
    order = [k for k in CONFIG_SETTINGS if k in owned] + sorted(k for k in owned if k not in CONFIG_SETTINGS)
    missing = [k for k in order if not owned[k]]
    return f"{value}/{len(owned)}" + (f" (not {', '.join(missing)})" if missing else "")


def _recovered_seconds(prop: Rollback) -> float | None:
    # A rollback that never got back to known-good has no time to compare.
    if prop.recovered is False:
        return float("inf")
    return prop.total_seconds


def _release_value(prop: MultiServiceRelease) -> float | None:
    # A release that left a service off its known good has no time to compare: it ranks last.
    if prop.all_back is None:
        return None
    return prop.total_seconds if prop.all_back else float("inf")


def _release_text(value: float, prop: MultiServiceRelease) -> str:
    if prop.all_back:
        text = f"every service back on known good in {prop.total_seconds:.1f} s"
        return text + (f" (of which {prop.terraform_seconds:.1f} s Terraform)" if prop.terraform_seconds else "")
    left = prop.left_on_release
    text = f"{', '.join(left)} left on the failed release" if left else "not every service back on known good"
    steps = len(prop.human_steps or [])
    return text + f"; a person must take {steps} step{'s' if steps != 1 else ''}"


def _release_compact(value: float, prop: MultiServiceRelease) -> str:
    if prop.all_back:
        return f"✓ {prop.total_seconds:.0f} s"
    return "✗ " + (f"{', '.join(prop.left_on_release)} left" if prop.left_on_release else "not back")


def _recovered_share(cd: str) -> Callable[[RollbackMatrix], float | None]:
    """The share of the rollback matrix's failures ``cd`` brought back to known good without a person."""
    def share(prop: RollbackMatrix) -> float | None:
        cells = [c for key, c in (prop.cells or {}).items() if split_cell_key(key)[2] == cd]
        return sum(c.recovered for c in cells) / len(cells) if cells else None
    return share


def _recovered_text(cd: str) -> Callable[[float, RollbackMatrix], str]:
    def text(value: float, prop: RollbackMatrix) -> str:
        cells = [c for key, c in (prop.cells or {}).items() if split_cell_key(key)[2] == cd]
        return f"{sum(c.recovered for c in cells)}/{len(cells)}"
    return text


COLUMNS: tuple[Column, ...] = (
    Column("drift_after_deploy", "Drift after deploy", DriftAfterDeploy, lambda p: p.drifted, "false",
           "No Terraform changes are required to deploy; CD's revisions are not drift", display=_drift_text, short="TF drift after deploy",
           compact=_drift_compact),
    Column("version_lost", "Version lost on infra change", Clobber, lambda p: p.anything_lost, "false",
           "Infrastructure configuration changes could overwrite declaration of application artifact version "
           "(the running service's, or the family's latest revision's: what an update to the family would run)",
           display=_lost_text, short="Version lost"),
    Column("infra_change_reaches", "Infra change reaches tasks", Clobber, lambda p: p.reaches_tasks, None,
           "Terraform changes are picked up on the next deployment (template approach, by design)", short="Infra change reaches"),
    Column("explicit_version", "Explicit version", ExplicitVersion, lambda p: p.readable, "true",
           "Can declare an explicit application artifact version", short="Explicit version"),
    Column("rollback_seconds", "Rollback to known-good", Rollback, _recovered_seconds, "lower",
           "Allow speedy rollback to the last known-good version", unit=" s", display=_rollback_seconds_text, short="Rollback s",
           simulated_seconds=True),
    Column("recovered_article_cd", "Failures recovered, article's CD", RollbackMatrix, _recovered_share("article"),
           "higher", "Back on known good without a person, over the rollback matrix's failures, with the CD the "
           "article sketches for the approach (the article: \"all of the approaches described above still require "
           "manual intervention to resolve failed deployments\")", display=_recovered_text("article"),
           short="Recovered, article CD"),
    Column("recovered_capable_cd", "Failures recovered, most capable CD", RollbackMatrix, _recovered_share("capable"),
           "higher", "The same failures with the most capable CD the approach allows (a bake and alarms, a "
           "blue/green stop, following ECS's rollback): what is left is the approach's own limit",
           display=_recovered_text("capable"), short="Recovered, capable CD"),
    Column("rollback_api_calls", "Rollback API calls", Rollback, lambda p: p.api_calls, "lower",
           "How much CD does to get back: the AWS API calls of its rollback to known good (the article, on "
           "approach 1: \"rollbacks require re-updating the image tag before deploying\")", short="Rollback calls"),
    Column("lowest_healthy", "Lowest healthy", Rollback, lambda p: p.lowest_healthy, "higher",
           "A failed deploy must not take the service down", display=_healthy_text, short="Min healthy"),
    Column("multi_service_release", "Release of two services, one crashes", MultiServiceRelease, _release_value,
           "lower", "A release of several services is all or nothing: when worker's release crashes, web does not "
           "stay on the new version and no person has to act (issue 41, `ecs-template-deploy release`); seconds from "
           "the release's start until every service is back on known good",
           unit=" s", display=_release_text, short="2-service release", compact=_release_compact,
           simulated_seconds=True),
    Column("skew_vc_on", "Skew, version consistency on", VersionSkew, lambda p: p.share_vc_on, "lower",
           "ECS autoscaling is inconsistent if the tag changes separately from deployment (since 2024: not with version consistency)",
           display=_percent, short="Skew VC on"),
    Column("skew_vc_off", "Skew, version consistency off", VersionSkew, lambda p: p.share_vc_off, "lower",
           "ECS autoscaling is inconsistent if the tag changes separately from deployment", display=_percent, short="Skew VC off"),
    Column("autoscaling_drift", "Drift from auto scaling", AutoscalingDrift, lambda p: p.drift, "false",
           "Terraform's desired_count fights auto scaling unless ignored", short="AS drift"),
    Column("cd_iam_actions", "CD IAM actions", CdPermissions,
           lambda p: None if p.iam_actions is None else len(p.iam_actions), "lower",
           "What CD must be allowed to do: the IAM actions of its least-privilege policy, from the calls it made "
           "(the article, on approach 4: \"requires allowing CD tooling to apply Terraform changes\")",
           short="IAM actions"),
    Column("needs_state", "CD needs Terraform state", CdPermissions, lambda p: p.needs_terraform_state, "false",
           "Whether CD must read and write Terraform state, and so hold the credentials of everything it "
           "manages (the article, on approach 4: \"requires allowing CD tooling to apply Terraform changes\")",
           short="Needs TF state"),
    Column("needs_git_push", "CD needs git push", CdPermissions, lambda p: p.needs_git_push, "false",
           "Requires allowing CD tooling to push git commits", short="Needs git push"),
    Column("config_in_terraform", "Config in Terraform", ConfigOwnership, lambda p: p.owned_count, "higher",
           "All configuration is managed by Terraform", display=_owned_text, short="Config in TF",
           compact=_owned_compact),
)


def column(key: str) -> Column:
    for col in COLUMNS:
        if col.key == key:
            return col
    raise KeyError(f"unknown column {key!r}; known: {', '.join(c.key for c in COLUMNS)}")


def _rank(col: Column, value: Any) -> Any:
    """A sort key where smaller is better."""
    if col.better == "lower":
        return value
    if col.better == "higher":
        return -value
    if col.better == "true":
        return 0 if value else 1
    if col.better == "false":
        return 0 if not value else 1
    raise ValueError(f"column {col.key} has no winner rule")


def winners(results: Results, columns: tuple[Column, ...] = COLUMNS) -> dict[str, list[str]]:
    """Column key -> the approaches that win it (empty when there is no winner)."""
    out: dict[str, list[str]] = {}
    for col in columns:
        measured = {}
        if col.better is not None:
            for approach in results.approaches():
                value, _ = col.measure(results, approach)
                if value is not None:
                    measured[approach] = _rank(col, value)
        tie = results.phase_seconds() if col.simulated_seconds else 0.0
        best = min(measured.values()) if measured else 0.0
        if len(measured) < 2 or all(rank <= best + tie for rank in measured.values()):
            out[col.key] = []
            continue
        out[col.key] = [a for a, rank in measured.items() if rank <= best + tie]
    return out
