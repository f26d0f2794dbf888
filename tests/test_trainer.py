"""The Playground tab's training (viz/classroom/trainer.py) against TensorFlow Playground's
own definitions: its loss, its regularization and its update, ported here line by line
from its ``nn.ts`` and ``playground.ts`` (``forwardProp``, ``backProp``, ``updateWeights``,
``getLoss``) and computed independently of ``nn``; then the live settings and hostile CSV
files."""

import base64
import math

import numpy as np
import pytest

pytest.importorskip("pydantic")

from viz.classroom.settings import SettingsError  # noqa: E402
from viz.classroom.trainer import Trainer, read_csv  # noqa: E402


# ------------------------------------------------------------------ TensorFlow Playground
def tfp_forward(W, b, x):
    """nn.ts forwardProp with tanh everywhere (hidden and the classification output):
    each layer's total inputs and outputs, inputs first."""
    totals, outputs = [None], [list(x)]
    for Wl, bl in zip(W, b):
        total = [
            bl[j] + sum(Wl[i][j] * outputs[-1][i] for i in range(len(Wl))) for j in range(len(bl))
        ]
        totals.append(total)
        outputs.append([math.tanh(t) for t in total])
    return totals, outputs


def tfp_loss(W, b, points):
    """playground.ts getLoss: Errors.SQUARE (0.5 * (output - target)^2), averaged."""
    return sum(0.5 * (tfp_forward(W, b, x)[1][-1][0] - y) ** 2 for x, y in points) / len(points)


def tfp_epoch(W, b, points, lr, reg, rate):
    """playground.ts oneStep with batchSize = len(points): backProp on every point (the
    derivatives summed), then updateWeights: b -= lr * accInputDer / n and
    w -= (lr / n) * (accErrorDer + rate * regularization.der(w))."""
    n = len(points)
    acc_w = [[[0.0] * len(row) for row in Wl] for Wl in W]
    acc_b = [[0.0] * len(bl) for bl in b]
    for x, y in points:
        totals, outputs = tfp_forward(W, b, x)
        output_der = [outputs[-1][0] - y]  # Errors.SQUARE.der
        for layer in range(len(W), 0, -1):
            input_der = [
                d * (1 - math.tanh(t) ** 2) for d, t in zip(output_der, totals[layer])
            ]  # Activations.TANH.der
            for j, d in enumerate(input_der):
                acc_b[layer - 1][j] += d
                for i, source in enumerate(outputs[layer - 1]):
                    acc_w[layer - 1][i][j] += d * source
            output_der = [
                sum(W[layer - 1][i][j] * input_der[j] for j in range(len(input_der)))
                for i in range(len(W[layer - 1]))
            ]
    der = {"L1": lambda w: -1.0 if w < 0 else 1.0, "L2": lambda w: w, "none": lambda w: 0.0}[reg]
    W = [
        [
            [w - lr / n * (acc_w[li][i][j] + rate * der(w)) for j, w in enumerate(row)]
            for i, row in enumerate(Wl)
        ]
        for li, Wl in enumerate(W)
    ]
    b = [[v - lr * acc_b[li][j] / n for j, v in enumerate(bl)] for li, bl in enumerate(b)]
    return W, b


