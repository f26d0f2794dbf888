"""``Module``: parameters by name, train/eval mode, state dicts, saving and loading."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from autograd import Value

from .model_config import CLASSES, register
from .names import short_name


class Module:
    """Base class of every model part. Attributes that are leaf Values (not computed by
    an op; frozen ones, ``requires_grad`` False, included) are its parameters; attributes that are Modules (or lists of them) are its children;
    attributes named in ``buffers`` are its buffers (arrays that are state but not
    trained, as BatchNorm's running statistics).
    """

    training = True
    buffers: tuple[str, ...] = ()  # attribute names of the non-trainable arrays

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register(cls)  # by the name its model files give it
        _label_when_built(cls)

    # ------------------------------------------------------------ structure
    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules, with their attribute names (``layers.0`` for list items);
        a module held under two names is listed once, under the first (as torch does)."""
        seen: set[int] = set()
        for name, child in self._children():
            if id(child) not in seen:
                seen.add(id(child))
                yield name, child

    def named_parameters(
        self, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Value]]:
        """Every parameter with a dotted name, e.g. ``layers.0.W`` or ``neurons.1.w.0``,
        frozen ones (``requires_grad`` False) included. A parameter reached by two paths
        (a layer used twice) is listed once, under the first, unless ``remove_duplicate``
        is False (``state_dict`` lists every path, as torch's does)."""
        seen: set[int] | None = set() if remove_duplicate else None
        for path, module in self._modules(prefix, seen):
            for name, p in module._own_parameters():
                if seen is None or id(p) not in seen:
                    if seen is not None:
                        seen.add(id(p))
                    yield path + name, p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        """Every buffer with a dotted name, e.g. ``layers.1.running_mean``: state that
        ``state_dict``, ``save`` and ``to_torch`` carry, but no optimizer changes (a
        module used twice is listed once)."""
        for name, owner, attr in self._buffer_slots(prefix, set()):
            yield name, getattr(owner, attr)

    def _children(self) -> Iterator[tuple[str, Module]]:
        """Every sub-module attribute, repeats included (a container's structure)."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def _own_parameters(self) -> Iterator[tuple[str, Value]]:
        """This module's own parameters: its attributes that are leaf Values."""
        for name, value in vars(self).items():
            if isinstance(value, Value) and not value.op:
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, item in enumerate(value):
                    if isinstance(item, Value) and not item.op:
                        yield f"{name}.{i}", item

    def _modules(self, prefix: str, seen: set[int] | None) -> Iterator[tuple[str, Module]]:
        """This module and every sub-module with its path prefix, depth first (a loop,
        not recursion: any depth); with a ``seen`` set, each module once."""
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            if seen is not None:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield path, module
            children = [(f"{path}{name}.", child) for name, child in module._children()]
            stack.extend(reversed(children))

    def _buffer_slots(
        self, prefix: str, seen: set[int] | None = None
    ) -> Iterator[tuple[str, Module, str]]:
        for path, module in self._modules(prefix, seen):
            for attr in module.buffers:
                yield path + attr, module, attr

    def name_parameters(self) -> Module:
        """Label every parameter with its short name (:func:`nn.names.short_name` of its
        module path: ``layers.0.neurons.1.w.0`` is ``L1.n2.w1``), the name every drawing,
        page, table and error message shows. Runs by itself once a module is built (the
        outermost constructor returns); call it again after adding parameters. Returns
        the module."""
        for name, p in self.named_parameters():
            p.label = short_name(name)
        return self

    def parameters(self) -> list[Value]:
        """Every parameter once, frozen ones included (as torch's), in a fixed order
        (the order of ``named_parameters``); an optimizer leaves the frozen ones as they
        are."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to zero."""
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout active); returns the module."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout off); returns the module."""
        return self.train(False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def config(self) -> dict:
        """The constructor arguments that rebuild this module (used by ``save``/``load``)."""
        raise NotImplementedError(
            f"{type(self).__name__} cannot be rebuilt from a file; save its state_dict() "
            "instead and load it into a new instance with load_state_dict()"
        )

    # ------------------------------------------------------------ state
    def state_dict(self) -> dict[str, np.ndarray]:
        """Parameter and buffer name -> a copy of its numbers (0-d arrays for scalar
        parameters): the parameters first, then the buffers. A layer used twice is there
        under both paths, as in torch's, so a file of it loads into a model built anew."""
        return {name: np.array(data, copy=True) for name, data in self._state()}

    def _state(self) -> Iterator[tuple[str, Any]]:
        """The state dict's entries, not copied: the parameters' data, then the buffers."""
        for name, p in self.named_parameters(remove_duplicate=False):
            yield name, p.data
        for name, owner, attr in self._buffer_slots(""):
            yield name, getattr(owner, attr)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Copy numbers into the parameters and buffers. Every key, shape and number is
        checked first: a missing or unexpected key, a wrong shape, a value that is not a
        finite number is a ``ValueError`` naming the entry, and nothing is changed.
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict takes a dict of name -> numbers (as state_dict() gives), "
                f"got a {type(state).__name__}; Module.load(path) reads a model file"
            )
        params = dict(self.named_parameters(remove_duplicate=False))
        slots = {name: (owner, attr) for name, owner, attr in self._buffer_slots("")}
        current = {
            **{n: (p.shape, p.dtype) for n, p in params.items()},
            **{
                n: (np.shape(getattr(o, a)), np.asarray(getattr(o, a)).dtype)
                for n, (o, a) in slots.items()
            },
        }
        missing = [k for k in current if k not in state]
        unexpected = [k for k in state if k not in current]
        if missing or unexpected:
            raise ValueError(
                f"load_state_dict: missing parameters {missing}, unexpected parameters {unexpected}"
            )
        arrays = {}
        for name, (shape, dtype) in current.items():
            kind = "parameter" if name in params else "buffer"
            arr = np.asarray(state[name])
            if arr.shape != shape:
                raise ValueError(
                    f"load_state_dict: {kind} {name!r} has shape {shape}, the state has {arr.shape}"
                )
            if arr.dtype.kind not in "biuf":
                raise ValueError(f"load_state_dict: {kind} {name!r} is not numeric ({arr.dtype})")
            if not np.isfinite(arr).all():
                raise ValueError(f"load_state_dict: {kind} {name!r} holds NaN or infinity")
            limit = np.finfo(dtype).max
            if arr.size and np.abs(arr).max() > limit:
                raise ValueError(
                    f"load_state_dict: {kind} {name!r} holds numbers too large for {dtype}"
                )
            arrays[name] = arr
        for name, p in params.items():  # only now, with everything checked
            if p.ndim == 0:
                p.data = float(arrays[name])
            else:
                array = p.data
                array[...] = arrays[name]
                p.data = array  # assigned, so graphs computed before the load go stale
        for name, (owner, attr) in slots.items():
            setattr(owner, attr, arrays[name].astype(current[name][1], copy=True))

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters and the constructor arguments to ``path``, atomically (a
        failed or killed save leaves the previous file intact). The suffix picks the
        format: ``.safetensors`` (the default choice) or ``.npz`` (the older format).

        >>> import tempfile, pathlib
        >>> from nn import MLP
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.safetensors"
        >>> MLP(2, [3, 1], vectorized=True, rng=0).save(path)
        >>> Module.load(path)
        MLP(nin=2, nouts=[3, 1], activation='tanh', output_activation='linear', vectorized=True, dtype='float64')
        """
        from .model_files import write_model

        write_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Module:
        """Rebuild a module saved with ``save`` (safetensors or ``.npz``, told apart by the
        file's first bytes). Nothing in the file is run as code, and its sizes and config
        are checked before anything is allocated: a bad file is one ``ValueError`` naming
        it and what is wrong.
        """
        from .model_files import read_model

        return read_model(path, CLASSES, cls)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


_building = threading.local()  # how many Module constructors are running in this thread


def _label_when_built(cls: type) -> None:
    """Wrap ``cls.__init__`` so that the outermost constructor, once it returns, labels
    every parameter by its short name (``fc1.W``, ``L2.n4.w2``)."""
    init = cls.__dict__.get("__init__")
    if init is None:
        return

    @functools.wraps(init)
    def __init__(self: Module, *args: Any, **kwargs: Any) -> None:
        depth = getattr(_building, "depth", 0)
        _building.depth = depth + 1
        try:
            init(self, *args, **kwargs)
        finally:
            _building.depth = depth
        if depth == 0:  # the outermost constructor: the parts label nothing on their own
            self.name_parameters()

    cls.__init__ = __init__  # type: ignore[misc]  # (wrapped on purpose)
