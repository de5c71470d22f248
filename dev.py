#!/usr/bin/env python3
"""One entry point for a fresh clone: make the virtualenv, then run.

    python3 dev.py compare        the main job: every approach through every scenario (see README)
    python3 dev.py demo           the deploy tool end to end on the embedded emulator
    python3 dev.py serve          harness serve: the emulator on a port, for Terraform or the AWS CLI
    python3 dev.py rehearse ...   harness rehearse: predict one service's recovery from its settings
    python3 dev.py report merge   harness report merge|screenshot: a sharded run's report; its picture
    python3 dev.py localstack up  harness localstack: LocalStack in Docker for --backend localstack
    python3 dev.py aws cleanup    harness aws cleanup --run-id ID: what a killed run left on real AWS
    python3 dev.py docs           regenerate the docs' generated pages (command reference; figures)
    python3 dev.py test [ARGS]    pytest: the whole suite, or ARGS (e.g. tests/deploy)
    python3 dev.py bench NAME     a benchmark from bench/ (bench/NAME.py)
    python3 dev.py run CMD ...    any command inside the virtualenv (the lint gate: run ruff check ., run mypy)

The virtualenv lives in .venv and is (re)installed only when pyproject.toml
changes, so the second run starts at once. Standard library only: this file
runs before anything is installed.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("DEV_VENV", ROOT / ".venv"))
EXTRAS = "harness,bench,lint,docs"  # lint: ruff, mypy, import-linter and the stubs .ci/run checks with; docs: mkdocs
HARNESS_COMMANDS = ("compare", "demo", "serve", "rehearse", "report", "localstack", "aws", "profiles", "docs")  # passed to `harness` (harness/commands/__init__.py's COMMANDS)
COMMANDS = (*HARNESS_COMMANDS, "test", "bench", "run")


def venv_bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def ensure_venv() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"dev.py: Python 3.11+ is needed, this is {sys.version.split()[0]}; run it with python3.11 or newer")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + EXTRAS.encode()).hexdigest()
    stamp = VENV / ".dev-stamp"
    if stamp.exists() and stamp.read_text() == wanted and venv_bin("python").exists():
        return
    if not venv_bin("python").exists():
        print(f"dev.py: creating virtualenv in {VENV}", file=sys.stderr)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("dev.py: installing the project and its test tools", file=sys.stderr)
    pip = [str(venv_bin("python")), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(pip + ["install", "-e", f"{ROOT}[{EXTRAS}]"], check=True)
    stamp.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:  # refused before anything is installed
        print(f"dev.py: unknown command {command!r}; commands: {', '.join(COMMANDS)}", file=sys.stderr)
        print(__doc__, file=sys.stderr)
        return 2
    ensure_venv()
    if command == "test":
        # Plain pytest: the harness's plugin orders embedded and served tests and
        # picks the workers (pyproject's addopts), so this is what tox and CI run.
        os.chdir(ROOT)
        return subprocess.call([str(venv_bin("python")), "-m", "pytest", *rest])
    elif command == "bench":
        if not rest:
            print("dev.py: bench needs a name, one of: "
                  + ", ".join(sorted(p.stem for p in (ROOT / "bench").glob("*.py") if not p.stem.startswith("_"))),
                  file=sys.stderr)
            return 2
        cmd = [str(venv_bin("python")), str(ROOT / "bench" / f"{rest[0]}.py"), *rest[1:]]
    elif command == "run":
        cmd = rest
        os.environ["PATH"] = f"{venv_bin('python').parent}{os.pathsep}{os.environ['PATH']}"
    else:
        cmd = [str(venv_bin("harness")), command, *rest]
    os.chdir(ROOT)
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
