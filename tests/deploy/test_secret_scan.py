"""The secret scan: planted secrets of every kind, in every field, never printed.

A template carries more than 25 realistic secrets (URL passwords, JDBC/ODBC and
Oracle passwords, a multi-line PEM key, a 32-hex API key, GitHub, GitLab,
Slack, Stripe, npm, PyPI, Twilio, SendGrid, Google, OpenAI, Anthropic and Vault
tokens, a JWT, AWS keys, an htpasswd hash, short passwords under neutral names)
spread over `environment`, `command`, `entryPoint`, `healthCheck.command`,
`dockerLabels`, `logConfiguration.options`, `secretOptions`, volume driver
options and tags; `run --command/--env` and `deploy --run-before` carry more.
Every command that prints anything about the definition or the task runs
through the real CLI entry point, in-process on the simulator (ToolWorld) and
as a process against `harness serve`, with and without --json: no part of a
planted secret appears on stdout or stderr, except in plain `render`, whose
output is the registrable request and which says so on stderr.
"""
from __future__ import annotations

import base64
import io
import json
import os
import random
import re
import shlex
import string
import subprocess
import sys
import uuid
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass

import pytest

from ecs_template_deploy.cli import main
from harness.backends.embedded import ACCOUNT, EmbeddedAws
from harness.backends.remote import RemoteAws, serve_process
from harness.worlds.tool import CLUSTER, REPOSITORY, SERVICE, TEMPLATE, ToolWorld
from harness.backends.embedded import cd_process_env

REGION = "us-east-1"
IMAGE_ARGS = ("--repository", "web")
WINDOW = 12  # a leak is any 12 characters in a row of a planted secret (shorter secrets: the whole of it)

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
BASE64 = ALNUM + "+/"
WORDS = ("hunter", "dragon", "letmein", "monkey", "sunshine", "shadow", "qwerty", "trustno")


def _pick(rng: random.Random, alphabet: str, length: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(length))


def _pem(rng: random.Random) -> str:
    body = base64.b64encode(rng.randbytes(300)).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END RSA PRIVATE KEY-----\n"


def _jwt(rng: random.Random) -> str:
    payload = json.dumps({"sub": str(rng.randrange(10**9)), "name": "svc-web", "iat": 1716239022}).encode()
    claims = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + claims + "." + _pick(rng, URLSAFE, 43)


def planted(seed: int) -> dict[str, str]:
    """One set of secrets, each in its real format (random within it), by kind."""
    rng = random.Random(seed)
    return {
        "url password": "Tr0ub4dor-" + _pick(rng, ALNUM, 6),
        "second url password": "Mig-" + _pick(rng, ALNUM, 10),
        "jdbc password": _pick(rng, ALNUM, 11) + "!",
        "odbc password": _pick(rng, ALNUM, 12),
        "oracle password": "T1ger" + _pick(rng, ALNUM, 6),
        "cifs password": _pick(rng, ALNUM, 12),
        "tag url password": _pick(rng, ALNUM, 12),
        "pem private key": _pem(rng),
        "32-hex api key": _pick(rng, HEX, 32),
        "datadog api key": _pick(rng, HEX, 32),
        "npm token": "npm_" + _pick(rng, ALNUM, 36),
        "github token": "ghp_" + _pick(rng, ALNUM, 36),
        "github fine-grained token": "github_pat_" + _pick(rng, ALNUM, 22) + "_" + _pick(rng, ALNUM, 59),
        "gitlab token": "glpat-" + _pick(rng, URLSAFE, 20),
        "slack bot token": f"xoxb-{rng.randrange(10**11, 10**12)}-{rng.randrange(10**12, 10**13)}-{_pick(rng, ALNUM, 24)}",
        "slack webhook": f"T{_pick(rng, UPPER_DIGITS, 8)}/B{_pick(rng, UPPER_DIGITS, 10)}/{_pick(rng, ALNUM, 24)}",
        "stripe key": "sk_live_" + _pick(rng, ALNUM, 24),
        "pypi token": "pypi-AgEIcHlwaS5vcmc" + _pick(rng, URLSAFE, 60),
        "twilio api key": "SK" + _pick(rng, HEX, 32),
        "sendgrid key": "SG." + _pick(rng, URLSAFE, 22) + "." + _pick(rng, URLSAFE, 43),
        "google api key": "AIza" + _pick(rng, URLSAFE, 35),
        "openai key": "sk-proj-" + _pick(rng, URLSAFE, 48),
        "anthropic key": "sk-ant-api03-" + _pick(rng, URLSAFE, 93) + "AA",
        "vault token": "hvs." + _pick(rng, ALNUM, 24),
        "jwt": _jwt(rng),
        "aws access key id": "AKIA" + _pick(rng, UPPER_DIGITS, 16),
        "aws secret access key": _pick(rng, BASE64, 40),
        "bearer token": _pick(rng, ALNUM, 40),
        "htpasswd hash": "$apr1$" + _pick(rng, ALNUM, 8) + "$" + _pick(rng, ALNUM + "./", 22),
        "splunk token": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "short password under PW": rng.choice(WORDS) + str(rng.randrange(10, 99)),
        "short password under PASSWD": rng.choice(WORDS) + str(rng.randrange(10, 99)) + "!",
        "password after --password": rng.choice(WORDS) + "-" + _pick(rng, ALNUM, 4),
        "password after -p (mysql)": _pick(rng, ALNUM, 9),
        "password after curl -u": _pick(rng, ALNUM, 10),
        "PGPASSWORD in a shell string": rng.choice(WORDS) + _pick(rng, string.digits, 3),
    }


