"""The nn layers added for breadth (issue 14): CNN layers, norms, embeddings, activation
modules, per-layer activations and initialization by name, against PyTorch (float64)."""

import math

import numpy as np
import pytest
from conftest import assert_like_torch

from autograd import Value
from nn import (
    ELU,
    GELU,
    MLP,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Embedding,
    Flatten,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    Neuron,
    ReLU,
    Sequential,
    SiLU,
    Softplus,
    init,
)
from nn.activations import ACTIVATIONS

torch = pytest.importorskip("torch")
tnn = torch.nn


def _copy(ours, theirs):
    with torch.no_grad():
        for name, p in ours.named_parameters():
            getattr(theirs, {"b": "bias"}.get(name, name)).copy_(torch.tensor(p.data))


def _check(ours, theirs, x, rng):
    """Same outputs and same gradients (input and parameters) as torch."""
    v = Value(x)
    t = torch.tensor(x, requires_grad=True)
    out, tout = ours(v), theirs(t)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = rng.normal(size=out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, p in ours.named_parameters():
        tp = getattr(theirs, {"b": "bias"}.get(name, name))
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("groups, stride, padding", [(1, 1, 1), (2, 2, 0), (1, (2, 1), (0, 2))])
def test_conv2d_layer_matches_torch(groups, stride, padding):
    rng = np.random.default_rng(0)
    ours = Conv2d(4, 6, (3, 2), stride=stride, padding=padding, groups=groups, rng=0)
    theirs = tnn.Conv2d(4, 6, (3, 2), stride=stride, padding=padding, groups=groups).double()
    _copy(ours, theirs)
    _check(ours, theirs, rng.normal(size=(2, 4, 7, 6)), rng)


def test_a_small_cnn_matches_torch_end_to_end():
    rng = np.random.default_rng(1)
    ours = Sequential(
        Conv2d(1, 4, 3, padding=1, rng=0),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 8, 3, padding=1, rng=1),
        AvgPool2d(2),
        Flatten(),
        Linear(8 * 2 * 2, 10, rng=2),
    )
    theirs = tnn.Sequential(
        tnn.Conv2d(1, 4, 3, padding=1),
        tnn.ReLU(),
        tnn.MaxPool2d(2),
        tnn.Conv2d(4, 8, 3, padding=1),
        tnn.AvgPool2d(2),
        tnn.Flatten(),
        tnn.Linear(8 * 2 * 2, 10),
    ).double()
    with torch.no_grad():
        for k in (0, 3):
            theirs[k].weight.copy_(torch.tensor(ours.modules[k].weight.data))
            theirs[k].bias.copy_(torch.tensor(ours.modules[k].b.data))
        theirs[6].weight.copy_(torch.tensor(ours.modules[6].W.data.T))
        theirs[6].bias.copy_(torch.tensor(ours.modules[6].b.data))
    x = rng.normal(size=(3, 1, 8, 8))
    out, tout = ours(x), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(ours.modules[0].weight.grad, theirs[0].weight.grad, rtol=1e-9)


def test_layer_norm_matches_torch():
    rng = np.random.default_rng(2)
    ours, theirs = LayerNorm((3, 4)), tnn.LayerNorm((3, 4)).double()
    ours.weight.data[...] = rng.normal(size=(3, 4))
    ours.b.data[...] = rng.normal(size=(3, 4))
    _copy(ours, theirs)
    _check(ours, theirs, rng.normal(size=(5, 3, 4)), rng)


@pytest.mark.parametrize("kind, shape", [("1d", (6, 3)), ("1d", (4, 3, 5)), ("2d", (4, 3, 5, 2))])
def test_batch_norm_matches_torch_in_training_and_evaluation(kind, shape):
    rng = np.random.default_rng(3)
    ours = (BatchNorm1d if kind == "1d" else BatchNorm2d)(3, momentum=0.2)
    theirs = (tnn.BatchNorm1d if kind == "1d" else tnn.BatchNorm2d)(3, momentum=0.2).double()
    ours.weight.data[...] = rng.normal(size=3)
    ours.b.data[...] = rng.normal(size=3)
    _copy(ours, theirs)
    for _ in range(3):
        _check(ours, theirs, rng.normal(2.0, 3.0, size=shape), rng)
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    ours.eval()
    theirs.eval()
    _check(ours, theirs, rng.normal(size=shape), rng)


