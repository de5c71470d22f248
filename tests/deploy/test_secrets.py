"""What looks secret, by name and by value, in any field: masked wherever it is printed, and each
output says where and why; render without --mask prints the request as is and says so."""
from __future__ import annotations

import copy
import io
import json
import shlex
from contextlib import redirect_stderr, redirect_stdout

import pytest

from ecs_template_deploy.cli import main
from ecs_template_deploy.cli.diff import _show
from ecs_template_deploy.cli.run import check_task_options
from ecs_template_deploy.diff import diff_definitions
from ecs_template_deploy.errors import BadInputError
from ecs_template_deploy.oneoff import OneOff, shown_command
from ecs_template_deploy.secrets import MASK, Masked, mask, mask_definition, mask_text, note, secret_name, secret_value
from ecs_template_deploy.views import TaskDefinition
from harness.backends.embedded import EmbeddedAws
from harness.worlds.tool import CLUSTER, SERVICE, TEMPLATE, ToolWorld

from .conftest import World

PAT = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
HEX_KEY = "0f3e9c2a8b7d4e6f1a2b3c4d5e6f7a8b"  # 32 hex digits: a Datadog, Mailchimp, Twilio-token-like key
DIGEST = "2d711642b726b04401627ca9fbac32f5c8530fb1c46e2d9d44e4a3b3e0f47e1f"
TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task/prod/0c7e5d2b9a1f4e3d8c6b5a4f3e2d1c0b"


# -- names -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["GITHUB_PAT", "SENTRY_DSN", "DB_PASSWORD", "apiKey", "AWS_SECRET_ACCESS_KEY",
                                  "AUTH_HEADER", "SERVICE_CREDENTIALS", "PRIVATE_KEY_PEM", "dbPasswd", "SESSION_TOKEN",
                                  "PW", "DB_PW", "PASSWD", "X-Api-Key", "_authToken", "storepass", "requirepass",
                                  "spring.datasource.password", "SLACK_WEBHOOK_URL", "SECRET_KEY_BASE"])
def test_secret_names_are_recognised_by_their_words(name):
    assert secret_name(name)


@pytest.mark.parametrize("name", ["PATH", "PATTERN", "MONKEY_COUNT", "KEYBOARD_LAYOUT", "LOG_LEVEL", "SESSION_TIMEOUT",
                                  "PASSENGER_LIMIT", "DISPATCH_MODE", "TOKEN_TTL", "SECRET_ARN", "DB_PASSWORD_FILE",
                                  "AUTH_ENABLED", "JWT_ISSUER", "API_KEY_ID", "password-file", "BYPASS_CACHE"])
def test_names_that_describe_a_secret_or_only_contain_a_secret_word_are_not_secret(name):
    assert not secret_name(name)


# -- values: each kind masked, only the secret part where the rest is useful -------------------

