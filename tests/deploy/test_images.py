"""Image references follow Docker's grammar; --tag replaces the tag or the digest."""
from __future__ import annotations

import pytest

from ecs_template_deploy.errors import InvalidImageError
from ecs_template_deploy.images import parse_image

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "domain", "path", "tag", "digest"),
    [
        ("nginx", None, "nginx", None, None),
        ("nginx:1.27", None, "nginx", "1.27", None),
        ("library/nginx:latest", None, "library/nginx", "latest", None),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web:v1.2.3",
         "123456789012.dkr.ecr.us-east-1.amazonaws.com", "team/web", "v1.2.3", None),
        ("localhost:5000/web", "localhost:5000", "web", None, None),
        ("localhost/web:x", "localhost", "web", "x", None),
        (f"ghcr.io/org/app@{DIGEST}", "ghcr.io", "org/app", None, DIGEST),
        (f"ghcr.io/org/app:v1@{DIGEST}", "ghcr.io", "org/app", "v1", DIGEST),
        ("registry:5000/a__b/c-d.e_f:T_1", "registry:5000", "a__b/c-d.e_f", "T_1", None),
        ("web:_" + "x" * 127, None, "web", "_" + "x" * 127, None),  # 128: the OCI spec's longest tag
        (f"web@sha512:{'cd' * 64}", None, "web", None, f"sha512:{'cd' * 64}"),
    ],
)
def test_valid_references_parse_into_parts_and_back(text, domain, path, tag, digest):
    image = parse_image(text)
    assert (image.domain, image.path, image.tag, image.digest) == (domain, path, tag, digest)
    assert str(image) == text


@pytest.mark.parametrize(
    "text",
    [
        "", " nginx", "Web/App:1", "web app", "web:", "web:-bad", "web:" + "x" * 129, "web@sha256:short",
        "web@sha256:" + "AB" * 32, "web//app", "web/-app", "-registry.io/web", "web:tag:extra", "a" * 256,
        "web_/app", "PLACEHOLDER",
        # ASCII only (the OCI distribution spec's grammar), nothing after the end
        "web:stablé", "web:ｖ１", "web:v٣", "web:v1\n", "ｗｅｂ:v1", "web@sha256:" + "é" * 64,
        "web@SHA256:" + "ab" * 32, "web@sha512:" + "ab" * 32, "web@sha256:" + "ab" * 32 + "\n",
    ],
)
def test_invalid_references_are_refused_with_the_reference_named(text):
    with pytest.raises(InvalidImageError) as caught:
        parse_image(text)
    message = str(caught.value)
    assert "\n" not in message
    assert repr(text) in message or "image" in message


def test_tag_replaces_tag_and_drops_digest():
    image = parse_image(f"ghcr.io/org/app:v1@{DIGEST}")
    assert str(image.with_tag_or_digest("v2")) == "ghcr.io/org/app:v2"


def test_digest_value_replaces_tag():
    image = parse_image("ghcr.io/org/app:v1")
    assert str(image.with_tag_or_digest(DIGEST)) == f"ghcr.io/org/app@{DIGEST}"


@pytest.mark.parametrize("value", ["sha256:1234", "bad tag", ".hidden", "", "stablé", "v1\n", "x" * 129, "ｖ１"])
def test_invalid_replacement_is_refused(value):
    with pytest.raises(InvalidImageError):
        parse_image("ghcr.io/org/app:v1").with_tag_or_digest(value)


@pytest.mark.parametrize("value, said", [
    ("stablé", "invalid tag 'stablé': use 1 to 128 ASCII letters, digits, '_', '.' and '-'"),
    ("sha256:" + "AB" * 32, "invalid digest 'sha256:ABAB"),
    ("x" * 102400, "invalid tag '" + "x" * 40 + "…' (102400 characters): use 1 to 128"),
])
def test_a_refused_tag_or_digest_is_named_and_cut_when_long(value, said):
    with pytest.raises(InvalidImageError) as refused:
        parse_image("ghcr.io/org/app:v1").with_tag_or_digest(value)
    assert str(refused.value).startswith(said) and len(str(refused.value)) < 400


def test_repository_matches_with_or_without_registry():
    image = parse_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/web:placeholder")
    assert image.matches_repository("123456789012.dkr.ecr.us-east-1.amazonaws.com/web")
    assert image.matches_repository("web")
    assert not image.matches_repository("we")
    assert not image.matches_repository("other.registry.io/web")
