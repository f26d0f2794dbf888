"""The docs site: `mkdocs build --strict` (as `make docs` runs it) succeeds with no warning,
and the pages hold the lessons and the API read from the docstrings.

Skips cleanly without the `docs` extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mkdocs")
pytest.importorskip("mkdocstrings_handlers.python")
pytest.importorskip("mkdocs_jupyter")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "WARNING" in line]
    assert not warnings, warnings
    return out


def page(site: Path, name: str) -> str:
    return (site / name / "index.html").read_text(encoding="utf-8")


def test_home_page_links_every_part(site):
    home = (site / "index.html").read_text(encoding="utf-8")
    assert "0.9990889488055994" in home
    for link in ("lessons/", "api/autograd/", "api/nn/", "api/viz/", "classroom/"):
        assert link in home
    assert (site / "classroom-neuron.png").exists()  # the README pictures are kept


def test_api_pages_come_from_the_docstrings(site):
    autograd = page(site, "api/autograd")
    assert "trace_backward" in autograd and "gradcheck" in autograd
    assert "one public walk of the chain rule" in autograd or "BackwardStep" in autograd
    nn = page(site, "api/nn")
    assert "MLP" in nn and "Adam" in nn and "fit" in nn
    viz = page(site, "api/viz")
    assert "draw_dot" in viz and "backprop_html" in viz and "NeuronWidget" in viz


def test_every_lesson_is_a_page(site):
    first = page(site, "lessons/01_neuron")
    assert "1. The neuron" in first
    for name in sorted(p.stem for p in (ROOT / "lessons").glob("*.ipynb")):
        assert (site / "lessons" / name / "index.html").exists(), name
    assert "Write your own op" in page(site, "lessons/08_your_own_op")
