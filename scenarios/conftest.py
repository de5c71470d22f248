"""What only the scenarios need beside the harness's plugin.

The approach parameter (``approach``), the ``make_approach_world`` factory, the scenarios'
server and the order they run in are the plugin's (``harness.plugin.scenarios``
and ``harness.plugin.scheduling``); the worlds themselves are built by
``harness.worlds.approach``. What is left here is scenario-local:

- Terraform talks to the server the scenarios watch, so the plugin's
  ``terraform_endpoint`` is that server here.
"""
from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="session")
def terraform_endpoint(scenario_server: Any) -> str:
    """Terraform talks to the same server the scenarios watch (overrides the plugin's)."""
    return scenario_server.url.rstrip("/")
