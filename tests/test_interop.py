"""The PyTorch bridge: equal outputs and gradients both ways, training continued in torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from nn import (
    ELU,
    GELU,
    MLP,
    SGD,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv2d,
    Dropout,
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
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
    datasets,
    from_torch,
    mse_loss,
    to_torch,
)

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
X = RNG.normal(size=(16, 3))


def our_models():
    return {
        "mlp_scalar": MLP(3, [5, 4, 2], activation="relu", output_activation="tanh", rng=0),
        "mlp_vectorized": MLP(3, [6, 4, 1], output_activation="sigmoid", vectorized=True, rng=1),
        "linear_no_bias": Linear(3, 2, bias=False, rng=2),
        "sequential": Sequential(
            Linear(3, 8, rng=3),
            Tanh(),
            Dropout(0.3),
            Sequential(Linear(8, 4, rng=4), ReLU()),
            Linear(4, 2, rng=5),
            Sigmoid(),
        ),
    }


def our_forward(model, x: np.ndarray) -> Value:
    if isinstance(model, MLP) and not model.vectorized:
        out = model(x)  # a list of rows, each a list of Values
        rows = [r if isinstance(r, list) else [r] for r in out]
        from autograd import stack

        return stack([stack(r) for r in rows])
    return model(x)


def grads_in_torch_layout(model) -> dict:
    """Our gradients, laid out as torch's parameters (through to_torch itself)."""
    saved = model.state_dict()
    model.load_state_dict({**saved, **{n: np.asarray(p.grad) for n, p in model.named_parameters()}})
    tm = to_torch(model)
    grads = {k: v.detach().numpy() for k, v in tm.named_parameters()}
    model.load_state_dict(saved)
    return grads


@pytest.mark.parametrize("name", list(our_models()))
def test_to_torch_gives_equal_outputs_and_gradients(name):
    model = our_models()[name].eval()
    tm = to_torch(model)
    assert not tm.training
    weights = RNG.normal(size=(16, 2 if name != "mlp_vectorized" else 1))
    out = our_forward(model, X)
    (out * weights).sum().backward()
    tx = torch.tensor(X)
    tout = tm(tx)
    (tout * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(tout.detach().numpy(), out.data, rtol=0, atol=1e-12)
    ours = grads_in_torch_layout(model)
    theirs = {n: p.grad.numpy() for n, p in tm.named_parameters()}
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(theirs[key], ours[key], rtol=0, atol=1e-12, err_msg=key)


def test_from_torch_gives_equal_outputs_and_gradients():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(
        torch.nn.Linear(3, 8),
        torch.nn.Tanh(),
        torch.nn.Dropout(0.1),
        torch.nn.Linear(8, 4, bias=False),
        torch.nn.ReLU(),
        torch.nn.Linear(4, 1),
        torch.nn.Sigmoid(),
    ).double()
    tm.eval()
    model = from_torch(tm)
    assert not model.training
    assert isinstance(model, Sequential) and isinstance(model.modules[2], Dropout)
    out = model(X)
    out.sum().backward()
    tout = tm(torch.tensor(X))
    tout.sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=0, atol=1e-12)
    theirs = {n: p.grad.numpy() for n, p in tm.named_parameters()}
    ours = grads_in_torch_layout(model)
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=1e-12, err_msg=key)


def test_the_docstring_examples():
    import doctest

    import nn.interop

    text = nn.interop.to_torch.__doc__ + "\n\n" + nn.interop.from_torch.__doc__
    text = text.replace("# doctest: +SKIP", "")
    test = doctest.DocTestParser().get_doctest(text, dict(vars(nn.interop)), "interop", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.failures == 0 and runner.tries == 5


def test_round_trip_keeps_float32_and_the_numbers():
    model = MLP(3, [4, 2], vectorized=True, dtype="float32", rng=0)
    tm = to_torch(model)
    assert tm[0].weight.dtype == torch.float32
    back = from_torch(tm)
    assert back.modules[0].W.dtype == np.float32
    np.testing.assert_array_equal(back(X).data, model(X).data)


def test_unsupported_layers_are_a_type_error_naming_them():
    with pytest.raises(TypeError, match=r"torch\.nn\.Conv3d at '1' is not supported"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Conv3d(1, 1, 3)))
    with pytest.raises(TypeError, match=r"Neuron at 'modules\.1' has no PyTorch counterpart"):
        to_torch(Sequential(Linear(2, 2), Neuron(2)))

    class Custom(torch.nn.Linear):
        pass

    with pytest.raises(TypeError, match=r"test_interop\.Custom at '0' is not supported"):
        from_torch(torch.nn.Sequential(Custom(2, 2)))
    with pytest.raises(TypeError, match=r"Linear '' holds torch\.float16"):
        from_torch(torch.nn.Linear(2, 2).half())


