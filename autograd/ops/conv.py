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


def _pool_pads(x, kernel, stride, padding, dilation, ceil_mode) -> list:
    """ONNX pads (top, left, bottom, right) that make PyTorch's windows without
    ``ceil_mode``: its last, partial windows reach ``ceil_extra`` rows and columns past
    the padding. Opset 18 would count a last window that starts in the right padding,
    which PyTorch drops; these pads say which windows exist in every opset."""
    extra = im2col.ceil_extra(x.shape, kernel, stride, padding, dilation, ceil_mode)
    return [*padding, *(p + e for p, e in zip(padding, extra))]


def _max_pool_onnx(emit, x, kernel, stride, padding, dilation, ceil_mode):
    return emit(
        "MaxPool",
        x,
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=_pool_pads(x, kernel, stride, padding, dilation, ceil_mode),
        dilations=list(dilation),
    )


def _avg_pool_onnx(emit, x, kernel, stride, padding, count_include_pad, ceil_mode):
    pads = _pool_pads(x, kernel, stride, padding, (1, 1), ceil_mode)
    if count_include_pad and pads[2:] != pads[:2]:
        # PyTorch counts the padding but not the rows past it: pad with zeros first,
        # then count what a window covers of that
        x = emit("Pad", x, emit.ints([0, 0, *padding, 0, 0, *padding]), emit.constant(0.0))
        pads, count_include_pad = [0, 0, *(p - q for p, q in zip(pads[2:], padding))], False
    return emit(
        "AveragePool",
        x,
        kernel_shape=list(kernel),
        strides=list(stride),
        pads=pads,
        count_include_pad=int(count_include_pad),
    )


def _torch_vjp(t: Any, forward: Any, x_shape: tuple, g: Any, x: Any = None) -> Any:
    """torch's gradient of ``forward`` at ``x`` (zeros of ``x_shape`` for a linear map)
    applied to ``g``, recorded so it can be differentiated again."""
    xt = t.zeros(x_shape, dtype=g.dtype) if x is None else t.as_tensor(x)
    xt.requires_grad_()
    return t.autograd.grad(forward(xt), xt, g, create_graph=True)[0]


def _torch_max_pool_grad(t, g, kernel, stride, padding, dilation, ceil_mode, x, peaks):
    pool = lambda v: t.nn.functional.max_pool2d(v, kernel, stride, padding, dilation, ceil_mode)  # noqa: E731
    return _torch_vjp(t, pool, x.shape, g, x)


def _torch_max_pool_pick(t, u, kernel, stride, padding, dilation, ceil_mode, x, peaks):
    _, where = t.nn.functional.max_pool2d(
        t.as_tensor(x), kernel, stride, padding, dilation, ceil_mode, return_indices=True
    )
    return u.flatten(2).gather(2, where.flatten(2)).view_as(where)


def _torch_avg_pool_grad(t, g, kernel, stride, padding, count_include_pad, ceil_mode, x_shape):
    pool = lambda v: t.nn.functional.avg_pool2d(  # noqa: E731
        v, kernel, stride, padding, ceil_mode, count_include_pad
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
# params: kernel, stride, padding, dilation, ceil_mode, then x and the window maxima (data)
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
    torch=lambda t, x, kernel, stride, padding, count_include_pad, ceil_mode: (
        t.nn.functional.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
    ),
)
AVG_POOL2D_GRAD: Op = Op(
    "avg_pool2d_grad",
    im2col.avg_pool2d_grad,
    lambda u, out, g, *p: _via(AVG_POOL2D, u, *p[:-1]),
    onnx=_GRADIENT_ONLY,
    torch=_torch_avg_pool_grad,
)


# ---------------------------------------------------------------- transposed convolution
# conv_transpose2d(x, w) is conv2d's input gradient T(x, w) as a forward pass (w is
# (C_in, C_out/G, kh, kw), a conv2d weight from C_out to C_in channels), so its vjps are
# T's: dx = conv(g, w), dw = W(x, g). ``output_padding`` adds rows and columns at the
# bottom and right that no window of that conv reaches (it is below the stride).
def transpose_shape(
    x_shape: tuple, w_shape: tuple, stride, padding, output_padding, dilation, groups
):
    """The output shape of ``conv_transpose2d`` (PyTorch's formula)."""
    sizes = (
        (n - 1) * s - 2 * p + d * (k - 1) + extra + 1
        for n, k, s, p, extra, d in zip(
            x_shape[2:], w_shape[2:], stride, padding, output_padding, dilation
        )
    )
    return (x_shape[0], w_shape[1] * groups, *sizes)


def _conv_transpose(x, w, stride, padding, output_padding, dilation, groups):
    shape = transpose_shape(x.shape, w.shape, stride, padding, output_padding, dilation, groups)
    return im2col.input_grad(x, w, stride, padding, dilation, groups, shape)


def _conv_transpose_bias(x, w, b, *p):
    return _conv_transpose(x, w, *p) + b.reshape(1, -1, 1, 1)


def _transpose_dx(g, out, x, w, *rest):  # rest: (b,) and the five params, or the params
    stride, padding, _, dilation, groups = rest[-5:]
    return _via(CONV2D_NO_BIAS, g, w, stride, padding, dilation, groups)


def _transpose_dw(g, out, x, w, *rest):
    stride, padding, _, dilation, groups = rest[-5:]
    return _via(CONV2D_WEIGHT_GRAD, x, g, stride, padding, dilation, groups, shape_of(w))


def _conv_transpose_onnx(emit, x, w, *rest):
    *bias, stride, padding, output_padding, dilation, groups = rest
    return emit(
        "ConvTranspose",
        x,
        w,
        *bias,
        kernel_shape=list(w.shape[2:]),
        strides=list(stride),
        pads=[*padding, *padding],
        output_padding=list(output_padding),
        dilations=list(dilation),
        group=groups,
    )


def _torch_conv_transpose(t, x, w, b, stride, padding, output_padding, dilation, groups):
    return t.nn.functional.conv_transpose2d(
        x, w, b, stride, padding, output_padding, groups, dilation
    )


CONV_TRANSPOSE2D = Op(
    "conv_transpose2d",
    _conv_transpose_bias,
    _transpose_dx,
    _transpose_dw,
    lambda g, out, x, w, b, *p: g.sum(axis=(0, 2, 3)),
    onnx=_conv_transpose_onnx,
    torch=_torch_conv_transpose,
)
CONV_TRANSPOSE2D_NO_BIAS = Op(
    "conv_transpose2d",
    _conv_transpose,
    _transpose_dx,
    _transpose_dw,
    onnx=_conv_transpose_onnx,
    torch=lambda t, x, w, *p: _torch_conv_transpose(t, x, w, None, *p),
    key="conv_transpose2d_no_bias",
)
