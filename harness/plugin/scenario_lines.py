"""The scenarios as a demo (registered by ``harness.plugin``): ``pytest scenarios/``
says, as each scenario finishes, what it claims, what it measured and whether the
claim held, in one line::

    PASS  5 template · rollback matrix: every task crashes, rolling, capable · back on known good in 90 s without a person, by deploy tool

and its summary groups the skipped scenarios by reason, a line per reason with a
count, instead of pytest's line per test and location; the comparison itself (the
table, the "what to pick" guide, where the report went) is ``harness.plugin.measurements``'s.

A line is made the same way for every scenario, nothing per file:

- the claim: the test's name made readable (``test_cd_deploy_leaves_terraform_plan_clean``
  -> "cd deploy leaves terraform plan clean": the scenarios are named by their claims),
  or its docstring's first line where that is a paragraph of its own (a one-line
  docstring; the scenarios' longer docstrings explain rather than claim);
- the approach's short label (the ``approach`` parameter, ``Entry.short_label``) and the
  other parameters: a value's title, name or string (``ROLLING`` -> "rolling"), else the ids;
- the figures: what the test recorded through ``measurements``, a short text per kind
  of property (``FIGURES``; the property's key for a kind without one);
- the verdict: PASS, FAIL (with the failure's first line), SKIP (with its reason, shortened),
  XFAIL/XPASS.

Where it is made and printed:

- The process that ran the test (an xdist worker, or the only one) puts the claim and
  the figures on the test's teardown report, an attribute (xdist carries a report's
  attributes to the controller; ``user_properties`` would also land in junit XML as
  properties, and a report section would be printed under every failure); the
  controller prints the line when that report arrives, with the verdict of the
  test's reports. Only tests under ``scenarios/`` get one, and only those that ran.
- At the default verbosity the line replaces pytest's letter for the test (the test
  still counts in pytest's progress, which ends the line); with ``-v`` it follows
  pytest's own line (the node id, to rerun one). With ``-q`` pytest's dots stay and
  no line is printed: quiet asks for less, and `harness compare` (``-q`` and its own
  progress bar, ``harness.report.progress``) would get its bar torn by lines, and a
  second account of each scenario beside its bar's.
- Cells that do not exist (a skip reason starting ``n/a:``) get no line but with ``-v``:
  they are the grouped summary's "n/a" count.
- On ``--backend aws`` or ``localstack`` pytest's output is left as it is: there each
  scenario is a run of its own that says what it created and left on stderr, and its
  skips say what that backend lacks, per test and location.
"""
from __future__ import annotations

import inspect
import re
from collections import Counter
from typing import Any, Callable, Generator, Iterable, Mapping

import pytest

from harness.approaches import BY_NAME, Entry
from harness.metrics.results import (
    AutoscalingDrift, CdPermissions, Clobber, ConfigOwnership, DriftAfterDeploy, ExplicitVersion, MultiServiceRelease,
    Property, Rollback, RollbackMatrix, Sensitivity, VersionSkew,
)
from harness.plugin.measurements import NOT_APPLICABLE, first_line, skip_reason
from harness.plugin.scheduling import SCENARIOS_DIR, approach_of
from harness.plugin.state import recorded_key

SCENARIO_LINE = "harness_scenario"  # a scenario's teardown report: {"subject": ..., "figures": [...]}
SIMULATED = ("moto", "server")  # the backends the demo's output is for
SHORT = 100  # characters of a reason on a scenario's line
SEPARATOR = " · "
MARKUP = {"PASS": {"green": True}, "FAIL": {"red": True}, "SKIP": {"yellow": True},
          "XFAIL": {"yellow": True}, "XPASS": {"yellow": True}}


def is_scenario(nodeid: str) -> bool:
    return nodeid.startswith(SCENARIOS_DIR)


# --- on the process that ran the test ----------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                               ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A scenario's teardown report carries its claim and figures to the controller."""
    report = yield
    if report.when == "teardown" and is_scenario(item.nodeid):
        try:
            recorded: list[Any] = item.stash.get(recorded_key, [])
            said = {"subject": subject(item), "figures": figures(recorded)}
        except Exception as err:  # a line that cannot be made must not break the run: it says why
            said = {"subject": item.name, "figures": [f"(no line: {type(err).__name__}: {err})"]}
        setattr(report, SCENARIO_LINE, said)
    return report


def subject(item: pytest.Item) -> str:
    """``5 template · rollback matrix: every task crashes, rolling, article``."""
    approach = approach_of(item)
    claim, shown = claim_of(item), parameters_of(item, approach)
    text = f"{claim}: {shown}" if shown else claim
    return f"{approach.short_label}{SEPARATOR}{text}" if approach is not None else text


