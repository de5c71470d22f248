"""The commands a new user types first say what they are and what else there is."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness import commands

ROOT = Path(__file__).resolve().parents[2]


def test_harness_help_describes_the_tool_and_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        commands.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "compare them" in out and "one subcommand per module" not in out
    for name in commands.COMMANDS:
        assert f"harness {name}" in out


def test_dev_py_refuses_an_unknown_command_listing_all_of_its_own():
    done = subprocess.run([sys.executable, str(ROOT / "dev.py"), "bogus"], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.returncode == 2
    first = done.stderr.splitlines()[0]
    assert first.startswith("dev.py: unknown command 'bogus'; commands: ")
    listed = first.split("commands: ")[1].split(", ")
    assert set(listed) >= {*commands.COMMANDS, "test", "bench", "run"}


def test_dev_py_passes_to_harness_exactly_the_harness_commands():
    source = (ROOT / "dev.py").read_text()
    declared = source.split("HARNESS_COMMANDS = ")[1].split(")")[0]
    assert sorted(name.strip(' "(') for name in declared.split(",") if name.strip(' "(')) == sorted(commands.COMMANDS)
