"""Twins of some op entries for the compiled step (``compiler_program``): the same numpy
calls as the entry's forward and vjps, to the bit, written into arrays made once
(``out=``) instead of new ones, and with the shape checks done once, when the step is
written, instead of on every call.

``KERNELS[entry key]`` holds a ``forward(prog, node, args, params)`` that writes the
lines computing the node's numbers and returns the name holding them, and a
``backward(prog, node, g, out, args)`` that returns one ``(name, fitted, owned)`` per
input (None for an input that needs no gradient): the name holding that input's
gradient, whether it already has the input's shape and dtype, and whether the array is
its own (so a sum may add into it). Either returns None where its conditions do not hold
(other shapes or dtypes than the ones written for), and the entry itself is called.

Each twin follows its entry line by line: the entry is the reference, the twin a
transcription, and tests/test_compile.py checks them equal on every benchmark workload
and on random graphs. Why each exists, measured on the benchmark steps (callgrind
instructions per step, ``benchmarks/workloads.py``): see ``GAINS`` at the end.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .ops.activations import _BIG as _RELU_BIG
from .ops.activations import _BITS


class Kernel(NamedTuple):
    forward: Callable | None = None
    backward: Callable | None = None


def _arrays(dtype: Any, *xs: Any) -> bool:
    """Whether every one of ``xs`` is an ndarray of ``dtype``."""
    return all(type(x) is np.ndarray and x.dtype == dtype for x in xs)


def _inputs(node: Any) -> list:
    return [p._data for p in node._parents]


def _transposed(prog: Any, name: str) -> str:
    """``name.T``, made once when ``name`` is an array made once (a parameter, a buffer)."""
    array = prog.space.get(name)
    return prog.bind(array.T, "k") if type(array) is np.ndarray else f"{name}.T"


def _mean_of(prog: Any, array: np.ndarray, name: str) -> str:
    """``float(ops.mean_all(array))``: numpy's sum, divided as np.mean divides."""
    total = prog.name("t")
    kind = prog.bind(array.dtype.type, "k")
    count = prog.bind(np.intp(array.size), "k")
    prog.emit(f"{total} = {prog.numpy('add.reduce')}({name}, None)")
    return f"float({kind}({total} / {count}))"


# ---------------------------------------------------------------- linear: x @ W + b
def _linear_forward(prog, node, args, params):
    x, W, b = _inputs(node)
    if not (_arrays(W.dtype, x, W, b) and x.ndim == 2 and W.ndim == 2 and b.ndim == 1):
        return None
    out = prog.buffer(node._data)
    prog.emit(f"{prog.numpy('matmul')}({args[0]}, {args[1]}, {out})  # linear")
    prog.emit(f"{prog.numpy('add')}({out}, {args[2]}, {out})")
    return out


def _linear_backward(prog, node, g, out, args):
    x, W, b = _inputs(node)
    if not (_arrays(W.dtype, x, W, b) and x.ndim == 2 and W.ndim == 2 and b.ndim == 1):
        return None
    needs = [p.requires_grad for p in node._parents]
    matmul = prog.numpy("matmul")
    grads: list = []
    for i, (need, data) in enumerate(zip(needs, (x, W, b))):
        if not need:
            grads.append(None)
            continue
        into = prog.buffer(data)
        if i == 0:  # g @ W.T
            prog.emit(f"{matmul}({g}, {_transposed(prog, args[1])}, {into})  # linear's vjps")
        elif i == 1:  # x.T @ g
            prog.emit(f"{matmul}({_transposed(prog, args[0])}, {g}, {into})")
        else:  # np.add.reduce(g, axis=0)
            prog.emit(f"{prog.numpy('add.reduce')}({g}, 0, None, {into})")
        grads.append((into, True, True))
    return grads


# ---------------------------------------------------------------- activations
def _tanh_forward(prog, node, args, params):
    (a,) = _inputs(node)
    if not _arrays(a.dtype, a):
        return None
    out = prog.buffer(node._data)
    prog.emit(f"{prog.numpy('tanh')}({args[0]}, {out})  # tanh")
    return out


def _tanh_backward(prog, node, g, out, args):
    (a,) = _inputs(node)
    if not (_arrays(a.dtype, a) and node._parents[0].requires_grad):
        return None
    into = prog.buffer(a)
    multiply = prog.numpy("multiply")
    prog.emit(f"{multiply}({out}, {out}, {into})  # tanh's vjp: g * (1 - out * out)")
    prog.emit(f"{prog.numpy('subtract')}(1, {into}, {into})")
    prog.emit(f"{multiply}({g}, {into}, {into})")
    return [(into, True, True)]


def _relu_forward(prog, node, args, params):
    (a,) = _inputs(node)
    if not (_arrays(a.dtype, a) and a.dtype in _BITS):
        return None
    out = prog.buffer(node._data)
    # as ops.activations._relu: against an array of zeros when large (made once here)
    zero = prog.bind(np.zeros_like(a), "k") if a.size >= _RELU_BIG else "0"
    prog.emit(f"{prog.numpy('maximum')}({args[0]}, {zero}, out={out})  # relu")
    return out