def test_embedding_matches_torch_and_repeated_ids_add_up():
    ours, theirs = Embedding(7, 3, rng=0), tnn.Embedding(7, 3).double()
    _copy(ours, theirs)
    ids = np.array([[1, 4, 1], [6, 0, 1]])
    out, tout = ours(ids), theirs(torch.tensor(ids))
    np.testing.assert_array_equal(out.data, tout.detach().numpy())
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_array_equal(ours.weight.grad, theirs.weight.grad.numpy())
    assert ours.weight.grad[1].tolist() == [3.0, 3.0, 3.0]
    with pytest.raises(ValueError, match=r"Embedding.*\[0, 6\]"):
        ours([7])


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (LeakyReLU(0.2), tnn.LeakyReLU(0.2)),
        (GELU(), tnn.GELU()),
        (GELU("tanh"), tnn.GELU("tanh")),
        (SiLU(), tnn.SiLU()),
        (Softplus(), tnn.Softplus()),
        (ELU(0.5), tnn.ELU(0.5)),
    ],
)
def test_activation_modules_match_torch(ours, theirs):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(4, 5))
    x = np.sign(x) * (0.1 + np.abs(x))  # away from the kinks at 0
    _check(ours, theirs, x, rng)
    assert [v.data for v in ours([Value(1.5), Value(-0.5)])] == pytest.approx(
        theirs(torch.tensor([1.5, -0.5], dtype=torch.float64)).tolist(), rel=1e-12
    )


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_registered_activation_works_everywhere_by_name(name):
    vec = MLP(3, [4, 2], activation=name, vectorized=True, rng=0)
    sca = vec.scalarize()
    x = np.random.default_rng(5).normal(size=(2, 3))
    np.testing.assert_allclose(vec(x).data, [[v.data for v in row] for row in sca(x)], rtol=1e-12)
    assert Neuron(3, activation=name, rng=0)([1.0, 2.0, 3.0]).shape == ()


def test_mlp_takes_one_activation_per_layer():
    m = MLP(2, [5, 5, 1], activation=["relu", "gelu"], vectorized=True, rng=0)
    assert m.activations == ["relu", "gelu", "linear"]
    m2 = MLP(2, [5, 1], activation=["silu", "sigmoid"], rng=0)
    assert m2.activations == ["silu", "sigmoid"]
    x = np.array([[0.3, -0.2]])
    h = (x @ m.layers[0].W.data + m.layers[0].b.data).clip(0)
    z = h @ m.layers[1].W.data + m.layers[1].b.data
    h2 = Value(z).gelu().data @ m.layers[2].W.data + m.layers[2].b.data
    np.testing.assert_allclose(m(x).data, h2, rtol=1e-12)
    with pytest.raises(ValueError, match="3 activations for 2 layers"):
        MLP(2, [5, 1], activation=["relu"] * 3)
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(2, [5, 1], activation=["relu", "swishy"])


def test_initialization_by_name_has_the_documented_spread():
    fan_in, fan_out = 400, 600
    expect = {
        "gaussian": math.sqrt(1 / fan_in),
        "xavier_normal": math.sqrt(2 / (fan_in + fan_out)),
        "glorot_uniform": math.sqrt(6 / (fan_in + fan_out)) / math.sqrt(3),
        "he_normal": math.sqrt(2 / fan_in),
        "kaiming_uniform": math.sqrt(6 / fan_in) / math.sqrt(3),
    }
    for name, std in expect.items():
        w = Linear(fan_in, fan_out, init=name, rng=0).W.data
        assert w.std() == pytest.approx(std, rel=0.02), name
        assert abs(w.mean()) < 0.01 * std * 10
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert (
        np.abs(init.initial_weights((50, 50), fan_in, fan_out, "xavier_uniform", rng=1)).max()
        <= bound
    )
    conv = Conv2d(8, 16, 3, init="he_normal", rng=0)
    assert conv.weight.data.std() == pytest.approx(math.sqrt(2 / (8 * 9)), rel=0.05)
    assert MLP(2, [3, 1], init="xavier_uniform", rng=0).layers[0].init == "xavier_uniform"
    with pytest.raises(ValueError, match="unknown initialization 'lecun'"):
        Linear(2, 2, init="lecun")


