"""The deploy checks that the image is in ECR before it changes anything."""
from __future__ import annotations

import boto3
import pytest

from ecs_template_deploy.cli import main
from ecs_template_deploy.errors import EXIT_BAD_INPUT, EXIT_OK

from .conftest import ACCOUNT, REGION, WEB_REPO, refuse


def test_a_tag_never_pushed_is_refused_and_nothing_changes(moto_world, capsys):
    before = moto_world.snapshot()
    assert main(moto_world.args("deploy", "--tag", "v10")) == EXIT_BAD_INPUT
    err = capsys.readouterr().err.strip()
    assert err == (f"ecs-template-deploy: error: image {WEB_REPO}:v10 for container 'web' is not in ECR (no such image in "
                   f"account {ACCOUNT}, {REGION}): push it first, or check --tag/--image; nothing was changed")
    assert moto_world.snapshot() == before


def test_a_repository_that_does_not_exist_is_refused(moto_world, capsys):
    before = moto_world.snapshot()
    image = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/nope:v1"
    assert main(moto_world.args("deploy", "--image", f"web={image}")) == EXIT_BAD_INPUT
    assert "no such repository" in capsys.readouterr().err
    assert moto_world.snapshot() == before


@pytest.mark.parametrize("image", ["nginx:1", "public.ecr.aws/nginx/nginx:1"])
def test_images_outside_a_private_ecr_registry_are_not_checked(moto_world, image):
    assert main(moto_world.args("deploy", "--image", f"web={image}")) == EXIT_OK


def test_a_digest_is_looked_up_by_digest(moto_world, capsys):
    assert main(moto_world.args("deploy", "--tag", moto_world.digests["v2"])) == EXIT_OK
    assert main(moto_world.args("deploy", "--tag", "sha256:" + "0" * 64)) == EXIT_BAD_INPUT


def test_where_the_check_is_denied_the_deploy_goes_on_and_says_so(moto_world, capsys):
    session = boto3.Session(region_name=REGION)
    refused = refuse(session, "DescribeImages", service="ecr")
    assert main(moto_world.args("deploy", "--tag", "v10"), session=session) == EXIT_OK
    assert refused
    err = capsys.readouterr().err
    assert f"warning: could not check that {WEB_REPO}:v10 is in ECR" in err and "ecr:DescribeImages" in err
