"""The live classroom's layout in a real browser (headless Chromium, Playwright): presenter
mode at a projector's 1280×720, a 390×844 phone, browser zoom (device scale, as Chromium
zooms: fewer CSS px, more device px each), no drawing element on another, the Playground's
backprop of one point and its gradient strip, and the keys and fields of the controls.

Skips cleanly without the classroom extra, Playwright or Debian's `chromium`."""

import shutil

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (apt install chromium)"
)

from nn import playground as pg  # noqa: E402
from viz.classroom.trainer import Trainer  # noqa: E402

TABS = ("neuron", "expression", "network", "playground")
PROJECTOR, PHONE = (1280, 720), (390, 844)


def ready(page, tab):
    """Wait for the tab's first answer from the server."""
    if tab == "playground":
        page.wait_for_function("() => document.getElementById('pg-epoch').textContent === '000000'")
        page.wait_for_selector("#pg-network canvas")
    else:
        page.wait_for_selector(f"#tab-{tab} .bp-counter:has-text('step')")
    if tab in ("neuron", "expression"):
        page.wait_for_selector(f"#tab-{tab} .graph svg g.node")


FONT_PX = "(sel) => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length).map(e => parseFloat(getComputedStyle(e).fontSize))"

# What a student reads on each tab: the step's text, the key numbers, the tables.
READ = {
    "neuron": ["#tab-neuron .bp-text", "#tab-neuron .bp-title", "#neuron-out", "#neuron-formula",
               "#neuron-grads td", "#neuron-loss"],
    "expression": ["#tab-expression .bp-text", "#tab-expression .bp-title", "#expr-out",
                   "#expr-grads td"],
    "network": ["#tab-network .bp-text", "#tab-network .bp-title", "#net-output", "#net-loss",
                "#net-table td", "#net-svg text"],
    "playground": ["#pg-epoch", "#pg-test-loss", "#pg-train-loss", "#pg-test-acc",
                   "#pg-train-acc"],
}  # fmt: skip

# Two elements' boxes overlap (by more than half a pixel each way).
OVERLAPS = """(sel) => {
  const boxes = [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length)
    .map(e => [e, e.getBoundingClientRect()]);
  const out = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const [a, p] = boxes[i], [b, q] = boxes[j];
    if (p.left < q.right - 0.5 && q.left < p.right - 0.5 && p.top < q.bottom - 0.5 && q.top < p.bottom - 0.5)
      out.push([a.textContent || a.getAttribute('data-id') || a.tagName, b.textContent || b.getAttribute('data-id') || b.tagName]);
  }
  return out; }"""
NETWORK_PARTS = "#{svg} circle, #{svg} rect, #{svg} text:not(.inside)"
# What the label walk reads of the Network tab at one step, in one evaluation (the walk's
# time is its round trips): the overlapping parts, the drawing's [bottom, height], whether
# the page fits the window's height, and how many weights are written on the edges.
NETWORK_STEP = f"""(sel) => {{ const r = document.getElementById("net-svg").getBoundingClientRect();
  return {{ overlaps: ({OVERLAPS})(sel), box: [r.bottom, r.height],
    fits: document.documentElement.scrollHeight <= innerHeight,
    weights: document.querySelectorAll("#net-svg .wlabel").length }}; }}"""
PLAYGROUND_PARTS = "#pg-network .pg-node, #pg-network .pg-flabel, #pg-network .pg-layerctl, .pg-layerrow .pg-layerctl"


def test_presenter_mode_comes_from_the_url_the_toggle_and_the_key(opened):
    page = opened("tab=network&present=true")
    ready(page, "network")
    page.wait_for_function("() => document.documentElement.classList.contains('present')")
    assert page.is_checked("#page-present") and "present=true" in page.url
    page.locator("body").click(position={"x": 5, "y": 700})
    page.keyboard.press("f")
    assert not page.evaluate("document.documentElement.classList.contains('present')")
    assert "present" not in page.url and not page.is_checked("#page-present")
    page.check("#page-present")
    assert page.evaluate("document.documentElement.classList.contains('present')")
    page.focus("#net-x")  # typing an f in a field is typing
    page.keyboard.press("f")
    assert page.evaluate("document.documentElement.classList.contains('present')")


