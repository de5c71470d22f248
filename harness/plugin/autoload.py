"""What pytest's ``pytest11`` entry point loads (pyproject.toml): the harness's plugin
(``harness.plugin``) where the harness's extras are installed, and nothing where only
the deploy tool is.

The deploy tool's wheel carries the harness too, so its entry point is there in every
environment that installs ``ecs-template-deploy``; a team's own pytest run next to the
deploy tool, without moto, must not fail importing the harness's fixtures. The plugin
is named by its module (``harness.plugin``), so ``-p harness.plugin`` or a conftest
naming it as well still registers it once.
"""
from __future__ import annotations

import importlib.util

# moto stands for the [harness] extra: the plugin's backend fixtures import it.
pytest_plugins = ["harness.plugin"] if importlib.util.find_spec("moto") is not None else []