def test_train_five_steps_here_then_five_in_torch_equals_ten_in_torch():
    X, y = datasets.make_moons(64, noise=0.1, seed=0)
    y = y.reshape(-1, 1).astype(float)
    model = MLP(2, [8, 8, 1], vectorized=True, rng=0)
    reference = to_torch(model)
    initial = {k: v.clone() for k, v in reference.state_dict().items()}
    ref_opt = torch.optim.SGD(reference.parameters(), lr=0.1)
    tx, ty = torch.tensor(X), torch.tensor(y)
    for _ in range(10):
        ref_opt.zero_grad()
        torch.nn.functional.mse_loss(reference(tx), ty).backward()
        ref_opt.step()

    opt = SGD(model.parameters(), lr=0.1)
    for _ in range(5):
        opt.zero_grad()
        mse_loss(model(X), y).backward()
        opt.step()
    moved = to_torch(model)
    moved_opt = torch.optim.SGD(moved.parameters(), lr=0.1)
    for _ in range(5):
        moved_opt.zero_grad()
        torch.nn.functional.mse_loss(moved(tx), ty).backward()
        moved_opt.step()

    for key, value in moved.state_dict().items():
        np.testing.assert_allclose(
            value.numpy(), reference.state_dict()[key].numpy(), rtol=0, atol=1e-12
        )
    assert (reference.state_dict()["0.weight"] - initial["0.weight"]).abs().max() > 1e-3


@pytest.mark.parametrize("name", ["mlp_scalar", "mlp_vectorized", "sequential"])
def test_saved_safetensors_load_into_the_torch_model(tmp_path, name):
    from safetensors.torch import load_file

    model = our_models()[name].eval()
    model.save(tmp_path / "m.safetensors")
    tm = to_torch(our_models()[name].eval())
    for p in tm.parameters():  # other numbers, to see the file's arrive
        torch.nn.init.zeros_(p)
    tm.load_state_dict(load_file(tmp_path / "m.safetensors"))
    expected = our_forward(model, X).data
    np.testing.assert_allclose(tm(torch.tensor(X)).detach().numpy(), expected, rtol=0, atol=1e-12)
    tm.load_state_dict(to_torch(model).state_dict())  # torch's own names still work


@settings(max_examples=30, derandomize=True, deadline=None)
@given(
    nin=st.integers(1, 4),
    nouts=st.lists(st.integers(1, 5), min_size=1, max_size=3),
    activation=st.sampled_from(["tanh", "relu", "sigmoid", "linear"]),
    output_activation=st.sampled_from(["tanh", "relu", "sigmoid", "linear"]),
    vectorized=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_any_mlp_matches_torch(nin, nouts, activation, output_activation, vectorized, seed):
    model = MLP(nin, nouts, activation, output_activation, vectorized=vectorized, rng=seed)
    x = np.random.default_rng(seed).normal(size=(5, nin))
    out = our_forward(model, x)
    (out * out).sum().backward()
    tm = to_torch(model)
    tout = tm(torch.tensor(x))
    (tout * tout).sum().backward()
    np.testing.assert_allclose(
        tout.detach().numpy().reshape(out.shape), out.data, rtol=0, atol=1e-12
    )
    ours = grads_in_torch_layout(model)
    for n, p in tm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), ours[n], rtol=0, atol=1e-12, err_msg=n)


# ------------------------------------------------------------------ conv, norm, activations
IMAGES = RNG.normal(size=(6, 2, 9, 9))


