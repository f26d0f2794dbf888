"""The live classroom in a real browser: uvicorn in a background thread on 127.0.0.1 and a
free port, headless Chromium driven by Playwright, every tab. Screenshots of each tab at
1280×720 go to out/classroom_*.png.

Skips cleanly without the classroom extra, Playwright or Debian's `chromium`."""

import shutil
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, assert_reveals_in_order, serving

pytest.importorskip("starlette")
uvicorn = pytest.importorskip("uvicorn")
playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium binary (apt install chromium)"
)

from autograd import Value  # noqa: E402
from nn import MLP  # noqa: E402
from viz.classroom.settings import MAX_CSV_BYTES, Playground  # noqa: E402

ARGS = CHROMIUM_ARGS
OUT = Path(__file__).resolve().parent.parent / "out"
TIMEOUT = 10_000  # ms for any one thing to appear


@pytest.fixture
def page(browser):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.set_default_timeout(TIMEOUT)
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    yield page
    page.close()
    assert errors == []


def open_tab(page, url, fragment):
    page.goto("about:blank")  # a new document, not a same-page jump to another #fragment
    page.goto(f"{url}#{fragment}")
    page.wait_for_function("() => document.getElementById('status').textContent === 'live'")


def shot(page, name):
    OUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUT / f"classroom_{name}.png"))


def cell(page, table, name, column):
    return page.locator(f'#{table} tr[data-name="{name}"] td').nth(column).inner_text()


def test_neuron_tab_shows_the_engines_numbers_and_follows_a_slider(page, url):
    open_tab(page, url, "tab=neuron")
    page.wait_for_function(
        "() => document.getElementById('neuron-out').textContent === '0.9990889488055994'"
    )
    assert page.inner_text("#neuron-formula") == "sigmoid(0·2 + 1·3 + 4) = 0.9991"
    assert cell(page, "neuron-grads", "w1", 2) == "0.003638"  # ∂loss/∂w1, loss = out²
    page.wait_for_selector("#neuron-graph svg g.node")  # the layout follows the numbers
    assert page.locator("#neuron-graph svg g.node").count() >= 10
    shot(page, "neuron")
    # move w2's slider: the output and gradients become the engine's for w2 = 2
    x1, x2, w1, w2, b = (Value(v) for v in (2.0, 3.0, 0.0, 2.0, 4.0))
    out = (x1 * w1 + x2 * w2 + b).sigmoid()
    (out**2).backward()
    page.fill("#neuron-w2", "2")
    page.wait_for_function(
        f"() => document.getElementById('neuron-out').textContent === '{out.data!r}'"
    )
    assert float(cell(page, "neuron-grads", "w1", 2)) == pytest.approx(w1.grad, rel=1e-3)
    page.fill("#neuron-target", "0")
    page.click("#neuron-step")
    page.wait_for_selector("#neuron-loss:has-text('dropped')")


def test_expression_tab_steps_through_and_reports_bad_input(page, url):
    open_tab(page, url, "tab=expression")
    page.wait_for_selector("#tab-expression .bp-counter:has-text('step 1 /')")
    assert page.inner_text("#expr-out") == "?"  # the value shows once the walk computes it
    page.click("#tab-expression [data-act=last]")
    assert page.inner_text("#expr-out").startswith("0.9993")
    assert page.inner_text("#tab-expression .bp-title") == "Backward: done"
    page.click("#tab-expression [data-act=prev]")
    assert "grad" in page.inner_text("#expr-graph")
    shot(page, "expression")
    page.fill("#expr-text", "__import__('os').system('echo hi')")
    page.click("#expr-build")
    page.wait_for_selector("#error:not([hidden])")
    assert "not allowed" in page.inner_text("#error") or "unknown" in page.inner_text("#error")
    page.fill("#expr-text", "a*b + <b>c</b>")
    page.click("#expr-build")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('<b>')")
    assert page.locator("#error b").count() == 0  # shown as text, never markup
    page.fill("#expr-text", "a*b")
    page.click("#expr-build")
    page.wait_for_selector("#tab-expression .bp-counter:has-text('step 1 / 5')")
    page.keyboard.press("End")
    assert page.inner_text("#expr-out") == "-6"


