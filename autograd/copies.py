"""How a Value is pickled and copied: every slot, with the write count of its stale-graph
check (``mode.check_unchanged``) marked with the process that counted it.

A copy made in this process keeps a stale graph stale; one made in another process
starts counting afresh here. A pickle from an older version loads under today's slots.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from .fast_backward import watch_gradient
from .mode import writes


class Copies:
    """Mixed into ``Value``: ``__getstate__`` and ``__setstate__``, for pickle and copy."""

    __slots__ = ()

    def __getstate__(self) -> tuple:
        slots = {
            name: getattr(self, name)
            for name in _slot_names(type(self))  # type: ignore[arg-type]  # (a class is hashable)
            if hasattr(self, name)
        }
        if "_stamp" in slots:  # a count of this process's writes: say which process
            slots["_stamp"] = (writes.epoch, slots["_stamp"])
        return getattr(self, "__dict__", None) or None, slots

    def __setstate__(self, state: Any) -> None:
        attrs, slots = state if isinstance(state, tuple) else (state, None)
        if attrs:
            self.__dict__.update(attrs)
        slots = _current_slots(dict(slots or {}), type(self))
        watch_gradient(slots.get("_g"))
        stamp = slots.pop("_stamp", None)
        for name, value in slots.items():
            object.__setattr__(self, name, value)
        if stamp is None:
            return
        epoch, stamp = stamp if type(stamp) is tuple else (None, stamp)
        if epoch == writes.epoch:  # a copy in this process: stale stays stale
            object.__setattr__(self, "_stamp", stamp)  # (a slot of Value, not of this mixin)
        elif getattr(self, "_op", None) is not None:
            # Pickled in another process, whose write counts mean nothing here: a node
            # counts as computed now and a leaf as never assigned, so only writes made
            # here after loading can make a graph stale.
            object.__setattr__(self, "_stamp", writes.now)


@cache
def _slot_names(cls: type) -> tuple[str, ...]:
    """Every slot of ``cls`` and its bases (what ``__getstate__`` saves)."""
    found = []
    for base in cls.__mro__:
        names = getattr(base, "__slots__", ())
        for name in (names,) if isinstance(names, str) else names:
            if name not in ("__dict__", "__weakref__") and name not in found:
                found.append(name)
    return tuple(found)


def _current_slots(slots: dict, cls: type) -> dict:
    """Slots pickled by an older version under today's names."""
    if "data" in slots:  # before ``data`` became a property: not a write
        slots["_data"] = slots.pop("data")
    if "parents" in slots:  # before ``parents`` became a property
        slots["_parents"] = slots.pop("parents")
    if "_a" in slots:  # when one or two inputs were slots and a number could be one
        inputs = (slots.pop("_a"), slots.pop("_b", None))
        if slots.get("_parents") is None:
            slots["_parents"] = tuple(
                cls(p, requires_grad=False) if type(p) is float else p
                for p in inputs
                if p is not None
            )
    return slots
