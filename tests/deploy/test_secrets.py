"""What looks secret is never printed by diff, and render says what it prints."""
from __future__ import annotations

import json

import pytest

from ecs_template_deploy.cli import main
from ecs_template_deploy.diff import diff_definitions
from ecs_template_deploy.secrets import MASK, mask_definition, secret_name, secret_value

from .conftest import World

PAT = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


@pytest.mark.parametrize("name", ["GITHUB_PAT", "SENTRY_DSN", "DB_PASSWORD", "apiKey", "AWS_SECRET_ACCESS_KEY",
                                  "AUTH_HEADER", "SERVICE_CREDENTIALS", "PRIVATE_KEY_PEM", "dbPasswd", "SESSION_TOKEN"])
def test_secret_names_are_recognised_by_their_words(name):
    assert secret_name(name)


@pytest.mark.parametrize("name", ["PATH", "PATTERN", "MONKEY_COUNT", "KEYBOARD_LAYOUT", "LOG_LEVEL", "SESSION_TIMEOUT",
                                  "PASSENGER_LIMIT", "DISPATCH_MODE"])
def test_words_that_only_contain_a_secret_word_are_not_secret(name):
    assert not secret_name(name)


@pytest.mark.parametrize("value", [
    "postgres://app:hunter2@db.internal:5432/app",
    "AKIAIOSFODNN7EXAMPLE",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA",
    PAT,
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
])
def test_secret_values_are_recognised_whatever_the_name(value):
    assert secret_value(value)


@pytest.mark.parametrize("value", [
    "info", "https://api.example.com/v1", "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:v1",
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token",
    "2d711642b726b04401627ca9fbac32f5c8530fb1c46e2d9d44e4a3b3e0f47e1f",  # a digest: hex, not random enough to hide
    "1c2d6da7-322e-467c-8c9d-662f2732a8ec", "The Quick Brown Fox Jumps Over 12 Lazy Dogs",
])
def test_ordinary_values_stay_visible(value):
    assert not secret_value(value)


def definition(environment: dict[str, str]) -> dict:
    return {"family": "web", "containerDefinitions": [
        {"name": "web", "image": "nginx:1", "environment": [{"name": k, "value": v} for k, v in environment.items()]}]}


def test_diff_masks_by_name_and_by_value():
    old = definition({"GITHUB_PAT": "old-pat", "DATABASE_URL": "postgres://app:old@db/app", "LOG_LEVEL": "info"})
    new = definition({"GITHUB_PAT": "new-pat", "DATABASE_URL": "postgres://app:new@db/app", "LOG_LEVEL": "debug",
                      "SENTRY_DSN": "https://abc@o1.ingest.sentry.io/1"})
    changes = {c.path: (c.old, c.new) for c in diff_definitions(old, new)}
    assert changes["containerDefinitions[web].environment[GITHUB_PAT]"] == (MASK, MASK)
    assert changes["containerDefinitions[web].environment[DATABASE_URL]"] == (MASK, MASK)
    assert changes["containerDefinitions[web].environment[SENTRY_DSN]"] == (None, MASK)
    assert changes["containerDefinitions[web].environment[LOG_LEVEL]"] == ("info", "debug")


def test_a_whole_new_container_has_its_secrets_masked_too():
    old = definition({})
    new = {**definition({}), "containerDefinitions": definition({})["containerDefinitions"] + [
        {"name": "worker", "image": "nginx:1", "environment": [{"name": "TOKEN", "value": "t0ps3cr3t"},
                                                               {"name": "MODE", "value": "batch"}]}]}
    (added,) = [c for c in diff_definitions(old, new) if c.path == "containerDefinitions[worker]"]
    assert added.new["environment"] == {"TOKEN": MASK, "MODE": "batch"}
    assert "t0ps3cr3t" not in json.dumps([c.to_dict() for c in diff_definitions(old, new)])


def test_mask_definition_masks_only_what_looks_secret():
    masked, count = mask_definition(definition({"GITHUB_PAT": PAT, "LOG_LEVEL": "info"}))
    env = {e["name"]: e["value"] for e in masked["containerDefinitions"][0]["environment"]}
    assert (env, count) == ({"GITHUB_PAT": MASK, "LOG_LEVEL": "info"}, 1)


def test_render_prints_a_valid_request_and_says_on_stderr_that_it_holds_environment_values(world, capsys):
    assert main(world.args("render", "--tag", "v1")) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["containerDefinitions"][0]["environment"] == [{"name": "LOG_LEVEL", "value": "info"}]
    assert "holds 1 environment value(s) in clear" in captured.err and "--mask" in captured.err


def test_render_mask_masks_the_secret_looking_values(ecs, capsys):
    world = World(ecs).build({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": "nginx:placeholder", "memory": 64,
         "environment": [{"name": "GITHUB_PAT", "value": PAT}, {"name": "LOG_LEVEL", "value": "info"}]}]})
    assert main(world.args("render", "--tag", "v1", "--mask")) == 0
    captured = capsys.readouterr()
    assert PAT not in captured.out
    assert {e["name"]: e["value"] for e in json.loads(captured.out)["containerDefinitions"][0]["environment"]} == {
        "GITHUB_PAT": MASK, "LOG_LEVEL": "info"}
    assert "masked 1 of 2 environment value(s)" in captured.err