def test_network_tab_last_backward_step_shows_the_engines_gradients(page, url):
    open_tab(page, url, "tab=network")
    page.wait_for_selector("#tab-network .bp-counter:has-text('step 1 /')")
    assert page.inner_text("#net-output") == "?"  # not before the walk reaches it
    page.click("#tab-network [data-act=last]")
    assert page.inner_text("#net-output") == "0.7216325609518421"
    assert page.inner_text("#tab-network .bp-phase") == "update"
    page.click("#tab-network [data-act=prev]")
    assert page.inner_text("#tab-network .bp-phase") == "backward"
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid")
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.0, 1.0, 0.0
    ((model([2.0, 3.0]) - 1.0) ** 2).backward()
    for li, layer in enumerate(model.layers):
        for j, neuron in enumerate(layer.neurons):
            for name, p in [(f"w{i + 1}", w) for i, w in enumerate(neuron.w)] + [("b", neuron.b)]:
                shown = cell(page, "net-table", f"L{li + 1}.n{j + 1}.{name}", 2)
                assert float(shown) == pytest.approx(p.grad, rel=1e-3, abs=1e-12), name
    shot(page, "network")
    loss = float(page.inner_text("#net-loss"))
    page.click("#net-update")
    page.wait_for_function("() => document.getElementById('net-updates').textContent === '1'")
    assert float(page.inner_text("#net-loss")) < loss


def test_playground_learns_circle_and_the_url_restores_settings(page, url):
    open_tab(page, url, "tab=playground&dataset=circle&layers=4,2&lr=0.03&seed=1")
    page.wait_for_function("() => document.getElementById('pg-epoch').textContent === '000000'")
    page.click("#pg-play")
    page.wait_for_function(
        "() => parseFloat(document.getElementById('pg-test-acc').textContent) >= 90", timeout=20_000
    )
    page.click("#pg-play")
    page.wait_for_function("() => document.getElementById('pg-play').textContent.includes('Play')")
    epoch = int(page.inner_text("#pg-epoch"))
    assert 0 < epoch < 200
    page.click("canvas.pg-node[data-id='L1.n1']")
    assert "bias" in page.inner_text("#pg-inspect")
    shot(page, "playground")
    # a link reproduces the settings
    link = (
        "tab=playground&dataset=xor&noise=10&layers=3,2&lr=0.1&activation=relu&features=x,y,xy"
        "&reg=L2&rate=0.05"
    )
    open_tab(page, url, link)
    page.wait_for_function("() => document.getElementById('pg-epoch').textContent === '000000'")
    assert page.input_value("#pg-lr") == "0.1"
    assert page.input_value("#pg-activation") == "relu"
    assert page.input_value("#pg-rate") == "0.05"  # not in the menu: added to it
    assert page.inner_text("#pg-layers-text") == "2 hidden layers"
    assert page.locator("#pg-dataset button.active").inner_text() == "xor"
    assert page.locator("canvas.pg-node:not(.off)").count() == 3 + 3 + 2 + 1
    assert "dataset=xor" in page.url and "features=x%2Cy%2Cxy" in page.url
    # a CSV of the user's own: trained; a 10 MB one: refused with a message
    rows = "\n".join(f"{k % 17},{k % 13},{int(k % 17 > 8)}" for k in range(300))
    page.set_input_files(
        "#pg-csv", files=[{"name": "mine.csv", "mimeType": "text/csv", "buffer": rows.encode()}]
    )
    page.wait_for_function("() => location.hash.includes('dataset=csv')")
    big = b"1,2,0\n" * 50_000  # 300 KB: the same refusal as 10 MB, quicker to hand over
    page.set_input_files(
        "#pg-csv", files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": big}]
    )
    page.wait_for_selector("#error:not([hidden])")
    assert f"the limit is {MAX_CSV_BYTES // 1024} KB" in page.inner_text("#error")
    # out-of-range settings in a link: a clear message, and the page keeps working
    open_tab(page, url, "tab=playground&layers=99")
    page.wait_for_selector("#error:not([hidden])")
    assert "layers" in page.inner_text("#error")
    page.wait_for_function("() => document.getElementById('pg-epoch').textContent === '000000'")
    assert page.inner_text("#pg-layers-text") == "2 hidden layers"  # the defaults, 4 and 2
    assert "layers" in page.inner_text("#error")  # still saying what was wrong


