"""The scenarios' images as real containers need them (harness.backends.images):
the simulator's image behaviours as shell programs on busybox, refused where an
image cannot carry them; built and pushed with the Docker SDK faked at its
boundary (the ECR login from `harness serve`'s ECR, a real one); the engine
absent; and, where a Docker engine runs, a real build whose container crashes
as declared."""
from __future__ import annotations

import io
import json
import subprocess
import tarfile

import boto3
import pytest
from docker.errors import BuildError

from harness.backends.docker_engine import NoDockerEngine, engine
from harness.backends.images import PORT, ImageError, build_and_push, dockerfile, ecr_login, program
from harness.ecs.images import HEALTHY, ImageBehaviour

REPO = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"


@pytest.mark.parametrize("behaviour, expected", [
    (HEALTHY, f"exec httpd -f -p {PORT} -h /www"),
    (ImageBehaviour(crash_after=5), f"httpd -p {PORT} -h /www; sleep 5; echo 'exiting 1 after 5 s, as the scenario declared' >&2; exit 1"),
    (ImageBehaviour(exit_code=0, exit_after=12.5), "sleep 12.5; echo 'exiting 0 after 12.5 s, as the scenario declared' >&2; exit 0"),
    (ImageBehaviour(start_seconds=40), f"sleep 40; exec httpd -f -p {PORT} -h /www"),
    (ImageBehaviour(target_health="fail"), f"exec httpd -f -p {PORT} -h /empty"),
])
def test_each_behaviour_is_a_shell_program_that_does_it(behaviour, expected) -> None:
    made = program(behaviour)
    assert made.endswith(expected)
    assert subprocess.run(["sh", "-n", "-c", made]).returncode == 0  # a program sh can parse


def test_what_an_image_cannot_carry_is_refused_with_the_reason() -> None:
    with pytest.raises(ImageError, match="cannot drive a CloudWatch alarm"):
        program(ImageBehaviour(alarm="errors"))
    with pytest.raises(ImageError, match="a real registry decides"):
        program(ImageBehaviour(pull_seconds=30))
    with pytest.raises(ImageError, match="tasks of one image are identical"):
        program(ImageBehaviour(target_health_fails_every=4))
    trickle = program(ImageBehaviour(target_health_fails_every=4), approximate=True)
    assert "$((RANDOM % 4))" in trickle and trickle.endswith(f"exec httpd -f -p {PORT} -h $W")
    assert subprocess.run(["sh", "-n", "-c", trickle]).returncode == 0


@pytest.mark.parametrize("health, check", [("pass", "pidof httpd >/dev/null"), ("fail", "exit 1")])
def test_the_dockerfile_runs_the_program_and_ships_the_container_health_check(health, check) -> None:
    behaviour = ImageBehaviour(crash_after=3, container_health=health)
    text = dockerfile(behaviour, base="busybox:test")
    assert text.startswith("FROM busybox:test\n")
    assert f"printf '#!/bin/sh\\n{check}\\n' > /healthy" in text
    cmd = next(line for line in text.splitlines() if line.startswith("CMD "))
    assert json.loads(cmd[4:]) == ["sh", "-c", program(behaviour)]


class FakeImages:
    """docker.DockerClient.images at the SDK boundary: build and push."""

    def __init__(self, push_lines=None, build_error: str | None = None) -> None:
        self.built: dict[str, str] = {}  # tag -> its Dockerfile
        self.platforms: dict[str, str | None] = {}  # tag -> the platform it was built for
        self.pushed: list[tuple[str, str, dict]] = []
        self.push_lines, self.build_error = push_lines, build_error

    def build(self, fileobj, custom_context, tag, rm, labels, platform=None):
        assert custom_context and rm
        self.platforms[tag] = platform
        if self.build_error:
            raise BuildError(self.build_error, build_log=[])
        with tarfile.open(fileobj=io.BytesIO(fileobj.read())) as tar:
            self.built[tag] = tar.extractfile("Dockerfile").read().decode()
        return object(), []

    def push(self, repository, tag, auth_config, stream, decode):
        assert stream and decode
        self.pushed.append((repository, tag, auth_config))
        lines = self.push_lines if self.push_lines is not None else [
            {"status": "Pushing"}, {"aux": {"Tag": tag, "Digest": f"sha256:{tag:0>64}"[:71]}}]
        return iter(lines)


class FakeDocker:
    def __init__(self, **kwargs) -> None:
        self.images = FakeImages(**kwargs)