@pytest.mark.parametrize("tab", TABS)
def test_presenter_mode_at_1280x720_prints_big_and_fits_the_window(opened, tab):
    page = opened(f"tab={tab}&present=true")
    ready(page, tab)
    page.wait_for_function("() => document.documentElement.classList.contains('present')")
    if tab != "playground":
        page.keyboard.press("End")  # every number shown
        page.keyboard.press("ArrowLeft")
    page.wait_for_timeout(100)
    for sel in READ[tab]:
        sizes = page.evaluate(FONT_PX, sel)
        assert sizes and min(sizes) >= 20, (sel, sizes)
    # the top bar is one line; the page does not scroll; the drawing is in view
    tops = page.eval_on_selector_all(
        "header > *:not([hidden])",
        "es => es.map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))",
    )
    assert max(tops) - min(tops) <= 4, tops
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight"), tab
    drawing = {"neuron": "#neuron-graph", "expression": "#expr-graph", "network": "#net-svg",
               "playground": "#pg-network"}[tab]  # fmt: skip
    box = page.eval_on_selector(
        drawing, "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom, r.height]; }"
    )
    assert box[1] <= 720 and box[2] >= 150, box
    if tab in ("neuron", "expression"):  # fitted: the graph never scrolls
        scroll = page.eval_on_selector(
            drawing, "e => [e.scrollWidth - e.clientWidth, e.scrollHeight - e.clientHeight]"
        )
        assert scroll[0] <= 1 and scroll[1] <= 1, scroll
    page.screenshot(path=f"/tmp/classroom_present_{tab}.png")
    if tab != "playground":  # the last step's text is the longest (the update): still fits
        page.keyboard.press("End")
        page.wait_for_timeout(100)
        assert page.evaluate("document.documentElement.scrollHeight <= innerHeight"), tab
        height = page.eval_on_selector(drawing, "e => e.getBoundingClientRect().height")
        assert height >= 150, height


@pytest.mark.parametrize("tab", ["neuron", "expression"])
def test_presenter_mode_zoomed_to_150_percent_shows_the_steps_text_whole(opened, tab):
    page = opened(f"tab={tab}&present=true", zoom=1.5)  # 853x480 CSS px
    ready(page, tab)
    page.keyboard.press("End")  # the longest text: every line of the update (the last step)
    page.wait_for_timeout(100)
    panel = f"#tab-{tab} .bp-panel"
    cut = page.eval_on_selector(panel, "e => e.scrollHeight - e.clientHeight")
    assert cut <= 1, cut  # never a line cut in half, to be scrolled inside the box
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    graph = {"neuron": "#neuron-graph", "expression": "#expr-graph"}[tab]
    height = page.eval_on_selector(graph, "e => e.getBoundingClientRect().height")
    assert height >= 0.9 * 480 - 24, height  # scrolled to, it fills the window


def test_a_small_neurons_value_is_drawn_under_it_when_the_circle_cannot_hold_it(opened):
    page = opened("tab=network&present=true", zoom=1.5)  # circles too small for 0.9526
    ready(page, "network")
    page.keyboard.press("p")  # the loss step: no neuron is the step's own
    page.keyboard.press("p")
    page.wait_for_timeout(100)
    values = page.eval_on_selector_all(
        "#net-svg text.nvalue:not(.lossvalue)", "ts => ts.map(t => t.textContent)"
    )
    assert values.count("0.9526") >= 1 and "2" in values and "3" in values, values
    assert page.evaluate(OVERLAPS, NETWORK_PARTS.format(svg="net-svg")) == []


