"""Moved to ``viz.classroom.expression``; this name stays as an alias (the same module object)."""

import sys

from .classroom import expression as _moved

if __name__ != "__main__":
    sys.modules[__name__] = _moved
