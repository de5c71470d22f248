"""Terraform fixtures for the harness's pytest plugin (registered from
harness/plugin.py).

- `terraform`: the session's `Terraform` runner (binary, mirror, shared cache).
- `terraform_endpoint`: one AWS endpoint per pytest-xdist worker (`harness
  serve`, else moto's threaded server), so workers never share state.
- `tf_workspace`: a factory for workspaces with unique resource names. They
  are not destroyed at teardown: the endpoint is this worker's emulator, whose
  state goes with it, and a destroy costs ~25 s per workspace. (Against real
  AWS, register a destroy before the apply instead.)

Tests marked `@pytest.mark.terraform` are skipped at collection when Terraform
cannot run here, with a reason that says how to enable them; with
HARNESS_REQUIRE_TERRAFORM=1 (CI) they fail instead.
"""
from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from .endpoint import serve
from .runner import Terraform, TerraformError, Workspace
from .settings import TerraformSettings

APPROACHES_DIR = Path(__file__).resolve().parent.parent / "approaches"

settings_key = pytest.StashKey[TerraformSettings]()


def approach_configs() -> list[Path]:
    """Every Terraform configuration the harness ships: harness/approaches/*/terraform,
    and one level deeper for an approach with several (4b: infra + app service)."""
    found = [*APPROACHES_DIR.glob("*/terraform"), *APPROACHES_DIR.glob("*/*/terraform")]
    return sorted(p for p in found if p.is_dir() and any(p.glob("*.tf")))


def required() -> bool:
    return os.environ.get("HARNESS_REQUIRE_TERRAFORM", "") == "1"


# `terraform init` failing to reach a registry (offline, no mirror), as opposed to
# a configuration error ("no available releases match the given constraints", a
# misspelled source), which must fail: the same headline, told apart by the cause.
_PROVIDER_INSTALL_FAILED = ("Failed to query available provider packages", "Failed to install provider")
_NETWORK_CAUSES = ("could not connect to", "dial tcp", "no such host", "i/o timeout", "connection refused",
                   "TLS handshake timeout", "failed to request discovery document")


def provider_unavailable(err: TerraformError) -> bool:
    text = " ".join(f"{err} {err.output}".split())  # Terraform wraps its messages across lines
    return any(m in text for m in _PROVIDER_INSTALL_FAILED) and any(c in text for c in _NETWORK_CAUSES)


def terraform_cannot_run(settings: TerraformSettings | None = None) -> str | None:
    """Why the scenarios' Terraform cannot run here, in one line that says what to do, or
    None: no binary, or `terraform init` of the approaches' shared base configuration cannot
    install the AWS provider (asked before a comparison starts, so that it refuses at
    once instead of reporting half its cells *not measured*). Costs one `terraform init`
    (about a second from a mirror)."""
    import tempfile

    settings = settings or TerraformSettings.from_env()
    problem = settings.problem()
    if problem is not None:
        return problem
    with tempfile.TemporaryDirectory(prefix="harness-tf-check-") as home:
        runner = Terraform(settings, home=Path(home))
        try:
            # the shared base configuration every approach's builds on: it requires the same provider
            runner.workspace(APPROACHES_DIR / "terraform" / "base", "http://127.0.0.1:1", {"name": "check"},
                             root=APPROACHES_DIR).init(reuse=False)
        except TerraformError as err:
            if not provider_unavailable(err):
                return f"`terraform init` failed: {err}"
            return ("`terraform init` cannot install the AWS provider (offline?) from "
                    f"{settings.provider_source}: set HARNESS_TF_PROVIDER_MIRROR to a provider mirror")
        finally:
            runner.close()
    return None


def skip_without_provider(err: TerraformError, what: str) -> None:
    """Skip (with how to fix it) when ``err`` is init failing to get the AWS
    provider and Terraform is not required here; otherwise return (the caller
    re-raises)."""
    if provider_unavailable(err) and not required():
        pytest.skip(f"{what} needs Terraform's AWS provider, which `terraform init` could not install "
                    "(offline?): set HARNESS_TF_PROVIDER_MIRROR to a provider mirror (see docs/harness/terraform.md)"
                    + (f"; {looked}" if (looked := TerraformSettings.from_env().looked_in) else ""))


def pytest_configure(config: pytest.Config) -> None:
    config.stash[settings_key] = TerraformSettings.from_env()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    problem = config.stash[settings_key].problem()
    if problem is None or required():
        return  # when required, a missing Terraform fails in `terraform` instead
    skip = pytest.mark.skip(reason=f"Terraform tests need Terraform: {problem}")
    for item in items:
        if item.get_closest_marker("terraform"):
            item.add_marker(skip)


def pytest_report_header(config: pytest.Config) -> str:
    settings = config.stash[settings_key]
    where = f"mirror {settings.mirror}" if settings.mirror else "registry (or TF_CLI_CONFIG_FILE)"
    if settings.mirror is not None and not settings.provider_source.startswith("HARNESS_TF_PROVIDER_MIRROR"):
        where = f"mirror {settings.provider_source}, found where Terraform itself looks"
    elif settings.looked_in:
        where = settings.provider_source
    if settings.mirror is not None:  # <mirror>/<host>/hashicorp/aws/<version>/...: the versions it offers
        versions = sorted({p.name for p in settings.mirror.glob("*/hashicorp/aws/*") if p.is_dir()})
        where += f" (hashicorp/aws {', '.join(versions) or 'none'})"
    reattach = settings.reattach_problem()
    mode = "one long-lived provider process per worker" if reattach is None else f"a provider start per command ({reattach})"
    return f"terraform: {settings.binary or 'not found'}; providers from {where}; cache {settings.plugin_cache}; {mode}"


@pytest.fixture(scope="session")
def terraform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Terraform]:
    """This process's runner; its long-lived provider process (if any) stops with the session."""
    settings = request.config.stash[settings_key]
    try:
        runner = Terraform(settings, home=tmp_path_factory.mktemp("terraform"))
    except TerraformError as err:
        if required():
            pytest.fail(f"HARNESS_REQUIRE_TERRAFORM=1 but {err}", pytrace=False)
        pytest.skip(f"Terraform tests need Terraform: {err}")
    try:
        yield runner
    finally:
        runner.close()


@pytest.fixture(scope="session")
def terraform_endpoint() -> Iterator[str]:
    """This worker's AWS endpoint (each xdist worker is its own process)."""
    with serve() as url:
        yield url


_names = itertools.count(1)


def unique_name(prefix: str = "t") -> str:
    """Short, lowercase, unique per process and run: valid for ECR, IAM, ECS."""
    return f"{prefix}{next(_names)}{uuid.uuid4().hex[:6]}"


WorkspaceFactory = Callable[..., Workspace]


@pytest.fixture
def tf_workspace(terraform: Terraform, terraform_endpoint: str) -> Iterator[WorkspaceFactory]:
    """`tf_workspace(config_dir, **variables) -> Workspace`, initialised, with
    a unique `name` variable unless one is given. Unique names keep the
    workspaces of one worker's emulator apart, so none is destroyed."""

    def make(config: Path, root: Path | None = None, variables: Mapping[str, object] | None = None) -> Workspace:
        config = Path(config)
        if root is None and APPROACHES_DIR in config.resolve().parents:
            root = APPROACHES_DIR
        values = {"name": unique_name(), **(variables or {})}
        ws = terraform.workspace(config, terraform_endpoint, values, root=root, name=str(values["name"]))
        try:
            ws.init()
        except TerraformError as err:
            skip_without_provider(err, "this test")
            raise
        return ws

    yield make