@pytest.mark.parametrize("tab", TABS)
def test_a_phone_uses_every_tab_without_scrolling_sideways(opened, tab):
    page = opened(f"tab={tab}", size=PHONE)
    ready(page, tab)
    page.wait_for_timeout(100)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1).slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    small = page.evaluate(
        f"""() => [...document.querySelectorAll('#tab-{tab} button, #tab-{tab} select, #tab-{tab} input, header button, header label')]
      .filter(e => e.getClientRects().length && !e.closest('[hidden]') && !e.closest('details:not([open])'))
      .map(e => [e, e.type === 'checkbox' || e.type === 'file' ? e.closest('label') || e : e])
      .map(([e, target]) => [e.id || e.textContent.trim() || e.type, target.getBoundingClientRect()])
      .filter(([, r]) => r.height < 40 || r.width < 40).map(([name, r]) => [name, Math.round(r.width), Math.round(r.height)])"""
    )
    assert small == [], small
    # the step's text and the key numbers as large as on the projector (tables and the
    # drawing scale to the phone's width)
    for sel in [s for s in READ[tab] if not s.endswith(" td") and "svg" not in s]:
        sizes = page.evaluate(FONT_PX, sel)
        assert sizes and min(sizes) >= 20, (sel, sizes)
    page.screenshot(path=f"/tmp/classroom_phone_{tab}.png", full_page=True)


@pytest.mark.parametrize("present", [False, True])
def test_a_phone_shows_every_tab_of_the_nav_whole_and_apart(opened, present):
    page = opened("tab=network" + "&present=true" * present, size=PHONE)
    boxes = page.evaluate(
        """() => [...document.querySelectorAll('nav button')].map(b => {
          const r = b.getBoundingClientRect();
          return [b.textContent, r.left, r.top, r.right, r.bottom]; })"""
    )
    assert len(boxes) == len(TABS)
    for name, left, top, right, bottom in boxes:
        assert 0 <= left < right <= PHONE[0] and 0 <= top < bottom <= PHONE[1], (name, left, right)
    for i, (a, *p) in enumerate(boxes):
        for b, *q in boxes[i + 1 :]:
            apart = p[2] <= q[0] or q[2] <= p[0] or p[3] <= q[1] or q[3] <= p[1]
            assert apart, (a, b)
    assert page.evaluate("(n => n.scrollWidth <= n.clientWidth)(document.querySelector('nav'))")


def text_height(page, selector):
    """The rendered height of the first element matching selector, in device pixels."""
    return page.eval_on_selector(
        selector, "e => e.getBoundingClientRect().height * devicePixelRatio"
    )


def test_zoom_makes_the_network_larger_never_smaller(opened):
    heights = {}
    for zoom in (1.0, 1.5, 2.0):
        page = opened("tab=network", zoom=zoom)
        ready(page, "network")
        page.wait_for_selector("#net-svg text.nname")
        heights[zoom] = text_height(page, "#net-svg text.nname")
        assert page.evaluate(OVERLAPS, NETWORK_PARTS.format(svg="net-svg")) == []
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        pg_page = opened("tab=playground", zoom=zoom)
        ready(pg_page, "playground")
        assert pg_page.evaluate(OVERLAPS, PLAYGROUND_PARTS) == [], zoom
        assert pg_page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    assert heights[1.5] >= heights[1.0] and heights[2.0] >= heights[1.0], heights
    assert heights[2.0] > 1.5 * heights[1.0], heights


@pytest.mark.parametrize("present", [False, True])
def test_no_label_of_the_network_sits_on_another_at_any_step(opened, present):
    for sizes, target in (("2,2,1", "1"), ("2,3,2", "1,0"), ("2,8,8,1", "1")):
        page = opened(f"tab=network&sizes={sizes}&target={target}" + "&present=true" * present)
        page.wait_for_selector("#tab-network .bp-counter:has-text('step 1 /')")
        total = int(page.inner_text("#tab-network .bp-counter").split("/ ")[1])
        page.locator("body").click(position={"x": 5, "y": 700})
        for k in range(total):
            shown = page.evaluate(NETWORK_STEP, NETWORK_PARTS.format(svg="net-svg"))
            assert shown["overlaps"] == [], (sizes, k, shown["overlaps"])
            if sizes == "2,8,8,1":  # the drawing stays above the fold, whole, at every step
                box = shown["box"]
                assert box[0] <= 720 and box[1] >= 250, (k, box)
                assert shown["fits"], k
            if k == total // 2 and sizes == "2,2,1":  # the weights are written on the edges
                assert shown["weights"] == 6
            page.keyboard.press("ArrowRight")


