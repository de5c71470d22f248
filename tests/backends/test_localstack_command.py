"""`harness localstack up|down|status`: the Docker SDK path with the engine
absent (the real SDK), with its client faked at the SDK boundary only, the
compose file agreeing with what `up` runs, and `status` against a real LocalStack."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml

from harness import commands
from harness.commands.localstack import IMAGE, SOCKET, TOKEN, ContainerSpec, LocalStackCommandError, LocalStackContainer, run

ROOT = Path(__file__).resolve().parents[2]


class FakeContainer:
    def __init__(self, status: str = "running", logs: bytes = b"", port: int = 4566) -> None:
        self.status, self._logs, self.calls = status, logs, []
        self.attrs = {"HostConfig": {"PortBindings": {"4566/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}}}

    def start(self) -> None:
        self.calls.append("start")
        self.status = "running"

    def stop(self, timeout: int) -> None:
        self.calls.append("stop")

    def remove(self) -> None:
        self.calls.append("remove")

    def logs(self, tail: int) -> bytes:
        return self._logs


class FakeDocker:
    """The two collections of docker.DockerClient that the command uses."""

    def __init__(self, container: FakeContainer | None = None, image: bool = True) -> None:
        self.container, self.image, self.ran, self.pulled = container, image, [], []
        outer = self

        class Containers:
            def get(self, name: str) -> FakeContainer:
                if outer.container is None:
                    raise docker.errors.NotFound(f"no container {name}")
                return outer.container

            def run(self, **kwargs: Any) -> FakeContainer:
                outer.ran.append(kwargs)
                outer.container = FakeContainer(logs=b"line 1\nReady? no\n")
                return outer.container

        class Images:
            def get(self, name: str) -> object:
                if not outer.image:
                    raise docker.errors.ImageNotFound(f"no image {name}")
                return object()

            def pull(self, name: str) -> None:
                outer.pulled.append(name)

        self.containers, self.images = Containers(), Images()


def container(client: FakeDocker, answers: list[bool], lines: list[str], clock: list[float]) -> LocalStackContainer:
    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return LocalStackContainer(client, healthy=lambda url: answers.pop(0) if answers else True, sleep=sleep,
                               out=lines.append, monotonic=lambda: clock[0])


def test_up_runs_the_pinned_image_on_localhost_with_token_and_socket_and_waits_for_health() -> None:
    client, lines, clock = FakeDocker(image=False), [], [0.0]
    url = container(client, [False, False, True], lines, clock).up("tok-123")
    assert url == "http://127.0.0.1:4566" and client.pulled == [IMAGE]
    (arguments,) = client.ran
    assert arguments["image"] == IMAGE and arguments["ports"] == {"4566/tcp": ("127.0.0.1", 4566)}
    assert arguments["environment"] == {TOKEN: "tok-123"} and arguments["detach"] is True
    assert arguments["volumes"] == {SOCKET: {"bind": SOCKET, "mode": "rw"}}
    assert sum("waiting for LocalStack" in line for line in lines) == 2 and clock[0] == 4.0
    assert lines[-1].startswith("LocalStack is up")


def test_up_reuses_a_running_container_and_starts_a_stopped_one() -> None:
    running = FakeDocker(FakeContainer("running"))
    container(running, [], [], [0.0]).up("t")
    assert running.ran == [] and running.container.calls == []
    stopped = FakeDocker(FakeContainer("exited"))
    container(stopped, [], [], [0.0]).up("t")
    assert stopped.ran == [] and stopped.container.calls == ["start"]


def test_a_container_publishing_another_port_is_not_taken_for_ours() -> None:
    with pytest.raises(LocalStackCommandError, match="publishing 4599, not 127.0.0.1:4566: harness localstack down"):
        container(FakeDocker(FakeContainer(port=4599)), [], [], [0.0]).up("t")


def test_docker_refusing_is_one_line_not_a_traceback(monkeypatch, capsys) -> None:
    monkeypatch.setenv(TOKEN, "t")
    client = FakeDocker(image=True)

    def refuse(**kwargs: Any) -> None:
        raise docker.errors.APIError("500 Server Error: driver failed: port is already allocated")

    client.containers.run = refuse
    assert run(args("up"), client_factory=lambda: client) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Docker refused up" in err and "port is already allocated" in err


def test_up_that_never_gets_healthy_says_so_with_the_containers_last_lines() -> None:
    client = FakeDocker()
    with pytest.raises(LocalStackCommandError, match=r"did not answer .* within 10 s; its last lines: line 1 \| Ready\? no"):
        container(client, [False] * 100, [], [0.0]).up("t", timeout=10)


def test_down_stops_and_removes_and_says_when_there_is_nothing() -> None:
    client = FakeDocker(FakeContainer())
    assert container(client, [], [], [0.0]).down() is True and client.container.calls == ["stop", "remove"]
    lines: list[str] = []
    assert container(FakeDocker(None), [], lines, [0.0]).down() is False and "nothing to stop" in lines[0]


def args(action: str) -> argparse.Namespace:
    return argparse.Namespace(action=action, port=4566, timeout=5.0)


def test_without_a_token_up_stops_before_docker_is_touched(monkeypatch, capsys) -> None:
    monkeypatch.delenv(TOKEN, raising=False)

    def no_docker() -> Any:
        raise AssertionError("Docker must not be touched without a token")

    assert run(args("up"), client_factory=no_docker) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{TOKEN} is not set" in err


def test_no_docker_engine_is_one_line_naming_the_way_without_docker(monkeypatch, tmp_path, capsys) -> None:
    monkeypatch.setenv(TOKEN, "t")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")  # the real SDK, no engine behind it
    assert commands.main(["localstack", "up"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no Docker engine answers" in err and "host mode" in err


def test_the_compose_file_declares_what_up_runs() -> None:
    service = yaml.safe_load((ROOT / "docker-compose.localstack.yml").read_text())["services"]["localstack"]
    spec = ContainerSpec().run_arguments("token")
    assert service["image"] == spec["image"]
    host, port = spec["ports"]["4566/tcp"]
    assert service["ports"] == [f"{host}:{port}:4566"]
    assert TOKEN in service["environment"] and "${LOCALSTACK_AUTH_TOKEN" in service["environment"][TOKEN]
    assert service["volumes"] == [f"{SOCKET}:{SOCKET}"]


def test_status_says_what_a_real_localstack_lacks(localstack, monkeypatch, capsys) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("LOCALSTACK_HOST", localstack.removeprefix("http://"))
    code = commands.main(["localstack", "status"])
    out = capsys.readouterr().out
    assert out.startswith("LocalStack ") and localstack in out
    if "no licence" in out:  # localstack-core without a token: ECS and friends are HTTP 501
        assert code == 1 and "lacks ecs, ecr, application-autoscaling, elbv2" in out
    else:
        assert code == (0 if "serves every service" in out else 1)
