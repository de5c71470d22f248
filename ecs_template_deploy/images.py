"""Container image references: parse, validate, replace the tag or digest.

The grammar is Docker's (distribution/reference `regexp.go`):
``[domain[:port]/]path[:tag][@algorithm:hex]``. The domain is the first
component when it contains ``.`` or ``:``, is ``localhost``, or has an upper
case letter; otherwise the whole name is a path (Docker Hub). Tags and
digests follow the OCI distribution spec: ASCII only (a tag of Unicode letters
is no tag a registry serves), an algorithm in lower case, sha256 and sha512
with their exact lengths of lower-case hex.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .errors import InvalidImageError, shown

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}"  # OCI distribution spec, "tag"; not \w, which matches 'é'
# OCI image spec's digest (algorithm in lower case) within Docker's reference grammar (hex, 32 or more)
_DIGEST = r"[a-z][a-z0-9]*(?:[-_+.][a-z][a-z0-9]*)*:[0-9a-fA-F]{32,}"
# the registered algorithms, exactly (OCI image spec, "Digests")
REGISTERED_DIGESTS = {"sha256": re.compile(r"[a-f0-9]{64}"), "sha512": re.compile(r"[a-f0-9]{128}")}
TAG_HINT = ("use 1 to 128 ASCII letters, digits, '_', '.' and '-', not starting with '.' or '-' (a tag in the "
            "OCI distribution spec)")
DIGEST_HINT = "give sha256: followed by 64 lower-case hex digits"

# fullmatch: `$` would let a trailing newline through
DOMAIN_RE = re.compile(_DOMAIN)
PATH_RE = re.compile(_PATH)
TAG_RE = re.compile(_TAG)
DIGEST_RE = re.compile(_DIGEST)
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
        if not TAG_RE.fullmatch(value):
            raise InvalidImageError(f"invalid tag {shown(value)}: {TAG_HINT}; or sha256:<64 hex> for a digest")
        return replace(self, tag=value, digest=None)

    def __str__(self) -> str:
        text = self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def _check_digest(digest: str, whole: str) -> None:
    algorithm, _, encoded = digest.partition(":")
    registered = REGISTERED_DIGESTS.get(algorithm)
    if not DIGEST_RE.fullmatch(digest) or (registered is not None and not registered.fullmatch(encoded)):
        where = "" if digest == whole else f" in image {shown(whole)}"
        raise InvalidImageError(f"invalid digest {shown(digest)}{where}: {DIGEST_HINT}")


def parse_image(text: str) -> ImageReference:
    """Parse and validate an image reference, or raise InvalidImageError naming it."""
    hint = "expected [registry/]repository[:tag][@sha256:digest], e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.4.2"
    if not text or text != text.strip():
        raise InvalidImageError(f"invalid image reference {shown(text)}: {hint}")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        _check_digest(digest, text)
    tag = None
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        rest, tag = rest[:colon], rest[colon + 1:]
        if not TAG_RE.fullmatch(tag):
            raise InvalidImageError(f"invalid tag {shown(tag)} in image {shown(text)}: {TAG_HINT}")
    domain, path = None, rest
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        domain, path = first, remainder
        if not DOMAIN_RE.fullmatch(domain):
            raise InvalidImageError(f"invalid registry {shown(domain)} in image {shown(text)}: {hint}")
    if not PATH_RE.fullmatch(path):
        raise InvalidImageError(
            f"invalid repository {shown(path)} in image {shown(text)}: use lower-case letters, digits and single separators (. _ __ -) between '/'-separated parts"
        )
    name = f"{domain}/{path}" if domain else path
    if len(name) > NAME_MAX_LENGTH:
        raise InvalidImageError(f"image name in {shown(text)} is {len(name)} characters, over the limit of "
                                f"{NAME_MAX_LENGTH}: use a shorter registry or repository name")
    return ImageReference(domain=domain, path=path, tag=tag, digest=digest)
