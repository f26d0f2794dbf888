"""The scene (viz.scene) every view plays, one player to play it, one name per node."""

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import page_scene, scene_values

from autograd import Value, topological_order
from nn import MLP, model_names, short_name
from viz import backprop_html, draw_dot, draw_mlp
from viz.collapse import forward_order
from viz.format import fmt
from viz.graph import plan
from viz.scene import build_scene

STATIC = Path(__file__).resolve().parent.parent / "viz" / "classroom" / "static"


def names_of(scene: dict, constants: bool = False) -> set[str]:
    return {n["name"] for n in scene["nodes"].values() if constants or n["role"] != "const"}


def drawn_names(source: str) -> set[str]:
    """The first field of every value's box in a dot source (its name)."""
    names = set()
    for label in re.findall(r'label="((?:[^"\\]|\\.)*)"[^\n]*shape=record', source):
        names.add(re.split(r"(?<!\\)\|", label)[0].strip(" {}").replace("\\", ""))
    return names


# ------------------------------------------------------------------ one name per node
def test_a_2_3_2_network_has_the_same_names_everywhere(tmp_path):
    """The drawing (draw_dot and draw_mlp), the step-through page, the live Network tab
    and the widget name every node of a 2-3-2 network the same, as nn.model_names does."""
    from viz.classroom.lessons import NetworkLesson, check_network

    lesson = NetworkLesson(check_network({"sizes": [2, 3, 2], "init": "random"}))
    model, expected = lesson.model, set(model_names(lesson.model))
    assert len(expected) == len(model_names(model)) == 2 + 3 * 5 + 2 * 6 + 2 * 3 + 1 + 1
    assert {"L1.n2.w1", "L2.n1.b", "L1.n3.z", "L1.n3", "out1", "out2", "y2", "e1²"} <= expected
    layers, loss = lesson.forward()
    # the Network tab's walk (what the page and the widget play)
    live = lesson.view()["scene"]
    assert names_of(live) == expected
    assert names_of(live, constants=True) - expected == {"2"}  # the mean's divisor
    # draw_dot, value by value: every box is named, by the same strings
    assert drawn_names(draw_dot(loss, collapse=None).source) == expected | {"2"}
    # the step-through page of the same loss
    page = backprop_html(loss, tmp_path / "net.html", collapse=None).read_text()
    assert names_of(page_scene(page)) == expected
    # draw_mlp: neurons, inputs, outputs and (on hover) every weight by name
    source = draw_mlp(model, x=[2.0, 3.0]).source
    for name in expected - {"y1", "y2", "e1", "e2", "e1²", "e2²", "e1² + e2²", "loss"}:
        if not name.endswith((".z", ".b")):
            assert re.search(rf"(?<![\w.]){re.escape(name)}(?![\w.])", source), name
    # the step texts name nodes by these names, never by a number
    texts = "\n".join(s["text"] for s in live["steps"])
    assert "∂loss/∂0." not in texts and not re.search(r"\b\d+\.\d+\.grad", texts)
    assert "(e1² + e2²).grad += 1/2 × loss.grad" in texts


def test_the_widget_plays_the_same_names():
    pytest.importorskip("anywidget")
    from viz.widgets import NetworkWidget

    model = MLP(2, [3, 2], "sigmoid", "sigmoid", rng=0)
    widget = NetworkWidget(model, [2.0, 3.0], [1.0, 0.0])
    assert names_of(widget.view["scene"]) == set(model_names(model))


def test_short_names_count_from_one_and_paths_stay_pythons():
    model = MLP(2, [3, 1], rng=0)
    paths = dict(model.named_parameters())
    assert "layers.0.neurons.1.w.0" in paths  # as torch's state_dict
    assert (
        paths["layers.0.neurons.1.w.0"].label == "L1.n2.w1" == short_name("layers.0.neurons.1.w.0")
    )
    assert model.layers[-1].neurons[0].b.label == "L2.n1.b"  # the output layer is the last
    assert [p.label for p in MLP(2, [3, 1], vectorized=True).parameters()][:2] == ["L1.W", "L1.b"]