def counter(page, tab):
    return page.inner_text(f"#tab-{tab} .bp-counter")


def test_a_clicker_steps_the_network_and_never_changes_a_setting(page, url):
    open_tab(page, url, "tab=network")
    page.wait_for_selector("#tab-network .bp-counter:has-text('step 1 /')")
    total = counter(page, "network").split("/ ")[1]
    # a menu still has the focus (the teacher just used it): → steps, the menu stays
    page.focus("#net-activation")
    page.keyboard.press("ArrowRight")
    assert page.input_value("#net-activation") == "sigmoid"
    assert counter(page, "network") == f"step 2 / {total}"
    page.keyboard.press("ArrowLeft")
    assert counter(page, "network") == f"step 1 / {total}"
    for key, at in (("PageDown", 2), ("Space", 3), ("PageUp", 2), ("End", int(total))):
        page.keyboard.press(key)
        assert counter(page, "network") == f"step {at} / {total}", key
    page.keyboard.press("Home")
    # Space on a focused button steps; it does not press the button again
    page.focus("#net-update")
    page.keyboard.press("Space")
    assert counter(page, "network") == f"step 2 / {total}"
    assert page.inner_text("#net-updates") == "0"
    # typing in a field keeps its arrow keys; a clicker's PageDown still steps
    page.focus("#net-x")
    page.keyboard.press("ArrowRight")
    assert counter(page, "network") == f"step 2 / {total}"
    page.keyboard.press("PageDown")
    assert counter(page, "network") == f"step 3 / {total}"
    # a setting that rebuilds the walk from the start can be undone
    page.fill("#net-sizes", "2,3,1")
    page.press("#net-sizes", "Enter")
    page.wait_for_selector("#tab-network .bp-undo:not([hidden])")
    assert counter(page, "network").startswith("step 1 /")
    page.click("#tab-network [data-act=undo]")
    page.wait_for_function("() => document.getElementById('net-sizes').value === '2, 2, 1'")
    page.wait_for_selector(f"#tab-network .bp-counter:has-text('step 3 / {total}')")


def test_phase_keys_cross_a_2_8_8_1_network_in_four_presses(page, url):
    open_tab(page, url, "tab=network")
    page.wait_for_selector("#tab-network .bp-counter:has-text('step 1 / 25')")
    page.fill("#net-sizes", "2,8,8,1")
    page.press("#net-sizes", "Enter")
    page.wait_for_selector("#tab-network .bp-counter:has-text('step 1 / 219')")
    page.keyboard.press("Home")
    page.locator("body").click(position={"x": 5, "y": 700})  # the focus off the field
    phases = []
    for _ in range(4):
        page.keyboard.press("p")
        phases.append(page.inner_text("#tab-network .bp-phase"))
    assert phases == ["forward", "loss", "backward", "update"]
    page.keyboard.press("Home")
    page.keyboard.press("p")
    layers = [page.inner_text("#tab-network .bp-title")]
    for _ in range(2):
        page.keyboard.press("l")  # the next layer
        layers.append(page.inner_text("#tab-network .bp-title"))
    assert layers == ["Forward: compute L1.n1", "Forward: compute L2.n1", "Forward: compute L3.n1"]
    shot(page, "network_2881")


