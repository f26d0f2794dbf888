"""Regularization, one technique at a time, on one network that overfits.

The setup: 40 noisy two-moons points to train on, 1,000 to test on, a 2-128-128-1 ReLU
network trained with Adam for 600 epochs: it learns the training points by heart. Then
the same network, from the same starting weights, with one remedy each: L2, early
stopping, learning-rate decay, data augmentation (jitter), dropout and L1. Prints a table
of train and test accuracy and writes one plot (out/regularization.png).

Run:  python examples/regularization.py
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # tiny matrices: one BLAS thread is fastest

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from nn import (  # noqa: E402
    Adam,
    CosineAnnealingLR,
    Dropout,
    EarlyStopping,
    Linear,
    ReLU,
    Sequential,
    augment,
    datasets,
    fit,
    predict,
)

OUT = Path(__file__).resolve().parent.parent / "out"
EPOCHS = int(os.environ.get("BACKPROPLAB_REG_EPOCHS", 600))


def build(dropout: float = 0.0) -> Sequential:
    layers = []
    for nin, nout in ((2, 128), (128, 128)):
        layers += [Linear(nin, nout, init_activation="relu", rng=nin), ReLU()]
        if dropout:
            layers.append(Dropout(dropout, rng=nout))
    return Sequential(*layers, Linear(128, 1, rng=3))


def accuracy(model: Sequential, X: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((predict(model, X) > 0) == (y > 0.5)))


def main() -> dict:
    X_train, y_train = datasets.make_moons(40, noise=0.3, seed=1)
    X_val, y_val = datasets.make_moons(200, noise=0.3, seed=2)  # for early stopping only
    X_test, y_test = datasets.make_moons(1000, noise=0.3, seed=3)
    setups = {
        "none (overfits)": {},
        "L2 (l2=1e-3)": {"l2": 1e-3},
        "early stopping": {"stop": True},
        "lr decay (cosine)": {"decay": True},
        "augmentation (jitter 0.15)": {"transform": augment.jitter(0.15, rng=0)},
        "dropout (p=0.5)": {"dropout": 0.5},
        "L1 (l1=1e-4)": {"l1": 1e-4},
    }
    results = {}
    t = time.perf_counter()
    for name, s in setups.items():
        model = build(s.get("dropout", 0.0))
        opt = Adam(model.parameters(), lr=0.01)
        callbacks = [EarlyStopping(patience=30, restore_best=True)] if s.get("stop") else []
        history = fit(
            model,
            X_train,
            y_train,
            loss="bce_with_logits",
            optimizer=opt,
            epochs=EPOCHS,
            val=(X_val, y_val) if s.get("stop") else None,
            callbacks=callbacks,
            scheduler=CosineAnnealingLR(opt, EPOCHS) if s.get("decay") else None,
            l2=s.get("l2", 0.0),
            l1=s.get("l1", 0.0),
            transform=s.get("transform"),
            progress=False,
            seed=0,
        )
        results[name] = (
            accuracy(model, X_train, y_train),
            accuracy(model, X_test, y_test),
            history.epochs,
        )
    elapsed = time.perf_counter() - t
    print(f"40 training points, 1000 test points, 2-128-128-1 ReLU, Adam, up to {EPOCHS} epochs")
    print(f"{'regularization':28s} {'train':>6s} {'test':>6s} {'epochs':>7s}")
    for name, (train, test, epochs) in results.items():
        print(f"{name:28s} {train:6.1%} {test:6.1%} {epochs:7d}")
    print(f"({elapsed:.1f} s)")
    plot(results)
    return results


def plot(results: dict) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    OUT.mkdir(exist_ok=True)
    names = list(results)
    train = [results[n][0] for n in names]
    test = [results[n][1] for n in names]
    y = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.barh(y + 0.2, train, 0.4, label="train", color="#0877bd")  # the Playground's blue
    ax.barh(y - 0.2, test, 0.4, label="test", color="#f59322")  # and orange
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlim(min(test + train) - 0.05, 1.0)
    ax.set_xlabel("accuracy")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("one overfitting network, one remedy at a time")
    fig.savefig(OUT / "regularization.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {OUT / 'regularization.png'}")


if __name__ == "__main__":
    main()
