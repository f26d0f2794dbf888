"""Every example runs, prints what it claims and writes its pictures."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(name: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_neuron_example_prints_the_reference_output():
    out = run("neuron.py")
    assert "0.9990889488055994" in out
    assert "0.001820442360243568" in out  # d(output)/d(w1) = sigmoid'(7) * 2


def test_feedforward_example():
    assert "output = 0.7216325609518421" in run("feedforward.py")


def test_gender_example_predicts_emily_and_frank():
    out = run("gender.py")
    emily = float(re.search(r"Emily: ([\d.]+)", out).group(1))
    frank = float(re.search(r"Frank: ([\d.]+)", out).group(1))
    assert emily > 0.9 and frank < 0.1


def test_moons_example_reaches_full_accuracy_in_both_modes():
    out = run("moons.py")
    accs = re.findall(r"accuracy (\d+)%", out)
    assert accs == ["100", "100"], out


def test_digits_example_reaches_97_percent():
    pytest.importorskip("sklearn")
    out = run("digits.py")
    acc = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert acc >= 97.0


def test_digits_cnn_example_reaches_98_5_percent_and_draws(tmp_path):
    pytest.importorskip("sklearn")
    out = run("digits_cnn.py")
    acc = float(re.search(r"test accuracy ([\d.]+)%", out).group(1))
    assert acc >= 98.5, out
    assert "confusion matrix" in out
    rows = [
        line.split() for line in out.splitlines() if re.match(r"^\s+\d\s+(\d+\s+){9}\d+$", line)
    ]
    assert len(rows) == 10 and sum(int(v) for r in rows for v in r[1:]) == 449
    pytest.importorskip("matplotlib")
    for name in ("digits_cnn_filters.png", "digits_cnn_mistakes.png"):
        assert (ROOT / "out" / name).stat().st_size > 1000


def test_regularization_example_prints_a_row_per_remedy():
    out = run("regularization.py", BACKPROPLAB_REG_EPOCHS="300")
    rows = re.findall(r"^(.+?)\s+([\d.]+)%\s+([\d.]+)%\s+(\d+)$", out, re.M)
    names = [r[0].split(" (")[0].strip() for r in rows]
    assert names == ["none", "L2", "early stopping", "lr decay", "augmentation", "dropout", "L1"]
    train, test = float(rows[0][1]), float(rows[0][2])
    assert train > test  # the baseline overfits
    if "wrote" in out:
        assert (ROOT / "out" / "regularization.png").stat().st_size > 1000


def test_to_pytorch_example_agrees_three_ways():
    pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    out = run("to_pytorch.py")
    assert "accuracy 100%" in out and "all three agree" in out
    torch_diff = float(
        re.search(r"PyTorch: +max \|difference\| from backproplab (\S+)", out).group(1)
    )
    onnx_rel = float(re.search(r"max relative difference (\S+)", out).group(1))
    assert torch_diff < 1e-12 and onnx_rel < 1e-6
    for name in ("moons.safetensors", "moons.onnx", "moons.pt"):
        assert (ROOT / "out" / name).stat().st_size > 1000


def test_microgpt_example_learns_names_saves_and_runs_in_torch():
    pytest.importorskip("names")
    out = run("microgpt.py")
    losses = [float(x) for x in re.findall(r"loss (\d\.\d+) +\(mean", out)]
    assert len(losses) == 10 and losses[-1] < 2.5 < losses[0], out
    made = re.search(r"samples after training: (.+)", out).group(1).split()
    assert len(made) == 10 and all(re.fullmatch(r"[a-z]+\*?", n) for n in made)
    assert "loaded it back: the same logits" in out
    assert (ROOT / "out" / "microgpt.safetensors").stat().st_size > 4192 * 8
    if "PyTorch: the same logits" in out:
        assert float(re.search(r"the same logits to (\S+);", out).group(1)) < 1e-12
