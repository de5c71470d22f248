"""The rollback matrix as plain data for the writers: one column per failure mode
and strategy, one row per approach, each cell shaded by how it did against the
column's best. Titles and descriptions come from the results' parameters
(``failure_modes``), so a report can be rebuilt from report.json alone.

Winner rule, as in the main table: among the approaches measured in a column,
the lowest seconds to known good wins; a cell that did not recover ranks last;
ties share; no winner when fewer than two were measured or all are equal.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.metrics.results import Results, RollbackCell, RollbackMatrix, cell_key
from harness.report.table import approach_label

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
    approaches: tuple[str, ...]
    entries: dict[tuple[str, str], MatrixEntry]  # (approach, column key) -> entry
    winners: dict[str, list[str]]

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
                rows.append(ModeRow(entry, (approach_label(approach), col.strategy_label, entry.result, healthy,
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


def _shade(cell: RollbackCell | None, best: float, worst: float) -> str:
    if cell is None:
        return "none"
    if not cell.recovered:
        return "failed"
    rank = _rank(cell)
    if rank <= best or worst <= best:
        return "best"
    share = (rank - best) / (worst - best)
    return "good" if share < 1 / 3 else ("slow" if share < 2 / 3 else "slowest")


def build_matrix(results: Results) -> Matrix | None:
    """None when no approach measured any cell."""
    measured = {a: m for a in results.approaches() if (m := results.get(a, RollbackMatrix)) is not None and m.cells}
    if not measured:
        return None
    modes: dict[str, Any] = results.parameters.get("failure_modes", {})
    keys = {key for m in measured.values() for key in (m.cells or {})}
    columns = []
    for key in keys:
        mode, strategy = key.split("/", 1)
        about = modes.get(mode, {})
        columns.append((about.get("order", len(modes)), mode, 0 if strategy == "ROLLING" else 1, strategy,
                        MatrixColumn(mode, strategy, about.get("title", mode), about.get("what", ""))))
    ordered = tuple(c[-1] for c in sorted(columns, key=lambda c: c[:4]))
    approaches = tuple(results.approaches())
    entries: dict[tuple[str, str], MatrixEntry] = {}
    winners: dict[str, list[str]] = {}
    for col in ordered:
        cells = {a: (measured[a].cells or {}).get(col.key) if a in measured else None for a in approaches}
        ranks = {a: _rank(c) for a, c in cells.items() if c is not None}
        finite = [r for r in ranks.values() if math.isfinite(r)]
        best, worst = (min(finite), max(finite)) if finite else (math.inf, math.inf)
        won = [] if len(ranks) < 2 or len(set(ranks.values())) == 1 or not finite else \
            [a for a, r in ranks.items() if r == best]
        winners[col.key] = won
        for a, c in cells.items():
            entries[(a, col.key)] = MatrixEntry(c, a in won, _shade(c, best, worst))
    return Matrix(ordered, approaches, entries, winners)
