"""prune never deregisters the revision a rollback would return to."""
from __future__ import annotations

import pytest

from ecs_template_deploy import knowngood
from ecs_template_deploy.cli import main

T = 1_795_000_000.0


@pytest.fixture
def ecs(moto_ecs):
    return moto_ecs


def register(ecs, family: str, image: str) -> str:
    return ecs.register_task_definition(
        family=family, containerDefinitions=[{"name": "web", "image": image, "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]


def active(ecs) -> list[str]:
    arns = ecs.list_task_definitions(familyPrefix="web", status="ACTIVE")["taskDefinitionArns"]
    return sorted(a.rsplit("/", 1)[-1] for a in arns if a.rsplit("/", 1)[-1].startswith("web:"))


def test_prune_keeps_the_known_good_revisions_and_says_why(ecs, capsys):
    register(ecs, "web-template", "web:placeholder")
    arns = [register(ecs, "web", f"web:v{n}") for n in range(1, 7)]
    ecs.create_cluster(clusterName="prod")
    service = ecs.create_service(cluster="prod", serviceName="web", taskDefinition=arns[5], desiredCount=1)["service"]
    knowngood.mark(ecs, arns[1], at=T, service_arn=service["serviceArn"])  # the service's last known good: web:2
    knowngood.mark(ecs, arns[3], at=T + 60)  # latest mark in the family (what a lookup without the pointer finds)
    knowngood.mark(ecs, arns[2], at=T - 60)  # an older mark: no rollback would pick it

    code = main(["prune", "--cluster", "prod", "--service", "web", "--template", "web-template", "--keep", "1"])

    assert code == 0
    assert active(ecs) == ["web:2", "web:4", "web:6"]
    out = capsys.readouterr().out
    assert "kept web:2: prod/web's last known-good revision" in out
    assert "kept web:4: the latest known-good mark of web (what a rollback of prod/web finds without its pointer)" in out
