"""A 2-2-1 network, forward pass by hand: every neuron has w = [0, 1], b = 0, sigmoid.

    h1 = h2 = sigmoid(0*2 + 1*3 + 0) = 0.9526
    out     = sigmoid(0*h1 + 1*h2 + 0) = 0.7216325609518421

Run:  python examples/feedforward.py
"""

from pathlib import Path

from nn import MLP

OUT = Path(__file__).resolve().parent.parent / "out"


def build() -> MLP:
    """The article's network: 2 inputs, 2 hidden sigmoid neurons, 1 sigmoid output."""
    model = MLP(2, [2, 1], activation="sigmoid", output_activation="sigmoid", rng=0)
    for layer in model.layers:
        for neuron in layer.neurons:
            neuron.w[0].data, neuron.w[1].data, neuron.b.data = 0.0, 1.0, 0.0
    return model


def main() -> None:
    model = build()
    out = model([2.0, 3.0])
    hidden = model.layers[0]([2.0, 3.0])
    print(f"hidden = {[round(h.data, 4) for h in hidden]}")
    print(f"output = {out.data!r}")
    out.backward()
    for name, p in model.named_parameters():
        print(f"  d(output)/d({name}) = {p.grad:.6f}")
    try:
        from viz import draw_mlp, render
    except ImportError:
        return
    OUT.mkdir(exist_ok=True)
    render(draw_mlp(model), OUT / "feedforward.svg")
    print(f"wrote {OUT / 'feedforward.svg'}")


if __name__ == "__main__":
    main()
