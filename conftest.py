"""Doctests of the modules whose optional extra is missing are not collected."""

import importlib.util

_NEEDS = {"nn/interop.py": "torch", "nn/onnx_export.py": "onnx"}
collect_ignore = [path for path, extra in _NEEDS.items() if importlib.util.find_spec(extra) is None]
