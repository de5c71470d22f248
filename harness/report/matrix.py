"""The rollback matrix as plain data for the writers: one column per failure mode
and strategy, one row per approach and CD (the article's CD for it, then the most
capable CD it allows, ``harness.approaches.capable``), each cell shaded by how it
did against the column's best. Titles and descriptions come from the results'
parameters (``failure_modes``), so a report can be rebuilt from report.json alone.

Winner rule, as in the main table, among rows of the same kind of CD (an
approach is compared with the others under the same CD capability): the lowest
seconds to known good wins; a cell that did not recover ranks last; cells within
``Results.phase_seconds`` of the best tie and share; no winner when fewer than
two were measured or all tie.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.approaches import CDS
from harness.metrics.results import Results, RollbackCell, RollbackMatrix, cell_key, split_cell_key
from harness.report.table import approach_label

CAPABLE_ROW = "+capable-cd"  # a matrix row of an approach under its most capable CD: "<approach>+capable-cd"


def row_id(approach: str, cd: str) -> str:
    return approach if cd == CDS[0] else approach + CAPABLE_ROW


def row_approach(row: str) -> tuple[str, str]:
    """(approach, cd) of a matrix row."""
    return (row.removesuffix(CAPABLE_ROW), CDS[1]) if row.endswith(CAPABLE_ROW) else (row, CDS[0])


def row_label(row: str) -> str:
    """"2 ignore_changes, article's CD" / "2 ignore_changes, most capable CD"."""
    approach, cd = row_approach(row)
    return approach_label(approach) + (", most capable CD" if cd == CDS[1] else ", article's CD")

# The columns of each failure mode's table, in every form of the report.
MODE_TABLE_HEADER = ("Approach", "Strategy", "Result", "Lowest healthy", "API calls", "Ended on", "By", "Why")


@dataclass(frozen=True)
class MatrixColumn:
    mode: str
    strategy: str
    title: str  # the failure mode's title
    what: str  # one line: what goes wrong

    @property
    def key(self) -> str:
        return cell_key(self.mode, self.strategy)

    @property
    def strategy_label(self) -> str:
        return "rolling" if self.strategy == "ROLLING" else self.strategy.lower().replace("_", "/")


@dataclass(frozen=True)
class MatrixEntry:
    cell: RollbackCell | None  # None: not measured (or the mode does not apply)
    winner: bool
    shade: str  # "best", "good", "slow", "slowest", "failed", "none": the heat-map class

    @property
    def text(self) -> str:
        """Short: "✓ 90 s" back without a person, "✗ 2 steps" a person must act."""
        if self.cell is None:
            return "–"
        if self.cell.recovered:
            return f"✓ {self.cell.total_seconds:.0f} s"
        steps = len(self.cell.human_steps)
        return f"✗ {steps} step{'s' if steps != 1 else ''}"

    @property
    def result(self) -> str:
        """The text, and where a person must act, the steps by name."""
        if self.cell is not None and not self.cell.recovered and self.cell.human_steps:
            return f"{self.text}: " + "; ".join(self.cell.human_steps)
        return self.text


@dataclass(frozen=True)
class ModeRow:
    """One measured cell in its failure mode's table: ``texts`` in ``MODE_TABLE_HEADER`` order."""

    entry: MatrixEntry
    texts: tuple[str, ...]


@dataclass(frozen=True)
class Matrix:
    columns: tuple[MatrixColumn, ...]
    approaches: tuple[str, ...]  # the rows: approach names, and ``row_id(approach, "capable")`` after each
    entries: dict[tuple[str, str], MatrixEntry]  # (row, column key) -> entry
    winners: dict[str, list[str]]  # column key -> the winning rows (article's CDs and capable CDs apart)

    def entry(self, approach: str, column: MatrixColumn) -> MatrixEntry:
        return self.entries[(approach, column.key)]

    def mode_rows(self, columns: list[MatrixColumn]) -> list[ModeRow]:
        """The measured cells of one failure mode's columns, approach by approach."""
        rows = []
        for approach in self.approaches:
            for col in columns:
                entry = self.entry(approach, col)
                cell = entry.cell
                if cell is None:
                    continue
                healthy = "" if cell.lowest_healthy is None else f"{cell.lowest_healthy}/{cell.desired}"
                rows.append(ModeRow(entry, (row_label(approach), col.strategy_label, entry.result, healthy,
                                            "" if cell.api_calls is None else str(cell.api_calls), cell.final,
                                            cell.rolled_back_by or "nobody", cell.note)))
        return rows

    def modes(self) -> list[tuple[str, str, str, list[MatrixColumn]]]:
        """(mode key, title, what, its columns) in the matrix's order."""
        out: dict[str, list[MatrixColumn]] = {}
        for col in self.columns:
            out.setdefault(col.mode, []).append(col)
        return [(mode, cols[0].title, cols[0].what, cols) for mode, cols in out.items()]


