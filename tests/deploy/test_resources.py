"""Lookups: exact family matching and newest-first order whatever the backend returns."""
from __future__ import annotations

import boto3
from botocore.stub import Stubber

from ecs_template_deploy.resources import list_active_revisions
from ecs_template_deploy.views import revision_name

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/{}"


def test_active_revisions_are_exactly_the_family_newest_first():
    ecs = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ecs) as stub:
        # AWS treats familyPrefix as a prefix: look-alike families come back too, across pages.
        stub.add_response("list_task_definitions", {
            "taskDefinitionArns": [ARN.format("web:2"), ARN.format("web-template:9"), ARN.format("web:10")],
            "nextToken": "page2"}, {"familyPrefix": "web", "status": "ACTIVE", "sort": "DESC"})
        stub.add_response("list_task_definitions", {
            "taskDefinitionArns": [ARN.format("webapp:3"), ARN.format("web:1")]},
            {"familyPrefix": "web", "status": "ACTIVE", "sort": "DESC", "nextToken": "page2"})
        arns = list_active_revisions(ecs, "web")
    assert [revision_name(a) for a in arns] == ["web:10", "web:2", "web:1"]


def test_revision_name_is_the_same_for_arn_and_short_reference():
    assert revision_name(ARN.format("web:3")) == revision_name("web:3") == "web:3"