def test_layers_rebuild_from_their_config(tmp_path):
    for m in (
        Conv2d(2, 4, 3, stride=2, padding=1, rng=0),
        MaxPool2d(2),
        AvgPool2d(3, 1, 1),
        LayerNorm(5),
        BatchNorm2d(4),
        Embedding(5, 2, rng=0),
        MLP(2, [3, 1], activation=["elu"], vectorized=True, init="he_uniform", rng=0),
    ):
        path = tmp_path / f"{type(m).__name__}.npz"
        m.save(path)
        again = Module.load(path)
        assert again.config() == m.config()
        for (name, p), (_, q) in zip(m.named_parameters(), again.named_parameters()):
            np.testing.assert_array_equal(p.data, q.data, err_msg=name)


def test_layer_input_errors_name_the_layer_and_the_shape():
    with pytest.raises(ValueError, match=r"LayerNorm.*\(4,\).*\(2, 3\)"):
        LayerNorm(4)(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm2d.*3 channels.*\(2, 4, 5, 5\)"):
        BatchNorm2d(3)(np.ones((2, 4, 5, 5)))
    with pytest.raises(ValueError, match="conv2d.*channels"):
        Conv2d(3, 4, 3)(np.ones((1, 2, 5, 5)))
    with pytest.raises(ValueError, match="Conv2d: groups"):
        Conv2d(3, 4, 3, groups=2)


# ------------------------------------------------------------------ optimizers and schedules
from nn import (  # noqa: E402
    SGD,
    Adagrad,
    AdamW,
    CosineAnnealingLR,
    ReduceLROnPlateau,
    RMSprop,
    augment,
    fit,
    predict,
)

OPTIMIZERS = [
    (
        lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    ),
    (lambda p: AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    (
        lambda p: AdamW(p, lr=0.02, betas=(0.8, 0.9), weight_decay=0.1),
        lambda p: torch.optim.AdamW(p, lr=0.02, betas=(0.8, 0.9), weight_decay=0.1),
    ),
    (lambda p: RMSprop(p), lambda p: torch.optim.RMSprop(p)),
    (
        lambda p: RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
        lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True, weight_decay=0.1),
    ),
    (lambda p: Adagrad(p, lr=0.1), lambda p: torch.optim.Adagrad(p, lr=0.1)),
    (
        lambda p: Adagrad(
            p, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5
        ),
        lambda p: torch.optim.Adagrad(
            p, lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5
        ),
    ),
]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_optimizers_match_torch_step_for_step(make):
    ours_opt, torch_opt = make
    rng = np.random.default_rng(6)
    w0, x = rng.normal(size=(3, 2)), rng.normal(size=(5, 3))
    w, tw = Value(w0), torch.tensor(w0, requires_grad=True)
    opt, topt = ours_opt([w]), torch_opt([tw])
    for _ in range(8):
        loss = ((Value(x) @ w).tanh() ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        tloss = (torch.tanh(torch.tensor(x) @ tw) ** 2).sum()
        topt.zero_grad()
        tloss.backward()
        topt.step()
        np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_cosine_annealing_and_plateau_match_torch():
    w, tw = Value([1.0]), torch.zeros(1, requires_grad=True)
    opt, topt = SGD([w], lr=0.5), torch.optim.SGD([tw], lr=0.5)
    ours, theirs = (
        CosineAnnealingLR(opt, T_max=7, eta_min=0.01),
        torch.optim.lr_scheduler.CosineAnnealingLR(topt, 7, 0.01),
    )
    for _ in range(7):
        topt.step()
        ours.step()
        theirs.step()
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
    opt, topt = SGD([w], lr=1.0), torch.optim.SGD([tw], lr=1.0)
    ours = ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1, min_lr=0.1)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(
        topt, factor=0.5, patience=2, cooldown=1, min_lr=0.1
    )
    for metric in [5, 4, 4, 4, 4, 4, 3.9999, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4]:
        topt.step()
        ours.step(metric)
        theirs.step(metric)
        assert opt.lr == pytest.approx(topt.param_groups[0]["lr"], rel=1e-12)
    assert opt.lr == 0.1  # down to min_lr


# ------------------------------------------------------------------ fit: l1, transform, predict
def test_fit_l1_transform_and_predict():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0)  # three classes
    seen = []

    def spy(xb):
        seen.append(xb.copy())
        return xb

    model = MLP(4, [8, 3], activation="gelu", vectorized=True, rng=0)
    history = fit(
        model,
        X,
        y,
        loss="cross_entropy",
        epochs=2,
        batch_size=20,
        transform=spy,
        val=(X[:10], y[:10]),
        progress=False,
        seed=0,
    )
    assert len(seen) == 6  # training batches only: never the validation data
    assert history.val_accuracy[-1] is not None
    pred = predict(model, X)
    assert pred.shape == (60,) and pred.dtype.kind == "i" and set(pred) <= {0, 1, 2}
    np.testing.assert_array_equal(pred, model(X).data.argmax(axis=1))
    sparse = MLP(4, [3], vectorized=True, rng=0)
    plain = MLP(4, [3], vectorized=True, rng=0)
    fit(sparse, X, y, loss="cross_entropy", epochs=30, l1=0.05, progress=False, seed=0)
    fit(plain, X, y, loss="cross_entropy", epochs=30, progress=False, seed=0)
    assert np.abs(sparse.layers[0].W.data).sum() < np.abs(plain.layers[0].W.data).sum()
    mse = MLP(4, [3], vectorized=True, rng=0)  # multi-class accuracy by argmax, any loss
    h = fit(mse, X, np.eye(3)[y], loss="mse", epochs=1, progress=False)
    assert h.accuracy[-1] is not None
    from nn.train import accuracy as acc

    multi_label = np.array([[1, 1, 0], [0, 1, 1]])  # bce reads every output on its own
    assert acc("bce", Value([[0.9, 0.8, 0.1], [0.2, 0.3, 0.9]]), multi_label) == 5 / 6
    assert acc("mse", Value([[0.9, 0.1, 0.0], [0.2, 0.3, 0.9]]), [0, 1]) == 0.5


