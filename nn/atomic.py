"""Files written whole or not at all: ``atomic_write``, used by the model files, the ONNX
export and every drawing and page ``viz`` writes.

A file is written next to its final name, flushed to disk, then renamed over it: a
reader sees the old file or the new one, never half of one, and a failure or a kill
part-way leaves the old file as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from typing import IO, Any


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> None:
    """Call ``write`` on a temporary file next to ``path``, fsync it, then rename it over
    ``path``: a failure or a kill part-way leaves the old file as it was.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.bin"
    >>> atomic_write(p, lambda f: f.write(b"hi")); p.read_bytes()
    b'hi'
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))  # mkstemp makes 0600; keep what a plain open() gives
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable where we can
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _mode_for(path: str) -> int:
    """The replaced file's permissions, or what ``open(path, "w")`` would give."""
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        pass
    try:  # Linux reports the umask without changing it (os.umask would, for all threads)
        with open("/proc/self/status") as status:
            umask = next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        umask = os.umask(0)
        os.umask(umask)
    return 0o666 & ~umask
