"""Run `ecs-template-deploy` in this process and SIGKILL it at one AWS call.

    python -m harness.faults.killer UpdateService:1 after -- deploy --cluster prod ...

kills the process right after the first UpdateService came back (AWS applied
it; nothing after it ran: no handler, no `finally`). `before` kills it just
before the call is sent. The tool's clients come from the environment
(`AWS_ENDPOINT_URL` pointing at `harness serve`, test credentials).
"""
from __future__ import annotations

import os
import signal
import sys

import boto3

from ecs_template_deploy.cli import main as deploy_tool


def killing_session(operation: str, nth: int, when: str) -> boto3.Session:
    session = boto3.Session()
    seen = {"count": 0}

    def before(model, **_):
        if model.name == operation:
            seen["count"] += 1
            if when == "before" and seen["count"] == nth:
                os.kill(os.getpid(), signal.SIGKILL)

    def after(model, **_):
        if model.name == operation and when == "after" and seen["count"] == nth:
            os.kill(os.getpid(), signal.SIGKILL)

    session.events.register("before-call", before)
    session.events.register("after-call", after)
    return session


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[2] != "--" or ":" not in argv[0] or argv[1] not in ("before", "after"):
        print("usage: python -m harness.faults.killer OPERATION:N before|after -- TOOL ARGS...", file=sys.stderr)
        return 2
    operation, nth = argv[0].split(":")
    return deploy_tool(argv[3:], session=killing_session(operation, int(nth), argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
