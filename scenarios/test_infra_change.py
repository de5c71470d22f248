"""Deploy, then an infrastructure change through Terraform (task memory, an
environment variable, a secret ARN: one commit, one `terraform apply`), the way
the infra team would make it.
Which image runs afterwards, was the deployed version lost, and when does the
change reach the running tasks?

The article:

- approach 1: "All infrastructure configuration is defined in Terraform": the
  change replaces the task definition and reaches the tasks at once; the image
  is the moving tag, so what runs is still what CD last moved it to;
- approach 2: "Infrastructure configuration changes could overwrite
  declaration of application artifact version": Terraform registers its own
  revision with the image *it* declares. With ``ignore_changes`` on the
  service's task definition the service keeps CD's revision, so the version
  is not lost, but the change waits for the next deploy (which copies
  Terraform's revision). What *is* overwritten is the declaration: the family's
  latest revision now names Terraform's ``image_tag``, so anyone who updates the
  service to the family's latest (the console's default) deploys that instead;
- approach 3: the settings live in the app repo; an edit there reaches the
  service with the next deploy, no Terraform runs;
- approach 4: Terraform applies everything, the image variable included: at
  once, and the deployed version stays (CD committed it);
- approach 5: "Such changes will be picked up by the service on the next
  deployment triggered by CI" ("in our case this is by design").
"""
from __future__ import annotations

import pytest

from harness.approaches import InfraChange
from harness.metrics.results import Clobber, ClobberCase
from harness.approaches.base import container_image
from harness.worlds.images import digests_by_tag

from scenario_support import parameters

# Where tasks really run too: the world, a deploy, the apply, up to 900 s watching the tasks, the next deploy.
pytestmark = [pytest.mark.terraform, pytest.mark.real_aws(budget=3600)]

STEP = 5.0  # virtual seconds between looks at the running tasks
PATIENCE = 900.0  # virtual seconds a change may take to reach every task


def _new_secret(w) -> str:
    """A secret the infra team created for the app (its ARN is what the change adds)."""
    name = f"{w.service_name}/extra"
    try:
        return w.client("secretsmanager").create_secret(Name=name, SecretString="extra")["ARN"]
    except w.client("secretsmanager").exceptions.ResourceExistsException:
        return w.client("secretsmanager").describe_secret(SecretId=name)["ARN"]


def _cases(w) -> dict[str, InfraChange]:
    return {
        "memory": InfraChange("memory", 1024),
        "environment": InfraChange("environment", {"FEATURE_FLAG": "on"}),
        "secret": InfraChange("secrets", {"EXTRA_SECRET": _new_secret(w)}),
    }


def _has(definition: dict, container: str, change: InfraChange) -> bool:
    c = next(c for c in definition["containerDefinitions"] if c["name"] == container)
    if change.setting in ("cpu", "memory"):
        return str(definition.get(change.setting)) == str(change.value) or c.get(change.setting) == change.value
    if change.setting == "environment":
        env = {e["name"]: e["value"] for e in c.get("environment", [])}
        return all(env.get(k) == v for k, v in change.value.items())
    found = {s["name"]: s["valueFrom"] for s in c.get("secrets", [])}
    return all(found.get(k) == v for k, v in change.value.items())


def _every_task_has(w, change: InfraChange, cache: dict) -> bool:
    tasks = w.running_tasks()
    if len(tasks) != w.service()["desiredCount"]:
        return False
    ecs = w.client("ecs")
    for task in tasks:
        arn = task["taskDefinitionArn"]
        if arn not in cache:
            cache[arn] = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        if not _has(cache[arn], w.container, change):
            return False
    return True


def _wait_until_reached(w, changes: dict[str, InfraChange]) -> dict[str, float | None]:
    """Virtual seconds until every running task has each change (by name), None for one
    not there within PATIENCE; the changes are watched together, on one clock."""
    start, cache, reached = w.clock.now(), {}, {}
    while True:
        for name, change in changes.items():
            if name not in reached and _every_task_has(w, change, cache):
                reached[name] = w.clock.now() - start
        if len(reached) == len(changes) or w.clock.now() - start >= PATIENCE:
            return {name: reached.get(name) for name in changes}
        w.sleep(STEP)


def _family_latest_declares(w) -> tuple[str, str | None]:
    """What the latest ACTIVE revision of the service's family names for the app:
    what `update-service --task-definition FAMILY` (the console's default choice)
    would run. (image as written, the version its digest was pushed as)."""
    family = w.running_definition()["family"]
    image = container_image(w.client("ecs"), family, w.container)
    tag = image.rpartition(":")[2]
    if "@" in image or not tag:
        return image, None
    digest = digests_by_tag(w.client("ecr"), str(w.outputs["repository_name"])).get(tag)
    return image, w.label(digest) if digest else None


def test_infra_change_keeps_the_deployed_version(approach, make_approach_world, measurements) -> None:
    w = make_approach_world(terraform=True)
    w.ensure_deployed("v3")
    deployed = w.digests["v3"]
    cases = {}
    changes = {name: change for name, change in _cases(w).items() if w.approach.supports(change)}
    if not changes:
        pytest.skip(f"not measured: {approach.name}'s description maps no Terraform variable to memory, "
                    "environment or secrets ([terraform.changes])")
    # The three changes are one commit to the infra repository and one `terraform apply`: each is
    # still watched on its own, and an approach that treated one setting apart would show it.
    w.approach.apply_infra_changes(list(changes.values()))
    seconds = _wait_until_reached(w, changes)
    image_after = w.running_digests()
    declared_image, declared = _family_latest_declares(w)
    reaches = {name: "immediately" for name, s in seconds.items() if s is not None}
    waiting = {name: change for name, change in changes.items() if name not in reaches}
    if waiting:
        assert (step := w.deploy("v3")).succeeded, step.message  # CD's next deploy of the same version
        after_deploy = _wait_until_reached(w, waiting)
        # when depends on the next deploy, not on the change: no seconds
        reaches |= {name: "next deploy" if s is not None else "never" for name, s in after_deploy.items()}
    lost = set(image_after) != {deployed}
    assert not lost, f"{approach.name}: after the infrastructure change the service runs {image_after}, not v3"
    said = approach.claims.infra_change_reaches  # when an infrastructure change reaches the running tasks
    for name in changes:
        if said is not None:
            assert reaches[name] == said.holds, (f"{approach.name}: the {name} change reached the tasks {reaches[name]} "
                                                 f"({said.citation()})")
        cases[name] = ClobberCase(image_deployed="v3", image_after=",".join(sorted({w.label(d) for d in image_after})),
                                  version_lost=lost, reaches_tasks=reaches[name],
                                  seconds_to_reach=seconds[name] if reaches[name] == "immediately" else None,
                                  family_latest_image=declared_image.rsplit("/", 1)[-1],
                                  family_latest_version=declared, declaration_lost=declared != "v3")
    measurements.record(approach.name, Clobber(cases=cases))
    measurements.parameters(parameters(w))
