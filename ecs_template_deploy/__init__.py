"""Deploy ECS services from a Terraform-managed template task definition.

Library entry points: `plan.prepare`, `deploy.deploy`, `diff.diff`,
`prune.prune`; the CLI is `ecs_template_deploy.cli.main`.
"""
