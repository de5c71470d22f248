"""Is the image there? Amazon ECR images are looked up before anything changes.

A deploy of a tag that was never pushed would register a revision, start a
rollout whose every task fails to pull, and need a rollback: all avoidable.
For each image the deploy changes that lives in an ECR registry, one
DescribeImages call says whether that tag or digest exists. Only a definite
answer refuses the deploy (no such repository, no such image); where the check
cannot be made (not allowed, ECR unreachable) the deploy goes on, says so, and
the rollout watch catches a pull failure as before. Images in other registries
are not checked.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Callable, Mapping

from botocore.exceptions import ClientError

from .errors import AwsError, ImageNotPushedError, aws_call
from .images import parse_image

if TYPE_CHECKING:  # types only: the tool needs boto3 alone at run time
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_ecr.type_defs import ImageIdentifierTypeDef

ECR_HOST = re.compile(r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$")
NOT_THERE = {"ImageNotFoundException", "RepositoryNotFoundException"}


def check_pushed(ecr_for: Callable[[str], ECRClient], images: Mapping[str, str], *, unchanged: Mapping[str, str] = {},
                 warn: Callable[[str], None] = lambda text: None) -> None:
    """Raise ImageNotPushedError for the first of `images` (container -> image) that
    ECR says does not exist; images equal to `unchanged`'s (already running) are
    skipped. `ecr_for(region)` gives an ECR client for that region."""
    for container, image in images.items():
        if unchanged.get(container) == image:
            continue
        reference = parse_image(image)
        host = ECR_HOST.match(reference.domain or "")
        if host is None or not (reference.tag or reference.digest):
            continue
        # (a tag when there is no digest: checked just above)
        wanted: ImageIdentifierTypeDef = (
            {"imageDigest": reference.digest} if reference.digest else {"imageTag": reference.tag or ""})
        try:
            with aws_call("ecr:DescribeImages"):
                try:
                    ecr_for(host["region"]).describe_images(registryId=host["account"], repositoryName=reference.path,
                                                            imageIds=[wanted])
                except ClientError as err:
                    code = err.response.get("Error", {}).get("Code", "")
                    if code in NOT_THERE:
                        what = ("repository" if code == "RepositoryNotFoundException" else "image")
                        raise ImageNotPushedError(
                            f"image {image} for container {container!r} is not in ECR (no such {what} in account "
                            f"{host['account']}, {host['region']}): push it first, or check --tag/--image; "
                            "nothing was changed") from err
                    raise
        except AwsError as err:
            warn(f"could not check that {image} is in ECR ({err}): deploying it anyway; "
                 "a missing image shows as tasks that fail to pull")
