"""Show field by field what a deploy would change in the service's task definition.

One line per change (`+` added, `-` removed, `~` changed); values that span
lines (a certificate, a script) are printed JSON-quoted, so they stay on theirs.
Provenance tags are left out.

What looks secret is masked as `***`, in every field (environment, command,
entryPoint, healthCheck, dockerLabels, log and volume options, tags, ...):
by name (PASSWORD, TOKEN, KEY, PAT, DSN, AUTH, PW, ...: of an environment
entry, a label, an option, a `--flag` before a value, a `name=value` inside a
string) and by value (a URL's password, JDBC/ODBC passwords, PEM private keys,
AWS keys, JWTs, GitHub/GitLab/Slack/Stripe/npm/PyPI/... tokens, 32+ hex keys,
long random tokens). Only the secret part is masked where the rest is useful
(`postgres://admin:***@db/app`). A line on stderr lists each masked path and
why; with --json, the `masked` field does (a list of {path, why}). A changed
secret still shows as a change: `*** -> ***`.
"""
from __future__ import annotations

import argparse
import json

from ..diff import diff
from ..errors import EXIT_OK
from ..resources import short
from ..secrets import note
from .common import Context, add_image_arguments, add_target_arguments
from .render import request_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_target_arguments(parser)
    add_image_arguments(parser)


def run(args: argparse.Namespace, context: Context) -> int:
    result = diff(context.ecs, request_from(args))
    if context.json:
        context.print_json(result.to_dict())
        return EXIT_OK
    plan = result.plan
    context.print(f"service {plan.service.name} runs {short(plan.current.arn)}; a deploy would render {plan.family} from {short(plan.template.arn)}")
    if result.unchanged:
        context.print("no changes: a deploy would register nothing")
        return EXIT_OK
    if not result.changes:
        context.print("no field changes (only the family); a deploy would register a new revision")
    for change in result.changes:
        sign = {"added": "+", "removed": "-", "changed": "~"}[change.kind]
        if change.kind == "added":
            context.print(f"  {sign} {change.path}: {_show(change.new)}")
        elif change.kind == "removed":
            context.print(f"  {sign} {change.path}: {_show(change.old)}")
        else:
            context.print(f"  {sign} {change.path}: {_show(change.old)} -> {_show(change.new)}")
    if result.masked:
        context.warn(note(result.masked))
    return EXIT_OK


def _show(value: object) -> str:
    """A value on one line: plain strings as they are, the rest (and strings with line breaks or
    other control characters, which would break the one-line-per-change format) as JSON."""
    if isinstance(value, str) and value.isprintable():
        return value
    return json.dumps(value, sort_keys=True)
