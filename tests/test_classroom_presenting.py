"""The live classroom as a teacher presents it, in a real browser (headless Chromium,
Playwright): the class teacher's panel beside the drawings, never over them; the join card
full-screen for the back row; every neuron's value readable in the Playground's walk of one
point; the Neuron tab's table at 150 % zoom.

Skips cleanly without the classroom extra, Playwright or Debian's `chromium`."""

import shutil

import pytest

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (apt install chromium)"
)

from conftest import serving  # noqa: E402
from test_classroom_layout import NETWORK_PARTS, OVERLAPS, PROJECTOR, ready  # noqa: E402

# Each neuron's value in a drawing: [values, nodes, problems]; a value is inside its own
# neuron, or outside every neuron and off every line (an edge, or a line to the loss).
VALUES_OFF_EDGES = """(id) => {
  const root = document.getElementById(id);
  const nodes = [...root.querySelectorAll('.neuron')], problems = [];
  const values = [...root.querySelectorAll('text.nvalue:not(.lossvalue)')];
  const lines = [...root.querySelectorAll('line')].map(l => ['x1', 'y1', 'x2', 'y2', 'stroke-width']
    .map(k => parseFloat(l.getAttribute(k))));
  const crosses = ([x1, y1, x2, y2, w], r) => {
    const h = w / 2, dx = x2 - x1, dy = y2 - y1; let t0 = 0, t1 = 1;
    for (const [p, q] of [[-dx, x1 - r.x + h], [dx, r.x + r.width + h - x1], [-dy, y1 - r.y + h], [dy, r.y + r.height + h - y1]]) {
      if (p === 0) { if (q < 0) return false; continue; }
      const t = q / p;
      if (p < 0) { if (t > t1) return false; t0 = Math.max(t0, t); } else { if (t < t0) return false; t1 = Math.min(t1, t); }
    }
    return true; };
  const within = (b, n) => b.x >= n.x - 0.5 && b.y >= n.y - 0.5 && b.x + b.width <= n.x + n.width + 0.5 && b.y + b.height <= n.y + n.height + 0.5;
  for (const v of values) {
    const b = v.getBBox();
    if (v.classList.contains('inside')) {
      if (!nodes.some(n => within(b, n.getBBox()))) problems.push([v.textContent, 'outside its neuron']);
    } else if (lines.some(l => crosses(l, b))) problems.push([v.textContent, 'on an edge']);
  }
  return [values.length, nodes.length, problems]; }"""

# One step of a point's walk as assert_every_value_readable reads it, in one evaluation
# (the walk's time is its round trips): VALUES_OFF_EDGES, the parts that overlap, and the
# font size of each neuron's value.
WALK_STEP = f"""() => [
  ({VALUES_OFF_EDGES})("pgbp-svg"),
  ({OVERLAPS})("{NETWORK_PARTS.format(svg="pgbp-svg")}"),
  [...document.querySelectorAll("#pgbp-svg text.nvalue")].map(t => parseFloat(getComputedStyle(t).fontSize))]"""


def open_walk(page, point=(0.3, 0.3)):
    """Click the training point nearest `point` (fractions of the boundary's box) and wait
    for its walk."""
    spot = page.eval_on_selector(
        "#pg-boundary",
        f"c => {{ const r = c.getBoundingClientRect(); return [r.left + {point[0]} * r.width, r.top + {point[1]} * r.height]; }}",
    )
    page.mouse.click(*spot)
    page.wait_for_selector("#pg-backprop:not([hidden]) .bp-counter:has-text('step 1 /')")
    page.locator("#pgbp-what").click()  # the focus on the walk, off every control


@pytest.mark.parametrize(
    "fragment", ["present=true", "present=true&dataset=xor&layers=3&seed=2&lr=0.3"]
)
def test_every_neurons_value_in_a_points_walk_is_readable_off_the_edges(opened, fragment):
    page = opened(f"tab=playground&{fragment}")
    ready(page, "playground")
    open_walk(page)
    assert_every_value_readable(page)
    page.screenshot(path="/tmp/classroom_present_point_walk.png")


def assert_every_value_readable(page):
    """At every step of the open walk: each neuron's value drawn, inside it or off every
    line, at >= 20 px, no label on another."""
    total = int(page.inner_text("#pg-backprop .bp-counter").split("/ ")[1])
    for k in range(total):
        (values, nodes, problems), overlaps, sizes = page.evaluate(WALK_STEP)
        assert values == nodes and problems == [], (k, values, nodes, problems)
        assert overlaps == [], k
        assert min(sizes) >= 20, sizes
        page.keyboard.press("ArrowRight")


