"""Bad input, a table of it, across all nine commands, run against one world (`harness serve`,
paused) the way a CD job meets the tool: each row's exit code is 2 (3 where AWS refuses or
something that is not AWS answers), stderr is exactly one line naming the problem and saying
what to do, never "internal error", and AWS is exactly as before (task definition revisions
with their status and tags, the cluster's services with their task definition, deployments
and tags, the cluster's tasks).

The rows run in-process (`main(argv, session=...)`) for speed; tests/deploy/
test_bad_input_pipeline.py runs one of each kind fixed here in its own process. Rows that
show the tool misbehaving where the fix is outside this change's files are marked
`xfail(strict=True)` with the reason.
"""
from __future__ import annotations

import atexit
import contextlib
import io
import re
import shutil
import tempfile
import threading
import weakref
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest

from ecs_template_deploy.cli import COMMANDS, main
from ecs_template_deploy.errors import EXIT_AWS_ERROR, EXIT_BAD_INPUT
from harness.backends.remote import RemoteAws, serve_process
from harness.worlds import ToolWorld
from harness.worlds.tool import REPOSITORY
from harness.backends.embedded import cd_process_env

from .conftest import refuse

REGION, ACCOUNT = "us-east-1", "123456789012"
ECS_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}"
PREFIX = "ecs-template-deploy: error: "
HUGE = "x" * 102400  # 100 KB: what a pipeline templating mistake pastes into one argument
# what to do: after the problem (the first ": "), an imperative or an example
FIX = re.compile(r"\b(?:pass|give|use|check|set|unset|choose|grant|name one|add|remove|drop|push|apply|declare|create|"
                 r"raise|lower|poll|run|leave|fix|pick|write|deploy|like)\b|\be\.g\.")


# -- what every row asserts ----------------------------------------------------------------------

def says_what_to_do(line: str) -> bool:
    """One line naming the problem, then (after a ': ') what to do about it."""
    message = re.sub(r" \(see ecs-template-deploy[^)]*--help\)$", "", line.removeprefix(PREFIX))
    _problem, sep, rest = message.partition(": ")
    return bool(sep) and FIX.search(rest) is not None


def aws_snapshot(ecs: Any, cluster: str = "prod") -> dict[str, Any]:
    """What a refused command must leave as it was: every task definition revision (status,
    tags), the cluster's services (task definition, deployments, tags) and its tasks."""
    revisions = {}
    for status in ("ACTIVE", "INACTIVE"):
        pages = ecs.get_paginator("list_task_definitions").paginate(status=status)
        for arn in pages.build_full_result()["taskDefinitionArns"]:
            tags = ecs.list_tags_for_resource(resourceArn=arn).get("tags", [])
            revisions[arn] = (status, sorted((t["key"], t["value"]) for t in tags))
    services = {}
    arns = ecs.list_services(cluster=cluster)["serviceArns"]
    for service in ecs.describe_services(cluster=cluster, services=arns, include=["TAGS"])["services"] if arns else []:
        services[service["serviceName"]] = {
            "taskDefinition": service["taskDefinition"], "desiredCount": service["desiredCount"],
            "deployments": sorted((d["id"], d["status"], d["taskDefinition"], d.get("rolloutState"))
                                  for d in service["deployments"]),
            "tags": sorted((t["key"], t["value"]) for t in service.get("tags", []))}
    tasks = {status: sorted(ecs.list_tasks(cluster=cluster, desiredStatus=status)["taskArns"])
             for status in ("RUNNING", "STOPPED")}
    return {"revisions": revisions, "services": services, "tasks": tasks}


# The rows run one after another on a paused server that nothing else changes: what one row
# left (its closing snapshot) is what the next one starts from. So a row reads its opening
# snapshot only when the row before it did not end by taking one (it failed first, or it
# is the first on this world); keyed by the world, which a new module setup replaces.
_left_by_last_row: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def opening_snapshot(world: Any) -> dict[str, Any]:
    left = _left_by_last_row.pop(world, None)
    return left if left is not None else aws_snapshot(world.ecs)


def closing_snapshot(world: Any) -> dict[str, Any]:
    _left_by_last_row[world] = snapshot = aws_snapshot(world.ecs)
    return snapshot


