"""The scenarios' images for backends where tasks really run (LocalStack's ECS
with Docker, real AWS): built with the Docker SDK from a tiny base image and
pushed to the backend's ECR.

On the simulator a scenario declares how an image behaves
(``harness.ecs.images.ImageBehaviour``); where containers really run, that
behaviour has to be in the image. ``program(behaviour)`` turns the same
declaration into the container's shell program on busybox: serve HTTP on
``PORT`` (busybox ``httpd``), start late, exit (crash) after so many seconds,
answer the target group's health checks with 404 instead of 200, and ship
``/healthy`` for a container health check (``CMD-SHELL /healthy``) that
passes once the server is up, or never (``REAL_HEALTH_CHECK`` in
``harness.worlds.tool`` runs it). What an image cannot carry is refused with the reason
(``ImageError``): an alarm it drives (the container would need AWS credentials
to publish metrics), a pull time, "every N-th task" (tasks of one image are
identical: it becomes one task in N on average, at random, only when asked
with ``approximate=True``). A "missing" image is one never pushed.

    digests = build_and_push(engine(), ecr, "123456789012.dkr.ecr.us-east-1.amazonaws.com/app",
                             {"v1": HEALTHY, "v9-broken": ImageBehaviour(crash_after=5)})
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import tarfile
from typing import Any, Mapping

from harness.ecs.images import ImageBehaviour

# busybox from the Docker Official Images' mirror on ECR Public (no Docker Hub rate limit)
BASE_IMAGE = "public.ecr.aws/docker/library/busybox:1.37"
PORT = 8080
# What the emulators are pushed instead of a build: a manifest per label (moto derives the digest from it).
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


class ImageError(Exception):
    """An image that cannot be built or pushed; the message says why and what to do."""


def program(behaviour: ImageBehaviour, approximate: bool = False) -> str:
    """The container's shell program for ``behaviour`` (busybox sh)."""
    if behaviour.alarm is not None:
        raise ImageError(f"alarm={behaviour.alarm!r}: an image cannot drive a CloudWatch alarm without AWS "
                         "credentials of its own; drive the alarm from the scenario (cloudwatch set-alarm-state)")
    if behaviour.pull_seconds is not None:
        raise ImageError("pull_seconds: a real registry decides how long a pull takes; leave it to the backend")
    steps = []
    if behaviour.start_seconds:
        steps.append(f"sleep {behaviour.start_seconds:g}")
    www = "/www"
    if behaviour.target_health == "fail":
        www = "/empty"  # every health check path answers 404
    elif behaviour.target_health_fails_every is not None:
        if not approximate:
            raise ImageError(f"target_health_fails_every={behaviour.target_health_fails_every}: tasks of one image "
                             "are identical, so 'every N-th task' cannot be built in; pass approximate=True for "
                             "one task in N on average, at random")
        steps.append(f'if [ $((RANDOM % {behaviour.target_health_fails_every})) -eq 0 ]; then W=/empty; else W=/www; fi')
        www = "$W"
    ends = behaviour.exit
    if ends is None:
        steps.append(f"exec httpd -f -p {PORT} -h {www}")
    else:
        after, code = ends
        steps += [f"httpd -p {PORT} -h {www}", f"sleep {after:g}",
                  f"echo 'exiting {code} after {after:g} s, as the scenario declared' >&2", f"exit {code}"]
    return "; ".join(steps)


def command_script(command: str, behaviour: ImageBehaviour) -> tuple[str, str]:
    """Where a declared command (``bin/migrate --yes``: its first word, from ``/``, the image's
    working directory) is installed, and the script that behaves as declared there: runs
    for ``exit_after`` seconds, then exits ``exit_code``, whatever its arguments."""
    path = command.split()[0]
    if behaviour.exit is None or not re.fullmatch(r"[A-Za-z0-9_./-]+", path) or ".." in path:
        raise ImageError(f"command {command!r}: a command is built in as a plain path (e.g. bin/migrate) that "
                         "exits with exit_code after exit_after seconds")
    after, code = behaviour.exit
    return "/" + path.lstrip("/"), (f"#!/bin/sh\necho '{path} exits {code} after {after:g} s, as the scenario "
                                     f"declared' >&2\nsleep {after:g}\nexit {code}\n")


