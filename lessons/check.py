"""The lessons' exercise checker: ``check("1.1", answer)`` says right or not yet, with a hint.

Every expected answer is computed here with the library itself (the engine, the layers,
``gradcheck``), so the checker agrees with what the lessons show; its messages never print
the expected answer. A notebook cell reads::

    answer = ...  # your answer
    check("1.1", answer)

``verify(id, answer)`` is the same test without printing: it returns ``(right, message)``.
Teachers get the filled-in cells from ``solutions.py`` (``make solutions``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Op, Value, apply, gradcheck
from nn import MLP, Adam, fit, manual_seed, playground, scaled_dot_product_attention

RIGHT, WRONG, OPEN = "✅ Right", "❌ Not yet", "⏳ Not answered yet"


class Unanswered(Exception):
    """A learner's function still returns the ``...`` it was handed out with."""


def answered(value: Any) -> Any:
    """``value``, unless it is the ``...`` placeholder (then :class:`Unanswered`)."""
    if value is ...:
        raise Unanswered
    return value


def check(exercise: str, answer: Any) -> None:
    """Print whether ``answer`` solves ``exercise``, with a hint when it does not."""
    print(verify(exercise, answer)[1])


def verify(exercise: str, answer: Any) -> tuple[bool, str]:
    """``(True, message)`` when ``answer`` solves ``exercise``, else ``(False, hint)``."""
    if exercise not in EXERCISES:
        raise KeyError(f"no exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    test, hint = EXERCISES[exercise]
    unanswered = f"{OPEN} ({exercise}): replace the ... with your answer. Hint: {hint}"
    if answer is ...:
        return False, unanswered
    try:
        why = test(answer)
    except Unanswered:
        return False, unanswered
    except Exception as err:  # a learner's code may raise anything; say what, not where
        why = f"your answer raised {type(err).__name__}: {str(err).rstrip('.')}."
    if why is None:
        return True, f"{RIGHT} ({exercise})."
    return False, f"{WRONG} ({exercise}): {why} Hint: {hint}"


# ---------------------------------------------------------------- kinds of test
def _number(expected: Callable[[], float], tol: float = 1e-4, near: dict | None = None) -> Callable:
    """A test that ``answer`` is the number ``expected()`` to ``tol``; ``near`` maps
    values of typical mistakes (callables too) to what to say about them."""

    def test(answer: Any) -> str | None:
        try:
            value = float(answer.data if isinstance(answer, Value) else answer)
        except (TypeError, ValueError):
            return f"expected a number, got {type(answer).__name__}."
        if not math.isfinite(value):
            return f"your answer is {value}."
        if math.isclose(value, expected(), rel_tol=tol, abs_tol=tol):
            return None
        for mistake, say in (near or {}).items():
            if math.isclose(value, mistake(), rel_tol=tol, abs_tol=tol):
                return say
        return f"{value!r} is not it."

    return test


def _choice(expected: str, say: dict | None = None) -> Callable:
    """A test that ``answer`` is the string ``expected`` (case and spaces ignored)."""

    def test(answer: Any) -> str | None:
        given = str(answer).strip().lower()
        if given == expected.lower():
            return None
        return (say or {}).get(given, f"{answer!r} is not it.")

    return test


def _sigmoid(z: float) -> float:
    return Value(float(z)).sigmoid().data


def _neuron(w: list, b: float, x: list) -> Value:
    """The articles' neuron, built from Values: out = sigmoid(z), z = w·x + b."""
    z = sum((Value(float(wi)) * xi for wi, xi in zip(w, x)), Value(float(b)))
    return z.sigmoid()


def _grads(w: list, b: float, x: list) -> dict[str, float]:
    """The gradients of the neuron sigmoid(w·x + b) by backward(): keys w1.., x1.., b."""
    ws, xs = [Value(float(v)) for v in w], [Value(float(v)) for v in x]
    bias = Value(float(b))
    out = sum((wi * xi for wi, xi in zip(ws, xs)), bias).sigmoid()
    out.backward()
    grads = {f"w{i + 1}": v.grad for i, v in enumerate(ws)}
    grads.update({f"x{i + 1}": v.grad for i, v in enumerate(xs)})
    return {**grads, "b": bias.grad, "out": out.data}


NEURON_4 = ([-2.0, 1.0], 5.0, [3.0, 2.0])  # exercise 4's neuron: z = -6 + 2 + 5 = 1


def _net221(x: list) -> float:
    """The articles' 2-2-1 network (every w=[0, 1], b=0, sigmoid) on input ``x``."""
    hidden = _sigmoid(0 * x[0] + 1 * x[1])  # L1.n1 and L1.n2 alike
    return _sigmoid(0 * hidden + 1 * hidden)


def _net221_grads(target: float) -> dict[str, float]:
    """∂loss/∂p by ``backward()`` for each parameter p of the articles' 2-2-1 network on
    x = [2, 3], loss = (out - target)²; keyed by module path (``layers.0.neurons.1.w.1``
    is L1.n2.w2)."""
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=0)
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.0, 1.0, 0.0
    ((model([2.0, 3.0]) - target) ** 2).backward()
    return {path: p.grad for path, p in model.named_parameters()}


