"""The GitHub Action's step (`action.yml` at the repository root runs
`python -m ecs_template_deploy.github_action`): the action's inputs, as GitHub
passes them (`INPUT_<NAME>` environment variables), become `deploy --json`'s
options (with `manifest`: `release --json`'s); its result object becomes the step's
outputs (`revision-arn`, `result`, `known-good`, `release` in `$GITHUB_OUTPUT`), the rollout a job summary
(`$GITHUB_STEP_SUMMARY`), and a failure an error annotation with the tool's
one-line message. The exit code is the tool's.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from typing import Any, Mapping, Sequence, TextIO

from .cli import main as deploy_tool

# input -> (CLI option, kind): "value" one value, "lines" one option per line, "flag" when "true"
INPUTS: dict[str, tuple[str, str]] = {
    "cluster": ("--cluster", "value"),
    "service": ("--service", "value"),
    "template": ("--template", "value"),
    "family": ("--family", "value"),
    "tag": ("--tag", "value"),
    "repository": ("--repository", "value"),
    "image": ("--image", "lines"),
    "keep-image": ("--keep-image", "lines"),
    "timeout": ("--timeout", "value"),
    "bake": ("--bake", "value"),
    "alarms": ("--alarm", "lines"),
    "poll-interval": ("--poll-interval", "value"),
    "run-before": ("--run-before", "value"),
    "no-rollback": ("--no-rollback", "flag"),
    "on-pause": ("--on-pause", "value"),
    "region": ("--region", "value"),
}
# with `manifest`, the step runs `release` instead: these inputs, and none of deploy's for one service
RELEASE_INPUTS: dict[str, tuple[str, str]] = {
    "manifest": ("--manifest", "value"),
    "release-id": ("--id", "value"),
    "poll-interval": ("--poll-interval", "value"),
    "region": ("--region", "value"),
}
OUTPUTS = ("revision-arn", "result", "known-good", "release")


class InputError(ValueError):
    """An input the action cannot turn into an option."""


def _input(environ: Mapping[str, str], name: str) -> str:
    # action.yml passes INPUT_KEEP_IMAGE (a name a shell can hold); GitHub's own form keeps the dash
    key = f"INPUT_{name.upper()}"
    return environ.get(key.replace("-", "_"), environ.get(key, "")).strip()


def argv_from(environ: Mapping[str, str]) -> list[str]:
    if _input(environ, "manifest"):
        for name, (_, kind) in INPUTS.items():
            value = _input(environ, name)
            given = value.lower() == "true" if kind == "flag" else bool(value)  # action.yml defaults flags to false
            if name not in RELEASE_INPUTS and given:
                raise InputError(f"input {name} applies to one service's deploy: with manifest, every service's "
                                 "settings come from the manifest; remove it (or drop manifest)")
        argv, inputs = ["release"], RELEASE_INPUTS
    else:
        if _input(environ, "release-id"):
            raise InputError("input release-id names a release: it needs manifest")
        missing = [name for name in ("cluster", "service", "template") if not _input(environ, name)]
        if missing:
            raise InputError(f"input {missing[0]} is required: give cluster, service and template (or manifest, "
                             "to release several services)")
        argv, inputs = ["deploy"], INPUTS
    for name, (option, kind) in inputs.items():
        value = _input(environ, name)
        if not value:
            continue
        if kind == "flag":
            if value.lower() not in ("true", "false"):
                raise InputError(f"input {name} is {value!r}: write true or false")
            if value.lower() == "true":
                argv.append(option)
        elif kind == "lines":
            for line in value.replace(",", "\n").splitlines():
                if line.strip():
                    argv += [option, line.strip()]
        else:
            argv += [option, value]
    return [*argv, "--json"]


def _annotation(text: str) -> str:
    """An `::error::` workflow command; GitHub needs %, CR and LF escaped."""
    return "::error title=ecs-template-deploy::" + text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def summary(result: Mapping[str, object], lines: Sequence[Mapping[str, object]]) -> str:
    rows = [f"| {line.get('at', '')} | {line.get('kind', '')} | {str(line.get('message', '')).replace('|', '/')} |"
            for line in lines if line.get("kind") not in ("result", "deploy")]
    state = "succeeded" if result.get("exitCode") == 0 else f"failed (exit {result.get('exitCode')})"
    services = result.get("services")
    table = []
    if isinstance(services, list) and services:  # a release: where each service ended
        table = ["| service | wave | state | what |", "|---|---:|---|---|", *(
            f"| {s.get('service')} | {s.get('wave')} | {s.get('state')} | {str(s.get('message', '')).replace('|', '/')} |"
            for s in services if isinstance(s, dict)), ""]
    return "\n".join([f"### ecs-template-deploy: {state}", "", str(result.get("message") or result.get("error") or ""),
                      "", *table, "| time | kind | what |", "|---|---|---|", *rows, ""])


def run(environ: Mapping[str, str], stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    try:
        argv = argv_from(environ)
    except InputError as err:
        print(_annotation(str(err)), file=stdout)
        return 2
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        code = deploy_tool(argv)
    lines: list[Any] = []  # whatever JSON the tool printed; its result line is an object
    for text in captured.getvalue().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            lines.append(json.loads(text))
        print(text, file=stdout)   # the JSON lines stay in the log
    result: dict[str, Any] = lines[-1] if lines and lines[-1].get("kind") == "result" else {"exitCode": code}
    values = {"revision-arn": result.get("taskDefinitionArn") or "", "result": "success" if code == 0 else "failure",
              "known-good": result.get("knownGood") or (result.get("standing") or {}).get("knownGood") or "",
              "release": result.get("release") or ""}
    if environ.get("GITHUB_OUTPUT"):
        with open(environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
            out.writelines(f"{name}={values[name]}\n" for name in OUTPUTS)
    if environ.get("GITHUB_STEP_SUMMARY"):
        with open(environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as out:
            out.write(summary(result, lines))
    if code != 0:
        print(_annotation(str(result.get("error") or result.get("message") or f"deploy failed with exit {code}")),
              file=stdout)
    return code


if __name__ == "__main__":
    sys.exit(run(os.environ))