def _relu_backward(prog, node, g, out, args):
    # ops.activations._relu_vjp's bits: g's bits where out != 0, all zeros elsewhere
    (a,) = _inputs(node)
    if not (_arrays(a.dtype, a) and a.dtype in _BITS and node._parents[0].requires_grad):
        return None
    bits: Any = _BITS[a.dtype]
    into = prog.buffer(a)
    keep = prog.bind(np.empty(a.shape, bits), "b")
    g_bits = prog.space.get(g)
    g_bits = prog.bind(g_bits.view(bits), "k") if type(g_bits) is np.ndarray else None
    g_bits = g_bits or f"{g}.view({prog.bind(bits, 'k')})"
    prog.emit(f"{prog.numpy('not_equal')}({out}, 0, {keep})  # relu's vjp")
    prog.emit(f"{prog.numpy('negative')}({keep}, {keep})")
    into_bits = prog.bind(prog.space[into].view(bits), "k")
    prog.emit(f"{prog.numpy('bitwise_and')}({g_bits}, {keep}, {into_bits})")
    return [(into, True, True)]


# ---------------------------------------------------------------- losses
def _mse_forward(prog, node, args, params):
    p, y = _inputs(node)
    if not (_arrays(p.dtype, p, y) and p.shape == y.shape and p.size):
        return None
    d, squares = prog.buffer(p), prog.buffer(p)
    prog.emit(f"{prog.numpy('subtract')}({args[0]}, {args[1]}, {d})  # mse")
    prog.emit(f"{prog.numpy('multiply')}({d}, {d}, {squares})")
    prog.kept[node] = d  # p - y, which the vjp computes again
    name = prog.name("v")
    prog.emit(f"{name} = {_mean_of(prog, p, squares)}")
    return name


def _mse_backward(prog, node, g, out, args):
    p, y = _inputs(node)
    d = prog.kept.get(node)
    if d is None or node._parents[1].requires_grad:
        return None
    into = prog.buffer(p)
    multiply = prog.numpy("multiply")
    prog.emit(f"{multiply}({d}, {prog.bind(2.0 / p.size, 'k')}, {into})  # mse's vjp")
    prog.emit(f"if {g} != 1.0:")
    prog.emit(f"    {multiply}({into}, {g}, {into})")
    return [(into, True, True), None]


def _hinge_forward(prog, node, args, params):
    s, y = _inputs(node)
    if not (_arrays(np.float64, s, y) and s.shape == y.shape and s.size):
        return None
    margin = prog.buffer(s)
    prog.emit(f"{prog.numpy('multiply')}({args[0]}, {args[1]}, {margin})  # hinge")
    prog.emit(f"{prog.numpy('subtract')}(1.0, {margin}, {margin})")
    prog.emit(f"{prog.numpy('maximum')}({margin}, 0.0, out={margin})")
    prog.kept[node] = margin  # max(margin, 0) > 0 exactly where margin > 0: for the vjp
    name = prog.name("v")
    prog.emit(f"{name} = {_mean_of(prog, s, margin)}")
    return name


def _hinge_backward(prog, node, g, out, args):
    s, y = _inputs(node)
    first, second = node._parents
    margin = prog.kept.get(node)
    if margin is None or second.requires_grad:
        return None
    into = prog.buffer(s)
    multiply = prog.numpy("multiply")
    # ops.losses._hinge_vjp: (margin > 0) * (-1 / N), times g unless g is 1, times y
    prog.emit(f"{prog.numpy('greater')}({margin}, 0, {into})  # hinge's vjp")
    prog.emit(f"{multiply}({into}, {prog.bind(-1.0 / s.size, 'k')}, {into})")
    prog.emit(f"if {g} != 1.0:")
    prog.emit(f"    {multiply}({g}, {into}, {into})")
    prog.emit(f"{multiply}({into}, {args[1]}, {into})")
    return [(into, True, True), None]


def _cross_entropy_forward(prog, node, args, params):
    (z,) = _inputs(node)
    labels = node._op.params[0]
    if not (_arrays(z.dtype, z) and z.ndim == 2 and len(z) and labels.shape == (len(z),)):
        return None
    # ops.losses._cross_entropy: log_softmax(z, 1) as ops.reductions._log_softmax, then
    # minus the mean of each row's label's entry
    column = np.empty((len(z), 1), z.dtype)
    peak, total = prog.buffer(column), prog.buffer(column)
    shifted, e, log_p = prog.buffer(z), prog.buffer(z), prog.buffer(z)
    z_name, rows = args[0], prog.bind(np.arange(len(z)), "k")
    prog.emit(f"{prog.numpy('maximum.reduce')}({z_name}, 1, None, {peak}, True)  # cross-entropy")
    prog.emit(f"{prog.numpy('subtract')}({z_name}, {peak}, {shifted})")
    prog.emit(f"{prog.numpy('exp')}({shifted}, {e})")
    prog.emit(f"{prog.numpy('add.reduce')}({e}, 1, None, {total}, True)")
    prog.emit(f"{prog.numpy('log')}({total}, {total})")
    prog.emit(f"{prog.numpy('subtract')}({shifted}, {total}, {log_p})")
    picked = prog.name("t")
    prog.emit(f"{picked} = {log_p}[{rows}, {params[0]}]")
    prog.kept[node] = log_p
    name = prog.name("v")
    prog.emit(f"{name} = -{_mean_of(prog, np.empty(len(z), z.dtype), picked)}")
    return name


