"""Drawings at network scale: names from the model, collapsed graphs, size limits,
draw_mlp's layout, one colour language, projector sizes."""

import os
import re
import time

import numpy as np
import pytest

from autograd import Value
from nn import MLP, Layer, Linear, Module, Neuron, Sequential, Tanh
from nn.names import short_name
from viz import draw_dot, draw_mlp, to_svg
from viz.collapse import Box, forward_order, is_constant, names_for
from viz.format import summary
from viz.graph import cell_text, plan

MAX_LABEL = 48  # characters in one field of a box


@pytest.fixture(scope="module")
def net_loss():
    """A scalar 2-16-16-1 MLP's squared error on one sample, after backward()."""
    model = MLP(2, [16, 16, 1], rng=0)
    loss = (model([0.5, -1.0]) - 1.0) ** 2
    loss.backward()
    return model, loss


def _fields(src: str) -> list[str]:
    """Every field of every record label in a dot source."""
    fields = []
    for label in re.findall(r'label="((?:[^"\\]|\\.)*)"[^\n]*shape=record', src):
        fields += [f.strip(" {}") for f in re.split(r"(?<!\\)\|", label)]
    return fields


def test_parameters_are_labelled_by_module_path():
    model = MLP(2, [3, 1], rng=0)
    labels = [p.label for p in model.parameters()]
    assert labels[:3] == ["L1.n1.w1", "L1.n1.w2", "L1.n1.b"]
    assert labels[-1] == "L2.n1.b"
    paths = [name for name, _ in model.named_parameters()]  # Python's, as torch's state_dict
    assert paths[:2] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1"]
    assert labels == [short_name(path) for path in paths]
    assert [p.label for p in MLP(2, [3, 1], vectorized=True).parameters()] == [
        "L1.W",
        "L1.b",
        "L2.W",
        "L2.b",
    ]
    assert [p.label for p in Neuron(2).parameters()] == ["w1", "w2", "b"]
    assert Layer(2, 2).parameters()[4].label == "n2.w2"
    assert Linear(2, 2).W.label == "W"
    assert Sequential(Linear(2, 3), Tanh(), Linear(3, 1)).parameters()[2].label == "modules.2.W"
    assert short_name("layers.1.neurons.3.w.1") == "L2.n4.w2"

    class Net(Module):  # any model: labelled when its constructor returns
        def __init__(self):
            self.fc1, self.fc2 = Linear(2, 3), Linear(3, 1)

    class Wider(Net):
        def __init__(self):
            super().__init__()
            self.fc3 = Linear(1, 1)

    assert [p.label for p in Net().parameters()] == ["fc1.W", "fc1.b", "fc2.W", "fc2.b"]
    assert [p.label for p in Wider().parameters()][-2:] == ["fc3.W", "fc3.b"]
    assert short_name("layers.0.W") == "L1.W"


def test_names_are_unique_without_apostrophes(net_loss):
    _, loss = net_loss
    values = forward_order(loss)
    names = names_for(values)
    assert len(set(names.values())) == len(values)
    assert not any("'" in n for n in names.values())
    shown = set(names.values())
    assert {"L2.n4.w2", "L2.n4.z", "L2.n4", "L3.n1.w16", "out", "y", "e", "loss", "x1"} <= shown
    a, b = Value(1.0, label="a"), Value(2.0, label="a")
    assert sorted(names_for(forward_order(a + b)).values()) == ["a", "a #2", "v1"]
    two = (a * 2.0 + 2.0) * 3.0  # constants show their number, and may share it
    assert sorted(names_for(forward_order(two)).values()) == ["2", "2", "3", "a", "v1", "v2", "v3"]
    assert is_constant(two.parents[1]) and not is_constant(a)


def test_small_graphs_are_drawn_value_by_value(seed_neuron):
    src = draw_dot(seed_neuron).source
    assert src.count("shape=record") == 10 and src.count("shape=circle") == 5
    assert plan(seed_neuron).level is None


def test_network_graph_collapses_to_neurons_then_layers(net_loss):
    model, loss = net_loss
    auto = draw_dot(loss).source
    boxes = auto.count("shape=record")
    assert boxes <= 150 and plan(loss).level == "neuron"
    assert boxes == 33 + 2 + 3  # neurons, inputs x1 x2, the loss's nodes and constant
    assert "L2.n4: tanh(w·x + b)" in auto
    w = model.layers[2].neurons[0].w[4]
    assert f"w5 {w.grad:.4g}" in auto  # weight gradients in the neuron's table
    layer = draw_dot(loss, collapse="layer").source
    assert layer.count("shape=record") == 3 + 2 + 3
    assert "L2: 16 neurons, tanh" in layer
    fields = _fields(auto) + _fields(layer)
    assert max(map(len, fields)) <= MAX_LABEL, max(fields, key=len)
    assert not re.search(r"''", auto + layer)


