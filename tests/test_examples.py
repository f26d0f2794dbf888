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
