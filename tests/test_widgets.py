"""The Jupyter widgets (viz.widgets): their traits follow the engine's numbers, and their
ES module (the live page's own modules, linked in the browser) draws them in headless
Chromium, inside a minimal stand-in for anywidget's model (get / set / on / save_changes).

Skips cleanly without anywidget (the `widgets` extra); the browser part also without
Playwright or Debian's `chromium`."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import CHROMIUM_ARGS, assert_reveals_in_order

from autograd import Value

pytest.importorskip("anywidget")

from viz.classroom.lessons import check_neuron, neuron  # noqa: E402
from viz.classroom.trainer import Trainer  # noqa: E402
from viz.widgets import GraphWidget, NetworkWidget, NeuronWidget, PlaygroundWidget  # noqa: E402

SEED = 0.9990889488055994


def test_the_seed_neuron():
    w = NeuronWidget()
    assert w.output == SEED
    assert w.formula == "sigmoid(0·2 + 1·3 + 4) = 0.9991"
    assert set(w.gradients) == {"x1", "x2", "w1", "w2", "b"}
    assert "<svg" in w.svg and w.error == ""


def test_setting_w_gives_the_engines_numbers():
    w = NeuronWidget()
    svg = w.svg
    w.w = [0.5, -1.0]
    out, xs, ws, b = neuron([2.0, 3.0], [0.5, -1.0], 4.0, "sigmoid")
    (out**2).backward()  # the loss "Learn" minimises, against the target 0
    assert w.output == out.data
    assert w.gradients["w2"]["grad"] == ws[1].grad
    assert w.view["out"] == out.data and w.view["scene"]["steps"]
    assert w.svg == svg  # same boxes: the drawing is patched, not laid out again
    w.activation = "tanh"
    assert w.output == neuron([2.0, 3.0], [0.5, -1.0], 4.0, "tanh")[0].data
    assert w.formula.startswith("tanh(") and w.svg != svg


def test_a_bad_setting_keeps_the_last_numbers_and_says_why():
    w = NeuronWidget(x=[1.0, 2.0, 3.0], w=[1.0, 0.0, -1.0], b=0.5, activation="relu")
    assert w.output == neuron([1.0, 2.0, 3.0], [1.0, 0.0, -1.0], 0.5, "relu")[0].data
    before = w.output
    w.x = [1.0]
    assert (
        w.error == "Weights w (w) has 3 numbers but Inputs x (x) has 1: give one weight per input"
    )
    assert w.output == before
    w.w = [2.0]
    assert w.error == "" and w.output == max(0.0, 2.0 + 0.5)
    assert check_neuron({"x": w.x, "w": w.w})  # the same checks as the live tab


def test_graph_widget_shows_every_gradient(seed_neuron):
    g = GraphWidget(seed_neuron)
    rows = {r["name"]: r for r in g.gradients}
    assert rows["out"]["data"] == SEED and rows["out"]["grad"] == 1.0
    assert rows["w2"]["grad"] == pytest.approx(2.7306635403653522e-3)
    assert "<svg" in g.svg
    with pytest.raises(TypeError):
        GraphWidget(1.0)


def test_network_widget_steps_through_the_models_own_weights():
    from nn import MLP

    w = NetworkWidget()
    assert w.output == [0.7216325609518421]
    phases = [step["phase"] for step in w.view["scene"]["steps"]]
    assert phases[:2] == ["start", "forward"] and "backward" in phases and phases[-1] == "update"
    loss = w.loss
    w._message(w, {"type": "update"}, [])  # what the page's button sends
    assert w.updates == 1 and w.loss < loss
    model = MLP(2, [3, 1], "tanh", "tanh", rng=0)
    n = NetworkWidget(model, [0.5, -1.0], [1.0])
    assert n.output == [model([0.5, -1.0]).data]
    n.update()
    assert n.output == [model([0.5, -1.0]).data] and n.model is model
    with pytest.raises(ValueError, match="share one activation"):
        NetworkWidget(MLP(2, [3, 1]), [1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="takes 2 inputs"):
        NetworkWidget(model, [1.0], [1.0])
    with pytest.raises(TypeError):
        NetworkWidget(MLP(2, [3, 1], vectorized=True), [1.0, 2.0], [1.0])


def test_playground_widget_trains_with_the_live_tabs_trainer():
    w = PlaygroundWidget(dataset="circle", layers=[4, 2], lr=0.03, seed=3)
    assert w.epoch == 0 and w.frame["epoch"] == 0 and len(w.points["train"]) == 250
    start = w.train_loss
    frame = w.step(20)
    assert w.epoch == 20 == frame["epoch"] and w.train_loss < start
    # the same numbers as the live tab's trainer with the same settings
    t = Trainer(w.settings())
    same = t.step(20)
    assert w.train_loss == same["train_loss"] and w.test_loss == same["test_loss"]
    assert w.frame["boundary"] == same["boundary"]
    assert w.frame["layers"][0]["weights"] == same["layers"][0]["weights"]
    # the buttons' messages; a live setting changes the run as it trains, another starts
    # a new run; a bad one keeps it and says why (by the setting's label, key and range)
    w._message(w, {"type": "step"}, [])
    assert w.epoch == 21
    weights = w.trainer.model.layers[0].W.data.copy()
    w.lr, w.reg, w.rate, w.activation, w.batch = 0.3, "L2", 0.01, "relu", 5
    assert w.epoch == 21 and (w.trainer.model.layers[0].W.data == weights).all()
    assert w.trainer.optimizer.lr == 0.3 and w.trainer.model.activation == "relu"
    w.layers = [3]
    assert w.epoch == 0 and len(w.frame["layers"]) == 2
    w.lr = 100.0
    assert w.error == "Learning rate (lr) must be a number from 0.00001 to 10, got 100"
    assert w.epoch == 0
    w.lr = 0.1
    assert w.error == ""
    w.play(frames=3)
    w._thread.join(timeout=10)
    assert w.epoch == 3 and not w.playing
    w._message(w, {"type": "reset"}, [])
    assert w.epoch == 0
    with pytest.raises(ValueError, match="dataset"):
        PlaygroundWidget(dataset="nope")


# ------------------------------------------------------------------ in a browser
HARNESS = """
async ([esm, state]) => {
  const listeners = {};
  window.saved = [];
  window.sent = [];
  const model = {
    get: k => state[k],
    set: (k, v) => { state[k] = v; for (const f of listeners["change:" + k] || []) f(); },
    on: (e, f) => { (listeners[e] ||= []).push(f); },
    off: (e, f) => { listeners[e] = (listeners[e] || []).filter(g => g !== f); },
    save_changes: () => { window.saved.push(JSON.parse(JSON.stringify(state))); },
    send: message => { window.sent.push(message); },
  };
  window.model = model;
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const root = document.getElementById("root");
  root.replaceChildren();
  widget.render({ model, el: root });
  return root.innerText;
}
"""


def _state(widget) -> dict:
    return json.loads(json.dumps({k: v for k, v in widget.get_state().items()}))


@pytest.fixture(scope="module")
def page():
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("no chromium binary (apt install chromium)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route(
            "http://widgets.test/",
            lambda route: route.fulfill(
                content_type="text/html", body='<!doctype html><div id="root"></div>'
            ),
        )
        page.goto("http://widgets.test/")
        page.errors = errors
        yield page
        browser.close()


def test_neuron_widget_in_chromium(page):
    w = NeuronWidget()
    text = page.evaluate(HARNESS, [w._esm, _state(w)])
    assert str(SEED) in text and "sigmoid(0·2 + 1·3 + 4) = 0.9991" in text
    assert page.locator("table.grads tr").count() == 6  # a header and x1 x2 w1 w2 b
    assert page.locator(".graph svg").count() == 1
    # the page's own slider: moving w2 saves the new w, Python answers with the new view
    page.fill("[id$='-w2']", "-1")
    page.dispatch_event("[id$='-w2']", "input")
    saved = page.evaluate("window.saved.at(-1)")
    assert saved["w"] == [0.0, -1.0]
    w.w = saved["w"]
    page.evaluate("v => window.model.set('view', v)", _state(w)["view"])
    assert page.inner_text(".out") == str(w.output)
    assert page.get_attribute("[id$='-w2-range']", "id").endswith("-w2-range")
    # Python moves a slider: the same input takes the new number
    page.evaluate("() => window.model.set('b', 2.5)")
    assert page.input_value("[id$='-b']") == "2.5"
    assert not page.errors, page.errors


def test_graph_widget_in_chromium(page, seed_neuron):
    g = GraphWidget(seed_neuron)
    text = page.evaluate(HARNESS, [g._esm, _state(g)])
    assert "out" in text and "0.9991" in text
    assert page.locator(".graph svg").count() == 1
    assert page.locator(".graph script").count() == 0
    assert not page.errors, page.errors


def test_network_widget_in_chromium(page):
    w = NetworkWidget()
    text = page.evaluate(HARNESS, [w._esm, _state(w)])
    assert "0.7216325609518421" not in text and "0.7216" not in text  # not before its step
    page.click("[data-act=next]")
    assert page.inner_text(".bp-title") == "Forward: compute L1.n1"
    page.click("[data-act=last]")
    assert page.inner_text(".bp-phase") == "update"
    assert page.inner_text("b.output") == "0.7216325609518421"
    page.click("[data-act=prev]")
    assert page.inner_text(".bp-phase") == "backward"
    assert page.locator(".netsvg circle").count() == 2 + 2 + 1
    page.click("button.update")
    assert page.evaluate("window.sent") == [{"type": "update"}]
    w._message(w, {"type": "update"}, [])
    page.evaluate("v => window.model.set('view', v)", _state(w)["view"])
    assert page.inner_text("b.updates") == "1"
    assert page.inner_text("b.output") == str(w.output[0])
    assert not page.errors, page.errors


def test_labels_are_text_never_markup(page):
    v = Value(1.0, label='<img src=x onerror="window.bad=1">')
    (v * 2).backward()
    g = GraphWidget(v)
    page.evaluate(HARNESS, [g._esm, _state(g)])
    assert page.locator("#root img").count() == 0
    assert page.evaluate("window.bad") is None


def test_playground_widget_in_chromium(page):
    w = PlaygroundWidget(dataset="xor", layers=[3, 2])
    w.step(5)
    text = page.evaluate(HARNESS, [w._esm, _state(w)])
    assert "xor" in text
    assert page.inner_text("b.epoch") == "000005"
    # the boundary canvas is painted (not blank) and a heatmap drawn per neuron
    painted = page.evaluate(
        """() => { const c = document.querySelector("canvas.boundary");
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n / (d.length / 4); }"""
    )
    assert painted > 0.99
    assert page.locator(".pg-node").count() == 2 + 3 + 2 + 1
    assert page.locator(".pg-edge").count() == 2 * 3 + 3 * 2 + 2 * 1
    page.click("button.step")
    page.click("button.play")
    assert page.evaluate("window.sent") == [{"type": "step"}, {"type": "play"}]
    w._message(w, {"type": "step"}, [])
    page.evaluate("f => window.model.set('frame', f)", _state(w)["frame"])
    assert page.inner_text("b.epoch") == "000006"
    assert page.inner_text("b.train") != ""
    # a menu saves the setting; Python changes the run as it trains (a live setting)
    page.select_option("select.activation", "relu")
    assert page.evaluate("window.saved.at(-1).activation") == "relu"
    w.activation = "relu"
    assert w.epoch == 6
    page.evaluate("() => window.model.set('lr', 0.05)")  # not in the menu: it joins it
    assert page.input_value("select.lr") == "0.05"
    assert not page.errors, page.errors


def test_widgets_show_nothing_before_the_step_that_reveals_it(page):
    w = NetworkWidget()
    page.evaluate(HARNESS, [w._esm, _state(w)])
    assert_reveals_in_order(page, w.view["scene"], "#root", lambda: page.click("[data-act=next]"))
    n = NeuronWidget()
    page.evaluate(HARNESS, [n._esm, _state(n)])
    page.keyboard.press("Home")  # it opens explored, like the tab; from its first step:
    assert page.inner_text(".out") == "?"
    assert_reveals_in_order(page, n.view["scene"], "#root")
    assert not page.errors, page.errors


def test_the_network_widget_draws_the_2_3_2_networks_names(page):
    from nn import MLP, model_names

    model = MLP(2, [3, 2], "sigmoid", "sigmoid", rng=0)
    w = NetworkWidget(model, [2.0, 3.0], [1.0, 0.0])
    page.evaluate(HARNESS, [w._esm, _state(w)])
    rows = page.evaluate(
        "[...document.querySelectorAll('#root tr[data-name]')].map(r => r.dataset.name)"
    )
    drawn = page.evaluate(
        "[...document.querySelectorAll('#root .netsvg .nname, #root .netsvg .oname')].map(t => t.textContent)"
    )
    names = set(model_names(model))
    assert rows == [
        short
        for short in model_names(model)
        if short.rpartition(".")[2][:1] in "wb" and "." in short
    ]
    assert set(drawn) == {
        "x1",
        "x2",
        "out1",
        "out2",
        "loss",
        "L1.n1",
        "L1.n2",
        "L1.n3",
        "L2.n1",
        "L2.n2",
    }
    assert set(drawn) - {"L2.n1", "L2.n2"} <= names  # the output neurons' outputs: out1, out2
    assert not page.errors, page.errors


def test_a_clicked_widget_slider_takes_arrow_keys_and_notebook_shortcuts_stay_off(page):
    w = NeuronWidget()
    page.evaluate(HARNESS, [w._esm, _state(w)])
    # JupyterLab's Lumino stops looking for a notebook shortcut at this attribute
    assert page.get_attribute("#root", "data-lm-suppress-shortcuts") == "true"
    page.click("[id$='-w2-range']")  # (the click itself moves it to where it lands)
    w2 = float(page.input_value("[id$='-w2-range']"))
    page.keyboard.press("ArrowRight")
    assert page.evaluate("window.saved.at(-1)")["w"] == [0.0, pytest.approx(w2 + 0.1)]
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("window.saved.at(-1)")["w"] == [0.0, pytest.approx(w2 - 0.1)]
    # the sliders are named as the walk names them (nn.names), the sum is z
    scene = w.view["scene"]
    names = [scene["nodes"][i]["name"] for i in w.view["shown"]["values"]]
    assert page.eval_on_selector_all(".pname", "ps => ps.map(p => p.textContent)") == names
    assert names == ["x1", "w1", "x2", "w2", "b"]
    assert "z" in {n["name"] for n in scene["nodes"].values()}
    assert "n" not in {n["name"] for n in scene["nodes"].values()}
    assert not page.errors, page.errors
