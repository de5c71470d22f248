"""report.html in a real headless browser: every chart renders (an SVG with a
size and drawn paths), every in-page link has its target, nothing is logged to
the console. Chromium is the system's (Debian's `chromium`, which `.ci/run`
installs), driven by Playwright without downloading a browser of its own;
``HARNESS_CHROMIUM`` names another binary."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from harness.metrics.results import Results, RollbackMatrix
from harness.report import write_reports

from report_samples import sample_results
from test_rollback_matrix_report import matrix_results


def _chromium() -> str:
    found = os.environ.get("HARNESS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no Chromium here: install Debian's `chromium` (as .ci/run does) or set HARNESS_CHROMIUM")
    return found


@pytest.fixture
def browser_page():
    binary = _chromium()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: python3 dev.py installs it")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            messages: list[str] = []
            page.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda err: messages.append(f"page error: {err}"))
            yield page, messages
        finally:
            browser.close()


def _both() -> Results:
    results = sample_results()
    extra = matrix_results()
    for approach, properties in extra.to_dict()["approaches"].items():
        for key, fields in properties.items():
            if key == "rollback_matrix":
                results.add(approach, RollbackMatrix.from_dict(fields))
    results.add_parameters(extra.parameters)
    return results


def test_every_chart_of_the_report_renders_and_every_link_lands(browser_page, tmp_path: Path) -> None:
    page, messages = browser_page
    report = write_reports(_both(), tmp_path).html
    page.goto(report.as_uri())
    charts = page.evaluate("""() => Array.from(document.querySelectorAll('svg')).map(svg => {
        const box = svg.getBoundingClientRect();
        return {width: box.width, height: box.height, paths: svg.querySelectorAll('path').length,
                section: svg.closest('section') ? svg.closest('section').id : ''};
    })""")
    sections = page.evaluate("() => Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert len(charts) == 4, charts  # two approach timelines, two failure modes' small multiples
    assert {c["section"] for c in charts} == {"details-persistent-tag", "details-template", "mode-crash-at-once",
                                               "mode-alarm-after-release"}
    for chart in charts:
        assert chart["width"] > 200 and chart["height"] > 100 and chart["paths"] > 20, chart
    missing = page.evaluate("""() => Array.from(document.querySelectorAll('a[href^="#"]'))
        .map(a => a.getAttribute('href').slice(1)).filter(id => !document.getElementById(id))""")
    assert missing == []
    cells = page.evaluate("""() => Array.from(document.querySelectorAll('table.matrix td')).map(td =>
        [td.className, getComputedStyle(td).backgroundColor])""")
    failed = {colour for cls, colour in cells if cls == "m-failed"}
    best = {colour for cls, colour in cells if cls == "m-best"}
    assert failed and best and failed.isdisjoint(best)  # the heat map is coloured, not only classed
    assert set(sections) >= {"details-template", "mode-crash-at-once"}
    assert messages == []
