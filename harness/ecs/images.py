"""Container images: tag -> digest through moto's ECR, and declared behaviours.

An image URI on ECR (`<account>.dkr.ecr.<region>.amazonaws.com/repo:tag` or
`...@sha256:...`) resolves through moto's ECR backend in this process; a tag or
repository that does not exist fails the pull (`CannotPullContainerError`).
Images outside ECR (`nginx:1.27`) always resolve, to a digest derived from the
reference, unless a scenario declares them missing.

A scenario declares how an image behaves (keyed by digest, by full reference,
or by `repo:tag`), e.g. `ImageBehaviour(crash_after=20)`.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass

from harness.ecs.moto_state import MotoState
from harness.ecs.params import refuse_unknown_fields

ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repo>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)


class ImagePullError(Exception):
    """The image cannot be pulled; the message is ECS's stoppedReason."""


MAX_SECONDS = 366 * 86400.0  # a behaviour's times: at most a year


@dataclass(frozen=True)
class ImageBehaviour:
    """How a container running this image behaves. Defaults: a healthy app."""

    crash_after: float | None = None         # essential container exits N s after RUNNING, code 1
    exit_code: int | None = None             # ... or with this code, `exit_after` s after RUNNING
    exit_after: float | None = None          #     (a one-off task that finishes: exit_code 0)
    container_health: str = "pass"           # "pass" | "fail": its container health check
    target_health: str = "pass"              # "pass" | "fail": target group health check
    target_health_fails_every: int | None = None  # every N-th task of it fails its target group checks
                                             # (a trickle below the circuit breaker's threshold)
    start_seconds: float | None = None       # pulled -> RUNNING (slow start); None: parameter
    pull_seconds: float | None = None        # None: from size_mb, else parameter image_pull_seconds
    size_mb: float | None = None             # compressed size: pulls in size / image_pull_mb_per_second where
                                             # the profile gives that rate (Fargate pulls grow with size)
    missing: bool = False                    # pull fails as if absent from the registry
    alarm: str | None = None                 # a CloudWatch alarm it drives into ALARM (errors, latency) ...
    alarm_after: float = 0.0                 # ... this long after a task of it starts serving production traffic

    @classmethod
    def from_dict(cls, values: dict) -> "ImageBehaviour":
        if not isinstance(values, dict):
            raise ValueError(f"an image behaviour is an object of fields, got {values!r}")
        refuse_unknown_fields(cls, values, "image behaviour field")
        # Seconds: finite, from 0 to a year (NaN restarted tasks forever; a word broke every tick)
        size = values.get("size_mb")
        if size is not None and (isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= 1e6):
            raise ValueError(f"size_mb must be a number of megabytes above 0 (at most 1e6), got {size!r}")
        for key in ("crash_after", "exit_after", "start_seconds", "pull_seconds", "alarm_after"):
            value = values.get(key)
            if value is None and (key != "alarm_after" or key not in values):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= MAX_SECONDS:
                raise ValueError(f"{key} must be a number of seconds from 0 to {MAX_SECONDS:g}, got {value!r}")
        code = values.get("exit_code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 255):
            raise ValueError(f"exit_code must be a whole number from 0 to 255, got {code!r}")
        for key in ("missing",):
            if not isinstance(values.get(key, False), bool):
                raise ValueError(f"{key} must be true or false, got {values[key]!r}")
        if values.get("alarm") is not None and not isinstance(values["alarm"], str):
            raise ValueError(f"alarm must be an alarm name, got {values['alarm']!r}")
        for key in ("container_health", "target_health"):
            if values.get(key, "pass") not in ("pass", "fail"):
                raise ValueError(f"{key} must be 'pass' or 'fail', got {values[key]!r}")
        every = values.get("target_health_fails_every")
        if every is not None and (not isinstance(every, int) or every < 1):
            raise ValueError(f"target_health_fails_every must be a whole number of tasks, 1 or more, got {every!r}")
        if (values.get("exit_code") is None) != (values.get("exit_after") is None):
            raise ValueError("exit_code and exit_after go together: the container exits with exit_code exit_after s after RUNNING")
        return cls(**values)

    @property
    def exit(self) -> tuple[float, int] | None:
        """(seconds after RUNNING, exit code) of the container's own exit, if it exits."""
        if self.exit_after is not None:
            assert self.exit_code is not None  # from_dict accepts them only together
            return self.exit_after, int(self.exit_code)
        if self.crash_after is not None:
            return self.crash_after, 1
        return None

    def as_dict(self) -> dict:
        return asdict(self)


HEALTHY = ImageBehaviour()


def _reference_digest(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def _repo_tag(image: str) -> str:
    """`host/path/repo:tag` -> `repo:tag` (the last path element)."""
    return image.rsplit("/", 1)[-1]


COMMAND_PREFIX = "command:"


def command_key(command: list[str] | tuple[str, ...] | str) -> str:
    """The key a behaviour declared for a container command is kept under."""
    return COMMAND_PREFIX + (command if isinstance(command, str) else " ".join(command))


class Images:
    def __init__(self, moto: MotoState) -> None:
        self.moto = moto
        self._behaviours: dict[str, ImageBehaviour] = {}

    def declare(self, image_or_digest: str, behaviour: ImageBehaviour | dict) -> None:
        if isinstance(behaviour, dict):
            behaviour = ImageBehaviour.from_dict(behaviour)
        if not image_or_digest:
            raise ValueError("declare an image behaviour for a digest, an image reference or repo:tag")
        self._behaviours[image_or_digest] = behaviour

    def declare_command(self, command: list[str] | str, behaviour: ImageBehaviour | dict) -> None:
        """How a container behaves when it runs `command` (a task definition's or
        a RunTask override's), whatever its image: e.g. migrations exiting 0."""
        if not command:
            raise ValueError("declare a command behaviour for a non-empty command, e.g. ['bin/migrate', '--yes']")
        self.declare(command_key(command), behaviour)

    def reset(self) -> None:
        self._behaviours.clear()

    def declared(self) -> dict[str, dict]:
        return {key: b.as_dict() for key, b in sorted(self._behaviours.items())}

    def behaviour(self, image: str, digest: str | None, command: list[str] | None = None) -> ImageBehaviour:
        """A declared command wins over the image (an override runs other code)."""
        for key in (command_key(command) if command else None, digest, image, _repo_tag(image)):
            if key and key in self._behaviours:
                return self._behaviours[key]
        return HEALTHY

    def resolve(self, image: str) -> str:
        """The digest `image` points at now; raises ImagePullError if it cannot be pulled
        (absent from the registry, or declared missing by reference or by digest)."""
        if self.behaviour(image, None).missing:
            raise ImagePullError(self._not_found(image))
        digest = self._digest(image)
        if self.behaviour(image, digest).missing:  # a tag that names a digest declared unpullable
            raise ImagePullError(self._not_found(image))
        return digest

    def _digest(self, image: str) -> str:
        match = ECR_URI.match(image)
        if not match:
            if "@sha256:" in image:
                return image.split("@", 1)[1]
            return _reference_digest(image)
        backend = self.moto.ecr(match["account"], match["region"])
        repo = backend.repositories.get(match["repo"])
        if repo is None:
            raise ImagePullError(self._not_found(image))
        wanted_digest, tag = match["digest"], match["tag"] or ("latest" if not match["digest"] else None)
        for ecr_image in repo.images:
            if wanted_digest and ecr_image.image_digest == wanted_digest:
                return wanted_digest
            if not wanted_digest and tag in ecr_image.image_tags:
                return ecr_image.image_digest
        raise ImagePullError(self._not_found(image))

    @staticmethod
    def _not_found(image: str) -> str:
        return (
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): "
            f"failed to resolve ref {image}: {image}: not found"
        )
