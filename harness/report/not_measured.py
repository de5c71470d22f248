"""What a comparison did not measure, and where it measured, appended to its report.md:
written by ``harness compare`` after its run and by ``harness report merge`` from the
shards' lists (kept as JSON beside the results, ``not-measured.json``)."""
from __future__ import annotations

import json
from pathlib import Path

NOT_MEASURED_FILE = "not-measured.json"


def write_not_measured(out: Path, reasons: dict[str, str]) -> None:
    """Append the skipped scenarios and their reasons to report.md; keep them in JSON too."""
    (out / NOT_MEASURED_FILE).write_text(json.dumps(dict(sorted(reasons.items())), indent=2) + "\n", encoding="utf-8")
    markdown = out / "report.md"
    if not reasons or not markdown.exists():
        return
    lines = ["", "## Not measured in this run", ""]
    lines += [f"- `{node}`: {reason}" for node, reason in sorted(reasons.items())]
    with markdown.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


def write_measured_where(out: Path, where: str | None, passed: list[str]) -> None:
    """On a backend where tasks really run, say in report.md which scenarios ran there and passed."""
    markdown = out / "report.md"
    if where is None or not markdown.exists():
        return
    lines = ["", f"## Measured on {where}", ""]
    if passed:
        lines += [f"These scenarios ran on {where}, on the wall clock, each in a run of its own torn down after it, "
                  "and passed: their verdicts are its behaviour, not the simulator's.", ""]
        lines += [f"- `{node}`" for node in sorted(passed)]
    else:
        lines.append(f"*No scenario passed on {where} in this run: see 'Not measured in this run' for why.*")
    with markdown.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
