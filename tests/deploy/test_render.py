"""Rendering: accepted fields from botocore's model, images, provenance tags within AWS limits."""
from __future__ import annotations

import boto3
import botocore.session
import pytest

from ecs_template_deploy.errors import BadInputError, FamilyClashError, MissingImageError, UnknownContainerError
from ecs_template_deploy.render import (
    IMAGE_TAG_PREFIX, MAX_KEY_LENGTH, MAX_TAGS, MAX_VALUE_LENGTH, RECORD_TAGS, TEMPLATE_TAG, ImageSelection, choose_images,
    provenance_tags, registrable_fields, render, same_definition, target_family,
)
from ecs_template_deploy.views import TaskDefinition

from .conftest import FLUENT_BIT, PLACEHOLDER, WEB_REPO

TEMPLATE_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web-template:7"


@pytest.fixture(scope="module")
def fields():
    return registrable_fields(boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"))


def template(containers=None, **extra) -> TaskDefinition:
    data = {
        "taskDefinitionArn": TEMPLATE_ARN, "family": "web-template", "revision": 7, "status": "ACTIVE",
        "containerDefinitions": containers or [{"name": "web", "image": PLACEHOLDER}],
        "compatibilities": ["EC2", "FARGATE"], "requiresAttributes": [{"name": "ecs.capability.secrets.asm"}],
        "registeredAt": "2026-01-01T00:00:00Z", "registeredBy": "arn:aws:iam::123456789012:role/terraform",
        **extra,
    }
    return TaskDefinition(data, {"team": "payments", "aws:cloudformation:stack-name": "x"})


def test_accepted_fields_come_from_the_botocore_model(fields):
    model = botocore.session.get_session().get_service_model("ecs")
    assert fields == set(model.operation_model("RegisterTaskDefinition").input_shape.members)
    assert {"family", "containerDefinitions", "runtimePlatform", "ephemeralStorage", "tags"} <= fields
    assert not {"taskDefinitionArn", "revision", "status", "compatibilities", "registeredAt"} & fields


def test_render_copies_accepted_fields_including_newer_ones_and_drops_the_rest(fields):
    newer = {"enableFaultInjection": True}  # in the model, absent from moto's register
    rendered = render(template(**newer, pidMode="task"), "web", {"web": f"{WEB_REPO}:v1"}, fields)
    assert rendered["enableFaultInjection"] is True
    assert rendered["pidMode"] == "task"
    for dropped in ("taskDefinitionArn", "revision", "status", "compatibilities", "requiresAttributes",
                    "registeredAt", "registeredBy"):
        assert dropped not in rendered
    assert rendered["family"] == "web"
    assert rendered["containerDefinitions"] == [{"name": "web", "image": f"{WEB_REPO}:v1"}]


def test_render_keeps_template_tags_except_reserved_and_adds_provenance(fields):
    rendered = render(template(), "web", {"web": f"{WEB_REPO}:v1"}, fields)
    tags = {t["key"]: t["value"] for t in rendered["tags"]}
    assert tags == {"team": "payments", TEMPLATE_TAG: TEMPLATE_ARN, IMAGE_TAG_PREFIX + "web": f"{WEB_REPO}:v1"}


def test_render_does_not_mutate_the_template(fields):
    source = template()
    render(source, "web", {"web": f"{WEB_REPO}:v1"}, fields)
    assert source.container_definitions[0]["image"] == PLACEHOLDER


def test_too_many_tags_is_bad_input(fields):
    crowded = TaskDefinition(template().raw, {f"k{i}": "v" for i in range(MAX_TAGS - 1)})
    with pytest.raises(BadInputError, match="remove 5 tags from the template"):
        render(crowded, "web", {"web": f"{WEB_REPO}:v1"}, fields)


def test_a_template_leaves_room_for_the_known_good_and_bake_records(fields):
    """ECS allows 50 tags a revision: a revision registered with 49 could never be
    marked known good (its mark, bake record and service names need 4 more)."""
    images = {"web": f"{WEB_REPO}:v1"}
    room = MAX_TAGS - RECORD_TAGS - 2  # the template's tags + where it came from (template, one image)
    assert len(render(TaskDefinition(template().raw, {f"k{i}": "v" for i in range(room)}), "web", images,
                      fields)["tags"]) == MAX_TAGS - RECORD_TAGS
    with pytest.raises(BadInputError, match="the known-good and bake records need 4 more.*remove 1 tags"):
        render(TaskDefinition(template().raw, {f"k{i}": "v" for i in range(room + 1)}), "web", images, fields)


def test_provenance_tags_fit_aws_limits_and_stay_distinct():
    long_a, long_b = "c" * 200 + "a", "c" * 200 + "b"
    long_image = "registry.example.com/" + "/".join(["segment" * 4] * 8) + ":" + "t" * 100
    tags = provenance_tags("arn:aws:ecs:us-east-1:1:task-definition/" + "f" * 255 + ":1",
                           {long_a: long_image, long_b: "web:[v1]"})
    assert len(tags) == 3
    for key, value in tags.items():
        assert len(key) <= MAX_KEY_LENGTH and len(value) <= MAX_VALUE_LENGTH
        assert all(c.isalnum() or c in " _.:/=+-@~" for c in key + value)
    assert len(tags[TEMPLATE_TAG]) == MAX_VALUE_LENGTH
    image_keys = [k for k in tags if k.startswith(IMAGE_TAG_PREFIX)]
    assert len(set(image_keys)) == 2  # cut keys end with distinct hashes


def test_short_provenance_tags_are_written_verbatim():
    assert provenance_tags(TEMPLATE_ARN, {"web": f"{WEB_REPO}:v1"}) == {
        TEMPLATE_TAG: TEMPLATE_ARN, "ecs-template-deploy:image:web": f"{WEB_REPO}:v1"}


@pytest.mark.parametrize(("template_family", "family", "expected"), [
    ("web-template", None, "web"), ("web-template", "web-live", "web-live"), ("web", "web-cd", "web-cd"),
])
def test_target_family(template_family, family, expected):
    assert target_family(template_family, family) == expected


@pytest.mark.parametrize(("template_family", "family"), [("web", None), ("web-template", "web-template"), ("-template", None)])
def test_target_family_never_the_template_family(template_family, family):
    with pytest.raises(FamilyClashError):
        target_family(template_family, family)


MULTI = [{"name": "web", "image": PLACEHOLDER}, {"name": "migrate", "image": PLACEHOLDER},
         {"name": "log_router", "image": FLUENT_BIT}]


def test_tag_with_repository_covers_every_matching_container():
    chosen = choose_images(template(MULTI), ImageSelection.from_options(tag="v2", repository="web", keep=["log_router"]))
    assert chosen == {"web": f"{WEB_REPO}:v2", "migrate": f"{WEB_REPO}:v2", "log_router": FLUENT_BIT}


def test_explicit_images_per_container():
    chosen = choose_images(template(MULTI), ImageSelection.from_options(
        [f"web={WEB_REPO}:v3", f"migrate={WEB_REPO}:v3", "log_router=fluent/fluent-bit:3.0"]))
    assert chosen == {"web": f"{WEB_REPO}:v3", "migrate": f"{WEB_REPO}:v3", "log_router": "fluent/fluent-bit:3.0"}


def test_container_left_without_image_is_named():
    with pytest.raises(MissingImageError, match="migrate, log_router left without an image"):
        choose_images(template(MULTI), ImageSelection.from_options([f"web={WEB_REPO}:v3"]))


def test_tag_without_repository_needs_a_single_container():
    with pytest.raises(MissingImageError, match="ambiguous"):
        choose_images(template(MULTI), ImageSelection.from_options(tag="v2"))
    assert choose_images(template(), ImageSelection.from_options(tag="v2")) == {"web": f"{WEB_REPO}:v2"}


def test_unknown_container_and_unmatched_repository():
    with pytest.raises(UnknownContainerError, match="'api'.*use one of web"):
        choose_images(template(), ImageSelection.from_options(["api=nginx"]))
    with pytest.raises(UnknownContainerError, match="repository 'api'"):
        choose_images(template(), ImageSelection.from_options(tag="v1", repository="api"))


@pytest.mark.parametrize("kwargs", [{}, {"repository": "web"}, {"image_pairs": ["web"]}, {"image_pairs": ["web=a", "web=b"]}])
def test_selection_options_are_checked(kwargs):
    with pytest.raises(BadInputError):
        ImageSelection.from_options(**kwargs)


def test_same_definition_ignores_provenance_tags_only():
    a = {"family": "web", "containerDefinitions": [{"name": "web", "image": "x:1"}],
         "tags": [{"key": "team", "value": "p"}, {"key": TEMPLATE_TAG, "value": "arn:1"}]}
    b = {**a, "tags": [{"key": TEMPLATE_TAG, "value": "arn:2"}, {"key": "team", "value": "p"}]}
    assert same_definition(a, b)
    assert not same_definition(a, {**b, "tags": [{"key": "team", "value": "q"}]})
    assert not same_definition(a, {**a, "containerDefinitions": [{"name": "web", "image": "x:2"}]})
