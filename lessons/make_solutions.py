"""Write the teachers' notebooks: every exercise cell filled in from ``solutions.py``.

    python lessons/make_solutions.py [--execute] [--out out/solutions]

An exercise cell is a code cell tagged ``exercise`` whose metadata names its exercise
(``"exercise": "1.1"``); its text is replaced by that exercise's ``# %% 1.1`` section of
``solutions.py``. With ``--execute`` each notebook is also run (from ``lessons/``, so
``check`` imports) and saved with its outputs: every check then prints "✅ Right".
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
SECTION = re.compile(r"^# %% (\S+)[ \t]*\n", re.M)


def solutions(path: Path = HERE / "solutions.py") -> dict[str, str]:
    """Exercise id -> the code of its solution section."""
    parts = SECTION.split(path.read_text(encoding="utf-8"))
    return {eid: code.strip("\n") for eid, code in zip(parts[1::2], parts[2::2])}


def lessons() -> list[Path]:
    """The lesson notebooks, in order."""
    return sorted(HERE.glob("[0-9][0-9]_*.ipynb"))


def exercise_cells(book: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    """The notebook's exercise cells, in order."""
    return [
        c
        for c in book.cells
        if c.cell_type == "code" and "exercise" in c.get("metadata", {}).get("tags", [])
    ]


def fill(book: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of ``book`` with every exercise cell's text replaced by its solution."""
    book = nbformat.from_dict(book)
    for cell in exercise_cells(book):
        eid = cell.metadata.get("exercise")
        if eid not in answers:
            raise KeyError(f"exercise {eid!r} has no section in solutions.py")
        cell.source = answers[eid]
        cell.metadata["tags"] = ["solution"]
    return book


def execute(book: nbformat.NotebookNode, timeout: int = 120) -> nbformat.NotebookNode:
    """Run ``book`` from ``lessons/`` with the ``python3`` kernel, in place."""
    from nbclient import NotebookClient

    client = NotebookClient(
        book, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    )
    client.execute()
    return book


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "out" / "solutions")
    parser.add_argument("--execute", action="store_true", help="run each filled notebook")
    args = parser.parse_args(argv)
    answers = solutions()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in lessons():
        book = fill(nbformat.read(path, as_version=4), answers)
        if args.execute:
            execute(book)
        target = args.out / path.name
        nbformat.write(book, target)
        print(f"wrote {target} ({len(exercise_cells(nbformat.read(path, 4)))} exercises)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
