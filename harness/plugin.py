"""The harness's pytest plugin: backend selection, capability markers, fixtures.

Options live in one named group; plugin state lives in ``config.stash``.
Capabilities (Terraform, LocalStack, real AWS) are checked at collection, and a
test that needs a missing one is skipped with a reason that says how to enable
it.
"""
from __future__ import annotations

import pytest

pytest_plugins = ["harness.terraform.fixtures"]  # Terraform runner, endpoint, workspaces, skip check
pytest_plugins.append("harness.backends.fixtures")  # aws: embedded moto + ECS simulator, or harness serve
pytest_plugins.append("harness.metrics.fixtures")  # measurements fixture, --report-dir: merged report at the end

BACKENDS = ("moto", "server", "localstack", "aws")
backend_key = pytest.StashKey[str]()

MARKERS = {
    "terraform": "terraform: needs a terraform (or tofu) binary and the AWS provider",
    "localstack": "localstack: needs LocalStack (docker compose -f docker-compose.localstack.yml up)",
    "real_aws": "real_aws: talks to real AWS; runs only with --backend aws --allow-real-aws",
    "served": "served: uses a session-long in-process harness server (set automatically from the fixtures); "
    "run apart from the embedded tests: `pytest -m served` / `-m 'not served'`",
}

# moto keeps one set of backends per process, and every embedded test's
# mock_aws resets them all on start and stop. A server that lives for the whole
# session in the same process (Terraform's endpoint, the scenarios' worlds)
# would lose its state to the next embedded test: such tests are marked
# `served`, and `dev.py test` runs the two kinds in separate pytest processes.
SESSION_SERVER_FIXTURES = frozenset({"terraform_endpoint", "scenario_server", "harness_server", "tf_workspace"})


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "ECS Terraform/CD harness")
    group.addoption(
        "--backend",
        dest="harness_backend",
        choices=BACKENDS,
        default="moto",
        help="AWS backend for scenarios: moto (in-process, default), server "
        "(harness serve over HTTP), localstack, aws (real AWS, needs --allow-real-aws)",
    )
    group.addoption(
        "--allow-real-aws",
        dest="harness_allow_real_aws",
        action="store_true",
        default=False,
        help="permit --backend aws to create and delete real resources (costs money)",
    )


def pytest_configure(config: pytest.Config) -> None:
    for line in MARKERS.values():
        config.addinivalue_line("markers", line)
    backend = config.getoption("harness_backend")
    if backend == "aws" and not config.getoption("harness_allow_real_aws"):
        raise pytest.UsageError("--backend aws creates real resources: add --allow-real-aws to confirm")
    config.stash[backend_key] = backend


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if SESSION_SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.served)


def pytest_report_header(config: pytest.Config) -> str:
    return f"harness backend: {config.stash[backend_key]}"
