"""``Value``'s shape methods: reshape, transpose, indexing, squeeze, flip, pad, tile,
repeat, split, gather. Each checks its arguments, then applies its op entry (or others
that do: ``squeeze`` is a reshape, ``split`` a few slices)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from . import ops
from .arguments import along_axis_index, clean_index, normalize_axis
from .value_math import ValueParts

if TYPE_CHECKING:
    from .value import Value


class ShapeMethods(ValueParts):
    """Mixed into ``Value``: every method that moves numbers around."""

    __slots__ = ()

    def reshape(self, *shape: Any) -> Value:
        """The same elements in a new shape: ``v.reshape(2, 3)`` or ``v.reshape((2, 3))``."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        try:
            target = np.empty(self.shape, dtype=np.bool_).reshape(shape).shape
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a value of shape {self.shape} ({self.size} elements) "
                f"into {shape}"
            ) from None
        return self._apply_op(ops.RESHAPE, (), (target,))

    def transpose(self, *axes: int) -> Value:
        """Permute the axes (reverse them when none are given), like ``numpy.transpose``."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        n = self.ndim
        perm = (
            tuple(reversed(range(n))) if not axes else tuple(int(a) % n if n else a for a in axes)
        )
        if sorted(perm) != list(range(n)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of a value with shape {self.shape}"
            )
        return self._apply_op(ops.TRANSPOSE, (), (perm,))

    @property
    def T(self) -> Value:
        """The transpose (axes reversed)."""
        return self.transpose()

    def broadcast_to(self, shape: Sequence[int]) -> Value:
        """Repeat along size-1 (or new leading) axes to reach ``shape``, like numpy."""
        return self._apply_op(ops.BROADCAST, (), (tuple(shape),))

    def __getitem__(self, index: Any) -> Value:
        if type(self._data) is float:
            raise TypeError("cannot index a 0-d Value (it holds a single number)")
        index = clean_index(index, lambda i: isinstance(i, ShapeMethods))  # (a Value)
        try:
            self._data[index]
        except IndexError as err:
            raise IndexError(
                f"[]: index {index!r} does not fit shape {self.shape}: {err}"
            ) from None
        return self._apply_op(ops.GETITEM, (), (index,))

    def scatter(self, index: Any, shape: Sequence[int]) -> Value:
        """Zeros of ``shape`` with this value added at ``index`` (the gradient of ``v[index]``)."""
        index = clean_index(index, lambda i: isinstance(i, ShapeMethods))
        return self._apply_op(ops.SCATTER, (), (index, tuple(shape)))

    def squeeze(self, axis: int | Sequence[int] | None = None) -> Value:
        """Drop axes of length 1 (all of them when ``axis`` is None).

        >>> from autograd import Value
        >>> Value(np.ones((1, 3, 1))).squeeze().shape
        (3,)
        """
        axes = normalize_axis(axis, self.ndim, "squeeze")
        if axes is None:
            axes = tuple(i for i, n in enumerate(self.shape) if n == 1)
        for ax in axes:
            if self.shape[ax] != 1:
                raise ValueError(
                    f"squeeze: axis {ax} of a value of shape {self.shape} has length "
                    f"{self.shape[ax]}, not 1"
                )
        return self.reshape(tuple(n for i, n in enumerate(self.shape) if i not in axes))

    def unsqueeze(self, axis: int) -> Value:
        """A new axis of length 1 at position ``axis`` (numpy's ``expand_dims``).

        >>> from autograd import Value
        >>> Value([1.0, 2.0]).unsqueeze(0).shape
        (1, 2)
        """
        (ax,) = normalize_axis(axis, self.ndim + 1, "unsqueeze")
        return self.reshape(self.shape[:ax] + (1,) + self.shape[ax:])

    expand_dims = unsqueeze

    def flip(self, axis: int | Sequence[int] | None = None) -> Value:
        """The elements in reverse order along ``axis`` (every axis when None).

        >>> from autograd import Value
        >>> Value([1.0, 2.0, 3.0]).flip().data
        array([3., 2., 1.])
        """
        return self._apply_op(ops.FLIP, (), (normalize_axis(axis, self.ndim, "flip"),))

    def pad(self, pad_width: Any, value: float = 0.0, mode: str = "constant") -> Value:
        """Pad with the constant ``value``; ``pad_width`` as numpy's: an int, a
        ``(before, after)`` pair, or one pair per axis. ``mode="reflect"`` mirrors the
        value at its edges (without repeating the edge), ``"replicate"`` repeats the
        edge, as ``torch.nn.functional.pad``'s modes.

        >>> from autograd import Value
        >>> Value([1.0, 2.0]).pad(1).data
        array([0., 1., 2., 0.])
        >>> Value([1.0, 2.0, 3.0]).pad(2, mode="reflect").data
        array([3., 2., 1., 2., 3., 2., 1.])
        """
        if mode not in ("constant", "reflect", "replicate"):
            raise ValueError(
                f"pad: mode must be 'constant', 'reflect' or 'replicate', got {mode!r}"
            )
        try:
            widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (self.ndim, 2))
        except ValueError:
            raise ValueError(
                f"pad: pad_width {pad_width!r} does not fit a value of shape {self.shape}"
            ) from None
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width must be >= 0, got {pad_width!r}")
        pairs = tuple((int(lo), int(hi)) for lo, hi in widths)
        if mode == "constant":
            return self._apply_op(ops.PAD, (), (pairs, float(value)))
        if value != 0.0:
            raise ValueError(f"pad: mode {mode!r} takes no value (got {value!r})")
        for axis, ((lo, hi), n) in enumerate(zip(pairs, self.shape)):
            if (lo or hi) and mode == "reflect" and max(lo, hi) >= n:
                raise ValueError(
                    f"pad: mode 'reflect' pads axis {axis} of a value of shape {self.shape} by "
                    f"{(lo, hi)}; each width must be below the axis length {n}"
                )
            if (lo or hi) and n == 0:
                raise ValueError(
                    f"pad: mode {mode!r} cannot pad axis {axis} of a value of shape "
                    f"{self.shape}: it is empty"
                )
        entry = ops.PAD_REFLECT if mode == "reflect" else ops.PAD_REPLICATE
        return entry.build(self, pairs)

    def tile(self, reps: int | Sequence[int]) -> Value:
        """The value repeated ``reps`` times along each axis, like ``numpy.tile``.

        >>> from autograd import Value
        >>> Value([1.0, 2.0]).tile(2).data
        array([1., 2., 1., 2.])
        """
        reps = (int(reps),) if isinstance(reps, (int, np.integer)) else tuple(map(int, reps))
        if any(r < 0 for r in reps):
            raise ValueError(f"tile: reps must be >= 0, got {reps}")
        reps = (1,) * (self.ndim - len(reps)) + reps
        return self._apply_op(ops.TILE, (), (reps,))

    def repeat(self, repeats: int, axis: int | None = None) -> Value:
        """Each element repeated ``repeats`` times along ``axis`` (of the flattened
        value when None), like ``numpy.repeat``.

        >>> from autograd import Value
        >>> Value([1.0, 2.0]).repeat(2).data
        array([1., 1., 2., 2.])
        """
        if not isinstance(repeats, (int, np.integer)) or repeats < 0:
            raise ValueError(f"repeat: repeats must be an int >= 0, got {repeats!r}")
        if axis is None:
            return self.reshape(-1)._apply_op(ops.REPEAT, (), (int(repeats), 0))
        (ax,) = normalize_axis(axis, self.ndim, "repeat")
        return self._apply_op(ops.REPEAT, (), (int(repeats), ax))

    def split(self, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Value]:
        """Pieces along ``axis``, like ``numpy.split``: a number of equal sections, or
        the indices where to cut.

        >>> from autograd import Value
        >>> [p.data.tolist() for p in Value([1.0, 2.0, 3.0]).split([1])]
        [[1.0], [2.0, 3.0]]
        """
        (ax,) = normalize_axis(axis, self.ndim, "split")
        n = self.shape[ax]
        if isinstance(indices_or_sections, (int, np.integer)):
            k = int(indices_or_sections)
            if k < 1 or n % k:  # (an empty axis splits into k empty pieces, as numpy)
                raise ValueError(
                    f"split: axis {ax} of length {n} cannot be split into {k} equal sections"
                )
            cuts = list(range(n // k, n, n // k)) if n else [0] * (k - 1)
        else:
            cuts = [int(c) for c in indices_or_sections]
        bounds = [0, *cuts, n]
        lead = (slice(None),) * ax
        return [self[lead + (slice(lo, hi),)] for lo, hi in zip(bounds, bounds[1:])]

    def chunk(self, chunks: int, axis: int = 0) -> list[Value]:
        """``chunks`` pieces along ``axis``, the last one smaller when it does not
        divide evenly (``torch.chunk``).

        >>> from autograd import Value
        >>> [p.shape for p in Value(np.ones(5)).chunk(2)]
        [(3,), (2,)]
        """
        if chunks < 1:
            raise ValueError(f"chunk: chunks must be >= 1, got {chunks}")
        (ax,) = normalize_axis(axis, self.ndim, "chunk")
        size = -(-self.shape[ax] // chunks)
        if size == 0:  # an empty axis: ``chunks`` empty pieces, as torch
            return self.split(chunks, ax)
        return self.split(list(range(size, self.shape[ax], size)), ax)

    def take_along_axis(self, indices: Any, axis: int) -> Value:
        """The elements at ``indices`` along ``axis`` (``numpy.take_along_axis``,
        ``torch.gather``): ``out[i, j] = v[i, indices[i, j]]`` for ``axis=1``.

        >>> from autograd import Value
        >>> Value([[1.0, 2.0], [3.0, 4.0]]).take_along_axis([[1], [0]], axis=1).data
        array([[2.],
               [3.]])
        """
        if isinstance(indices, ShapeMethods):  # a Value
            indices = indices._data
        return self[along_axis_index(self.shape, indices, axis, "take_along_axis")]

    gather = take_along_axis
