"""A real data set: scikit-learn's 8x8 handwritten digits (1,797 images, shipped inside the
scikit-learn package, no download). A vectorized 64-128-10 MLP, softmax cross-entropy,
Adam. Needs the optional `data` extra (scikit-learn).

Run:  python examples/digits.py
"""

import sys
import time

import numpy as np

from nn import MLP, Adam, datasets, fit, manual_seed


def load():
    """Images scaled to [0, 1] and their labels, or None without scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    digits = load_digits()
    return digits.data / 16.0, digits.target.astype(np.int64)


def main() -> float:
    data = load()
    if data is None:
        print("skipping: digits needs scikit-learn (pip install 'backproplab[data]')")
        return float("nan")
    X, y = data
    manual_seed(0)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_ratio=0.25, seed=0)
    model = MLP(64, [128, 10], activation="relu", vectorized=True)
    t = time.perf_counter()
    history = fit(
        model,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=Adam(model.parameters(), lr=3e-3),
        epochs=30,
        batch_size=64,
        val=(X_test, y_test),
        progress=sys.stderr.isatty(),
        seed=0,
    )
    elapsed = time.perf_counter() - t
    acc = history.val_accuracy[-1]
    print(f"{len(X_train)} training images, {len(X_test)} test images")
    print(
        f"after {history.epochs} epochs: train accuracy {history.accuracy[-1]:.1%}, "
        f"test accuracy {acc:.1%}  ({elapsed:.1f} s)"
    )
    return acc


if __name__ == "__main__":
    main()