def our_layered_models() -> dict:
    """(model, input) pairs covering every new layer type and its settings."""
    return {
        "cnn": (
            Sequential(
                Conv2d(2, 4, 3, padding=1, rng=0),
                BatchNorm2d(4, momentum=0.3),
                ReLU(),
                MaxPool2d(2),
                Conv2d(4, 6, 3, rng=1),
                AvgPool2d(2, stride=1),
                Flatten(),
                Linear(6, 3, rng=2),
            ),
            IMAGES,
        ),
        "conv_settings": (
            Sequential(
                Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), rng=3),
                SiLU(),
                Conv2d(4, 4, 3, groups=2, bias=False, rng=4),
                MaxPool2d(3, stride=2, padding=1, dilation=1),
                AvgPool2d(2, padding=1, count_include_pad=False),
                ELU(0.7),
                BatchNorm2d(4, eps=1e-3, affine=False),
                Flatten(),
            ),
            IMAGES,
        ),
        "norm_mlp": (
            Sequential(
                Linear(3, 8, rng=5),
                BatchNorm1d(8),
                LeakyReLU(0.2),
                LayerNorm(8),
                GELU("tanh"),
                Linear(8, 6, rng=6),
                GELU(),
                LayerNorm(6, eps=1e-3, elementwise_affine=False),
                Softplus(),
                Linear(6, 2, rng=7),
            ),
            X,
        ),
        "sequence_norms": (
            Sequential(BatchNorm1d(2, momentum=0.5), LayerNorm((2, 9)), Flatten(), SiLU()),
            IMAGES[:, :, 0, :],
        ),
        "embedding": (
            Sequential(Embedding(7, 3, rng=8), Flatten(), BatchNorm1d(6), Tanh()),
            RNG.integers(0, 7, size=(16, 2)),
        ),
        "mlp_new_activations": (
            MLP(3, [5, 4, 2], ["leaky_relu", "gelu"], "elu", vectorized=True, rng=9),
            X,
        ),
    }


def randomize_statistics(model) -> None:
    """Running statistics and norm weights away from their initial 0 and 1."""
    rng = np.random.default_rng(11)
    state = model.state_dict()
    for name, value in state.items():
        if name.endswith(("running_mean", "b")) and "modules" in name:
            state[name] = rng.normal(size=value.shape)
        elif name.endswith(("running_var", "weight")) and value.ndim == 1:
            state[name] = rng.uniform(0.5, 2.0, size=value.shape)
    model.load_state_dict(state)