def test_collapsed_drawing_lays_out_fast_without_system_dot(net_loss, monkeypatch):
    _, loss = net_loss
    path = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv("PATH", os.pathsep.join(d for d in path if not os.path.exists(d + "/dot")))
    start = time.perf_counter()
    svg = to_svg(draw_dot(loss))
    assert time.perf_counter() - start < 10
    width, height = (
        float(x) for x in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    )
    assert width * height < 1752 * 3193 * 1.5  # was 2755 x 15830 pt uncollapsed


def test_size_limits_are_checked_before_layout(net_loss):
    _, loss = net_loss
    with pytest.raises(ValueError, match="max_edges"):
        draw_dot(loss, collapse="neuron", max_edges=100)
    with pytest.raises(ValueError, match="collapse"):
        draw_dot(loss, collapse="weights")


def test_batches_get_one_box_per_sample_and_a_box_of_parameters():
    model = MLP(2, [3, 1], rng=0)
    outs = model([[0.5, -1.0], [1.0, 2.0]])
    loss = (outs[0] - 1.0) ** 2 + (outs[1] + 1.0) ** 2
    src = draw_dot(loss, collapse="neuron").source
    assert "L1.n2 #2" in src and "L1.n2 params" in src
    assert re.search(r'label="L1.n2 params \| \{ w1 \| data [-\d.e]+ \| grad [-\d.e]+ \}', src)
    layer = draw_dot(loss, collapse="layer").source
    assert 'label="L2 params | { weights | data' in layer and "0 neurons" not in layer
    assert "{ z | data" in layer  # one output neuron per sample: its z, no "#2" inside
    vec = MLP(2, [3, 1], vectorized=True, rng=0)
    out = vec(Value([[0.5, -1.0]], requires_grad=False)).sum()
    out.backward()
    assert "L1: tanh(x @ W + b)" in draw_dot(out, collapse="layer").source


def _circles_and_labels(svg: str) -> tuple[list, list]:
    """Neuron circles (cx, cy, r) and edge-label texts (x, y, text) in an SVG."""
    import xml.etree.ElementTree as ET

    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(svg[svg.index("<svg") :])
    circles = [
        (float(e.get("cx")), float(e.get("cy")), float(e.get("rx")))
        for e in root.iter(ns + "ellipse")
    ]
    labels = [
        (float(t.get("x")), float(t.get("y")), t.text)
        for g in root.iter(ns + "g")
        if g.get("class") == "edge"
        for t in g.iter(ns + "text")
    ]
    return circles, labels


@pytest.mark.parametrize(
    "sizes, theme",
    [((2, [3, 1]), "default"), ((3, [4, 2]), "default"), ((7, [8, 8, 1]), "projector")]
    + [((8, [16, 16, 1]), "default"), ((2, [3, 2]), "default"), ((2, [4, 3]), "projector")],
)
def test_draw_mlp_labels_never_overlap_neurons_or_each_other(sizes, theme):
    model = MLP(sizes[0], sizes[1], rng=0)
    svg = to_svg(draw_mlp(model, x=[0.5] * sizes[0], theme=theme))
    size = 15.0 if theme == "projector" else 9.0
    circles, labels = _circles_and_labels(svg)
    assert len(circles) == sizes[0] + sum(sizes[1])
    for x, y, text in labels:  # the text's box (y is its baseline) stays off every circle
        half = _width(text, size) / 2
        for cx, cy, r in circles:
            nearest_x = min(max(cx, x - half), x + half)
            nearest_y = min(max(cy, y - size * 0.75), y)
            assert (nearest_x - cx) ** 2 + (nearest_y - cy) ** 2 > r**2, (text, x, y)
    for i, (x1, y1, t1) in enumerate(labels):
        for x2, y2, t2 in labels[i + 1 :]:
            apart = abs(x1 - x2) >= (_width(t1, size) + _width(t2, size)) / 2
            apart = apart or abs(y1 - y2) >= size
            assert apart, (t1, t2)
    if sizes == (2, [3, 1]):
        assert len(labels) == 9  # every weight written on its edge
    if sizes[0] == 8:  # too many edges to write on: the weights show on hover
        assert labels == [] and "<title>" in svg
        assert "L1.n1.w1: weight from x1 to L1.n1" in svg  # by name, on hover


