"""render, diff, deploy and prune end to end through `main()` against moto in-process."""
from __future__ import annotations

import json

import boto3

from ecs_template_deploy.cli import main
from ecs_template_deploy.deploy import deploy
from ecs_template_deploy.plan import DeployRequest
from ecs_template_deploy.prune import PruneRequest, prune
from ecs_template_deploy.render import IMAGE_TAG_PREFIX, TEMPLATE_TAG, ImageSelection, deployed_to_key

from .conftest import FLUENT_BIT, PLACEHOLDER, REGION, RICH_TEMPLATE, WEB_REPO, capture

RICH_TAG_ARGS = ("--tag", "v1", "--repository", WEB_REPO, "--keep-image", "log_router")
# What AWS adds to a revision and does not accept back; everything else must survive.
NOT_REGISTRABLE = {"taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
                   "registeredAt", "registeredBy", "deregisteredAt"}


def run_json(capsys, argv, **kwargs):
    """The command's JSON: its one document, or for deploy its first line (the result object is always last)."""
    code = main([*argv, "--json"], **kwargs)
    out = capsys.readouterr().out
    try:
        return code, json.loads(out)
    except json.JSONDecodeError:
        lines = [json.loads(line) for line in out.splitlines() if line.strip()]
        assert lines[-1]["kind"] == "result" and lines[-1]["exitCode"] == code
        return code, lines[0]


def test_render_prints_the_registrable_definition_and_changes_nothing(moto_world, capsys):
    before = moto_world.snapshot()
    assert main(moto_world.args("render", "--tag", "v1")) == 0
    rendered = json.loads(capsys.readouterr().out)
    assert rendered["family"] == "web"
    assert rendered["containerDefinitions"][0]["image"] == f"{WEB_REPO}:v1"
    assert {t["key"]: t["value"] for t in rendered["tags"]}[TEMPLATE_TAG] == moto_world.template_arn
    assert "taskDefinitionArn" not in rendered and "revision" not in rendered
    assert moto_world.snapshot() == before
    # The output is a valid RegisterTaskDefinition request as it stands.
    assert moto_world.ecs.register_task_definition(**rendered)["taskDefinition"]["family"] == "web"


def test_deploy_registers_in_target_family_and_updates_service(moto_world, capsys):
    code, result = run_json(capsys, moto_world.args("deploy", "--tag", "v1"))
    assert code == 0
    assert result["registered"] and result["updated"]
    assert result["previousTaskDefinitionArn"] == moto_world.template_arn
    assert result["taskDefinitionArn"].endswith(":task-definition/web:1")
    assert moto_world.service_task_definition() == result["taskDefinitionArn"]
    definition, tags = moto_world.describe(result["taskDefinitionArn"])
    assert definition["containerDefinitions"][0]["image"] == f"{WEB_REPO}:v1"
    service = moto_world.ecs.describe_services(cluster="demo", services=["web"])["services"][0]["serviceArn"]
    assert tags == {"managed-by": "terraform", TEMPLATE_TAG: moto_world.template_arn, IMAGE_TAG_PREFIX + "web": f"{WEB_REPO}:v1",
                    deployed_to_key(service): service}  # so prune run for any service of the family sees this one
    # The template family is untouched: still one ACTIVE revision, same image.
    template, _ = moto_world.describe("web-template")
    assert template["revision"] == 1 and template["containerDefinitions"][0]["image"] == PLACEHOLDER


def test_redeploy_of_same_image_registers_nothing(moto_world, capsys):
    assert main(moto_world.args("deploy", "--tag", "v1")) == 0
    capsys.readouterr()
    before = moto_world.snapshot()
    assert main(moto_world.args("deploy", "--tag", "v1")) == 0
    out = capsys.readouterr().out
    assert out.startswith("nothing to deploy: service web already runs web:1")
    assert moto_world.snapshot() == before


def test_template_change_is_deployed_even_with_same_image(moto_world, capsys):
    assert main(moto_world.args("deploy", "--tag", "v1")) == 0
    moto_world.register({"family": "web-template", "containerDefinitions": [
        {"name": "web", "image": PLACEHOLDER, "memory": 512, "environment": [{"name": "LOG_LEVEL", "value": "debug"}]}]})
    capsys.readouterr()
    code, result = run_json(capsys, moto_world.args("deploy", "--tag", "v1"))
    assert code == 0 and result["registered"]
    assert result["template"].endswith("web-template:2")
    definition, _ = moto_world.describe(result["taskDefinitionArn"])
    assert definition["containerDefinitions"][0]["memory"] == 512