# ------------------------------------------------------------------ the scene
def test_each_step_reveals_exactly_what_it_computes(seed_neuron):
    scene = build_scene(seed_neuron, lr=0.1)
    names = {id: n["name"] for id, n in scene["nodes"].items()}
    steps = scene["steps"]
    assert [s["phase"] for s in steps[:2]] == ["start", "forward"]
    assert {names[r["node"]] for r in steps[0]["reveal"]} == {"x1", "x2", "w1", "w2", "b"}
    forward = [s for s in steps if s["phase"] == "forward"]
    assert [names[r["node"]] for s in forward for r in s["reveal"]] == [
        "v1",
        "v2",
        "v3",
        "n",
        "out",
    ]
    out = next(r for s in forward for r in s["reveal"] if names[r["node"]] == "out")
    assert out == {
        "node": scene["root"],
        "field": "data",
        "text": "0.9991",
        "value": seed_neuron.data,
    }
    final = scene_values(scene)
    for v in topological_order(seed_neuron):
        if v.label:
            assert final[v.label]["grad"]["value"] == v.grad  # as backward() gives them
    assert final["w2"]["after"]["value"] == 1.0 - 0.1 * final["w2"]["grad"]["value"]
    json.dumps(scene, allow_nan=False)  # plain JSON


def test_backward_goes_layer_by_layer_from_the_output_back():
    model = MLP(2, [3, 3, 2], "tanh", "tanh", rng=1)
    out = model([0.5, -1.0])
    loss = (out[0] - 1.0) ** 2 + (out[1] + 1.0) ** 2
    for per in ("unit", "line"):
        steps = build_scene(loss, plan(loss, "neuron"), per=per)["steps"]
        forward = [s["layer"] for s in steps if s["phase"] == "forward"]
        assert forward == sorted(forward) == [1, 1, 1, 2, 2, 2, 3, 3]
        backward = [s["layer"] for s in steps if s["phase"] == "backward" and s["layer"]]
        assert backward == sorted(backward, reverse=True) and backward[-1] == 1
        loss_steps = [k for k, s in enumerate(steps) if s["phase"] == "loss"]
        assert loss_steps and min(loss_steps) > max(
            k for k, s in enumerate(steps) if s["phase"] == "forward"
        )


def test_one_graph_order_from_the_engine():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = (a * b + a.tanh()) * 2.0
    order = forward_order(c)
    engine = topological_order(c)
    assert set(engine) <= set(order) and order[-1] is c
    assert [v for v in order if v not in engine] == [c.parents[1]]  # the constant 2.0
    place = {v: i for i, v in enumerate(order)}
    assert all(place[p] < place[v] for v in order for p in v.parents)
    assert [v.label or v.op for v in order][:3] == ["a", "b", "*"]  # as written
    import viz.collapse

    assert viz.collapse.topological_order is topological_order  # no second walk of its own


# ------------------------------------------------------------------ defects, each a test
def test_infinities_read_as_infinity_not_nan():
    from viz.classroom.lessons import expression_view

    for text, value, shown in (
        ("1/a", "a=0", "∞"),
        ("exp(a)", "a=1000", "∞"),
        ("-1/a", "a=0", "-∞"),
    ):
        view = expression_view(text, value)
        final = scene_values(view["scene"])
        root = view["scene"]["nodes"][view["scene"]["root"]]["name"]
        assert final[root]["data"]["text"] == shown and final[root]["data"]["value"] is None
        assert "nan" not in final[root]["data"]["text"]
    assert fmt(math.inf) == "∞" and fmt(-math.inf) == "-∞" and fmt(-0.0) == "0"


def test_a_saturated_sigmoid_never_reads_1():
    from viz.classroom.lessons import check_neuron, neuron_view

    view = neuron_view(check_neuron({"x": [2, 3], "w": [5.2, 1], "b": 4}))
    assert view["formula"] == "sigmoid(5.2·2 + 1·3 + 4) = 0.99999997"
    assert fmt(0.99999997) == "0.99999997" and fmt(1.0) == "1" and fmt(2.99996) == "2.99996"
    assert "out = 1 " not in draw_dot(Value(17.4).sigmoid()).source