def test_draw_mlp_shows_biases_outputs_and_grads_in_one_font():
    model = MLP(2, [3, 1], rng=0)
    model([1.0, -1.0]).backward()
    src = draw_mlp(model, x=[1.0, -1.0]).source
    out = model([1.0, -1.0]).data
    assert f"out = {out:.2g}" in src and "b 0" in src and "L1.n3 = " in src
    grads = draw_mlp(model, show="grads").source
    assert "∇b" in grads and "gradient of the weight" in grads
    assert set(re.findall(r'fontname="?(\w+)', src)) == {"Helvetica"}


def test_projector_theme_is_larger_everywhere(seed_neuron):
    small, big = draw_dot(seed_neuron).source, draw_dot(seed_neuron, theme="projector").source
    size = lambda src: float(re.search(r"node \[fontname=Helvetica fontsize=([\d.]+)", src)[1])
    assert size(big) >= 1.5 * size(small)
    model = MLP(2, [3, 1], rng=0)
    assert size(draw_mlp(model, theme="projector").source) >= 1.5 * size(draw_mlp(model).source)
    with pytest.raises(ValueError, match="theme"):
        draw_dot(seed_neuron, theme="huge")


def test_one_colour_language():
    from viz.graph import grad_colour
    from viz.theme import NEGATIVE_HEX, POSITIVE_HEX

    assert (POSITIVE_HEX, NEGATIVE_HEX) == ("#0877bd", "#f59322")
    model = MLP(2, [3, 1], rng=0)
    src = draw_mlp(model, x=[1.0, -1.0]).source
    colours = set(re.findall(r'(?:color|fillcolor)="(#[0-9a-f]{6})"', src))
    assert _hue(grad_colour(1.0, 1.0)) == _hue(POSITIVE_HEX)
    assert _hue(grad_colour(-1.0, 1.0)) == _hue(NEGATIVE_HEX)
    hues = {_hue(c) for c in colours if _saturated(c)}
    assert hues <= {_hue(POSITIVE_HEX), _hue(NEGATIVE_HEX)}, colours


def _rgb(c):
    return tuple(int(c[i : i + 2], 16) for i in (1, 3, 5))


def _saturated(c):
    r, g, b = _rgb(c)
    return max(r, g, b) - min(r, g, b) > 40


def _hue(c):
    import colorsys

    return round(colorsys.rgb_to_hsv(*(v / 255 for v in _rgb(c)))[0], 1)


def _width(text: str, size: float = 9.0) -> float:
    """The width of a number in Helvetica at ``size`` points (its glyphs' advances)."""
    return size * sum(0.278 if c == "." else 0.333 if c == "-" else 0.556 for c in text)