def test_augmentations_are_reproducible_and_keep_the_input():
    img = np.random.default_rng(8).random((5, 1, 8, 8))
    before = img.copy()
    for make in (
        lambda: augment.shift(2, rng=0),
        lambda: augment.flip(0.5, rng=0),
        lambda: augment.rotate(15, rng=0),
        lambda: augment.noise(0.1, rng=0),
        lambda: augment.jitter(0.1, rng=0),
    ):
        a, b = make()(img), make()(img)
        np.testing.assert_array_equal(a, b)
        assert a.shape == img.shape
    np.testing.assert_array_equal(img, before)
    shifted = augment.shift(1, rng=0)(img[:, 0])
    assert shifted.shape == (5, 8, 8)
    turned = augment.rotate(90, rng=0)(np.ones((50, 7, 7)))  # the centre stays inside
    assert np.allclose(turned[:, 3, 3], 1.0)
    half = augment.rotate(0)(np.arange(9.0).reshape(1, 3, 3))
    np.testing.assert_allclose(half, np.arange(9.0).reshape(1, 3, 3), atol=1e-12)
    with pytest.raises(ValueError, match=r"augment.shift.*\(3, 4\)"):
        augment.shift(1)(np.ones((3, 4)))


def test_plateau_schedule_works_as_a_fit_callback():
    model = MLP(2, [1], vectorized=True, rng=0)
    opt = SGD(model.parameters(), lr=0.1)
    plateau = ReduceLROnPlateau(opt, patience=0, factor=0.5)
    X = np.zeros((4, 2))  # nothing to learn: the loss never improves after epoch one
    fit(model, X, np.zeros(4), optimizer=opt, epochs=3, callbacks=[plateau], progress=False)
    assert opt.lr == pytest.approx(0.025)


# ------------------------------------------------------------------ issue 25: Conv1d,
# ConvTranspose2d, GroupNorm, pooling ceil_mode, nll_loss
from nn import Conv1d, ConvTranspose2d, GroupNorm, from_torch, nll_loss, to_torch  # noqa: E402


