"""Convolution and pooling, one node each, with the ops of their gradients (for second
derivatives); the numpy behind them is ``im2col.py``."""

from __future__ import annotations

from typing import Any

from . import im2col
from .op import _RAW, Op, Without, raw, shape_of


# ---------------------------------------------------------------- convolution and pooling
# One node each; the im2col / col2im arithmetic lives in im2col.py. Params: stride, padding,
# dilation (pairs) and groups / count_include_pad. Their gradients are linear maps, made
# ops of their own here, so grad(create_graph=True) differentiates through them too:
# for y = conv(x, w), dx = T(g, w) and dw = W(g, x), and <T(g, w), u> = <g, conv(u, w)>
# = <w, W(g, u)> gives every vjp of the three in terms of the three.
def _via(op: Op, first: Any, *rest: Any) -> Any:
    """``op`` on raw inputs (``backward``), or recorded on Values (``create_graph``).
    ``rest`` holds the other inputs (``op``'s arity) then the params."""
    n = len(op.vjps)
    inputs, params = (first, *rest[: n - 1]), rest[n - 1 :]
    if isinstance(first, _RAW):
        return op.forward(*map(raw, inputs), *params)
    return first._apply_op(op, inputs[1:], params)


def _conv_dx(g, out, x, w, *rest):  # rest: (b,) and the four params, or the params alone
    return _via(CONV2D_INPUT_GRAD, g, w, *rest[-4:], shape_of(x))


def _conv_dw(g, out, x, w, *rest):
    if isinstance(g, _RAW):  # backward(): reuse the forward's columns of x
        return im2col.weight_grad(g, x, *rest[-4:], shape_of(w), im2col.kept_columns(out))  # type: ignore[call-arg]
    return _via(CONV2D_WEIGHT_GRAD, g, x, *rest[-4:], shape_of(w))


def _conv_onnx(emit, x, w, *rest):  # rest: (b,) and the four params, or the params alone
    *bias, stride, padding, dilation, groups = rest
    return emit(
        "Conv",
        x,
        w,
        *bias,
        kernel_shape=list(w.shape[2:]),
        strides=list(stride),
        pads=[*padding, *padding],  # top, left, then bottom, right
        dilations=list(dilation),
        group=groups,
    )


def _max_pool_onnx(emit, x, kernel, stride, padding, dilation):
    return emit(
        "MaxPool",
        x,
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=[*padding, *padding],
        dilations=list(dilation),
    )


def _avg_pool_onnx(emit, x, kernel, stride, padding, count_include_pad):
    return emit(
        "AveragePool",
        x,
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=[*padding, *padding],
        count_include_pad=int(count_include_pad),
    )


def _torch_vjp(t: Any, forward: Any, x_shape: tuple, g: Any, x: Any = None) -> Any:
    """torch's gradient of ``forward`` at ``x`` (zeros of ``x_shape`` for a linear map)
    applied to ``g``, recorded so it can be differentiated again."""
    xt = t.zeros(x_shape, dtype=g.dtype) if x is None else t.as_tensor(x)
    xt.requires_grad_()
    return t.autograd.grad(forward(xt), xt, g, create_graph=True)[0]


def _torch_max_pool_grad(t, g, kernel, stride, padding, dilation, x, peaks):
    pool = lambda v: t.nn.functional.max_pool2d(v, kernel, stride, padding, dilation)  # noqa: E731
    return _torch_vjp(t, pool, x.shape, g, x)


def _torch_max_pool_pick(t, u, kernel, stride, padding, dilation, x, peaks):
    _, where = t.nn.functional.max_pool2d(
        t.as_tensor(x), kernel, stride, padding, dilation, return_indices=True
    )
    return u.flatten(2).gather(2, where.flatten(2)).view_as(where)


def _torch_avg_pool_grad(t, g, kernel, stride, padding, count_include_pad, x_shape):
    pool = lambda v: t.nn.functional.avg_pool2d(  # noqa: E731
        v, kernel, stride, padding, count_include_pad=count_include_pad
    )
    return _torch_vjp(t, pool, x_shape, g)