def test_no_part_of_the_playgrounds_network_sits_on_another(opened):
    for size, zoom, fragment in [
        (PROJECTOR, 1.0, "layers=8,8,8,8,8,8&features=x,y,xy,x2,y2,sinx,siny"),
        (PROJECTOR, 1.0, "layers=8,8,8,8,8,8&present=true"),
        (PHONE, 1.0, "layers=8,8,8,8,8,8"),
        (PHONE, 1.0, "layers=4,2"),
        (PROJECTOR, 1.5, "layers=8,8,8,8,8,8"),
    ]:
        page = opened(f"tab=playground&{fragment}", size=size, zoom=zoom)
        ready(page, "playground")
        assert page.evaluate(OVERLAPS, PLAYGROUND_PARTS) == [], (size, zoom, fragment)
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), fragment


def test_a_clicked_training_point_steps_through_the_network_to_its_update(opened):
    page = opened("tab=playground&dataset=xor&layers=3&seed=2&lr=0.3")
    ready(page, "playground")
    page.click("#pg-step")  # one epoch: the network the walk goes through is a trained one
    page.wait_for_function("() => document.getElementById('pg-epoch').textContent === '000001'")
    t = Trainer({"dataset": "xor", "layers": [3], "seed": 2, "lr": 0.3})
    t.step()
    k = 7
    x, y = t.X_train[k]
    spot = page.eval_on_selector(
        "#pg-boundary",
        f"""c => {{ const r = c.getBoundingClientRect(), at = v => (v + 6) / 12;
        return [r.left + at({x}) * r.width, r.top + (1 - at({y})) * r.height]; }}""",
    )
    page.mouse.click(*spot)
    page.wait_for_selector("#pg-backprop:not([hidden]) .bp-counter:has-text('step 1 /')")
    assert page.inner_text("#pgbp-what").startswith(f"training point {k + 1}:")
    page.keyboard.press("End")
    assert page.inner_text("#pg-backprop .bp-phase") == "update"
    # the engine, on that point alone: ½(out − y)², one SGD step of lr
    model = t.model
    model.zero_grad()
    pg.square_error(model(t.F_train[k : k + 1]), t.y_train[k : k + 1]).backward()
    after = {}
    for li, layer in enumerate(model.layers):
        new_w = layer.W.data - 0.3 * layer.W.grad
        new_b = layer.b.data - 0.3 * layer.b.grad
        for j in range(layer.W.shape[1]):
            after[f"L{li + 1}.n{j + 1}.b"] = new_b[j]
            for i in range(layer.W.shape[0]):
                after[f"L{li + 1}.n{j + 1}.w{i + 1}"] = new_w[i, j]
    shown = page.eval_on_selector_all(
        "#pgbp-table tr[data-name]", "rs => rs.map(r => [r.dataset.name, r.cells[3].textContent])"
    )
    assert {name for name, _ in shown} == set(after)
    for name, text in shown:
        assert float(text) == pytest.approx(after[name], rel=5e-4, abs=1e-12), name
    output = float(page.inner_text("#pgbp-output"))
    assert output == pytest.approx(float(model(t.F_train[k : k + 1]).data[0, 0]), rel=1e-12)
    page.click("#pgbp-close")
    assert page.is_hidden("#pg-backprop")


def test_the_gradient_strip_shows_a_deep_sigmoid_nets_vanishing_gradients(opened):
    layers = [8, 8, 8, 8, 8, 8]
    page = opened(f"tab=playground&layers={','.join(map(str, layers))}&activation=sigmoid")
    ready(page, "playground")
    sizes = Trainer({"layers": layers, "activation": "sigmoid"}).frame()["gradient_sizes"]
    assert sizes[0] < 1e-3 * sizes[-1]  # orders of magnitude
    shown = page.eval_on_selector_all(
        "#pg-strip .strip-layer",
        "cs => cs.map(c => [c.dataset.layer, c.querySelector('.strip-value').textContent, c.querySelector('.strip-fill').getBoundingClientRect().width])",
    )
    assert [name for name, _, _ in shown] == [f"L{i + 1}" for i in range(len(layers) + 1)]
    for (_, text, _), size in zip(shown, sizes):
        assert float(text) == pytest.approx(size, rel=1e-3)
    widths = [w for _, _, w in shown]
    assert widths[0] < widths[-1] and widths == sorted(widths)


