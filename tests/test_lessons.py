"""The lessons: every notebook runs (nbclient, from lessons/) and shows the articles' numbers;
every exercise's solution passes its check, and a wrong answer gets a hint, not the answer."""

from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from autograd import Op

nbformat = pytest.importorskip("nbformat")  # the `lessons` extra (also in `dev`)
pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
sys.path.insert(0, str(LESSONS))  # as in the notebooks, which run from lessons/

import check as checker  # noqa: E402
import make_solutions  # noqa: E402

CELL_TIMEOUT = 60  # seconds per cell
NOTEBOOK_BUDGET = 30  # seconds per notebook, the limit on 2 cores

# What each notebook must print (the articles' reference numbers among them).
SHOWN = {
    "01_neuron": ["0.9990889488055994", "sigmoid(0) = 0.5"],
    "02_feedforward": [
        "out = 0.7216325609518421",
        "output      : 0.7216325609518421",
        "the widget's output: [0.7216325609518421]",
    ],
    "03_training": ["Emily: ", "-> F", "Frank: ", "-> M", "std 0.09"],
    "04_backprop": [
        "d(out)/d(w2) = 0.0027306635403653522",
        "same as by hand: True",
        "w2 ",
        "out = sigmoid(L2.n1.z) = sigmoid(0.9526) = 0.7216325609518421",
        "∂loss/∂L2.n1.w1 = ∂loss/∂L2.n1.z · L1.n1",
        "∂loss/∂L1.n2.w1 = ∂loss/∂L1.n2.z · x1",
        "every gradient as by hand: True",
        "the widget's loss: 0.07748843112222988, as by hand: True",
    ],
    "05_classification": ["prediction   : rose", "test accuracy 9"],
    "06_fitting_well": ["big + L2", "big + early", "big + lr decay", "big + dropout"],
    "07_playground": ["spiral", "test accuracy", "epoch 100: train loss"],
    "08_your_own_op": ["dy/dx = 12.0", "a wrong vjp is caught", "dz/da = 7.0"],
    "09_tiny_gpt": [
        "5,163 names",
        "the model's own: True",
        "4,192 parameters",
        "13 boxes",
        "the same loss to 1e-12: True",
        "after training: ",
    ],
}

# The live widgets each notebook shows, in order (a static page shows a note instead).
WIDGETS = {
    "01_neuron": ["NeuronWidget"],
    "02_feedforward": ["NetworkWidget"],
    "04_backprop": ["NetworkWidget"],
    "07_playground": ["PlaygroundWidget"],
}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

# A typical wrong answer per exercise: each must be refused with a hint.
WRONG = {
    "1.1": 1.5,
    "1.2": 6,
    "1.3": 1,
    "2.1": 3,
    "2.2": 0.5,
    "2.3": 36,
    "3.1": 2,
    "3.2": 2000,
    "3.3": 1.1,
    "4.1": 0.19661193324148185,  # d(out)/dz, the chain stopped half way
    "4.2": 0.5898357997244456,  # d(out)/d(w1) instead
    "4.3": -3,
    "4.4": -0.015157178187102407,  # the lesson's target y = 1, not the asked y = 0
    "5.1": 2 / 3,
    "5.2": 0.3,
    "5.3": lambda scores: np.argmax(scores, axis=0),
    "6.1": "C",
    "6.2": "B",
    "6.3": 0.09,
    "7.1": ["x", "y"],
    "7.2": "x2",
    "8.1": lambda g, out, a: g * 3 * a,
    "8.2": lambda g, out, a: g * np.exp(a),
    "8.3": Op("sin", np.sin, lambda g, out, a: g * np.sin(a)),
    "9.1": 0.07252144568074777,  # the scores not divided by √d
    "9.2": 21,  # the weights a query may use, not the masked ones
    "9.3": 1,  # one row's sum
}


@pytest.fixture(scope="module")
def executed(request) -> dict:
    """The notebooks this session's tests ask for, run two at a time (one per core of the
    CI machine, so each one's time stays what it is alone): name -> (book, seconds), or
    the exception its run raised."""
    wanted = [
        item.callspec.params["name"]
        for item in request.session.items
        if getattr(item, "originalname", "") == "test_lesson_runs_and_shows_its_numbers"
    ]
    books = [nbformat.read(LESSONS / f"{name}.ipynb", as_version=4) for name in wanted]
    runs = make_solutions.execute_all(books, timeout=CELL_TIMEOUT)
    return {
        name: run if isinstance(run, Exception) else (book, run)
        for name, book, run in zip(wanted, books, runs)
    }


def _printed(cell) -> str:
    """Everything a code cell showed as text."""
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def _run_solution(eid: str, code: str) -> tuple[list, dict]:
    """Run one solution section; returns what its check calls gave and its namespace."""
    results: list = []
    namespace = {"check": lambda e, answer: results.append((e, checker.verify(e, answer)))}
    exec(compile(code, f"solutions.py:{eid}", "exec"), namespace)
    return results, namespace


