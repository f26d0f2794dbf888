"""ONNX export: onnxruntime reproduces our outputs for every layer type and op."""

import numpy as np
import pytest

from autograd import Value
from nn import (
    ELU,
    GELU,
    MLP,
    AvgPool2d,
    BatchNorm1d,
    BatchNorm2d,
    Conv1d,
    Conv2d,
    ConvTranspose2d,
    Dropout,
    Embedding,
    Flatten,
    GroupNorm,
    LayerNorm,
    LeakyReLU,
    Linear,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
    Sigmoid,
    SiLU,
    Softplus,
    Tanh,
    export_onnx,
)

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

RNG = np.random.default_rng(0)


class EveryOp(Module):
    """Uses every op the exporter translates, once."""

    def __init__(self) -> None:
        self.W = Value(np.random.default_rng(1).normal(size=(3, 4)))
        self.b = Value(np.random.default_rng(2).normal(size=4))

    def forward(self, x):
        h = x @ self.W + self.b
        a = (h * 2.0 - 1.0) / 3.0 + (-h).exp() * 0.1
        b = (h.abs() + 1.0).log() + (h * h + 1.0).sqrt() + h**2 + h.leaky_relu(0.1)
        c = h.softmax(axis=-1) + h.log_softmax(axis=1) + h.relu() + h.sigmoid() + h.tanh()
        s = (
            a.sum(axis=1, keepdims=True)
            + b.mean(axis=-1, keepdims=True)
            + c.max(axis=1, keepdims=True)
        )
        return (a + b + c + s).T.transpose(1, 0) + ((h * h + 1.0) ** self.b.mean())


def models():
    return {
        "mlp_scalar": MLP(3, [5, 2], activation="relu", rng=0),
        "mlp_tanh_sigmoid": MLP(3, [8, 8, 1], output_activation="sigmoid", vectorized=True, rng=1),
        "mlp_leaky_relu": MLP(3, [5, 2], activation="leaky_relu", vectorized=True, rng=8),
        "mlp_float32": MLP(3, [6, 2], activation="relu", vectorized=True, dtype="float32", rng=2),
        "linear": Linear(3, 4, rng=3),
        "linear_no_bias": Linear(3, 4, bias=False, rng=4),
        "sequential": Sequential(
            Linear(3, 8, rng=5),
            Tanh(),
            Dropout(0.5),
            Sequential(Linear(8, 4, rng=6), ReLU()),
            Linear(4, 2, rng=7),
            Sigmoid(),
        ),
        "every_op": EveryOp(),
    }