@pytest.mark.parametrize(
    "settings", [{}, {"stride": 2, "padding": 1}, {"dilation": 2, "groups": 2, "bias": False}]
)
def test_conv1d_layer_matches_torch(settings):
    rng = np.random.default_rng(10)
    ours, theirs = Conv1d(4, 6, 3, rng=0, **settings), tnn.Conv1d(4, 6, 3, **settings).double()
    _copy(ours, theirs)
    _check(ours, theirs, rng.normal(size=(2, 4, 9)), rng)


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"stride": 2, "padding": 1, "output_padding": 1},
        {"stride": (2, 3), "dilation": 2, "groups": 2, "bias": False},
    ],
)
def test_conv_transpose2d_layer_matches_torch(settings):
    rng = np.random.default_rng(11)
    ours = ConvTranspose2d(4, 6, (3, 2), rng=0, **settings)
    theirs = tnn.ConvTranspose2d(4, 6, (3, 2), **settings).double()
    assert ours.weight.shape == tuple(theirs.weight.shape)
    _copy(ours, theirs)
    _check(ours, theirs, rng.normal(size=(2, 4, 5, 4)), rng)


@pytest.mark.parametrize(
    "groups, shape", [(1, (3, 4)), (2, (3, 4, 5)), (4, (2, 4, 3, 3)), (2, (2, 4, 1))]
)
@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_matches_torch(groups, shape, affine):
    rng = np.random.default_rng(12)
    ours, theirs = GroupNorm(groups, 4, affine=affine), tnn.GroupNorm(groups, 4, affine=affine)
    theirs = theirs.double()
    if affine:
        ours.weight.data[...] = rng.normal(size=4)
        ours.b.data[...] = rng.normal(size=4)
        _copy(ours, theirs)
    _check(ours, theirs, rng.normal(1.0, 2.0, size=shape), rng)
    with pytest.raises(ValueError, match=r"GroupNorm.*4 channels.*\(2, 3, 5\)"):
        ours(np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match="GroupNorm: num_groups=3 must divide num_channels=4"):
        GroupNorm(3, 4)


def test_pool_layers_take_ceil_mode():
    rng = np.random.default_rng(13)
    x = rng.normal(size=(2, 3, 7, 6))
    for ours, theirs in [
        (MaxPool2d(2, ceil_mode=True), tnn.MaxPool2d(2, ceil_mode=True)),
        (AvgPool2d(3, 2, 1, ceil_mode=True), tnn.AvgPool2d(3, 2, 1, ceil_mode=True)),
        (
            AvgPool2d(2, padding=1, count_include_pad=False, ceil_mode=True),
            tnn.AvgPool2d(2, padding=1, count_include_pad=False, ceil_mode=True),
        ),
    ]:
        _check(ours, theirs, x, rng)
        assert ours.config()["ceil_mode"] is True
    assert "ceil_mode" not in MaxPool2d(2).config()  # older files: the same description


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "shape, target",
    [
        ((5, 4), [0, 3, -100, 2, 1]),
        ((4,), 2),
        ((2, 3, 2, 2), [[[0, 2], [1, -100]], [[2, 2], [0, 1]]]),
        ((3, 4), [1, 1, 1]),
    ],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss_matches_torch(reduction, shape, target, weighted):
    rng = np.random.default_rng(14)
    logp = rng.normal(size=shape)
    weight = rng.uniform(0.5, 2.0, size=shape[0] if len(shape) == 1 else shape[1])
    x, t = Value(logp), torch.tensor(logp, requires_grad=True)
    out = nll_loss(x, target, weight if weighted else None, reduction=reduction)
    tout = torch.nn.functional.nll_loss(
        t, torch.tensor(target), torch.tensor(weight) if weighted else None, reduction=reduction
    )
    assert_like_torch(out, tout, [x], [t], rng, rtol=1e-12, atol=0)


