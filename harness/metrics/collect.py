"""Gathering measurements across pytest-xdist workers.

Each process (a worker, or the only process without xdist) appends JSON lines to
its own file in a shared results directory; nothing is shared while tests run.
After the run, ``load_results`` merges every file into one ``Results``:
the controller calls it in ``pytest_sessionfinish``, or `harness compare` does.

One line per record:

    {"approach": "template", "property": "rollback", "fields": {...}}
    {"parameters": {"scheduler_pass_seconds": 5, ...}}
    {"timing": {"test": "scenarios/...", "wall": 4.2, "terraform": 0.0, ...}}

Timings say where a run's wall time went (``load_timings``, for bench/compare.py);
they are not measurements and stay out of the report.

Files are merged in name order and records in file order, so the same records
give the same ``Results`` whichever worker measured what.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Mapping

from harness.metrics.results import Property, Results, ResultsError, property_class

SUFFIX = ".jsonl"


class ResultsSink:
    """Appends this process's measurements to ``<directory>/<name>.jsonl``.

    ``name`` is the xdist worker id (``gw0``...) or ``main``: see ``worker_name``.
    """

    def __init__(self, directory: str | os.PathLike[str], name: str = "main") -> None:
        if not name or "/" in name or name.startswith("."):
            raise ResultsError(f"results file name {name!r} must be a plain name such as 'gw0'")
        self.path = Path(directory) / f"{name}{SUFFIX}"
        self._lock = threading.Lock()

    def record(self, approach: str, measured: Property) -> None:
        """Record a (partial) measurement of one property of one approach."""
        if not isinstance(measured, Property):
            raise ResultsError(f"record() takes a measured property such as Rollback(...), not {type(measured).__name__}")
        fields = measured.to_dict()
        if not fields:
            raise ResultsError(f"{approach}.{measured.key}: nothing measured (every field is None)")
        self._append({"approach": approach, "property": measured.key, "fields": fields})

    def record_parameters(self, parameters: Mapping[str, Any]) -> None:
        """Record the simulation parameters (timings, backend, versions) the figures came from."""
        self._append({"parameters": dict(parameters)})

    def record_timing(self, timing: Mapping[str, Any]) -> None:
        """Record where one scenario's wall time went (not a measurement)."""
        self._append({"timing": dict(timing)})

    def _append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, sort_keys=True, allow_nan=False)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(line + "\n")


def worker_name(config: Any) -> str:
    """The xdist worker id of a pytest config (``gw0``...), or ``main``."""
    worker_input = getattr(config, "workerinput", None)
    return worker_input["workerid"] if worker_input else "main"


def load_results(directory: str | os.PathLike[str]) -> Results:
    """Merge every ``*.jsonl`` in ``directory`` into one ``Results``.

    A field measured twice with different values is an error naming the file.
    """
    results = Results()
    for path in sorted(Path(directory).glob(f"*{SUFFIX}")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ResultsError(f"{where}: not a JSON line ({err.msg}); delete the results directory and rerun") from err
            if "parameters" in record:
                results.add_parameters(record["parameters"], where)
            elif "timing" in record:
                continue
            else:
                try:
                    measured = property_class(record["property"]).from_dict(record["fields"])
                    results.add(record["approach"], measured, where)
                except KeyError as err:
                    raise ResultsError(f"{where}: record lacks {err}; expected approach, property, fields") from err
    return results


def load_timings(directory: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Every timing record in ``directory``'s results files, in file order."""
    out = []
    for path in sorted(Path(directory).glob(f"*{SUFFIX}")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and '"timing"' in line:
                record = json.loads(line)
                if "timing" in record:
                    out.append(record["timing"])
    return out