# ------------------------------------------------------------------ the class teacher's page
@pytest.fixture
def teacher(browser):
    """teacher(present, zoom=1): the teacher's page of a class at 1280×720 (its secret link, as
    `backproplab class` prints it), with the join code shown; page errors fail the test."""
    pytest.importorskip("segno")
    from viz.classroom.room import Room

    room = Room()
    pages, errors = [], []
    with serving(room=room) as address:
        room.url = f"{address}#join={room.code}"

        def open_(present=True, zoom=1.0):
            page = browser.new_page(
                viewport={
                    "width": round(PROJECTOR[0] / zoom),
                    "height": round(PROJECTOR[1] / zoom),
                },
                device_scale_factor=zoom,
            )
            page.set_default_timeout(30_000)
            page.on("pageerror", lambda e: errors.append(str(e)))
            pages.append(page)
            page.goto(f"{address}#teach={room.token}" + "&present=true" * present)
            page.wait_for_function(
                f"() => document.querySelector('.class-code')?.textContent === '{room.code}'"
            )
            page.room = room
            return page

        yield open_
        for page in pages:
            page.close()
    assert errors == []


BOX = "e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; }"
DRAWINGS = {"neuron": "#neuron-graph", "expression": "#expr-graph", "network": "#net-svg",
            "playground": "#pg-network"}  # fmt: skip


def apart(a, b):
    """Two boxes [left, top, right, bottom] share no area (half a pixel allowed)."""
    return a[2] <= b[0] + 0.5 or b[2] <= a[0] + 0.5 or a[3] <= b[1] + 0.5 or b[3] <= a[1] + 0.5


@pytest.mark.parametrize("present", [True, False])
def test_the_teachers_panel_sits_beside_the_drawings_never_over_them(teacher, present):
    page = teacher(present)
    for tab in ("network", "neuron", "expression", "playground"):
        page.click(f'nav button[data-tab="{tab}"]')
        page.wait_for_selector(f"{DRAWINGS[tab]}:is(svg, div:has(svg, canvas))")
        if tab == "network":
            page.wait_for_selector("#net-player .bp-counter:has-text('step 1 /')")
            page.locator("#net-player").click(position={"x": 2, "y": 2})
            page.keyboard.press("End")  # every number drawn
        page.wait_for_timeout(200)
        panel = page.eval_on_selector("#class-panel", BOX)
        assert panel[2] <= PROJECTOR[0] + 0.5 and panel[3] <= PROJECTOR[1] + 0.5, panel
        for sel in (f"#tab-{tab}", DRAWINGS[tab], "#pg-boundary" if tab == "playground" else None):
            if sel:
                assert apart(page.eval_on_selector(sel, BOX), panel), (tab, sel)
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), tab
        if tab == "network":  # laid out in the width it is given, every label inside it
            svg = page.eval_on_selector(
                "#net-svg", "s => [s.clientWidth, +s.getAttribute('viewBox').split(' ')[2]]"
            )
            assert abs(svg[0] - svg[1]) <= 1, svg
            assert page.evaluate(OVERLAPS, NETWORK_PARTS.format(svg="net-svg")) == []
            page.screenshot(path=f"/tmp/classroom_teacher_network{'_present' * present}.png")
    # folded: a narrow column, and the drawing takes the width it gave back
    page.click('nav button[data-tab="network"]')
    wide = page.eval_on_selector("#net-svg", "s => s.clientWidth")
    page.click("#class-fold")
    page.wait_for_function(f"() => document.getElementById('net-svg').clientWidth > {wide}")
    page.wait_for_function(
        "() => { const s = document.getElementById('net-svg');"
        " return +s.getAttribute('viewBox').split(' ')[2] === s.clientWidth; }"
    )
    assert apart(page.eval_on_selector("#net-svg", BOX), page.eval_on_selector("#class-panel", BOX))
    assert page.is_visible("#class-reveal") and page.inner_text("#class-fold") == "Unfold"
    assert page.is_hidden("#class-ask") and page.is_visible(".class-code")
    page.click("#class-fold")
    page.wait_for_function(f"() => document.getElementById('net-svg').clientWidth === {wide}")


def test_the_join_card_fills_the_window_from_its_key_and_a_menu_never_takes_it(teacher):
    page = teacher(present=True)
    page.click('nav button[data-tab="network"]')
    page.wait_for_selector("#net-player .bp-counter:has-text('step 1 /')")
    counter = page.inner_text("#net-player .bp-counter")
    assert page.is_hidden("#class-card")
    for menu in ("#net-activation", "#class-kind"):  # a focused menu: J is the card's
        chosen = page.input_value(menu)
        page.focus(menu)
        page.keyboard.press("j")
        assert page.is_visible("#class-card"), menu
        assert page.input_value(menu) == chosen
        page.keyboard.press("j")  # the same key closes it
        assert page.is_hidden("#class-card"), menu
    assert page.inner_text("#net-player .bp-counter") == counter  # no step taken
    page.keyboard.press("J")
    card = page.evaluate(
        """() => { const q = document.querySelector('#class-card .class-card-qr svg').getBoundingClientRect();
          const c = document.querySelector('#class-card .class-card-code');
          return [q.width, q.height, q.right <= innerWidth && q.bottom <= innerHeight, c.textContent,
                  parseFloat(getComputedStyle(c).fontSize), c.getBoundingClientRect().right <= innerWidth,
                  document.querySelector('#class-card .class-card-url').textContent]; }"""
    )
    qr_w, qr_h, qr_inside, code, code_px, code_inside, url = card
    assert qr_h >= 0.6 * PROJECTOR[1] and qr_w >= 0.6 * PROJECTOR[1] and qr_inside, card
    assert code == page.room.code and code_px >= 100 and code_inside, card
    assert url.endswith(f"#join={page.room.code}"), url
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path="/tmp/classroom_join_card.png")
    page.keyboard.press("Escape")
    assert page.is_hidden("#class-card")
    # typing a j in a field is typing; the button and the QR code show the card too
    page.click("#class-target")
    page.keyboard.type("j")
    assert page.input_value("#class-target") == "j" and page.is_hidden("#class-card")
    page.click("#class-show-join")
    assert page.is_visible("#class-card")
    page.click("#class-card")
    assert page.is_hidden("#class-card")
    page.click("#class-join .class-qr")
    assert page.is_visible("#class-card")


