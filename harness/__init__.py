"""The scenario engine: replays the ways to split Terraform and CD for ECS.

It imports ecs_template_deploy as one of the approaches; the deploy tool never
imports the harness.
"""
