"""Deploy ECS services from a Terraform-managed template task definition.

Library entry points: `service_deploy.deploy_service` (a whole deploy, as the
CLI's `deploy` runs it), `plan.prepare`, `deploy.deploy`, `diff.diff`,
`prune.prune`; the CLI is `ecs_template_deploy.cli.main`.
"""

__version__ = "0.2.0"  # the one place: pyproject.toml reads it (tool.setuptools.dynamic)
