"""The step-through page in a real browser: headless Chromium, driven by Playwright.

Skips cleanly without Playwright or without Debian's `chromium` (CI installs both)."""

import re
import shutil
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, PAGE_TEXT, assert_reveals_in_order, page_scene, page_steps

from viz import backprop_html

playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (apt install chromium)"
)
ARGS = CHROMIUM_ARGS
OUT = Path(__file__).resolve().parent.parent / "out"


# The player's controls (player.js builds them; the page gives it #player).
COUNTER, TEXT = "#player .bp-counter", "#player .bp-text"
NEXT, PREV, FIRST = "[data-act=next]", "[data-act=prev]", "[data-act=first]"


def test_step_through_page_in_chromium(seed_neuron, tmp_path):
    page_path = backprop_html(seed_neuron, tmp_path / "neuron.html")
    scene = page_scene(page_path.read_text())
    steps = scene["steps"]
    ids = {node["name"]: id for id, node in scene["nodes"].items()}
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 700})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_path.as_uri())
        assert page.inner_text(COUNTER) == f"step 1 / {len(steps)}"
        # before the forward pass reaches it, out's data is unknown
        out_id = scene["root"]
        assert "data ?" in page.text_content(f"#{out_id}")
        seen = []
        for k in range(len(steps) - 1):
            page.click(NEXT)
            seen.append(page.inner_text(TEXT))
            if steps[k + 1]["title"] == "Backward: seed out.grad = 1":
                assert "data 0.9991" in page.text_content(f"#{out_id}")
                assert "grad 1" in page.text_content(f"#{out_id}")
        assert page.inner_text(COUNTER) == f"step {len(steps)} / {len(steps)}"
        assert any("out = sigmoid(n) = sigmoid(7) = 0.9991" in t for t in seen)
        assert any(
            re.search(r"w1\.grad \+= x1 × \S+\.grad = 2 × 0\.0009102 = 0\.00182", t) for t in seen
        )
        # the last step updates every parameter: w2 = 1 - 0.1 * 0.002731
        assert steps[-1]["phase"] == "update"
        assert "data 0.9997" in page.text_content(f"#{ids['w2']}")
        assert page.locator("g.node.focus").count() == 5  # the parameters
        OUT.mkdir(exist_ok=True)
        page.keyboard.press("ArrowLeft")
        page.keyboard.press("ArrowLeft")
        page.screenshot(path=str(OUT / "backprop_page.png"), full_page=True)
        page.keyboard.press("ArrowRight")
        assert page.inner_text(COUNTER) == f"step {len(steps) - 1} / {len(steps)}"
        page.click(FIRST)
        assert page.inner_text(COUNTER) == f"step 1 / {len(steps)}"
        browser.close()
    assert errors == []