def test_nothing_shows_before_the_step_that_reveals_it(page, url):
    from viz.classroom.lessons import (
        NetworkLesson,
        check_network,
        check_neuron,
        expression_view,
        neuron_view,
    )

    open_tab(page, url, "tab=network")
    page.wait_for_selector("#tab-network .bp-counter:has-text('step 1 /')")
    scene = NetworkLesson(check_network({})).view()["scene"]
    assert_reveals_in_order(page, scene, "#tab-network")
    open_tab(page, url, "tab=expression")
    page.wait_for_selector("#tab-expression .bp-counter:has-text('step 1 /')")
    scene = expression_view("tanh(a*b + c)", "a=2, b=-3, c=10")["scene"]
    assert_reveals_in_order(page, scene, "#tab-expression")
    open_tab(page, url, "tab=neuron")
    page.wait_for_selector("#neuron-graph svg g.node")
    page.keyboard.press("Home")  # the tab opens explored; from its first step:
    scene = neuron_view(check_neuron({}))["scene"]
    assert page.inner_text("#neuron-out") == "?"
    assert_reveals_in_order(page, scene, "#tab-neuron")


def test_the_big_number_takes_its_signs_colour(page, url):
    open_tab(page, url, "tab=neuron")
    page.wait_for_function("() => document.getElementById('neuron-out').textContent !== '…'")
    page.select_option("#neuron-activation", "tanh")
    page.fill("#neuron-b", "-6")
    page.wait_for_function(
        "() => document.getElementById('neuron-out').textContent.startsWith('-')"
    )
    assert "neg" in page.get_attribute("#neuron-out", "class")
    colour = page.evaluate("getComputedStyle(document.getElementById('neuron-out')).color")
    assert colour == "rgb(245, 147, 34)"  # the Playground's orange


def test_playground_controls_are_the_schemas_and_live_settings_keep_the_run(page, url):
    schema = Playground.schema()["properties"]
    open_tab(page, url, "tab=playground")
    page.wait_for_function("() => document.getElementById('pg-epoch').textContent === '000000'")
    options = lambda sel: page.eval_on_selector_all(f"{sel} option", "os => os.map(o => o.value)")
    for key in ("activation", "reg"):
        assert options(f"#pg-{key}") == schema[key]["enum"]
        assert page.input_value(f"#pg-{key}") == schema[key]["default"]
    for key in ("lr", "rate"):
        assert [float(v) for v in options(f"#pg-{key}")] == schema[key]["menu"]
        assert float(page.input_value(f"#pg-{key}")) == schema[key]["default"]
    for key in ("noise", "ratio", "batch"):
        attrs = page.eval_on_selector(
            f"#pg-{key}", "e => [e.type, +e.min, +e.max, +e.step, +e.value]"
        )
        p = schema[key]
        assert attrs == ["range", p["minimum"], p["maximum"], p["step"], p["default"]]
    assert page.input_value("#pg-seed") == str(schema["seed"]["default"])
    names = page.eval_on_selector_all("#pg-dataset button", "bs => bs.map(b => b.dataset.name)")
    assert names == schema["dataset"]["enum"]
    for key in ("show_test", "discretize"):
        assert page.is_checked(f"#pg-{key}") is schema[key]["default"]
    # Play, then change the learning rate: the epochs go on, the run is not restarted
    page.evaluate(
        """() => { window.epochs = [];
        new MutationObserver(() => window.epochs.push(+document.getElementById('pg-epoch').textContent))
          .observe(document.getElementById('pg-epoch'), { childList: true, characterData: true, subtree: true }); }"""
    )
    page.click("#pg-play")
    page.wait_for_function("() => +document.getElementById('pg-epoch').textContent >= 5")
    assert page.locator("#pg-play svg.icon").count() == 1  # drawn: U+23F8 is not in the fonts
    assert "\u23f8" not in page.inner_text("#pg-play")
    page.select_option("#pg-lr", "0.1")
    page.wait_for_function("() => location.hash.includes('lr=0.1')")
    before = max(page.evaluate("window.epochs"))
    page.wait_for_function(
        f"() => +document.getElementById('pg-epoch').textContent >= {before + 5}"
    )
    page.select_option("#pg-activation", "relu")
    page.wait_for_function("() => location.hash.includes('activation=relu')")
    page.wait_for_function(
        f"() => +document.getElementById('pg-epoch').textContent >= {before + 10}"
    )
    epochs = page.evaluate("window.epochs")
    assert epochs == sorted(epochs) and epochs[0] <= 1  # counted on, never back to 0
    assert "Pause" in page.inner_text("#pg-play")  # still playing
    page.click("#pg-play")
    page.wait_for_function("() => document.getElementById('pg-play').textContent.includes('Play')")
    # a weight typed into the clicked edge; the schema's bounds, checked by the server
    page.locator(".pg-edge").first.dispatch_event("click")  # a level line has no height
    field = page.locator("#pg-param")
    assert field.get_attribute("max") == "1000" and field.get_attribute("min") == "-1000"
    field.fill("2.5")
    page.click("#pg-param-set")
    page.wait_for_function(
        "() => document.getElementById('pg-inspect').textContent.includes('= 2.5,')"
    )
    field.fill("5000")
    page.click("#pg-param-set")
    page.wait_for_selector("#error:not([hidden])")
    assert "Value (value) must be a number from -1000 to 1000, got 5000" in page.inner_text(
        "#error"
    )
    # the page-only toggles: in the URL, drawn at once
    pure = """() => { const d = document.getElementById('pg-boundary').getContext('2d')
        .getImageData(0, 0, 300, 300).data; let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const c = d[i] + ',' + d[i + 1] + ',' + d[i + 2];
        if (c === '245,147,34' || c === '8,119,189') n++; }
      return n / (d.length / 4); }"""  # pixels in a class colour itself
    shaded = page.evaluate(pure)
    page.check("#pg-discretize")
    page.wait_for_function("() => location.hash.includes('discretize=true')")
    assert page.evaluate(pure) > max(shaded, 0.8)
    page.check("#pg-show_test")
    page.wait_for_function("() => location.hash.includes('show_test=true')")
    assert "test points ringed" in page.inner_text("#pg-legend")
    shot(page, "playground_live")