@pytest.mark.parametrize("value, shown_as", [
    ("postgres://admin:hunter2@db.internal:5432/app", "postgres://admin:***@db.internal:5432/app"),
    ("--db=postgres://admin:p@ss:w0rd@db/app", "--db=postgres://admin:***@db/app"),  # an @ in the password
    ("redis://:s3cr3t@cache:6379/0", "redis://:***@cache:6379/0"),
    ("https://0123456789abcdef0123456789abcdef@o1.ingest.sentry.io/42", "https://***@o1.ingest.sentry.io/42"),
    ("jdbc:postgresql://db:5432/app?user=app&password=Zq8vR2mK&ssl=true",
     "jdbc:postgresql://db:5432/app?user=app&password=***&ssl=true"),
    ("jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=Pa55w0rd;", "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=***;"),
    ("Driver={ODBC Driver 18};Server=db;Uid=sa;Pwd={p;w0rd};", "Driver={ODBC Driver 18};Server=db;Uid=sa;Pwd={***};"),
    ("jdbc:oracle:thin:scott/tiger@//db:1521/ORCL", "jdbc:oracle:thin:scott/***@//db:1521/ORCL"),
    ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM\n-----END RSA PRIVATE KEY-----", MASK),
    ("-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n-----END PRIVATE KEY-----\\n", MASK),  # escaped
    ("key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU", "key: ***"),  # cut short
    (HEX_KEY, MASK),
    (f"{HEX_KEY}-us6", f"{MASK}-us6"),
    ("npm_" + "a" * 10 + "B1c2D3e4F5g6H7i8J9k0L1m2N3", MASK),
    (PAT, MASK),
    ("github_pat_11ABCDEFG0123456789abc_" + "x1Y2z3" * 10, MASK),
    ("glpat-Ab1Cd2Ef3Gh4Ij5Kl6Mn", MASK),
    ("xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx", MASK),
    ("https://hooks.slack.com/services/T0AAAAAAA/B0BBBBBBBBB/abcdefghijklmnopqrstuvwx", "https://hooks.slack.com/***"),
    ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", MASK),
    ("rk_live_4eC39HqLyjWDarjtT1zdp7dc", MASK),
    ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", MASK),
    ("pypi-AgEIcHlwaS5vcmcCJDAwMDAwMDAwLTAwMDAtMDAwMC0wMDAwLTAwMDAwMDAwMDAwMAACKlsz", MASK),
    ("SK" + HEX_KEY, MASK),
    ("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", MASK),
    ("AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", MASK),
    ("sk-proj-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90", MASK),
    ("sk-ant-api03-Ab12Cd34Ef56Gh78Ij90Kl12Mn34Op56Qr78St90-xyzAA", MASK),
    ("hvs.CAESIJ4mbYrU9H0xmyGc7Wp2Qz1A", MASK),
    ("AKIAIOSFODNN7EXAMPLE", MASK),
    ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", MASK),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", MASK),
    ("admin:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/", "admin:***"),
    ("Authorization: Bearer abcdef0123456789", "Authorization: Bearer ***"),
    ("migrate --password hunter2 --yes", "migrate --password *** --yes"),
    ("migrate --password='two words' --yes", "migrate --password='***' --yes"),
    ("migrate --api-key=abc123 --yes", "migrate --api-key=*** --yes"),
    ("mysql -u root -phunter2 app", "mysql -u root -p*** app"),
    ("pg_restore -p hunter2x", "pg_restore -p ***"),
    ("redis-cli -a hunter2 ping", "redis-cli -a *** ping"),
    ("curl -u monitor:hunter2 http://localhost/health", "curl -u monitor:*** http://localhost/health"),
    ("PGPASSWORD=hunter2 psql -h db", "PGPASSWORD=*** psql -h db"),
    ("java -Dspring.datasource.password=hunter2 -jar app.jar", "java -Dspring.datasource.password=*** -jar app.jar"),
    ("keytool -importkeystore -srcstorepass hunter2", "keytool -importkeystore -srcstorepass ***"),
    ('{"user": "app", "password": "hunter2"}', '{"user": "app", "password": "***"}'),
    ("username=svc,password=hunter2,vers=3.0", "username=svc,password=***,vers=3.0"),
])
def test_each_kind_of_secret_is_masked_whatever_its_name(value, shown_as):
    masked, reasons = mask_text(value)
    assert (masked, bool(reasons)) == (shown_as, True)
    assert secret_value(value)


@pytest.mark.parametrize("name, value", [("DB_PW", "hunter2"), ("PASSWD", "letmein"), ("MYSQL_ROOT_PASSWORD", "x"),
                                         ("splunk-token", "1c2d6da7-322e-467c-8c9d-662f2732a8ec"),
                                         ("traefik.http.middlewares.auth.basicauth.users", "admin:pw")])
def test_a_short_or_ordinary_value_under_a_secret_name_is_masked_whole(name, value):
    assert mask_text(value, name) == (MASK, ["secret-looking name"])


@pytest.mark.parametrize("value", [
    "info", "https://api.example.com/v1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token-AbCdEf",
    f"sha256:{DIGEST}", f"123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:{DIGEST}", TASK_ARN,
    f"task/prod/{HEX_KEY}", "1c2d6da7-322e-467c-8c9d-662f2732a8ec", "The Quick Brown Fox Jumps Over 12 Lazy Dogs",
    "db.internal.example.com", "/var/lib/app/data", "2.14.1", "v1.2.3-rc.1", "LOG_LEVEL=info", "--log-level=debug",
    "docker run -p 8080:80 -u 1000:1000 nginx", "mkdir -p /data", "ssh -p 2222 git@github.com",
    "PGPASSWORD=$DB_PASSWORD psql", "--password ${DB_PASSWORD}", "--password-file /run/secrets/db",
    f"git checkout --revision {DIGEST[:40]}", f"commit={DIGEST[:40]}", "curl -f http://localhost:8080/health || exit 1",
    "postgres://app@db/app", "Basic realm", "scikit-learn-extensions-and-more-stuff",
])
def test_look_alikes_stay_visible(value):
    assert mask_text(value) == (value, [])


