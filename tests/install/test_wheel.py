"""The deploy tool as users install it: the wheel, in a clean virtualenv with
only its own dependencies (boto3), runs `--version`, `--help`, `python -m
ecs_template_deploy` and a deploy against `harness serve`; the harness's command
in that install says which extras it lacks."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from ecs_template_deploy import __version__
from harness.server import HarnessServer
from harness.worlds.tool import bare_template_service
from harness.backends.embedded import cd_process_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, the clean virtualenv's bin directory)."""
    out = tmp_path_factory.mktemp("wheel")
    # From a copy of what the wheel is made of: an in-tree build would leave build/ behind,
    # and a stale one breaks the next build.
    source = out / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for package in ("ecs_template_deploy", "harness"):
        shutil.copytree(ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__", ".terraform*"))
    # build isolation: pip fetches the build backend, as a user's pip would
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
                           capture_output=True, text=True, timeout=300)
    if built.returncode != 0 and _no_index(built.stderr):
        pytest.skip(f"pip could not fetch the build backend (no package index?): {built.stderr.strip()[-300:]}")
    assert built.returncode == 0, built.stderr
    (wheel,) = out.glob("ecs_template_deploy-*.whl")
    env_dir = out / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0 and _no_index(done.stderr):
        pytest.skip(f"pip could not fetch the wheel's dependencies (no package index?): {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stderr
    return wheel, bin_dir


def _no_index(stderr: str) -> bool:
    """pip's words for "the package index is out of reach", and only those."""
    return any(words in stderr for words in ("No matching distribution found", "Could not find a version",
                                             "NewConnectionError", "Temporary failure in name resolution"))


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    return {**env, **extra}


def test_the_wheel_depends_on_boto3_alone_outside_the_extras(installed):
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert [r for r in requires if "extra ==" not in r] == ["boto3>=1.34"]
    assert f"Version: {__version__}" in metadata


def test_the_wheel_says_what_a_package_index_shows(installed):
    """Classifiers, project URLs and the README as a Markdown long description that renders."""
    wheel, _ = installed
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))).decode()
    headers, _, description = metadata.partition("\n\n")
    assert "Description-Content-Type: text/markdown" in headers
    assert "Classifier: Programming Language :: Python :: 3.11" in headers
    assert "Classifier: License :: OSI Approved :: MIT License" in headers
    urls = {line.split(": ", 1)[1].split(",")[0] for line in headers.splitlines() if line.startswith("Project-URL:")}
    assert {"Homepage", "Documentation", "Changelog"} <= urls
    assert description.strip() == (ROOT / "README.md").read_text().strip()
    # what PyPI does with it: CommonMark rendered to HTML, here with markdown-it (rich's dependency)
    from markdown_it import MarkdownIt

    rendered = MarkdownIt("commonmark").enable("table").render(description)
    assert "<h1>" in rendered and "<table>" in rendered and "<pre><code" in rendered


def test_the_installed_tool_answers_version_and_help(installed):
    _, bin_dir = installed
    version = subprocess.run([str(bin_dir / "ecs-template-deploy"), "--version"], capture_output=True, text=True,
                             env=_clean_env(), timeout=60)
    assert (version.returncode, version.stdout) == (0, f"ecs-template-deploy {__version__}\n")
    helped = subprocess.run([str(bin_dir / "python"), "-m", "ecs_template_deploy", "--help"], capture_output=True,
                            text=True, env=_clean_env(), timeout=60)
    assert helped.returncode == 0 and "deploy" in helped.stdout and "policy" in helped.stdout


def test_the_installed_tool_deploys_against_harness_serve(installed):
    _, bin_dir = installed
    with HarnessServer(speed=0) as server:   # paused: the test moves time, the tool does not wait (--no-wait)
        ecs = bare_template_service(server.url)
        server.clock.sleep(300)
        env = _clean_env(**cd_process_env(server.url))
        done = subprocess.run([str(bin_dir / "ecs-template-deploy"), "deploy", "--cluster", "c", "--service", "web",
                               "--template", "web-template", "--image", "app=nginx:1.27", "--no-wait", "--json"],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert (result["kind"], result["exitCode"], result["state"]) == ("result", 0, "not watched")
        service = ecs.describe_services(cluster="c", services=["web"])["services"][0]
        assert service["taskDefinition"].endswith(":task-definition/web:1")
        server.clock.sleep(600)
        assert ecs.describe_services(cluster="c", services=["web"])["services"][0]["deployments"][0]["rolloutState"] == "COMPLETED"
        server.check()


def test_the_harness_command_in_the_tool_alone_names_the_missing_extras(installed):
    _, bin_dir = installed
    done = subprocess.run([str(bin_dir / "harness"), "compare"], capture_output=True, text=True, env=_clean_env(),
                          timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        done.stderr.strip().splitlines()[0]] and "pip install 'ecs-template-deploy[harness]'" in done.stderr


def test_a_teams_own_pytest_next_to_the_tool_alone_runs_without_the_harness(installed, tmp_path):
    """The wheel's pytest11 entry point is there wherever the tool is installed; without the
    harness's extras (no moto) it must load nothing, not fail every pytest run importing fixtures."""
    _, bin_dir = installed
    added = subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", "pytest"],
                           capture_output=True, text=True, timeout=300)
    if added.returncode != 0 and _no_index(added.stderr):
        pytest.skip(f"pip could not fetch pytest (no package index?): {added.stderr.strip()[-300:]}")
    assert added.returncode == 0, added.stderr
    (tmp_path / "test_team.py").write_text("def test_it():\n    assert True\n")
    done = subprocess.run([str(bin_dir / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--trace-config",
                           "test_team.py"], cwd=tmp_path, capture_output=True, text=True, env=_clean_env(), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    registered = [line for line in done.stdout.splitlines() if line.startswith("PLUGIN registered") and "harness" in line]
    assert len(registered) == 1 and "harness.plugin.autoload" in registered[0], registered  # the entry point, nothing it would load
