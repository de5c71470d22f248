"""The README is a front door: short, two Quickstart commands, every command it shows
real; the docs site builds with every link checked."""
from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_read_in_five_minutes() -> None:
    assert len(README.splitlines()) <= 200, "README.md is the front door: move detail into docs/"


def test_the_quickstart_is_two_commands_the_main_job_then_the_tests() -> None:
    quickstart = README.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    block = quickstart.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["python3 dev.py compare", "python3 dev.py test"]
    assert README.index("## Quickstart") < README.index("## The article")  # the first section


def test_every_deploy_tool_command_in_the_readme_parses_with_the_real_parser() -> None:
    from ecs_template_deploy.cli import build_parser

    parser = build_parser()[0]
    shown = [line for line in re.sub(r"\\\n\s*", " ", README).splitlines() if line.startswith("ecs-template-deploy ")]
    assert len(shown) >= 5
    for line in shown:
        argv = shlex.split(line.split("#", 1)[0])[1:]
        argv = [arg.replace("$GIT_SHA", "abc123") for arg in argv]
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"README shows a command the tool refuses: {line}")


def test_no_page_points_outside_the_clone() -> None:
    for page in [ROOT / "README.md", *ROOT.glob("docs/**/*.md")]:
        assert "../shared" not in page.read_text(encoding="utf-8"), page


def test_the_docs_site_builds_strict(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs", path=str(Path(sys.executable).parent))
    if mkdocs is None:
        pytest.skip("mkdocs is not installed here: `python3 dev.py` installs the docs extra")
    built = subprocess.run([mkdocs, "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "site")], cwd=ROOT,
                           capture_output=True, text=True, timeout=300, env={"NO_MKDOCS_2_WARNING": "1",
                                                                            "PATH": "/usr/bin:/bin"})
    assert built.returncode == 0, built.stderr[-3000:]
    assert (tmp_path / "site" / "index.html").is_file() and (tmp_path / "site" / "reference" / "harness" / "index.html").is_file()
