"""Template task definition -> the definition a deploy registers.

Three things happen here: choosing each container's image from the CLI's
selection, copying every field RegisterTaskDefinition accepts (the set comes
from botocore's service model, so fields AWS adds later pass through), and
writing provenance tags that a rollback or an audit can read later.
"""
from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import BadInputError, FamilyClashError, MissingImageError, UnknownContainerError, shown
from .images import parse_image
from .views import TaskDefinition

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecs import ECSClient

TAG_PREFIX = "ecs-template-deploy:"
TEMPLATE_TAG = TAG_PREFIX + "template"  # value: the template revision's ARN
IMAGE_TAG_PREFIX = TAG_PREFIX + "image:"  # + container name; value: the image deployed
DEPLOYED_TO_PREFIX = TAG_PREFIX + "deployed-to:"  # + a hash of the service ARN; value: the ARN
# Tags a revision gathers after it is registered: its known-good mark, its bake record,
# the service it was proven on, and one more such service. Kept free at registration:
# a revision that cannot take them can never be marked known good.
RECORD_TAGS = 4
TEMPLATE_SUFFIX = "-template"

# AWS tag limits (Tagging AWS resources): per resource, key and value lengths.
MAX_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
RESERVED_TAG_PREFIX = "aws:"
_TAG_PUNCTUATION = set(" _.:/=+-@")


def registrable_fields(ecs: ECSClient) -> frozenset[str]:
    """The request members of RegisterTaskDefinition in this client's service model."""
    shape = ecs.meta.service_model.operation_model("RegisterTaskDefinition").input_shape
    assert shape is not None  # RegisterTaskDefinition takes a request
    return frozenset(shape.members)


def target_family(template_family: str, family: str | None = None) -> str:
    """The family CD registers into: `family`, or the template's without `-template`."""
    if family is None:
        if not template_family.endswith(TEMPLATE_SUFFIX) or template_family == TEMPLATE_SUFFIX:
            raise FamilyClashError(
                f"cannot derive a target family from template family {template_family!r} (no '{TEMPLATE_SUFFIX}' suffix): pass --family"
            )
        family = template_family[: -len(TEMPLATE_SUFFIX)]
    if family == template_family:
        raise FamilyClashError(
            f"target family {family!r} is the template's own family: pass a --family that Terraform does not manage"
        )
    return family


@dataclass(frozen=True)
class ImageSelection:
    """What the CLI says about images: per-container images, or a tag for a repository."""

    images: Mapping[str, str] = field(default_factory=dict)  # container -> image reference
    tag: str | None = None  # a tag, or a digest `sha256:...`
    repository: str | None = None  # which containers `tag` applies to
    keep: frozenset[str] = frozenset()  # containers that deploy the template's image as is

    @classmethod
    def from_options(
        cls,
        image_pairs: Iterable[str] = (),
        tag: str | None = None,
        repository: str | None = None,
        keep: Iterable[str] = (),
    ) -> "ImageSelection":
        images: dict[str, str] = {}
        for pair in image_pairs:
            name, sep, image = pair.partition("=")
            if not sep or not name or not image:
                raise BadInputError(f"--image {shown(pair)} is not CONTAINER=IMAGE: e.g. --image web=123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2")
            if name in images:
                raise BadInputError(f"--image names container {shown(name)} twice: give one image per container")
            images[name] = image
        if repository and not tag:
            raise BadInputError("--repository needs --tag: pass --tag TAG with it (--repository says which containers "
                                "get the tag)")
        if not images and not tag:
            raise BadInputError("no image chosen: pass --image CONTAINER=IMAGE or --tag TAG")
        return cls(images=images, tag=tag, repository=repository, keep=frozenset(keep))


def choose_images(template: TaskDefinition, selection: ImageSelection) -> dict[str, str]:
    """Container name -> the image to deploy, for every container of the template.

    Every container must be covered: by --image, by --tag (its repository, or the
    only container), or by --keep-image. The template's placeholder is never
    deployed by accident.
    """
    template_images = template.images
    names = ", ".join(template_images)

    def check_known(name: str, option: str) -> None:
        if name not in template_images:
            raise UnknownContainerError(
                f"{option} names container {shown(name)}, which template {template.family}:{template.revision} does not have: use one of {names}"
            )

    chosen: dict[str, str] = {}
    for name, image in selection.images.items():
        check_known(name, "--image")
        chosen[name] = str(parse_image(image))
    for name in sorted(selection.keep):
        check_known(name, "--keep-image")
        if name in chosen:
            raise BadInputError(f"container {shown(name)} has both --image and --keep-image: choose one")
        chosen[name] = template_images[name]
    if selection.tag:
        for name in _tag_targets(template, selection, chosen):
            try:
                reference = parse_image(template_images[name])
            except BadInputError as err:
                raise type(err)(f"container {shown(name)} of the template: {err}") from err
            chosen[name] = str(reference.with_tag_or_digest(selection.tag))
    missing = [n for n in template_images if n not in chosen]
    if missing:
        raise MissingImageError(
            f"container(s) {', '.join(missing)} left without an image: give --image NAME=IMAGE for each, "
            "or --keep-image NAME to deploy the template's image as is"
        )
    return {name: chosen[name] for name in template_images}