_GRADIENT_ONLY = Without("part of a gradient: it appears only in the graph of a gradient")

CONV2D = Op(
    "conv2d",
    im2col.conv2d_bias,
    _conv_dx,
    _conv_dw,
    lambda g, out, x, w, b, *p: g.sum(axis=(0, 2, 3)),
    onnx=_conv_onnx,
    torch=lambda t, x, w, b, *p: t.nn.functional.conv2d(x, w, b, *p),
)
CONV2D_NO_BIAS = Op(
    "conv2d",
    im2col.conv2d,
    _conv_dx,
    _conv_dw,
    onnx=_conv_onnx,
    torch=lambda t, x, w, *p: t.nn.functional.conv2d(x, w, None, *p),
    key="conv2d_no_bias",
)
CONV2D_INPUT_GRAD = Op(
    "conv2d_input_grad",
    im2col.input_grad,
    lambda u, out, g, w, *p: _via(CONV2D_NO_BIAS, u, w, *p[:4]),
    lambda u, out, g, w, *p: _via(CONV2D_WEIGHT_GRAD, g, u, *p[:4], shape_of(w)),
    onnx=_GRADIENT_ONLY,
    torch=lambda t, g, w, *p: t.nn.grad.conv2d_input(p[4], w, g, *p[:4]),
)
CONV2D_WEIGHT_GRAD: Op = Op(
    "conv2d_weight_grad",
    im2col.weight_grad,
    lambda v, out, g, x, *p: _via(CONV2D_NO_BIAS, x, v, *p[:4]),
    lambda v, out, g, x, *p: _via(CONV2D_INPUT_GRAD, g, v, *p[:4], shape_of(x)),
    onnx=_GRADIENT_ONLY,
    torch=lambda t, g, x, *p: t.nn.grad.conv2d_weight(x, p[4], g, *p[:4]),
)
# The window maxima are located from x's numbers (a constant routing, as relu's mask).
MAX_POOL2D = Op(
    "max_pool2d",
    im2col.max_pool2d,
    lambda g, out, x, *p: _via(MAX_POOL2D_GRAD, g, *p, raw(x), raw(out)),
    onnx=_max_pool_onnx,
    torch=lambda t, x, *p: t.nn.functional.max_pool2d(x, *p),
)
# params: kernel, stride, padding, dilation, then x and the window maxima (data)
MAX_POOL2D_GRAD: Op = Op(
    "max_pool2d_grad",
    lambda g, *p: im2col.max_pool2d_grad(g, *p[-2:], *p[:-2]),
    lambda u, out, g, *p: _via(MAX_POOL2D_PICK, u, *p),
    onnx=_GRADIENT_ONLY,
    torch=_torch_max_pool_grad,
)
MAX_POOL2D_PICK: Op = Op(
    "max_pool2d_pick",
    lambda u, *p: im2col.max_pool2d_pick(u, *p[-2:], *p[:-2]),
    lambda v, out, u, *p: _via(MAX_POOL2D_GRAD, v, *p),
    onnx=_GRADIENT_ONLY,
    torch=_torch_max_pool_pick,
)
AVG_POOL2D = Op(
    "avg_pool2d",
    im2col.avg_pool2d,
    lambda g, out, x, *p: _via(AVG_POOL2D_GRAD, g, *p, shape_of(x)),
    onnx=_avg_pool_onnx,
    torch=lambda t, x, kernel, stride, padding, count_include_pad: t.nn.functional.avg_pool2d(
        x, kernel, stride, padding, count_include_pad=count_include_pad
    ),
)
AVG_POOL2D_GRAD: Op = Op(
    "avg_pool2d_grad",
    im2col.avg_pool2d_grad,
    lambda u, out, g, *p: _via(AVG_POOL2D, u, *p[:-1]),
    onnx=_GRADIENT_ONLY,
    torch=_torch_avg_pool_grad,
)
