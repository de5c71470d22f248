"""Every figure the docs and the README show comes from the checked-in run
(docs/results/report.json), by `python3 dev.py docs`: the files are what that run
says, and a measurement that changes changes them."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness import commands
from harness.commands import docs

FIGURES = ("docs/results/index.md", "README.md", "docs/index.md", "docs/harness/plugin.md")


@pytest.mark.parametrize("path", FIGURES)
def test_the_checked_in_file_is_what_the_checked_in_run_says(path: str) -> None:
    generated = next(item for item in docs.GENERATED if item.path == path)
    assert (docs.ROOT / path).read_text(encoding="utf-8") == generated.produce(), (
        f"{path} differs from what {docs.REPORT} says: run `python3 dev.py docs` (never edit it by hand)")


def test_the_guide_links_its_evidence_into_the_results_page() -> None:
    readme = (docs.ROOT / "README.md").read_text(encoding="utf-8")
    guide = readme.split("<!-- report: what-to-pick -->", 1)[1].split("<!-- /report -->", 1)[0]
    assert "| If | Pick | Measured |" in guide and "](docs/results/index.md#col-" in guide and "](#" not in guide
    results = (docs.ROOT / "docs/results/index.md").read_text(encoding="utf-8")
    for anchor in {link.split(")", 1)[0] for link in guide.split("](docs/results/index.md#")[1:]}:
        assert f'<a id="{anchor}"></a>' in results or f'id="{anchor}"' in results, anchor


@pytest.fixture
def copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The files the figures are made from and into, in a copy of the repository's layout."""
    for path in ("mkdocs.yml", docs.REPORT, *FIGURES):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(docs.ROOT / path, tmp_path / path)
    monkeypatch.setattr(docs, "ROOT", tmp_path)
    monkeypatch.setattr(docs, "GENERATED", [item for item in docs.GENERATED if item.path in FIGURES])
    return tmp_path


def test_a_changed_measurement_changes_the_figures_and_check_says_so(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert commands.main(["docs", "--check"]) == 0
    report = json.loads((copy / docs.REPORT).read_text())
    template = next(a for a in report["approaches"] if a["name"] == "template")
    template["measured"]["autoscaling_drift"]["drift"] = True  # approach 5 now drifts when it scales
    (copy / docs.REPORT).write_text(json.dumps(report))
    capsys.readouterr()

    assert commands.main(["docs", "--check"]) == 1
    err = capsys.readouterr().err
    assert all(path in err for path in ("docs/results/index.md", "README.md", "docs/index.md"))
    assert "docs/harness/plugin.md" not in err  # not made from the run

    assert commands.main(["docs"]) == 0
    readme = (copy / "README.md").read_text()
    scaling = next(line for line in readme.splitlines() if line.startswith("| The service scales automatically"))
    assert "5 template task definition" not in scaling.split(" | ")[1]  # no longer meets it
    assert "5: terraform plan puts desired_count back" in scaling
    assert commands.main(["docs", "--check"]) == 0


def test_a_report_json_that_is_not_one_is_refused_by_name(copy: Path) -> None:
    (copy / docs.REPORT).write_text('{"schema_version": 1}')
    with pytest.raises(ValueError, match="not a harness report.json"):
        docs.results_page()


def test_a_broken_report_json_is_said_in_one_line_and_nothing_is_written(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {path: (copy / path).read_bytes() for path in FIGURES}
    (copy / docs.REPORT).write_text('{"approaches": [')  # a copy cut off halfway
    assert commands.main(["docs"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("harness docs: error: report.json is not JSON") and err.endswith("(nothing was written)")
    assert "\n" not in err
    assert {path: (copy / path).read_bytes() for path in FIGURES} == before
