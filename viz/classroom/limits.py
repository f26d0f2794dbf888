"""The bounds of everything a page may ask for, checked before any work is done."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

MAX_MESSAGE = 64 * 1024  # bytes of one WebSocket message, checked before decoding
MAX_INPUTS = 8  # inputs of the Neuron tab and of the Network tab
MAX_NEURONS = 8  # neurons in one layer of the Network and Playground tabs
MAX_HIDDEN = 6  # hidden layers (the Playground's limit)
MAX_FPS = 30  # frames a second the playground streams at most
NUMBER = 1000.0  # |any number typed in| at most


class SettingsError(ValueError):
    """A message or setting the page sent that cannot be used; the text says why."""


def number(
    settings: dict, key: str, default: float, lo: float = -NUMBER, hi: float = NUMBER
) -> float:
    """``settings[key]`` as a finite float in [lo, hi] (``default`` when missing)."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SettingsError(f"{key} must be a number, got {_show(value)}")
    value = float(value)
    if not math.isfinite(value) or not lo <= value <= hi:
        raise SettingsError(f"{key} must be between {lo:g} and {hi:g}, got {value:g}")
    return value


def integer(settings: dict, key: str, default: int, lo: int, hi: int) -> int:
    """``settings[key]`` as an int in [lo, hi]."""
    value = settings.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise SettingsError(f"{key} must be a whole number, got {_show(value)}")
    if not lo <= value <= hi:
        raise SettingsError(f"{key} must be between {lo} and {hi}, got {int(value)}")
    return int(value)


def choice(settings: dict, key: str, default: str, options: Sequence[str]) -> str:
    """``settings[key]`` if it is one of ``options``."""
    value = settings.get(key, default)
    if value not in options:
        raise SettingsError(f"{key} must be one of {', '.join(options)}, got {_show(value)}")
    return value


def numbers(
    settings: dict, key: str, default: Sequence[float], lo: int = 1, hi: int = MAX_INPUTS
) -> list[float]:
    """``settings[key]`` as a list of ``lo`` to ``hi`` finite numbers within +-NUMBER."""
    values = settings.get(key, list(default))
    if not isinstance(values, list) or not lo <= len(values) <= hi:
        raise SettingsError(f"{key} must be a list of {lo} to {hi} numbers")
    return [number({key: v}, key, 0.0) for v in values]


def sizes(settings: dict, key: str, default: Sequence[int], lo: int, hi: int) -> list[int]:
    """``settings[key]`` as a list of ``lo`` to ``hi`` layer sizes, each 1..MAX_NEURONS."""
    values = settings.get(key, list(default))
    if not isinstance(values, list) or not lo <= len(values) <= hi:
        raise SettingsError(f"{key} must be a list of {lo} to {hi} layer sizes")
    return [integer({key: v}, key, 1, 1, MAX_NEURONS) for v in values]


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
