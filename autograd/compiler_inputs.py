"""What a compiled step checks and names (``compiler_program``): the arguments of a
replay, found where the trace used them (as they are, or converted) and guarded (other
shapes or dtypes go back to a trace), and the one line a refusal says.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .value import Value


class Refused(RuntimeError):
    """What a step that a replay could not follow raises: one line, "compile: the step ..."."""


def refuse(why: str) -> None:
    raise Refused(f"compile: the step {why}")


def named(v: Value) -> str:
    """How an error names a value: its label, else its op and shape."""
    if v.label:
        return repr(v.label)
    what = f"the result of {v.op}" if v.op else "a value"
    return f"{what} of shape {v.shape}"


def guard_arguments(prog: Any, args: tuple, names: list[str]) -> list[str]:
    """Unpack the arguments; return the tests that send other ones back to a trace."""
    prog.emit(f"if len(args) != {len(args)}:")
    prog.emit("    return STALE")
    if names:
        prog.emit(f"{', '.join(names)}{',' if len(names) == 1 else ''} = args")
    guards = []
    for a, name in zip(args, names):
        kind = prog.bind(type(a), "T")
        if isinstance(a, np.ndarray):
            shape, dtype = prog.bind(a.shape, "S"), prog.bind(a.dtype, "D")
            guards.append(
                f"type({name}) is not {kind} or {name}.shape != {shape}"
                f" or ({name}.dtype is not {dtype} and {name}.dtype != {dtype})"
            )
        else:  # a fixed argument: another value is another trace
            guards.append(f"type({name}) is not {kind} or {name} != {prog.bind(a, 'K')}")
    return guards


class Inputs:
    """Where the arguments went: each array an op uses is found among them (as it is,
    or converted to another dtype or shape, the conversion then written out)."""

    def __init__(self, prog: Any, args: tuple, names: list[str]) -> None:
        self.prog, self.names = prog, names
        self.arrays = [(i, a) for i, a in enumerate(args) if isinstance(a, np.ndarray)]
        self.used: set[int] = set()
        self.lines: list[str] = []
        self.made: dict[int, str] = {}

    def find(self, data: Any, derive: bool) -> str | None:
        if not isinstance(data, np.ndarray):
            return None
        for i, a in self.arrays:
            if data is a:
                self.used.add(i)
                return self.names[i]
        if not derive:
            return None
        if id(data) in self.made:
            return self.made[id(data)]
        for i, a in self.arrays:
            if converted(a, data):
                self.used.add(i)
                self.made[id(data)] = name = self._convert(i, a, data)
                return name
            if np.shares_memory(a, data):
                refuse(
                    f"uses part of argument {i} (shape {data.shape} of {a.shape}); a replay "
                    "takes each argument as it is or converted: pass the part itself"
                )
        return None

    def _convert(self, i: int, a: np.ndarray, data: np.ndarray) -> str:
        arg, shape = self.names[i], self.prog.bind(data.shape, "S")
        if data.dtype == a.dtype and np.shares_memory(a, data):
            name = self.prog.name("c")
            self.lines.append(f"{name} = {arg}.reshape({shape})  # argument {i}, reshaped")
            return name
        name = self.prog.buffer(data)
        self.lines.append(
            f"{self.prog.numpy('copyto')}({name}, {arg}.reshape({shape}), casting='unsafe')"
            f"  # argument {i} as {data.dtype}"
        )
        return name

    def check_all_used(self) -> None:
        for i, a in self.arrays:
            if i not in self.used:
                refuse(
                    f"uses argument {i} (shape {a.shape}, {a.dtype}) in no op, as it is or "
                    "in another dtype or shape: it was made into something else first (so a "
                    "replay could not use new numbers: pass that instead), or it is not used"
                )


def converted(a: np.ndarray, data: np.ndarray) -> bool:
    """Whether ``data`` holds ``a``'s numbers, in another dtype or shape."""
    if data.size != a.size or a.dtype.kind not in "biuf" or data.dtype.kind not in "biuf":
        return False
    with np.errstate(all="ignore"):
        same = a.reshape(-1).astype(data.dtype)
    return bool(np.array_equal(same, data.reshape(-1), equal_nan=data.dtype.kind == "f"))
