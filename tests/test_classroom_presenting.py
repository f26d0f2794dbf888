"""The live classroom as a teacher presents it, in a real browser (headless Chromium,
Playwright): every neuron's value readable in the Playground's walk of one point.

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

from test_classroom_layout import NETWORK_PARTS, OVERLAPS, ready  # noqa: E402

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
    total = int(page.inner_text("#pg-backprop .bp-counter").split("/ ")[1])
    for k in range(total):
        values, nodes, problems = page.evaluate(VALUES_OFF_EDGES, "pgbp-svg")
        assert values == nodes and problems == [], (k, values, nodes, problems)
        assert page.evaluate(OVERLAPS, NETWORK_PARTS.format(svg="pgbp-svg")) == [], k
        sizes = page.eval_on_selector_all(
            "#pgbp-svg text.nvalue", "ts => ts.map(t => parseFloat(getComputedStyle(t).fontSize))"
        )
        assert min(sizes) >= 20, sizes
        page.keyboard.press("ArrowRight")
    page.screenshot(path="/tmp/classroom_present_point_walk.png")