def test_a_reply_never_overwrites_a_field_being_typed_in(opened):
    page = opened("tab=network")
    ready(page, "network")
    page.click("#net-x")
    page.keyboard.press("End")
    page.keyboard.type(", 7")  # the user is typing a third input, not done yet
    # meanwhile another setting changes and the server answers with every setting
    page.eval_on_selector(
        "#net-activation", "s => { s.value = 'tanh'; s.dispatchEvent(new Event('change')); }"
    )
    page.wait_for_function("() => location.hash.includes('activation=tanh')")
    page.wait_for_timeout(100)
    assert page.input_value("#net-x") == "2, 3, 7"
    page.keyboard.press("Enter")  # done: the server's answer is taken (one x per input)
    page.wait_for_function("() => document.getElementById('net-x').value === '2, 3'")


def test_a_clicked_slider_takes_its_arrow_keys_a_clicker_still_steps(opened):
    page = opened("tab=neuron")
    ready(page, "neuron")
    names = page.eval_on_selector_all("#neuron-params .pname", "ps => ps.map(p => p.textContent)")
    assert names == ["x1", "w1", "x2", "w2", "b"]  # the walk's names (nn.names)
    # focused by the keyboard (Tab), a slider is not moved by ← →: they step
    page.focus("#neuron-b-range")
    b = page.input_value("#neuron-b-range")
    page.keyboard.press("Home")
    page.keyboard.press("ArrowRight")
    assert page.input_value("#neuron-b-range") == b
    assert page.inner_text("#tab-neuron .bp-counter").startswith("step 2 /")
    counter = page.inner_text("#tab-neuron .bp-counter")
    page.click("#neuron-w2-range")
    before = float(page.input_value("#neuron-w2-range"))
    page.keyboard.press("ArrowRight")
    assert float(page.input_value("#neuron-w2-range")) == pytest.approx(before + 0.1)
    assert page.inner_text("#tab-neuron .bp-counter") == counter
    page.keyboard.press("PageUp")  # a clicker's key steps the walk
    assert page.inner_text("#tab-neuron .bp-counter") != counter
    assert float(page.input_value("#neuron-w2-range")) == pytest.approx(before + 0.1)


def test_presenter_mode_zooms_a_graph_into_the_steps_boxes(opened):
    page = opened("tab=expression&present=true")
    ready(page, "expression")
    full = page.eval_on_selector("#expr-graph svg", "s => s.dataset.fullView")
    views = set()
    for _ in range(8):
        page.keyboard.press("ArrowRight")
        views.add(page.eval_on_selector("#expr-graph svg", "s => s.getAttribute('viewBox')"))
        # the step's box is inside the window, its type at least the theme's 24 px
        inside = page.evaluate(
            """() => { const g = document.getElementById('expr-graph').getBoundingClientRect();
            const r = document.querySelector('#expr-graph g.focus').getBoundingClientRect();
            return r.left >= g.left - 1 && r.right <= g.right + 1 && r.top >= g.top - 1 && r.bottom <= g.bottom + 1; }"""
        )
        assert inside, page.inner_text("#tab-expression .bp-title")
        sizes = page.eval_on_selector_all(
            "#expr-graph g.focus text", "ts => ts.map(t => t.getBoundingClientRect().height)"
        )
        assert sizes and min(sizes) >= 20, sizes
    assert len(views) > 1 and full not in views
    page.keyboard.press("f")  # presenter mode off: the whole drawing again
    page.keyboard.press("ArrowLeft")
    assert page.eval_on_selector("#expr-graph svg", "s => s.getAttribute('viewBox')") == full
    assert np.isfinite(float(full.split()[2]))