def test_library_deploy_returns_previous_and_new_arns(moto_world):
    request = DeployRequest(cluster="demo", service="web", template="web-template",
                            images=ImageSelection.from_options(tag="v1"))
    first = deploy(moto_world.ecs, request)
    second = deploy(moto_world.ecs, DeployRequest(**{**request.__dict__, "images": ImageSelection.from_options(tag="v2")}))
    assert (first.previous_task_definition_arn, first.task_definition_arn) == (moto_world.template_arn, second.previous_task_definition_arn)
    assert second.task_definition_arn.endswith("web:2") and second.registered and second.updated
    again = deploy(moto_world.ecs, DeployRequest(**{**request.__dict__, "images": ImageSelection.from_options(tag="v2")}))
    assert not again.registered and not again.updated
    assert again.task_definition_arn == again.previous_task_definition_arn == second.task_definition_arn


def test_rich_template_round_trips_unchanged_except_images(rich_world, capsys):
    session = boto3.Session(region_name=REGION)
    sent = capture(session, "RegisterTaskDefinition")
    code, result = run_json(capsys, rich_world.args("deploy", *RICH_TAG_ARGS), session=session)
    assert code == 0
    template, template_tags = rich_world.describe(rich_world.template_arn)
    deployed, deployed_tags = rich_world.describe(result["taskDefinitionArn"])

    expected = {k: v for k, v in template.items() if k not in NOT_REGISTRABLE | {"family"}}
    images = {"web": f"{WEB_REPO}:v1", "migrate": f"{WEB_REPO}:v1", "log_router": FLUENT_BIT}
    for container in expected["containerDefinitions"]:
        container["image"] = images[container["name"]]
    # What the tool sent is exactly the template with new images, family and tags ...
    (request,) = sent
    assert {k: v for k, v in request.items() if k not in {"family", "tags"}} == expected
    # ... and what came back from the backend matches it field by field.
    assert {k: v for k, v in deployed.items() if k not in NOT_REGISTRABLE | {"family"}} == expected
    for field in ("secrets", "logConfiguration", "healthCheck", "dependsOn", "ulimits", "linuxParameters", "mountPoints"):
        assert deployed["containerDefinitions"][0][field] == RICH_TEMPLATE["containerDefinitions"][0][field]
    for field in ("runtimePlatform", "ephemeralStorage", "volumes", "cpu", "memory", "taskRoleArn", "executionRoleArn"):
        assert deployed[field] == RICH_TEMPLATE[field]
    service = rich_world.ecs.describe_services(cluster="demo", services=["web"])["services"][0]["serviceArn"]
    assert deployed_tags == {**template_tags, TEMPLATE_TAG: rich_world.template_arn,
                             **{IMAGE_TAG_PREFIX + n: i for n, i in images.items()}, deployed_to_key(service): service}


def test_rich_template_redeploy_is_a_no_op(rich_world, capsys):
    assert main(rich_world.args("deploy", *RICH_TAG_ARGS)) == 0
    capsys.readouterr()
    before = rich_world.snapshot()
    code, result = run_json(capsys, rich_world.args("deploy", *RICH_TAG_ARGS))
    assert code == 0 and not result["registered"] and not result["updated"]
    assert rich_world.snapshot() == before


def test_diff_lists_field_changes_and_masks_secret_values(rich_world, capsys):
    assert main(rich_world.args("deploy", *RICH_TAG_ARGS)) == 0
    web = dict(RICH_TEMPLATE["containerDefinitions"][0])
    web["environment"] = [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "DB_PASSWORD", "value": "s3cret-new"},
                          {"name": "API_KEY", "value": "added-key"}]
    rich_world.register({**RICH_TEMPLATE, "memory": "2048",
                         "containerDefinitions": [web, *RICH_TEMPLATE["containerDefinitions"][1:]]})
    capsys.readouterr()
    code, result = run_json(capsys, rich_world.args("diff", "--tag", "v2", "--repository", "web", "--keep-image", "log_router"))
    assert code == 0 and result["wouldRegister"]
    changes = {c["path"]: (c["old"], c["new"]) for c in result["changes"]}
    assert changes == {
        "memory": ("1024", "2048"),
        "containerDefinitions[web].image": (f"{WEB_REPO}:v1", f"{WEB_REPO}:v2"),
        "containerDefinitions[web].environment[LOG_LEVEL]": ("info", "debug"),
        "containerDefinitions[web].environment[DB_PASSWORD]": ("***", "***"),
        "containerDefinitions[web].environment[API_KEY]": (None, "***"),
        "containerDefinitions[migrate].image": (f"{WEB_REPO}:v1", f"{WEB_REPO}:v2"),
    }
    assert main(rich_world.args("diff", "--tag", "v2", "--repository", "web", "--keep-image", "log_router")) == 0
    text = capsys.readouterr().out
    assert "~ memory: 1024 -> 2048" in text
    assert "hunter2" not in text + json.dumps(result) and "s3cret-new" not in text and "added-key" not in text


