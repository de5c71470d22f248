"""See the deploy tool at work: deploy with ecs-template-deploy against embedded AWS, step by step.

Embedded AWS is moto in-process with the ECS rollout simulator on a virtual
clock, so deploys really roll out (in no wall time). The demo sets up what
Terraform would own (a cluster, an ECR repository with two pushed images, a
template task definition with a placeholder image, a service started on the
template), then runs the real deploy tool through its CLI: render, diff,
deploy v1, deploy v1 again (nothing to do), a Terraform change to the template,
diff, deploy v2, deploy v3, prune (which keeps what a rollback needs).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shlex
from contextlib import redirect_stdout
from dataclasses import dataclass, field
from io import StringIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ecs_template_deploy.cli import main as deploy_tool
from harness.backends.embedded import EmbeddedAws

REGION = "us-east-1"
CLUSTER = "demo"
SERVICE = "web"
TEMPLATE_FAMILY = "web-template"
VERSIONS = ("v1", "v2", "v3")


@dataclass
class DemoOutcome:
    """What the demo leaves behind, read back from AWS before moto stops."""

    exit_codes: list[int] = field(default_factory=list)
    service_task_definition: str = ""
    service_images: dict[str, str] = field(default_factory=dict)
    revisions: dict[str, str] = field(default_factory=dict)  # family:revision -> status
    template_images: dict[str, str] = field(default_factory=dict)
    repository_uri: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--no-color", action="store_true", help="plain output (no colours)")


def run(args: argparse.Namespace) -> int:
    console = Console(no_color=args.no_color, highlight=False, soft_wrap=True)
    outcome = run_demo(console)
    return 0 if all(code == 0 for code in outcome.exit_codes) else 1


def run_demo(console: Console) -> DemoOutcome:
    outcome = DemoOutcome()
    with EmbeddedAws() as aws:
        session = aws.session
        ecs, ecr = aws.client("ecs"), aws.client("ecr")
        outcome.repository_uri = _terraform_part(console, ecs, ecr)
        tool = ["--cluster", CLUSTER, "--service", SERVICE, "--template", TEMPLATE_FAMILY]
        tag_args = ["--repository", outcome.repository_uri]
        steps = [
            ("Render: the task definition a deploy of v1 would register", ["render", *tool, "--tag", "v1"]),
            ("Diff: what a deploy of v1 would change in the running task definition", ["diff", *tool, "--tag", "v1", *tag_args]),
            ("Deploy v1: register web:1 (family 'web', not the template's) and update the service", ["deploy", *tool, "--tag", "v1"]),
            ("Deploy v1 again: same template, same image, so nothing to do", ["deploy", *tool, "--tag", "v1"]),
            ("Terraform changes the template (LOG_LEVEL, a rotated DB_PASSWORD); diff for v2 shows it, secrets masked",
             ["diff", *tool, "--tag", "v2", *tag_args]),
            ("Deploy v2: the new image and Terraform's change reach the service together", ["deploy", *tool, "--tag", "v2", *tag_args]),
            ("Deploy v3", ["deploy", *tool, "--tag", "v3", *tag_args]),
            ("Prune: keep the newest revision of 'web' and the one a rollback returns to (--min-age 0: these "
             "revisions are minutes old); the template family is never touched",
             ["prune", *tool, "--keep", "1", "--min-age", "0"]),
        ]
        for number, (title, argv) in enumerate(steps, start=2):
            if title.startswith("Terraform changes"):
                _terraform_changes_template(ecs, outcome.repository_uri)
            console.rule(f"[bold]{number}. {escape(title)}")
            console.print(f"$ ecs-template-deploy {shlex.join(argv)}", style="cyan", markup=False)
            captured = StringIO()
            with redirect_stdout(captured):
                code = deploy_tool(argv, session=session, clock=aws.clock)
            console.print(captured.getvalue().rstrip(), markup=False)
            console.print(f"exit code {code}", style="green" if code == 0 else "red")
            outcome.exit_codes.append(code)
        _read_back(ecs, outcome)
    _summary(console, outcome)
    return outcome


def _terraform_part(console: Console, ecs, ecr) -> str:
    console.rule("[bold]1. What Terraform owns: cluster, ECR repository, template task definition, service")
    repository_uri = ecr.create_repository(repositoryName="web")["repository"]["repositoryUri"]
    for version in VERSIONS:  # CI pushed the builds
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json", "config": {"digest": "sha256:" + hashlib.sha256(version.encode()).hexdigest()}})
        ecr.put_image(repositoryName="web", imageManifest=manifest, imageTag=version)
    pushed = sorted(i["imageTag"] for i in ecr.list_images(repositoryName="web")["imageIds"])
    console.print(f"ECR repository {repository_uri} with tags {', '.join(pushed)}")
    ecs.create_cluster(clusterName=CLUSTER)
    template = _register_template(ecs, repository_uri, log_level="info", db_password="not-shown")
    ecs.create_service(cluster=CLUSTER, serviceName=SERVICE, taskDefinition=template["taskDefinitionArn"], desiredCount=2)
    console.print(f"template {TEMPLATE_FAMILY}:{template['revision']} with image {repository_uri}:placeholder")
    console.print(f"service {SERVICE} in cluster {CLUSTER} created on the template "
                  "(Terraform: lifecycle { ignore_changes = [task_definition] })", markup=False)
    return repository_uri


def _register_template(ecs, repository_uri: str, log_level: str, db_password: str) -> dict:
    return ecs.register_task_definition(
        family=TEMPLATE_FAMILY,
        containerDefinitions=[{
            "name": "web",
            "image": f"{repository_uri}:placeholder",  # CD injects the real tag
            "memory": 256,
            "portMappings": [{"containerPort": 8080}],
            "environment": [{"name": "LOG_LEVEL", "value": log_level}, {"name": "DB_PASSWORD", "value": db_password}],
        }],
        tags=[{"key": "managed-by", "value": "terraform"}],
    )["taskDefinition"]


def _terraform_changes_template(ecs, repository_uri: str) -> None:
    """`terraform apply` of a config change: a new template revision, the service untouched."""
    _register_template(ecs, repository_uri, log_level="debug", db_password="also-not-shown")


def _read_back(ecs, outcome: DemoOutcome) -> None:
    service = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    running = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    outcome.service_task_definition = f"{running['family']}:{running['revision']}"
    outcome.service_images = {c["name"]: c["image"] for c in running["containerDefinitions"]}
    template = ecs.describe_task_definition(taskDefinition=TEMPLATE_FAMILY)["taskDefinition"]
    outcome.template_images = {c["name"]: c["image"] for c in template["containerDefinitions"]}
    for status in ("ACTIVE", "INACTIVE"):
        for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]:
            outcome.revisions[arn.rsplit("/", 1)[1]] = status


def _summary(console: Console, outcome: DemoOutcome) -> None:
    console.rule("[bold]Result")
    table = Table("task definition", "status", "note")
    table.columns[2].overflow = "fold"
    for name, status in sorted(outcome.revisions.items()):
        note = ""
        if name == outcome.service_task_definition:
            note = f"the service runs it: {', '.join(f'{k}={v}' for k, v in outcome.service_images.items())}"
        elif name.startswith(TEMPLATE_FAMILY + ":"):
            note = "Terraform's template (CD never writes here)"
        elif status == "INACTIVE":
            note = "pruned"
        table.add_row(name, status, note)
    console.print(table)