def test_neuron_and_network_settings_live_in_the_url_and_lr_0_stays_0(page, url):
    open_tab(page, url, "tab=neuron&w=0,2&b=4")
    out = Value(10.0).sigmoid().data
    page.wait_for_function(f"() => document.getElementById('neuron-out').textContent === '{out!r}'")
    assert "w=0%2C2" in page.url and page.input_value("#neuron-w2") == "2"
    open_tab(page, url, "tab=network&sizes=2,3,1&lr=0.25")
    page.wait_for_function("() => location.hash.includes('sizes=2%2C3%2C1')")
    page.wait_for_selector("#tab-network .bp-counter:has-text('step 1 /')")  # its view came
    assert page.input_value("#net-sizes") == "2, 3, 1" and page.input_value("#net-lr") == "0.25"
    page.fill("#net-lr", "0")
    page.press("#net-lr", "Enter")
    page.wait_for_function("() => /[&#]lr=0(&|$)/.test(location.hash)")
    page.click("#tab-network [data-act=last]")
    assert "lr = 0" in page.inner_text("#tab-network .bp-title")
    page.fill("#net-sizes", "2, 9, 1")
    page.press("#net-sizes", "Enter")
    page.wait_for_selector("#error:not([hidden])")
    assert page.inner_text("#error") == (
        "Layer sizes (sizes) must be a list of 2 to 8 items, each a whole number from 1 to 8, got 9"
    )


