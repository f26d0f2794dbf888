"""Questions of the class session, bound to the engine's numbers: what is ∂loss/∂w for
this weight, which sign, what will the output be, which weight changes most.

The true answer is read from the teacher's newest view (the JSON the server itself sent:
a Network, Neuron or Expression reply), never from a number a page sends, and stays on
the server until the reveal. The room's screen sees how many answered and how the
answers spread (bins from the answers alone, so the spread never hints at the truth).

>>> import json
>>> from viz.classroom.lessons import NetworkLesson, check_network
>>> views = {"network": json.dumps(NetworkLesson(check_network({})).view())}
>>> q = ask({"kind": "grad", "tab": "network", "target": "L2.n1.w1"}, views, 1)
>>> q.prompt, round(q.truth, 4)
('What is ∂loss/∂L2.n1.w1?', -0.1065)
>>> q.answer("s1", "-0.1"); q.answer("s2", 3); q.answer("s1", "-0.11")  # the last counts
>>> q.close("s1"), q.close("s2"), len(q.answers)
(True, False, 2)
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .settings import SettingsError

KINDS = {
    "grad": "What is ∂loss/∂{target}?",
    "sign": "Which sign has ∂loss/∂{target}?",
    "output": "What will the output be?",
    "most": "Which weight changes most in the update?",
}
SIGNS = ("+", "−", "0")
BINS = 12
LARGEST = 1e9  # |an answer| at most


@dataclass
class Question:
    id: int
    kind: str
    tab: str
    target: str
    prompt: str
    truth: Any  # a number, a sign, or the names that change most
    options: list[str] = field(default_factory=list)
    answers: dict[str, tuple[Any, float]] = field(default_factory=dict)  # id -> (answer, s)
    asked: float = field(default_factory=time.monotonic)
    revealed: float | None = None

    def answer(self, student: str, value: Any) -> None:
        """Record ``student``'s answer (replacing theirs), checked for the kind."""
        if self.kind in ("grad", "output"):
            value = _number(value)
        elif value not in self.options:
            raise SettingsError(f"the answer must be one of {', '.join(self.options)}")
        self.answers[student] = (value, round(time.monotonic() - self.asked, 1))

    def close(self, student: str) -> bool:
        """Was ``student``'s answer right (a number: within 10%, or 0.001 of zero)?"""
        value = self.answers[student][0]
        if self.kind == "most":
            return value in self.truth
        if self.kind == "sign":
            return value == self.truth
        return abs(value - self.truth) <= max(0.1 * abs(self.truth), 1e-3)

    def public(self, teacher: bool = False) -> dict:
        """The question as the room sees it (no truth before the reveal)."""
        shown = {
            "id": self.id,
            "kind": self.kind,
            "tab": self.tab,
            "target": self.target,
            "prompt": self.prompt,
            "options": self.options,
        }
        if self.revealed is not None:
            shown["truth"] = self.truth
        return {"type": "class.question", "question": shown, "teacher": teacher}

    def reveal(self, room: Any) -> dict:
        names = room.students
        close = sorted(names[s].shown for s in self.answers if s in names and self.close(s))
        return {
            **tally(self, room, with_truth=True),
            "type": "class.reveal",
            "truth": list(self.truth) if self.kind == "most" else self.truth,
            "close": close,
            "right": len(close),
        }


