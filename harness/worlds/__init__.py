"""Worlds: what Terraform (or its boto3 stand-in) built, ready for CD to deploy into.

One room says "what Terraform built" for every user of it: the scenarios, the
tests, ``bench/`` and ``harness demo``.

- ``images``: images in ECR as CI pushed them (one manifest builder, tags moved).
- ``stand_in``: an approach's infrastructure built with boto3 (no Terraform).
- ``approach``: an approach's world (Terraform or stand-in) with its CD, recorded.
- ``tool``: the template approach's service for the deploy tool, and the CLI run
  against it in-process (``ToolWorld``).
"""
from harness.worlds.tool import (  # noqa: F401  (the deploy tool's world is what most callers want)
    CLUSTER, CONTAINER, FAMILY, IMAGES, REGION, REPOSITORY, SERVICE, TEMPLATE, BlueGreenLoadBalancer, ToolRun,
    ToolWorld,
)