def _tag_targets(template: TaskDefinition, selection: ImageSelection, chosen: Mapping[str, str]) -> list[str]:
    template_images = template.images
    if selection.repository is None:
        if len(template_images) != 1:
            raise MissingImageError(
                f"--tag without --repository is ambiguous: the template has containers {', '.join(template_images)}; "
                "add --repository REPO or give --image NAME=IMAGE per container"
            )
        (only,) = template_images
        if only in chosen:
            option = "--keep-image" if only in selection.keep else "--image"
            raise BadInputError(f"container {shown(only)} has both {option} and --tag: choose one")
        return [only]
    targets = []
    for name, image in template_images.items():
        try:
            matches = parse_image(image).matches_repository(selection.repository)
        except BadInputError:
            matches = False  # a placeholder that is not an image reference matches no repository
        if matches and name not in chosen:
            targets.append(name)
    if not targets:
        listing = ", ".join(f"{n}={i}" for n, i in template_images.items())
        raise UnknownContainerError(
            f"no container left to tag: none of the template's images ({listing}) is in repository {shown(selection.repository)}; check --repository"
        )
    return targets


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _fit(text: str, limit: int) -> str:
    """Keep `text` within `limit` characters, ending a cut one with a hash of the whole."""
    cleaned = "".join(c if c.isalnum() or c in _TAG_PUNCTUATION else "_" for c in text)
    if len(cleaned) <= limit and cleaned == text:
        return text
    if len(cleaned) <= limit:
        return cleaned
    suffix = "~" + _short_hash(text)
    return cleaned[: limit - len(suffix)] + suffix


def provenance_tags(template_arn: str, images: Mapping[str, str]) -> dict[str, str]:
    """Tags saying where a revision came from, within AWS tag limits.

    Over-long keys or values are cut and end in `~` + 8 hex of a hash of the
    whole, so different originals stay distinct.
    """
    tags = {TEMPLATE_TAG: _fit(template_arn, MAX_VALUE_LENGTH)}
    for name, image in images.items():
        tags[_fit(IMAGE_TAG_PREFIX + name, MAX_KEY_LENGTH)] = _fit(image, MAX_VALUE_LENGTH)
    return tags


def deployed_to_key(service_arn: str) -> str:
    """The tag key naming one service a revision was deployed to (keys are at most 128
    characters): `prune` finds every service that may run a revision by it."""
    return DEPLOYED_TO_PREFIX + hashlib.sha256(service_arn.encode()).hexdigest()[:16]


def is_provenance_tag(key: str) -> bool:
    return key.startswith(TAG_PREFIX)


def render(template: TaskDefinition, family: str, images: Mapping[str, str], fields: frozenset[str],
           service_arn: str = "") -> dict[str, Any]:
    """The RegisterTaskDefinition request: the template with `family`, `images` and tags
    (the template's, where it came from, and the service it is deployed to)."""
    definition: dict[str, Any] = {
        key: copy.deepcopy(value)
        for key, value in template.raw.items()
        if key in fields and key not in {"family", "tags"} and value is not None
    }
    definition["family"] = family
    for container in definition.get("containerDefinitions", []):
        container["image"] = images[container["name"]]
    kept = {k: v for k, v in template.tags.items() if not k.startswith(RESERVED_TAG_PREFIX) and not is_provenance_tag(k)}
    provenance = provenance_tags(template.arn, images)
    if service_arn and len(service_arn) <= MAX_VALUE_LENGTH:
        provenance[deployed_to_key(service_arn)] = service_arn
    if len(kept) + len(provenance) + RECORD_TAGS > MAX_TAGS:
        raise BadInputError(
            f"template {template.family}:{template.revision} has {len(kept)} tags, the deploy adds {len(provenance)} and "
            f"the known-good and bake records need {RECORD_TAGS} more: AWS allows {MAX_TAGS} a revision; remove "
            f"{len(kept) + len(provenance) + RECORD_TAGS - MAX_TAGS} tags from the template"
        )
    definition["tags"] = [{"key": k, "value": v} for k, v in {**kept, **provenance}.items()]
    return definition


def registrable_view(task_definition: TaskDefinition, fields: frozenset[str]) -> dict[str, Any]:
    """A described revision in the same shape `render` produces, for comparison."""
    view = {k: v for k, v in task_definition.raw.items() if k in fields and k != "tags" and v is not None}
    view["tags"] = [{"key": k, "value": v} for k, v in task_definition.tags.items()]
    return view


def without_provenance(definition: Mapping[str, Any]) -> dict[str, Any]:
    """`definition` minus provenance tags, tags sorted, for equality checks."""
    result = dict(definition)
    tags = [t for t in definition.get("tags", []) if not is_provenance_tag(t["key"])]
    result["tags"] = sorted(tags, key=lambda t: t["key"])
    return result


def same_definition(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal apart from provenance tags (the template ARN may differ, the content not)."""
    return without_provenance(a) == without_provenance(b)


def identical_definition(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal content and provenance (same template revision, same images): what
    one deploy registers, so a revision that passes may be reused by it."""
    def provenance(definition: Mapping[str, Any]) -> dict[str, str]:
        # where it came from (template, images), not what happened to it since: the
        # known-good and bake records a revision gathers do not make it another one
        return {t["key"]: t["value"] for t in definition.get("tags", [])
                if t["key"] == TEMPLATE_TAG or t["key"].startswith(IMAGE_TAG_PREFIX)}
    return same_definition(a, b) and provenance(a) == provenance(b)
