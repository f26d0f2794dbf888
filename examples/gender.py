"""Predict gender from weight and height (the classic 4-person table, shifted to mean 0).

A 2-2-1 sigmoid network, MSE loss, plain SGD with learning rate 0.1 on one person at a
time, 1000 epochs. Then it predicts two people it has never seen: Emily and Frank.

Run:  python examples/gender.py
"""

import numpy as np

from nn import MLP, SGD, fit

PEOPLE = {  # name: (weight - 135 lb, height - 66 in), 1 = female
    "Alice": ((-2, -1), 1),
    "Bob": ((25, 6), 0),
    "Charlie": ((17, 4), 0),
    "Diana": ((-15, -6), 1),
}
NEW = {"Emily": (-7, -3), "Frank": (20, 2)}


def train(epochs: int = 1000, seed: int = 0):
    """Train the network on the table; returns the model and its History."""
    X = np.array([x for x, _ in PEOPLE.values()], dtype=float)
    y = np.array([t for _, t in PEOPLE.values()], dtype=float)
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=seed)
    history = fit(
        model,
        X,
        y,
        loss="mse",
        optimizer=SGD(model.parameters(), lr=0.1),
        epochs=epochs,
        batch_size=1,
        progress=False,
        seed=seed,
    )
    return model, history


def main() -> None:
    model, history = train()
    for epoch in (0, 9, 99, 999):
        print(f"epoch {epoch + 1:4d}  loss {history.loss[epoch]:.4f}")
    for name, x in NEW.items():
        p = model(list(map(float, x))).data
        print(f"{name}: {p:.3f} -> {'F' if p > 0.5 else 'M'}")


if __name__ == "__main__":
    main()
