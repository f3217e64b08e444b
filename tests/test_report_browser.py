"""report.html in a real headless browser: Debian's Chromium, driven by Playwright.

.ci/run installs Chromium; elsewhere the test is skipped when none is found (TAIS_CHROMIUM
names another binary). In CI a missing browser fails the test instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from matplotlib.image import imread

from .figure_support import drawn_copy

RUN = "demo"


def chromium() -> str:
    found = os.environ.get("TAIS_CHROMIUM") or shutil.which("chromium")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("no chromium on PATH: .ci/run installs it (apt-get install chromium)")
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    return found


def test_report_html_renders_with_its_figures_and_no_console_errors(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    binary = chromium()
    page_path = drawn_copy(RUN, tmp_path) / "validation" / RUN / "report.html"
    shot = tmp_path / "report.png"
    errors: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium refuses its sandbox.
        browser = pw.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri(), wait_until="load")
            images = page.eval_on_selector_all(
                "figure img",
                "els => els.map(e => [e.complete, e.naturalWidth, e.height])",
            )
            verdict = page.inner_text("p.verdict")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    # Only the page itself: figures are data: URIs and nothing else is fetched.
    assert [u for u in requests if not u.startswith("data:")] == [page_path.as_uri()]
    assert len(images) == 2
    assert all(complete and width > 0 and height > 100 for complete, width, height in images)
    assert verdict.startswith("Verdict: ")
    pixels = imread(shot)
    assert pixels.shape[0] > 900 and pixels.std() > 0.05, "the screenshot is blank"
