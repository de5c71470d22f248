"""Images in ECR as CI would have pushed them: one distinct manifest per tag.

moto computes an image's digest from its manifest, so a manifest unique to
the tag gives each version its own digest, which is what version consistency,
the report's timelines and the deploy tool's image checks follow.

    digests = push_images(ecr, "web", ["v1", "v2"])    # tag -> sha256:...
    point_tag(ecr, "web", "prod", at="v1")             # the persistent tag moves
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from harness.approaches import ApproachError
from harness.approaches.base import ACCEPTED_MEDIA_TYPES

MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def manifest(label: str) -> str:
    """An image manifest unique to ``label`` (moto's digest is the sha256 of the layer digests)."""
    layer = "sha256:" + hashlib.sha256(label.encode()).hexdigest()
    return json.dumps({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": layer},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 1, "digest": layer}],
    })


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
