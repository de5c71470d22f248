"""Container image references: parse, validate, replace the tag or digest.

The grammar is Docker's (distribution/reference `regexp.go`):
``[domain[:port]/]path[:tag][@algorithm:hex]``. The domain is the first
component when it contains ``.`` or ``:``, is ``localhost``, or has an upper
case letter; otherwise the whole name is a path (Docker Hub).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .errors import InvalidImageError

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[\w][\w.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

DOMAIN_RE = re.compile(rf"^{_DOMAIN}$")
PATH_RE = re.compile(rf"^{_PATH}$")
TAG_RE = re.compile(rf"^{_TAG}$")
DIGEST_RE = re.compile(rf"^{_DIGEST}$")
SHA256_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
NAME_MAX_LENGTH = 255


@dataclass(frozen=True)
class ImageReference:
    """A parsed image reference; `str()` gives it back in canonical form."""

    domain: str | None
    path: str
    tag: str | None = None
    digest: str | None = None

    @property
    def repository(self) -> str:
        """The name without tag or digest, as written (registry included)."""
        return f"{self.domain}/{self.path}" if self.domain else self.path

    def matches_repository(self, repository: str) -> bool:
        """True when `repository` names this image's repository, with or without registry."""
        return repository.rstrip("/") in {self.repository, self.path}

    def with_tag_or_digest(self, value: str) -> "ImageReference":
        """Replace the version: a value starting ``sha256:`` is a digest, anything else a tag.

        A new tag drops an old digest (it pinned the old version) and vice versa.
        """
        if value.startswith("sha256:"):
            _check_digest(value, value)
            return replace(self, tag=None, digest=value)
        if not TAG_RE.match(value):
            raise InvalidImageError(
                f"invalid image tag {value!r}: use letters, digits, '_', '.', '-' (max 128, not starting with '.' or '-'), or sha256:<64 hex>"
            )
        return replace(self, tag=value, digest=None)

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _check_digest(digest: str, whole: str) -> None:
    if not DIGEST_RE.match(digest) or (digest.startswith("sha256:") and not SHA256_RE.match(digest)):
        raise InvalidImageError(
            f"invalid image digest in {whole!r}: a digest is sha256: followed by 64 lower-case hex digits"
        )


def parse_image(text: str) -> ImageReference:
    """Parse and validate an image reference, or raise InvalidImageError naming it."""
    hint = "expected [registry/]repository[:tag][@sha256:digest], e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"
    if not text or text != text.strip():
        raise InvalidImageError(f"invalid image reference {text!r}: {hint}")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        _check_digest(digest, text)
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        if not TAG_RE.match(tag):
            raise InvalidImageError(f"invalid image tag {tag!r} in {text!r}: {hint}")
    domain, path = None, rest
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, remainder
        if not DOMAIN_RE.match(domain):
            raise InvalidImageError(f"invalid registry {domain!r} in image {text!r}: {hint}")
    if not PATH_RE.match(path):
        raise InvalidImageError(
            f"invalid repository {path!r} in image {text!r}: use lower-case letters, digits and single separators (. _ __ -) between '/'-separated parts"
        )
    name = f"{domain}/{path}" if domain else path
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidImageError(f"image name in {text!r} is {len(name)} characters: the limit is {NAME_MAX_LENGTH}")
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest)