L1_N2_W1, L1_N2_W2 = "layers.0.neurons.1.w.0", "layers.0.neurons.1.w.1"


def _parameter_count(answer: Any) -> str | None:
    model = MLP(3, [4, 4, 1], rng=0)
    return _number(lambda: len(model.parameters()), tol=0, near={
        lambda: 3 * 4 + 4 * 4 + 4: "you counted the weights; every neuron also has a bias.",
    })(answer)  # fmt: skip


def _descend(lr: float, steps: int = 20) -> float:
    """w after ``steps`` of gradient descent on f(w) = (w - 3)², from w = 0."""
    w = Value(0.0)
    for _ in range(steps):
        w.grad = 0.0
        ((w - 3.0) ** 2).backward()
        w.data -= lr * w.grad
        if not math.isfinite(w.data) or abs(w.data) > 1e6:
            return math.inf
    return w.data


def _learning_rate(answer: Any) -> str | None:
    lr = float(answer)
    if not lr > 0:
        return "a learning rate is a positive number."
    w = _descend(lr)
    if abs(w - 3.0) < 0.01:
        return None
    if not math.isfinite(w) or abs(w - 3.0) > 3.0:
        return f"with lr = {lr:g} the steps overshoot and w runs away from 3."
    if lr > 0.5:
        return f"with lr = {lr:g}, w jumps back and forth across 3 and settles too slowly."
    return f"with lr = {lr:g}, w creeps towards 3 and is not there after 20 steps."


def _softmax_probability() -> float:
    return Value(np.array([1.0, 2.0])).softmax().data[1]


def _cross_entropy() -> float:
    return -Value(0.7).log().data


def _argmax_rows(answer: Any) -> str | None:
    scores = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5], [-2.0, -1.0, -3.0], [0.0, 0.0, 4.0]])
    got = np.asarray(answered(answer(scores)))
    if got.shape != (len(scores),):
        return f"predict should return one class per row, shape {(len(scores),)}, got {got.shape}."
    if not np.array_equal(got, scores.argmax(axis=1)):
        return "some rows get the wrong class: the class is the column of the largest score."
    return None


