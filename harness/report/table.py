"""The comparison table as plain data, shared by every writer: one row per
approach, one cell per column, the winners marked. Writers only format it."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from harness.approaches import BY_NAME
from harness.metrics.columns import COLUMNS, Column, winners
from harness.metrics.results import Results

WINNER_MARK = "★"


@dataclass(frozen=True)
class Cell:
    value: Any  # comparable value, None when not measured
    text: str
    winner: bool
    compact: str = ""  # text where space is tight (the terminal)


@dataclass(frozen=True)
class Row:
    approach: str
    label: str  # "1 persistent tag"
    short_label: str  # "1 persistent-tag"
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    winners: dict[str, list[str]]

    def unmeasured(self) -> list[tuple[str, str]]:
        """(approach, column key) of every cell no scenario measured."""
        return [
            (row.approach, col.key)
            for row in self.rows
            for col, cell in zip(self.columns, row.cells, strict=True)
            if cell.value is None
        ]


# Labels of described approaches as the run that measured them recorded them
# (``described_approaches`` in the results' parameters): the process writing the
# report (``harness report merge``) may never have loaded their descriptions.
_recorded: dict[str, dict[str, str]] = {}


def remember_labels(results: Results) -> None:
    for name, described in results.parameters.get("described_approaches", {}).items():
        if described.get("label"):
            _recorded[name] = {"label": described["label"], "short_label": described.get("short_label", name)}


def approach_label(name: str) -> str:
    """``"5 template task definition"``; a name outside the table (a test's) as it is."""
    return BY_NAME[name].label if name in BY_NAME else _recorded.get(name, {}).get("label", name)


def short_label(name: str) -> str:
    """``"5 template"``; a name outside the table as it is."""
    return BY_NAME[name].short_label if name in BY_NAME else _recorded.get(name, {}).get("short_label", name)


def build_table(results: Results, columns: tuple[Column, ...] = COLUMNS) -> Table:
    remember_labels(results)
    won = winners(results, columns)
    rows = []
    for approach in results.approaches():
        cells = []
        for col in columns:
            value, prop = col.measure(results, approach)
            cells.append(Cell(value, col.text(value, prop), approach in won[col.key], col.compact_text(value, prop)))
        rows.append(Row(approach, approach_label(approach), short_label(approach), tuple(cells)))
    return Table(columns, tuple(rows), won)


def json_value(value: Any) -> Any:
    """A cell value as JSON allows it (a non-finite number becomes null)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