def test_diff_says_when_nothing_would_change(moto_world, capsys):
    assert main(moto_world.args("deploy", "--tag", "v1")) == 0
    capsys.readouterr()
    assert main(moto_world.args("diff", "--tag", "v1")) == 0
    assert "no changes: a deploy would register nothing" in capsys.readouterr().out


def deploy_versions(moto_world, count):
    for version in range(1, count + 1):
        assert main(moto_world.args("deploy", "--tag", f"v{version}")) == 0


def active(moto_world, family):
    return [a.rsplit("/", 1)[1] for a in moto_world.revisions()["ACTIVE"] if a.rsplit("/", 1)[1].split(":")[0] == family]


def test_prune_keeps_newest_and_the_running_revision(moto_world, capsys):
    deploy_versions(moto_world, 5)
    moto_world.ecs.update_service(cluster="demo", service="web", taskDefinition="web:2")  # an operator rolled back
    capsys.readouterr()
    code, result = run_json(capsys, moto_world.args("prune", "--keep", "2"))
    assert code == 0
    # nothing is known good (--no-wait deploys): what ran before the running web:2 stays, the way back
    assert sorted(active(moto_world, "web")) == ["web:1", "web:2", "web:4", "web:5"]
    assert [a.rsplit("/", 1)[1] for a in result["deregistered"]] == ["web:3"]
    assert result["protected"][0]["reason"] == "demo/web runs it"
    assert result["protected"][1]["reason"].startswith("what demo/web ran before web:2 (nothing is known good")
    assert active(moto_world, "web-template") == ["web-template:1"]


def test_prune_keeps_what_deployments_use_and_extra_protected(moto_world, monkeypatch):
    deploy_versions(moto_world, 3)
    original = moto_world.ecs.describe_services

    # moto never keeps an old deployment around; AWS does while it drains.
    def with_draining(**kwargs):
        answer = original(**kwargs)
        answer["services"][0]["deployments"].append(
            {"id": "ecs-svc/1", "status": "ACTIVE", "taskDefinition": answer["services"][0]["taskDefinition"].replace("web:3", "web:1")})
        return answer

    monkeypatch.setattr(moto_world.ecs, "describe_services", with_draining)
    result = prune(moto_world.ecs, PruneRequest(cluster="demo", service="web", template="web-template", keep=0,
                                           extra_protected=frozenset({moto_world.template_arn.replace("web-template:1", "web:2")})))
    assert result.deregistered == []
    assert sorted(active(moto_world, "web")) == ["web:1", "web:2", "web:3"]
    assert set(result.reasons.values()) == {
        "demo/web runs it", "a deployment of demo/web uses it",
        "what demo/web ran before web:3 (nothing is known good for it: the way back a failed deploy names)"}


def test_prune_dry_run_changes_nothing(moto_world, capsys):
    deploy_versions(moto_world, 3)
    before = moto_world.snapshot()
    capsys.readouterr()
    assert main(moto_world.args("prune", "--keep", "1", "--dry-run")) == 0
    assert "would deregister 1: web:1" in capsys.readouterr().out
    assert moto_world.snapshot() == before


def test_deploy_multi_container_with_an_image_per_container_and_a_digest(rich_world, capsys):
    digest = rich_world.digests["v1"]
    argv = rich_world.args("deploy", "--image", f"web={WEB_REPO}@{digest}", "--image", f"migrate={WEB_REPO}:v7",
                           "--image", "log_router=fluent/fluent-bit:3.0")
    code, result = run_json(capsys, argv)
    assert code == 0
    deployed, tags = rich_world.describe(result["taskDefinitionArn"])
    assert {c["name"]: c["image"] for c in deployed["containerDefinitions"]} == {
        "web": f"{WEB_REPO}@{digest}", "migrate": f"{WEB_REPO}:v7", "log_router": "fluent/fluent-bit:3.0"}
    assert tags[IMAGE_TAG_PREFIX + "web"] == f"{WEB_REPO}@{digest}"
    assert rich_world.service_task_definition() == result["taskDefinitionArn"]
