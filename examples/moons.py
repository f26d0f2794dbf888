"""micrograd's demo, reproduced: a 2-16-16-1 MLP separates two moons.

Hinge loss + 1e-4 L2, SGD with a learning rate decaying from 1.0 to 0.1, on 100 points:
first in scalar mode (every weight its own node, micrograd's way), then the same network
in vectorized mode (one matrix per layer). Prints both times.

Run:  python examples/moons.py        (writes out/moons_boundary.png)
"""

import os
import time
from pathlib import Path

import numpy as np

from autograd import no_grad, sum_of_squares
from nn import MLP, SGD, datasets, hinge_loss

OUT = Path(__file__).resolve().parent.parent / "out"
STEPS = int(os.environ.get("BACKPROPLAB_MOONS_STEPS", 100))


def train(model: MLP, X: np.ndarray, y: np.ndarray, steps: int = STEPS) -> float:
    """micrograd's loop: full batch, lr = 1.0 - 0.9 * k / steps. Returns the accuracy."""
    params = model.parameters()
    opt = SGD(params, lr=1.0)
    for k in range(steps):
        loss = hinge_loss(model(X), y) + 1e-4 * sum_of_squares(params)
        opt.zero_grad()
        loss.backward()
        opt.lr = 1.0 - 0.9 * k / steps
        opt.step()
    with no_grad():
        scores = model(X)
    pred = np.array([s.data for s in scores]) if isinstance(scores, list) else scores.data.ravel()
    return float(np.mean((pred > 0) == (y > 0)))


def main() -> None:
    X, labels = datasets.make_moons(100, noise=0.1, seed=0)
    y = labels * 2.0 - 1.0
    scalar = MLP(2, [16, 16, 1], activation="relu", rng=1337)
    vector = scalar.vectorize()  # the same starting numbers
    t = time.perf_counter()
    acc_s = train(scalar, X, y)
    time_s = time.perf_counter() - t
    t = time.perf_counter()
    acc_v = train(vector, X, y)
    time_v = time.perf_counter() - t
    print(f"scalar mode:     accuracy {acc_s:.0%}  in {time_s:.2f} s ({STEPS} steps)")
    print(
        f"vectorized mode: accuracy {acc_v:.0%}  in {time_v:.3f} s ({STEPS} steps, {time_s / time_v:.0f}x faster)"
    )
    try:
        from viz.plots import plot_decision_boundary
    except ImportError:
        return
    OUT.mkdir(exist_ok=True)
    plot_decision_boundary(vector, X, labels, OUT / "moons_boundary.png", title="moons, 2-16-16-1")
    print(f"wrote {OUT / 'moons_boundary.png'}")


if __name__ == "__main__":
    main()