@pytest.mark.parametrize("name, value", [("IMAGE_DIGEST", DIGEST), ("GIT_COMMIT", DIGEST[:40]), ("BUILD_ID", HEX_KEY),
                                         ("TOKEN_TTL", "3600"), ("DB_PASSWORD_FILE", "/run/secrets/db"),
                                         ("DB_PASSWORD", "arn:aws:ssm:us-east-1:123456789012:parameter/db"),
                                         ("DB_PASSWORD", "${DB_PASSWORD}"), ("AUTH_REQUIRED", "true")])
def test_hex_under_a_digest_name_and_references_under_secret_names_stay_visible(name, value):
    assert mask_text(value, name) == (value, [])


def test_hex_is_a_key_or_a_digest_by_its_context():
    assert mask_text(HEX_KEY, "MONITORING")[0] == MASK
    assert mask_text(HEX_KEY, "TASK_ID")[0] == HEX_KEY
    assert mask_text(f"sha256:{DIGEST}")[0] == f"sha256:{DIGEST}"
    assert mask_text(f"key {DIGEST}")[0] == "key ***"
    assert mask_text(TASK_ARN)[0] == TASK_ARN


# -- structures: every field, paths as diff prints them, why ------------------------------------

def container(**fields) -> dict:
    return {"family": "web", "containerDefinitions": [{"name": "web", "image": "nginx:1", **fields}]}


