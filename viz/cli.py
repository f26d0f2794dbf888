"""Moved to ``viz.classroom.cli``; this name stays as an alias (the same module object)."""

import sys

from .classroom import cli as _moved

if __name__ != "__main__":
    sys.modules[__name__] = _moved

if __name__ == "__main__":  # `python -m viz.cli` keeps working
    sys.exit(_moved.main())