def test_every_lesson_is_listed_and_stored_without_outputs():
    names = [p.stem for p in make_solutions.lessons()]
    assert names == sorted(SHOWN)
    for path in make_solutions.lessons():
        book = nbformat.read(path, as_version=4)
        nbformat.validate(book)
        for cell in book.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_lesson_runs_and_shows_its_numbers(name, executed, capsys):
    if isinstance(executed[name], Exception):
        raise executed[name]
    book, seconds = executed[name]
    text = "\n".join(_printed(c) for c in book.cells if c.cell_type == "code")
    for expected in SHOWN[name]:
        assert expected in text, f"{name} does not show {expected!r}"
    widgets = [
        re.search(r"(\w+) object at", out["data"]["text/plain"]).group(1)
        for cell in book.cells
        for out in cell.get("outputs", [])
        if WIDGET_VIEW in out.get("data", {})
    ]
    assert widgets == WIDGETS.get(name, []), name
    exercises = make_solutions.exercise_cells(book)
    assert 2 <= len(exercises) <= 4, name
    for cell in exercises:  # handed out blank: each one says so, with a hint
        shown = _printed(cell)
        assert checker.OPEN in shown and "Hint:" in shown, (name, shown)
    with capsys.disabled():
        print(f"\n  {name}: {seconds:.1f} s", end="")
    assert seconds < NOTEBOOK_BUDGET, f"{name} took {seconds:.1f} s"


def test_every_exercise_cell_has_a_check_and_a_solution():
    answers = make_solutions.solutions()
    ids = []
    for path in make_solutions.lessons():
        for cell in make_solutions.exercise_cells(nbformat.read(path, as_version=4)):
            eid = cell.metadata["exercise"]
            assert f'check("{eid}"' in cell.source, (path.name, eid)
            assert "..." in cell.source, (path.name, eid)  # the learner's blank
            assert eid.split(".")[0] == str(int(path.name[:2])), (path.name, eid)
            ids.append(eid)
    assert ids == list(checker.EXERCISES) == list(answers) == list(WRONG)


@pytest.mark.parametrize("eid", list(checker.EXERCISES))
def test_solution_passes_and_a_wrong_answer_gets_a_hint(eid):
    results, namespace = _run_solution(eid, make_solutions.solutions()[eid])
    assert results, f"solution {eid} calls no check"
    for called, (right, message) in results:
        assert called == eid
        assert right, message
        assert message.startswith(checker.RIGHT)
    right, message = checker.verify(eid, WRONG[eid])
    assert not right and message.startswith(checker.WRONG) and "Hint:" in message, message
    answer = namespace.get("answer")
    if isinstance(answer, (int, float, np.floating)) and not isinstance(answer, bool):
        for digits in (3, 4, 6):  # the hint never gives the number away
            assert f"{answer:.{digits}f}" not in message, message
        if float(answer) == math.floor(answer):
            assert f" {int(answer)} " not in f" {message} ".replace(".", " "), message
    blank_right, blank = checker.verify(eid, ...)
    assert not blank_right and blank.startswith(checker.OPEN)


def test_check_prints_one_line_and_names_unknown_exercises(capsys):
    assert checker.check("1.2", -6) is None
    assert capsys.readouterr().out == f"{checker.RIGHT} (1.2).\n"
    with pytest.raises(KeyError, match="no exercise '9.9'"):
        checker.verify("9.9", 1)
    right, message = checker.verify("8.1", lambda g, out, a: 1 / 0)
    assert not right and "ZeroDivisionError" in message
    assert checker.verify("7.1", "x2, y2")[0]  # names as one string are read too
    assert not checker.verify("5.3", lambda scores: ...)[0]
    assert checker.verify("5.3", lambda scores: ...)[1].startswith(checker.OPEN)


def test_make_solutions_fills_every_exercise(tmp_path):
    assert make_solutions.main(["--out", str(tmp_path)]) == 0
    answers = make_solutions.solutions()
    for path in make_solutions.lessons():
        filled = nbformat.read(tmp_path / path.name, as_version=4)
        cells = [c for c in filled.cells if "solution" in c.metadata.get("tags", [])]
        assert cells and all(c.source == answers[c.metadata["exercise"]] for c in cells)
        assert not make_solutions.exercise_cells(filled)


def test_a_filled_notebook_runs_and_every_check_says_right():
    book = make_solutions.fill(
        nbformat.read(LESSONS / "08_your_own_op.ipynb", as_version=4), make_solutions.solutions()
    )
    make_solutions.execute(book, timeout=CELL_TIMEOUT)
    solved = [c for c in book.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solved) == 3
    for cell in solved:
        assert _printed(cell).startswith(checker.RIGHT), _printed(cell)
