"""The sensitivity section: the rollback matrix's rankings under every bundled
timing profile, and which of them hold.

The run's own profile gives the matrix (``RollbackMatrix``); ``--sensitivity``
replays its cells under the other bundled profiles (``Sensitivity``). Per column
and kind of CD, the approaches measured under every profile are ranked under each:
a ranking *holds* when no two of them swap places (one ahead of the other under
one profile, behind it under another); seconds closer than that profile's
``Results.phase_seconds`` (a scheduler pass and a poll of CD's) are a tie, not a place.
A cell that did not recover ranks behind every cell that did.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import combinations

from harness.approaches import CDS
from harness.metrics.results import ProfileOutcome, Results, RollbackMatrix, Sensitivity, cell_key
from harness.report.matrix import Matrix, MatrixColumn
from harness.report.table import short_label

ANCHOR = "sensitivity"


@dataclass(frozen=True)
class Ranking:
    """One column of the matrix, under one kind of CD, under every profile."""

    column: MatrixColumn
    cd: str
    outcomes: dict[str, dict[str, ProfileOutcome]]  # profile -> approach -> its outcome there
    winners: dict[str, tuple[str, ...]]  # profile -> the fastest approaches (ties shared)
    flips: tuple[str, ...]  # one line per pair of approaches that swap places

    @property
    def holds(self) -> bool:
        return not self.flips

    def winner_text(self, profile: str) -> str:
        """"5 template, 4a terraform-cd-app: 75 s", or "none back" where no approach recovered."""
        won = self.winners[profile]
        if not won:
            return "none back"
        seconds = self.outcomes[profile][won[0]].seconds
        if len(won) == len(self.outcomes[profile]):
            return f"all {len(won)} tie: {seconds:.0f} s"
        return f"{', '.join(short_label(a) for a in won)}: {seconds:.0f} s"


@dataclass(frozen=True)
class SensitivityView:
    profiles: tuple[str, ...]  # the run's own first, then the others in the order they were bundled
    rankings: tuple[Ranking, ...]
    partial: tuple[str, ...]  # approaches replayed under the other profiles in only some columns

    @property
    def held(self) -> int:
        return sum(r.holds for r in self.rankings)

    def summary(self) -> str:
        flipped = len(self.rankings) - self.held
        return (f"{self.held} of {len(self.rankings)} rankings hold under every profile"
                + (f"; {flipped} flip." if flipped else "."))


def _rank(outcome: ProfileOutcome) -> float:
    return outcome.seconds if outcome.recovered and outcome.seconds is not None else math.inf


def _ahead(a: ProfileOutcome, b: ProfileOutcome, tie: float) -> bool:
    """Is ``a`` a place ahead of ``b`` (more than a tie faster, or back where ``b`` is not)?"""
    ra, rb = _rank(a), _rank(b)
    return ra < rb and (math.isinf(rb) or rb - ra > tie)


def _seconds_text(outcome: ProfileOutcome) -> str:
    return f"{outcome.seconds:.0f} s" if outcome.recovered and outcome.seconds is not None else "not back"


def build_sensitivity(results: Results, matrix: Matrix | None) -> SensitivityView | None:
    """None when the run replayed nothing under another profile (no ``--sensitivity``)."""
    own = sorted(results.parameters.get("profile") or {})
    replayed = {a: s.outcomes for a in results.approaches()
                if (s := results.get(a, Sensitivity)) is not None and s.outcomes}
    if matrix is None or not replayed or len(own) != 1:
        return None
    from harness.ecs import profiles

    others = sorted({p for outcomes in replayed.values() for p in outcomes},
                    key=lambda p: (profiles.BUNDLED.index(p) if p in profiles.BUNDLED else len(profiles.BUNDLED), p))
    names = (own[0], *[p for p in others if p != own[0]])
    rankings = []
    keys_by_approach: dict[str, set[str]] = {}
    for col in matrix.columns:
        for cd in CDS:
            key = cell_key(col.mode, col.strategy, cd)
            outcomes: dict[str, dict[str, ProfileOutcome]] = {p: {} for p in names}
            for approach in results.approaches():
                cell = (results.get(approach, RollbackMatrix) or RollbackMatrix()).cell(col.mode, col.strategy, cd)
                under = {p: replayed.get(approach, {}).get(p, {}).get(key) for p in names[1:]}
                if cell is None or any(o is None for o in under.values()):
                    continue
                keys_by_approach.setdefault(approach, set()).add(key)
                outcomes[names[0]][approach] = ProfileOutcome(cell.recovered, cell.seconds)
                for p, o in under.items():
                    assert o is not None
                    outcomes[p][approach] = o
            if len(outcomes[names[0]]) >= 2:
                rankings.append(_ranking(results, col, cd, outcomes))
    partial = tuple(a for a in replayed if set((results.get(a, RollbackMatrix) or RollbackMatrix()).cells or {})
                    - keys_by_approach.get(a, set()))
    return SensitivityView(names, tuple(rankings), partial)


def _ranking(results: Results, col: MatrixColumn, cd: str, outcomes: dict[str, dict[str, ProfileOutcome]]) -> Ranking:
    ties = {p: results.phase_seconds(p) for p in outcomes}
    winners = {}
    for p, cells in outcomes.items():
        best = min((_rank(o) for o in cells.values()), default=math.inf)
        winners[p] = () if math.isinf(best) else tuple(a for a, o in cells.items() if _rank(o) <= best + ties[p])
    flips = []
    approaches = list(outcomes[next(iter(outcomes))])
    for a, b in combinations(approaches, 2):
        a_ahead = [p for p in outcomes if _ahead(outcomes[p][a], outcomes[p][b], ties[p])]
        b_ahead = [p for p in outcomes if _ahead(outcomes[p][b], outcomes[p][a], ties[p])]
        if a_ahead and b_ahead:
            own = next(iter(outcomes))
            if own in b_ahead:  # told from the run's own profile: who is ahead there, and where it falls behind
                a, b, a_ahead, b_ahead = b, a, b_ahead, a_ahead
            flips.append(f"{short_label(a)} is ahead of {short_label(b)} under {_profiles_seconds(outcomes, a_ahead, a, b)}, "
                         f"behind it under {_profiles_seconds(outcomes, b_ahead, a, b)}")
    return Ranking(col, cd, outcomes, winners, tuple(flips))


def _profiles_seconds(outcomes: dict[str, dict[str, ProfileOutcome]], chosen: list[str], a: str, b: str) -> str:
    return ", ".join(f"{p} ({_seconds_text(outcomes[p][a])} against {_seconds_text(outcomes[p][b])})" for p in chosen)


def intro(view: SensitivityView) -> str:
    own, others = view.profiles[0], view.profiles[1:]
    return (f"The rollback matrix again, under every bundled timing profile: `{own}` (this run's) and "
            f"{', '.join(f'`{p}`' for p in others)} (docs/timing-profiles.md). Per column and kind of CD, a ranking "
            "holds when no two approaches swap places under any profile; seconds closer than a scheduler pass and a "
            f"poll of CD's are a tie. {view.summary()}")


def partial_text(view: SensitivityView) -> str:
    """Which approaches were replayed in only some columns (``--sensitivity quick``), and how to replay all."""
    if not view.partial:
        return ""
    return (f"{', '.join(short_label(a) for a in view.partial)}: replayed under the other profiles in part of the "
            "columns (the crash column): they run on their own Terraform configuration, not a boto3 stand-in, so each "
            "replayed cell costs seconds of wall time; `harness compare --sensitivity full` replays every cell. "
            "Elsewhere they are in the matrix under this run's profile only.")


def header(view: SensitivityView) -> tuple[str, ...]:
    return ("Column", "CD", *[f"{p} (this run)" if i == 0 else p for i, p in enumerate(view.profiles)], "Ranking")


def row_texts(view: SensitivityView, ranking: Ranking) -> tuple[str, ...]:
    col = ranking.column
    cd = "article's" if ranking.cd == CDS[0] else "most capable"
    verdict = "holds" if ranking.holds else "flips: " + "; ".join(ranking.flips)
    return (f"{col.title} ({col.strategy_label})", cd, *[ranking.winner_text(p) for p in view.profiles], verdict)