# What must stay visible in the masked outputs: look-alikes of secrets that are not.
DIGEST = "sha256:" + "4f" * 32
COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"
REQUEST_UUID = "1c2d6da7-322e-467c-8c9d-662f2732a8ec"
SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:api-token-AbCdEf"
VISIBLE = ("LOG_LEVEL", "info", DIGEST, COMMIT, REQUEST_UUID, SECRET_ARN, "db.internal", "/var/lib/app/data", "2.14.1",
           "http-intake.logs.datadoghq.com", "payments")


def _environment(values: dict[str, str]) -> list[dict[str, str]]:
    """A container's `environment`, in the order written."""
    return [{"name": name, "value": value} for name, value in values.items()]


def template(s: dict[str, str]) -> dict:
    """A template with every secret of `s` somewhere (and the look-alikes of VISIBLE)."""
    image = f"{REPOSITORY}:placeholder"
    return {
        "family": TEMPLATE,
        "volumes": [{"name": "share", "dockerVolumeConfiguration": {"scope": "task", "driver": "local", "driverOpts": {
            "type": "cifs", "device": "//files.internal/share",
            "o": f"username=svc-web,password={s['cifs password']},vers=3.0"}}}],
        "containerDefinitions": [
            {
                "name": "app", "image": image, "memory": 256, "essential": True,
                "environment": _environment({
                    "LOG_LEVEL": "info",
                    "DATABASE_URL": f"postgres://admin:{s['url password']}@db.internal:5432/app",
                    "REPORTING_DB":
                        f"jdbc:postgresql://db.internal:5432/reports?user=reporter&password={s['jdbc password']}&ssl=true",
                    "SERVER_PEM": s["pem private key"],
                    "MONITORING": s["32-hex api key"],
                    "NPMRC": f"//registry.npmjs.org/:_authToken={s['npm token']}",
                    "DB_PW": s["short password under PW"],
                    "PASSWD": s["short password under PASSWD"],
                    "MAPS": s["google api key"],
                    "SMS": s["twilio api key"],
                    "SESSION_SAMPLE": s["jwt"],
                    "UPLOADER": s["aws access key id"],
                    "UPLOADER_CONFIG": f"region={REGION} key={s['aws secret access key']}",
                    "IMAGE_DIGEST": DIGEST,
                    "BUILD_COMMIT": COMMIT,
                    "REQUEST_NAMESPACE": REQUEST_UUID,
                    "DATA_DIR": "/var/lib/app/data",
                    "APP_VERSION": "2.14.1",
                }),
                "secrets": [{"name": "API_TOKEN", "valueFrom": SECRET_ARN}],
                "command": ["bin/server", "--password", s["password after --password"],
                            f"--db=postgres://migrator:{s['second url password']}@db.internal/app",
                            f"--token={s['gitlab token']}", "--revision", COMMIT],
                "entryPoint": ["sh", "-c",
                               f"mysql -u root -p{s['password after -p (mysql)']} app < /seed.sql; "
                               f"PGPASSWORD={s['PGPASSWORD in a shell string']} psql -h db.internal -c 'select 1'; "
                               'exec "$@"', "--"],
                "healthCheck": {"command": ["CMD-SHELL",
                                            f"curl -fsS -u monitor:{s['password after curl -u']} "
                                            f"-H 'Authorization: Bearer {s['bearer token']}' http://localhost:8080/health || exit 1"],
                                "interval": 30, "timeout": 5, "retries": 3, "startPeriod": 10},
                "dockerLabels": {
                    "traefik.http.middlewares.auth.basicauth.users": f"admin:{s['htpasswd hash']}",
                    "com.example.notify": f"https://hooks.slack.com/services/{s['slack webhook']}",
                    "com.example.ci": s["github token"],
                    "com.example.team": "payments",
                },
                "logConfiguration": {
                    "logDriver": "awsfirelens",
                    "options": {"Name": "datadog", "apikey": s["datadog api key"],
                                "Host": "http-intake.logs.datadoghq.com", "TLS": "on"},
                    "secretOptions": [{"name": "dd_api_key_backup", "valueFrom": SECRET_ARN},
                                      {"name": "provider", "valueFrom": s["sendgrid key"]}],
                },
            },
            {
                "name": "worker", "image": image, "memory": 128, "essential": False,
                "command": ["bin/worker", "--vault-token", s["vault token"],
                            "--connection", f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:db.internal,1433;"
                                            f"Uid=sa;Pwd={s['odbc password']};Encrypt=yes",
                            f"--source=jdbc:oracle:thin:scott/{s['oracle password']}@//db.internal:1521/ORCL"],
                "environment": _environment({
                    "ASSISTANT": s["anthropic key"], "EMBEDDINGS": s["openai key"], "UPLOAD": s["pypi token"],
                    "CHAT": s["slack bot token"], "BILLING": s["stripe key"],
                    "CHECKOUT_SOURCE": s["github fine-grained token"],
                }),
                "logConfiguration": {"logDriver": "splunk", "options": {
                    "splunk-url": "https://splunk.example.com:8088", "splunk-token": s["splunk token"]}},
            },
            {
                "name": "log_router", "image": image, "memory": 64, "essential": False,
                "firelensConfiguration": {"type": "fluentbit", "options": {"enable-ecs-log-metadata": "true"}},
            },
        ],
        "tags": [{"key": "team", "value": "payments"},
                 {"key": "ci-callback", "value": f"https://ci:{s['tag url password']}@jenkins.internal/job/web"}],
    }