def _separates(names: Any, dataset: str, needed: float = 0.9) -> str | None:
    """Train one linear neuron (tanh output) on ``dataset`` with the features ``names``."""
    names = names.replace(",", " ").split() if isinstance(names, str) else list(names)
    names = playground.check_features(names)
    X, y = playground.data(dataset, n=200, noise=0.0, seed=0)
    F = playground.features(X, names)
    F = F / np.abs(F).max(axis=0)  # one scale for every feature, so one lr suits all
    manual_seed(0)
    model = MLP(len(names), [1], output_activation="tanh", vectorized=True, rng=0)
    history = fit(
        model, F, y, loss="mse", optimizer=Adam(model.parameters(), lr=0.1), epochs=60,
        progress=False, seed=0,
    )  # fmt: skip
    accuracy = history.accuracy[-1]
    if accuracy >= needed:
        return None
    return f"one neuron on {names} gets {accuracy:.0%} of the {dataset} points right."


def _op_test(make: Callable[[Any], Op], check_forward: Callable | None = None) -> Callable:
    """A test of a learner's op (or vjp, wrapped into an op by ``make``) with gradcheck
    on a scalar and on an array, and of its forward against ``check_forward``."""

    def test(answer: Any) -> str | None:
        op = make(answer)
        answered(op.vjps[0](1.0, 1.0, 0.5) if op.vjps else None)
        points = (0.7, np.array([-1.3, 0.4, 2.1]))
        for a in points:
            out = apply(op, Value(a)).data
            if check_forward is not None and not np.allclose(out, check_forward(a)):
                return "the forward pass gives the wrong numbers."
            try:
                gradcheck(lambda v: apply(op, v), Value(a))
            except AssertionError:
                where = "a number" if np.ndim(a) == 0 else "an array"
                return f"gradcheck disagrees with your vjp on {where}."
        return None

    return test


def _cube_op(vjp: Callable) -> Op:
    return Op("cube", lambda a: a**3, vjp)


def _softplus_op(vjp: Callable) -> Op:
    return Op("softplus", lambda a: np.logaddexp(0.0, a), vjp)


def _is_op(answer: Any) -> Op:
    if not isinstance(answer, Op):
        raise TypeError(f"expected an Op, got {type(answer).__name__}")
    return answer


Q2, KEYS = [1.0, 2.0], [[0.5, 0.0], [1.0, 1.0], [-1.0, 0.5], [2.0, 2.0]]  # exercise 9.1


def _attention_weight(scaled: bool = True, causal: bool = True) -> float:
    """Exercise 9.1: the weight query position 2 gives key position 0, by the library's
    attention (the values are one-hot, so the output is the row of weights)."""
    queries = np.zeros((4, 2))
    queries[2] = Q2
    scale = None if scaled else 1.0
    out = scaled_dot_product_attention(queries, KEYS, np.eye(4), causal=causal, scale=scale)
    return float(out.data[2, 0])


def _causal_map(t: int = 6) -> np.ndarray:
    """One head's (t, t) attention weights on random queries and keys (exercises 9.2, 9.3)."""
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=(t, 4)), rng.normal(size=(t, 4))
    return scaled_dot_product_attention(q, k, np.eye(t), causal=True).data


