"""Hostile input to the pages and the command line: nothing runs, nothing unbounded
starts, nothing outside the output folder is written, every error is one line."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, page_steps

from autograd import Value
from viz import backprop_html, draw_dot, to_svg
from viz.classroom.cli import main

HOSTILE = [
    "{{STEPS}}",
    "{{INITIAL}}",
    "</script><script>window.HACKED = 1</script>",
    '<img src=x onerror="window.HACKED = 2">',
    "*/ window.HACKED = 3 /*",
    "</title><script>window.HACKED = 4</script>",
    "<!-- {{SVG}} -->",
    "a\u2028b\u2029c",
    "line one\nline two",
    "&amp; &lt;b&gt;",
    "data 7",  # looks like a field of the drawing
]


def _hostile_graph():
    leaves = [Value(float(i + 1), label=text) for i, text in enumerate(HOSTILE)]
    out = leaves[0]
    for leaf in leaves[1:]:
        out = out * 0.5 + leaf
    out.label = HOSTILE[2]
    return out, leaves


def test_page_holds_hostile_text_only_as_data(tmp_path):
    out, _ = _hostile_graph()
    page = backprop_html(out, tmp_path / "p.html", title=HOSTILE[5] + HOSTILE[0]).read_text()
    assert page.count("<script") == 2  # the scene (JSON) and the player
    assert "window.HACKED" not in page.split("<svg", 1)[0].replace("window.HACKED = 4", "")
    steps = page_steps(page)
    texts = "\n".join(s["text"] for s in steps)
    for text in HOSTILE:
        if "\n" not in text:
            assert text in texts or f"({text})" in texts


def test_hostile_labels_render_as_text_in_the_drawing():
    out, _ = _hostile_graph()
    svg = to_svg(draw_dot(out))
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg[svg.index("<svg") :])
    texts = [t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "&amp; &lt;b&gt;" in texts  # shown as given, not read as entities
    assert not any(el.tag.endswith("script") for el in root.iter())


playwright = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = CHROMIUM_ARGS


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt install chromium)")
def test_hostile_page_runs_nothing_in_chromium(tmp_path):
    out, leaves = _hostile_graph()
    title = HOSTILE[5] + " " + HOSTILE[0]
    path = backprop_html(out, tmp_path / "hostile.html", title=title)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        errors, dialogs = [], []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(path.as_uri())
        assert page.evaluate("window.HACKED") is None
        assert page.inner_text("h1") == title  # the title shows exactly as given
        steps = page_steps(path.read_text())
        for _ in range(len(steps) - 1):
            page.click("[data-act=next]")
        assert page.evaluate("window.HACKED") is None
        shown = page.inner_text(".bp-text")  # the last step: the SGD update, names as given
        assert shown.startswith("p ← p − lr × p.grad\n11 parameters; the largest steps:")
        assert "\n&amp; &lt;b&gt;: 10 → 9.95\n" in shown
        page.click("[data-act=prev]")
        assert page.inner_text(".bp-text").startswith("Every value now holds")
        page.click("[data-act=first]")
        assert "&amp; &lt;b&gt; = 10" in page.inner_text(".bp-text")  # labels as given
        # the box labelled "data 7" keeps its name; its data field is the one that changes
        texts = page.evaluate(
            "[...document.querySelectorAll('g.node')].map(g => "
            "[...g.querySelectorAll('text')].map(t => t.textContent))"
        )
        assert ["data 7", "data 11", "grad ?"] in texts
        browser.close()
    assert errors == [] and dialogs == []


# ------------------------------------------------------------------ the command line
def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["graph", "2*3"], "has no variable to differentiate"),
        (["graph", "9" * 400 + "*a", "a=1"], "too large"),
        (["graph", "+".join(["exp(a)"] * 120), "a=1"], "more than the 200"),
        (["neuron", "--w", *["1"] * 100, "--x", *["1"] * 100], "a list of 1 to 8 items"),
        (["playground", "--epochs", "1000000000"], "from 1 to 100000, got 1000000000"),
        (["playground", "--epochs", "1e9"], "must be a whole number from 1 to 100000, got '1e9'"),
        (["playground", "--layers", "12000"], "each a whole number from 1 to 8, got 12000"),
        (["playground", "--layers", ",".join(["2"] * 20)], "a list of 0 to 6 items"),
        (["playground", "--points", "100000000"], "from 0 to 20000"),
        (["playground", "--frames", "100000"], "from 0 to 200"),
        (["playground", "--points", "20000", "--batch", "1", "--frames", "0"], "steps"),
        (
            [
                *"playground --layers 8,8,8,8,8,8 --points 20000 --epochs 5000".split(),
                *"--batch 30 --features x,y,xy,x2,y2,sinx,siny".split(),
            ],
            "weights is more",
        ),
        (["playground", "--seed", "-1"], "from 0 to 1000000"),
        (["playground", "--points", "3", "--ratio", "10"], "none to train on"),
        (["playground", "--layers", "²"], "each must be a whole number from 1 to 8, got '²'"),
        (["graph", "x\udcff", "x=1"], "must be valid text"),
        (["graph", "x\x00", "x=1"], "not text"),
    ],
)
def test_bad_cli_input_is_one_line_and_status_2(capsys, tmp_path, argv, message):
    code, out, err = run(capsys, *argv, "--out", str(tmp_path))
    assert code == 2, err
    assert message in err and err.count("\n") == 1, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def test_an_empty_output_folder_is_refused(capsys):
    code, _, err = run(capsys, "neuron", "--out", "")
    assert code == 2 and "give a folder name" in err


def test_a_formula_may_start_with_a_minus(capsys, tmp_path):
    code, out, err = run(capsys, "graph", "-a*b", "a=2", "b=3", "--out", str(tmp_path))
    assert code == 0, err
    assert out.startswith("-a*b = -6.0")


def test_outputs_replace_symlinks_instead_of_following_them(capsys, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    folder = tmp_path / "out"
    folder.mkdir()
    os.symlink(victim, folder / "backprop.html")
    os.symlink(victim, folder / "graph.svg")
    code, _, err = run(capsys, "neuron", "--out", str(folder))
    assert code == 0, err
    assert victim.read_text() == "keep me"
    assert not (folder / "backprop.html").is_symlink()
    assert not (folder / "graph.svg").is_symlink()
    assert [p.name for p in folder.iterdir() if p.name.startswith(".")] == []  # no temp left


def test_a_closed_pipe_is_quiet(tmp_path):
    script = Path(sys.executable).parent / "backproplab"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "viz.classroom"]
    done = subprocess.run(
        f"{' '.join(command)} neuron --out {tmp_path} | head -c 10",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout == "out = sigm"
    assert "Error" not in done.stderr and "Broken pipe" not in done.stderr, done.stderr


def test_a_value_feeding_a_hundred_ops_lays_out_in_seconds(capsys, tmp_path, monkeypatch):
    import time

    render_module = sys.modules["viz.rendering"]
    monkeypatch.setattr(render_module, "system_dot", lambda: None)  # as in CI: in-process
    start = time.perf_counter()
    code, _, err = run(capsys, "graph", "+".join(["x"] * 100), "x=2", "--out", str(tmp_path))
    assert code == 0, err
    assert time.perf_counter() - start < 30  # was over a minute per layout


@pytest.mark.parametrize("label", ["a\x00b", "x" * 20_000, "lone \udcff surrogate", "tab\there"])
def test_labels_graphviz_cannot_take_still_draw(tmp_path, label):
    v = Value(1.0, label=label) * 2
    svg = to_svg(draw_dot(v))
    assert "<svg" in svg
    page = backprop_html(v, tmp_path / "p.html", title=label).read_text()
    assert page_steps(page)


def test_a_title_that_is_not_text_is_a_clear_error(tmp_path):
    with pytest.raises(TypeError, match="title must be text"):
        backprop_html(Value(1.0) * 2, tmp_path / "p.html", title=None)