DEPLOYED, RENDERED, RUN, RUN_BEFORE = planted(1), planted(2), planted(3), planted(4)
RUN_COMMAND = (f"bin/migrate --password {RUN['password after --password']} "
               f"--db=postgres://migrator:{RUN['url password']}@db.internal/app --token {RUN['github token']}")
RUN_ENV = (f"DB_PASSWORD={RUN['short password under PW']}", f"NOTIFY={RUN['slack bot token']}", "LOG_LEVEL=debug")
RUN_BEFORE_COMMAND = (f"bin/migrate --yes -p {RUN_BEFORE['short password under PW']} "
                      f"--api-key {RUN_BEFORE['stripe key']} --url https://deploy:{RUN_BEFORE['url password']}@hooks.internal/x")
EVERY_SECRET = [value for s in (DEPLOYED, RENDERED, RUN, RUN_BEFORE) for value in s.values()]


def _windows(secret: str) -> set[str]:
    """Any WINDOW characters of a secret (of each line of a PEM key; all of a shorter one)."""
    windows = set()
    for part in secret.splitlines() or [secret]:
        part = part.strip()
        if not part or part.startswith("-----"):
            continue
        if len(part) <= WINDOW:
            windows.add(part)
        else:
            windows.update(part[i:i + WINDOW] for i in range(len(part) - WINDOW + 1))
    return windows


