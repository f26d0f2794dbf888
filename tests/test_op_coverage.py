"""Every entry of the op table reaches every interpretation (PyTorch's OpInfo, small).

One row per entry says how to reach it from Values; each test takes every entry through
one interpretation and fails naming the entry: its ``Value`` method applies it, forward
and vjps equal PyTorch's, ``backward`` equals ``trace_backward`` and ``grad``, the second
derivative (``grad`` with ``create_graph``) equals finite differences of the first, the
drawing shows it, the step-through page says its formula, the formula grammar reaches it
(where it is exposed) and onnxruntime runs its ONNX translation. An activation (an entry
with a line in ``nn.activations.REGISTRY``) also has its Module (``nn.Tanh``, ...), which
``to_torch`` / ``from_torch`` carry with the same values and gradients as PyTorch's and
which model files save and load. An entry declares an interpretation it cannot have with
``Without(why)``; leaving it out (None) fails.

Adding an op: its entry in ``autograd/ops/`` and one row here (an activation: also its
line in ``nn.activations.REGISTRY``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from autograd import (
    Value,
    add_n,
    apply,
    avg_pool2d,
    concat,
    conv2d,
    conv_transpose2d,
    einsum,
    grad,
    gradcheck,
    interpolate,
    linear,
    max_pool2d,
    ops,
    stack,
    sum_of_squares,
    trace_backward,
    weighted_sum,
    where,
)

R = np.random.default_rng(0)


def smooth(*shape):
    return R.normal(size=shape)


def positive(*shape):
    return R.uniform(0.5, 2.0, size=shape)


def away(*shape):
    """No number near 0 (the kink of relu, abs, elu)."""
    x = R.normal(size=shape)
    return np.sign(x) * (0.3 + np.abs(x))


def distinct(*shape):
    """Well-separated numbers (no ties for max, min, maximum)."""
    n = int(np.prod(shape))
    return (R.permutation(n) * 0.37 - 0.2 * n).reshape(shape)


def unit(*shape):
    return R.uniform(0.1, 0.9, size=shape)


@dataclass
class Row:
    """How to reach an entry: ``inputs`` (one array per Value input; the first is the
    ONNX model's input, a batch) and either the entry's method, called on the first with
    the others and ``args``, or ``call(*values, *args)``."""

    inputs: tuple
    args: tuple = ()
    call: Callable | None = None


def _grads_of(f: Callable, wrt: int = 0) -> Callable:
    """The gradient of ``sum(f(...) * G)`` (G fixed numbers) with respect to input
    ``wrt``, recorded: its graph holds the ops of f's gradient."""

    def first(*values):
        out = f(*values)
        return grad((out * _weights(out.shape)).sum(), values[wrt], create_graph=True)

    return first


def _weights(shape):
    return np.random.default_rng(1).normal(size=shape) if shape else 0.7


def _conv(x, w):
    return conv2d(x, w, padding=1)


def _pool(x):
    return max_pool2d(x, 2)


def _avg(x):
    return avg_pool2d(x, 2, padding=1, count_include_pad=False)


X, Y = smooth(2, 3), smooth(2, 3)
IMAGE, KERNEL = distinct(2, 2, 4, 4) * 0.1, smooth(3, 2, 3, 3)
LABELS = np.array([2, 0])
ROWS: dict[str, Row] = {
    # arithmetic
    "add": Row((X, smooth(3))),  # broadcasting
    "sub": Row((X, Y)),
    "mul": Row((X, smooth(2, 1))),
    "div": Row((X, away(2, 3))),
    "neg": Row((X,)),
    "pow": Row((positive(2, 3), smooth(2, 3))),
    "pow_const": Row((positive(2, 3),), (3.0,)),
    "matmul": Row((X, smooth(3, 4))),
    # elementwise
    "exp": Row((X,)),
    "log": Row((positive(2, 3),)),
    "abs": Row((away(2, 3),)),
    "sqrt": Row((positive(2, 3),)),
    "sin": Row((X,)),
    "cos": Row((X,)),
    "erf": Row((X,)),
    "log1p": Row((positive(2, 3),)),
    "expm1": Row((X,)),
    "clip": Row((np.array([[-2.0, -0.5, 0.3], [0.9, 1.7, -1.4]]),), (-1.0, 1.0)),
    "maximum": Row((distinct(2, 3), distinct(2, 3) + 0.1)),
    "where": Row((X, Y), call=lambda a, b: where(np.array([True, False, True]), a, b * 2.0)),
    "square": Row((X,)),
    "reciprocal": Row((positive(2, 3),)),
    "minimum": Row((distinct(2, 3), distinct(2, 3) + 0.1)),
    "tan": Row((unit(2, 3),)),
    "sinh": Row((X,)),
    "cosh": Row((X,)),
    "asin": Row((unit(2, 3) - 0.5,)),
    "acos": Row((unit(2, 3) - 0.5,)),
    "atan": Row((X,)),
    "atan2": Row((X, away(1, 3))),  # broadcasting
    # rounding
    "floor": Row((X,)),
    "ceil": Row((X,)),
    "round": Row((X,)),
    "sign": Row((away(2, 3),)),
    # activations
    "tanh": Row((X,)),
    "relu": Row((away(2, 3),)),
    "sigmoid": Row((X,)),
    "leaky_relu": Row((away(2, 3),), (0.1,)),
    "gelu": Row((X,)),
    "silu": Row((X,)),
    "softplus": Row((X,)),
    "elu": Row((away(2, 3),), (0.7,)),
    "softsign": Row((away(2, 3),)),
    # reductions
    "sum": Row((X,), (1,)),
    "mean": Row((X,), (0, True)),
    "max": Row((distinct(2, 3),), (1,)),
    "prod": Row((positive(2, 3),), (1,)),
    "var": Row((X,), (1, False, 1)),
    "logsumexp": Row((X,), (1,)),
    "cumsum": Row((X,), (1,)),
    "softmax": Row((X,), (1,)),
    "log_softmax": Row((X,), (1,)),
    "min": Row((distinct(2, 3),), (1,)),
    "std": Row((distinct(2, 3),), (1,)),
    "norm": Row((X,), (2, 1)),
    # scans
    "cumprod": Row((X,), (1,)),
    "topk": Row((distinct(2, 4),), call=lambda x: x.topk(2, axis=1).values),
    "sort": Row((distinct(2, 4),), (1, True), call=lambda x, axis, down: x.sort(axis, down).values),
    "einsum": Row((smooth(2, 3, 4), smooth(4, 2)), call=lambda a, b: einsum("bij,jk->bik", a, b)),
    # shape
    "reshape": Row((X,), ((2, 3, 1),)),
    "transpose": Row((X,), ((1, 0),)),
    "broadcast_to": Row((smooth(1, 3),), ((2, 3),)),
    "getitem": Row((X,), ((slice(None), slice(1, 3)),)),
    "scatter": Row((smooth(2),), ((np.array([0, 2]), 1), (3, 3))),
    "flip": Row((X,), (1,)),
    "pad": Row((X,), (((0, 0), (1, 2)), 0.5)),
    "tile": Row((X,), ((2, 1, 2),)),
    "repeat": Row((X,), (2, 1)),
    "pad_reflect": Row((X,), (((0, 0), (2, 1)),), call=lambda x, w: x.pad(w, mode="reflect")),
    "pad_replicate": Row((X,), (((1, 0), (2, 3)),), call=lambda x, w: x.pad(w, mode="replicate")),
    "concat": Row((X, Y), call=lambda a, b: concat([a, b], axis=1)),
    "stack": Row((X, Y), call=lambda a, b: stack([a, b], axis=1)),
    # fused
    "linear": Row((X, smooth(3, 4), smooth(4)), call=linear),
    "add_n": Row((X, Y), call=lambda a, b: add_n([a, b, a])),
    "weighted_sum": Row(
        (X, Y, smooth(2, 3), smooth(2, 3), smooth(3)),
        call=lambda w1, w2, x1, x2, b: weighted_sum([w1, w2], [x1, x2], b),
    ),
    "sum_of_squares": Row((X, Y), call=lambda a, b: sum_of_squares([a, b])),
    # losses
    "hinge": Row((away(2, 3), np.sign(smooth(2, 3))), call=lambda s, y: apply(ops.HINGE, s, y)),
    "bce_with_logits": Row((X, unit(2, 3)), call=lambda z, y: apply(ops.BCE_WITH_LOGITS, z, y)),
    "bce": Row(
        (unit(2, 3), unit(2, 3)),
        call=lambda p, y: apply(ops.BINARY_CROSS_ENTROPY, p, y, params=(ops.BCE_EPS,)),
    ),
    "cross_entropy": Row(
        (smooth(2, 3),), call=lambda z: apply(ops.CROSS_ENTROPY, z, params=(LABELS, []))
    ),
    "mse": Row((X, Y), call=lambda p, y: apply(ops.MSE, p, y)),
    # convolution and pooling, and the ops of their gradients
    "conv2d": Row((IMAGE, KERNEL, smooth(3)), call=lambda x, w, b: conv2d(x, w, b, stride=2)),
    "conv2d_no_bias": Row((IMAGE, KERNEL), call=_conv),
    "conv2d_input_grad": Row((IMAGE, KERNEL), call=_grads_of(_conv, wrt=0)),
    "conv2d_weight_grad": Row((IMAGE, KERNEL), call=_grads_of(_conv, wrt=1)),
    "max_pool2d": Row((IMAGE,), call=_pool),
    "max_pool2d_grad": Row((IMAGE, smooth(2, 2, 2, 2)), call=lambda x, g: _pool_grad(x, g)),
    "max_pool2d_pick": Row(
        (IMAGE, smooth(2, 2, 2, 2), smooth(2, 2, 4, 4)), call=lambda x, g, h: _pick(x, g, h)
    ),
    "avg_pool2d": Row((IMAGE,), call=_avg),
    "avg_pool2d_grad": Row(
        (IMAGE, smooth(2, 2, 3, 3)),
        call=lambda x, g: grad((_avg(x) * g).sum(), x, create_graph=True),
    ),
    "conv_transpose2d": Row(
        (IMAGE, smooth(2, 3, 3, 3), smooth(3)),
        call=lambda x, w, b: conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
    ),
    "conv_transpose2d_no_bias": Row(
        (IMAGE, smooth(2, 1, 3, 3)),
        call=lambda x, w: conv_transpose2d(x, w, groups=2, dilation=2, padding=1),
    ),
    # resizing
    "interpolate": Row((IMAGE,), call=lambda x: interpolate(x, scale_factor=1.5, mode="bilinear")),
}


def _pool_grad(x, g):
    """max_pool2d's gradient as a function of the gradient g flowing into it."""
    return grad((_pool(x) * g).sum(), x, create_graph=True)


def _pick(x, g, h):
    """The gradient of <_pool_grad(x, g), h> with respect to g: the pick op."""
    return grad((_pool_grad(x, g) * h).sum(), g, create_graph=True)


ENTRIES = list(ops.ENTRIES)


def _entry(key):
    return ops.ENTRIES[key]


def _row(key) -> Row:
    if key not in ROWS:
        pytest.fail(f"op entry {key!r} has no row in tests/test_op_coverage.py ROWS")
    return ROWS[key]


def _run(key, values=None):
    """The row's output and its input Values."""
    row = _row(key)
    values = values or [Value(np.array(x, dtype=np.float64)) for x in row.inputs]
    if row.call is not None:
        return row.call(*values, *row.args), values
    entry = _entry(key)
    if entry.method is None:
        pytest.fail(f"op entry {key!r} names no method: its row needs call=")
    return getattr(values[0], entry.method)(*values[1:], *row.args), values


def _nodes(out, key):
    """The nodes of ``out``'s graph that apply the entry ``key`` (every value, walked)."""
    found, seen, stack_ = [], set(), [out]
    while stack_:
        v = stack_.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        if v._op is not None and v._op.key == key:
            found.append(v)
        stack_.extend(v.parents)
    return found


def _reached(key):
    out, values = _run(key)
    entry = _entry(key)
    if isinstance(entry, ops.Op):
        nodes = _nodes(out, key)
        assert nodes, f"op entry {key!r}: its row records no node of it"
        return out, values, nodes
    return out, values, []


def _scalar(out):
    """A number from the row's output: its dot product with fixed weights."""
    return (out * _weights(out.shape)).sum()


def _bits(x):
    return (np.asarray(x, dtype=np.float64) + 0.0).tobytes()  # -0.0 as +0.0


# ------------------------------------------------------------------ the table itself
def test_every_row_names_an_entry():
    assert set(ROWS) <= set(ENTRIES), set(ROWS) - set(ENTRIES)


@pytest.mark.parametrize("key", ENTRIES)
def test_the_method_applies_the_entry(key):
    # A method made from the table, or written by hand (it takes arguments): either way
    # calling it records this entry (a composition: gives what its build gives).
    entry = _entry(key)
    if entry.method is None:
        return
    assert hasattr(Value, entry.method), f"op entry {key!r}: Value has no {entry.method}"
    row = _row(key)
    if row.call is not None:
        pytest.fail(f"op entry {key!r} has a method: its row should call it (no call=)")
    out, values, _ = _reached(key)
    if isinstance(entry, ops.Composition):
        built = entry.build(*values, *row.args)
        assert _bits(built.data) == _bits(out.data), key


# ------------------------------------------------------------------ the engine
@pytest.mark.parametrize("key", ENTRIES)
def test_backward_equals_trace_backward_and_grad(key):
    out, values, _ = _reached(key)
    loss = _scalar(out)
    totals = {s.input: s.total for s in trace_backward(loss)}
    exact = grad(loss, values)
    loss.backward()
    for i, v in enumerate(values):
        traced = totals.get(v, np.zeros_like(v.data))
        assert _bits(v.grad) == _bits(traced) == _bits(exact[i]), (key, i)


@pytest.mark.parametrize("key", ENTRIES)
def test_second_derivative_equals_finite_differences_of_the_first(key):
    _reached(key)
    values = [Value(np.array(x, dtype=np.float64)) for x in _row(key).inputs]
    for i in range(len(values)):

        def first(*vs, i=i):
            return grad(_scalar(_run(key, list(vs))[0]), vs[i], create_graph=True)

        assert gradcheck(first, *values, eps=1e-5, atol=1e-5, rtol=1e-4), (key, i)


# ------------------------------------------------------------------ PyTorch
torch = pytest.importorskip("torch")


def _tensor(x):
    return torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)