def test_no_negative_zero_in_step_texts():
    x = Value(0.0, label="x")
    y = (x * -1.0) * 3.0
    texts = "\n".join(s["text"] for s in build_scene(y)["steps"])
    assert "-0 " not in texts and not re.search(r"-0$|-0\n", texts)


def test_a_value_used_twice_has_two_arrows():
    a = Value(3.0, label="a")
    drawing = plan(a * a)
    assert len([e for e in drawing.edges if e[0] == "v0"]) == 2
    assert draw_dot(a * a).source.count("v0 -> v1_op") == 2


def test_constants_are_not_listed_as_inputs():
    from viz.classroom.lessons import expression_view

    view = expression_view("a*b + 1 + 1", "a=2 b=-3")
    start = view["scene"]["steps"][0]["text"]
    assert start == "Leaves hold numbers we chose: a = 2, b = -3; the constants 1, 1"
    roles = {n["name"]: n["role"] for n in view["scene"]["nodes"].values()}
    assert roles["a"] == "input" and roles["1"] == "const"


def test_the_neuron_tab_learns_the_loss_it_draws():
    from viz.classroom.lessons import check_neuron, neuron_graph, neuron_view

    state = check_neuron({"target": 0.5})
    view = neuron_view(state)
    names = names_of(view["scene"])
    assert {"out", "y", "e", "loss"} <= names  # the loss "Learn" minimises is drawn
    assert ">loss</text>" in neuron_graph(state)["svg"]
    final = scene_values(view["scene"])
    out = view["out"]
    for name in ("w1", "w2", "b"):  # the table's ∂loss/∂value, the walk's, the step's
        assert view["values"][name]["grad"] == final[name]["grad"]["value"]
    assert final["b"]["grad"]["value"] == pytest.approx(2 * (out - 0.5) * out * (1 - out))
    assert final["b"]["after"]["value"] == 4.0 - 1.0 * final["b"]["grad"]["value"]


def test_the_network_update_step_is_a_summary_with_the_details_on_demand():
    from viz.classroom.lessons import NetworkLesson, check_network

    steps = NetworkLesson(check_network({"sizes": [2, 8, 8, 1]})).view()["scene"]["steps"]
    update = steps[-1]
    assert update["phase"] == "update"
    assert update["text"].count("\n") <= 6 and update["detail"].count("\n") == 8 * 3 + 8 * 9 + 9
    assert len(update["reveal"]) == 8 * 3 + 8 * 9 + 9


# ------------------------------------------------------------------ one player
def test_there_is_one_step_through_player():
    """Only player.js steps through a walk: no other page module (nor the step-through
    page's own code) handles the stepping keys, keeps a step index or words a step."""
    player = (STATIC / "player.js").read_text()
    assert "PageDown" in player and "class Player" in player
    for path in STATIC.glob("*.js"):
        if path.name == "player.js":
            continue
        code = path.read_text()
        for sign in ("ArrowRight", "PageDown", "steps.length", "current + 1", ".title;"):
            assert sign not in code, (path.name, sign)
    page = (Path(__file__).resolve().parent.parent / "viz" / "stepper.html").read_text()
    own = page.split("{{PLAYER}}", 1)[1]
    for sign in ("ArrowRight", "keydown", "steps.length", "step.text", ".title"):
        assert sign not in own, sign
    assert "{{PLAYER}}" in page  # the page holds the player itself, written in at build time


def test_the_step_through_page_holds_the_player_module(seed_neuron, tmp_path):
    page = backprop_html(seed_neuron, tmp_path / "p.html").read_text()
    assert (STATIC / "player.js").read_text() in page
    assert "http://" not in page.replace("http://www.w3.org", "") and "src=" not in page


def test_scene_numbers_are_finite_json_for_tensors_too():
    W = Value(np.arange(6.0).reshape(2, 3), label="W")
    loss = (W * W).sum()
    scene = build_scene(loss, lr=0.1)
    text = json.dumps(scene, allow_nan=False)
    assert '"value": null' in text and "mean" in text  # a tensor shows its summary
