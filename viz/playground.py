"""Moved to ``viz.classroom.playground``; this name stays as an alias (the same module object)."""

import sys

from .classroom import playground as _moved

if __name__ != "__main__":
    sys.modules[__name__] = _moved