# ---------------------------------------------------------------- the exercises
# id -> (test, hint). A test returns None when the answer is right, else what is wrong.
EXERCISES: dict[str, tuple[Callable[[Any], str | None], str]] = {
    # 1. the neuron
    "1.1": (
        _number(
            lambda: _neuron([1, -1], 0.5, [3, 2]).data,
            near={lambda: 1.5: "that is w·x + b; the neuron still applies the sigmoid."},
        ),
        "first z = w1·x1 + w2·x2 + b, then sigmoid(z) = 1 / (1 + e^(-z)).",
    ),
    "1.2": (
        _number(lambda: -6.0, near={lambda: 6.0: "check the sign: 2·3 + b must be 0."}),
        "sigmoid(z) = 0.5 exactly when z = 0.",
    ),
    "1.3": (
        _number(lambda: 2.0, near={lambda: 1.0: "that is the bias, the value at x = 0."}),
        "the slope is (change in y) / (change in x) between the two points.",
    ),
    # 2. feedforward
    "2.1": (
        _number(
            lambda: _sigmoid(3.0),
            near={lambda: 3.0: "that is L1.n1.z, the weighted sum; apply the sigmoid."},
        ),
        "L1.n1 = sigmoid(L1.n1.w1·x1 + L1.n1.w2·x2 + L1.n1.b) = sigmoid(0·x1 + 1·x2 + 0).",
    ),
    "2.2": (
        _number(
            lambda: _net221([1.0, -1.0]),
            near={
                lambda: _sigmoid(-1.0): "that is a neuron of layer 1; feed it forward once more."
            },
        ),
        "compute L1.n1 and L1.n2 first (they are equal here), then out = sigmoid(0·L1.n1 + 1·L1.n2 + 0).",
    ),
    "2.3": (
        _parameter_count,
        "count weights (inputs × neurons) and biases (one per neuron), layer by layer.",
    ),
    # 3. loss and training
    "3.1": (
        _number(
            lambda: ((Value([1.0, 0.0, 0.0, 1.0]) - 0.0) ** 2).mean().data,
            near={lambda: 2.0: "that is the sum of the squared errors; MSE takes their mean."},
        ),
        "MSE = mean over the samples of (y_true - y_pred)².",
    ),
    "3.2": (
        _number(
            lambda: 4 // 2 * 500,
            tol=0,
            near={
                lambda: 500: "that is the number of epochs.",
                lambda: 4 * 500: "that would be batch_size=1.",
            },
        ),
        "one step per batch; how many batches of 2 do 4 people make?",
    ),
    "3.3": (_learning_rate, "try a few values and print w after 20 steps; 3 is the target."),
    # 4. backprop
    "4.1": (
        _number(
            lambda: _grads(*NEURON_4)["w2"],
            near={
                lambda: _grads(*NEURON_4)["b"]: "that is d(out)/d(z); multiply by d(z)/d(w2).",
                lambda: 2.0: "that is d(z)/d(w2) alone; multiply by d(out)/d(z).",
            },
        ),
        "d(out)/d(w2) = d(out)/d(z) · d(z)/d(w2), with d(sigmoid(z))/dz = out·(1 - out).",
    ),
    "4.2": (
        _number(
            lambda: _grads(*NEURON_4)["x1"],
            near={
                lambda: _grads(*NEURON_4)["w1"]: "that is d(out)/d(w1); here the input moves.",
            },
        ),
        "z = w1·x1 + w2·x2 + b, so d(z)/d(x1) is x1's weight.",
    ),
    "4.3": (
        _number(
            lambda: -2.0,
            near={lambda: -3.0: "a is used twice; add the gradients of both uses."},
        ),
        "f = a·b + a uses a in two places: d(f)/d(a) is the sum of both paths.",
    ),
    "4.4": (
        _number(
            lambda: _net221_grads(0.0)[L1_N2_W2],
            near={
                lambda: _net221_grads(1.0)[L1_N2_W2]: (
                    "that is the gradient for the lesson's target y = 1; with y = 0, "
                    "∂loss/∂out changes."
                ),
                lambda: _net221_grads(0.0)[L1_N2_W2] / 2: (
                    "a factor 2 is missing: ∂loss/∂out = 2·(out − y) for loss = (out − y)²."
                ),
                lambda: _net221_grads(0.0)[L1_N2_W2] / 3: (
                    "that is ∂loss/∂L1.n2.z; multiply by ∂L1.n2.z/∂L1.n2.w2 = x2."
                ),
                lambda: _net221_grads(0.0)[L1_N2_W1]: (
                    "that is ∂loss/∂L1.n2.w1; L1.n2.w2 multiplies x2."
                ),
                lambda: -_net221_grads(0.0)[L1_N2_W2]: "check the sign of out − y.",
            },
        ),
        "only the first link, ∂loss/∂out = 2·(out − y), changes with the target; then follow "
        "the lesson's chain from out back to L1.n2.w2.",
    ),
    # 5. classification
    "5.1": (
        _number(
            lambda: _softmax_probability(),
            near={lambda: 2 / 3: "softmax uses e^score, not the score."},
        ),
        "softmax(s)_i = e^(s_i) / Σ_j e^(s_j).",
    ),
    "5.2": (
        _number(
            lambda: _cross_entropy(),
            near={lambda: 0.3: "that is 1 - p; cross-entropy is -ln(p)."},
        ),
        "cross-entropy for one sample is -ln(probability given to the true class).",
    ),
    "5.3": (_argmax_rows, "numpy's argmax takes an axis: which axis runs over the classes?"),
    # 6. fitting well
    "6.1": (
        _choice(
            "B",
            {
                "a": "A does as well on new data as on the training set.",
                "c": "C has not even learned the training set: that is the opposite.",
            },
        ),
        "overfitting: much better on the training set than on new data.",
    ),  # fmt: skip
    "6.2": (
        _choice("C", {"b": "B learned the training set very well.", "a": "A does well on both."}),
        "underfitting: not good even on the training set.",
    ),  # fmt: skip
    "6.3": (
        _number(
            lambda: 2 * 0.01 * 3.0,
            near={lambda: 0.01 * 9.0: "that is the penalty itself; its gradient is wanted."},
        ),
        "the penalty is l2·w²; differentiate it with respect to w.",
    ),
    # 7. the playground
    "7.1": (
        lambda names: _separates(names, "circle"),
        "the circle's boundary is x² + y² = r²: which features make that a straight line?",
    ),
    "7.2": (
        _choice(
            "xy",
            {
                "x2": "x² is the same on both sides of x = 0.",
                "y2": "y² is the same on both sides of y = 0.",
            },
        ),
        "XOR's label is the sign of x times the sign of y.",
    ),  # fmt: skip
    # 8. your own op
    "8.1": (
        _op_test(_cube_op, check_forward=lambda a: a**3),
        "d(a³)/da = 3a²; a vjp returns g times the local derivative.",
    ),
    "8.2": (
        _op_test(_softplus_op),
        "d/da ln(1 + e^a) = e^a / (1 + e^a), which is sigmoid(a); the vjp gets `out` and `a`.",
    ),
    "8.3": (
        _op_test(_is_op, check_forward=np.sin),
        "Op('sin', forward, vjp): forward is np.sin, and d(sin a)/da = cos a.",
    ),
    # 9. a tiny GPT
    "9.1": (
        _number(
            _attention_weight,
            near={
                lambda: _attention_weight(scaled=False): "divide each score by √d first.",
                lambda: _attention_weight(causal=False): (
                    "position 2 may not look at position 3: the causal mask leaves key 3 out."
                ),
                lambda: _attention_weight(False, False): (
                    "two things: divide by √d, and leave out key 3 (the causal mask)."
                ),
                lambda: 0.5 / math.sqrt(2): "that is the score; softmax turns scores into weights.",
            },
        ),
        "score_j = q2·k_j / √d for the keys 0, 1, 2; weight_0 = e^score_0 / Σ_j e^score_j.",
    ),
    "9.2": (
        _number(
            lambda: int((_causal_map() == 0).sum()),
            tol=0,
            near={
                lambda: _causal_map().size: "that is every weight of the map.",
                lambda: int((_causal_map() != 0).sum()): (
                    "that is the weights a query may use: the ones it may not are masked."
                ),
                lambda: 30: "the keys before a query are not masked, only those after it.",
            },
        ),
        "row i of the map is query i; it may look at the keys 0..i, not at the ones after i.",
    ),
    "9.3": (
        _number(
            lambda: _causal_map().sum(),
            near={
                lambda: 1.0: "that is one row, one query's softmax: add up every row.",
                lambda: int((_causal_map() != 0).sum()): (
                    "that counts the weights that are not masked; add up their values."
                ),
            },
        ),
        "each row is one softmax: what do a softmax's outputs add up to?",
    ),
}
