"""``Value``'s math methods that take arguments (an axis, a slope, a bound): each checks
them, then applies its op entry. The methods without arguments (``tanh``, ``exp``,
``x * y``, ...) are made from the op table in ``value.py``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from . import ops
from .arguments import index_result, normalize_axis, reduced_count

if TYPE_CHECKING:
    from .value import Value

Axis = int | Sequence[int] | None


class ValueParts:
    """What the method mixins (``MathMethods``, ``value_shape.ShapeMethods``) use of
    ``Value``, told to type checkers (nothing at run time)."""

    __slots__ = ()
    if TYPE_CHECKING:
        _data: Any

        @property
        def shape(self) -> tuple: ...

        @property
        def ndim(self) -> int: ...

        @property
        def size(self) -> int: ...

        @property
        def dtype(self) -> np.dtype: ...

        def _apply_op(self, op: Any, others: Sequence[Any] = (), params: tuple = ()) -> Value: ...


class Picked(NamedTuple):
    """What ``sort`` and ``topk`` return, as torch's: the ``values`` (a Value, whose
    gradient goes back to where each came from) and their ``indices`` along the axis
    (an int array, no gradient)."""

    values: Value
    indices: np.ndarray


class MathMethods(ValueParts):
    """Mixed into ``Value``: activations with a parameter, comparisons (as bools and as
    masks), the reductions and softmax."""

    __slots__ = ()
    if TYPE_CHECKING:  # what these methods use of Value besides

        def __init__(self, data: Any, requires_grad: bool = True) -> None: ...

        def reshape(self, *shape: Any) -> Value: ...

    # ------------------------------------------------------------ with a parameter
    def leaky_relu(self, slope: float = 0.01) -> Value:
        """x where x > 0, else slope * x."""
        return self._apply_op(ops.LEAKY_RELU, (), (float(slope),))

    def elu(self, alpha: float = 1.0) -> Value:
        """x where x > 0, else alpha · (e^x - 1).

        >>> from autograd import Value
        >>> round(Value(-1.0).elu().data, 4)
        -0.6321
        """
        return self._apply_op(ops.ELU, (), (float(alpha),))

    def gelu(self, approximate: str = "none") -> Value:
        """x · Φ(x), Φ the standard normal CDF; ``approximate="tanh"`` uses
        0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))), as ``torch.nn.GELU``.

        >>> from autograd import Value
        >>> round(Value(1.0).gelu().data, 4), round(Value(1.0).gelu("tanh").data, 4)
        (0.8413, 0.8412)
        """
        if approximate not in ("none", "tanh"):
            raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
        return self._apply_op(ops.GELU, (), (approximate,))

    def clip(self, low: float | None = None, high: float | None = None) -> Value:
        """Each element limited to [low, high] (either may be None); the gradient passes
        where the element is inside.

        >>> from autograd import Value
        >>> Value([-2.0, 0.5, 3.0]).clip(-1, 1).data
        array([-1. ,  0.5,  1. ])
        """
        if low is None and high is None:
            raise ValueError("clip: give low, high or both")
        if low is not None and high is not None and low > high:
            raise ValueError(f"clip: low ({low}) is above high ({high})")
        low = None if low is None else float(low)
        high = None if high is None else float(high)
        return self._apply_op(ops.CLIP, (), (low, high))

    def maximum(self, other: Any) -> Value:
        """Elementwise larger of the two (broadcasting); ties share the gradient.

        >>> from autograd import Value
        >>> Value([1.0, 5.0]).maximum(3.0).data
        array([3., 5.])
        """
        return self._apply_op(ops.MAXIMUM, (other,))

    def atan2(self, other: Any) -> Value:
        """The angle of the point (other, self): atan(self / other) in the right quadrant,
        in [-π, π] (broadcasting); its gradient at the origin is 0, as torch's.

        >>> from autograd import Value
        >>> round(Value(1.0).atan2(-1.0).data, 4)
        2.3562
        """
        return self._apply_op(ops.ATAN2, (other,))

    # ------------------------------------------------------------ comparisons
    # ``<`` and friends look at the numbers only: they return bools, not Values.
    def __lt__(self, other: Any) -> Any:
        return self._data < (other._data if isinstance(other, MathMethods) else other)

    def __le__(self, other: Any) -> Any:
        return self._data <= (other._data if isinstance(other, MathMethods) else other)

    def __gt__(self, other: Any) -> Any:
        return self._data > (other._data if isinstance(other, MathMethods) else other)

    def __ge__(self, other: Any) -> Any:
        return self._data >= (other._data if isinstance(other, MathMethods) else other)

    # ------------------------------------------------------------ comparisons as masks
    # A constant 0/1 mask (a Value with no gradient), for masking and counting. ``==``
    # stays identity: Values are dict keys and graph nodes.
    def eq(self, other: Any) -> Value:
        """1.0 where equal, else 0.0 (a constant). ``==`` itself compares identity:
        Values are graph nodes and dictionary keys.

        >>> from autograd import Value
        >>> Value([1.0, 2.0]).eq(2.0).data
        array([0., 1.])
        """
        return self._mask(np.equal, other)

    def ne(self, other: Any) -> Value:
        """1.0 where not equal, else 0.0 (a constant)."""
        return self._mask(np.not_equal, other)

    def lt(self, other: Any) -> Value:
        """1.0 where less than ``other``, else 0.0 (a constant).

        >>> from autograd import Value
        >>> Value([1.0, 2.0]).lt(2.0).data
        array([1., 0.])
        """
        return self._mask(np.less, other)

    def le(self, other: Any) -> Value:
        """1.0 where less than or equal to ``other``, else 0.0 (a constant)."""
        return self._mask(np.less_equal, other)

    def gt(self, other: Any) -> Value:
        """1.0 where greater than ``other``, else 0.0 (a constant)."""
        return self._mask(np.greater, other)

    def ge(self, other: Any) -> Value:
        """1.0 where greater than or equal to ``other``, else 0.0 (a constant)."""
        return self._mask(np.greater_equal, other)

    def _mask(self, compare: Callable, other: Any) -> Any:  # a Value
        other = other._data if isinstance(other, MathMethods) else other  # (a Value)
        mask = np.asarray(compare(self._data, other), dtype=self.dtype)
        return type(self)(mask, requires_grad=False)

    # ------------------------------------------------------------ reductions
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Value:
        """Sum over ``axis`` (all elements when None)."""
        return self._apply_op(ops.SUM, (), (normalize_axis(axis, self.ndim, "sum"), keepdims))

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Value:
        """Mean over ``axis`` (all elements when None)."""
        return self._apply_op(ops.MEAN, (), (normalize_axis(axis, self.ndim, "mean"), keepdims))

    def max(self, axis: Axis = None, keepdims: bool = False) -> Value:
        """Maximum over ``axis``; tied maxima share the gradient equally."""
        if self.size == 0:
            raise ValueError("max: the value is empty")
        return self._apply_op(ops.MAX, (), (normalize_axis(axis, self.ndim, "max"), keepdims))

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Value:
        """Product over ``axis``; the gradient is exact even where an element is 0.

        >>> from autograd import Value
        >>> Value([2.0, 3.0, 4.0]).prod().data
        24.0
        """
        return self._apply_op(ops.PROD, (), (normalize_axis(axis, self.ndim, "prod"), keepdims))

    def var(self, axis: Axis = None, keepdims: bool = False, ddof: int = 0) -> Value:
        """Variance over ``axis``: sum((x - mean)²) / (n - ddof), like numpy (``ddof=1``
        for torch's default).

        >>> from autograd import Value
        >>> Value([1.0, 2.0, 3.0, 4.0]).var().data
        1.25
        """
        axes = normalize_axis(axis, self.ndim, "var")
        if reduced_count(self.shape, axes) - ddof <= 0:
            raise ValueError(
                f"var: ddof={ddof} leaves no degrees of freedom for shape {self.shape}"
            )
        return self._apply_op(ops.VAR, (), (axes, keepdims, int(ddof)))

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Value:
        """log(sum(exp(x))) over ``axis``, shifted by the max so it never overflows.

        >>> from autograd import Value
        >>> round(Value([1000.0, 1000.0]).logsumexp().data, 4)
        1000.6931
        """
        axes = normalize_axis(axis, self.ndim, "logsumexp")
        return self._apply_op(ops.LOGSUMEXP, (), (axes, keepdims))

    def cumsum(self, axis: int | None = None) -> Value:
        """Running sum along ``axis`` (of the flattened value when None), like numpy.

        >>> from autograd import Value
        >>> Value([1.0, 2.0, 3.0]).cumsum().data
        array([1., 3., 6.])
        """
        if axis is None:
            return self.reshape(-1)._apply_op(ops.CUMSUM, (), (0,))
        (ax,) = normalize_axis(axis, self.ndim, "cumsum")
        return self._apply_op(ops.CUMSUM, (), (ax,))

    def cumprod(self, axis: int | None = None) -> Value:
        """Running product along ``axis`` (of the flattened value when None), like numpy;
        its gradient is exact where an element is 0 (second derivatives too).

        >>> from autograd import Value
        >>> Value([1.0, 2.0, 3.0]).cumprod().data
        array([1., 2., 6.])
        """
        if axis is None or self.ndim == 0:  # (torch takes axis 0 or -1 of a single number)
            flat = self.reshape(-1)._apply_op(ops.CUMPROD, (), (0,))
            if axis is None:
                return flat
            normalize_axis(axis, 1, "cumprod")
            return flat.reshape(())
        (ax,) = normalize_axis(axis, self.ndim, "cumprod")
        return self._apply_op(ops.CUMPROD, (), (ax,))

    def topk(self, k: int, axis: int = -1, largest: bool = True, sorted: bool = True) -> Picked:
        """The ``k`` largest (``largest=False``: smallest) elements along ``axis``, in
        order, and their indices (``torch.topk``): tied elements lower index first, nan
        as the largest. ``sorted=False`` returns them in order too.

        >>> from autograd import Value
        >>> values, indices = Value([1.0, 5.0, 3.0]).topk(2)
        >>> values.data, indices
        (array([5., 3.]), array([1, 2]))
        """
        if self.ndim == 0:
            raise ValueError("topk: needs a value with at least one axis, got a 0-d value")
        (ax,) = normalize_axis(axis, self.ndim, "topk")
        if not isinstance(k, (int, np.integer)) or not 0 <= k <= self.shape[ax]:
            raise ValueError(
                f"topk: k must be a whole number from 0 to {self.shape[ax]} (axis {ax} of "
                f"shape {self.shape}), got {k!r}"
            )
        saved: list = []
        values = self._apply_op(ops.TOPK, (), (int(k), ax, bool(largest), saved))
        return Picked(values, saved[0])

    def sort(self, axis: int = -1, descending: bool = False) -> Picked:
        """The elements along ``axis`` in order, and where each came from (``torch.sort``
        with ``stable=True``); the gradient goes back through the indices.

        >>> from autograd import Value
        >>> Value([3.0, 1.0, 2.0]).sort().indices
        array([1, 2, 0])
        """
        if self.ndim == 0:
            raise ValueError("sort: needs a value with at least one axis, got a 0-d value")
        (ax,) = normalize_axis(axis, self.ndim, "sort")
        return ops.SORT.build(self, ax, descending)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """Index of the maximum (an int, or an int array along ``axis``); no gradient.

        >>> from autograd import Value
        >>> Value([[1.0, 5.0], [7.0, 2.0]]).argmax(axis=1)
        array([1, 0])
        """
        return index_result(np.argmax(self._data, axis=axis, keepdims=keepdims))

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Any:
        """Index of the minimum (an int, or an int array along ``axis``); no gradient."""
        return index_result(np.argmin(self._data, axis=axis, keepdims=keepdims))

    # ------------------------------------------------------------ softmax
    def softmax(self, axis: int = -1) -> Value:
        """exp(x) / sum(exp(x)) along ``axis``, shifted by the max so it never overflows."""
        (ax,) = normalize_axis(axis, max(self.ndim, 1), "softmax")
        return self._apply_op(ops.SOFTMAX, (), (ax,))

    def log_softmax(self, axis: int = -1) -> Value:
        """log(softmax(x)) along ``axis``, computed stably (no log of an underflowed 0)."""
        (ax,) = normalize_axis(axis, max(self.ndim, 1), "log_softmax")
        return self._apply_op(ops.LOG_SOFTMAX, (), (ax,))