def small_run(reg="none", rate=0.0, lr=0.3):
    """A 2-3-1 tanh network on 20 points (10 train, one batch of 10), weights set by hand."""
    rng = np.random.default_rng(5)
    X = rng.uniform(-5, 5, (20, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)
    settings = {"dataset": "csv", "layers": [3], "batch": 10, "lr": lr, "reg": reg, "rate": rate}
    t = Trainer(settings, upload=(X, y, "classification"))
    W = [rng.normal(0, 0.7, layer.W.shape) for layer in t.model.layers]
    b = [rng.normal(0, 0.3, layer.b.shape) for layer in t.model.layers]
    for layer, Wl, bl in zip(t.model.layers, W, b):
        layer.W.data[...] = Wl
        layer.b.data[...] = bl
    points = [(list(f), float(label)) for f, label in zip(t.F_train, t.y_train)]
    return t, [Wl.tolist() for Wl in W], [bl.tolist() for bl in b], points


def test_the_loss_is_tensorflow_playgrounds_half_squared_error_averaged():
    t, W, b, points = small_run()
    assert len(points) == 10
    frame = t.frame()
    assert frame["train_loss"] == pytest.approx(tfp_loss(W, b, points), rel=1e-12)
    test = [(list(f), float(label)) for f, label in zip(t.F_test, t.y_test)]
    assert frame["test_loss"] == pytest.approx(tfp_loss(W, b, test), rel=1e-12)


@pytest.mark.parametrize("reg, rate", [("none", 0.0), ("L2", 0.3), ("L1", 0.1), ("L2", 3.0)])
def test_one_update_is_tensorflow_playgrounds_update(reg, rate):
    t, W, b, points = small_run(reg, rate)
    want_W, want_b = tfp_epoch(W, b, points, 0.3, reg, rate)
    t.step()  # one epoch of 10 training points in one batch of 10: one update
    for layer, Wl, bl in zip(t.model.layers, want_W, want_b):
        np.testing.assert_allclose(layer.W.data, Wl, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(layer.b.data, bl, rtol=1e-12, atol=1e-15)


def test_the_l2_term_is_rate_over_n_times_half_the_squared_weights():
    t, W, b, points = small_run("L2", 0.3)
    out = t.model(t.F_train)
    penalty = sum(0.5 * w * w for Wl in W for row in Wl for w in row)  # never the biases
    want = tfp_loss(W, b, points) + 0.3 / len(points) * penalty
    assert t.loss(out, t.y_train).data == pytest.approx(want, rel=1e-12)


# ------------------------------------------------------------------ live settings
def test_live_settings_change_the_run_without_a_restart():
    t = Trainer({"dataset": "circle", "layers": [4, 2]})
    for _ in range(3):
        t.step()
    W = t.model.layers[0].W.data.copy()
    t.update(dict(t.settings, lr=0.3, reg="L2", rate=0.01, activation="relu", batch=25))
    assert t.epoch == 3 and (t.model.layers[0].W.data == W).all()
    assert t.optimizer.lr == 0.3 and t.model.activations == ["relu", "relu", "tanh"]
    assert t.step()["epoch"] == 4
    with pytest.raises(ValueError, match="new run"):
        t.update(dict(t.settings, layers=[3]))


def test_a_weight_typed_in_is_used_and_bounded_by_the_schema():
    t = Trainer({"layers": [2]})
    t.set_parameter({"kind": "w", "layer": 1, "source": 1, "neuron": 0, "value": 2.5})
    assert t.model.layers[1].W.data[1, 0] == 2.5
    assert t.frame()["layers"][1]["weights"][1][0] == 2.5
    t.set_parameter({"kind": "b", "layer": 0, "neuron": 1, "value": -1.0})
    assert t.model.layers[0].b.data[1] == -1.0
    for bad, words in (
        ({"value": 5000}, "Value (value) must be a number from -1000 to 1000, got 5000"),
        ({"value": float("nan")}, "Value (value) must be a number from -1000 to 1000, got nan"),
        ({"layer": 5, "value": 1}, "Layer (layer) must be below 2"),
        ({"neuron": 7, "value": 1}, "layer 0 has 2 inputs and 2 neurons"),
    ):
        with pytest.raises(SettingsError) as err:
            t.set_parameter(dict({"kind": "w", "layer": 0, "source": 0, "neuron": 0}, **bad))
        assert str(err.value) == words


# ------------------------------------------------------------------ CSV files
ROWS = [f"{k % 7 - 3},{k % 5 - 2},{k % 2}" for k in range(40)]


def test_a_byte_order_mark_keeps_the_first_row_of_a_csv_without_header():
    X, y, task = read_csv("\ufeff" + "\n".join(ROWS))
    assert len(y) == 40 and task == "classification"


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_any_line_end_reads(end):
    X, y, _ = read_csv("x,y,label" + end + end.join(ROWS) + end)
    assert X.shape == (40, 2)


def test_huge_coordinates_scale_into_the_plane_without_overflow():
    rows = [f"{-1.7e308 if k % 2 else 1.7e308},{k},{k % 2}" for k in range(20)]
    X, y, _ = read_csv("\n".join(rows))
    assert np.isfinite(X).all() and X[:, 0].min() == -5.0 and X[:, 0].max() == 5.0
    t = Trainer({"dataset": "csv"}, upload=(X, y, "classification"))
    assert t.step()["diverged"] is None


def test_an_unreadable_csv_is_one_line_naming_the_row():
    with pytest.raises(SettingsError, match=r"^row \d+: "):
        read_csv("1,2,0\n" * 5 + '"unclosed,1,0\n' + "1,2,1\n" * 5 + '"a"b",1,0')


# ------------------------------------------------------------------ gradients per layer
def test_a_deep_sigmoid_nets_first_layer_gradients_vanish():
    frame = Trainer({"layers": [8] * 6, "activation": "sigmoid"}).frame()
    sizes = frame["gradient_sizes"]
    assert len(sizes) == 7
    for size, layer in zip(sizes, frame["layers"]):  # mean |∂loss/∂w| of each layer
        assert size == pytest.approx(np.mean(np.abs(layer["grads"])), rel=1e-12)
    assert sizes[0] < 1e-3 * sizes[-1]  # orders of magnitude below the last layer's
    tanh = Trainer({"layers": [8] * 6, "activation": "tanh"}).frame()["gradient_sizes"]
    assert tanh[0] > 100 * sizes[0]


# ------------------------------------------------------------------ one point's backprop
@pytest.mark.parametrize("dataset, layers", [("xor", [3]), ("gauss", [4, 2]), ("spiral3", [4])])
def test_one_points_walk_ends_with_the_update_its_gradient_makes(dataset, layers):
    from nn import cross_entropy, playground
    from viz.classroom.trainer import point_walk

    t = Trainer({"dataset": dataset, "layers": layers, "lr": 0.3, "seed": 3})
    t.step()
    k = 11
    walk = point_walk(t, k)
    scene = walk["scene"]
    names = {i: n["name"] for i, n in scene["nodes"].items()}
    model, F, y = t.model, t.F_train[k : k + 1], t.y_train[k : k + 1]
    model.zero_grad()
    out = model(F)
    loss = cross_entropy(out, y) if t.classes else playground.square_error(out, y)
    loss.backward()
    assert walk["loss"] == pytest.approx(float(loss.data), rel=1e-12)
    assert walk["output"] == pytest.approx(out.data[0].tolist(), rel=1e-12)
    update = scene["steps"][-1]
    assert update["phase"] == "update"
    after = {names[r["node"]]: r["value"] for r in update["reveal"]}
    for li, layer in enumerate(model.layers):
        W, b = layer.W.data - 0.3 * layer.W.grad, layer.b.data - 0.3 * layer.b.grad
        for j in range(W.shape[1]):
            assert after[f"L{li + 1}.n{j + 1}.b"] == pytest.approx(b[j], rel=1e-9, abs=1e-15)
            for i in range(W.shape[0]):
                got = after[f"L{li + 1}.n{j + 1}.w{i + 1}"]
                assert got == pytest.approx(W[i, j], rel=1e-9, abs=1e-15)
    assert len(after) == sum(p.data.size for p in model.parameters())
    assert walk["point"][:2] == t.X_train[k].round(4).tolist()


def test_a_large_networks_walk_goes_neuron_by_neuron_and_a_bad_point_is_one_line():
    from viz.classroom.trainer import point_walk

    features = ["x", "y", "xy", "x2", "y2", "sinx", "siny"]
    t = Trainer({"layers": [8] * 6, "features": features})
    scene = point_walk(t, 0)["scene"]
    backward = [s for s in scene["steps"] if s["phase"] == "backward"]
    assert all(s["input"] is None for s in backward)  # per neuron, not per line
    assert len(scene["steps"]) < 150
    for bad in (-1, 250, 1.5, "3", None):
        with pytest.raises(SettingsError, match="a training point's number, from 0 to 249"):
            point_walk(t, bad)


# ------------------------------------------------------------------ the fast frame path
def _reference_bytes(column: np.ndarray) -> str:
    """The frame's encoding as first written, one column at a time (the oracle)."""
    top = float(np.max(np.abs(column)))
    column = column / top if top > 1.0 and math.isfinite(top) else column
    q = np.round((np.clip(np.nan_to_num(column), -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)
    return base64.b64encode(q.tobytes()).decode("ascii")


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"activation": "relu", "reg": "L2", "rate": 0.01, "features": ["x", "y", "xy", "sinx"]},
        {"dataset": "spiral3", "layers": [5], "batch": 7},
    ],
)
def test_the_fast_frame_path_gives_nn_fits_numbers_bit_for_bit(settings):
    """Trainer.step trains with its own loop and encodes every heat map at once; the
    oracle trains the same model with ``nn.fit`` and encodes column by column."""
    from autograd import no_grad
    from nn import cross_entropy, fit
    from nn.activations import activate

    fast, slow = Trainer(settings), Trainer(settings)
    s = slow.settings
    for epoch in range(12):
        frame = fast.step()
        fit(
            slow.model,
            slow.F_train,
            slow.y_train,
            loss=slow.loss,
            optimizer=slow.optimizer,
            epochs=1,
            batch_size=s["batch"],
            progress=False,
            seed=s["seed"] * 7919 + epoch,
        )
    for a, b in zip(fast.model.parameters(), slow.model.parameters()):
        assert np.array_equal(a.data, b.data)
    model = slow.model
    model.zero_grad()
    slow.data_loss(model(slow.F_train), slow.y_train).backward()
    for layer, sent in zip(model.layers, frame["layers"]):
        assert sent["weights"] == layer.W.data.tolist()
        assert sent["grads"] == layer.W.grad.tolist()
        assert sent["bias_grads"] == layer.b.grad.tolist()
    with no_grad():
        out = model(slow.F_test).data
        if slow.classes:
            assert frame["test_loss"] == float(cross_entropy(model(slow.F_test), slow.y_test).data)
        else:
            assert frame["test_loss"] == float(0.5 * np.mean((out.ravel() - slow.y_test) ** 2))
            grid = model(slow.boundary_features).data.ravel()
            assert frame["boundary"] == _reference_bytes(grid)
        h = slow.heat_features
        assert frame["inputs"] == [_reference_bytes(c) for c in h.T]
        for layer, act, sent in zip(model.layers, model.activations, frame["layers"]):
            h = activate(layer(h), act).data
            assert sent["heat"] == [_reference_bytes(c) for c in h.T]