@pytest.fixture
def ecr(harness_server):
    harness_server.reset()
    return boto3.client("ecr", endpoint_url=harness_server.url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def test_images_are_built_then_pushed_to_ecr_with_its_login(ecr) -> None:
    docker = FakeDocker()
    images = {"v1": HEALTHY, "v9-broken": ImageBehaviour(crash_after=5), "v9-gone": ImageBehaviour(missing=True)}
    digests = build_and_push(docker, ecr, REPO, images)
    assert set(docker.images.built) == {f"{REPO}:v1", f"{REPO}:v9-broken"}  # a missing image is never built
    assert set(docker.images.platforms.values()) == {"linux/amd64"}  # Fargate's, on an ARM laptop too
    assert "exit 1" in docker.images.built[f"{REPO}:v9-broken"] and "exit 1" not in docker.images.built[f"{REPO}:v1"]
    login = ecr_login(ecr)
    assert login["username"] == "AWS" and login["password"]
    assert [(repo, tag) for repo, tag, _ in docker.images.pushed] == [(REPO, "v1"), (REPO, "v9-broken")]
    assert all(auth == login for _, _, auth in docker.images.pushed)
    assert set(digests) == {"v1", "v9-broken"} and all(d.startswith("sha256:") for d in digests.values())


def test_a_failed_build_pushes_nothing_and_says_what_to_check(ecr) -> None:
    docker = FakeDocker(build_error="pull access denied for busybox")
    with pytest.raises(ImageError, match=r"building .*:v1 failed \(pull access denied for busybox\): can this "
                                         r"machine's Docker pull"):
        build_and_push(docker, ecr, REPO, {"v1": HEALTHY})
    assert docker.images.pushed == []


@pytest.mark.parametrize("lines, message", [
    ([{"error": "denied: not authorized"}], "pushing .*:v1 failed: denied: not authorized"),
    ([{"status": "Pushed"}], "reported no digest"),
])
def test_a_failed_push_is_one_line(ecr, lines, message) -> None:
    with pytest.raises(ImageError, match=message):
        build_and_push(FakeDocker(push_lines=lines), ecr, REPO, {"v1": HEALTHY})


def test_without_an_engine_the_message_says_how_to_get_one(monkeypatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(NoDockerEngine, match=r"^no Docker engine answers \(.*\): start Docker \(or set DOCKER_HOST\)$"):
        engine()


def test_with_a_real_engine_the_crashing_image_crashes_as_declared() -> None:
    try:
        docker = engine()
    except NoDockerEngine as err:
        pytest.skip(f"needs a Docker engine: {err}")
    from harness.backends.images import BASE_IMAGE, build_context

    tag = "harness-image-test:crash"
    try:
        docker.images.build(fileobj=build_context(ImageBehaviour(crash_after=1)), custom_context=True, tag=tag, rm=True)
    except Exception as err:  # noqa: BLE001 - offline: the base image cannot be pulled
        pytest.skip(f"cannot build from {BASE_IMAGE} here: {err}")
    try:
        container = docker.containers.run(tag, detach=True)
        assert container.wait(timeout=60)["StatusCode"] == 1
        assert b"exiting 1 after 1 s" in container.logs()
        container.remove()
    finally:
        docker.images.remove(tag, force=True)


def test_a_declared_command_is_built_into_the_image_and_exits_as_declared(tmp_path) -> None:
    from harness.backends.images import command_script, dockerfile

    behaviour = ImageBehaviour(exit_code=3, exit_after=0.2)
    path, script = command_script("bin/migrate --yes", behaviour)
    assert path == "/bin/migrate"
    text = dockerfile(HEALTHY, commands={"bin/migrate --yes": behaviour})
    (install,) = [line[4:] for line in text.splitlines() if line.startswith("RUN ") and "/bin/migrate" in line]
    assert "WORKDIR /" in text  # `bin/migrate` resolves from / when ECS runs the override
    here = tmp_path / "migrate"
    done = subprocess.run(["sh", "-c", install.replace("/bin/migrate", str(here)).replace("mkdir -p /bin", "true")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert here.read_text() == script
    ran = subprocess.run([str(here), "--yes"], capture_output=True, text=True)
    assert ran.returncode == 3 and "bin/migrate exits 3 after 0.2 s" in ran.stderr


@pytest.mark.parametrize("command, behaviour", [
    ("bin/migrate", ImageBehaviour()),  # no exit declared
    ("../etc/passwd", ImageBehaviour(exit_code=0, exit_after=1)),
    ("bin/$(reboot)", ImageBehaviour(exit_code=0, exit_after=1)),
])
def test_a_command_that_cannot_be_built_in_is_refused_saying_how(command, behaviour) -> None:
    from harness.backends.images import command_script

    with pytest.raises(ImageError, match=r"a command is built in as a plain path \(e\.g\. bin/migrate\)"):
        command_script(command, behaviour)
