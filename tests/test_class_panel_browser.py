"""The class panel on the projector, in a real browser: the teacher's page as `class` opens
it (presenter mode, 1280×720, the panel a column beside the tabs), students answering over
WebSockets; the answers' histogram must be readable from the back of the room.

Skips cleanly without the classroom extra, Playwright or Debian's `chromium`."""

import contextlib
import json
import shutil

import pytest
from conftest import serving

pytest.importorskip("segno")
pytest.importorskip("uvicorn")
ws_client = pytest.importorskip("websockets.sync.client")
pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    (shutil.which("chromium") or shutil.which("chromium-browser")) is None,
    reason="no chromium binary (apt install chromium)",
)

from viz.classroom.room import Room  # noqa: E402

BOXES = """sel => [...document.querySelectorAll(sel)].map(e => {
  const r = e.getBoundingClientRect(); return [e.textContent, r.left, r.top, r.right, r.bottom]; })"""


def _until(ws, kind):
    while True:
        message = json.loads(ws.recv(timeout=30))
        assert message["type"] != "error", message
        if message["type"] == kind and message.get("question", True):
            return message


def _overlap(a, b):
    return not (a[3] <= b[1] or b[3] <= a[1] or a[4] <= b[2] or b[4] <= a[2])


@contextlib.contextmanager
def _asking_three(browser):
    """The teacher's page (presenter mode, 1280×720, the Network tab) with Ada, Grace and
    Alan joined over WebSockets and "∂loss/∂L2.n1.w1?" asked; ``page.errors`` its errors."""
    room = Room()
    with serving(room=room) as address:
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.set_default_timeout(30_000)
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        try:
            page.goto(f"{address}#teach={room.token}&present=true")
            page.wait_for_selector(f".class-code:has-text('{room.code}')")
            page.click('nav button[data-tab="network"]')
            page.wait_for_selector("#net-player .bp-counter:has-text('step 1 /')")
            ws_address = address.replace("http", "ws") + "ws"
            with (
                ws_client.connect(ws_address) as ada,
                ws_client.connect(ws_address) as grace,
                ws_client.connect(ws_address) as alan,
            ):
                students = (ada, grace, alan)
                for ws, name in zip(students, ("Ada", "Grace", "Alan")):
                    ws.send(json.dumps({"type": "class.join", "code": room.code, "name": name}))
                    _until(ws, "class.joined")
                page.fill("#class-target", "L2.n1.w1")
                page.click("#class-ask")
                yield page, students
        finally:
            page.close()


def _answer(page, students):
    for ws, value in zip(students, (-0.3, -0.1, 0.2)):
        asked = _until(ws, "class.question")["question"]
        ws.send(json.dumps({"type": "class.answer", "question": asked["id"], "value": value}))
    page.wait_for_selector(".class-count:has-text('3 of 3 answered')")


def test_the_docked_panels_histogram_is_readable_and_its_labels_apart(browser):
    with _asking_three(browser) as (page, students):
        _answer(page, students)
        page.click("#class-reveal")
        page.wait_for_selector(".class-histogram .truthlab")
        labels = page.evaluate(BOXES, ".class-histogram .lab")
        counts = page.evaluate(BOXES, ".class-histogram .num")
        truth = page.evaluate(BOXES, ".class-histogram .truthlab")
        assert len(labels) >= 2 and len(counts) == 3
        # as tall on the screen as class.css's sizes (15 px labels, 20 px counts): the
        # chart is not drawn wide and shrunk into the column
        assert min(b[4] - b[2] for b in labels) >= 14, labels
        assert min(b[4] - b[2] for b in counts) >= 18, counts
        assert not [
            (a[0], b[0]) for i, a in enumerate(labels) for b in labels[i + 1 :] if _overlap(a, b)
        ]
        assert not [c[0] for c in counts if _overlap(truth[0], c)], (truth, counts)
        # an axis reads at a glance: -0.092, not -0.09167 (the bins' edges are the
        # answers' and the truth's range cut in twelve, rarely round numbers)
        ticks = [float(b[0]) for b in labels]
        assert ticks == [float(f"{t:.2g}") for t in ticks], ticks
        # the engine's line runs under the counts, never over a number (SVG paints in
        # document order: the line comes before every count)
        assert page.evaluate(
            """() => { const line = document.querySelector('.class-histogram .truth');
              return [...document.querySelectorAll('.class-histogram .num')].every(n =>
                line.compareDocumentPosition(n) & Node.DOCUMENT_POSITION_FOLLOWING); }"""
        )
        panel = page.evaluate(BOXES, "#class-panel")[0]
        for box in labels + truth:  # inside the column
            assert panel[1] <= box[1] and box[3] <= panel[3], (box, panel)
        assert page.errors == []


FITS = """() => { const p = document.getElementById('class-panel'); const r = p.getBoundingClientRect();
  return { scroll: p.scrollHeight, client: p.clientHeight, top: p.scrollTop,
           box: [r.left, r.top, r.right, r.bottom], height: innerHeight }; }"""


def _inside(box, panel, height):
    """``box`` (BOXES' row) is in the panel column and in the 720-px-high window."""
    return panel[0] <= box[1] and box[3] <= panel[2] and 0 <= box[2] and box[4] <= height


def _fits(page, *selectors, whole=True):
    """Nothing scrolled, ``selectors`` in the column and the window; the ``whole`` column
    in the window (it has nothing to scroll)."""
    state = page.evaluate(FITS)
    assert state["top"] == 0, state
    assert not whole or state["scroll"] <= state["client"] + 1, state
    for sel in selectors:
        boxes = page.evaluate(BOXES, sel)
        assert boxes and all(_inside(b, state["box"], state["height"]) for b in boxes), (
            sel,
            boxes,
            state,
        )


def test_an_open_question_fits_the_docked_column_without_scrolling(browser):
    """While a question is open the column holds what the teacher needs for it, the
    question, Reveal and Close, the count and the histogram, with no scrolling at 1280×720;
    the ask controls fold away and are back once the question is closed."""
    with _asking_three(browser) as (page, students):
        page.wait_for_selector(".class-prompt")
        _fits(page, ".class-prompt", "#class-reveal", "#class-close")
        assert page.is_hidden("#class-ask") and page.is_hidden("#class-race")
        _answer(page, students)
        page.wait_for_selector(".class-histogram")
        _fits(page, ".class-prompt", "#class-reveal", ".class-count", ".class-histogram")
        page.click("#class-reveal")  # Playwright clicks where it is, no scrolling
        page.wait_for_selector(".class-histogram .truthlab")
        _fits(
            page,
            ".class-prompt",
            "#class-truth",
            "#class-close",
            ".class-count",
            ".class-histogram",
        )
        page.click("#class-more")  # the rest, one click away
        assert page.is_visible("#class-ask") and page.is_visible("#class-export")
        page.click("#class-more")
        page.click("#class-close")
        page.wait_for_selector(".class-prompt", state="detached")
        for sel in ("#class-target", "#class-ask", "#class-race", "#class-show-join"):
            assert page.is_visible(sel), sel
        assert page.is_hidden(".class-histogram")  # the closed question's answers go with it
        _fits(page, "#class-target", "#class-ask", whole=False)  # the ask row, on top again
        assert page.errors == []
