"""The demo runs end to end and leaves the service on v3, the template family untouched."""
from __future__ import annotations

import argparse
from io import StringIO

from rich.console import Console

from harness.commands import demo


def test_demo_deploys_v3_from_the_template_and_prunes_what_no_rollback_needs():
    output = StringIO()
    outcome = demo.run_demo(Console(file=output, no_color=True, width=200))
    text = output.getvalue()

    assert outcome.exit_codes == [0] * 8  # render, diff, deploy v1, again, diff, deploy v2, deploy v3, prune
    assert outcome.service_task_definition == "web:3"
    assert outcome.service_images == {"web": f"{outcome.repository_uri}:v3"}
    assert outcome.revisions == {
        "web-template:1": "ACTIVE", "web-template:2": "ACTIVE",  # Terraform's, never deregistered
        "web:1": "INACTIVE", "web:2": "ACTIVE", "web:3": "ACTIVE",  # CD's: v1 pruned, v2 is where a rollback goes
    }
    assert "kept web:2: the known-good revision a rollback of demo/web from web:3 returns to" in text
    assert outcome.template_images == {"web": f"{outcome.repository_uri}:placeholder"}
    assert "nothing to deploy: service web already runs web:1" in text
    assert "environment[DB_PASSWORD]: *** -> ***" in text
    assert "also-not-shown" not in text


def test_demo_command_exits_zero(capsys):
    parser = argparse.ArgumentParser()
    demo.add_arguments(parser)
    assert demo.run(parser.parse_args(["--no-color"])) == 0
    assert "web:3" in capsys.readouterr().out
