"""viz.render: sizes before layout, time limits (system `dot` and in-process), the
in-process renderer on deep graphs and under an address-space limit, atomic writes."""

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import viz.rendering  # noqa: F401  (the module; viz.render is the function)
from autograd import Value
from viz import draw_dot, render, to_svg

R = sys.modules["viz.rendering"]
needs_dot = pytest.mark.skipif(not shutil.which("dot"), reason="system Graphviz not installed")
linux = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")


@pytest.fixture
def no_system_dot(monkeypatch):
    """PATH without any directory holding `dot`."""
    dirs = [
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if not os.path.exists(os.path.join(d, "dot"))
    ]
    monkeypatch.setenv("PATH", os.pathsep.join(dirs))
    assert R.system_dot() is None


def deep_chain(n: int) -> str:
    """The shape draw_dot gives a long chain of ops (value -> op <- constant, op -> value):
    3n+1 nodes. n=1500 overflowed the in-process renderer's stack before."""
    lines = ["digraph { rankdir=LR;"]
    for i in range(n):
        lines.append(f'v{i}; c{i}; o{i} [shape=circle label="*"]; v{i} -> o{i}; c{i} -> o{i};')
        lines.append(f"o{i} -> v{i + 1};")
    return "\n".join(lines + ["}"])


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# --- sizes without a layout ---------------------------------------------------------------


def test_graph_size_counts_nodes_and_edges_not_labels():
    src = textwrap.dedent(
        """\
        digraph G { // a comment -> here
          rankdir=LR; graph [fontname="x"]; node [shape=box]
          /* b -> c */
          a [label="x -> y; z"]; "quoted name" [label=<<b>-></b>>];
          a:port1 -> b -> "quoted name" [label="e"];
          subgraph cluster_0 { c; d -- e }
          f
        }"""
    )
    assert R.graph_size(src) == (7, 3)  # a "quoted name" b c d e f; a->b, b->q, d--e
    a = Value(2.0, label="a")
    y = a * 3 + a
    assert R.graph_size(draw_dot(y)) == (6, 6)  # a, 3, a*3, y, two op nodes (legend: a label)


def test_check_size_refuses_before_layout():
    src = deep_chain(10)
    assert R.check_size(src, max_nodes=31, max_edges=30) == (31, 30)
    with pytest.raises(R.GraphTooLarge, match=r"31 nodes .* max_nodes=30"):
        R.check_size(src, max_nodes=30)
    with pytest.raises(ValueError, match="max_edges=29"):
        R.check_size(src, max_edges=29)


# --- time limits ----------------------------------------------------------------------------


@needs_dot
def test_system_dot_timeout_kills_dot(monkeypatch):
    started = []
    popen = subprocess.Popen

    class Recording(popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    monkeypatch.setattr(R.subprocess, "Popen", Recording)
    t = time.perf_counter()
    with pytest.raises(R.LayoutTimeout, match=r"longer than 0.05 s \(3,001 nodes\)") as info:
        to_svg(deep_chain(1000), timeout=0.05)  # needs about a second
    assert time.perf_counter() - t < 10  # generous: CI machines are busy
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, RuntimeError)
    (proc,) = started
    assert proc.returncode is not None  # reaped: killed, not left running
    if Path("/proc").exists():
        assert not alive(proc.pid)
    assert "<svg" in to_svg(deep_chain(3), timeout=10)


def test_in_process_timeout_then_renders_again(no_system_dot):
    to_svg("digraph { a }")  # compiles the renderer once per process (~2 s), untimed
    t = time.perf_counter()
    with pytest.raises(R.LayoutTimeout, match=r"longer than 0.05 s \(3,001 nodes\)"):
        to_svg(deep_chain(1000), timeout=0.05)  # needs about a second
    assert time.perf_counter() - t < 10
    assert "<svg" in to_svg(deep_chain(3), timeout=10)  # a fresh instance each layout


