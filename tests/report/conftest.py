"""Fixtures of the report tests."""
from __future__ import annotations

import pytest
from report_samples import sample_results

from harness.metrics.results import Results


@pytest.fixture
def results() -> Results:
    return sample_results()
