"""viz: drawings, rendering with and without a system Graphviz, the step-through page, plots."""

import os
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from conftest import page_steps

from autograd import Value
from nn import MLP, History
from viz import backprop_html, draw_dot, draw_mlp, render, to_svg
from viz.graph import grad_colour, summary


@pytest.fixture
def no_system_dot(monkeypatch, tmp_path):
    """PATH without any directory holding `dot`."""
    dirs = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if not os.path.exists(os.path.join(d, "dot"))
    ]
    monkeypatch.setenv("PATH", os.pathsep.join(dirs))


def test_draw_dot_has_a_box_per_value_and_a_node_per_op(seed_neuron):
    out = seed_neuron
    src = draw_dot(out).source
    for text in ("x1", "w2", "data 0.9991", "grad 0.00182 ", "grad 1", "sigmoid"):
        assert text in src, text
    assert src.count("shape=record") == 10  # 5 leaves, 4 intermediates, out
    assert src.count("shape=circle") == 5  # *, *, +, +, sigmoid
    assert "blue > 0, orange < 0" in src


def test_colour_encodes_sign_and_size():
    assert grad_colour(0.0, 1.0) == "#ffffff"
    pos, neg = grad_colour(0.5, 1.0), grad_colour(-0.5, 1.0)
    assert pos != neg
    r, g, b = (int(pos[i : i + 2], 16) for i in (1, 3, 5))
    assert b > r  # blue-ish for positive
    r, g, b = (int(neg[i : i + 2], 16) for i in (1, 3, 5))
    assert r > b  # red-ish for negative
    assert int(grad_colour(1.0, 1.0)[1:3], 16) < int(
        grad_colour(0.1, 1.0)[1:3], 16
    )  # larger = darker


def test_tensors_show_shape_and_summary():
    W = Value(np.arange(12.0).reshape(3, 4), label="W")
    small = Value([1.0, 2.0], label="s")
    y = (W.sum(axis=0) * 0.5).sum() + (small * small).sum()
    y.backward()
    src = draw_dot(y).source
    assert "W (3, 4)" in src and "range [0, 11]" in src
    assert "[1, 2]" in src
    assert summary(np.array([1.0, 2.0])) == "[1, 2]"


def test_max_nodes_draws_a_summary():
    x = Value(1.0)
    y = x
    for _ in range(100):
        y = y * 1.01
    src = draw_dot(y, max_nodes=20).source
    assert src.count("shape=record") == 20
    assert re.search(r"… \d+ more values not drawn", src)


def test_svg_renders_without_system_graphviz(seed_neuron, no_system_dot, tmp_path):
    out = seed_neuron
    path = render(draw_dot(out), tmp_path / "neuron.svg")
    text = path.read_text()
    root = ET.fromstring(text[text.index("<svg") :])  # valid XML, an <svg> root
    assert root.tag.endswith("svg")
    assert "0.9991" in text
    with pytest.raises(RuntimeError, match="install"):
        render(draw_dot(out), tmp_path / "neuron.png")
    assert (
        draw_dot(out)
        ._repr_mimebundle_()["image/svg+xml"]
        .lstrip()
        .startswith(("<?xml", "<svg", "<!"))
    )


@pytest.mark.skipif(not __import__("shutil").which("dot"), reason="system Graphviz not installed")
def test_png_and_pdf_with_system_graphviz(seed_neuron, tmp_path):
    out = seed_neuron
    assert render(draw_dot(out), tmp_path / "n.png").read_bytes()[:4] == b"\x89PNG"
    assert render(draw_dot(out), tmp_path / "n.pdf").read_bytes()[:4] == b"%PDF"


def test_render_refuses_unknown_suffix(tmp_path):
    with pytest.raises(ValueError, match="format"):
        render(draw_dot(Value(1.0)), tmp_path / "x.jpg")
    assert "digraph" in render(draw_dot(Value(1.0)), tmp_path / "x.dot").read_text()


def test_draw_mlp_weights_and_grads():
    model = MLP(2, [3, 1], rng=0)
    model([1.0, -1.0]).backward()
    src = draw_mlp(model).source
    weights = [line for line in src.splitlines() if "->" in line and "invis" not in line]
    assert len(weights) == 2 * 3 + 3
    assert "hidden 1" in src and "output" in src
    grads = draw_mlp(model, show="grads").source
    assert grads != src
    vec = draw_mlp(model.vectorize()).source
    assert vec.count("->") == src.count("->")
    with pytest.raises(ValueError):
        draw_mlp(model, show="biases")
    svg = to_svg(draw_mlp(model, input_names=["first", "second"]))
    assert svg.count('<g id="edge') == 9  # the chains that keep the order are invisible
    assert _node_y(svg, "first") < _node_y(svg, "second")  # inputs stay in order, top down