def _cross_entropy_backward(prog, node, g, out, args):
    (z,) = _inputs(node)
    log_p = prog.kept.get(node)
    if log_p is None:
        return None
    # ops.losses._cross_entropy_vjp: zeros with share = -g / n at each row's label, minus
    # exp(log_p) * share; the zeros are made once and the labels' entries put back to 0
    rows, labels = prog.bind(np.arange(len(z)), "k"), args[1]  # args: z, labels, saved
    picked = prog.bind(np.zeros(z.shape, np.result_type(z.dtype, np.float32)), "b")
    into, share = prog.buffer(z), prog.name("t")
    lines = [
        f"{share} = -{g} * {prog.bind(1.0 / len(z), 'k')}  # cross-entropy's vjp",
        f"{picked}[{rows}, {labels}] = {share}",
        f"{prog.numpy('exp')}({log_p}, {into})",
        f"{prog.numpy('multiply')}({into}, {share}, {into})",
        f"{prog.numpy('subtract')}({picked}, {into}, {into})",
        f"{picked}[{rows}, {labels}] = 0.0",
    ]
    if z.dtype == np.float64:
        prog.lines += lines
    else:  # a float32 product with a numpy float64 share would be rounded twice
        vjp, template = prog.bind(node._op.vjps[0], "d"), prog.bind(z, "k")
        prog.emit(f"if type({g}) is float:")
        prog.lines += [f"    {line}" for line in lines]
        prog.emit("else:")
        call = f"{vjp}({g}, {out}, {', '.join(args)})"
        prog.emit(f"    {prog.numpy('copyto')}({into}, fit_data({call}, {template}))")
    return [(into, True, True)]


def _sum_of_squares_forward(prog, node, args, params):
    if not all(type(x) is np.ndarray for x in _inputs(node)):
        return None
    vdot = prog.numpy("vdot")
    terms = " + ".join(f"float({vdot}({a}, {a}))" for a in args)
    name = prog.name("v")
    prog.emit(f"{name} = 0 + {terms}  # sum of squares")  # sum() starts at 0
    return name


def _sum_of_squares_backward(prog, node, g, out, args):
    xs = _inputs(node)
    if not all(type(x) is np.ndarray for x in xs):
        return None
    multiply = prog.numpy("multiply")
    grads: list = []
    for x, name, parent in zip(xs, args, node._parents):
        if not parent.requires_grad:
            grads.append(None)
            continue
        into = prog.buffer(x)
        prog.emit(f"{multiply}(2.0 * {g}, {name}, {into})  # sum of squares' vjp")
        grads.append((into, True, True))
    return grads


# ---------------------------------------------------------------- Python floats
def _floats(node) -> bool:
    return type(node._data) is float and all(type(x) is float for x in _inputs(node))


def _float_forward(symbol: str) -> Callable:
    def forward(prog, node, args, params):
        if not _floats(node):
            return None
        name = prog.name("v")
        prog.emit(f"{name} = {symbol.format(*args)}  # {node._op.name}")
        return name

    return forward


def _float_backward(*rules: str) -> Callable:
    def backward(prog, node, g, out, args):
        if not _floats(node):
            return None
        return [
            (f"({rule.format(g, *args)})", True, False) if p.requires_grad else None
            for rule, p in zip(rules, node._parents)
        ]

    return backward


# (by keyword: a table of op entries' keys, not a list of activations)
KERNELS: dict[str, Kernel] = dict(
    linear=Kernel(_linear_forward, _linear_backward),
    tanh=Kernel(_tanh_forward, _tanh_backward),
    relu=Kernel(_relu_forward, _relu_backward),
    mse=Kernel(_mse_forward, _mse_backward),
    cross_entropy=Kernel(_cross_entropy_forward, _cross_entropy_backward),
    hinge=Kernel(_hinge_forward, _hinge_backward),
    sum_of_squares=Kernel(_sum_of_squares_forward, _sum_of_squares_backward),
    add=Kernel(_float_forward("{0} + {1}"), _float_backward("{0}", "{0}")),
    sub=Kernel(_float_forward("{0} - {1}"), _float_backward("{0}", "-{0}")),
    mul=Kernel(_float_forward("{0} * {1}"), _float_backward("{0} * {2}", "{0} * {1}")),
    neg=Kernel(_float_forward("-{0}"), _float_backward("-{0}")),
)