def dockerfile(behaviour: ImageBehaviour, base: str = BASE_IMAGE, approximate: bool = False,
               commands: Mapping[str, ImageBehaviour] | None = None) -> str:
    # A passing check passes once the server is up: a container that sleeps before
    # serving is RUNNING at once, and only its health check shows ECS it is still starting.
    health = "pidof httpd >/dev/null" if behaviour.container_health == "pass" else "exit 1"
    installed = []
    for command, declared in sorted((commands or {}).items()):
        path, script = command_script(command, declared)
        installed.append(f"RUN mkdir -p {path.rsplit('/', 1)[0] or '/'} && printf {json.dumps(script.replace(chr(10), chr(92) + 'n'))} "
                         f"> {path} && chmod +x {path}")
    return "\n".join([
        f"FROM {base}",
        "RUN mkdir -p /www /empty && echo ok > /www/index.html && echo ok > /www/health",
        f"RUN printf '#!/bin/sh\\n{health}\\n' > /healthy && chmod +x /healthy",
        *installed,
        "WORKDIR /",
        f"EXPOSE {PORT}",
        f'CMD ["sh", "-c", {json.dumps(program(behaviour, approximate))}]',
        "",
    ])


def build_context(behaviour: ImageBehaviour, base: str = BASE_IMAGE, approximate: bool = False,
                  commands: Mapping[str, ImageBehaviour] | None = None) -> io.BytesIO:
    """A build context (a tar holding only the Dockerfile), as ``images.build(fileobj=..., custom_context=True)`` takes it."""
    data = dockerfile(behaviour, base, approximate, commands).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size, info.mtime = len(data), 0  # the same context every time: the engine's cache applies
        tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def ecr_login(ecr: Any) -> dict[str, str]:
    """The Docker ``auth_config`` for the ECR that ``ecr`` (a boto3 client) talks to."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return {"username": user, "password": password, "serveraddress": data.get("proxyEndpoint", "")}


PLATFORM = "linux/amd64"  # the tasks' platform (harness.worlds.tool.FARGATE_PLATFORM)

def build_and_push(docker: Any, ecr: Any, repository_uri: str, images: Mapping[str, ImageBehaviour],
                   base: str = BASE_IMAGE, approximate: bool = False,
                   commands: Mapping[str, ImageBehaviour] | None = None) -> dict[str, str]:
    """Build each ``tag -> behaviour`` as ``repository_uri:tag`` and push it; returns
    ``tag -> digest``. A missing image is neither built nor pushed. Nothing is pushed
    unless every image could be built (so a scenario never meets half a set). Every
    image carries the ``commands`` (``"bin/migrate --yes" -> behaviour``) a one-off
    task may run in it."""
    from docker.errors import APIError, BuildError

    built = []
    for tag, behaviour in images.items():
        if behaviour.missing:
            continue
        try:
            # linux/amd64 whatever this machine is (an ARM laptop too): Fargate runs x86_64 tasks
            docker.images.build(fileobj=build_context(behaviour, base, approximate, commands), custom_context=True,
                                tag=f"{repository_uri}:{tag}", rm=True, platform=PLATFORM,
                                labels={"org.ecs-template-deploy.harness": tag})
        except (BuildError, APIError) as err:
            raise ImageError(f"building {repository_uri}:{tag} failed ({str(err).splitlines()[0]}): can this "
                             f"machine's Docker pull {base}?") from None
        built.append(tag)
    auth = ecr_login(ecr)
    digests = {}
    for tag in built:
        digest = None
        for line in docker.images.push(repository_uri, tag=tag, auth_config=auth, stream=True, decode=True):
            if "error" in line:
                raise ImageError(f"pushing {repository_uri}:{tag} failed: {line['error']}")
            digest = (line.get("aux") or {}).get("Digest", digest)
        if digest is None:
            raise ImageError(f"pushing {repository_uri}:{tag} reported no digest: is {repository_uri} an ECR "
                             "repository these credentials may push to?")
        digests[tag] = digest
    return digests


class BuiltImages:
    """The images of a real run: each ``tag -> behaviour`` built on ``docker`` (a
    ``docker.DockerClient``) and pushed (``build_and_push``)."""

    def __init__(self, docker: Any, base: str = BASE_IMAGE) -> None:
        self.docker, self.base = docker, base

    def push(self, ecr: Any, repository_uri: str, images: Mapping[str, ImageBehaviour],
             commands: Mapping[str, ImageBehaviour] | None = None) -> dict[str, str]:
        return build_and_push(self.docker, ecr, repository_uri, images, base=self.base, commands=commands)