def test_mask_walks_every_field_and_says_where_and_why():
    definition = container(
        command=["migrate", "--password", "hunter2", "--db=postgres://app:pw@db/app", "--revision", DIGEST[:40]],
        entryPoint=["sh", "-c", "mysql -u root -phunter2 app"],
        healthCheck={"command": ["CMD-SHELL", "curl -u mon:hunter2 http://localhost/health"]},
        dockerLabels={"com.example.api-key": "abc", "com.example.ci": PAT, "com.example.team": "payments"},
        logConfiguration={"logDriver": "splunk", "options": {"splunk-token": "abc", "splunk-url": "https://splunk:8088"},
                          "secretOptions": [{"name": "token", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/t"},
                                            {"name": "other", "valueFrom": PAT}]},
        environment=[{"name": "DB_PW", "value": "hunter2"}, {"name": "LOG_LEVEL", "value": "info"}],
        secrets=[{"name": "API_TOKEN", "valueFrom": "arn:aws:secretsmanager:us-east-1:1:secret:api"}],
        image=f"registry.example.com/web:{DIGEST[:40]}")
    definition["tags"] = [{"key": "callback", "value": "https://ci:hunter2@ci.internal/x"}]
    before = copy.deepcopy(definition)
    masked, where = mask(definition)
    assert definition == before  # the input is left as it was
    web = masked["containerDefinitions"][0]
    assert web["command"] == ["migrate", "--password", MASK, "--db=postgres://app:***@db/app", "--revision", DIGEST[:40]]
    assert web["entryPoint"][2] == "mysql -u root -p*** app"
    assert web["healthCheck"]["command"][1] == "curl -u mon:*** http://localhost/health"
    assert web["dockerLabels"] == {"com.example.api-key": MASK, "com.example.ci": MASK, "com.example.team": "payments"}
    assert web["logConfiguration"]["options"] == {"splunk-token": MASK, "splunk-url": "https://splunk:8088"}
    assert [o["valueFrom"] for o in web["logConfiguration"]["secretOptions"]] == ["arn:aws:ssm:us-east-1:1:parameter/t", MASK]
    assert web["secrets"] == definition["containerDefinitions"][0]["secrets"]  # ARNs name where a secret lives
    assert web["image"] == definition["containerDefinitions"][0]["image"]  # a commit hash as a tag
    assert {e["name"]: e["value"] for e in web["environment"]} == {"DB_PW": MASK, "LOG_LEVEL": "info"}
    assert masked["tags"] == [{"key": "callback", "value": "https://ci:***@ci.internal/x"}]
    assert {(m.path, m.why) for m in where} == {
        ("containerDefinitions[web].command[2]", "after --password"),
        ("containerDefinitions[web].command[3]", "URL password"),
        ("containerDefinitions[web].entryPoint[2]", "after -p"),
        ("containerDefinitions[web].healthCheck.command[1]", "password after -u"),
        ("containerDefinitions[web].dockerLabels[com.example.api-key]", "secret-looking name"),
        ("containerDefinitions[web].dockerLabels[com.example.ci]", "GitHub token"),
        ("containerDefinitions[web].logConfiguration.options[splunk-token]", "secret-looking name"),
        ("containerDefinitions[web].logConfiguration.secretOptions[1].valueFrom", "GitHub token"),
        ("containerDefinitions[web].environment[DB_PW]", "secret-looking name"),
        ("tags[callback]", "URL password"),
    }
    assert note(where).startswith(f"masked {len(where)} value(s) that look secret, shown as ***: ")


def test_a_command_list_is_read_word_by_word_and_inside_each_word():
    masked, where = mask(["-p", "8080", "--token", "t0k3n", "-p", "hunter2", "PW=x"], "--command", "command")
    assert masked == ["-p", "8080", "--token", MASK, "-p", MASK, "PW=***"]
    assert [str(m) for m in where] == ["--command[3] (after --token)", "--command[5] (after -p)", "--command[6] (after PW=)"]


def test_a_number_under_a_secret_name_is_masked_and_other_numbers_are_not():
    assert mask({"pin": 1234, "memory": 256, "essential": True}) == (
        {"pin": MASK, "memory": 256, "essential": True}, [Masked("pin", "secret-looking name")])


def test_mask_definition_masks_only_what_looks_secret():
    masked, where = mask_definition(container(environment=[{"name": "GITHUB_PAT", "value": PAT},
                                                           {"name": "LOG_LEVEL", "value": "info"}]))
    env = {e["name"]: e["value"] for e in masked["containerDefinitions"][0]["environment"]}
    assert (env, where) == ({"GITHUB_PAT": MASK, "LOG_LEVEL": "info"},
                            [Masked("containerDefinitions[web].environment[GITHUB_PAT]", "secret-looking name")])


# -- diff ---------------------------------------------------------------------------------------

def definition(environment: dict[str, str], **fields) -> dict:
    return container(environment=[{"name": k, "value": v} for k, v in environment.items()], **fields)


def test_diff_masks_by_name_and_by_value_only_the_secret_part_where_the_rest_is_useful():
    old = definition({"GITHUB_PAT": "old-pat", "DATABASE_URL": "postgres://app:old@db/app", "LOG_LEVEL": "info"})
    new = definition({"GITHUB_PAT": "new-pat", "DATABASE_URL": "postgres://app:new@db/app", "LOG_LEVEL": "debug",
                      "SENTRY_DSN": "https://abc@o1.ingest.sentry.io/1"})
    changes = {c.path: (c.old, c.new) for c in diff_definitions(old, new)}
    assert changes["containerDefinitions[web].environment[GITHUB_PAT]"] == (MASK, MASK)  # rotated: still a change
    assert changes["containerDefinitions[web].environment[DATABASE_URL]"] == ("postgres://app:***@db/app",) * 2
    assert changes["containerDefinitions[web].environment[SENTRY_DSN]"] == (None, MASK)
    assert changes["containerDefinitions[web].environment[LOG_LEVEL]"] == ("info", "debug")
    masked = {c.path: [str(m) for m in c.masked] for c in diff_definitions(old, new)}
    assert masked["containerDefinitions[web].environment[DATABASE_URL]"] == [
        "containerDefinitions[web].environment[DATABASE_URL] (URL password)"]
    assert masked["containerDefinitions[web].environment[LOG_LEVEL]"] == []


def test_diff_masks_every_field_not_only_the_environment():
    old = definition({}, command=["migrate", "--password", "old-pw"], dockerLabels={"ci": "a"},
                     logConfiguration={"logDriver": "splunk", "options": {"splunk-token": "old"}})
    new = definition({}, command=["migrate", "--password", "new-pw"], dockerLabels={"ci": PAT},
                     logConfiguration={"logDriver": "splunk", "options": {"splunk-token": "new"}})
    changes = diff_definitions(old, new)
    assert {c.path: (c.old, c.new) for c in changes} == {
        "containerDefinitions[web].command[2]": (MASK, MASK),
        "containerDefinitions[web].dockerLabels.ci": ("a", MASK),
        "containerDefinitions[web].logConfiguration.options[splunk-token]": (MASK, MASK),
    }
    assert "old-pw" not in json.dumps([c.to_dict() for c in changes]) and PAT not in str(changes)


def test_a_whole_new_container_has_its_secrets_masked_too():
    old = definition({})
    new = {**definition({}), "containerDefinitions": definition({})["containerDefinitions"] + [
        {"name": "worker", "image": "nginx:1", "command": ["work", "--token", "t0ps3cr3t"],
         "environment": [{"name": "TOKEN", "value": "t0ps3cr3t"}, {"name": "MODE", "value": "batch"}]}]}
    (added,) = [c for c in diff_definitions(old, new) if c.path == "containerDefinitions[worker]"]
    assert added.new["environment"] == {"TOKEN": MASK, "MODE": "batch"}
    assert added.new["command"] == ["work", "--token", MASK]
    assert {m.path for m in added.masked} == {"containerDefinitions[worker].environment[TOKEN]",
                                              "containerDefinitions[worker].command[2]"}
    assert "t0ps3cr3t" not in json.dumps([c.to_dict() for c in diff_definitions(old, new)])


@pytest.mark.parametrize("value, line", [("info", "info"), ("line one\nline two", '"line one\\nline two"'),
                                         ("a\tb", '"a\\tb"'), (MASK, MASK), (["a", "b"], '["a", "b"]')])
def test_diff_prints_every_value_on_one_line(value, line):
    assert _show(value) == line


# -- run's --command and --env ------------------------------------------------------------------

def job(command: str, env: tuple[tuple[str, str], ...] = ()) -> OneOff:
    revision = TaskDefinition({"taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2",
                               "family": "web", "revision": 2, "containerDefinitions": [{"name": "web"}]})
    return OneOff(cluster="prod", task_definition=revision, container="web", command=tuple(shlex.split(command)),
                  environment=env)


def test_a_one_off_command_is_shown_masked_and_its_environment_by_name_only():
    text, where = shown_command(job("migrate --password hunter2 --db=postgres://app:pw@db/app",
                            (("DB_PASSWORD", "hunter3"), ("MODE", "fast"))))
    assert text == "migrate --password *** --db=postgres://app:***@db/app (env DB_PASSWORD, MODE)"
    assert [str(m) for m in where] == ["--command[2] (after --password)", "--command[3] (URL password)"]


@pytest.mark.parametrize("command, env, secret", [
    ('migrate --password "hunter2', [], "hunter2"),
    ("migrate", ["hunter2"], "hunter2"),
    ("migrate", ["=hunter2"], "hunter2"),
])
def test_a_bad_command_or_env_is_refused_without_echoing_what_looks_secret(command, env, secret):
    with pytest.raises(BadInputError) as refused:
        check_task_options(None, command, env, None)
    assert secret not in str(refused.value) and MASK in str(refused.value)
    assert ("--command" if not env else "--env") in str(refused.value)


# -- the CLI ------------------------------------------------------------------------------------

def test_render_prints_a_valid_request_and_says_on_stderr_that_it_holds_environment_values(moto_world, capsys):
    assert main(moto_world.args("render", "--tag", "v1")) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["containerDefinitions"][0]["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert "holds 1 environment value(s) in clear" in captured.err and "--mask" in captured.err


def test_render_without_mask_names_how_many_values_look_secret_and_where(ecs, capsys):
    world = World(ecs).build({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": "nginx:placeholder", "memory": 64, "command": ["serve", "--token", "t0k3n"],
         "environment": [{"name": "GITHUB_PAT", "value": PAT}, {"name": "LOG_LEVEL", "value": "info"}]}]})
    assert main(world.args("render", "--tag", "v1")) == 0
    captured = capsys.readouterr()
    assert PAT in captured.out and "masked" not in json.loads(captured.out)  # the request as it is registered
    assert captured.err.strip() == (
        "ecs-template-deploy: warning: the output holds 2 value(s) that look secret, in clear, as the template declares "
        "them (containerDefinitions[web].command[2], containerDefinitions[web].environment[GITHUB_PAT]): it is for "
        "register-task-definition; pass --mask before it goes into a log (and keep secrets in `secrets`, not in the "
        "definition)")


