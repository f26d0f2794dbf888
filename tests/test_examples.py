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
    seconds = float(re.search(r"\(([\d.]+) s\)", out).group(1))
    assert acc >= 98.5, out
    assert seconds < 60, out
    assert "confusion matrix" in out
    rows = [
        line.split() for line in out.splitlines() if re.match(r"^\s+\d\s+(\d+\s+){9}\d+$", line)
    ]
    assert len(rows) == 10 and sum(int(v) for r in rows for v in r[1:]) == 449
    pytest.importorskip("matplotlib")
    for name in ("digits_cnn_filters.png", "digits_cnn_mistakes.png"):
        assert (ROOT / "out" / name).stat().st_size > 1000
