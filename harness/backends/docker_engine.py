"""The local Docker engine, through the Docker SDK: what `harness localstack`
and the image builder (``harness.backends.images``) talk to."""
from __future__ import annotations

from typing import Any


class NoDockerEngine(Exception):
    """No engine answers; the message says how to get one."""


def engine() -> Any:
    """The Docker SDK's client from the environment (DOCKER_HOST...), checked with a ping."""
    import docker

    try:
        client = docker.from_env()
        client.ping()
        return client
    except docker.errors.DockerException as err:
        raise NoDockerEngine(f"no Docker engine answers ({err}): start Docker (or set DOCKER_HOST)") from None
