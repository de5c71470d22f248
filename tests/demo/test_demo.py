"""The main job runs end to end and leaves the service on v2, the template family untouched."""
from __future__ import annotations

import argparse
from io import StringIO

from rich.console import Console

from harness import demo


def test_demo_deploys_v2_from_the_template_and_prunes_v1():
    output = StringIO()
    outcome = demo.run_demo(Console(file=output, no_color=True, width=200))
    text = output.getvalue()

    assert outcome.exit_codes == [0] * 7  # render, diff, deploy v1, again, diff, deploy v2, prune
    assert outcome.service_task_definition == "web:2"
    assert outcome.service_images == {"web": f"{outcome.repository_uri}:v2"}
    assert outcome.revisions == {
        "web-template:1": "ACTIVE", "web-template:2": "ACTIVE",  # Terraform's, never deregistered
        "web:1": "INACTIVE", "web:2": "ACTIVE",  # CD's family; v1 pruned
    }
    assert outcome.template_images == {"web": f"{outcome.repository_uri}:placeholder"}
    assert "nothing to deploy: service web already runs web:1" in text
    assert "environment[DB_PASSWORD]: *** -> ***" in text
    assert "also-not-shown" not in text


def test_demo_command_exits_zero(capsys):
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert demo.run(parser.parse_args(["--no-color"])) == 0
    assert "web:2" in capsys.readouterr().out
