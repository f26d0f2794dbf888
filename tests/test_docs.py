"""The docs site: `mkdocs build --strict` (as `make docs` runs it) succeeds with no warning,
and the pages hold the lessons (run, with their outputs and pictures) and the API read from
the docstrings; formulas are MathML and no page loads anything from the network.

Skips cleanly without the `docs` extra."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")
pytest.importorskip("mkdocs_jupyter")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,  # the eight lessons run, two at a time
    )
    assert done.returncode == 0, done.stderr
    # mkdocs's own warnings (a kernel's log lines, "[IPKernelApp] WARNING", are not the site's)
    warnings = [line for line in done.stderr.splitlines() if line.startswith("WARNING")]
    assert not warnings, warnings
    return out


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_home_page_links_every_part(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "0.9990889488055994" in home
    for link in ("lessons/", "api/autograd/", "api/nn/", "api/viz/", "classroom/"):
        assert link in home
    assert (site / "classroom-neuron.png").exists()  # the README pictures are kept


def test_api_pages_come_from_the_docstrings(site):
    autograd = page(site, "api/autograd")
    assert "trace_backward" in autograd and "gradcheck" in autograd
    assert "one public walk of the chain rule" in autograd or "BackwardStep" in autograd
    nn = page(site, "api/nn")
    assert "MLP" in nn and "Adam" in nn and "fit" in nn
    viz = page(site, "api/viz")
    assert "draw_dot" in viz and "backprop_html" in viz and "NeuronWidget" in viz


def test_every_lesson_is_a_page(site):
    first = page(site, "lessons/01_neuron")
    assert "1. The neuron" in first
    for name in sorted(p.stem for p in (ROOT / "lessons").glob("*.ipynb")):
        assert (site / "lessons" / name / "index.html").exists(), name
    assert "Write your own op" in page(site, "lessons/08_your_own_op")


def test_lesson_pages_show_their_outputs_and_pictures(site):
    backprop = page(site, "lessons/04_backprop")
    assert "0.0027306635403653522" in backprop  # printed by a cell: the lesson was run
    assert "every gradient as by hand: True" in backprop
    assert backprop.count('src="data:image/svg+xml;base64,') >= 2  # draw_dot, draw_mlp
    boundary = page(site, "lessons/05_classification")
    assert "prediction   : rose" in boundary
    assert 'src="data:image/png;base64,' in boundary  # a matplotlib picture


def test_widgets_become_a_note_on_the_static_pages(site):
    for name, widget in (
        ("01_neuron", "NeuronWidget"),
        ("02_feedforward", "NetworkWidget"),
        ("04_backprop", "NetworkWidget"),
        ("07_playground", "PlaygroundWidget"),
    ):
        html = page(site, f"lessons/{name}")
        assert f"A live widget, <code>{widget}</code>" in html, name
        assert "widget-view+json" not in html, name  # nothing left for a widget manager
    assert "the widget after 100 epochs" not in page(site, "lessons/01_neuron")
    assert "07_widget_spiral.png" in page(site, "lessons/07_playground")


def test_formulas_are_mathml_made_at_build_time(site):
    for name, tex in (
        ("lessons/04_backprop", r"\partial"),
        ("lessons/03_training", r"\frac"),
        ("getting-started", r"\sum"),
    ):
        html = page(site, name)
        assert re.search(r'<math\b[^>]*xmlns="http://www.w3.org/1998/Math/MathML"', html), name
        assert "<mfrac>" in html, name
        assert tex not in html, f"{name} still holds raw TeX ({tex})"
    assert '<span class="arithmatex">' not in page(site, "getting-started")


EXTERNAL = re.compile(
    r"<script\b[^>]*\bsrc=[\"']?(?:https?:)?//"  # a script from elsewhere
    r"|<link\b[^>]*\bhref=[\"']?(?:https?:)?//[^>]*>"  # a stylesheet, font, preload ...
    r"|\bimport\s*\(?\s*[\"'](?:https?:)?//"  # a module imported from elsewhere
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\(\s*[\"']?(?:https?:)?//",
    re.I,
)


def test_no_page_loads_a_script_or_style_from_the_network(site):
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 10
    for path in pages:
        html = path.read_text(encoding="utf-8")
        found = EXTERNAL.search(html)
        assert found is None, f"{path.relative_to(site)}: {found and found.group(0)}"
        assert "MathJax" not in html and "mermaid" not in html.lower(), path.relative_to(site)


def test_a_formula_renders_in_chromium_with_no_request_leaving_the_site(site):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    chromium = "/usr/bin/chromium"
    if not Path(chromium).exists():
        pytest.skip("no Chromium at /usr/bin/chromium")
    url = (site / "lessons" / "04_backprop" / "index.html").as_uri()
    elsewhere = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page(viewport={"width": 1280, "height": 720})
        tab.on("request", lambda r: r.url.startswith("file:") or elsewhere.append(r.url))
        tab.goto(url, wait_until="load")
        boxes = tab.eval_on_selector_all(
            "math mfrac",
            "all => all.map(f => { const r = f.getBoundingClientRect();"
            " return [r.width, r.height, f.children[0].getBoundingClientRect().bottom,"
            " f.children[1].getBoundingClientRect().top]; })",
        )
        browser.close()
    assert not [u for u in elsewhere if not u.startswith("data:")], elsewhere
    assert len(boxes) >= 5
    for width, height, top_bottom, bottom_top in boxes:  # laid out as fractions
        assert width > 5 and height > 15
        assert top_bottom <= bottom_top + 1  # the numerator above the denominator


def _hooks():
    import importlib.util

    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_formula_that_is_not_plain_mathml_stays_text_and_warns(caplog):
    mathml = _hooks().mathml
    assert mathml(r"\frac{a}{b}", "block").startswith('<math xmlns="http://www.w3.org/1998/Math/')
    assert "displaystyle" in mathml(r"\dfrac{a}{b}")  # mstyle's attributes are MathML too
    for tex, why in (
        (r"\frac{", "NoAvailableTokensError"),
        (r"\text{<img src=x onerror=alert(1)>}", "not well-formed"),  # copied through as markup
        (r"\text{<b>bold</b>}", "<b> is not MathML"),
        (r"\cdott x", "unknown command"),  # a typo latex2mathml would print as \cdott
        (r"\href{javascript:alert(1)}{x}", "attribute"),
    ):
        caplog.clear()
        out = mathml(tex)
        assert "<" not in out and "&lt;" in out or out == tex, out  # escaped text, no markup
        assert [r.levelname for r in caplog.records] == ["WARNING"], tex
        assert why in caplog.records[0].getMessage(), caplog.records[0].getMessage()
