"""How progress and results look: terminal, plain CI lines, JSON lines.

Progress goes to stdout as the watcher sees it: coloured lines on a terminal,
plain timestamped lines in CI (or when piped), JSON lines with `--json`.
"""
from __future__ import annotations

import datetime as _dt
import json
from typing import Mapping, TextIO

from ..clock import iso
from ..events import ProgressEvent, Sink
from ..verdict import State


class PlainRenderer:
    """One plain line per event, for CI logs: `<time> <kind> <message>`."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: ProgressEvent) -> None:
        print(f"{iso(event.at)} {event.kind:<13} {event.message}", file=self.stream, flush=True)


class JsonRenderer:
    """One JSON object per line (`--json`)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: ProgressEvent) -> None:
        print(json.dumps(event.as_dict(), default=str), file=self.stream, flush=True)


class TerminalRenderer:
    """Short, coloured lines for a person at a terminal."""

    COLOURS = {"service-event": "2", "rollout": "36", "task-failed": "31", "action": "33", "warning": "35"}
    VERDICT_COLOURS = {State.SUCCEEDED.value: "32", State.IN_PROGRESS.value: "36"}

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, event: ProgressEvent) -> None:
        clock = _dt.datetime.fromtimestamp(event.at, _dt.timezone.utc).strftime("%H:%M:%S")
        if event.kind == "verdict":
            colour = self.VERDICT_COLOURS.get(str(event.data.get("state")), "1;31")
        else:
            colour = self.COLOURS.get(event.kind, "0")
        print(f"\033[2m{clock}\033[0m \033[{colour}m{event.message}\033[0m", file=self.stream, flush=True)


def renderer_for(stream: TextIO, *, json_lines: bool = False, environ: Mapping[str, str] | None = None) -> Sink:
    """JSON lines if asked; coloured lines on a terminal outside CI; plain lines otherwise."""
    if json_lines:
        return JsonRenderer(stream)
    environ = environ if environ is not None else {}
    interactive = getattr(stream, "isatty", lambda: False)() and not environ.get("CI") and not environ.get("NO_COLOR")
    return TerminalRenderer(stream) if interactive else PlainRenderer(stream)
