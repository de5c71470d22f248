"""What the article said, and what this run measured: one line per claim, each
with a verdict (yes / no / partly / not measured) decided from the results and a
link to the section that holds the evidence. A claim is data: the words quoted,
and a function of the results that returns the verdict and one line of why.

The article's words about one approach are that approach's (``Claims.quotes``, in
its package): the judges here are written once per kind of claim and given the
approach whose claims quote it, so no approach is named here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from harness.approaches import Entry, rows
from harness.metrics.results import Clobber, DriftAfterDeploy, Results, VersionSkew
from harness.report.matrix import Matrix
from harness.report.table import approach_label

YES, NO, PARTLY, UNMEASURED = "yes", "no", "partly", "not measured"


@dataclass(frozen=True)
class Verdict:
    verdict: str
    measured: str


@dataclass(frozen=True)
class Claim:
    key: str
    who: str  # whose claim: "the article", "approach 2"...
    said: str  # the article's words
    evidence: str  # the anchor of the section with the evidence ("rollback-matrix", "details-ignore-changes")
    judge: Callable[[Results, Matrix | None], Verdict]


def _manual_intervention(results: Results, matrix: Matrix | None) -> Verdict:
    if matrix is None:
        return Verdict(UNMEASURED, "no rollback matrix in this run")
    alone, person = 0, 0
    by_approach: dict[str, int] = {}
    for (approach, _), entry in matrix.entries.items():
        if entry.cell is None or entry.cell.cd != "article":  # the article speaks of the CDs it sketches
            continue
        if entry.cell.recovered:
            alone += 1
        else:
            person += 1
            by_approach[approach] = by_approach.get(approach, 0) + 1
    total = alone + person
    if not total:
        return Verdict(UNMEASURED, "no cell measured")
    verdict = YES if alone == 0 else (NO if person == 0 else PARTLY)
    who = ", ".join(f"{approach_label(a)} ({n})" for a, n in sorted(by_approach.items())) or "none"
    return Verdict(verdict, f"{alone} of {total} failing deploys got back to known good without a person with the "
                            "CD the article sketches (ECS's circuit breaker, on in every configuration, and CD's own "
                            "rollback); "
                            f"a person must act in {person}: {who}")


def _speedy_rollback(results: Results, matrix: Matrix | None, row: Entry) -> Verdict:
    name = row.name
    if matrix is None or name not in matrix.approaches:
        return Verdict(UNMEASURED, f"the {name} approach's rollback was not measured")
    mine = [(col, matrix.entry(name, col)) for col in matrix.columns]
    measured = [(col, e) for col, e in mine if e.cell is not None]
    if not measured:
        return Verdict(UNMEASURED, f"the {name} approach's rollback was not measured")
    recovered = sum(1 for _, e in measured if e.cell is not None and e.cell.recovered)
    contested = [col for col, _ in measured if matrix.winners.get(col.key)]
    won = [col for col in contested if name in matrix.winners[col.key]]
    verdict = YES if recovered == len(measured) and len(won) * 2 >= len(contested) else (
        NO if recovered == 0 else PARTLY)
    return Verdict(verdict, f"back to known good without a person in {recovered} of {len(measured)} failure modes "
                            f"and strategies; fastest (or tied) in {len(won)} of the {len(contested)} columns "
                            "that had a winner")


def _declaration_overwritten(results: Results, matrix: Matrix | None, row: Entry) -> Verdict:
    clobber = results.get(row.name, Clobber)
    cases = (clobber.cases or {}) if clobber is not None else {}
    if not cases:
        return Verdict(UNMEASURED, f"approach {row.section}'s infrastructure change was not measured")
    running_lost = any(c.version_lost for c in cases.values())
    declared = {c.family_latest_version or c.family_latest_image for c in cases.values() if c.declaration_lost}
    if running_lost:
        return Verdict(YES, "the running service lost the deployed version")
    if declared:
        return Verdict(PARTLY, "the running service keeps the deployed v3 (its task_definition is ignored), but "
                               f"the family's latest revision now names {', '.join(sorted(map(str, declared)))}, "
                               "Terraform's image: an update to the family's latest (the console's default) "
                               "would deploy it, and the change itself waits for the next deploy")
    return Verdict(NO, "neither the running service nor the family's latest revision lost v3")


def _rollback_moves_tag(results: Results, matrix: Matrix | None, row: Entry) -> Verdict:
    name = row.name
    if matrix is None or name not in matrix.approaches:
        return Verdict(UNMEASURED, f"approach {row.section}'s rollback was not measured")
    rollbacks = [e.cell for col in matrix.columns if (e := matrix.entry(name, col)).cell is not None
                 and e.cell.rollback_actions]
    if not rollbacks:
        return Verdict(UNMEASURED, f"approach {row.section}'s CD never rolled back in this run")
    moved = sum(1 for c in rollbacks if "ecr:PutImage" in c.rollback_actions)
    others = sorted({approach_label(a) for (a, _), e in matrix.entries.items() if a != name
                     and e.cell is not None and e.cell.cd == "article" and "ecr:PutImage" in e.cell.rollback_actions})
    verdict = YES if moved == len(rollbacks) else (NO if moved == 0 else PARTLY)
    return Verdict(verdict, f"CD's rollback wrote the tag (ecr:PutImage) before redeploying in {moved} of "
                            f"{len(rollbacks)} rollbacks; other approaches whose rollback wrote to ECR: "
                            f"{', '.join(others) or 'none'}")


def _no_terraform_to_deploy(results: Results, matrix: Matrix | None, row: Entry) -> Verdict:
    drift = results.get(row.name, DriftAfterDeploy)
    if drift is None or drift.drifted is None:
        return Verdict(UNMEASURED, "terraform plan after a deploy did not run")
    return Verdict(NO if drift.drifted else YES, f"terraform plan after the tool's deploy: exit {drift.plan_exit_code}")


def _next_deployment(results: Results, matrix: Matrix | None, row: Entry) -> Verdict:
    name = row.name
    clobber = results.get(name, Clobber)
    reaches = clobber.reaches_tasks if clobber is not None else None
    if reaches is None:
        return Verdict(UNMEASURED, f"the {name} approach's infrastructure change was not measured")
    cell = None
    if matrix is not None and name in matrix.approaches:
        cell = next((matrix.entry(name, c).cell for c in matrix.columns
                     if c.mode == "infra-change-then-fail" and matrix.entry(name, c).cell is not None), None)
    lost_on_rollback = cell is not None and cell.kept_infra_change is False
    text = f"the change reached the tasks: {reaches}"
    if lost_on_rollback:
        text += ("; but a rollback right after it goes back to a revision from before the change, so the change is "
                 "off again until the next deploy")
    return Verdict(YES if reaches == "next deploy" and not lost_on_rollback else (PARTLY if reaches == "next deploy" else NO),
                   text)


def _autoscaling_tag(results: Results, matrix: Matrix | None, row: Entry) -> Verdict:
    skew = results.get(row.name, VersionSkew)
    if skew is None or skew.share_vc_off is None:
        return Verdict(UNMEASURED, f"approach {row.section}'s scale-out after a tag move was not measured")
    off, on = skew.share_vc_off, skew.share_vc_on
    if off > 0 and (on is None or on == 0):
        return Verdict(PARTLY, f"with version consistency off {off:.0%} of tasks ran another image; with it on "
                               f"(ECS's default since 2024) {0 if on is None else on:.0%}")
    return Verdict(YES if off > 0 else NO, f"tasks on another image: {off:.0%} (version consistency off)")


# The article's general claim, about every approach it compares.
MANUAL_INTERVENTION = Claim("manual-intervention", "the article", "All of the approaches described above still "
                            "require manual intervention to resolve failed deployments", "rollback-matrix",
                            _manual_intervention)

# Claims about one approach, in the order the report lists them: key -> (where the
# evidence is, "details" meaning the approach's own section; the judge). The words
# and the approach are the approach's (its ``Claims.quotes`` has the key).
JUDGES: tuple[tuple[str, str, Callable[[Results, Matrix | None, Entry], Verdict]], ...] = (
    ("speedy-rollback", "rollback-matrix", _speedy_rollback),
    ("declaration-overwritten", "details", _declaration_overwritten),
    ("rollback-moves-tag", "rollback-matrix", _rollback_moves_tag),
    ("no-terraform-to-deploy", "details", _no_terraform_to_deploy),
    ("next-deployment", "details", _next_deployment),
    ("autoscaling-tag", "details", _autoscaling_tag),
)


def _about(judge: Callable[[Results, Matrix | None, Entry], Verdict],
           row: Entry) -> Callable[[Results, Matrix | None], Verdict]:
    """``judge`` of ``row``'s claim."""
    return lambda results, matrix: judge(results, matrix, row)


def claims() -> tuple[Claim, ...]:
    """Every claim the report judges: the article's general one, then each approach's
    quoted claims (the built-in approaches' article, in the table's order)."""
    out = [MANUAL_INTERVENTION]
    for key, evidence, judge in JUDGES:
        for row in rows():
            said = row.claims.quotes.get(key)
            if said is not None:
                out.append(Claim(key, f"approach {row.section} ({row.title})", said,
                                 f"details-{row.name}" if evidence == "details" else evidence, _about(judge, row)))
    return tuple(out)


def judge_all(results: Results, matrix: Matrix | None) -> list[tuple[Claim, Verdict]]:
    return [(claim, claim.judge(results, matrix)) for claim in claims()]