def run_onnx(path, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["output"]
    assert session.get_inputs()[0].shape[0] == "batch"
    return session.run(["output"], {"input": x.astype(np.float32)})[0]


def ours(model, x: np.ndarray) -> np.ndarray:
    if isinstance(model, MLP) and not model.vectorized:
        return np.array([[v.data for v in row] for row in model(x)])
    return np.asarray(model(x).data, dtype=np.float64)


@pytest.mark.parametrize("name", list(models()))
def test_onnxruntime_reproduces_our_outputs(tmp_path, name):
    model = models()[name]
    path = tmp_path / f"{name}.onnx"
    export_onnx(model, RNG.normal(size=(4, 3)), path)
    assert model.training  # the trace ran in eval mode, then the mode came back
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    if name != "mlp_scalar":  # a scalar MLP is exported as its vectorized twin
        assert {i.name for i in proto.graph.initializer} >= {n for n, _ in model.named_parameters()}
    x = RNG.normal(size=(7, 3))  # another batch size: the batch axis is dynamic
    model.eval()
    expected = ours(model, x)
    got = run_onnx(path, x)
    assert got.shape == expected.shape
    # float32 against our float64: 1e-6 relative, with a 1e-6 floor for numbers near zero
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_an_embedding_of_int64_ids_is_a_gather_of_the_input(tmp_path):
    model = Sequential(Embedding(10, 4, rng=0), Tanh(), Linear(4, 3, rng=1))
    export_onnx(model, np.array([[1, 2, 9]]), tmp_path / "e.onnx")
    ids = np.random.default_rng(3).integers(0, 10, size=(6, 3))  # another batch size
    session = ort.InferenceSession(str(tmp_path / "e.onnx"), providers=["CPUExecutionProvider"])
    assert [i.type for i in session.get_inputs()] == ["tensor(int64)"]
    (got,) = session.run(["output"], {"input": ids})
    np.testing.assert_allclose(got, model(ids).data, rtol=1e-6, atol=1e-6)


def test_integer_numbers_for_a_model_of_numbers_are_a_float_input(tmp_path):
    model = MLP(2, [3, 1], vectorized=True, rng=0)
    export_onnx(model, np.array([[0, 1], [1, 0]]), tmp_path / "m.onnx")  # ints, not ids
    x = RNG.normal(size=(5, 2))
    np.testing.assert_allclose(
        run_onnx(tmp_path / "m.onnx", x), model(x).data, rtol=1e-6, atol=1e-6
    )


def test_an_unsupported_op_is_named():
    class Slicer(Module):
        def __init__(self) -> None:
            self.lin = Linear(3, 2, rng=0)

        def forward(self, x):
            return self.lin(x)[:, [0, 0]]  # an integer array index

    with pytest.raises(ValueError, match=r"op '\[\]' has no ONNX translation"):
        export_onnx(Slicer(), np.zeros((2, 3)), "never-written.onnx")


def test_export_refuses_to_trace_without_a_graph(tmp_path):
    from autograd import no_grad

    with no_grad(), pytest.raises(RuntimeError, match="outside no_grad"):
        export_onnx(Linear(2, 1), np.zeros((2, 2)), tmp_path / "x.onnx")


def test_export_of_a_pass_through_model(tmp_path):
    export_onnx(Dropout(0.5), np.zeros((2, 3)), tmp_path / "d.onnx")
    x = RNG.normal(size=(5, 3))
    np.testing.assert_array_equal(run_onnx(tmp_path / "d.onnx", x), x.astype(np.float32))


def layered_models() -> dict:
    """(model, input shape) for the conv, pool, norm and activation layers."""
    return {
        "cnn": (
            Sequential(
                Conv2d(1, 4, 3, padding=1, rng=0),
                BatchNorm2d(4),
                ReLU(),
                MaxPool2d(2),
                Conv2d(4, 6, 3, rng=1),
                AvgPool2d(2, stride=1),
                Flatten(),
                Linear(6, 3, rng=2),
            ),
            (1, 8, 8),
        ),
        "conv_settings": (
            Sequential(
                Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2), rng=3),
                SiLU(),
                Conv2d(4, 4, 3, groups=2, bias=False, rng=4),
                MaxPool2d(3, stride=2, padding=1),
                AvgPool2d(2, padding=1, count_include_pad=False),
                ELU(0.7),
                BatchNorm2d(4, affine=False),
                Flatten(),
            ),
            (2, 9, 9),
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
            (3,),
        ),
        "dilated_max_pool": (
            Sequential(MaxPool2d(2, stride=1, dilation=2), LayerNorm((2, 5, 5)), Flatten()),
            (2, 7, 7),
        ),
        "conv1d_group_norm": (
            Sequential(
                Conv1d(2, 4, 3, stride=2, padding=1, dilation=2, rng=10),
                GroupNorm(2, 4),
                Tanh(),
                Conv1d(4, 4, 1, groups=4, bias=False, rng=11),
                Flatten(),
            ),
            (2, 9),
        ),
        "transposed_and_ceil_pools": (
            Sequential(
                ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1, groups=2, rng=12),
                GroupNorm(1, 4, eps=1e-3, affine=False),
                MaxPool2d(3, stride=2, ceil_mode=True),
                AvgPool2d(2, padding=1, ceil_mode=True),  # its last window dropped
                ConvTranspose2d(4, 3, (2, 3), stride=(1, 2), dilation=2, rng=13),
                AvgPool2d(3, 2, 1, count_include_pad=False, ceil_mode=True),
            ),
            (2, 5, 4),
        ),
        "float32_cnn": (
            Sequential(
                Conv2d(1, 3, 3, padding=1, rng=8, dtype="float32"),
                ReLU(),
                MaxPool2d(2),
                Flatten(),
                Linear(48, 2, rng=9, dtype="float32"),
            ),
            (1, 8, 8),
        ),
    }


@pytest.mark.parametrize("name", list(layered_models()))
def test_onnxruntime_reproduces_conv_pool_norm_and_activation_layers(tmp_path, name):
    model, shape = layered_models()[name]
    rng = np.random.default_rng(4)
    model.train()
    for _ in range(3):  # running statistics away from 0 and 1, as after training
        model(rng.normal(1.0, 2.0, size=(8, *shape)))
    path = tmp_path / f"{name}.onnx"
    export_onnx(model, rng.normal(size=(4, *shape)), path)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto, full_check=True)
    names = {i.name for i in proto.graph.initializer}
    assert names >= {n for n, _ in model.named_parameters()}
    x = rng.normal(size=(7, *shape))  # another batch size: the batch axis is dynamic
    model.eval()
    expected = ours(model, x)
    got = run_onnx(path, x)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