def assert_same_model(model, tm, x, train: bool) -> None:
    """Equal outputs, input gradients, parameter gradients and running statistics."""
    model.train(train), tm.train(train)
    ids = x.dtype.kind in "iu"
    ours_x = x if ids else Value(x, requires_grad=True)
    tx = torch.tensor(x) if ids else torch.tensor(x, requires_grad=True)
    out = our_forward(model, ours_x)
    tout = tm(tx)
    weights = np.random.default_rng(5).normal(size=out.shape)
    (out * weights).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(tout.detach().numpy(), out.data, rtol=0, atol=1e-12)
    if not ids:
        np.testing.assert_allclose(tx.grad.numpy(), ours_x.grad, rtol=0, atol=1e-12)
    theirs = {n: p.grad.numpy() for n, p in tm.named_parameters()}
    ours = grads_in_torch_layout(model)
    assert ours.keys() == theirs.keys()
    for key in ours:
        np.testing.assert_allclose(theirs[key], ours[key], rtol=0, atol=1e-12, err_msg=key)
    buffers = {n: b.numpy() for n, b in tm.named_buffers() if "running" in n}
    assert len(buffers) == len(list(model.named_buffers()))
    for (_, ours_b), (name, theirs_b) in zip(model.named_buffers(), buffers.items()):
        np.testing.assert_allclose(theirs_b, ours_b, rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", list(our_layered_models()))
def test_new_layers_to_torch_give_equal_outputs_gradients_and_statistics(name, train):
    model, x = our_layered_models()[name]
    randomize_statistics(model)
    assert_same_model(model, to_torch(model), x, train)


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name", list(our_layered_models()))
def test_new_layers_from_torch_give_equal_outputs_gradients_and_statistics(name, train):
    model, x = our_layered_models()[name]
    randomize_statistics(model)
    tm = to_torch(model)
    torch.manual_seed(0)
    with torch.no_grad():  # torch's own numbers, not ours, so the copy is tested
        for p in [*tm.parameters(), *(b for n, b in tm.named_buffers() if "running" in n)]:
            p.copy_(torch.rand_like(p) + 0.5)
    back = from_torch(tm)
    assert_same_model(back, tm, x, train)
    assert repr(from_torch(to_torch(back))) == repr(back)


def test_torch_layers_built_in_torch_convert_with_their_settings():
    torch.manual_seed(0)
    tm = torch.nn.Sequential(
        torch.nn.Conv2d(2, 3, 3, padding="same", dilation=2),
        torch.nn.BatchNorm2d(3, eps=1e-4, momentum=0.2),
        torch.nn.LeakyReLU(0.3),
        torch.nn.Conv2d(3, 3, 2, padding="valid"),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.LayerNorm(48),
        torch.nn.GELU(approximate="tanh"),
        torch.nn.Linear(48, 2),
    ).double()
    model = from_torch(tm)
    assert model.modules[0].padding == (2, 2) and model.modules[3].padding == (0, 0)
    assert model.modules[1].momentum == 0.2 and model.modules[1].eps == 1e-4
    assert model.modules[2].slope == 0.3 and model.modules[7].approximate == "tanh"
    assert_same_model(model, tm, IMAGES, True)
    assert_same_model(model, tm, IMAGES, False)


@pytest.mark.parametrize(
    "layer, message",
    [
        (torch.nn.MaxPool2d(2, return_indices=True), "return_indices=True"),
        (torch.nn.AvgPool2d(2, divisor_override=3), "divisor_override=3"),
        (torch.nn.Conv2d(1, 1, 3, padding_mode="reflect"), "padding_mode='reflect'"),
        (torch.nn.Conv2d(1, 1, 2, padding="same"), "padding="),
        (torch.nn.BatchNorm1d(3, track_running_stats=False), "track_running_stats=False"),
        (torch.nn.BatchNorm1d(3, momentum=None), "momentum=None"),
        (torch.nn.Embedding(5, 2, padding_idx=0), "padding_idx=0"),
        (torch.nn.Flatten(0), "start_dim=0"),
        (torch.nn.Softplus(beta=2.0), "beta=2.0"),
        (torch.nn.LayerNorm(3, bias=False), "bias=False"),
        (torch.nn.Conv2d(1, 1, 3).half(), "float16"),
    ],
)
def test_torch_settings_we_lack_are_a_type_error_naming_them(layer, message):
    with pytest.raises(TypeError, match=message.replace("(", r"\(")):
        from_torch(torch.nn.Sequential(layer))


def test_saved_running_statistics_load_into_the_torch_model(tmp_path):
    from safetensors.torch import load_file

    model, x = our_layered_models()["cnn"]
    randomize_statistics(model)
    model.eval().save(tmp_path / "m.safetensors")
    tm = to_torch(Module.load(tmp_path / "m.safetensors").eval())
    fresh = to_torch(our_layered_models()["cnn"][0].eval())
    fresh.load_state_dict(load_file(tmp_path / "m.safetensors"))
    expected = model(x).data
    for t in (tm, fresh):
        np.testing.assert_allclose(t(torch.tensor(x)).detach().numpy(), expected, atol=1e-12)


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
    stride=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    padding=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    dilation=st.tuples(st.integers(1, 2), st.integers(1, 2)),
    groups=st.sampled_from([1, 2]),
    bias=st.booleans(),
    pool=st.sampled_from(["max", "avg", "avg_no_pad_count"]),
    seed=st.integers(0, 2**16),
)
def test_any_conv_and_pool_matches_torch(
    kernel, stride, padding, dilation, groups, bias, pool, seed
):
    conv = Conv2d(2, 4, kernel, stride, padding, dilation, groups, bias, rng=seed)
    if pool == "max":
        pooling = MaxPool2d(2, stride=1, padding=1, dilation=dilation)
    else:
        pooling = AvgPool2d(2, stride=1, padding=1, count_include_pad=pool == "avg")
    model = Sequential(conv, BatchNorm2d(4), pooling, Flatten())
    x = np.random.default_rng(seed).normal(size=(3, 2, 8, 7))
    assert_same_model(model, to_torch(model), x, train=True)
    back = from_torch(to_torch(model))
    assert_same_model(back, to_torch(back), x, train=False)


# ------------------------------------------------------------------ hostile torch models
def _with(module, **attributes):
    for name, value in attributes.items():
        setattr(module, name, value)
    return module


