"""The step-through page in a real browser: headless Chromium, driven by Playwright.

Skips cleanly without Playwright or without Debian's `chromium` (CI installs both)."""

import re
import shutil
from pathlib import Path

import pytest
from conftest import page_steps

from viz import backprop_html

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (apt install chromium)"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUT = Path(__file__).resolve().parent.parent / "out"


def test_step_through_page_in_chromium(seed_neuron, tmp_path):
    page_path = backprop_html(seed_neuron, tmp_path / "neuron.html")
    steps = page_steps(page_path.read_text())
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 700})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri())
        assert page.inner_text("#counter") == f"step 1 / {len(steps)}"
        # before the forward pass reaches it, out's data is unknown
        out_id = next(iter(steps[-1]["focus"]))
        assert "data ?" in page.text_content(f"#{out_id}")
        seen = []
        for k in range(len(steps) - 1):
            page.click("#next")
            seen.append(page.inner_text("#text"))
            if steps[k + 1]["title"] == "Backward: seed out.grad = 1":
                assert "data 0.9991" in page.text_content(f"#{out_id}")
                assert "grad 1" in page.text_content(f"#{out_id}")
        assert page.inner_text("#counter") == f"step {len(steps)} / {len(steps)}"
        assert any("out = sigmoid(n) = sigmoid(7) = 0.9991" in t for t in seen)
        assert any(
            re.search(r"w1\.grad \+= x1 × \S+\.grad = 2 × 0\.0009102 = 0\.00182", t) for t in seen
        )
        # the focused node is highlighted
        assert page.locator("g.node.focus").count() == 1
        OUT.mkdir(exist_ok=True)
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        page.screenshot(path=str(OUT / "backprop_page.png"), full_page=True)
        page.keyboard.press("ArrowRight")
        assert page.inner_text("#counter") == f"step {len(steps) - 1} / {len(steps)}"
        page.click("#first")
        assert page.inner_text("#counter") == f"step 1 / {len(steps)}"
        browser.close()
    assert errors == []