def test_beside_the_panel_a_points_walk_still_draws_every_neurons_value(teacher):
    page = teacher(present=True)
    page.click('nav button[data-tab="playground"]')
    page.wait_for_selector("#pg-network canvas")
    open_walk(page)
    walk, panel = (page.eval_on_selector(s, BOX) for s in ("#pgbp-svg", "#class-panel"))
    assert apart(walk, panel), (walk, panel)
    assert_every_value_readable(page)


def test_zoomed_to_150_percent_the_network_takes_the_width_beside_the_panel(teacher):
    page = teacher(present=True, zoom=1.5)  # 853x480 CSS px
    page.click('nav button[data-tab="network"]')
    page.wait_for_selector("#net-player .bp-counter:has-text('step 1 /')")
    page.wait_for_timeout(200)
    panel, svg = (page.eval_on_selector(s, BOX) for s in ("#class-panel", "#net-svg"))
    assert apart(panel, svg) and svg[2] - svg[0] >= 0.5 * (panel[0] - 0), (panel, svg)
    assert svg[3] - svg[1] >= 200, svg
    assert page.evaluate(OVERLAPS, NETWORK_PARTS.format(svg="net-svg")) == []
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_a_phone_in_presenter_mode_shows_one_tab_and_scrolls(opened):
    page = opened("tab=network&present=true", size=(390, 844))
    ready(page, "network")
    shown = page.eval_on_selector_all(
        ".tab", "ts => ts.filter(t => t.getClientRects().length).map(t => t.id)"
    )
    assert shown == ["tab-network"]
    boxes = [
        page.eval_on_selector(s, BOX) for s in ("#tab-network .bp-panel", "#tab-network .side")
    ]
    assert apart(*boxes), boxes  # the walk's text and the settings: one under the other
    # small circles: a value that fits one is still inside it (x1 = 2, x2 = 3)
    inside = page.eval_on_selector_all(
        "#net-svg text.nvalue.inside", "ts => ts.map(t => t.textContent)"
    )
    assert "2" in inside and "3" in inside, inside


@pytest.mark.parametrize("present", [True, False])
def test_the_neuron_tables_after_column_fits_its_panel_at_150_percent(opened, present):
    page = opened("tab=neuron" + "&present=true" * present, zoom=1.5)  # 853x480 CSS px
    ready(page, "neuron")
    page.keyboard.press("End")  # every column filled, the "after" one too
    page.wait_for_timeout(100)
    side = page.eval_on_selector(
        "#tab-neuron .side", "s => [s.scrollWidth - s.clientWidth, s.getBoundingClientRect().right]"
    )
    assert side[0] <= 0, side  # nothing to scroll sideways
    table = page.eval_on_selector("#neuron-grads", BOX)
    assert table[2] <= side[1], (table, side)
    after = page.eval_on_selector_all(
        "#neuron-grads tr[data-name] td:last-child", "ts => ts.map(t => t.textContent)"
    )
    assert "-0.003638" in after, after
    if present:
        sizes = page.eval_on_selector_all(
            "#neuron-grads td", "ts => ts.map(t => parseFloat(getComputedStyle(t).fontSize))"
        )
        assert min(sizes) >= 20, sizes
    # the big number on one line, whole, inside its column
    lines = page.evaluate(
        """() => { const e = document.getElementById('neuron-out'), r = document.createRange();
          r.selectNodeContents(e); const m = e.closest('.main').getBoundingClientRect();
          const b = e.getBoundingClientRect();
          return [new Set([...r.getClientRects()].map(x => Math.round(x.top))).size, b.left >= m.left - 1 && b.right <= m.right + 1]; }"""
    )
    assert lines == [1, True], lines
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def test_on_a_phone_the_boundary_sits_under_the_loss_numbers_the_curve_below_it(opened):
    page = opened("tab=playground", size=(390, 844))
    ready(page, "playground")
    numbers, boundary, curve = (
        page.eval_on_selector(s, BOX) for s in (".lossline", "#pg-boundary", "#pg-curve")
    )
    assert 0 <= boundary[1] - numbers[3] <= 16, (numbers, boundary)  # no empty chart between
    assert curve[1] >= boundary[3], (boundary, curve)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    page.screenshot(path="/tmp/classroom_phone_playground_epoch0.png")