@needs_dot
@linux
def test_ctrl_c_leaves_no_dot_running(tmp_path):
    src = tmp_path / "deep.dot"
    src.write_text(deep_chain(1500))  # about 6 s in system dot
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys, viz; viz.to_svg(open(sys.argv[1]).read())", src],
        stderr=subprocess.PIPE,
    )
    try:
        kids = []
        for _ in range(600):  # wait for the dot grandchild (Python starts slowly when busy)
            time.sleep(0.05)
            tasks = Path(f"/proc/{child.pid}/task")
            kids = [int(k) for t in tasks.iterdir() for k in (t / "children").read_text().split()]
            if kids:
                break
        assert kids, "dot never started"
        time.sleep(0.2)
        child.send_signal(signal.SIGINT)  # what Ctrl-C sends (here to Python alone)
        assert b"KeyboardInterrupt" in child.communicate(timeout=10)[1]
        time.sleep(0.2)
        assert not any(alive(k) for k in kids)
    finally:
        child.kill()
        child.wait()


@needs_dot
@linux
def test_dot_child_is_capped_in_the_kernel(monkeypatch):
    """Even if Python is killed outright, the kernel stops dot after timeout+1 CPU s."""
    seen = {}
    limit = R._limit_child

    def spy(pid, timeout):
        limit(pid, timeout)
        seen["cpu"] = R.resource.prlimit(pid, R.resource.RLIMIT_CPU)
        seen["as"] = R.resource.prlimit(pid, R.resource.RLIMIT_AS)

    monkeypatch.setattr(R, "_limit_child", spy)
    to_svg("digraph { a -> b }", timeout=2.5)
    assert seen["cpu"][0] == 4
    hard = seen["as"][1]
    capped = R.DOT_MEMORY if hard == R.resource.RLIM_INFINITY else min(R.DOT_MEMORY, hard)
    assert seen["as"][0] == capped


# --- the in-process renderer ----------------------------------------------------------------


def test_in_process_renders_a_deep_chain(no_system_dot):
    svg = to_svg(deep_chain(1500), timeout=None)  # 4,501 nodes; ~1-3 s
    assert svg.count('class="node"') == 4501


def test_in_process_errors_are_one_clear_line(no_system_dot):
    with pytest.raises(R.LayoutError, match="could not lay out") as info:
        to_svg("digraph { a -> }")
    assert "\n" not in str(info.value)


@linux
def test_in_process_under_a_2_gib_address_space_limit(tmp_path):
    """wasmtime reserves 4 GiB per memory by default: under `ulimit -v 2G` it must not."""
    code = textwrap.dedent(
        """\
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from autograd import Value
        from viz import draw_dot, render
        a = Value(2.0, label="a"); y = (a * 3).tanh(); y.backward()
        print(render(draw_dot(y), sys.argv[1]).read_text().count('class="node"'))
        """
    )
    env = {**os.environ, "PATH": "/nonexistent"}
    out = subprocess.run(
        [sys.executable, "-c", code, tmp_path / "y.svg"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "6"  # a, 3, a*3, y, two ops (the legend is a label)


# --- writing files --------------------------------------------------------------------------


def test_render_replaces_a_symlink_instead_of_following_it(tmp_path):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "graph.dot").symlink_to(target)
    render("digraph { a -> b }", out / "graph.dot")
    assert target.read_text() == "keep me"
    assert not (out / "graph.dot").is_symlink()
    assert "a -> b" in (out / "graph.dot").read_text()
    assert sorted(p.name for p in out.iterdir()) == ["graph.dot"]  # no temp file left
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "graph.dot").stat().st_mode & 0o777 == 0o666 & ~umask


