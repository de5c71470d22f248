"""What to pick: a short decision guide derived from one run's results.

Each line is a constraint a team may have, the approaches that meet it in this
run, and the measurement that says so, with a link to the evidence. Nothing is
written by hand: change a measurement and the guide changes with it. A
constraint no scenario of the run measured says so instead of guessing.

Where the CD makes the difference (an alarm after the release, blue/green), the
line says which CD: the one the article sketches, or the most capable one the
approach allows (``harness.approaches.capable``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from harness.metrics.results import (
    CONFIG_SETTINGS,
    AutoscalingDrift,
    CdPermissions,
    ConfigOwnership,
    ExplicitVersion,
    Property,
    Results,
    VersionSkew,
)
from harness.report.matrix import CDS, Matrix, row_approach, row_id
from harness.report.table import approach_label


@dataclass(frozen=True)
class Advice:
    constraint: str  # "You must name the deployed version"
    meets: tuple[str, ...]  # the approaches that meet it, in the table's order
    measured: str  # the measurement behind it, in one sentence
    evidence: str  # an anchor in report.md / report.html

    @property
    def answer(self) -> str:
        return ", ".join(approach_label(a) for a in self.meets) if self.meets else "none measured here"


def _short(name: str) -> str:
    label = approach_label(name)
    return label.split(" ", 1)[0] if label[:1].isdigit() else label


def _by_property(results: Results, approaches: list[str], constraint: str, prop: type[Property],
                 ok: Callable[[Any], bool | None], fails: Callable[[str, Any], str], evidence: str) -> Advice | None:
    """An advice from one property per approach: ``ok(prop)`` True meets it, False does not, None unmeasured."""
    verdicts: dict[str, tuple[bool, Any]] = {}
    for approach in approaches:
        found = results.get(approach, prop)
        verdict = ok(found) if found is not None else None
        if verdict is not None:
            verdicts[approach] = (verdict, found)
    if not verdicts:
        return None
    meets = tuple(a for a, (verdict, _) in verdicts.items() if verdict)
    misses = [fails(a, found) for a, (verdict, found) in verdicts.items() if not verdict]
    measured = "; ".join(misses) if misses else "every approach measured meets it"
    return Advice(constraint, meets, measured, evidence)


def _matrix_advice(matrix: Matrix | None, constraint: str, strategy: str | None, mode: str | None) -> Advice | None:
    """Approaches whose most capable CD (or their only CD) brought every failure of the chosen
    columns back without a person; the first column's seconds under both CDs beside it."""
    if matrix is None:
        return None
    columns = [c for c in matrix.columns if (strategy is None or c.strategy == strategy) and (mode is None or c.mode == mode)]
    if not columns:
        return None
    first = columns[0]
    approaches = [r for r in matrix.approaches if row_approach(r)[1] == CDS[0]]
    meets, article_meets, capable_s, article_s = [], [], {}, {}
    for approach in approaches:
        capable_row = row_id(approach, CDS[1])
        row = capable_row if capable_row in matrix.approaches else approach
        measured = [c for c in (matrix.entry(row, col).cell for col in columns) if c is not None]
        if not measured:
            continue
        capable_s[approach] = matrix.entry(row, first).text
        article_s[approach] = matrix.entry(approach, first).text
        if all(c.recovered for c in measured):
            meets.append(approach)
        article = [matrix.entry(approach, col).cell for col in columns]
        if all(c is not None and c.recovered for c in article):
            article_meets.append(approach)
    if not capable_s:
        return None
    title = f"{first.title} ({first.strategy_label})"
    both = "; ".join(f"{_short(a)}: {capable_s[a]}" + (f" (article's CD: {article_s[a]})" if article_s[a] != capable_s[a] else "")
                     for a in capable_s)
    with_article = ", ".join(_short(a) for a in article_meets) or "none"
    measured_text = (f"back on known good without a person in every such failure with the most capable CD the approach "
                     f"allows; with the CD the article sketches: {with_article}. {title}: {both}")
    return Advice(constraint, tuple(meets), measured_text, f"mode-{first.mode}")


@dataclass(frozen=True)
class Guide:
    advice: tuple[Advice, ...]
    every: tuple[str, ...]  # the approaches that meet every line, in the table's order