def _needles() -> dict[str, str]:
    """Window -> the one planted secret it gives away. Windows that several secrets share (a
    format's fixed prefix: `pypi-AgEIcHlwaS5vcmc`, a JWT's usual header) give none away."""
    owners: dict[str, set[str]] = {}
    for secret in EVERY_SECRET:
        for window in _windows(secret):
            owners.setdefault(window, set()).add(secret)
    return {window: next(iter(secrets)) for window, secrets in owners.items() if len(secrets) == 1}


NEEDLES = _needles()


def leaks(text: str) -> list[str]:
    """The planted secrets any part of which appears in `text` (as printed or JSON-escaped)."""
    escaped = text.replace("\\/", "/").replace("\\n", "\n")
    found = []
    for needle, secret in NEEDLES.items():
        if (needle in text or needle in escaped) and secret not in found:
            found.append(secret)
    return found


@dataclass
class Output:
    code: int
    stdout: str
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout + self.stderr


def tool(world: ToolWorld, command: str, *argv: str, json_output: bool = False) -> Output:
    """`ecs-template-deploy COMMAND` through the CLI entry point, in-process, on the world's clock."""
    target = ["--cluster", CLUSTER, "--service", SERVICE]
    if command in ("render", "diff", "deploy", "run"):
        target += ["--template", TEMPLATE]
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([command, *target, *argv, *(["--json"] if json_output else [])], session=world.session(),
                    clock=world.aws.clock)
    return Output(code, out.getvalue(), err.getvalue())


WAIT = ("--poll-interval", "5", "--timeout", "900")
RUN_ARGS = ("--tag", "v2", *IMAGE_ARGS, "--command", RUN_COMMAND, *[a for e in RUN_ENV for a in ("--env", e)], *WAIT)
# label -> (command, argv, --json); in this order: deploy (set DEPLOYED) first, then the template moves on to RENDERED
COMMANDS = {
    "deploy --run-before": ("deploy", ("--tag", "v1", *IMAGE_ARGS, "--run-before", RUN_BEFORE_COMMAND, *WAIT), False),
    "render": ("render", ("--tag", "v2", *IMAGE_ARGS), False),
    "render --mask": ("render", ("--tag", "v2", *IMAGE_ARGS, "--mask"), False),
    "render --mask --json": ("render", ("--tag", "v2", *IMAGE_ARGS, "--mask"), True),
    "diff": ("diff", ("--tag", "v2", *IMAGE_ARGS), False),
    "diff --json": ("diff", ("--tag", "v2", *IMAGE_ARGS), True),
    "run": ("run", RUN_ARGS, False),
    "run --json": ("run", RUN_ARGS, True),
    "deploy --run-before --json": ("deploy", ("--tag", "v2", *IMAGE_ARGS, "--run-before", RUN_BEFORE_COMMAND, *WAIT), True),
    "status": ("status", (), False),
    "status --json": ("status", (), True),
    "check": ("check", (), False),
    "check --json": ("check", (), True),
}
MASKED_COMMANDS = [label for label in COMMANDS if label != "render"]


@pytest.fixture(scope="module")
def scan() -> dict[str, Output]:
    """Every command on one world: the service deployed with DEPLOYED's secrets, the template on RENDERED's.
    The world is gone when the tests read the outputs (the served tests below run without the mock)."""
    outputs = {}
    with EmbeddedAws() as aws:
        world = ToolWorld.build(aws, desired=2)
        for command in (RUN_COMMAND, RUN_BEFORE_COMMAND):
            aws.sim.declare_command(shlex.split(command), exit_code=0, exit_after=20)
        world.ecs.register_task_definition(**template(DEPLOYED))
        for label, (command, argv, json_output) in COMMANDS.items():
            outputs[label] = tool(world, command, *argv, json_output=json_output)
            if label == "deploy --run-before":  # the template moves on: diff and run show DEPLOYED -> RENDERED
                world.ecs.register_task_definition(**template(RENDERED))
    return outputs