def test_render_mask_masks_the_secret_looking_values_and_lists_them(ecs, capsys):
    world = World(ecs).build({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": "nginx:placeholder", "memory": 64, "command": ["serve", "--token", "t0k3n"],
         "environment": [{"name": "GITHUB_PAT", "value": PAT}, {"name": "LOG_LEVEL", "value": "info"}]}]})
    assert main(world.args("render", "--tag", "v1", "--mask")) == 0
    captured = capsys.readouterr()
    assert PAT not in captured.out + captured.err and "t0k3n" not in captured.out + captured.err
    output = json.loads(captured.out)
    assert {e["name"]: e["value"] for e in output["containerDefinitions"][0]["environment"]} == {
        "GITHUB_PAT": MASK, "LOG_LEVEL": "info"}
    assert output["masked"] == [{"path": "containerDefinitions[web].command[2]", "why": "after --token"},
                                {"path": "containerDefinitions[web].environment[GITHUB_PAT]", "why": "secret-looking name"}]
    assert captured.err.strip() == (
        "ecs-template-deploy: warning: masked 2 value(s) that look secret, shown as ***: containerDefinitions[web]."
        "command[2] (after --token); containerDefinitions[web].environment[GITHUB_PAT] (secret-looking name); "
        "this output is for reading, not for registering")