def _node_y(svg: str, text: str) -> float:
    """The y of the SVG text element reading ``text``."""
    return float(
        re.search(rf'<text[^>]* y="([-\d.]+)"[^>]*>{re.escape(text)}</text>', svg).group(1)
    )


def test_backprop_page_is_self_contained_and_has_every_step(seed_neuron, tmp_path):
    out = seed_neuron
    path = backprop_html(out, tmp_path / "page.html")
    page = path.read_text()
    assert "http://" not in page.replace("http://www.w3.org", "") and "https://" not in page
    steps = page_steps(page)
    phases = [s["phase"] for s in steps]
    assert phases.count("forward") == 5 and phases.count("backward") == 7  # 5 ops, seed, done
    texts = "\n".join(s["text"] for s in steps)
    assert re.search(r"w1\.grad \+= x1 × v\d+\.grad = 2 × 0\.0009102 = 0\.00182", texts), texts
    assert "out = sigmoid(n) = sigmoid(7) = 0.9991" in texts
    assert "n.grad += out·(1 - out) × out.grad" in texts
    assert steps[0]["text"].endswith("x1 = 2, w1 = 0, x2 = 3, w2 = 1, b = 4")  # as given
    assert "(v1 + v2).grad" not in texts and "v1 = x1 * w1 = 2 * 0 = 0" in texts


def test_page_boxes_are_laid_out_for_the_widest_number_they_will_show(tmp_path):
    # A tensor's box was drawn around "grad ?" and the page later wrote "grad mean ...,
    # range [...]" into it, running over the data beside it: the layout now holds, for
    # every field, the widest text the walk writes there (here the final gradient and
    # the data after the SGD update).
    logits = Value(np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]]), label="logits")
    W = Value(np.eye(3), label="W")
    loss = ((logits @ W).tanh() * 2.0).sum()
    page = backprop_html(loss, tmp_path / "page.html").read_text()
    svg = page[page.index("<svg") : page.index("</svg>")]
    final = trace_totals(loss)
    for value in (logits, W):  # (Graphviz writes a minus sign as &#45;)
        assert f">grad {summary(final[value])}</text>".replace("-", "&#45;") in svg
    # draw_dot(texts=) replaces a box's k-th text from the end, and escapes it
    a = Value(1.0, label="a")
    source = draw_dot(a * 2.0, texts={"v2": {1: "grad <wide> 123456789"}}).source
    assert r"v1 | data 2 | grad \<wide\> 123456789 }" in source  # a record's escapes


def trace_totals(root: Value) -> dict:
    from autograd import trace_backward

    return {s.input: s.total for s in trace_backward(root, np.ones_like(root.data))}


def test_page_explains_a_library_neuron(tmp_path):
    from autograd import Value
    from nn import Neuron

    neuron = Neuron(2, activation="sigmoid")
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.0, 1.0, 4.0
    out = neuron([Value(2.0, label="x1"), Value(3.0, label="x2")])
    out.backward()
    page = backprop_html(out, tmp_path / "neuron.html").read_text()
    steps = page_steps(page)
    page = "\n".join(s["text"] for s in steps)
    assert re.search(r"v\d+ = w1·x1 \+ w2·x2 \+ b = 0·2 \+ 1·3 \+ 4 = 7", page)
    assert re.search(r"w2\.grad \+= x2 × v\d+\.grad = 3 × 0\.0009102 = 0\.002731", page)
    assert re.search(r"^x1\.grad \+= w1 × v\d+\.grad = 0 × 0\.0009102 = 0$", page, re.M)
    assert "w·x+b" in draw_dot(out).source


def test_plots_write_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    from viz.plots import plot_activations, plot_decision_boundary, plot_history, plot_neuron

    model = MLP(2, [4, 1], vectorized=True, rng=0)
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)
    h = History(
        loss=[1.0, 0.5, 0.2],
        accuracy=[0.5, 0.7, 0.9],
        val_loss=[1.1, 0.6, 0.3],
        val_accuracy=[0.4, 0.6, 0.8],
    )
    for path in (
        plot_decision_boundary(model, X, y, tmp_path / "b.png"),
        plot_history(h, tmp_path / "h.png"),
        plot_neuron(tmp_path / "n.png"),
        plot_activations(tmp_path / "a.png"),
        plot_decision_boundary(
            model, X, X[:, 0] * 0.3, tmp_path / "r.png", regression=True, extent=(-3, 3, -3, 3)
        ),
    ):
        data = path.read_bytes()
        assert data[:4] == b"\x89PNG" and len(data) > 5000


