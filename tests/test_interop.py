"""The PyTorch bridge: equal outputs and gradients both ways, training continued in torch."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Value
from nn import (
    MLP,
    SGD,
    Dropout,
    Linear,
    Neuron,
    ReLU,
    Sequential,
    Sigmoid,
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
    model.load_state_dict({n: np.asarray(p.grad) for n, p in model.named_parameters()})
    grads = {k: v.numpy() for k, v in to_torch(model).state_dict().items()}
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
    assert runner.failures == 0 and runner.tries == 4


def test_round_trip_keeps_float32_and_the_numbers():
    model = MLP(3, [4, 2], vectorized=True, dtype="float32", rng=0)
    tm = to_torch(model)
    assert tm[0].weight.dtype == torch.float32
    back = from_torch(tm)
    assert back.modules[0].W.dtype == np.float32
    np.testing.assert_array_equal(back(X).data, model(X).data)


def test_unsupported_layers_are_a_type_error_naming_them():
    with pytest.raises(TypeError, match=r"torch\.nn\.Conv2d at '1' is not supported"):
        from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Conv2d(1, 1, 3)))
    with pytest.raises(TypeError, match=r"Neuron at 'modules\.1' has no PyTorch counterpart"):
        to_torch(Sequential(Linear(2, 2), Neuron(2)))

    with pytest.raises(TypeError, match=r"activation 'leaky_relu' has no PyTorch counterpart"):
        to_torch(MLP(2, [3, 1], activation="leaky_relu"))

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