def test_gif_frames_are_projector_sized_and_regression_has_a_colour_bar(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from viz.plots import animate_boundaries, plot_decision_boundary, score_grid

    model = MLP(2, [4, 1], vectorized=True, rng=0)
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    xs, ys, z = score_grid(model, (-3, 3, -3, 3), resolution=30)
    frames = [("epoch 0", z), ("epoch 10   test loss 0.123", -z)]
    small = Image.open(animate_boundaries(frames, xs, ys, X, y, tmp_path / "a.gif"))
    big = Image.open(
        animate_boundaries(frames, xs, ys, X, y, tmp_path / "b.gif", theme="projector")
    )
    assert small.size[0] >= 500 and big.size == (700, 640)  # fits 1280x720, type to match
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot_decision_boundary(model, X, X[:, 0], None, regression=True, ax=ax)
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "model output"
    plt.close(fig)


def test_cli_big_flag_enlarges_the_graph_and_the_page(tmp_path):
    from viz.classroom.cli import main

    assert main(["neuron", "--big", "--out", str(tmp_path / "big")]) == 0
    assert main(["neuron", "--out", str(tmp_path / "small")]) == 0
    size = lambda p: max(map(float, re.findall(r'font-size="([\d.]+)"', p.read_text())))
    assert size(tmp_path / "big/graph.svg") >= 1.5 * size(tmp_path / "small/graph.svg")
    assert '<body class="projector">' in (tmp_path / "big/backprop.html").read_text()


# ------------------------------------------------------------------ collapse="module"
GPT_BOXES = [
    "wte",
    "wpe",
    "x",
    "norm",
    "norm1.0",
    "attn.0",
    "x + attn.0",
    "norm2.0",
    "fc1.0",
    "fc2.0",
    "x + mlp.0",
    "lm_head",
    "loss",
]


@pytest.fixture(scope="module")
def gpt():
    from nn.gpt import MicroGPT, Tokenizer

    tok = Tokenizer(["emma", "ava", "olivia"])
    return tok, MicroGPT(tok.vocab_size, n_embd=8, n_head=2, rng=0)


def _unit_names(drawing) -> list[str]:
    return [u.name if isinstance(u, Box) else drawing.names[u] for u in drawing.units]


@pytest.mark.parametrize("mode", ["tensor", "scalar"])
def test_a_gpt_collapses_to_one_named_box_per_module_each_with_its_gradient(gpt, mode):
    tok, model = gpt
    net = model if mode == "tensor" else model.scalarize()
    loss = net.loss(tok.encode("ava"))
    loss.backward()
    drawing = plan(loss, "module")
    assert _unit_names(drawing) == GPT_BOXES  # the same parts, in order, in both modes
    for unit in drawing.units:  # every box shows a gradient, and it is the values' own
        uid = unit.id if isinstance(unit, Box) else drawing.unit_of[unit]
        grads = [c for row in drawing.cells[uid] for c in row if c[0] == "grad"]
        assert grads, uid
        for cell in grads:
            numbers = [np.ravel(v.grad) for v in cell[1]]
            shown = numbers[0] if len(numbers) == 1 and cell[1][0].ndim else np.concatenate(numbers)
            assert cell_text(cell) == f"grad {summary(shown if shown.size > 1 else shown[0])}"
    boxes = {u.name: u for u in drawing.units if isinstance(u, Box)}
    used = set(drawing.values)  # (a scalar model uses a few rows of its embeddings)
    for p in [p for p in net.parameters() if p in used]:  # attn.0.Wq in attn.0
        assert p in boxes[re.sub(r"\.(W\w?|weight)(\[.*)?$", "", p.label)].members, p.label
    src = draw_dot(loss, collapse="module").source
    assert "rankdir=TB" in src and src.count("shape=record") == len(GPT_BOXES)
    heads = ", 2 heads" if mode == "tensor" else ""
    for text in (f"attn.0: attention{heads}", "fc1.0: relu(x @ W)", "fc2.0: x @ W"):
        assert text in src
    assert "norm1.0: x / √(mean(x²) + ε)" in src and "wpe" in src
    titles = {uid: rows[0][0][2] for uid, rows in drawing.cells.items()}
    between = {(titles[a], titles[b]) for a, b, _ in drawing.edges if a in titles and b in titles}
    assert (f"attn.0: attention{heads}", "norm2.0: x / √(mean(x²) + ε)") not in between
    assert ("fc1.0: relu(x @ W)", "fc2.0: x @ W") in between  # box to box, no op between


def test_a_gpt_drawn_by_module_fits_a_page_and_reads_top_down(gpt):
    tok, model = gpt
    loss = model.loss(tok.encode("olivia"))
    loss.backward()
    svg = to_svg(draw_dot(loss, collapse="module"))
    width, height = (
        float(x) for x in re.search(r'width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups()
    )
    assert width < 960 and height < 1600  # 960 pt is 1280 px wide; 57 values in 13 boxes
    assert len(forward_order(loss)) == 57


def test_module_boxes_stop_at_other_modules_and_leave_the_input_out():
    class Shared(Module):  # fc runs twice, mid between: mid keeps its own box
        def __init__(self):
            self.fc, self.mid = Linear(2, 2, rng=0), Linear(2, 2, rng=1)

        def forward(self, x):
            return self.fc(self.mid(self.fc(x).tanh()) * 3.0)

    net = Shared()
    out = net(np.ones((1, 2))).sum()
    out.backward()
    drawing = plan(out, "module")
    assert _unit_names(drawing) == ["x", "mid", "3", "v1", "fc", "out #2"]
    fc, mid = drawing.units[4], drawing.units[1]
    assert [drawing.names[v] for v in fc.members] == ["fc.W", "fc.b", "fc.z", "fc", "fc.z #2"]
    assert [v.op for v in mid.members] == ["", "", "linear"]  # not the tanh, not the * 3


def test_an_mlp_by_module_is_one_box_per_layer():
    model = MLP(2, [3, 1], vectorized=True, rng=0)
    loss = ((model(Value([[0.5, -1.0]], requires_grad=False)) - 1.0) ** 2).sum()
    loss.backward()
    assert _unit_names(plan(loss, "module")) == ["x", "L1", "L2", "y", "e", "e²", "loss"]
    src = draw_dot(loss, collapse="module").source
    assert "L1: tanh(x @ W + b)" in src and "L2: x @ W + b" in src


def test_a_bad_collapse_names_every_level(net_loss):
    with pytest.raises(ValueError, match=r"'neuron', 'layer', 'module', 'auto' or None"):
        draw_dot(net_loss[1], collapse="modules")