def what_to_pick(results: Results, matrix: Matrix | None) -> Guide:
    """The guide: one advice per constraint this run measured."""
    approaches = list(results.approaches())
    found = [
        _by_property(results, approaches, "You must read the deployed version off the task definition", ExplicitVersion,
                     lambda p: p.readable,
                     lambda a, p: f"{_short(a)} names {p.image or 'no image'}" + (f" ({p.pinned_by})" if p.pinned_by else ""),
                     "col-explicit_version"),
        _by_property(results, approaches, "All container settings (CPU, memory, environment, secrets) must live in "
                     "Terraform", ConfigOwnership,
                     lambda p: None if p.terraform_owns is None else all(p.terraform_owns.values()),
                     lambda a, p: f"{_short(a)} leaves {', '.join(_not_owned(p))} outside Terraform",
                     "col-config_in_terraform"),
        _by_property(results, approaches, "CD may not hold Terraform state or push commits", CdPermissions,
                     lambda p: None if p.needs_terraform_state is None else not (p.needs_terraform_state or p.needs_git_push),
                     lambda a, p: f"{_short(a)} CD needs " + " and ".join(
                         w for w, on in (("Terraform state", p.needs_terraform_state), ("git push", p.needs_git_push)) if on),
                     "col-needs_state"),
        _autoscaling(results, approaches),
        _matrix_advice(matrix, "You deploy with ECS's own blue/green", "BLUE_GREEN", None),
        _matrix_advice(matrix, "An alarm may fire after the release completed, and must bring it back",
                       None, "alarm-after-release"),
    ]
    advice = tuple(a for a in found if a is not None)
    every = tuple(a for a in approaches if advice and all(a in x.meets for x in advice))
    return Guide(advice, every)


def _not_owned(prop: ConfigOwnership) -> list[str]:
    """The settings Terraform does not own, in the table's order (as the column says them)."""
    owned = prop.terraform_owns or {}
    order = [k for k in CONFIG_SETTINGS if k in owned] + sorted(k for k in owned if k not in CONFIG_SETTINGS)
    return [k for k in order if not owned[k]]


def _autoscaling(results: Results, approaches: list[str]) -> Advice | None:
    def ok(approach: str) -> bool | None:
        drift, skew = results.get(approach, AutoscalingDrift), results.get(approach, VersionSkew)
        if drift is None or drift.drift is None:
            return None
        return not drift.drift and (skew is None or not (skew.share_vc_off or skew.share_vc_on))

    verdicts = {a: v for a in approaches if (v := ok(a)) is not None}
    if not verdicts:
        return None
    misses = []
    for approach, verdict in verdicts.items():
        if verdict:
            continue
        drift, skew = results.get(approach, AutoscalingDrift), results.get(approach, VersionSkew)
        why = []
        if drift is not None and drift.drift:
            why.append("terraform plan puts desired_count back")
        if skew is not None and skew.share_vc_off:
            why.append(f"{skew.share_vc_off:.0%} of tasks started by a scale-out run another image (version consistency off)")
        misses.append(f"{_short(approach)}: {' and '.join(why)}")
    return Advice("The service scales automatically (Application Auto Scaling)", tuple(a for a, v in verdicts.items() if v),
                  "; ".join(misses) or "every approach measured meets it", "col-autoscaling_drift")


def markdown_lines(guide: Guide) -> list[str]:
    if not guide.advice:
        return []
    lines = ["## What to pick", "", "From this run's measurements (nothing here is typed in): a constraint your team has, "
             "the approaches that meet it, and what was measured.", "",
             "| If | Pick | Measured |", "|---|---|---|"]
    for advice in guide.advice:
        lines.append(f"| {advice.constraint} | {advice.answer} | {advice.measured.replace('|', '/')} "
                     f"([evidence](#{advice.evidence})) |")
    return lines + ["", f"Meets every line above: {every_text(guide)}.", ""]


def every_text(guide: Guide) -> str:
    return ", ".join(approach_label(a) for a in guide.every) if guide.every else "no approach"


def terminal_lines(guide: Guide) -> list[str]:
    """The guide for a terminal: one line per constraint, then what meets them all."""
    if not guide.advice:
        return []
    return (["What to pick (from this run; the measurements: report.md, 'What to pick'):"]
            + [f"  {advice.constraint}: {advice.answer}" for advice in guide.advice]
            + [f"  Meets every line: {every_text(guide)}"])