# ------------------------------------------------------------------ the class session
def test_a_class_joins_by_url_follows_answers_and_sees_the_reveal(browser):
    pytest.importorskip("segno")
    from viz.classroom.room import Room

    room = Room()
    with serving(room=room) as address:
        room.url = f"{address}#join={room.code}"
        pages = []

        def new_page(width, height):
            page = browser.new_page(viewport={"width": width, "height": height})
            page.set_default_timeout(30_000)
            page.errors = []
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            pages.append(page)
            return page

        try:
            teacher = new_page(1280, 720)
            teacher.goto(f"{address}#teach={room.token}&present=true")  # as `class` prints it
            teacher.wait_for_function(
                f"() => document.querySelector('.class-code')?.textContent === '{room.code}'"
            )
            assert room.token not in teacher.url  # the page rewrote its URL: not on the projector
            # the projector's panel in presenter mode: the theme's sizes and colours
            panel = teacher.evaluate(
                """() => { const s = getComputedStyle(document.getElementById('class-panel'));
                  return [document.documentElement.classList.contains('present'),
                          parseFloat(s.fontSize), s.borderTopColor]; }"""
            )
            assert panel == [True, 22, "rgb(8, 119, 189)"]
            students = []
            for (width, height), name in (((1280, 720), "Ada"), ((390, 844), "<b>Grace</b>")):
                student = new_page(width, height)
                student.goto(room.url)
                student.fill("#class-name", name)
                student.click("#class-go")
                student.wait_for_selector("#class-follow")
                students.append(student)
            teacher.wait_for_function(
                "() => document.getElementById('class-roster').textContent.startsWith('2 here')"
            )
            phone = students[1]  # the join panel and the page fit a phone's width
            assert phone.evaluate("document.documentElement.scrollWidth <= innerWidth")
            roster = teacher.locator("#class-roster")
            assert "<b>Grace</b>" in roster.text_content() and roster.locator("b").count() == 0
            # follow: the teacher opens the Network tab, the students' pages show it
            teacher.click('nav button[data-tab="network"]')
            counter = "document.querySelector('#net-player .bp-counter')?.textContent || ''"
            teacher.wait_for_function(f"() => ({counter}).startsWith('step 1 / ')")
            for student in students:
                student.wait_for_function("() => !document.getElementById('tab-network').hidden")
                student.wait_for_function(f"() => ({counter}).startsWith('step 1 / ')")
            # the teacher steps through the walk: the students' players follow
            for _ in range(3):
                teacher.click('#net-player button[data-act="next"]')
            shown = teacher.text_content("#net-player .bp-counter")
            assert shown.startswith("step 4 / ")
            for student in students:
                student.wait_for_function(f"() => ({counter}) === '{shown}'")
            for shown in ("#net-player .bp-panel", "#net-table", "#net-svg .nvalue"):
                # the same numbers (the drawing's labels: as many as its width holds; the
                # teacher's is narrower, beside the class panel)
                seen = [
                    sorted(p.locator(shown).all_text_contents()) for p in (students[0], teacher)
                ]
                assert seen[0] == seen[1], shown
            # predict, then reveal
            teacher.fill("#class-target", "L2.n1.w1")
            teacher.click("#class-ask")
            for student, answer in zip(students, ("-0.1", "0.3")):
                student.wait_for_selector("#class-answer")
                assert student.text_content(".class-prompt") == "What is ∂loss/∂L2.n1.w1?"
                student.fill("#class-answer", answer)
                student.click("#class-send")
                student.wait_for_selector(".class-sent")
            teacher.wait_for_function(
                "() => document.querySelector('.class-count')?.textContent === '2 of 2 answered'"
            )
            assert teacher.locator(".class-histogram rect").count() == 12
            assert "0.1065" not in teacher.text_content("#class-panel")  # not before the reveal
            teacher.click("#class-reveal")
            for page in (teacher, *students):
                page.wait_for_selector("#class-truth")
                assert page.text_content("#class-truth") == "The engine: -0.1065"
            assert students[0].text_content(".class-right") == "You were close!"
            assert students[1].text_content(".class-wrong") == "You said 0.3."
            assert "1 of 2 close: Ada" in teacher.text_content("#class-panel")
            OUT.mkdir(exist_ok=True)
            teacher.screenshot(path=str(OUT / "classroom_class_teacher.png"))
            students[1].screenshot(path=str(OUT / "classroom_class_phone.png"))
            assert [p.errors for p in pages] == [[], [], []]
        finally:
            for page in pages:
                page.close()