def test_nll_loss_edges_and_bad_input():
    logp = Value([[-np.inf, 0.0], [0.0, -np.inf]])
    assert nll_loss(logp, [1, 0]).data == 0.0  # an impossible class not taken: no 0 * inf
    assert nll_loss(logp, [0, -100]).data == np.inf  # the impossible class taken: inf
    assert np.isnan(nll_loss(logp, [-100, -100]).data)  # nothing taken: 0 / 0, as torch
    x = Value(np.log([[0.9, 0.1]]))
    assert nll_loss(x, [1]).item() == pytest.approx(-np.log(0.1))
    for call, message in [
        (lambda: nll_loss(x, [2]), r"nll_loss: targets must be in \[0, 1\]"),
        (lambda: nll_loss(x, [0, 1]), r"nll_loss.*\(1, 2\).*\(2,\)"),
        (lambda: nll_loss(x, [0.5]), "nll_loss: targets must be integer"),
        (lambda: nll_loss(x, [0], reduction="avg"), "nll_loss: reduction"),
        (lambda: nll_loss(x, [0], weight=[1.0]), r"nll_loss: weight must have shape \(2,\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()


def _new_layers():
    return Sequential(
        Conv1d(2, 4, 3, padding=1, rng=0),
        GroupNorm(2, 4),
        Flatten(),
    ), Sequential(
        ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2, rng=1),
        GroupNorm(1, 4, eps=1e-3, affine=False),
        MaxPool2d(3, stride=2, ceil_mode=True),
        AvgPool2d(2, padding=1, count_include_pad=False, ceil_mode=True),
    )


def test_new_layers_go_to_torch_and_back_and_through_files(tmp_path):
    rng = np.random.default_rng(15)
    for model, x in zip(_new_layers(), (rng.normal(size=(3, 2, 6)), rng.normal(size=(2, 2, 5, 4)))):
        for _, p in model.named_parameters():
            p.data = rng.normal(size=p.shape)
        theirs = to_torch(model)
        out = model(x).data
        np.testing.assert_allclose(theirs(torch.tensor(x)).detach().numpy(), out, atol=1e-12)
        back = from_torch(theirs)
        assert repr(back) == repr(model)
        np.testing.assert_allclose(back(x).data, out, atol=1e-12)
        for suffix in (".safetensors", ".npz"):
            model.save(tmp_path / f"m{suffix}")
            again = Module.load(tmp_path / f"m{suffix}")
            assert repr(again) == repr(model)
            np.testing.assert_array_equal(again(x).data, out)


@pytest.mark.parametrize(
    "layer, error, message",
    [
        (
            tnn.ConvTranspose2d(1, 1, 3, stride=1, dilation=2, output_padding=1),
            TypeError,
            "output_padding",
        ),
        (tnn.ConvTranspose2d(1, 1, 2, padding_mode="zeros", stride=2).half(), TypeError, "float16"),
        (tnn.Conv1d(1, 1, 3, padding_mode="circular"), TypeError, "padding_mode='circular'"),
        (tnn.GroupNorm(2, 4, bias=False), TypeError, "bias=False"),
        (tnn.ConvTranspose2d(1, 1, 1, stride=30000), ValueError, r"stride \[30000, 30000\]"),
        (tnn.Conv1d(1, 1, 1, padding=15_000_000), ValueError, "Conv1d at .0. has padding"),
    ],
)
def test_torch_layers_we_cannot_take_are_one_line(layer, error, message):
    with pytest.raises(error, match=message) as err:
        from_torch(tnn.Sequential(layer))
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "description, message",
    [
        (
            {
                "class": "ConvTranspose2d",
                "config": {"in_channels": 1, "out_channels": 1, "kernel_size": 1, "stride": 30000},
            },
            r"ConvTranspose2d has stride \[30000, 30000\].* 900,060,001 numbers",
        ),
        (
            {
                "class": "ConvTranspose2d",
                "config": {"in_channels": 1, "out_channels": 1, "kernel_size": 3, "dilation": 9000},
            },
            r"dilation \[9000, 9000\]",
        ),
        (
            {
                "class": "Conv1d",
                "config": {
                    "in_channels": 1,
                    "out_channels": 1,
                    "kernel_size": 1,
                    "padding": 15_000_000,
                },
            },
            r"Conv1d has padding \[0, 15000000\]",
        ),
        (
            {"class": "GroupNorm", "config": {"num_groups": 1, "num_channels": 15_000_000}},
            "30,000,000 numbers",
        ),
    ],
)
def test_files_asking_the_new_layers_for_huge_images_are_refused_before_building(
    tmp_path, description, message
):
    import json

    from safetensors.numpy import save as st_save

    path = tmp_path / "huge.safetensors"
    path.write_bytes(st_save({}, metadata={"backproplab": json.dumps(description)}))
    with pytest.raises(ValueError, match=message) as err:
        Module.load(path)
    assert "\n" not in str(err.value)