def _rank(cell: RollbackCell) -> float:
    return cell.total_seconds if cell.recovered and cell.total_seconds is not None else math.inf


def _shade(cell: RollbackCell | None, best: float, worst: float, tie: float = 0.0) -> str:
    if cell is None:
        return "none"
    if not cell.recovered:
        return "failed"
    rank = _rank(cell)
    if rank <= best + tie or worst <= best + tie:
        return "best"
    share = (rank - best) / (worst - best)
    return "good" if share < 1 / 3 else ("slow" if share < 2 / 3 else "slowest")


def build_matrix(results: Results) -> Matrix | None:
    """None when no approach measured any cell."""
    measured = {a: m for a in results.approaches() if (m := results.get(a, RollbackMatrix)) is not None and m.cells}
    if not measured:
        return None
    modes: dict[str, Any] = results.parameters.get("failure_modes", {})
    keys = {split_cell_key(key)[:2] for m in measured.values() for key in (m.cells or {})}
    columns = []
    for mode, strategy in keys:
        about = modes.get(mode, {})
        columns.append((about.get("order", len(modes)), mode, 0 if strategy == "ROLLING" else 1, strategy,
                        MatrixColumn(mode, strategy, about.get("title", mode), about.get("what", ""))))
    ordered = tuple(c[-1] for c in sorted(columns, key=lambda c: c[:4]))
    def runs(approach: str, cd: str) -> bool:
        found = measured.get(approach)
        return found is not None and any(split_cell_key(k)[2] == cd for k in (found.cells or {}))

    rows = tuple(row_id(a, cd) for a in results.approaches() for cd in CDS if cd == CDS[0] or runs(a, cd))
    entries: dict[tuple[str, str], MatrixEntry] = {}
    winners: dict[str, list[str]] = {}
    tie = results.phase_seconds()
    for col in ordered:
        winners[col.key] = []
        for cd in CDS:
            of_cd = [r for r in rows if row_approach(r)[1] == cd]
            cells = {r: _cell(measured, r, col) for r in of_cd}
            ranks = {r: _rank(c) for r, c in cells.items() if c is not None}
            finite = [v for v in ranks.values() if math.isfinite(v)]
            best, worst = (min(finite), max(finite)) if finite else (math.inf, math.inf)
            won = [] if len(ranks) < 2 or not finite or all(v <= best + tie for v in ranks.values()) else \
                [r for r, v in ranks.items() if v <= best + tie]
            winners[col.key] += won
            for r, c in cells.items():
                entries[(r, col.key)] = MatrixEntry(c, r in won, _shade(c, best, worst, tie))
    return Matrix(ordered, rows, entries, winners)


def _cell(measured: dict[str, RollbackMatrix], row: str, col: MatrixColumn) -> RollbackCell | None:
    approach, cd = row_approach(row)
    found = measured.get(approach)
    return (found.cells or {}).get(cell_key(col.mode, col.strategy, cd)) if found is not None else None


@dataclass(frozen=True)
class Difference:
    """What one column shows between an approach's two CDs, and among the capable CDs."""

    column: MatrixColumn
    from_cd: tuple[str, ...]  # one line per approach whose capable CD did better than its article CD
    from_approach: tuple[str, ...]  # one line per approach that, even with the most capable CD, is not the best


def differences(matrix: Matrix, tolerance: float = 10.0) -> list[Difference]:
    """Per column: which differences come from the CD (an approach's article CD against
    its most capable CD) and which from the approach (capable CDs against each other).
    Seconds within ``tolerance`` (``Results.phase_seconds``) are no difference."""
    out = []
    approaches = [r for r in matrix.approaches if row_approach(r)[1] == CDS[0]]
    for col in matrix.columns:
        from_cd, capable = [], {}
        for approach in approaches:
            article = matrix.entries.get((approach, col.key))
            best = matrix.entries.get((row_id(approach, CDS[1]), col.key))
            if best is None or best.cell is None or article is None or article.cell is None:
                continue
            capable[approach] = best
            before, after = _rank(article.cell), _rank(best.cell)
            if after < before - tolerance:
                was = article.text if article.cell.recovered else f"{article.text} (not back)"
                from_cd.append(f"{approach_label(approach)}: {was} with the article's CD, {best.text} with the most "
                               f"capable one ({best.cell.note})")
        finite = [_rank(e.cell) for e in capable.values() if e.cell is not None and math.isfinite(_rank(e.cell))]
        top = min(finite) if finite else math.inf
        from_approach = [f"{approach_label(a)}: {e.text}, against {top:.0f} s at best ({e.cell.note})"
                         for a, e in capable.items() if e.cell is not None and _rank(e.cell) > top + tolerance]
        if from_cd or from_approach:
            out.append(Difference(col, tuple(from_cd), tuple(from_approach)))
    return out