def test_animation_has_one_frame_per_snapshot_and_shows_change(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image, ImageChops

    from viz.plots import animate_boundaries, score_grid

    model = MLP(2, [4, 1], vectorized=True, rng=0)
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = np.where(X[:, 0] > 0, 1.0, -1.0)
    xs, ys, z = score_grid(model, (-3, 3, -3, 3), resolution=40)
    assert z.shape == (40, 40)
    # z[row, col] is the score at (xs[col], ys[row])
    from autograd import no_grad

    with no_grad():
        corner = model(np.array([[xs[5], ys[30]]])).data.item()
    assert z[30, 5] == pytest.approx(corner)
    path = animate_boundaries(
        [("one", z), ("two", -z), ("three", 0 * z)], xs, ys, X, y, tmp_path / "a.gif"
    )
    gif = Image.open(path)
    assert gif.n_frames == 3
    frames = []
    for k in range(3):
        gif.seek(k)
        frames.append(gif.convert("RGB"))
    assert ImageChops.difference(frames[0], frames[1]).getbbox() is not None
    with pytest.raises(ValueError):
        animate_boundaries([], xs, ys, X, y, tmp_path / "b.gif")


def test_attention_plot_is_one_heat_map_per_head_in_the_colour_language(tmp_path):
    pytest.importorskip("matplotlib")
    from matplotlib.colors import to_hex
    from PIL import Image

    from viz.plots import attention
    from viz.theme import NEUTRAL_HEX, POSITIVE_HEX

    scores = np.random.default_rng(0).normal(size=(2, 4, 4))
    causal = np.where(np.tri(4, dtype=bool), scores, -np.inf)
    weights = Value(causal).softmax(axis=-1)  # a Value is read as its numbers
    tokens = ["<bos>", "a", "$v", "a"]
    fig = attention(weights, tokens)  # no path: the figure, to show or save
    maps = [ax for ax in fig.axes if ax.images and ax.get_xlabel()]
    assert len(maps) == 2 and [ax.get_title() for ax in maps] == ["head 1", "head 2"]
    for head, ax in enumerate(maps):
        image = ax.images[0]
        grid = image.get_array()
        assert grid.shape == (4, 4)  # rows: queries, columns: keys
        np.testing.assert_allclose(grid.filled(0.0), weights.data[head])
        assert grid.mask.sum() == 6  # the keys after each query: the causal mask
        assert [t.get_text() for t in ax.get_xticklabels()] == ["<bos>", "a", r"\$v", "a"]
        assert to_hex(image.cmap(image.norm(1.0))) == POSITIVE_HEX
        assert to_hex(image.cmap(image.norm(0.0))) == "#ffffff"
        assert to_hex(image.cmap.get_bad()) == NEUTRAL_HEX
    numbers = [t.get_text() for t in maps[0].texts]
    assert len(numbers) == 10 and numbers[0] == "1.00"  # each visible weight, 2 decimals
    path = attention(weights.data[0], tokens, tmp_path / "one.png", title="head 1")
    both = attention(weights, tokens, tmp_path / "two.png")
    one_w, one_h = Image.open(path).size
    two_w, two_h = Image.open(both).size
    assert one_w < 700 and one_h < 600 and two_w > 1.6 * one_w and abs(two_h - one_h) < 40


@pytest.mark.parametrize(
    "weights, tokens, message",
    [
        (np.ones((2, 3)), "abc", r"\(T, T\) or \(heads, T, T\)"),
        (np.full((3, 3), 1 / 3), "ab", "3 positions but 2 tokens"),
        (np.full((3, 3), np.nan), "abc", "probabilities"),
        (np.full((3, 3), 2.0), "abc", "probabilities"),
        (np.full((65, 65), 1 / 65), ["t"] * 65, "at most 16 heads of 64 positions"),
        ("weights", "abc", "must be numbers"),
    ],
)
def test_attention_plot_refuses_what_is_not_attention_in_one_line(weights, tokens, message):
    pytest.importorskip("matplotlib")
    from viz.plots import attention

    with pytest.raises(ValueError, match=message) as info:
        attention(weights, tokens)
    assert "\n" not in str(info.value)