def _nan_in(module, name="weight"):
    with torch.no_grad():
        getattr(module, name).view(-1)[0] = float("nan")
    return module


@pytest.mark.parametrize(
    "layer, message",
    [  # settings that disagree with the tensors: built from them, we would allocate 12 GiB
        (
            _with(torch.nn.Linear(2, 2), in_features=40000, out_features=40000),
            r"Linear at '0' has in_features=40000, out_features=40000 but a weight of shape "
            r"\(2, 2\)",
        ),
        (
            _with(torch.nn.Conv2d(1, 1, 1), in_channels=40000, out_channels=40000),
            r"Conv2d at '0' has .* but a weight of shape \(1, 1, 1, 1\)",
        ),
        (
            _with(torch.nn.Embedding(2, 2), num_embeddings=40000, embedding_dim=40000),
            r"Embedding at '0' has .* but a weight of shape \(2, 2\)",
        ),
        (
            _with(torch.nn.BatchNorm1d(2), num_features=10**9),
            r"BatchNorm1d at '0' has num_features=1000000000 but a weight of shape \(2,\)",
        ),
        (
            _with(torch.nn.LayerNorm(2), normalized_shape=(40000, 40000)),
            r"LayerNorm at '0' has .* but a weight of shape \(2,\)",
        ),
        (
            _with(torch.nn.Linear(2, 3), weight=torch.nn.Parameter(torch.ones(1, 2))),
            r"Linear at '0' has in_features=2, out_features=3 but a weight of shape \(1, 2\)",
        ),
        (
            _with(torch.nn.Linear(2, 3), bias=torch.nn.Parameter(torch.ones(1))),
            r"Linear at '0' has .* but a bias of shape \(1,\)",
        ),
        (_nan_in(torch.nn.Linear(2, 3)), r"Linear at '0': parameter 'W' holds NaN"),
        (_nan_in(torch.nn.Linear(2, 3), "bias"), r"Linear at '0': parameter 'b' holds NaN"),
        (_nan_in(torch.nn.Conv2d(1, 1, 1)), r"Conv2d at '0': parameter 'weight' holds NaN"),
        (
            torch.nn.Conv2d(1, 1, 1, padding=30000),
            r"Conv2d at '0' has padding \[30000, 30000\].* 3,600,120,001 numbers",
        ),
        (
            torch.nn.MaxPool2d(30001, padding=15000),
            r"MaxPool2d at '0' has padding \[15000, 15000\].* 900,060,001 numbers",
        ),
    ],
)
def test_torch_layers_whose_numbers_disagree_are_refused_in_one_line(layer, message):
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message) as err:
            from_torch(torch.nn.Sequential(layer))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert str(err.value).startswith("from_torch: ") and "\n" not in str(err.value)
    assert peak < 5_000_000


def test_a_torch_model_nested_too_deep_is_one_line_not_a_recursion_error():
    deep = torch.nn.Linear(2, 2)
    for _ in range(3000):
        deep = torch.nn.Sequential(deep)
    with pytest.raises(ValueError, match=r"^from_torch: containers nest deeper than 32 levels"):
        from_torch(deep)
    shallow = torch.nn.Linear(2, 2)
    for _ in range(32):
        shallow = torch.nn.Sequential(shallow)
    assert isinstance(from_torch(shallow), Sequential)


def test_a_torch_layer_used_twice_is_one_layer_here_too():
    torch.manual_seed(0)
    shared = torch.nn.Linear(3, 3, dtype=torch.float64)
    tm = torch.nn.Sequential(shared, torch.nn.Tanh(), shared)
    model = from_torch(tm)
    assert len(model.modules) == 3 and model.modules[0] is model.modules[2]
    out = model(X)
    out.sum().backward()
    tout = tm(torch.from_numpy(X))
    tout.sum().backward()
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.modules[0].W.grad.T, shared.weight.grad.numpy(), atol=1e-12)


def test_a_layer_used_twice_goes_to_torch_as_two_equal_layers():
    shared = Linear(3, 3, rng=0)
    model = Sequential(shared, Tanh(), shared)
    tm = to_torch(model)
    assert len(tm) == 3
    out = tm(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(out, model(X).data, rtol=0, atol=1e-12)
