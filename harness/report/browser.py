"""report.html in a real browser: the system's Chromium (Debian's `chromium`;
``HARNESS_CHROMIUM`` names another binary), driven by Playwright, which never
downloads a browser of its own here. The browser test and `harness report
screenshot` both open the page this way."""
from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class NoBrowser(Exception):
    """No Chromium, or no Playwright; the message says how to get them."""


def chromium_path() -> str:
    found = os.environ.get("HARNESS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise NoBrowser("no Chromium here: install Debian's `chromium` (as .ci/run does) or set HARNESS_CHROMIUM")
    return found


@contextlib.contextmanager
def page(width: int = 1280, height: int = 900) -> Iterator[tuple[Any, list[str]]]:
    """A headless page of that viewport, and the console messages and page errors it logs."""
    binary = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise NoBrowser("playwright is not installed: python3 dev.py installs it") from None
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            opened = browser.new_page(viewport={"width": width, "height": height})
            messages: list[str] = []
            opened.on("console", lambda m: messages.append(f"{m.type}: {m.text}"))
            opened.on("pageerror", lambda err: messages.append(f"page error: {err}"))
            yield opened, messages
        finally:
            browser.close()


def screenshot(html: Path, png: Path, width: int = 1280, height: int = 900) -> list[str]:
    """The top of ``html`` (one viewport) as ``png``; returns what the page logged."""
    with page(width, height) as (opened, messages):
        opened.goto(Path(html).resolve().as_uri())
        png.parent.mkdir(parents=True, exist_ok=True)
        opened.screenshot(path=str(png))
    return messages