def test_the_planted_secrets_are_many_realistic_and_of_every_kind():
    assert len(RENDERED) >= 25 and len(set(EVERY_SECRET)) == len(EVERY_SECRET)
    assert set(NEEDLES.values()) == set(EVERY_SECRET)  # each one can be found
    rendered = json.dumps(template(RENDERED))
    assert all(json.dumps(secret)[1:-1] in rendered for secret in RENDERED.values())


def test_every_command_ran(scan):
    assert {label: out.code for label, out in scan.items()} == dict.fromkeys(COMMANDS, 0), {
        label: out.stderr for label, out in scan.items() if out.code}


def test_plain_render_prints_the_registrable_request_in_clear_and_warns(scan):
    out = scan["render"]
    definition = json.loads(out.stdout)
    assert "masked" not in definition  # the request itself, for register-task-definition --cli-input-json
    assert set(leaks(out.stdout)) == set(RENDERED.values())  # every planted secret reached the output: the scan is real
    (warning,) = [line for line in out.stderr.splitlines() if "look secret" in line]
    assert warning.startswith("ecs-template-deploy: warning: the output holds ")
    assert "in clear" in warning and "--mask" in warning
    count = int(warning.split("the output holds ")[1].split()[0])
    assert count >= len(RENDERED) - 3  # a few fields hold two planted secrets each


@pytest.mark.parametrize("label", MASKED_COMMANDS)
def test_no_planted_secret_is_printed(scan, label):
    assert leaks(scan[label].text) == []


def test_render_mask_lists_where_and_why_it_masked_and_keeps_the_look_alikes(scan):
    out = scan["render --mask"]
    definition = json.loads(out.stdout)
    masked = definition["masked"]
    paths = {m["path"] for m in masked}
    assert {"containerDefinitions[app].environment[DATABASE_URL]", "containerDefinitions[app].command[2]",
            "containerDefinitions[app].healthCheck.command[1]", "containerDefinitions[worker].command[2]",
            "containerDefinitions[app].logConfiguration.secretOptions[1].valueFrom",
            "containerDefinitions[app].dockerLabels[com.example.ci]", "tags[ci-callback]",
            "volumes[0].dockerVolumeConfiguration.driverOpts.o"} <= paths
    assert all(m["why"] for m in masked)
    environment = {e["name"]: e["value"] for e in definition["containerDefinitions"][0]["environment"]}
    assert environment["DATABASE_URL"] == "postgres://admin:***@db.internal:5432/app"  # only the password
    assert environment["SERVER_PEM"] == "***"
    assert definition["containerDefinitions"][0]["command"][:3] == ["bin/server", "--password", "***"]
    printed = out.stdout
    for visible in VISIBLE:
        assert visible in printed
    (warning,) = out.stderr.splitlines()
    assert warning.startswith(f"ecs-template-deploy: warning: masked {len(masked)} value(s) that look secret")
    assert "containerDefinitions[app].command[2] (after --password)" in warning


def test_diff_shows_each_change_on_one_line_with_the_secrets_masked_and_says_where(scan):
    out = scan["diff"]
    lines = out.stdout.splitlines()
    assert lines[0].startswith("service web runs ")
    assert all(line.startswith(("  + ", "  - ", "  ~ ")) for line in lines[1:]), lines
    changed = {line.split(": ", 1)[0].strip()[2:]: line for line in lines[1:]}
    assert changed["containerDefinitions[app].environment[SERVER_PEM]"].endswith(": *** -> ***")
    assert changed["containerDefinitions[app].environment[DATABASE_URL]"].endswith(
        ": postgres://admin:***@db.internal:5432/app -> postgres://admin:***@db.internal:5432/app")
    warnings = [line for line in out.stderr.splitlines() if "look secret" in line]
    assert len(warnings) == 1 and "containerDefinitions[app].environment[SERVER_PEM] (" in warnings[0]

    result = json.loads(scan["diff --json"].stdout)
    paths = {m["path"] for m in result["masked"]}
    assert "containerDefinitions[app].environment[SERVER_PEM]" in paths
    assert {c["path"] for c in result["changes"] if "***" in json.dumps(c)} <= paths