@pytest.mark.parametrize("key", ENTRIES)
def test_forward_and_vjps_equal_torchs(key):
    entry = _entry(key)
    if isinstance(entry.torch, ops.Without):
        return
    if entry.torch is None:
        pytest.fail(f"op entry {key!r} has no torch counterpart: give torch=... or Without(why)")
    out, values, nodes = _reached(key)
    if isinstance(entry, ops.Composition):  # the whole row against torch's function
        ts = [_tensor(v.data) for v in values]
        tout = entry.torch(torch, *ts, *_row(key).args)
        _close(out.data, tout, key)
        _scalar(out).backward()
        w = torch.as_tensor(np.asarray(_weights(out.shape), dtype=np.float64))
        for v, g in zip(values, torch.autograd.grad((tout * w).sum(), ts)):
            _close(v.grad, g, key)
        return
    from autograd.backprop import fit_data

    for node in nodes:  # each node: its forward and every vjp, against torch's
        op, inputs = node._op, [p.data for p in node.parents]
        ts = [_tensor(x) for x in inputs]
        tout = entry.torch(torch, *ts, *op.params)
        _close(node.data, tout, key)
        g = np.random.default_rng(2).normal(size=np.shape(node.data))
        theirs = torch.autograd.grad(tout, ts, torch.as_tensor(g), allow_unused=True)
        g = float(g) if g.ndim == 0 else g
        for i, (vjp, x) in enumerate(zip(op.vjps, inputs)):
            ours = fit_data(vjp(g, node.data, *inputs, *op.params), x)
            _close(ours, theirs[i] if theirs[i] is not None else np.zeros_like(x), (key, i))


