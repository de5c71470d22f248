"""A team's own approach, described in a file: what is checked before anything
runs (each problem named with its key and what to write), and how its CD
commands run (a working copy, the emulator's endpoint, the virtual clock)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness import approaches
from harness.approaches.command import CD_ACCESS_KEY, CommandRunner
from harness.approaches.described import DescriptionError, install, load
from harness.server import HarnessServer

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = ROOT / "examples" / "article-script"
MODULE = ROOT / "examples" / "template-module"


def test_the_examples_load() -> None:
    article = load(ARTICLE)  # a directory means its harness.toml
    assert article.name == "article-script" and article.rollback is None
    assert article.outputs["template"] == "template_family" and article.changes == {"environment": "extra_environment"}
    module = load(MODULE / "harness.toml")
    assert module.root == ROOT / "terraform" / "modules" / "ecs-template-service"
    assert module.config.parent.name == "examples" and "HARNESS_DEPLOY_EXIT" in module.rollback


@pytest.fixture
def described(tmp_path: Path):
    """A copy of the article's example to break, one key at a time."""
    directory = tmp_path / "own"
    shutil.copytree(ARTICLE, directory)
    path = directory / "harness.toml"

    def edit(old: str, new: str) -> Path:
        text = path.read_text()
        assert old in text, old
        path.write_text(text.replace(old, new))
        return path

    return edit


@pytest.mark.parametrize("old,new,says", [
    ('deploy = "./deploy.sh {image} {cluster} {service} {template}"', "", "[cd] deploy: missing; write deploy ="),
    ('cluster = "cluster_name"', 'cluster = "the_cluster"', "[terraform.outputs] cluster: the configuration has no output 'the_cluster'"),
    ('variables = { name = "{name}" }', 'variables = { nme = "{name}" }', "[terraform] variables.nme: the configuration declares no variable 'nme'"),
    ('environment = "extra_environment"', 'environment = "env"', "[terraform.changes] environment: the configuration declares no variable 'env'"),
    ("{template}\"", "{tempate}\"", "[cd] deploy: unknown placeholder {tempate}"),
    ('name = "article-script"', 'name = "template"', "[approach] name: 'template' is a built-in approach's name"),
    ('name = "article-script"', 'name = "Article Script"', "[approach] name: 'Article Script' is not 3-40 lowercase"),
    ('config = "terraform"', 'config = "tf"', "[terraform] config:"),
    ('rollback = "none"', 'rollback = "./back.sh {tag}"', "[cd] rollback: unknown placeholder {tag}"),
    ('[cd]', '[cd]\nspeed = -1', "[cd] speed: -1 is not a number >= 0"),
    ('[cd]', '[expect]\nrollback = { crash = true }\n\n[cd]', "[expect] rollback.crash: not a failure mode"),
    ('[cd]', '[expect]\nplan_clean = true\n\n[cd]', "[expect] plan_clean: unknown key"),
    ('[approach]', '[approach]\ncolour = "blue"', "[approach] colour: unknown key"),
])
def test_a_bad_description_says_the_key_and_what_to_write(described, old, new, says) -> None:
    path = described(old, new)
    with pytest.raises(DescriptionError) as raised:
        load(path)
    message = str(raised.value)
    assert message.startswith(str(path)) and says in message and "write" in message and "\n" not in message


def test_a_pyproject_table_describes_an_approach_too(tmp_path: Path) -> None:
    shutil.copytree(ARTICLE / "terraform", tmp_path / "terraform")
    text = (ARTICLE / "harness.toml").read_text()
    body = "\n".join(line.replace("[", "[tool.ecs-harness.", 1) if line.startswith("[") else line
                     for line in text.splitlines())
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "ours"\n\n' + body + "\n")
    assert load(tmp_path / "pyproject.toml").name == "article-script"
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "ours"\n')
    with pytest.raises(DescriptionError, match=r"no \[tool.ecs-harness\] table"):
        load(tmp_path / "pyproject.toml")


def test_install_adds_a_row_after_the_six_and_registers_its_class(described) -> None:
    # a name of its own: the session has the examples installed already (pyproject's harness_approaches)
    row = install(load(described('name = "article-script"', 'name = "own-under-test"')))
    try:
        assert approaches.rows()[:6] == approaches.TABLE and approaches.rows()[-1] is row and row.described
        cls = approaches.get("own-under-test")
        assert cls.entry is row and not cls.can_roll_back and cls.facts.cd_calls_server_side
        assert cls.terraform_variables("s1234") == {"name": "s1234"}
        assert cls.named_outputs({"cluster_name": "c", "service_name": "s", "repository_name": "r",
                                  "template_family": "t"})["container_name"] == "app"
    finally:
        approaches._unregister("own-under-test")
    assert "own-under-test" not in approaches.BY_NAME


def test_a_command_runs_in_a_copy_on_the_virtual_clock(tmp_path: Path) -> None:
    source = tmp_path / "team"
    source.mkdir()
    (source / "step.sh").write_text(
        "echo written > out.txt\n"
        "sleep 30\n"  # the shell's sleep: the shim advances the emulator's clock
        # Python's: the harness's sitecustomize replaced time.sleep with a call that
        # advances the emulator's virtual clock (checked first), so no wall time passes.
        'python3 -c "import time; assert time.sleep.__module__ == \'sitecustomize\'; t = time.time(); '
        'time.sleep(15); print(round(time.time() - t))"\n'
        'echo "$AWS_ENDPOINT_URL $AWS_ACCESS_KEY_ID $HARNESS_TAG"\n')
    with HarnessServer(speed=0) as server:
        runner = CommandRunner(source, server.url, wall_timeout=60)
        try:
            before = server.clock.now()
            ran = runner.run("sh step.sh", {"tag": "v7"})
            assert ran.exit_code == 0, ran.output
            assert ran.ended_at - ran.started_at == 45.0 and server.clock.now() - before == 45.0
            assert ran.output.splitlines() == ["15", f"{server.url} {CD_ACCESS_KEY} v7"]
            assert (runner.workdir / "out.txt").exists() and not (source / "out.txt").exists()
            failed = runner.run("echo about to fail; exit 3", {})
            assert failed.exit_code == 3 and failed.last_line == "about to fail"
        finally:
            runner.close()
        server.check()


def test_only_the_cd_commands_calls_are_recorded_as_cd(tmp_path: Path) -> None:
    import boto3

    with HarnessServer(speed=0) as server:
        runner = CommandRunner(tmp_path, server.url)
        harness = boto3.client("ecs", endpoint_url=server.url, region_name="us-east-1",
                               aws_access_key_id="testing", aws_secret_access_key="testing")
        try:
            with server.recording.recording(access_key=CD_ACCESS_KEY) as calls:
                harness.list_clusters()  # the harness looking: not CD's
                ran = runner.run('python3 -c "import boto3; boto3.client(\'ecs\').list_clusters()"', {})
            assert ran.exit_code == 0, ran.output
            assert [call.action for call in calls.calls] == ["ecs:ListClusters"]
        finally:
            runner.close()


def test_compare_refuses_a_bad_file_before_pytest_starts(described, capsys) -> None:
    import argparse

    from harness.commands import compare

    path = described('cluster = "cluster_name"', 'cluster = "nope"')
    parser = argparse.ArgumentParser()
    compare.add_arguments(parser)
    assert compare.run(parser.parse_args(["--approach", str(path), "--only-approaches"])) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("harness compare: error: ") and "no output 'nope'" in err and len(err.splitlines()) == 1
    assert 'cluster = "nope"' in path.read_text()  # the user's file is never written to
