"""report.html in a real headless browser (harness.report.browser: the
system's Chromium driven by Playwright): every chart renders (an SVG with a
size and drawn paths), every in-page link has its target, nothing is logged to
the console; `harness report screenshot` photographs the top of the page."""
from __future__ import annotations

import struct
from pathlib import Path

import pytest

from harness import commands
from harness.metrics.results import Results, RollbackMatrix
from harness.report import write_reports
from harness.report.browser import NoBrowser, chromium_path, page

from report_samples import sample_results
from test_rollback_matrix_report import matrix_results


@pytest.fixture
def chromium() -> str:
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed: python3 dev.py installs it")
    try:
        return chromium_path()
    except NoBrowser as err:
        pytest.skip(str(err))


@pytest.fixture
def browser_page(chromium):
    with page(1280, 900) as opened:
        yield opened


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
    # readable at 1,280 px: the page never scrolls sideways (a wide table scrolls in its own box)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1280
    assert messages == []


def test_the_screenshot_command_photographs_the_top_of_the_page(chromium, tmp_path: Path, capsys) -> None:
    report = write_reports(_both(), tmp_path / "report").html
    png = tmp_path / "top.png"
    assert commands.main(["report", "screenshot", str(report), "--out", str(png), "--width", "1280", "--height", "700"]) == 0
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", head[16:24]) == (1280, 700)
    assert str(png) in capsys.readouterr().out
    assert commands.main(["report", "screenshot", str(tmp_path / "none.html"), "--out", str(png)]) == 2
    assert "no report at" in capsys.readouterr().err

