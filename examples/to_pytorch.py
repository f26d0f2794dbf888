"""From backproplab to the tools the field uses: train on moons here, then run the same
model in PyTorch and in onnxruntime, and check that all three agree.

Writes out/moons.safetensors (our weights; safetensors.torch reads them too),
out/moons.onnx (open it in Netron, or run it with onnxruntime) and out/moons.pt (the
PyTorch state dict). Needs the extras: pip install "backproplab[torch,onnx]".

Run:  python examples/to_pytorch.py
"""

from pathlib import Path

import numpy as np
import onnxruntime
import torch

from nn import MLP, Adam, Module, binary_cross_entropy_with_logits, datasets, export_onnx, to_torch

OUT = Path(__file__).resolve().parent.parent / "out"


def main() -> None:
    X, y = datasets.make_moons(200, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], activation="tanh", vectorized=True, rng=0)
    opt = Adam(model.parameters(), lr=0.05)
    for _ in range(200):
        loss = binary_cross_entropy_with_logits(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    ours = model(X).data
    print(f"backproplab: loss {loss.data:.4f}, accuracy {np.mean((ours.ravel() > 0) == y):.0%}")

    OUT.mkdir(exist_ok=True)
    model.save(OUT / "moons.safetensors")
    model = Module.load(OUT / "moons.safetensors")  # what a learner gets back from the file
    export_onnx(model, X[:4], OUT / "moons.onnx")
    torch_model = to_torch(model)
    torch.save(torch_model.state_dict(), OUT / "moons.pt")

    with torch.no_grad():
        from_torch = torch_model(torch.from_numpy(X)).numpy()
    session = onnxruntime.InferenceSession(
        str(OUT / "moons.onnx"), providers=["CPUExecutionProvider"]
    )
    from_onnx = session.run(None, {"input": X.astype(np.float32)})[0]

    print(
        f"PyTorch:     max |difference| from backproplab {np.abs(from_torch - ours).max():.1e} (float64)"
    )
    print(
        f"onnxruntime: max |difference| from backproplab {np.abs(from_onnx - ours).max():.1e} (float32)"
    )
    print(
        f"             max relative difference {np.max(np.abs(from_onnx - ours) / np.abs(ours)):.1e}"
    )
    for name in ("moons.safetensors", "moons.onnx", "moons.pt"):
        print(f"wrote {OUT / name} ({(OUT / name).stat().st_size:,} bytes)")
    agree = np.abs(from_torch - ours).max() < 1e-12 and np.allclose(
        from_onnx, ours, rtol=1e-6, atol=1e-6
    )
    print("all three agree" if agree else "they DISAGREE")


if __name__ == "__main__":
    main()