# -- what still leaks, outside this change's files (see the report): these fail until it is fixed

def _tool(world: ToolWorld, *argv: str, session=None) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main([argv[0], "--cluster", CLUSTER, "--service", SERVICE, "--template", TEMPLATE, *argv[1:]],
                    session=session or world.session(), clock=world.aws.clock)
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def one_off_world():
    with EmbeddedAws() as aws:
        world = ToolWorld.build(aws, desired=2)
        aws.sim.declare_command(["bin/migrate", "--password", "Sup3rS3cret"], exit_code=3, exit_after=20)
        aws.sim.declare_command(["bin/migrate", "--password", "Sup3rS3cret", "--slow"], exit_code=0, exit_after=60)
        yield world


@pytest.mark.parametrize("command", ["bin/migrate --password Sup3rS3cret", 'bin/migrate --password "Sup3rS3cret'])
def test_deploy_run_before_failing_does_not_echo_its_command(one_off_world, command):
    code, text = _tool(one_off_world, "deploy", "--tag", "v1", "--run-before", command, "--poll-interval", "5")
    assert code in (2, 6) and "Sup3rS3cret" not in text


def test_a_run_stopped_midway_does_not_echo_its_command_in_the_next_line(one_off_world):
    session = one_off_world.session()

    def stop(**_):
        raise KeyboardInterrupt

    session.events.register("before-call.ecs.DescribeTasks", stop)
    code, text = _tool(one_off_world, "run", "--tag", "v1", "--command", "bin/migrate --password Sup3rS3cret --slow",
                       "--poll-interval", "5", session=session)
    assert code == 130 and "next: " in text and "Sup3rS3cret" not in text


def test_a_run_stopped_midway_names_its_env_variables_in_the_next_line_without_their_values(one_off_world):
    session = one_off_world.session()
    session.events.register("before-call.ecs.DescribeTasks", lambda **_: (_ for _ in ()).throw(KeyboardInterrupt))
    code, text = _tool(one_off_world, "run", "--tag", "v1", "--command", "bin/migrate --slow", "--env",
                       "SESSION=abcd1234efgh", "--poll-interval", "5", session=session)
    assert code == 130 and "--env 'SESSION=***'" in text and "abcd1234efgh" not in text