def test_one_off_progress_shows_the_command_masked_and_says_where(scan):
    started = [line for line in scan["run"].stdout.splitlines() if "started task" in line]
    assert len(started) == 1 and "bin/migrate --password *** --db=postgres://migrator:***@db.internal/app --token ***" in started[0]
    assert re.search(r"started task [0-9a-f]{32} of web:2: ", started[0])  # the task's id (32 hex) is no secret
    assert started[0].endswith("(env DB_PASSWORD, NOTIFY, LOG_LEVEL)")  # --env by name only
    assert "--command[2] (after --password)" in scan["run"].stderr
    events = [json.loads(line) for line in scan["run --json"].stdout.splitlines() if line.startswith("{")]
    (action,) = [e for e in events if e.get("kind") == "action" and "started task" in e["message"]]
    assert {m["path"] for m in action["masked"]} == {"--command[2]", "--command[3]", "--command[5]"}
    result = events[-1]
    assert result["kind"] == "result" and any("--password ***" in a for a in result["actions"])
    deployed = [json.loads(line) for line in scan["deploy --run-before --json"].stdout.splitlines() if line.startswith("{")]
    (before,) = [e for e in deployed if e.get("kind") == "action" and "started task" in e["message"]]
    assert "bin/migrate --yes -p *** --api-key *** --url https://deploy:***@hooks.internal/x" in before["message"]


def test_check_json_masks_the_health_check_command_it_reports(scan):
    result = json.loads(scan["check --json"].stdout.strip().splitlines()[-1])
    (app,) = [c for c in result["settings"]["containers"] if c["name"] == "app"]
    assert app["healthCheck"]["command"][1].startswith("curl -fsS -u monitor:*** -H 'Authorization: Bearer ***' ")
    assert {m["path"] for m in result["settings"]["masked"]} == {"containers[app].healthCheck.command[1]"}


# -- as a process against `harness serve` -------------------------------------------------------

@pytest.fixture(scope="module")
def served():
    with serve_process(speed=60.0) as url:
        aws = RemoteAws(url)
        world = ToolWorld.build(aws, desired=2)
        aws.control("images", {"command": shlex.split(RUN_COMMAND), "behaviour": {"exit_code": 0, "exit_after": 20}})
        world.ecs.register_task_definition(**template(RENDERED))
        yield url


def process(url: str, *argv: str) -> subprocess.CompletedProcess:
    """The tool as a CD job runs it: its own process, with only the AWS settings the job gives it."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **cd_process_env(url)}
    return subprocess.run([sys.executable, "-m", "ecs_template_deploy", *argv], env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("argv", [
    ("diff", "--tag", "v1", *IMAGE_ARGS),
    ("diff", "--tag", "v1", *IMAGE_ARGS, "--json"),
    ("render", "--tag", "v1", *IMAGE_ARGS, "--mask"),
    ("run", "--tag", "v1", *IMAGE_ARGS, "--command", RUN_COMMAND, *[a for e in RUN_ENV for a in ("--env", e)],
     "--poll-interval", "0.2", "--timeout", "120"),
], ids=["diff", "diff --json", "render --mask", "run"])
def test_a_cd_process_against_harness_serve_prints_no_planted_secret(served, argv):
    done = process(served, argv[0], "--cluster", CLUSTER, "--service", SERVICE, "--template", TEMPLATE, *argv[1:])
    assert done.returncode == 0, done.stderr
    assert leaks(done.stdout + done.stderr) == []
    assert "***" in done.stdout
    says_where = json.loads(done.stdout)["masked"] if "--json" in argv else done.stderr
    where = "--command[2]" if argv[0] == "run" else "containerDefinitions[app].environment[DATABASE_URL]"
    assert where in str(says_where)
