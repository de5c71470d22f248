"""Root conftest: the harness's pytest plugin serves tests/ and scenarios/.

The plugin lives in harness/plugin.py (options, markers, backend fixtures), in
the manner of pytest-django, so scenarios and tests share one set of fixtures.
"""

pytest_plugins = ["harness.plugin"]
