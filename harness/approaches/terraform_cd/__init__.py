"""Approach 4, Terraform in CD: Terraform owns everything, the image tag is a
variable, and the CD pipeline's deploy step *is* `terraform apply`.

- 4a ``terraform-cd-central``: the state lives in the central infrastructure
  config (``terraform/`` beside this module: shared infrastructure, task
  definition and service in one configuration); CD applies all of it.
- 4b ``terraform-cd-app``: a separate service config in the application
  repository (``app/terraform``: task definition and service only) reads the
  shared infrastructure from the central config's state
  (``infra/terraform``, ``terraform_remote_state``); CD applies only the small
  service config.

CD procedure (both):

- deploy N: write ``image_tag = N`` to the repository's ``cd.auto.tfvars.json``,
  commit it and ``git push`` (a real git repository: the workspace directory,
  with a bare ``origin`` beside it), then ``terraform apply -var image_tag=N``
  through the harness's Terraform runner, then watch the rollout Terraform
  started with the deploy tool's watcher, like approaches 1-3;
- roll back: the same with the last known-good tag (a commit "roll back to
  N", push, apply);
- infrastructure change: `terraform apply` of the changed variable on the same
  configuration. The tag CD committed is part of it, so the deployed version
  is kept, and the change reaches the tasks at once (a new revision).

CD needs Terraform state (read-write for its config; 4b also reads the
central config's state) and git push: ``state_files`` and ``repo.pushes`` say
what one run used. It cannot run without Terraform: building it without a
workspace is an ``ApproachError`` naming the reason.

Time during a Terraform run: on the simulator, Terraform's part of a step is
the timing profile's model on the virtual clock (``HarnessServer.modelling_terraform``:
a start-up per command, and a latency per AWS call the provider makes), never
this machine's wall time. The rollout Terraform starts begins at the modelled
instant of its UpdateService, and a step's seconds include Terraform's.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from ecs_template_deploy.views import Service

from harness.approaches import Approach, ApproachError, Claims, Facts, InfraChange, Said, owned, register
from harness.approaches.claims import CIRCUIT_BREAKER, no_person_needed
from harness.approaches.base import Context, EcsCd, Step, apply_through_terraform, container_image

VARS_FILE = "cd.auto.tfvars.json"  # what CD commits: the version to run
GITIGNORE = ".terraform/\n.terraform.lock.hcl\n*.tfstate\n*.tfstate.*\n*.tfplan\nzz_harness_override.tf.json\n"
GIT_IDENTITY = ("-c", "user.name=cd-pipeline", "-c", "user.email=cd@pipeline.invalid", "-c", "commit.gpgsign=false")


@dataclass
class GitRepo:
    """The repository CD commits the image tag to: a working copy and its bare origin."""

    path: Path
    origin: Path
    pushes: list[str] = field(default_factory=list)  # commit ids CD pushed
    seconds: float = 0.0  # wall seconds spent in git (commit + push)

    @classmethod
    def open(cls, path: Path) -> GitRepo:
        """The repository at ``path``; made (with every file there committed, and
        pushed to a new bare origin beside it) if it is not one yet."""
        path = Path(path)
        origin = path.with_name(path.name + "-origin.git")
        repo = cls(path, origin)
        if not (path / ".git").exists():
            (path / ".gitignore").write_text(GITIGNORE)
            repo._git("init", "-q", "-b", "main")
            repo._git("add", "-A")
            repo._git("commit", "-q", "-m", "Infrastructure as the infra team applied it")
            subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True, capture_output=True, env=_git_env())
            repo._git("remote", "add", "origin", str(origin))
            repo._git("push", "-q", "origin", "main")
        return repo

    def commit_and_push(self, relative: str, content: Mapping[str, Any], message: str) -> str:
        started = time.perf_counter()
        (self.path / relative).write_text(json.dumps(dict(content), indent=2, sort_keys=True) + "\n")
        self._git("add", "--", relative)
        self._git("commit", "-q", "--allow-empty", "-m", message)
        self._git("push", "-q", "origin", "main")
        commit = self._git("rev-parse", "HEAD").strip()
        self.pushes.append(commit)
        self.seconds += time.perf_counter() - started
        return commit

    def log(self) -> list[str]:
        """Subjects of the commits origin holds, newest first."""
        out = subprocess.run(["git", "--git-dir", str(self.origin), "log", "--format=%s", "main"],
                             check=True, capture_output=True, text=True, env=_git_env())
        return out.stdout.splitlines()

    def _git(self, *args: str) -> str:
        proc = subprocess.run(["git", *GIT_IDENTITY, "-C", str(self.path), *args], capture_output=True, text=True,
                              env=_git_env())
        if proc.returncode != 0:
            raise ApproachError(f"git {args[0]} failed in {self.path}: {(proc.stderr or proc.stdout).strip()}")
        return proc.stdout


def _git_env() -> dict[str, str]:
    # The user's global and system git configuration (hooks, signing) is not the pipeline's.
    return {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}


class TerraformCd(EcsCd, Approach):
    """Approach 4's CD procedure; 4a and 4b differ only in the configuration applied."""

    # Both configurations take these as variables (the rollback matrix's modes need them).
    terraform_options = ("circuit_breaker", "load_balanced", "desired_count")
    terraform_cannot = {"strategy": (
        "ECS's own blue/green needs `deployment_configuration { strategy }` on aws_ecs_service, which the "
        "AWS provider has from 6.4.0 on; approach 4's configurations are written for the 5.x provider the "
        "harness runs offline, so its CD (terraform apply) cannot follow a blue/green deployment here")}

    def __init__(self, context: Context) -> None:
        if context.terraform is None:
            raise ApproachError(f"approach {self.name} runs `terraform apply` as its CD step: "
                                "give the context its Terraform workspace (it cannot run without Terraform)")
        super().__init__(context)
        self.workspace = context.terraform
        self.repo = GitRepo.open(Path(self.workspace.directory))
        self.known_good: str | None = None  # the image tag of the last rollout that succeeded

    @property
    def state_files(self) -> list[Path]:
        """The Terraform state CD's apply reads and writes (its own) or reads (4b: the central one)."""
        files = [Path(self.workspace.directory) / "terraform.tfstate"]
        files += [Path(str(v)) for k, v in self.workspace.variables.items() if k.endswith("_state")]
        return files

    def running_tag(self) -> str:
        return container_image(self.ecs, self.current_task_definition(), self.context.container).rsplit(":", 1)[-1]

    def deploy(self, version: str) -> Step:
        if self.known_good is None:
            self.known_good = self.running_tag()  # what ran before CD's first deploy
        step = self._apply_tag(version, f"Deploy {version}", proving=True)
        if step.succeeded:
            self.known_good = version
        return step

    def rollback(self) -> Step:
        if self.known_good is None:
            raise ApproachError("nothing to roll back to: no deploy has run yet")
        return self._apply_tag(self.known_good, f"Roll back to {self.known_good}")

    def apply_infra_changes(self, changes: Sequence[InfraChange]) -> float:
        return apply_through_terraform(self.context, changes)

    def _apply_tag(self, tag: str, message: str, proving: bool = False) -> Step:
        since = self.context.now()
        self.repo.commit_and_push(VARS_FILE, {"image_tag": tag}, message)
        self.workspace.variables["image_tag"] = tag  # -var image_tag=N, and kept for later applies
        self.workspace.apply()
        service = Service(self.ecs.describe_services(cluster=self.context.cluster, services=[self.context.service])["services"][0])
        primary = service.primary
        assert primary is not None, "DescribeServices answered without a PRIMARY deployment"
        outcome = self.watcher.watch(self.context.cluster, self.context.service, deployment_id=primary.id, since=since)
        if proving:
            outcome = self.proven(outcome)
        image = f"{self.context.output('repository_url')}:{tag}"
        return Step(primary.task_definition, image, outcome)


