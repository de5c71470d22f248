"""Images in ECR as CI would have pushed them: one distinct manifest per tag.

moto computes an image's digest from its manifest, so a manifest unique to
the tag gives each version its own digest, which is what version consistency,
the report's timelines and the deploy tool's image checks follow.

    digests = push_images(ecr, "web", ["v1", "v2"])    # tag -> sha256:...
    point_tag(ecr, "web", "prod", at="v1")             # the persistent tag moves
"""
from __future__ import annotations

from typing import Any, Iterable

from harness.approaches import ApproachError
from harness.approaches.base import ACCEPTED_MEDIA_TYPES
from harness.backends.images import MANIFEST_TYPE, manifest

def push_images(ecr: Any, repository: str, tags: Iterable[str]) -> dict[str, str]:
    """Push one distinct image per tag; returns tag -> digest."""
    return {
        tag: ecr.put_image(repositoryName=repository, imageManifest=manifest(tag), imageTag=tag,
                           imageManifestMediaType=MANIFEST_TYPE)["image"]["imageId"]["imageDigest"]
        for tag in tags
    }


def point_tag(ecr: Any, repository: str, tag: str, at: str) -> None:
    """Make ``tag`` name the image ``at`` names (a no-op if it already does)."""
    found = ecr.batch_get_image(repositoryName=repository, imageIds=[{"imageTag": at}],
                                acceptedMediaTypes=list(ACCEPTED_MEDIA_TYPES))["images"]
    if not found:
        raise ApproachError(f"no image tagged {at!r} in {repository}: push it before pointing {tag!r} at it")
    try:  # the found image's own media type: a real build's may be an OCI manifest or index
        ecr.put_image(repositoryName=repository, imageManifest=found[0]["imageManifest"], imageTag=tag,
                      imageManifestMediaType=found[0].get("imageManifestMediaType") or MANIFEST_TYPE)
    except ecr.exceptions.ImageAlreadyExistsException:
        pass


def digests_by_tag(ecr: Any, repository: str) -> dict[str, str]:
    """Every tag in ``repository`` -> its digest."""
    return {tag: image["imageDigest"] for image in ecr.describe_images(repositoryName=repository)["imageDetails"]
            for tag in image.get("imageTags", [])}