def _close(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else theirs
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12, err_msg=str(what))


# ------------------------------------------------------------------ pictures
@pytest.mark.parametrize("key", ENTRIES)
def test_the_drawing_shows_it(key):
    from viz import draw_dot
    from viz.graph import op_text
    from viz.rendering import to_svg

    out, _, nodes = _reached(key)
    svg = to_svg(draw_dot(_scalar(out)))
    assert svg.startswith("<") and "</svg>" in svg, key
    for node in nodes:
        import html

        assert html.escape(op_text(node), quote=False) in svg, (key, op_text(node))


@pytest.mark.parametrize("key", ENTRIES)
def test_the_step_through_page_says_its_formula(key, tmp_path):
    from viz import backprop_html
    from viz.graph import plan
    from viz.step_text import forward_text
    from viz.stepper import script_json

    out, _, nodes = _reached(key)
    loss = _scalar(out)
    page = backprop_html(loss, tmp_path / "page.html", lr=None).read_text(encoding="utf-8")
    names = plan(loss).names
    for node in nodes or [loss]:
        text = forward_text(node, names)
        assert script_json(text)[1:-1] in page, (key, text)


# ------------------------------------------------------------------ the formula grammar
@pytest.mark.parametrize("key", ENTRIES)
def test_the_grammar_reaches_it(key):
    from viz.classroom.expression import _PARAMETER, FUNCTIONS, build

    entry = _entry(key)
    if entry.grammar is None:
        assert entry.grammar not in FUNCTIONS
        return
    assert entry.grammar in FUNCTIONS, key
    call = f"{entry.grammar}(a, 0.2)" if entry.grammar in _PARAMETER else f"{entry.grammar}(a)"
    out, leaves = build(call, {"a": 0.7})
    assert set(leaves) == {"a"}, key
    if isinstance(entry, ops.Op):
        assert out._op.key == key, (key, out.op)