def test_render_failure_keeps_the_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "g.dot"
    path.write_text("old")

    def broken(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(R.os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        render("digraph { a -> b }", path)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["g.dot"]


def test_svg_render_in_process_writes_atomically(no_system_dot, tmp_path):
    path = render("digraph { a -> b }", tmp_path / "sub" / "g.svg", timeout=30)
    assert path.read_text().rstrip().endswith("</svg>")
    assert [p.name for p in path.parent.iterdir()] == ["g.svg"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="needs the system Graphviz dot")
def test_dot_cannot_fill_our_memory_with_a_huge_picture(monkeypatch):
    import sys

    render_module = sys.modules["viz.rendering"]
    monkeypatch.setattr(render_module, "DOT_OUTPUT", 1 << 20)
    with pytest.raises(render_module.LayoutError, match="grew past 1 MiB"):
        render_module.to_svg("digraph { node [peripheries=20000]; a; b; c; }", timeout=30)


# --- the time limit itself ------------------------------------------------------------------

BAD_TIMEOUTS = [
    (float("inf"), "got inf"),
    (float("nan"), "got nan"),
    (0, "got 0"),
    (0.0, "got 0.0"),
    (-1, "got -1"),
    ("5", "got '5'"),
    (True, "got True"),
    (False, "got False"),
    ([1], r"got \[1\]"),
    (1e300, r"=1e\+300 s is longer than the 1,000,000 s"),
]


@pytest.fixture(params=["system dot", "in-process"])
def renderer(request, monkeypatch):
    if request.param == "system dot":
        if not shutil.which("dot"):
            pytest.skip("system Graphviz not installed")
    else:
        request.getfixturevalue("no_system_dot")
    return request.param


@pytest.mark.parametrize("timeout, shown", BAD_TIMEOUTS)
def test_a_bad_timeout_is_one_clear_value_error(renderer, tmp_path, timeout, shown):
    def no_layout(*args):
        raise AssertionError("a layout ran with a bad timeout")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(R, "_run_dot", no_layout)
        mp.setattr(R, "_wasm_svg", no_layout)
        with pytest.raises(ValueError, match=rf"^to_svg: timeout.*{shown}"):
            to_svg("digraph { a -> b }", timeout=timeout)
        for suffix in (".svg", ".png", ".dot"):
            with pytest.raises(ValueError, match=rf"^render: timeout.*{shown}"):
                render("digraph { a -> b }", tmp_path / f"g{suffix}", timeout=timeout)
    assert list(tmp_path.iterdir()) == []


def test_bad_timeouts_no_longer_reach_the_layout(renderer):
    """What each used to do: an OverflowError, a TypeError, an instant LayoutTimeout."""
    for timeout, _ in BAD_TIMEOUTS:
        with pytest.raises(ValueError, match=r"^to_svg: timeout"):
            to_svg("digraph { a -> b }", timeout=timeout)


def test_good_timeouts_render(renderer):
    import numpy as np

    for timeout in (None, 30, 2.5, np.float64(30), R.MAX_TIMEOUT):
        assert "<svg" in to_svg("digraph { a -> b }", timeout=timeout)


def test_a_cold_in_process_render_does_not_count_the_compile(no_system_dot):
    """The first in-process layout compiles Graphviz (1-2 s here) before the clock starts,
    so a limit shorter than the compile does not fail on a tiny graph."""
    code = textwrap.dedent(
        """
        import time, viz.rendering as R
        assert R.system_dot() is None and not R._compiled
        t = time.perf_counter()
        svg = R.to_svg("digraph { a -> b }", timeout=0.5)
        print(svg.rstrip().endswith("</svg>"), round(time.perf_counter() - t, 2))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == "True", out.stdout


def test_in_process_time_limit_holds_however_late_the_layout_starts(no_system_dot, monkeypatch):
    to_svg("digraph { a }")  # compiled, untimed
    call = R._wasm_call

    def late(*args):  # a layout thread that starts after its time is already up
        time.sleep(0.3)
        return call(*args)

    monkeypatch.setattr(R, "_wasm_call", late)
    t = time.perf_counter()
    with pytest.raises(R.LayoutTimeout, match=r"longer than 0.05 s"):
        to_svg(deep_chain(1000), timeout=0.05)  # needs about a second
    assert time.perf_counter() - t < 0.9
