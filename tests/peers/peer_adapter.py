"""Run a peer's own test file against this engine: its imports answered by stand-ins.

The upstream files live in ``upstream/`` as text (``*.py.txt``: neither ruff nor pytest
reads them as ours), unchanged, with where they came from in ``upstream/SOURCES.md``.
``load(name, modules)`` executes one as a module while ``sys.modules`` answers its
imports (``micrograd.engine``, ``tinygrad``) with the given stand-ins, then takes them
back out: the loaded test functions keep what they imported.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import numpy as np

import autograd
from autograd import Value, grad, no_grad

UPSTREAM = Path(__file__).parent / "upstream"


def load(name: str, modules: dict[str, dict[str, Any]]) -> types.ModuleType:
    """The upstream test file ``upstream/{name}.py.txt``, executed with ``modules`` (a
    module name -> its attributes) importable while it runs."""
    stand_ins = {}
    for module_name, attributes in modules.items():
        module = types.ModuleType(module_name)
        module.__dict__.update(attributes)
        stand_ins[module_name] = module
    saved = {n: sys.modules.get(n) for n in stand_ins}
    sys.modules.update(stand_ins)
    try:
        path = UPSTREAM / f"{name}.py.txt"
        module = types.ModuleType(f"peer_{name}")
        module.__file__ = str(path)
        exec(compile(path.read_text(), str(path), "exec"), module.__dict__)  # noqa: S102 (our vendored tests)
    finally:
        for n, old in saved.items():
            if old is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = old
    return module


# ------------------------------------------------------------------ tinygrad's Tensor
def _ours(x: Any) -> Any:
    """A stand-in Tensor's Value (lists and tuples of them too); anything else as is."""
    if isinstance(x, Tensor):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(_ours(i) for i in x)
    return x


def _theirs(x: Any) -> Any:
    if isinstance(x, Value):
        return Tensor(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_theirs(i) for i in x)
    return x


class _TensorType(type):
    """``Tensor.conv2d(x, w)``, ``Tensor.stack(...)``, ``Tensor.relu(x)``: the function of
    ``autograd`` by that name, else the first argument's method."""

    def __getattr__(cls, name: str) -> Any:
        function = getattr(autograd, name, None)
        if not callable(function):
            return lambda x, *a, **k: getattr(x, name)(*a, **k)
        return lambda *a, **k: _theirs(function(*_ours(a), **{n: _ours(v) for n, v in k.items()}))


class Tensor(metaclass=_TensorType):
    """tinygrad's ``Tensor`` as far as a test reaches it: a Value under tinygrad's names.
    A method the Value lacks is an ``AttributeError`` (the test fails: the op is
    missing here), never an emulation."""

    __slots__ = ("value",)

    def __init__(self, data: Any, dtype: Any = None, requires_grad: Any = None, **_: Any):
        if isinstance(data, Value):
            self.value = data
            return
        array = np.asarray(data.value.data if isinstance(data, Tensor) else data)
        if array.dtype.kind not in "f" or dtype not in (None, np.float32, np.float64):
            raise TypeError(f"this engine holds floats only, got {array.dtype}")
        self.value = Value(array)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.value, name)
        if not callable(attribute):
            return _theirs(attribute)
        return lambda *a, **k: _theirs(attribute(*_ours(a), **{n: _ours(v) for n, v in k.items()}))

    def realize(self, *others: Tensor) -> Tensor:
        return self

    def numpy(self) -> np.ndarray:
        data = self.value.data  # (a 0-d Value's data is a float, by design: its array)
        return np.asarray(data, dtype=np.float32 if type(data) is float else data.dtype)

    def gradient(self, *targets: Tensor) -> list[Tensor]:
        return [Tensor(g) for g in _as_list(grad(self.value, [t.value for t in targets]))]

    def __len__(self) -> int:
        return len(self.value.data)

    def __getitem__(self, index: Any) -> Tensor:
        return _theirs(self.value[_ours(index)])


def _as_list(x: Any) -> list:
    return list(x) if isinstance(x, (list, tuple)) else [x]


def _operator(name: str):
    def method(self: Tensor, *others: Any) -> Any:
        return _theirs(getattr(self.value, name)(*_ours(others)))

    method.__name__ = name
    return method


for _name in (
    "__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __pow__ "
    "__rpow__ __matmul__ __rmatmul__ __neg__ __lt__ __le__ __gt__ __ge__"
).split():
    setattr(Tensor, _name, _operator(_name))
# tinygrad's names for the operators (x.add(y) is x + y)
for _name, _dunder in {
    "add": "__add__",
    "sub": "__sub__",
    "mul": "__mul__",
    "div": "__truediv__",
    "pow": "__pow__",
}.items():
    setattr(Tensor, _name, _operator(_dunder))


def tinygrad_modules() -> dict[str, dict[str, Any]]:
    """The stand-ins for what tinygrad's test_ops.py imports."""
    names = {"default_float": "float32", "float": "float32", "half": "float16", "int": "int32"}
    names |= {n: n for n in "float32 float64 float16 int32 int8 uint32 uint8 int64".split()}
    dtypes = types.SimpleNamespace(bool=np.bool_, **{n: getattr(np, t) for n, t in names.items()})
    helpers = {
        "getenv": lambda name, default=0: default,
        "DEBUG": 0,
        "DEV": types.SimpleNamespace(interface="", renderer="", arch=""),
        "IMAGE": 0,
        "Context": lambda **kw: _Context(),
    }
    device = _Device()
    return {
        "tinygrad": {"Tensor": Tensor, "Device": device, "dtypes": dtypes, "no_grad": no_grad},
        "tinygrad.helpers": helpers,
        "tinygrad.tensor": {"_to_np_dtype": lambda dtype: dtype},
        "tinygrad.renderer": {},
        "tinygrad.renderer.nir": {"NIRRenderer": type("NIRRenderer", (), {})},
        "tinygrad.dtype": {"dtypes": dtypes},
    }


class _Context:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        return None


class _Device:
    """``Device.DEFAULT`` and ``Device[name].renderer``: a CPU, no special renderer."""

    DEFAULT = "CPU"

    def __getitem__(self, name: str) -> types.SimpleNamespace:
        renderer = types.SimpleNamespace(supported_dtypes=lambda: ())
        return types.SimpleNamespace(renderer=renderer, compiler=None)
