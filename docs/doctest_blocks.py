"""A griffe extension for the API pages: docstring examples (``>>>`` lines and the output
after them) become ``pycon`` code blocks, so Markdown shows them as code and never reads
``[1.0, 2.0]`` as a link. The docstrings stay plain doctests, run by pytest."""

from __future__ import annotations

import griffe


def fence(text: str) -> str:
    out: list[str] = []
    inside = False
    for line in text.splitlines():
        starts = line.lstrip().startswith(">>>")
        if starts and not inside:
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            inside = True
        elif inside and not line.strip():
            out.append("```")
            inside = False
        out.append(line)
    if inside:
        out.append("```")
    return "\n".join(out)


class DoctestBlocks(griffe.Extension):
    def on_instance(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence(obj.docstring.value)
