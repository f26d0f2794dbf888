"""One neuron, every gradient: w = [0, 1], b = 4, sigmoid, input x = [2, 3].

    output = sigmoid(w1*x1 + w2*x2 + b) = sigmoid(7) = 0.9990889488055994

Run:  python examples/neuron.py       (pictures go to out/ when viz can draw them)
"""

from pathlib import Path

from autograd import Value

OUT = Path(__file__).resolve().parent.parent / "out"


def build_neuron():
    """The neuron's graph, every input and weight a labelled Value."""
    x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    w1, w2 = Value(0.0, label="w1"), Value(1.0, label="w2")
    b = Value(4.0, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    n = x1w1 + x2w2 + b
    n.label = "n"
    out = n.sigmoid()
    out.label = "out"
    return out, [x1, x2, w1, w2, b, x1w1, x2w2, n]


def main() -> None:
    out, values = build_neuron()
    out.backward()
    print(f"output = sigmoid(0*2 + 1*3 + 4) = {out.data!r}")
    print(f"{'value':>7} {'data':>8}   d(output)/d(value)")
    for v in values + [out]:
        print(f"{v.label:>7} {v.data:8.4f}   {v.grad!r}")
    try:
        from viz import backprop_html, draw_dot, render
    except ImportError:
        return
    OUT.mkdir(exist_ok=True)
    render(draw_dot(out), OUT / "neuron.svg")
    backprop_html(out, OUT / "neuron_backprop.html")
    print(f"wrote {OUT / 'neuron.svg'} and {OUT / 'neuron_backprop.html'}")


if __name__ == "__main__":
    main()