def claim_of(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    doc = inspect.getdoc(function) if function is not None else None
    first = (doc or "").split("\n\n", 1)[0].strip()
    if first and "\n" not in first:
        return first.rstrip(".")
    name = getattr(item, "originalname", None) or item.name.split("[", 1)[0]
    return name.removeprefix("test_").replace("_", " ").strip()


def parameters_of(item: pytest.Item, approach: Entry | None) -> str:
    """The parameters but the approach, in words; the ids where a value says nothing by itself (``True``)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return ""
    texts: list[str] = []
    for name, value in callspec.params.items():
        if name == "approach" and value is approach:
            continue
        text = parameter_text(value)
        if text is None:
            return ids_of(item, approach)
        if text and text not in texts:
            texts.append(text)
    return ", ".join(texts)


def parameter_text(value: Any) -> str | None:
    """A value's words: its title, a string, its name; "" for a configuration (a detail); None when it has none."""
    if isinstance(value, Entry):
        return value.short_label
    if isinstance(value, str):
        return (value.lower() if value.isupper() else value).replace("_", " ")
    if isinstance(value, (Mapping, list, tuple, set, frozenset)):
        return ""
    title = getattr(value, "title", None)
    if isinstance(title, str) and title:
        return title[:1].lower() + title[1:]
    name = getattr(value, "name", None)
    if isinstance(name, str) and name and not isinstance(value, type):
        return (name.lower() if name.isupper() else name).replace("_", " ")
    return None


def ids_of(item: pytest.Item, approach: Entry | None) -> str:
    found = re.search(r"\[(.*)\]$", item.name)
    ids = found.group(1) if found else ""
    if approach is not None:
        ids = re.sub(rf"(^|-){re.escape(approach.name)}(-|$)",
                     lambda m: "-" if m.group(1) and m.group(2) else "", ids, count=1)
    return ids


def figures(recorded: Iterable[tuple[str, Property]]) -> list[str]:
    """What a test recorded, a short text per property (repeated texts once)."""
    out: list[str] = []
    for _, measured in recorded:
        said = FIGURES.get(type(measured))
        try:
            text = said(measured) if said is not None else measured.key
        except Exception:  # a partial measurement a text did not expect: its key still says what it measured
            text = measured.key
        if text and text not in out:
            out.append(text)
    return out


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def _steps(count: int) -> str:
    return f"{count} step{'s' if count != 1 else ''} for a person"


def _matrix(m: RollbackMatrix) -> str:
    texts = []
    for cell in (m.cells or {}).values():
        if cell.recovered:
            text = f"back on known good in {_seconds(cell.seconds)} s without a person"
            text += f", by {cell.rolled_back_by}" if cell.rolled_back_by else ""
        else:
            text = f"not back: {_steps(len(cell.human_steps))}"
        if cell.kept_infra_change is not None:
            text += ", infrastructure change " + ("kept" if cell.kept_infra_change else "lost")
        texts.append(text)
    return "; ".join(texts)


def _rollback(r: Rollback) -> str:
    if r.recovered is False:
        return "rollback column: not back"
    parts = [f"rollback column: {_seconds(r.simulated_seconds)} s"]
    if r.lowest_healthy is not None and r.desired is not None:
        parts.append(f"lowest healthy {r.lowest_healthy} of {r.desired}")
    if r.api_calls is not None:
        parts.append(f"{r.api_calls} API calls")
    return ", ".join(parts)


def _sensitivity(s: Sensitivity) -> str:
    return "; ".join(f"under {profile}: " + (f"back in {_seconds(o.seconds)} s" if o.recovered else "not back")
                     for profile, cells in sorted((s.outcomes or {}).items()) for o in cells.values())


def _drift(d: DriftAfterDeploy) -> str:
    if d.plan_exit_code == 0:
        return "plan after deploy: clean"
    if d.plan_exit_code == 2:
        changes = len(d.changes or [])
        return f"plan after deploy: drift ({changes} change{'s' if changes != 1 else ''})"
    return f"plan after deploy: exit {d.plan_exit_code}"


def _clobber(c: Clobber) -> str:
    parts = []
    if c.version_lost is not None:
        parts.append("deployed version " + ("lost" if c.version_lost else "kept"))
    if c.declaration_lost is not None:
        parts.append("declaration " + ("lost" if c.declaration_lost else "kept"))
    if c.reaches_tasks is not None:
        parts.append(f"reaches tasks: {c.reaches_tasks}")
    return "infrastructure change: " + ", ".join(parts) if parts else c.key


def _version(v: ExplicitVersion) -> str:
    if v.readable is None:
        return v.key
    text = "version readable" if v.readable else "version not readable"
    if v.image:
        text += f": {v.image}"
    return text + (f" (pinned by {v.pinned_by})" if v.pinned_by else "")


def _release(r: MultiServiceRelease) -> str:
    if r.all_back:
        return f"every service back on known good in {_seconds(r.seconds)} s without a person"
    if r.all_back is False:
        left = ", ".join(r.left_on_release) or "none"
        return f"not every service back: left on the release: {left}; {_steps(len(r.human_steps or []))}"
    return r.key


def _skew(v: VersionSkew) -> str:
    shares = [f"version consistency {name}: {share:.0%} of tasks on another digest"
              for name, share in (("on", v.share_vc_on), ("off", v.share_vc_off)) if share is not None]
    return "; ".join(shares) or v.key


def _autoscaling(a: AutoscalingDrift) -> str:
    if a.drift is None:
        return a.key
    text = "desired count after autoscaling: " + ("drift in the plan" if a.drift else "no drift")
    return text + (" (ignored)" if a.desired_count_ignored else "")


def _permissions(p: CdPermissions) -> str:
    parts = [f"CD calls {len(p.iam_actions)} IAM actions"] if p.iam_actions is not None else []
    if p.needs_terraform_state is not None:
        parts.append(("needs" if p.needs_terraform_state else "no") + " Terraform state")
    if p.needs_git_push is not None:
        parts.append(("needs" if p.needs_git_push else "no") + " git push")
    return ", ".join(parts) or p.key


def _ownership(o: ConfigOwnership) -> str:
    owned = sorted(name for name, yes in (o.terraform_owns or {}).items() if yes)
    return (f"Terraform owns {len(owned)} of {len(o.terraform_owns or {})} container settings"
            + (f" ({', '.join(owned)})" if owned else ""))


# A short text per kind of property; a kind without one is said by its key.
FIGURES: dict[type[Property], Callable[[Any], str]] = {
    RollbackMatrix: _matrix, Rollback: _rollback, Sensitivity: _sensitivity, DriftAfterDeploy: _drift,
    Clobber: _clobber, ExplicitVersion: _version, MultiServiceRelease: _release, VersionSkew: _skew,
    AutoscalingDrift: _autoscaling, CdPermissions: _permissions, ConfigOwnership: _ownership,
}


# --- skip reasons, grouped -----------------------------------------------------------

_MEASURED = re.compile(r"^(not measured(?: on [^:]+)?): (.*)$", re.S)


def reason_group(reason: str) -> tuple[str, str]:
    """(label, text) a skip reason is counted under: "n/a" for cells that do not exist, "not
    measured" (or "not measured on real AWS"...) with the reason, its approach's name taken
    out so that one reason of several approaches is one line, else "skipped"."""
    if reason.startswith(NOT_APPLICABLE):
        return "n/a", "cells that do not apply"
    found = _MEASURED.match(reason)
    label, text = (found.group(1), found.group(2)) if found else ("skipped", reason)
    for name in sorted(BY_NAME, key=len, reverse=True):
        text = re.sub(rf"(?<![\w-]){re.escape(name)}'s(?![\w-])", "its", text)
        text = re.sub(rf"^{re.escape(name)} ", "", text)
    return label, re.sub(r" here(?= \(|:)", "", text, count=1)


def shortened(text: str, limit: int = SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# --- on the controller -----------------------------------------------------------------


@pytest.hookimpl(trylast=True)  # after the terminal reporter is registered
def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    terminal = config.pluginmanager.getplugin("terminalreporter")
    if terminal is None or config.getoption("harness_backend", "moto") not in SIMULATED:
        return
    config.pluginmanager.register(ScenarioLines(config, terminal), "harness-scenario-lines")


class ScenarioLines:
    """The controller's part: a line per finished scenario, the skips grouped in the summary."""

    def __init__(self, config: pytest.Config, terminal: Any) -> None:
        self.config = config
        self.terminal = terminal
        self.verbosity = int(config.getoption("verbose", 0) or 0)
        self.lines = self.verbosity >= 0
        self.outcomes: dict[str, tuple[str, str, bool]] = {}  # node id -> verdict, reason, not applicable
        self.session: pytest.Session | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Without xdist (which does the same): no file names before the lines, as with the dots
        of xdist's default output; each line says its scenario."""
        if self.lines and self.verbosity == 0 and any(is_scenario(item.nodeid) for item in session.items):
            self.terminal.showfspath = False

    @pytest.hookimpl(wrapper=True)
    def pytest_report_teststatus(self, report: Any, config: pytest.Config) -> Generator[None, Any, Any]:
        """At the default verbosity a scenario's line stands for it: no letter of pytest's. The word
        stays, so the test still counts in pytest's progress and the summary names it as before."""
        status = yield
        if self.lines and self.verbosity == 0 and status is not None and is_scenario(report.nodeid):
            category, letter, word = status
            if letter:
                return category, "", word or category.upper()
        return status

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not is_scenario(report.nodeid):
            return
        if report.when in ("setup", "call"):
            outcome = verdict(report)
            if outcome is not None:
                self.outcomes[report.nodeid] = outcome
            return
        if report.when != "teardown":
            return
        said, reason, not_applicable = self.outcomes.pop(report.nodeid, ("PASS", "", False))
        if report.failed:
            said, reason = "FAIL", "; ".join(filter(None, [reason, "error in teardown: " + shortened(first_line(report))]))
        line = getattr(report, SCENARIO_LINE, None)
        if self.lines and isinstance(line, dict) and (not not_applicable or self.verbosity > 0):
            self.write(said, [str(line.get("subject", report.nodeid)), *map(str, line.get("figures", ())), reason])

    def write(self, said: str, parts: list[str]) -> None:
        """The line, then pytest's progress figure right-aligned (after it where the line is longer).
        The last test's line is left open: pytest ends the run's progress with its [100%] there."""
        terminal = self.terminal
        head, text = f"{said:<5} ", SEPARATOR.join(part for part in parts if part)
        terminal.ensure_newline()
        if terminal._tw.width_of_current_line:  # after dots of other tests (no file name before them)
            terminal.line("")
        terminal.write(head, bold=True, **MARKUP.get(said, {}))
        terminal.write(text)
        progress = self.progress()
        if progress and self.session is not None and terminal.reported_progress >= self.session.testscollected:
            return
        if progress:
            used = len(head) + len(text)
            terminal.write(progress.rjust(terminal._tw.fullwidth - used - 1), cyan=True)
        terminal.line("")

    def progress(self) -> str:
        """pytest's own progress figure (" [ 42%]"), at the default verbosity and style."""
        collected = self.session.testscollected if self.session is not None else 0
        style = self.config.getini("console_output_style")
        if self.verbosity != 0 or not collected or style not in ("progress", "count", "progress-even-when-capture-no"):
            return ""
        done = self.terminal.reported_progress
        if style == "count":
            return f" [{done:{len(str(collected))}d}/{collected}]"
        return f" [{min(done * 100 // collected, 100):3d}%]"

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # around the terminal reporter's, which prints the short summary last
    def pytest_terminal_summary(self, terminalreporter: Any) -> Generator[None, None, None]:
        """The scenarios' skips, a line per reason, in place of pytest's line per location (the
        reports are out of ``stats["skipped"]`` while its short summary prints, and back for its counts)."""
        stats = terminalreporter.stats
        skipped = stats.get("skipped", [])
        grouped = [report for report in skipped if is_scenario(report.nodeid)]
        if grouped:
            ids = {id(report) for report in grouped}
            stats["skipped"] = [report for report in skipped if id(report) not in ids]
        try:
            return (yield)
        finally:
            if grouped:
                stats["skipped"] = skipped
                self.write_groups(grouped)

    def write_groups(self, reports: list[Any]) -> None:
        counts = Counter(reason_group(skip_reason(report)) for report in reports)
        terminal = self.terminal
        terminal.write_sep("=", "skipped scenarios, by reason", yellow=True)
        for (label, text), count in sorted(counts.items(), key=lambda kv: (kv[0][0] == "n/a", -kv[1], kv[0])):
            terminal.write_line(f"{label} ({count}): {text}")


def verdict(report: pytest.TestReport) -> tuple[str, str, bool] | None:
    """A setup or call report's verdict, its reason and whether it is a cell that does not exist;
    None for a setup that passed (the call says)."""
    if report.failed:
        where = "" if report.when == "call" else f"error in {report.when}: "
        return "FAIL", where + shortened(first_line(report)), False
    if report.skipped:
        if hasattr(report, "wasxfail"):
            return "XFAIL", shortened(str(report.wasxfail)), False
        reason = skip_reason(report)
        label, text = reason_group(reason)
        if label == "n/a":
            return "SKIP", shortened(reason), True
        return "SKIP", shortened(text if label == "skipped" else f"{label}: {text}"), False
    if report.when == "call":
        return ("XPASS", shortened(str(report.wasxfail)), False) if hasattr(report, "wasxfail") else ("PASS", "", False)
    return None
