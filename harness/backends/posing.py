"""``--backend aws --aws-dry-run``: what a real-AWS run would create, without AWS.

The real path runs, whole, against `harness serve` posing as AWS in this
process: every AWS client of the process is pointed at it (``AWS_ENDPOINT_URL``),
and a run's two parts that are not AWS (``harness.backends.real_aws.Parts``)
are stood in for:

- the clock: the server's virtual clock (a scenario's waits cost no wall time;
  its budget is counted in simulated seconds);
- the container runtime (``DeclaredImages``): what Docker would build and ECS
  would run is pushed to ECR as a manifest of its own and its behaviour declared
  to the simulator that runs the tasks.

Everything else is what a real run does: the run id, names and tags, the
Fargate network, the images per behaviour, the budget, the teardown. For each
scenario the dry run then says what it created (from the requests the server
received), how long it took in simulated time, and whether its teardown left
anything (the same sweep ``harness aws cleanup`` runs). No credentials are
needed and nothing outside this process is touched.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from harness.backends.real_aws import Parts

if TYPE_CHECKING:  # the server (and its simulator) is imported only when it starts, as in PosingAws
    from harness.ecs.simulator import Simulator

# operation -> what it creates, as the summary counts it
CREATES = {
    "CreateCluster": "ecs cluster", "CreateService": "ecs service", "RegisterTaskDefinition": "task definition revision",
    "RunTask": "one-off task", "CreateRepository": "ecr repository", "PutImage": "image push", "CreateVpc": "vpc",
    "CreateSubnet": "subnet", "CreateInternetGateway": "internet gateway", "CreateSecurityGroup": "security group",
    "CreateRole": "iam role", "CreateLoadBalancer": "load balancer", "CreateTargetGroup": "target group",
    "CreateListener": "listener", "PutMetricAlarm": "cloudwatch alarm", "CreateSecret": "secret",
    "CreateLogGroup": "log group", "RegisterScalableTarget": "scalable target",
}


class DeclaredImages:
    """``BuiltImages`` as the simulator sees it: one manifest per tag and behaviour, the behaviour declared."""

    def __init__(self, sim: Any) -> None:
        self.sim = sim

    def push(self, ecr: Any, repository_uri: str, images: Mapping[str, Any],
             commands: Mapping[str, Any] | None = None) -> dict[str, str]:
        from harness.backends.images import MANIFEST_TYPE, command_script, manifest

        repository = repository_uri.split("/", 1)[1]
        for command, behaviour in (commands or {}).items():
            command_script(command, behaviour)  # refused as BuiltImages refuses it
            self.sim.declare_command(command.split(), behaviour)
        digests = {}
        for tag, behaviour in images.items():
            if behaviour.missing:
                continue  # as BuiltImages: a missing image is never pushed
            label = hashlib.sha256(json.dumps([tag, repr(behaviour), sorted(commands or {})]).encode()).hexdigest()
            answer = ecr.put_image(repositoryName=repository, imageManifest=manifest(label), imageTag=tag,
                                   imageManifestMediaType=MANIFEST_TYPE)
            digests[tag] = answer["image"]["imageId"]["imageDigest"]
            # by digest, as a built image carries it: a tag moved to it later (approach 1) runs it too
            self.sim.declare_image(digests[tag], behaviour)
        return digests


class PosingAws:
    """The server posing as AWS for a whole pytest session (``start``/``stop``)."""

    def __init__(self, server: Any = None) -> None:
        from harness.server import HarnessServer

        self.server = server or HarnessServer(speed=0.0)  # speed 0: only the scenario's own waits move its clock
        self._saved: dict[str, str | None] = {}

    def start(self) -> "PosingAws":
        from harness.backends.embedded import cd_process_env

        self.server.__enter__()
        settings = {**cd_process_env(self.server.url), "AWS_PROFILE": None, "AWS_SESSION_TOKEN": None}
        for name, value in settings.items():
            self._saved[name] = os.environ.get(name)
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        return self

    def stop(self) -> None:
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self.server.__exit__(None, None, None)

    @property
    def sim(self) -> Simulator:
        """The server's simulator (it makes it as it starts)."""
        if self.server.sim is None:
            raise RuntimeError("the server posing as AWS is not started: PosingAws.start() first")
        return self.server.sim

    def parts(self) -> Parts:
        return Parts(clock=self.sim.clock, images=DeclaredImages(self.sim), wait=False)

    @contextlib.contextmanager
    def scenario(self, say: Any) -> Iterator[dict[str, Any]]:
        """Record what the block asks AWS for; then say it (``say(line)``), with the simulated time it took.
        The block puts ``run_id`` and ``budget`` into the dict it gets."""
        seen: dict[str, Any] = {}
        started = self.sim.clock.now()
        with self.server.recording.recording() as recorder:
            yield seen
        run_id = seen.get("run_id")
        if run_id is None:
            return
        # a RunTask asked again with its clientToken (after a lost reply) starts nothing new
        tokens = {call.params.get("clientToken") or id(call) for call in recorder.calls if call.operation == "RunTask"}
        created = Counter(CREATES[call.operation] for call in recorder.calls
                          if call.operation in CREATES and call.operation != "RunTask")
        if tokens:
            created[CREATES["RunTask"]] = len(tokens)
        launch = sorted({call.params.get("launchType", "EC2") for call in recorder.calls
                         if call.operation == "CreateService"})
        what = ", ".join(f"{count} {plural(kind, count)}" + (f" ({'/'.join(launch)})" if kind == "ecs service" else "")
                         for kind, count in created.items())
        # a create that names no run id (in its name, its tags or its parent's name) is one the sweep may miss
        unmarked = sorted({CREATES[call.operation] for call in recorder.calls
                           if call.operation in CREATES and run_id not in json.dumps(call.params)})
        left = leftovers(run_id)
        say(f"dry run {run_id}: would create {what or 'nothing'}; "
            + (f"NOT NAMED OR TAGGED with the run id: {', '.join(unmarked)}; " if unmarked else "each named or tagged "
               "with the run id; ")
            + f"{self.sim.clock.now() - started:.0f} s simulated (budget {seen['budget']:g} s); teardown "
            + ("left nothing" if not left else f"LEFT {len(left)}: {', '.join(left)}"))


def plural(kind: str, count: int) -> str:
    return kind if count == 1 else kind + ("es" if kind.endswith(("sh", "s")) else "s")


def leftovers(run_id: str) -> list[str]:
    """What the sweep still finds of ``run_id`` (its clients go where ``AWS_ENDPOINT_URL`` points)."""
    import boto3

    from harness.backends.aws_run import Sweep

    # boto3.client's stubs type each service by its literal name; the sweep names them by str
    sweep = Sweep(boto3.client, run_id, out=lambda line: None, wait=False)  # type: ignore[arg-type]
    return [str(found) for found in sweep.find()]
