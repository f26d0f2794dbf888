"""Write the teachers' notebooks: every exercise cell filled in from ``solutions.py``.

    python lessons/make_solutions.py [--execute] [--out out/solutions]

An exercise cell is a code cell tagged ``exercise`` whose metadata names its exercise
(``"exercise": "1.1"``); its text is replaced by that exercise's ``# %% 1.1`` section of
``solutions.py``. With ``--execute`` each notebook is also run (from ``lessons/``, so
``check`` imports) and saved with its outputs: every check then prints "✅ Right".
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
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


def client(book: nbformat.NotebookNode, timeout: int = 120):
    """An nbclient runner for ``book``: the ``python3`` kernel, started in ``lessons/`` (so
    ``check`` imports and pictures go to ``out/lessons/``); widget states are not stored."""
    from nbclient import NotebookClient

    return NotebookClient(
        book,
        timeout=timeout,
        kernel_name="python3",
        store_widget_state=False,
        resources={"metadata": {"path": str(HERE)}},
    )


def execute(book: nbformat.NotebookNode, timeout: int = 120) -> nbformat.NotebookNode:
    """Run ``book`` from ``lessons/`` with the ``python3`` kernel, in place."""
    client(book, timeout).execute()
    return book


def execute_all(
    books: list[nbformat.NotebookNode], parallel: int = 2, timeout: int = 120
) -> list[float | Exception]:
    """Run ``books`` in place, ``parallel`` at a time (one per core, so each takes the time
    it takes alone); for each, its seconds or the exception it raised."""
    gate = asyncio.Semaphore(parallel)

    async def run(book: nbformat.NotebookNode) -> float | Exception:
        async with gate:
            start = time.perf_counter()
            try:
                await client(book, timeout).async_execute()
            except Exception as err:  # the caller says which notebook failed
                return err
            return time.perf_counter() - start

    async def run_all() -> list[float | Exception]:
        return list(await asyncio.gather(*(run(book) for book in books)))

    return asyncio.run(run_all())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE.parent / "out" / "solutions")
    parser.add_argument("--execute", action="store_true", help="run each filled notebook")
    args = parser.parse_args(argv)
    answers = solutions()
    args.out.mkdir(parents=True, exist_ok=True)
    paths = lessons()
    books = [fill(nbformat.read(path, as_version=4), answers) for path in paths]
    if args.execute:
        for path, result in zip(paths, execute_all(books)):
            if isinstance(result, Exception):
                raise RuntimeError(f"{path.name} failed: {result}") from result
    for path, book in zip(paths, books):
        target = args.out / path.name
        nbformat.write(book, target)
        print(f"wrote {target} ({len(exercise_cells(nbformat.read(path, 4)))} exercises)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
