"""The progress display counts finished scenarios and failures as reports arrive."""
from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest
from rich.console import Console

from harness.report.progress import ScenarioProgress


def test_progress_counts_every_scenario_and_the_failures(tmp_path: Path) -> None:
    (tmp_path / "test_claims.py").write_text(textwrap.dedent('''
        import pytest

        @pytest.mark.parametrize("n", range(5))
        def test_claim(n):
            assert n != 3

        def test_skipped():
            pytest.skip("needs Terraform")
    '''))
    buffer = io.StringIO()
    progress = ScenarioProgress(Console(file=buffer, width=120, color_system=None))
    code = pytest.main([str(tmp_path), "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--rootdir", str(tmp_path)],
                       plugins=[progress])
    assert code == pytest.ExitCode.TESTS_FAILED
    assert (progress.done, progress.failed) == (6, 1)
    assert "6/6" in buffer.getvalue() and "1 failed" in buffer.getvalue()