class NotAws(ThreadingHTTPServer):
    """A server that is not AWS (a proxy's error page, a captive portal, the wrong service at
    AWS_ENDPOINT_URL): it answers every request 200 with `body`, and records the requests."""

    daemon_threads = True

    def __init__(self, body: bytes = b"<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>",
                 content_type: str = "text/html") -> None:
        super().__init__(("127.0.0.1", 0), _NotAwsHandler)
        self.body, self.content_type = body, content_type
        self.requests: list[dict[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _NotAwsHandler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append({"target": self.headers.get("X-Amz-Target", ""),
                                     "authorization": self.headers.get("Authorization", "")})
        body = self.server.body
        self.send_response(200)
        self.send_header("Content-Type", self.server.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *_: Any) -> None:
        pass


@contextlib.contextmanager
def not_aws(**answer: Any) -> Iterator[NotAws]:
    server = NotAws(**answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# -- the world ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served() -> Iterator[tuple[ToolWorld, NotAws]]:
    """What Terraform built (cluster prod, service web on web-template, images v1.. in ECR),
    deployed v1, v2 and v3 (web:3 runs; web:2 and web:3 known good; web:1 deregistered), and
    what bad input runs into: a family with no ACTIVE revision, an INACTIVE template revision,
    a template without the -template suffix, one with two containers, another family, an
    alarm. Paused (speed 0): nothing moves unless a command moves it."""
    with serve_process(speed=0) as url, pytest.MonkeyPatch.context() as env, not_aws() as foreign:
        for key, value in cd_process_env(url).items():
            env.setenv(key, value)
        aws = RemoteAws(url)
        aws.reset()
        world = ToolWorld.build(aws, desired=1)
        for tag in ("v1", "v2", "v3"):
            assert world.run("deploy", "--tag", tag, "--poll-interval", "5").code == 0
        ecs = world.ecs
        app = {"name": "app", "image": f"{REPOSITORY}:placeholder", "memory": 256, "essential": True}
        ecs.deregister_task_definition(taskDefinition="web:1")
        gone = ecs.register_task_definition(family="gone-template", containerDefinitions=[app])
        ecs.deregister_task_definition(taskDefinition=gone["taskDefinition"]["taskDefinitionArn"])
        newer = ecs.register_task_definition(family="web-template", containerDefinitions=[app])
        ecs.deregister_task_definition(taskDefinition=newer["taskDefinition"]["taskDefinitionArn"])  # web-template:2
        ecs.register_task_definition(family="plain", containerDefinitions=[app])
        ecs.register_task_definition(family="other", containerDefinitions=[app])
        ecs.register_task_definition(family="multi-template", containerDefinitions=[
            app, {"name": "sidecar", "image": f"{REPOSITORY}:placeholder", "memory": 64}])
        aws.client("cloudwatch").put_metric_alarm(
            AlarmName="HighErrors", MetricName="5xx", Namespace="App", Statistic="Sum", Period=60, EvaluationPeriods=1,
            Threshold=1, ComparisonOperator="GreaterThanThreshold")
        yield world, foreign


# -- the rows -------------------------------------------------------------------------------------

# The rows name their manifests at collection, before any fixture: a folder of this process, removed when it exits
MANIFESTS = Path(tempfile.mkdtemp(prefix="bad-manifests-"))
atexit.register(shutil.rmtree, MANIFESTS, ignore_errors=True)
GOOD_MANIFEST = 'cluster = "prod"\n[[service]]\nname = "web"\ntemplate = "web-template"\ntag = "v3"\n'
# name, manifest, what the one line says
BAD_MANIFESTS = (
    ("not-toml", "cluster = \n", "is not valid TOML"),
    ("unknown-key", GOOD_MANIFEST + 'bake_seconds = 3\n', "unknown key 'bake_seconds'"),
    ("no-services", 'cluster = "prod"\n', "names no services"),
    ("twice", GOOD_MANIFEST * 1 + GOOD_MANIFEST.split("\n", 1)[1], "service web appears twice"),
    ("after-unknown", GOOD_MANIFEST + 'after = ["api"]\n', "after names 'api', which is not a service of this manifest"),
    ("cycle", GOOD_MANIFEST + 'after = ["web"]\n', "after names the service itself"),
    ("unknown-service", GOOD_MANIFEST.replace('name = "web"', 'name = "api"'), "service api: service 'api' not found"),
    ("unknown-template", GOOD_MANIFEST.replace("web-template", "nope-template"), "service web: "),
    ("no-such-container", GOOD_MANIFEST.replace('tag = "v3"', 'images = { sidecar = "x:1" }'), "service web: "),
    ("unset-variable", GOOD_MANIFEST.replace('"v3"', '"${NO_SUCH_VARIABLE_HERE}"'), "${NO_SUCH_VARIABLE_HERE} is not set"),
    ("bad-id", 'id = "a b"\n' + GOOD_MANIFEST, "release id 'a b' cannot be recorded"),
)
for _name, _text, _ in BAD_MANIFESTS:
    (MANIFESTS / f"{_name}.toml").write_text(_text)

TARGET = ["--cluster", "prod", "--service", "web", "--template", "web-template"]
SERVICE = ["--cluster", "prod", "--service", "web"]
BASE = {  # each command as a CD job runs it: the rows change one thing
    "render": ["render", *TARGET, "--tag", "v3"],
    "diff": ["diff", *TARGET, "--tag", "v3"],
    "deploy": ["deploy", *TARGET, "--tag", "v3"],
    "prune": ["prune", *TARGET, "--keep", "5"],
    "status": ["status", *SERVICE],
    "rollback": ["rollback", *SERVICE],
    "run": ["run", *TARGET, "--tag", "v3", "--command", "bin/migrate"],
    "policy": ["policy", *TARGET],
    "check": ["check", *SERVICE],
    "continue": ["continue", *SERVICE],
}
READ_ONLY = ("render", "diff", "status", "policy", "check")
TEMPLATED = ("render", "diff", "deploy", "prune", "run", "policy")
IMAGED = ("render", "diff", "deploy", "run")
WAITING = ("deploy", "rollback")


def replaced(argv: list[str], option: str, value: str) -> list[str]:
    argv = list(argv)
    argv[argv.index(option) + 1] = value
    return argv


def without(argv: list[str], option: str) -> list[str]:
    at = argv.index(option)
    return argv[:at] + argv[at + 2:]


def row(id: str, argv: list[str], fragment: str, code: int = EXIT_BAD_INPUT, *, env: dict[str, str | None] | None = None,
        session: str = "world", xfail: str = "") -> Any:
    """One bad input. `session`: "world" (a fresh session sharing the world's loaded models),
    "none" (the tool builds its own from the environment: region, profile, endpoint rows),
    "denied" (IAM refuses the first read) or "foreign" (AWS_ENDPOINT_URL answers HTML)."""
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(argv, code, fragment, env or {}, session, id=id, marks=marks)


def each(commands: tuple[str, ...], id: str, change, fragment: str, code: int = EXIT_BAD_INPUT, **kwargs: Any) -> list:
    """The same bad input in each of `commands`: `change(argv) -> argv`."""
    return [row(f"{name}-{id}", change(BASE[name]), fragment, code, **kwargs) for name in commands]


ALL = tuple(BASE)
READS = tuple(c for c in ALL if c != "policy")  # policy reads only the template: it names the service, never looks it up
OTHER_REGION = f"arn:aws:ecs:eu-west-1:{ACCOUNT}"

ROWS = [
    # -- the same problem in every command, read the same --------------------------------------
    *each(ALL, "no-cluster", lambda a: without(a, "--cluster"), "the following arguments are required: --cluster"),
    *each(tuple(c for c in ALL if c not in ("status", "rollback")), "no-service", lambda a: without(a, "--service"),
          "the following arguments are required: --service"),
    # status and rollback take --release ID (every service a release changed) instead of --service
    *each(("status", "rollback"), "no-service", lambda a: without(a, "--service"),
          "no service named: pass --service NAME, or --release ID"),
    *each(("status", "rollback"), "service-and-release", lambda a: [*a, "--release", "r-1"],
          "--service and --release both given"),
    *each(("status", "rollback"), "release-not-an-id", lambda a: [*without(a, "--service"), "--release", "r 1"],
          "--release 'r 1' is not a release id"),
    *each(("status", "rollback"), "release-unknown", lambda a: [*without(a, "--service"), "--release", "r-1"],
          "no service of cluster 'prod' records release 'r-1'"),
    # release: the manifest is read and checked before any call; then every service, as deploy checks one
    row("release-no-manifest", ["release"], "the following arguments are required: --manifest"),
    row("release-manifest-missing", ["release", "--manifest", str(MANIFESTS / "nope.toml")], "not found: pass the path"),
    *(row(f"release-{name}", ["release", "--manifest", str(MANIFESTS / f"{name}.toml")], fragment)
      for name, _, fragment in BAD_MANIFESTS),
    *each(ALL, "cluster-empty", lambda a: replaced(a, "--cluster", ""), "--cluster '' is not a cluster name or ARN"),
    *each(ALL, "cluster-punctuation", lambda a: replaced(a, "--cluster", "prod!"), "--cluster 'prod!' is not a cluster name"),
    *each(ALL, "cluster-unicode", lambda a: replaced(a, "--cluster", "prød"), "--cluster 'prød' is not a cluster name"),
    *each(ALL, "cluster-newline", lambda a: replaced(a, "--cluster", "pr\nod"), "--cluster 'pr\\nod' is not a cluster name"),
    *each(ALL, "cluster-100kb", lambda a: replaced(a, "--cluster", HUGE), "--cluster 'xxxxxxxxxx"),
    *each(READS, "cluster-missing", lambda a: replaced(a, "--cluster", "nope"),
          "cluster 'nope' not found in us-east-1: check --cluster and --region"),
    *each(READS, "service-missing", lambda a: replaced(a, "--service", "nope"),
          "service 'nope' not found in cluster 'prod': check --service"),
    *each(ALL, "service-cluster-arn", lambda a: replaced(a, "--service", f"{ECS_ARN}:cluster/prod"),
          "is not an ECS service ARN: give a name or"),
    *each(READS, "service-other-region", lambda a: replaced(a, "--service", f"{OTHER_REGION}:service/prod/web"),
          "is in region eu-west-1, but the tool talks to us-east-1: pass --region eu-west-1"),
    *each(ALL, "unknown-option", lambda a: [*a, "--bogus"], "unrecognized arguments: --bogus: check the spelling"),
    *each(ALL, "region-unknown", lambda a: [*a, "--region", "xx-fake-9"],
          "region 'xx-fake-9' is not a region name: pass --region like us-east-1"),
    *each(ALL, "region-empty", lambda a: [*a, "--region", ""], "--region is empty: pass a region like us-east-1"),
    *each(ALL, "profile-missing", lambda a: [*a, "--profile", "nope"], "AWS profile 'nope' not found: check --profile",
          session="none"),
    *each(ALL, "endpoint-not-a-url", lambda a: a, "AWS endpoint 'not a url' is not a URL: set AWS_ENDPOINT_URL to",
          env={"AWS_ENDPOINT_URL": "not a url"}, session="none"),
    *each(ALL, "default-region-empty", lambda a: a, "AWS_DEFAULT_REGION is set but empty: set it to a region",
          env={"AWS_DEFAULT_REGION": "", "AWS_REGION": None}, session="none"),
    *each(ALL, "region-env-empty", lambda a: a, "AWS_REGION is set but empty: set it to a region",
          env={"AWS_REGION": ""}, session="none"),
    *each(ALL, "answer-not-aws", lambda a: a, "with an HTML page, not the AWS API: check AWS_ENDPOINT_URL",
          EXIT_AWS_ERROR, session="foreign"),
    *each(ALL, "access-denied", lambda a: a, "access denied calling ecs:Describe", EXIT_AWS_ERROR, session="denied"),
    # -- the template and the family ------------------------------------------------------------
    *each(TEMPLATED, "template-missing", lambda a: replaced(a, "--template", "nope-template"),
          "task definition 'nope-template' not found in us-east-1: check --template"),
    *each(TEMPLATED, "template-no-active", lambda a: replaced(a, "--template", "gone-template"),
          "family 'gone-template' has no ACTIVE revision"),
    *each(TEMPLATED, "template-empty", lambda a: replaced(a, "--template", ""), "--template '' is not a task definition"),
    *each(TEMPLATED, "template-unicode", lambda a: replaced(a, "--template", "wéb-template"),
          "--template 'wéb-template' is not a task definition"),
    *each(TEMPLATED, "template-service-arn", lambda a: replaced(a, "--template", f"{ECS_ARN}:service/prod/web"),
          "is not an ECS task-definition ARN"),
    *each(TEMPLATED, "family-is-template", lambda a: [*a, "--family", "web-template"],
          "'web-template' is the template's own family: pass a --family"),
    *each(TEMPLATED, "family-space", lambda a: [*a, "--family", "web app"],
          "--family 'web app' is not a task definition family"),
    row("deploy-template-revision-missing", replaced(BASE["deploy"], "--template", "web-template:99"),
        "'web-template:99' not found"),
    row("deploy-template-revision-zero", replaced(BASE["deploy"], "--template", "web-template:0"), "is not a task definition"),
    row("deploy-template-revision-word", replaced(BASE["deploy"], "--template", "web-template:x"), "is not a task definition"),
    row("deploy-template-inactive", replaced(BASE["deploy"], "--template", "web-template:2"),
        "template web-template:2 is INACTIVE"),
    row("deploy-template-other-region", replaced(BASE["deploy"], "--template", f"{OTHER_REGION}:task-definition/web-template:1"),
        "is in region eu-west-1"),
    row("deploy-template-newline", replaced(BASE["deploy"], "--template", "web-template\n"), "is not a task definition"),
    row("deploy-template-no-suffix", replaced(BASE["deploy"], "--template", "plain"), "no '-template' suffix): pass --family"),
    row("deploy-family-empty", [*BASE["deploy"], "--family", ""], "--family '' is not a task definition family"),
    row("deploy-family-unicode", [*BASE["deploy"], "--family", "wéb"], "--family 'wéb' is not a task definition family"),
    row("deploy-family-256", [*BASE["deploy"], "--family", "w" * 256], "is not a task definition family"),
    row("check-template-malformed", [*BASE["check"], "--template", "web template"], "--template 'web template'"),
    row("check-family-malformed", [*BASE["check"], "--family", "web app"], "--family 'web app'"),
    row("check-family-is-template", [*BASE["check"], "--template", "web-template", "--family", "web-template"],
        "the template's own family"),
    # -- images --------------------------------------------------------------------------------------
    *each(IMAGED, "tag-unicode", lambda a: replaced(a, "--tag", "stablé"), "invalid tag 'stablé': use 1 to 128 ASCII"),
    *each(IMAGED, "tag-129", lambda a: replaced(a, "--tag", "v" * 129), "invalid tag 'vvvv"),
    *each(IMAGED, "tag-100kb", lambda a: replaced(a, "--tag", HUGE), "invalid tag 'xxxx"),
    *each(IMAGED, "tag-newline", lambda a: replaced(a, "--tag", "v1\n"), "invalid tag 'v1\\n'"),
    *each(IMAGED, "no-image", lambda a: without(a, "--tag"), "no image chosen: pass --image CONTAINER=IMAGE or --tag TAG"),
    row("deploy-tag-empty", replaced(BASE["deploy"], "--tag", ""), "no image chosen"),
    row("deploy-tag-leading-dot", replaced(BASE["deploy"], "--tag", ".v1"), "invalid tag '.v1'"),
    row("deploy-tag-leading-dash", replaced(BASE["deploy"], "--tag", "-v1"), "argument --tag: expected one argument"),
    row("deploy-tag-colon", replaced(BASE["deploy"], "--tag", "v1:x"), "invalid tag 'v1:x'"),
    row("deploy-tag-fullwidth", replaced(BASE["deploy"], "--tag", "ｖ１"), "invalid tag 'ｖ１'"),
    row("deploy-digest-short", replaced(BASE["deploy"], "--tag", "sha256:1234"), "invalid digest 'sha256:1234'"),
    row("deploy-digest-upper", replaced(BASE["deploy"], "--tag", "sha256:" + "AB" * 32), "invalid digest"),
    row("deploy-digest-unicode", replaced(BASE["deploy"], "--tag", "sha256:" + "é" * 64), "invalid digest"),
    row("deploy-image-digest-sha512-short", [*without(BASE["deploy"], "--tag"), "--image", "app=web@sha512:abcd"],
        "invalid digest 'sha512:abcd' in image"),
    row("deploy-image-digest-algorithm-upper", [*without(BASE["deploy"], "--tag"), "--image", "app=web@SHA256:" + "a" * 64],
        "invalid digest"),
    row("deploy-image-tag-unicode", [*without(BASE["deploy"], "--tag"), "--image", "app=web:stablé"],
        "invalid tag 'stablé' in image 'web:stablé'"),
    row("render-image-repository-upper", [*without(BASE["render"], "--tag"), "--image", "app=Web/App:v1"],
        "invalid repository"),
    row("render-image-repository-unicode", [*without(BASE["render"], "--tag"), "--image", "app=ｗｅｂ:v1"],
        "invalid repository"),
    row("render-image-registry", [*without(BASE["render"], "--tag"), "--image", "app=-registry.io/web:v1"], "invalid"),
    row("render-image-space", [*without(BASE["render"], "--tag"), "--image", "app=web app:v1"], "invalid"),
    row("render-image-too-long", [*without(BASE["render"], "--tag"), "--image", "app=" + "a" * 300],
        "characters, over the limit of 255: use a shorter"),
    row("render-image-100kb", [*without(BASE["render"], "--tag"), "--image", "app=" + HUGE], "(102400 characters)"),
    row("render-image-no-equals", [*without(BASE["render"], "--tag"), "--image", "app"], "--image 'app' is not CONTAINER=IMAGE"),
    row("render-image-empty", [*without(BASE["render"], "--tag"), "--image", "app="], "is not CONTAINER=IMAGE"),
    row("render-image-no-container", [*without(BASE["render"], "--tag"), "--image", "=nginx:1"], "is not CONTAINER=IMAGE"),
    row("render-image-twice", [*without(BASE["render"], "--tag"), "--image", "app=nginx:1", "--image", "app=nginx:2"],
        "names container 'app' twice"),
    *each(IMAGED, "image-unknown-container", lambda a: [*without(a, "--tag"), "--image", "api=nginx:1"],
          "names container 'api', which template web-template:1 does not have: use one of app"),
    row("deploy-image-unicode-container", [*without(BASE["deploy"], "--tag"), "--image", "äpp=nginx:1"],
        "names container 'äpp'"),
    row("deploy-image-not-pushed", [*without(BASE["deploy"], "--tag"), "--image", f"app={REPOSITORY}:v99"],
        "is not in ECR"),
    row("run-image-not-pushed", [*without(BASE["run"], "--tag"), "--image", f"app={REPOSITORY}:v99"], "is not in ECR"),
    row("deploy-repository-without-tag", [*without(BASE["deploy"], "--tag"), "--repository", REPOSITORY],
        "--repository needs --tag"),
    row("deploy-repository-unmatched", [*BASE["deploy"], "--repository", "registry.example.com/other"],
        "no container left to tag"),
    row("deploy-keep-unknown", [*BASE["deploy"], "--keep-image", "api"], "--keep-image names container 'api'"),
    row("deploy-keep-and-tag", [*BASE["deploy"], "--keep-image", "app"], "container 'app' has both --keep-image and --tag"),
    row("deploy-image-and-tag", [*BASE["deploy"], "--image", "app=nginx:1"], "container 'app' has both --image and --tag"),
    row("deploy-tag-ambiguous", replaced(BASE["deploy"], "--template", "multi-template"),
        "--tag without --repository is ambiguous"),
    row("deploy-container-without-image", [*replaced(without(BASE["deploy"], "--tag"), "--template", "multi-template"),
                                           "--image", "app=nginx:1"], "sidecar left without an image"),
    # -- numbers --------------------------------------------------------------------------------------
    *each(WAITING, "timeout-zero", lambda a: [*a, "--timeout", "0"], "--timeout: 0 must be a positive number of seconds"),
    *each(WAITING, "timeout-negative", lambda a: [*a, "--timeout=-5"], "-5 must be a positive number of seconds"),
    *each(WAITING, "timeout-nan", lambda a: [*a, "--timeout", "nan"], "nan must be a positive number of seconds"),
    *each(WAITING, "timeout-inf", lambda a: [*a, "--timeout", "inf"], "inf must be a positive number of seconds"),
    *each(WAITING, "timeout-huge", lambda a: [*a, "--timeout", "1e300"], "1e300 seconds is more than ten years"),
    *each(WAITING, "timeout-word", lambda a: [*a, "--timeout", "soon"], "'soon' is not a number of seconds"),
    *each(WAITING, "timeout-unicode-digits", lambda a: [*a, "--timeout", "٦٠٠"], "'٦٠٠' is not a number of seconds"),
    *each(WAITING, "timeout-100kb", lambda a: [*a, "--timeout", "9" * 102400], "(102400 characters)"),
    *each(WAITING, "poll-zero", lambda a: [*a, "--poll-interval", "0"], "--poll-interval: 0 must be a positive number"),
    *each(WAITING, "poll-longer-than-timeout", lambda a: [*a, "--poll-interval", "100", "--timeout", "50"],
          "--poll-interval 100 is longer than --timeout 50: poll more often"),
    *each(WAITING, "on-pause-word", lambda a: [*a, "--on-pause", "later"],
          "argument --on-pause: invalid choice: 'later'"),
    row("deploy-on-pause-without-wait", [*BASE["deploy"], "--no-wait", "--on-pause", "continue"],
        "--on-pause continue answers a pause the watch meets: it has no effect with --no-wait"),
    row("deploy-on-pause-rollback-no-rollback", [*BASE["deploy"], "--on-pause", "rollback", "--no-rollback"],
        "--on-pause rollback takes the release back at a pause, --no-rollback leaves it in place on failure"),
    row("continue-nothing-paused", BASE["continue"], "no PAUSE lifecycle hook: nothing to answer; check --service"),
    *each(WAITING, "threshold-zero", lambda a: [*a, "--failure-threshold", "0"], "0 must be 1 or more"),
    *each(WAITING, "threshold-fraction", lambda a: [*a, "--failure-threshold", "1.5"], "'1.5' is not a whole number"),
    *each(WAITING, "threshold-huge", lambda a: [*a, "--failure-threshold", "10" * 10], "is more than 1000000"),
    row("run-timeout-zero", [*BASE["run"], "--timeout", "0"], "--timeout: 0 must be a positive number of seconds"),
    row("run-poll-nan", [*BASE["run"], "--poll-interval", "nan"], "nan must be a positive number"),
    row("deploy-bake-negative", [*BASE["deploy"], "--bake=-1"], "-1 must be a non-negative number of seconds"),
    row("deploy-bake-nan", [*BASE["deploy"], "--bake", "nan"], "nan must be a non-negative number of seconds"),
    row("prune-keep-negative", replaced(BASE["prune"], "--keep", "-1"), "-1 must be 0 or more"),
    row("prune-keep-word", replaced(BASE["prune"], "--keep", "all"), "'all' is not a whole number"),
    row("prune-keep-empty", replaced(BASE["prune"], "--keep", ""), "'' is not a whole number"),
    row("prune-keep-fraction", replaced(BASE["prune"], "--keep", "2.5"), "'2.5' is not a whole number"),
    row("prune-keep-huge", replaced(BASE["prune"], "--keep", "9" * 30), "is more than 1000000"),
    row("prune-keep-missing", without(BASE["prune"], "--keep"), "the following arguments are required: --keep"),
    row("prune-min-age-negative", [*BASE["prune"], "--min-age=-5"], "must be a non-negative number of seconds"),
    row("prune-min-age-inf", [*BASE["prune"], "--min-age", "inf"], "must be a non-negative number of seconds"),
    row("status-events-negative", [*BASE["status"], "--events=-1"], "-1 must be 0 or more"),
    row("status-events-word", [*BASE["status"], "--events", "all"], "'all' is not a whole number"),
    row("status-events-huge", [*BASE["status"], "--events", "9" * 5000], "(5000 characters) is not a whole number"),
    row("check-start-seconds-negative", [*BASE["check"], "--start-seconds=-1"], "must be a non-negative number of seconds"),
    row("check-start-seconds-nan", [*BASE["check"], "--start-seconds", "nan"], "must be a non-negative number of seconds"),
    # -- options that conflict ------------------------------------------------------------------------
    row("deploy-no-wait-bake", [*BASE["deploy"], "--no-wait", "--bake", "10"], "--bake and --alarm watch the rollout"),
    row("deploy-no-wait-alarm", [*BASE["deploy"], "--no-wait", "--alarm", "HighErrors"], "--bake and --alarm watch the rollout"),
    row("deploy-no-wait-no-rollback", [*BASE["deploy"], "--no-wait", "--no-rollback"],
        "--no-rollback has no effect with --no-wait"),
    row("deploy-no-wait-value", [*BASE["deploy"], "--no-wait=yes"], "ignored explicit argument 'yes': give that option no value"),
    # -- alarms ---------------------------------------------------------------------------------------
    row("deploy-alarm-empty", [*BASE["deploy"], "--alarm", ""], "--alarm '' is not a CloudWatch alarm name: give its name"),
    row("deploy-alarm-256", [*BASE["deploy"], "--alarm", "a" * 256], "is not a CloudWatch alarm name: give its name, 1 to 255"),
    row("deploy-alarm-newline", [*BASE["deploy"], "--alarm", "High\nErrors"], "--alarm 'High\\nErrors' is not a CloudWatch"),
    row("deploy-alarm-100kb", [*BASE["deploy"], "--alarm", HUGE], "(102400 characters) is not a CloudWatch alarm name"),
    row("deploy-alarm-missing", [*BASE["deploy"], "--alarm", "nope"], "--alarm nope: no CloudWatch alarm of that name"),
    # -- rollback targets -----------------------------------------------------------------------------
    row("rollback-family-without-to", [*BASE["rollback"], "--family", "web"], "--family only applies with --to: pass --to"),
    row("rollback-family-without-to-other", [*BASE["rollback"], "--family", "other"], "--family only applies with --to"),
    row("rollback-to-zero", [*BASE["rollback"], "--to", "0"], "--to 0: revisions are numbered from 1"),
    row("rollback-to-superscript-digit", [*BASE["rollback"], "--to", "\u00b2"], "is not a task definition"),
    row("rollback-to-negative", [*BASE["rollback"], "--to=-1"], "--to '-1' names no revision"),
    row("rollback-to-family-only", [*BASE["rollback"], "--to", "web"], "--to 'web' names no revision"),
    row("rollback-to-missing", [*BASE["rollback"], "--to", "99"], "--to 99: task definition 'web:99' not found"),
    row("rollback-to-inactive", [*BASE["rollback"], "--to", "1"], "web:1 is INACTIVE (deregistered): ECS cannot deploy it"),
    row("rollback-to-other-family", [*BASE["rollback"], "--to", "other:1"],
        "--to other:1 is in family other, but service web runs web: pass --family other"),
    row("rollback-to-garbage", [*BASE["rollback"], "--to", ":::"], "--to ':::' is not a task definition"),
    row("rollback-to-newline", [*BASE["rollback"], "--to", "web:2\n"], "is not a task definition"),
    row("rollback-to-unicode-digit", [*BASE["rollback"], "--to", "web:٢"], "is not a task definition"),
    row("rollback-to-service-arn", [*BASE["rollback"], "--to", f"{ECS_ARN}:service/prod/web"],
        "is not an ECS task-definition ARN"),
    row("rollback-to-other-region", [*BASE["rollback"], "--to", f"{OTHER_REGION}:task-definition/web:2"],
        "is in region eu-west-1"),
    row("rollback-to-100kb", [*BASE["rollback"], "--to", HUGE], "(102400 characters)"),
    row("rollback-to-empty", [*BASE["rollback"], "--to", ""], "--to '' is not a task definition"),
    row("rollback-to-bad-family", [*BASE["rollback"], "--to", "1", "--family", "a b"], "--family 'a b' is not a task definition"),
    row("rollback-to-missing-in-family", [*BASE["rollback"], "--to", "7", "--family", "other"], "not found"),
    # -- run: the one-off task ------------------------------------------------------------------------
    row("run-command-empty", replaced(BASE["run"], "--command", ""), "--command is empty: give the command the task runs"),
    row("run-command-blank", replaced(BASE["run"], "--command", "   "), "--command is empty"),
    row("run-command-unclosed-quote", replaced(BASE["run"], "--command", "echo 'x"), "does not split like a shell command"),
    row("run-command-100kb", replaced(BASE["run"], "--command", "'" + HUGE), "(102401 characters) does not split"),
    row("run-env-no-equals", [*BASE["run"], "--env", "NOEQUALS"],
        "--env 'NOEQUALS' is not NAME=VALUE: give --env NAME=VALUE, e.g. --env LOG_LEVEL=debug"),
    row("run-env-no-name", [*BASE["run"], "--env", "=debug"], "is not NAME=VALUE"),
    row("run-env-empty", [*BASE["run"], "--env", ""], "is not NAME=VALUE: give --env NAME=VALUE"),
    row("run-env-control-name", [*BASE["run"], "--env", "LOG\nLEVEL=debug"], "the name holds a control character"),
    row("run-env-100kb", [*BASE["run"], "--env", "X" * 102400], "(102400 characters) is not NAME=VALUE"),
    row("run-container-unknown", [*BASE["run"], "--container", "nope"], "--container 'nope' is not a container"),
    row("run-container-empty", [*BASE["run"], "--container", ""], "--container '' is not a container"),
    row("run-container-unicode", [*BASE["run"], "--container", "äpp"], "--container 'äpp' is not a container"),
    row("deploy-run-before-empty", [*BASE["deploy"], "--run-before", ""], "--run-before"),
    row("deploy-run-before-unclosed", [*BASE["deploy"], "--run-before", "migrate 'x"], "--run-before"),
    # -- policy and check -----------------------------------------------------------------------------
    row("policy-ecr-repository-name", [*BASE["policy"], "--ecr-repository", "web"],
        "--ecr-repository 'web' is not an ECR repository ARN: e.g."),
    row("policy-ecr-repository-no-name", [*BASE["policy"], "--ecr-repository", "arn:aws:ecr:us-east-1:1:repository/"],
        "is not an ECR repository ARN"),
    row("policy-ecr-repository-s3", [*BASE["policy"], "--ecr-repository", "arn:aws:s3:::bucket"],
        "is not an ECR repository ARN"),
    row("policy-ecr-repository-100kb", [*BASE["policy"], "--ecr-repository", HUGE], "(102400 characters)"),
    row("policy-command-unknown", [*BASE["policy"], "--command", "bogus"], "argument --command: invalid choice: 'bogus' (choose"),
    row("check-min-severity-unknown", [*BASE["check"], "--min-severity", "fatal"],
        "argument --min-severity: invalid choice: 'fatal' (choose from"),
    row("check-min-severity-100kb", [*BASE["check"], "--min-severity", HUGE], "invalid choice: 'xxxx"),
    # -- the command itself ---------------------------------------------------------------------------
    row("no-command", [], "the following arguments are required: COMMAND"),
    row("unknown-command", ["deplyo", *TARGET], "argument COMMAND: invalid choice: 'deplyo' (choose from"),
    row("unknown-command-100kb", [HUGE], "invalid choice: 'xxxx"),
    row("cluster-without-value", ["status", "--service", "web", "--cluster"], "argument --cluster: expected one argument: give"),
    row("ambiguous-option", [*BASE["deploy"], "--t", "5"], "ambiguous option: --t could match"),
    row("unrecognized-100kb", [*BASE["status"], HUGE], "unrecognized arguments: xxxx"),
    row("config-file-unparsable", BASE["status"], "the AWS configuration cannot be used", env={"AWS_CONFIG_FILE": "GARBAGE"},
        session="none"),
    row("defaults-mode-unknown", BASE["status"], "the AWS configuration cannot be used: Client configured with invalid "
        "defaults mode", env={"AWS_DEFAULTS_MODE": "fastest"}, session="none"),
    row("profile-env-empty", BASE["status"], "AWS_PROFILE is set but empty: set it to a profile", env={"AWS_PROFILE": ""},
        session="none"),
    row("profile-option-empty", [*BASE["status"], "--profile", ""], "--profile is empty: pass a profile name", session="none"),
    row("profile-env-missing", BASE["status"], "AWS profile 'nope' not found", env={"AWS_PROFILE": "nope"}, session="none"),
    row("no-region", BASE["status"], "no AWS region configured: pass --region or set AWS_REGION",
        env={"AWS_REGION": None, "AWS_DEFAULT_REGION": None}, session="none"),
    row("region-upper-case", [*BASE["status"], "--region", "US-EAST-1"], "region 'US-EAST-1' is not a region name"),
    row("region-unicode", [*BASE["status"], "--region", "us-éast-1"], "region 'us-éast-1' is not a region name"),
    row("region-punctuation", [*BASE["status"], "--region", "bad region!"], "region 'bad region!' is not a region name"),
    row("region-env-unknown", BASE["status"], "region 'xx-fake-9' is not a region name: fix AWS_REGION or pass --region",
        env={"AWS_REGION": "xx-fake-9"}, session="none"),
    row("endpoint-service-not-a-url", BASE["status"], "is not a URL: set AWS_ENDPOINT_URL_ECS to",
        env={"AWS_ENDPOINT_URL_ECS": "ecs please"}, session="none"),
]


def _env_for(row_env: dict[str, str | None], monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for key, value in row_env.items():
        if value is None:
            monkeypatch.delenv(key, raising=False)
        elif value == "GARBAGE":
            garbage = tmp_path / "garbage-config"
            garbage.write_text("[[[ not ini\nregion = \n")
            monkeypatch.setenv(key, str(garbage))
        else:
            monkeypatch.setenv(key, value)


@pytest.mark.parametrize("argv, code, fragment, env, session", ROWS)
def test_bad_input_is_one_line_that_says_what_to_do_and_changes_nothing(served, monkeypatch, tmp_path, argv, code,
                                                                         fragment, env, session):
    world, foreign = served
    before = opening_snapshot(world)
    _env_for(env, monkeypatch, tmp_path)
    tool_session = None if session == "none" else world.session()
    if session == "denied":
        for operation in ("DescribeServices", "DescribeTaskDefinition"):  # whichever the command reads first
            refuse(tool_session, operation)
    if session == "foreign":
        monkeypatch.setenv("AWS_ENDPOINT_URL", foreign.url)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        exit_code = main(list(argv), session=tool_session, clock=world.aws.clock)

    lines = err.getvalue().splitlines()
    assert (exit_code, len(lines)) == (code, 1), err.getvalue()[:3000]
    line = lines[0]
    assert line.startswith(PREFIX) and fragment in line, line[:3000]
    assert "internal error" not in line and "Traceback" not in err.getvalue() + out.getvalue()
    assert len(line) < 1000, line[:3000]  # bounded, however long the value given
    assert says_what_to_do(line), line
    assert closing_snapshot(world) == before


def test_the_table_has_at_least_150_rows_across_all_ten_commands():
    commands = {argv[0] for argv, *_ in (p.values for p in ROWS) if argv and argv[0] in COMMANDS}
    assert len(ROWS) >= 150 and commands == set(COMMANDS)


@pytest.mark.parametrize("command", READ_ONLY)
def test_the_rows_start_from_commands_that_work(served, monkeypatch, tmp_path, command, capsys):
    """Each row changes one thing in a command that works as it is: what it changed is what is refused."""
    world, _ = served
    _left_by_last_row.pop(world, None)  # a command that works may change AWS: the next row reads its own start
    _env_for({}, monkeypatch, tmp_path)
    assert main(BASE[command], session=world.session(), clock=world.aws.clock) in (0, 7)  # check: 7 for an error finding