def ask(message: dict, views: dict[str, str], number: int) -> Question:
    """A question from the teacher's ``class.ask`` (``kind``, ``tab``, ``target``), its
    true answer read from the teacher's newest view of that tab."""
    kind, tab = message.get("kind"), message.get("tab", "network")
    if kind not in KINDS:
        raise SettingsError(f"kind must be one of {', '.join(KINDS)}")
    if tab not in ("network", "neuron", "expression"):
        raise SettingsError("tab must be network, neuron or expression")
    if tab not in views:
        raise SettingsError(f"show the {tab} tab first: the question is about what it shows")
    view = json.loads(views[tab])
    grads, output, weights = _numbers(tab, view)
    target = str(message.get("target", ""))[:40]
    options: list[str] = []
    if kind in ("grad", "sign"):
        if target not in grads:
            raise SettingsError(
                f"{target!r} is not in the {tab} tab; try one of {', '.join(list(grads)[:8])}"
            )
        truth: Any = grads[target]
        if kind == "sign":
            options = list(SIGNS)
            truth = "0" if truth == 0 else ("+" if truth > 0 else "−")
    elif kind == "output":
        truth, target = output, "output"
    else:
        if not weights:
            raise SettingsError(f"the {tab} tab has no weights to compare")
        sizes = {name: abs(grads[name]) for name in weights}
        top = max(sizes.values())
        truth, target, options = [n for n, v in sizes.items() if v == top], "", list(weights)
    if isinstance(truth, float) and not math.isfinite(truth):  # also: never revealed
        raise SettingsError("the true value is not a finite number: nothing to predict")
    prompt = KINDS[kind].format(target=target)
    return Question(number, kind, tab, target, prompt, truth, options)


def _numbers(tab: str, view: dict) -> tuple[dict[str, float], float, list[str]]:
    """Each named value's gradient, the output and the weights' names of a view, read
    from its scene (``viz.scene``: the last gradient a step reveals is the total)."""
    scene = view["scene"]
    names = {node: info["name"] for node, info in scene["nodes"].items()}
    found: dict[str, dict[str, float]] = {"data": {}, "grad": {}}
    for step in scene["steps"]:
        for shown in step["reveal"]:
            if shown["field"] in found and isinstance(shown.get("value"), (int, float)):
                found[shown["field"]][names[shown["node"]]] = float(shown["value"])
    output = names[(scene["outputs"] or [scene["root"]])[0]]
    weights = [names[p] for p in scene["params"] if names[p].rsplit(".", 1)[-1].startswith("w")]
    return found["grad"], found["data"].get(output, math.nan), weights


def _number(value: Any) -> float:
    if isinstance(value, str):
        value = value.strip().replace("−", "-").replace(",", ".")[:40]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingsError("the answer must be a number") from None
    if isinstance(value, bool) or not math.isfinite(number) or abs(number) > LARGEST:
        raise SettingsError(f"the answer must be a finite number of size at most {LARGEST:g}")
    return number


def tally(question: Question, room: Any, with_truth: bool = False) -> dict:
    """How many answered and how: counts per option, or a histogram of the numbers
    (its range from the answers alone, and the truth too once revealed)."""
    values = [a for a, _ in question.answers.values()]
    out = {
        "type": "class.tally",
        "question": question.id,
        "count": len(values),
        "of": len(room.students),
    }
    if question.kind not in ("grad", "output"):
        out["counts"] = {o: sum(v == o for v in values) for o in question.options}
        return out
    points = values + ([question.truth] if with_truth else [])
    if not points:
        out["bins"] = []
        return out
    low, high = min(points), max(points)
    if low == high:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(values, bins=BINS, range=(low, high))
    out["bins"] = [[float(a), float(b), int(c)] for a, b, c in zip(edges, edges[1:], counts)]
    return out


def export_csv(questions: list[Question]) -> str:
    """Every answer to every question as CSV: anonymous ids, no names; text cells that
    a spreadsheet would read as a formula are quoted with a leading apostrophe.

    >>> q = Question(1, "sign", "network", "w", "=HYPERLINK(...)", "+", ["+", "−", "0"])
    >>> q.answer("s1", "+")
    >>> export_csv([q]).splitlines()[1]
    "1,sign,'=HYPERLINK(...),'+,s1,'+,True,0.0"
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        ["question", "kind", "prompt", "truth", "student", "answer", "close", "seconds"]
    )
    for q in questions:
        truth = " ".join(q.truth) if q.kind == "most" else q.truth
        for student, (value, seconds) in sorted(q.answers.items(), key=lambda a: int(a[0][1:])):
            writer.writerow(
                [
                    q.id,
                    q.kind,
                    _cell(q.prompt),
                    _cell(truth),
                    student,
                    _cell(value),
                    q.close(student),
                    seconds,
                ]
            )
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    """A number as it is; text never starting as a formula would (= + - @ tab CR)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return repr(float(value))
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