def _launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def _open(browser, path, errors: list) -> object:
    """A 1280×720 page showing the file at ``path``; its script errors go to ``errors``."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    return page


def test_step_through_a_2_16_16_1_network_neuron_by_neuron(tmp_path):
    from nn import MLP

    model = MLP(2, [16, 16, 1], rng=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    page_path = backprop_html(loss, tmp_path / "net.html")
    steps = page_steps(page_path.read_text())
    assert sum(s["phase"] == "forward" for s in steps) == 33  # the neurons, layer by layer
    assert [s["text"].split(" =")[0] for s in steps if s["phase"] == "loss"] == ["e", "loss"]
    assert steps[-1]["phase"] == "update"
    assert steps[0]["text"].startswith("Leaves hold numbers we chose: x1 = 0.5, x2 = -1")
    assert [s["title"] for s in steps[1:3]] == ["Forward: compute L1.n1", "Forward: compute L1.n2"]
    backward = [s["layer"] for s in steps if s["phase"] == "backward" and s["layer"]]
    assert backward == sorted(backward, reverse=True)  # from the output back, layer by layer
    with playwright.sync_playwright() as p:
        browser = _launch(p)
        errors = []
        page = _open(browser, page_path, errors)
        done = next(k for k, s in enumerate(steps) if s["title"] == "Backward: done")
        for _ in range(done):
            page.keyboard.press("ArrowRight")
        assert page.inner_text(COUNTER) == f"step {done + 1} / {len(steps)}"
        boxes = page.evaluate(
            "[...document.querySelectorAll('g.node')].map(g => "
            "[...g.querySelectorAll('text')].map(t => t.textContent))"
        )
        shown = {texts[0].split(":")[0]: texts for texts in boxes if texts}
        for i, layer in enumerate(model.layers):
            for j, neuron in enumerate(layer.neurons):
                texts = shown[f"L{i + 1}.n{j + 1}"]
                for k, w in enumerate(neuron.w):
                    cell = f"w{k + 1} {w.grad:.4g}" if len(neuron.w) > 4 else f"grad {w.grad:.4g}"
                    assert cell in texts, (i, j, k, texts)
                assert f"b {neuron.b.grad:.4g}" in texts or f"grad {neuron.b.grad:.4g}" in texts
        inner = next(k for k, s in enumerate(steps) if s["title"] == "Backward through L2.n4")
        for _ in range(done - inner):  # back to a neuron of 16 inputs: its inner lines open
            page.keyboard.press("ArrowLeft")
        page.check("input[data-act=detail]")
        assert page.inner_text(TEXT).count("\n") == 1 + 16 + 16  # out -> z; w, x; b
        assert page.locator("g.edge.hot").count() >= 1
        page.click(FIRST)
        page.click(NEXT)  # the first forward step lights the edges into its box
        assert page.locator("g.edge.hot").count() == 2 and page.locator("g.node.focus").count() == 1
        OUT.mkdir(exist_ok=True)
        page.screenshot(path=str(OUT / "backprop_network_page.png"))
        browser.close()
    assert errors == []


def test_zooming_the_page_enlarges_the_graph(seed_neuron, tmp_path):
    """Browser zoom shrinks the viewport in CSS pixels and raises the device pixel ratio;
    the drawing keeps its size in CSS pixels, so its text grows on screen."""
    page_path = backprop_html(seed_neuron, tmp_path / "neuron.html")
    with playwright.sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 800})
        page.goto(page_path.as_uri())
        size = "document.querySelector('#graph svg text').getBoundingClientRect().height"
        before = page.evaluate(size)
        page.set_viewport_size({"width": 700, "height": 400})  # what 200% zoom does
        after = page.evaluate(size)
        browser.close()
    assert before > 10  # readable at 100%
    assert after == pytest.approx(before, rel=0.02)  # x2 device pixels: twice as large


def test_clicker_keys_step_and_nothing_shows_before_its_step(seed_neuron, tmp_path):
    page_path = backprop_html(seed_neuron, tmp_path / "neuron.html")
    scene = page_scene(page_path.read_text())
    steps = scene["steps"]
    phases = [s["phase"] for s in steps]
    with playwright.sync_playwright() as p:
        browser = _launch(p)
        errors = []
        page = _open(browser, page_path, errors)
        assert_reveals_in_order(page, scene, "body")  # → from the first step to the last
        assert page.inner_text(COUNTER) == f"step {len(steps)} / {len(steps)}"
        keys = {"Home": 1, "PageDown": 2, " ": 3, "PageUp": 2, "End": len(steps)}
        for key, at in keys.items():
            page.keyboard.press("Space" if key == " " else key)
            assert page.inner_text(COUNTER) == f"step {at} / {len(steps)}", key
        page.keyboard.press("Home")
        for phase in ("forward", "backward", "update"):  # P: the next phase's first step
            page.keyboard.press("p")
            assert page.inner_text(COUNTER) == f"step {phases.index(phase) + 1} / {len(steps)}"
        page.keyboard.press("Shift+P")
        assert page.inner_text(COUNTER) == f"step {phases.index('backward') + 1} / {len(steps)}"
        page.keyboard.press("Home")
        assert "0.9991" not in page.evaluate(PAGE_TEXT, "body")
        page.keyboard.press("a")  # show all, for review: every number at step 1
        assert "data 0.9991" in page.text_content(f"#{scene['root']}")
        assert page.is_visible(".bp-help") is False
        page.keyboard.press("?")
        assert page.is_visible(".bp-help") and "PageDown" in page.inner_text(".bp-help")
        page.keyboard.press("Escape")
        assert not page.is_visible(".bp-help")
        browser.close()
    assert errors == []


def test_projector_page_keeps_the_gradients_receivers_in_view(tmp_path):
    from nn import MLP

    model = MLP(2, [8, 8, 1], "tanh", "tanh", rng=0)
    loss = (model([2.0, 3.0]) - 1.0) ** 2
    page_path = backprop_html(loss, tmp_path / "net.html", theme="projector")
    steps = page_steps(page_path.read_text())
    inside = """() => { const box = document.getElementById("graph").getBoundingClientRect();
      const lit = [...document.querySelectorAll("g.node.focus, g.node.input")]
        .map(g => g.getBoundingClientRect());
      const w = Math.max(...lit.map(r => r.right)) - Math.min(...lit.map(r => r.left));
      const h = Math.max(...lit.map(r => r.bottom)) - Math.min(...lit.map(r => r.top));
      if (w > box.width - 16 || h > box.height - 16) return null;  // cannot all fit
      return lit.every(r => r.left >= box.left && r.right <= box.right
        && r.top >= box.top && r.bottom <= box.bottom); }"""
    with playwright.sync_playwright() as p:
        browser = _launch(p)
        page = _open(browser, page_path, [])
        checked = 0
        # one walk from the first step, PageDown after PageDown as a presenter's clicker
        # goes: each checked step is reached as from a fresh start (a walk from the first
        # step for each of them took ~1,000 presses, and scrolled each the same)
        for k, step in enumerate(steps):
            if step["phase"] == "backward" and step["inputs"]:
                assert page.inner_text(COUNTER) == f"step {k + 1} / {len(steps)}"
                seen = page.evaluate(inside)
                if seen is not None:
                    assert seen, step["title"]
                    checked += 1
            if checked >= 6:
                break
            page.keyboard.press("PageDown")
        browser.close()
    assert checked >= 6