_FACTS = Facts(
    cd_runs_terraform=True,
    cd_pushes_git=True,
    rolls_back="commits the known-good tag, pushes and runs terraform apply",
    manual_rollback=("revert the image_tag commit", "push it", "run terraform apply"),
)


# 4a and 4b are claimed alike: they differ in what CD's apply covers, not in what it does.
CLAIMS = Claims(
    plan_clean_after_deploy=Said(True),  # CD *is* Terraform: the tag it applied is the configuration's
    version_readable=Said(True),  # the tag is a Terraform variable CD sets
    moving_tag=Said(False),
    scale_out_skew=Said(False),
    infra_change_reaches=Said("immediately"),  # Terraform applies everything, the tag CD committed included
    terraform_owns=Said(owned(image=True, settings=True)),
    rollback=Said(no_person_needed(default=False), because=CIRCUIT_BREAKER,
                  today=no_person_needed({"alarm-after-release": False}, default=True)),
    rollback_moves_tag=Said(False),
    # one commit and one `terraform apply` per service: worker's rollback commit reverts worker's tag only
    multi_service_release=Said(("web",)),
)


@register
class TerraformCdCentral(TerraformCd):
    name = "terraform-cd-central"
    claims = CLAIMS
    facts = replace(_FACTS, notes=(
        "CD applies the whole central configuration (shared infrastructure included) for every deploy and rollback",
        "CD needs read-write access to the central Terraform state and push rights to the infra repository",
    ))


@register
class TerraformCdApp(TerraformCd):
    name = "terraform-cd-app"
    terraform_dir = "app/terraform"
    claims = CLAIMS
    facts = replace(_FACTS, notes=(
        "CD applies only the service config in the app repository; the shared infrastructure is read from the central state",
        "CD needs its own Terraform state, read access to the central state, and push rights to the app repository",
    ))
