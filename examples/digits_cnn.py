"""A small CNN on scikit-learn's 8x8 digits, seen as 1x8x8 images (1,797 of them, shipped
inside scikit-learn: no download).

Conv2d(1, 16, 3) -> ReLU -> MaxPool 2x2 -> Conv2d(16, 32, 3) -> ReLU -> Flatten ->
Linear(512, 10), softmax cross-entropy, Adam with cosine-annealed learning rate, float32,
and data augmentation on every training batch (shifts by a pixel, small rotations, noise).
Prints the test accuracy and the confusion matrix; writes pictures of the first layer's
filters and of the misclassified test digits to out/.

Run:  python examples/digits_cnn.py
"""

import os

# Small matrices: one BLAS thread is fastest, and a busy machine makes extra threads spin
# (measured 14 s with one thread, 170 s with two on a loaded 2-core box).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from nn import (  # noqa: E402
    Adam,
    Conv2d,
    CosineAnnealingLR,
    Flatten,
    Linear,
    MaxPool2d,
    ReLU,
    Sequential,
    augment,
    datasets,
    fit,
    manual_seed,
    predict,
)

OUT = Path(__file__).resolve().parent.parent / "out"
EPOCHS = int(os.environ.get("BACKPROPLAB_CNN_EPOCHS", 50))


def load():
    """Images (N, 1, 8, 8) scaled to [0, 1] and their labels, or None without scikit-learn."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        return None
    digits = load_digits()
    return (digits.images / 16.0).reshape(-1, 1, 8, 8).astype(np.float32), digits.target


def build() -> Sequential:
    return Sequential(
        Conv2d(1, 16, 3, padding=1, dtype="float32"),
        ReLU(),
        MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, dtype="float32"),
        ReLU(),
        Flatten(),
        Linear(32 * 4 * 4, 10, dtype="float32"),
    )


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int = 10) -> np.ndarray:
    m = np.zeros((k, k), dtype=int)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def main() -> float:
    data = load()
    if data is None:
        print("skipping: digits needs scikit-learn (pip install 'backproplab[data]')")
        return float("nan")
    X, y = data
    manual_seed(0)
    X_train, X_test, y_train, y_test = datasets.train_test_split(X, y, test_ratio=0.25, seed=0)
    model = build()
    opt = Adam(model.parameters(), lr=3e-3)
    moves = augment.compose(
        augment.shift(1, rng=1), augment.rotate(10, rng=2), augment.noise(0.05, rng=3)
    )
    t = time.perf_counter()
    history = fit(
        model,
        X_train,
        y_train,
        loss="cross_entropy",
        optimizer=opt,
        epochs=EPOCHS,
        batch_size=64,
        transform=lambda xb: moves(xb).astype(np.float32),
        scheduler=CosineAnnealingLR(opt, T_max=EPOCHS),
        progress=sys.stderr.isatty(),
        seed=0,
    )
    elapsed = time.perf_counter() - t
    pred = predict(model, X_test)
    acc = float(np.mean(pred == y_test))
    print(f"{len(X_train)} training images, {len(X_test)} test images, {EPOCHS} epochs")
    print(
        f"train accuracy {history.accuracy[-1]:.1%} (augmented batches), "
        f"test accuracy {acc:.1%}  ({elapsed:.1f} s)"
    )
    print("confusion matrix (rows: true digit, columns: predicted)")
    m = confusion_matrix(y_test, pred)
    print("     " + " ".join(f"{j:3d}" for j in range(10)))
    for i, row in enumerate(m):
        print(f"{i:3d}  " + " ".join(f"{v:3d}" for v in row))
    pictures(model, X_test, y_test, pred)
    return acc


def pictures(model: Sequential, X: np.ndarray, y: np.ndarray, pred: np.ndarray) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return
    OUT.mkdir(exist_ok=True)
    filters = model.modules[0].weight.data[:, 0]
    fig, axes = plt.subplots(2, 8, figsize=(8, 2.3))
    lim = np.abs(filters).max()
    for ax, f in zip(axes.flat, filters):
        ax.imshow(f, cmap="RdBu", vmin=-lim, vmax=lim)  # the Playground's orange/blue family
        ax.axis("off")
    fig.suptitle("first-layer filters (3x3)")
    fig.savefig(OUT / "digits_cnn_filters.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    wrong = np.flatnonzero(pred != y)[:16]
    fig, axes = plt.subplots(1, max(len(wrong), 1), figsize=(1.2 * max(len(wrong), 1), 1.6))
    for ax, i in zip(np.atleast_1d(axes), wrong):
        ax.imshow(X[i, 0], cmap="gray_r")
        ax.set_title(f"{y[i]}→{pred[i]}", fontsize=9)
        ax.axis("off")
    if not len(wrong):
        np.atleast_1d(axes)[0].axis("off")
    fig.suptitle("misclassified test digits (true→predicted)")
    fig.savefig(OUT / "digits_cnn_mistakes.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    print(f"wrote {OUT / 'digits_cnn_filters.png'} and {OUT / 'digits_cnn_mistakes.png'}")


if __name__ == "__main__":
    main()
