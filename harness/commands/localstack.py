"""LocalStack in Docker for --backend localstack: start, stop, ask.

  harness localstack up       the pinned image, LOCALSTACK_AUTH_TOKEN passed through, the
                              Docker socket mounted (ECS runs tasks as containers), port
                              4566 on 127.0.0.1 only; waits for its health, logs on failure
  harness localstack status   the container, and what LocalStack serves of what the scenarios use
  harness localstack down     stop and remove the container

Since March 2026 the image needs a token, and ECS, ECR, Application Auto
Scaling and ELBv2 are in LocalStack's paid plans. docker-compose.localstack.yml
is the same setup for compose (tests/backends checks the two agree). Without
Docker: localstack-core in host mode (harness/backends/localstack-requirements.txt).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable

from harness.backends.docker_engine import NoDockerEngine, engine
from harness.backends.localstack import LocalStack, LocalStackUnavailable, is_localstack

IMAGE = "localstack/localstack:2026.3.0"
CONTAINER = "harness-localstack"
PORT = 4566
SOCKET = "/var/run/docker.sock"
TOKEN = "LOCALSTACK_AUTH_TOKEN"


class LocalStackCommandError(Exception):
    """What stopped `harness localstack`; one line saying what to do."""


def no_token() -> LocalStackCommandError:
    return LocalStackCommandError(f"{TOKEN} is not set: the {IMAGE.split(':')[0]} image needs one since "
                                  "March 2026 (and a paid plan for ECS): export it and run again")


@dataclass(frozen=True)
class ContainerSpec:
    """The container `up` runs (and docker-compose.localstack.yml declares)."""

    image: str = IMAGE
    name: str = CONTAINER
    port: int = PORT

    def run_arguments(self, token: str) -> dict[str, Any]:
        """Keyword arguments of the Docker SDK's ``containers.run``."""
        return {
            "image": self.image, "name": self.name, "detach": True,
            "ports": {"4566/tcp": ("127.0.0.1", self.port)},  # never on every interface
            "environment": {TOKEN: token},
            "volumes": {SOCKET: {"bind": SOCKET, "mode": "rw"}},
            "labels": {"org.ecs-template-deploy.harness": "localstack"},
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def docker_client() -> Any:
    """The Docker engine (``harness.backends.docker_engine``); one line when none answers."""
    try:
        return engine()
    except NoDockerEngine as err:
        raise LocalStackCommandError(f"{err}, or run LocalStack without Docker: localstack-core in host mode "
                                     "(harness/backends/localstack-requirements.txt)") from None


class LocalStackContainer:
    """`up`, `down`, `status` of the harness's LocalStack container; the Docker client,
    the health check, the sleep and the output come in (tests pass their own)."""

    def __init__(self, client: Any, spec: ContainerSpec = ContainerSpec(),
                 healthy: Callable[[str], bool] | None = None, sleep: Callable[[float], None] = time.sleep,
                 out: Callable[[str], None] = print, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client, self.spec = client, spec
        self.healthy = healthy or (lambda url: is_localstack(url, timeout=2))
        self.sleep, self.out, self.monotonic = sleep, out, monotonic

    def _container(self) -> Any | None:
        import docker

        try:
            return self.client.containers.get(self.spec.name)
        except docker.errors.NotFound:
            return None

    def up(self, token: str, timeout: float = 180.0) -> str:
        if not token:
            raise no_token()
        import docker

        container = self._container()
        if container is not None and (mapped := published_port(container)) != self.spec.port:
            raise LocalStackCommandError(f"container {self.spec.name} exists publishing {mapped or 'no port'}, not "
                                         f"127.0.0.1:{self.spec.port}: harness localstack down first, or pass --port")
        if container is not None and container.status == "running":
            self.out(f"{self.spec.name} is already running ({self.spec.url})")
        elif container is not None:
            self.out(f"starting the stopped container {self.spec.name}")
            container.start()
        else:
            try:
                self.client.images.get(self.spec.image)
            except docker.errors.ImageNotFound:
                self.out(f"pulling {self.spec.image} (once; about 1 GB)")
                self.client.images.pull(self.spec.image)
            container = self.client.containers.run(**self.spec.run_arguments(token))
            self.out(f"started {self.spec.name} from {self.spec.image} on {self.spec.url}")
        deadline = self.monotonic() + timeout
        while not self.healthy(self.spec.url):
            if self.monotonic() > deadline:
                logs = container.logs(tail=20).decode(errors="replace").strip()
                raise LocalStackCommandError(f"LocalStack did not answer on {self.spec.url} within {timeout:.0f} s; "
                                             f"its last lines: {' | '.join(logs.splitlines()[-5:]) or 'none'}")
            self.out(f"waiting for LocalStack on {self.spec.url} ...")
            self.sleep(2.0)  # a real container is starting
        self.out(f"LocalStack is up: {self.spec.url} (LOCALSTACK_HOST=127.0.0.1:{self.spec.port})")
        return self.spec.url

    def down(self) -> bool:
        """Stop and remove the container; False when there was none."""
        container = self._container()
        if container is None:
            self.out(f"no {self.spec.name} container: nothing to stop")
            return False
        container.stop(timeout=10)
        container.remove()
        self.out(f"stopped and removed {self.spec.name}")
        return True

    def state(self) -> str | None:
        container = self._container()
        return None if container is None else str(container.status)


def published_port(container: Any) -> int | None:
    """The host port the container publishes 4566/tcp on (from its creation settings: a stopped one too)."""
    bindings = (container.attrs.get("HostConfig", {}).get("PortBindings") or {}).get("4566/tcp") or []
    for binding in bindings:
        if str(binding.get("HostPort", "")).isdigit():
            return int(binding["HostPort"])
    return None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("up", "down", "status"))
    parser.add_argument("--port", type=int, default=PORT, help="host port on 127.0.0.1 (default 4566)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for its health (up)")


def status_lines(url: str) -> tuple[list[str], bool]:
    """What LocalStack at ``url`` is and serves; True when the scenarios have all they need."""
    try:
        status = LocalStack(url).status()
    except LocalStackUnavailable as err:
        return [str(err)], False
    licence = "licensed" if status.licensed else "no licence"
    lines = [f"LocalStack {status.version} ({status.edition} edition, {licence}) at {status.url}"]
    problem = status.problem()
    lines.append(problem or "serves every service the scenarios use: the deploy tool's scenarios run on it "
                 "(pytest scenarios/test_deploy_tool_*.py --backend localstack -n 0)")
    return lines, problem is None


def run(args: argparse.Namespace, client_factory: Callable[[], Any] = docker_client) -> int:
    spec = ContainerSpec(port=args.port)
    try:
        if args.action == "status":
            from harness.backends.localstack import endpoint_url

            url = spec.url if "AWS_ENDPOINT_URL" not in os.environ and "LOCALSTACK_HOST" not in os.environ \
                else endpoint_url()
            lines, complete = status_lines(url)
            print("\n".join(lines))
            return 0 if complete else 1
        token = os.environ.get(TOKEN, "")
        if args.action == "up" and not token:  # said before Docker is touched
            raise no_token()
        container = LocalStackContainer(client_factory(), spec)
        if args.action == "up":
            container.up(token, timeout=args.timeout)
            lines, _ = status_lines(spec.url)
            print("\n".join(lines))
        else:
            container.down()
        return 0
    except LocalStackCommandError as err:
        print(f"harness localstack: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # the Docker SDK's errors (docker.errors.DockerException): one line, not a traceback
        if type(err).__module__.split(".")[0] != "docker":
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        print(f"harness localstack: error: Docker refused {args.action}: {first}", file=sys.stderr)
        return 2