# ------------------------------------------------------------------ ONNX
@pytest.mark.parametrize("key", ENTRIES)
def test_onnxruntime_runs_its_translation(key, tmp_path):
    entry = _entry(key)
    if isinstance(entry, ops.Op):
        if isinstance(entry.onnx, ops.Without):
            return
        if entry.onnx is None:
            pytest.fail(f"op entry {key!r} has no ONNX translation: give onnx=... or Without(why)")
    ort = pytest.importorskip("onnxruntime")
    from nn import Module, export_onnx

    row = _row(key)

    class RowModel(Module):
        def __init__(self) -> None:
            self.rest = [Value(np.array(x, dtype=np.float64)) for x in row.inputs[1:]]

        def forward(self, x):
            return _run(key, [x, *self.rest])[0]

    model = RowModel()
    x = np.asarray(row.inputs[0], dtype=np.float64)
    export_onnx(model, x, tmp_path / "row.onnx")
    session = ort.InferenceSession(str(tmp_path / "row.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(["output"], {"input": x.astype(np.float32)})[0]
    expected = np.asarray(model(Value(x)).data)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5, err_msg=key)


# ------------------------------------------------------------------ nn: the activations
# An activation entry's Module (nn.Tanh, ...), to_torch / from_torch of it, and save/load
# of a model that holds it, each reached from the entry's row (its args are the Module's).

from nn import MLP, Linear, Module, Sequential, from_torch, to_torch  # noqa: E402
from nn.activations import MODULES, REGISTRY  # noqa: E402

ACTIVATIONS = [name for name, f in REGISTRY.items() if f.entry is not None]  # not linear


def _activation_module(name):
    if name not in MODULES:
        pytest.fail(
            f"activation {name!r} has no Module class: give module=... in its line of "
            "nn.activations.REGISTRY"
        )
    return MODULES[name](*_row(name).args)  # the arguments its row gives the method


def _torch_layer(name):
    layer = REGISTRY[name].torch
    if layer is None:
        pytest.fail(
            f"activation {name!r} has no PyTorch layer: give torch=TorchLayer(...) or "
            "Without(why) in its line of nn.activations.REGISTRY"
        )
    return layer


def test_every_activation_entry_has_a_line_in_the_registry():
    # the entries made in autograd/ops/activations.py (not the ones it imports)
    elsewhere = {id(v) for f in ops.FAMILIES if f is not ops.activations for v in vars(f).values()}
    made = [
        v
        for v in vars(ops.activations).values()
        if isinstance(v, ops.Op | ops.Composition) and id(v) not in elsewhere
    ]
    missing = [e.key for e in made if e.name not in REGISTRY]
    assert not missing, f"activation entries without a line in nn.activations.REGISTRY: {missing}"


def test_an_activation_whose_entry_has_no_method_is_refused_by_name():
    from nn.activations import ActivationFunction

    line = ActivationFunction(ops.Op("mystery", abs, lambda g, out, a: g), "mystery", "y = |x|")
    with pytest.raises(TypeError, match="'mystery': its op entry needs method="):
        line(Value(1.0))


@pytest.mark.parametrize("name", [n for n in ACTIVATIONS if REGISTRY[n].entry is not None])
def test_an_activation_is_in_the_grammar_and_its_derivative_is_written(name):
    # What a neuron's picture and the classroom's formulas need of every activation:
    # for another op these are a choice (grammar=None hides it from formulas).
    entry = REGISTRY[name].entry
    assert entry.grammar is not None, f"activation {name!r} needs grammar=... in its op entry"
    assert entry.local is not None, f"activation {name!r} needs local=... in its op entry"
    node = REGISTRY[name](Value(0.3), *_row(name).args)
    text = node._op.derivative(0, ["x"], "y")
    assert text and ("x" in text or "y" in text), (name, text)  # over its input or output


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_its_module_applies_it(name):
    import nn

    layer = _activation_module(name)
    kind = type(layer)
    assert getattr(nn, kind.__name__) is kind, f"nn.{kind.__name__} is not {name!r}'s Module"
    x = Value(_row(name).inputs[0])
    out, _ = _run(name, [x])
    assert _bits(layer(x).data) == _bits(out.data), name
    assert [v.data for v in layer([Value(0.5), Value(-0.5)])] == [
        _run(name, [Value(v)])[0].data for v in (0.5, -0.5)
    ], name
    again = eval(repr(layer), {kind.__name__: kind})  # the repr is its constructor call
    assert type(again) is kind and again.config() == layer.config(), name


def _net(name):
    return Sequential(Linear(3, 4, rng=0), _activation_module(name), Linear(4, 2, rng=1))


X_NET = smooth(5, 3)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_to_torch_and_from_torch_keep_its_values_and_gradients(name):
    if isinstance(_torch_layer(name), ops.Without):
        return
    for ours in (_net(name), MLP(3, [4, 2], activation=name, vectorized=True, rng=0)):
        theirs = to_torch(ours)
        x, tx = Value(X_NET), _tensor(X_NET)
        out, tout = ours(x), theirs(tx)
        _close(out.data, tout, name)
        w = _weights(out.shape)
        (out * w).sum().backward()
        (tout * torch.as_tensor(w)).sum().backward()
        _close(x.grad, tx.grad, name)
        for (pname, p), tp in zip(ours.named_parameters(), theirs.parameters()):
            _close(p.grad, tp.grad.T if tp.ndim == 2 else tp.grad, (name, pname))
    back = from_torch(to_torch(_net(name)))
    assert type(back.modules[1]) is type(_activation_module(name)), name
    assert back.modules[1].config() == _activation_module(name).config(), name
    assert _bits(back(X_NET).data) == _bits(_net(name)(X_NET).data), name


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_save_and_load_keep_it(name, tmp_path):
    for model in (_net(name), MLP(3, [4, 2], activation=name, vectorized=True, rng=0)):
        model.save(tmp_path / "m.safetensors")
        loaded = Module.load(tmp_path / "m.safetensors")
        assert repr(loaded) == repr(model), name
        assert _bits(loaded(X_NET).data) == _bits(model(X_NET).data), name
