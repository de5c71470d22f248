"""What a new user meets first: `--version`, and output into a reader that goes
away (`render | head`, a dying log shipper) without a traceback or a half-done deploy."""
from __future__ import annotations

import contextlib
import io

from ecs_template_deploy import __version__
from ecs_template_deploy.cli import main


class ReaderGone(io.StringIO):
    """A pipe whose reader left after `keep` characters."""

    def __init__(self, keep: int = 0) -> None:
        super().__init__()
        self.keep = keep

    def write(self, text: str) -> int:
        if self.tell() + len(text) > self.keep:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(text)


def test_version_is_printed_and_exits_zero(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"ecs-template-deploy {__version__}\n"


def test_version_is_the_one_the_package_declares():
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ecs_template_deploy.__version__"}
    assert __version__.count(".") == 2


def test_render_into_a_reader_that_left_ends_quietly(moto_world, capsys):
    gone = ReaderGone(keep=10)
    with contextlib.redirect_stdout(gone):
        code = main(moto_world.args("render", "--tag", "v1"))
    assert code == 0
    assert len(gone.getvalue()) <= 10     # what the reader took; nothing was forced after the break
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err


def test_a_deploy_whose_log_reader_left_carries_on_and_says_so_on_stderr(moto_world, capsys):
    before = moto_world.service_task_definition()
    with contextlib.redirect_stdout(ReaderGone()):
        code = main(moto_world.args("deploy", "--tag", "v2"))
    assert code == 0
    after = moto_world.service_task_definition()
    assert after != before and after.endswith(":task-definition/web:1")  # the revision was registered and deployed
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
