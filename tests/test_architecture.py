"""The architecture holds: one walk of the chain rule (and one fast twin), every op one entry
in autograd/ops/, short files and a reading order that is true, one place per activation,
imports that flow one way (viz.classroom -> viz -> nn -> autograd) with no cycle."""

import ast
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Op, Value, apply, grad, no_grad, ops, trace_backward, weighted_sum
from nn.activations import ACTIVATIONS, REGISTRY

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograd", "nn", "viz")
# The application layer is viz.classroom and viz.widgets (the classroom's tabs in Jupyter,
# under the public name README gives them).
LAYER = {"autograd": 0, "nn": 1, "viz": 2, "viz.classroom": 3, "viz.widgets": 3}


# ------------------------------------------------------------------ trace_backward
def _random_scalar_graph(draw_ops, values):
    """A graph built from a list of (op, i, j) choices over a growing pool of values."""
    leaves = [Value(v, label=f"x{k}") for k, v in enumerate(values)]
    pool = list(leaves)
    for kind, i, j in draw_ops:
        a, b = pool[i % len(pool)], pool[j % len(pool)]
        if kind == "add":
            pool.append(a + b)
        elif kind == "mul":
            pool.append(a * b)
        elif kind == "sub":
            pool.append(a - b * 0.5)
        elif kind == "tanh":
            pool.append(a.tanh())
        elif kind == "sigmoid":
            pool.append(a.sigmoid())
        elif kind == "pow":
            pool.append(a**2)
        elif kind == "wsum":
            pool.append(weighted_sum([a, b], [b, a], pool[0]))
    return leaves, pool[-1] + pool[len(pool) // 2]


OPS = st.lists(
    st.tuples(
        st.sampled_from(["add", "mul", "sub", "tanh", "sigmoid", "pow", "wsum"]),
        st.integers(0, 50),
        st.integers(0, 50),
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(OPS, st.lists(st.floats(-2, 2), min_size=1, max_size=4))
def test_trace_totals_equal_backward_on_random_graphs(choices, values):
    leaves, root = _random_scalar_graph(choices, values)
    last = {}
    for step in trace_backward(root):
        last[step.input] = step.total
        assert step.contribution == pytest.approx(step.local * step.upstream, rel=1e-12, abs=0)
    assert all(v.grad == 0.0 for v in leaves)  # the trace leaves .grad alone
    root.backward()
    for v, total in last.items():
        assert v.grad == total  # the same vjps in the same order: the same bits
    for leaf in leaves:
        assert leaf.grad == last.get(leaf, 0.0)


def test_trace_on_tensors_equals_backward():
    rng = np.random.default_rng(0)
    W = Value(rng.normal(size=(3, 4)), label="W")
    b = Value(rng.normal(size=4), label="b")
    x = Value(rng.normal(size=(5, 3)), requires_grad=False)
    loss = ((x @ W + b).tanh() * (x @ W).sigmoid()).sum(axis=0).mean()
    totals = {}
    steps = list(trace_backward(loss))
    for s in steps:
        totals[s.input] = s.total
        assert s.local is None  # a Jacobian, not a number
    loss.backward()
    np.testing.assert_array_equal(totals[W], W.grad)
    np.testing.assert_array_equal(totals[b], b.grad)
    assert x not in totals  # needs no gradient, so no step


def test_trace_event_fields_on_the_seed_neuron(seed_neuron):
    out = seed_neuron
    steps = list(trace_backward(out, 1.0))
    assert steps[0].node is out and steps[0].upstream == 1.0
    assert steps[0].local == pytest.approx(out.data * (1 - out.data))
    w1 = next(s for s in steps if s.input.label == "w1")
    assert (w1.local, w1.contribution) == (2.0, w1.total)  # d(x1*w1)/dw1 = x1 = 2


# ------------------------------------------------------------------ one walk of the chain rule
def _loops_over_reversed_order(path: Path) -> list[str]:
    """The functions of ``path`` that walk a graph backwards (``for ... in reversed(...)``)."""
    found = []
    for fn in ast.walk(ast.parse(path.read_text())):
        if isinstance(fn, ast.FunctionDef):
            for node in ast.walk(fn):
                if (
                    isinstance(node, ast.For)
                    and isinstance(node.iter, ast.Call)
                    and getattr(node.iter.func, "id", "") == "reversed"
                ):
                    found.append(fn.name)
    return found


def test_one_walk_of_the_chain_rule_and_one_fast_twin():
    walks = {
        path.name: _loops_over_reversed_order(path)
        for path in (ROOT / "autograd").rglob("*.py")
        if _loops_over_reversed_order(path)
    }
    # (and the compiled step's writer, which unrolls the fast twin's walk into code)
    assert walks == {
        "backprop.py": ["chain_rule"],
        "fast_backward.py": ["_backward_pass"],
        "compiler_program.py": ["backward"],
    }
    from autograd import backprop

    source = Path(backprop.__file__).read_text()
    for reader in ("def trace_backward", "def grad("):
        body = source[source.index(reader) :].split("\ndef ", 1)[0]
        assert "chain_rule(" in body, reader


def test_the_speed_tricks_stay_out_of_the_reading_order():
    # Every trick with its measured gain lives in fast_backward.py, mode.py or an op's
    # own entry; the files a newcomer reads first say what, not how many instructions.
    for name in ("ops/op.py", "ops/arithmetic.py", "value.py", "backprop.py"):
        text = (ROOT / "autograd" / name).read_text().lower()
        for word in ("instructions", "callgrind", "hot path"):
            assert word not in text, (name, word)
    value = (ROOT / "autograd" / "value.py").read_text()
    assert "_a, " not in value and "._b" not in value  # one way to read a node's inputs


# ------------------------------------------------------------------ one place per op
def test_every_op_is_an_entry_in_the_op_table():
    # Op(...) is made only in autograd/ops/ (lessons and tests make their own to try)
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if path.parent.name == "ops" and path.parent.parent.name == "autograd":
                continue
            tree = ast.parse(path.read_text())
            calls = [
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("Op", "Composition")
            ]
            assert not calls, path
    entries = ops.ENTRIES
    assert len({id(e) for e in entries.values()}) == len(entries)
    for key, entry in entries.items():
        assert entry.key == key
        if entry.method is not None:
            assert hasattr(Value, entry.method), key


def test_every_scalar_op_writes_its_derivative_once_in_the_table():
    for entry in ops.ENTRIES.values():
        if isinstance(entry, Op) and entry.name in ("+", "-", "*", "/", "**", "neg", "exp", "log"):
            assert entry.local is not None, entry.key
    assert ops.MUL.derivative(0, ["a", "b"], "c") == "b"
    assert ops.POW_CONST.with_params(3.0).derivative(0, ["x"], "y") == "3·x^(3-1)"
    assert ops.TANH.derivative(0, ["n"], "out") == "(1 - out²)"
    assert ops.weighted_sum_op(2, True).derivative(1, ["w1", "w2", "x1", "x2", "b"], "n") == "x2"


# ------------------------------------------------------------------ short files, read in order
def test_no_file_in_autograd_is_longer_than_about_400_lines():
    for path in (ROOT / "autograd").rglob("*.py"):
        assert len(path.read_text().splitlines()) <= 400, path


def test_the_reading_order_is_true():
    import autograd

    doc = autograd.__doc__
    order = doc[doc.index("Reading order") : doc.index("Then, as needed")]
    files = [f for f in (line.split("``")[1] for line in order.splitlines() if "``" in line)]
    files = [f for f in files if f.endswith(".py")]
    assert files == ["ops/op.py", "ops/arithmetic.py", "value.py", "backprop.py"]
    total = sum(len((ROOT / "autograd" / f).read_text().splitlines()) for f in files)
    stated = int(order.split("about ")[1].split(" lines")[0].replace(",", ""))
    assert abs(total - stated) <= 0.1 * stated, (total, stated)
    assert "four files" in order
    for named in ("fast_backward.py", "value_math.py", "value_shape.py", "functions.py"):
        assert (ROOT / "autograd" / named).exists() and named in doc


def test_adding_an_op_is_told_one_way():
    # The ops package's docstring, README and lesson 08 all say what STYLE and DESIGN
    # say: adding an op is one entry plus one row of the coverage test.
    import json

    cells = json.loads((ROOT / "lessons" / "08_your_own_op.ipynb").read_text())["cells"]
    lesson = " ".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    for where, text in (
        ("autograd/ops/__init__.py", ops.__doc__ or ""),
        ("README.md", (ROOT / "README.md").read_text()),
        ("lesson 08", lesson),
    ):
        flat = " ".join(text.split())
        assert "one entry" in flat and "tests/test_op_coverage.py" in flat, where


def test_the_operators_declared_for_type_checkers_are_the_tables():
    # value.py tells mypy about the operators the table makes (it cannot see them made)
    from autograd.value import REFLECTED

    tree = ast.parse((ROOT / "autograd" / "value.py").read_text())
    value = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Value")
    block = next(
        n for n in value.body if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n)
    )
    declared = {n.name for n in block.body if isinstance(n, ast.FunctionDef)}
    declared |= {
        t.id
        for n in block.body
        if isinstance(n, ast.Assign)
        for t in ast.walk(n)
        if isinstance(t, ast.Name) and t.ctx.__class__ is ast.Store
    }
    named = {e.method for e in ops.ENTRIES.values() if e.method and e.method.startswith("__")}
    named |= {REFLECTED[m] for m in named if m in REFLECTED} | {"__abs__"}
    made = {m for m in named if "<locals>" in getattr(Value, m).__qualname__}  # not by hand
    assert declared - {"__getattr__"} == made


def test_a_new_op_shows_in_the_step_through_from_its_entry_alone(tmp_path):
    from viz import backprop_html

    cube = Op(
        "cube",
        lambda a: a**3,
        lambda g, out, a: g * 3 * a * a,
        show="{a}³",
        local=("3·{a}²",),
    )
    x = Value(2.0, label="x")
    y = apply(cube, x)
    y.label = "y"
    page = backprop_html(y, tmp_path / "cube.html").read_text()
    assert "y = x³ = 2³ = 8" in page
    assert "x.grad += 3·x² × y.grad = 12 × 1 = 12" in page


def _activation_lists(text: str) -> list[int]:
    """Lines of Python that list three or more activations: by name (``"tanh"``), by
    Module class (``Tanh``, ``"Tanh"``: a table keyed by class names, an import of them)
    or by torch layer; or that write an activation's Module class by hand. The registry
    in nn/activations.py is the one list."""
    from nn.activations import MODULES, TorchLayer

    names = set(ACTIVATIONS) | {kind.__name__ for kind in MODULES.values()}
    names |= {f.torch.name for f in REGISTRY.values() if isinstance(f.torch, TorchLayer)}
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ClassDef) and node.name in names:  # a class of its own
            found.append(node.lineno)
            continue
        if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            items = node.keys if isinstance(node, ast.Dict) else node.elts
        elif isinstance(node, ast.ImportFrom):
            items = [ast.Name(a.asname or a.name) for a in node.names]
        else:
            continue
        listed = {e.value for e in items if isinstance(e, ast.Constant)}
        listed |= {e.id for e in items if isinstance(e, ast.Name)}
        listed |= {e.attr for e in items if isinstance(e, ast.Attribute)}
        if len(listed & names) >= 3:
            found.append(node.lineno)
    return found


def test_no_second_copy_of_a_derivative_formula_or_the_activation_list():
    sources = {p: p.read_text() for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    for path, text in sources.items():
        assert "LOCAL = {" not in text, path
        assert "_pow_vjp" not in text or path.name == "arithmetic.py", path
        if path.relative_to(ROOT).as_posix() not in (
            "nn/activations.py",
            "autograd/ops/activations.py",
        ):
            assert _activation_lists(text) == [], path


def test_the_activation_list_test_catches_a_second_list():
    second = (
        "from .layers import ELU, GELU, MLP, Tanh\n"  # 1: the classes, imported by name
        "TO_TORCH = {MLP: f, Tanh: g, ReLU: g, Sigmoid: g}\n"  # 2: keyed by class
        'SIZE_RULES = {"Tanh": n, "ReLU": n, "SiLU": n}\n'  # 3: by class name
        'FROM = {"LeakyReLU": a, "GELU": b, "ELU": c}\n'  # 4: by torch layer
        'MENU = ["tanh", "relu", "sigmoid"]\n'  # 5: by activation name
        'OK = ["tanh", "relu", "mse"]\n'  # two are not a list
        "class Softplus(Module):\n    pass\n"  # 7: a Module class by hand
    )
    assert sorted(_activation_lists(second)) == [1, 2, 3, 4, 5, 7]


def test_plots_and_grammar_read_the_registry():
    from viz.classroom.expression import FUNCTIONS
    from viz.plots import ACTIVATION_FUNCTIONS

    assert set(REGISTRY) - {"linear"} <= set(FUNCTIONS)
    x = np.array([-2.0, 3.0])
    np.testing.assert_allclose(ACTIVATION_FUNCTIONS["leaky_relu"](x), [-0.02, 3.0])
    y, dy = REGISTRY["tanh"].curve(x)
    np.testing.assert_allclose(dy, 1 - np.tanh(x) ** 2)


# ------------------------------------------------------------------ imports
def _imports(path: Path, module: str) -> set[str]:
    """The project modules ``path`` imports (absolute and relative), TYPE_CHECKING-only
    imports left out."""
    tree = ast.parse(path.read_text())
    found = set()
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
                if node.module is None:
                    found.update(f"{target}.{a.name}" for a in node.names)
                else:
                    found.add(target)
            else:
                found.add(node.module)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _modules() -> dict[str, Path]:
    mods = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            mods[name] = path
    return mods


def _layer(module: str) -> int:
    for prefix in ("viz.classroom", "viz.widgets"):
        if module == prefix or module.startswith(prefix + "."):
            return LAYER[prefix]
    return LAYER[module.split(".")[0]]


def test_imports_flow_one_way_with_no_cycle():
    mods = _modules()
    graph = {}
    for name, path in mods.items():
        targets = set()
        for imported in _imports(path, name):
            # "from .. import plots" names a module; "from .x import f" names x.
            targets.add(imported if imported in mods else imported.rpartition(".")[0])
        graph[name] = {t for t in targets if t in mods and t != name}
    for name, targets in graph.items():
        for t in targets:
            assert _layer(t) <= _layer(name), f"{name} imports {t}: against the flow"
    # autograd imports only numpy and the standard library
    for name, path in mods.items():
        if name.startswith("autograd"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    tops = {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    tops = {node.module.split(".")[0]}
                else:
                    continue
                allowed = set(sys.stdlib_module_names) | {"numpy", "__future__"}
                assert tops <= allowed, (name, tops)
    # no cycle anywhere (package __init__ files re-export their modules: skip those edges)
    edges = {
        n: {t for t in ts if not n == t.rpartition(".")[0] and n != t} for n, ts in graph.items()
    }
    edges = {
        n: {t for t in ts if not (mods[n].name == "__init__.py" and t.startswith(n))}
        for n, ts in edges.items()
    }
    state: dict[str, int] = {}

    def visit(n, path):
        state[n] = 1
        for t in edges.get(n, ()):
            if t.startswith(n + "."):
                continue
            if state.get(t) == 1:
                raise AssertionError(f"import cycle: {' -> '.join(path + [t])}")
            if t not in state:
                visit(t, path + [t])
        state[n] = 2

    for n in edges:
        if n not in state:
            visit(n, [n])
    assert "autograd.value" not in graph["autograd.backprop"]


def test_drawing_modules_never_import_the_classroom():
    for name in ("graph", "network", "rendering", "stepper", "plots", "collapse", "theme"):
        path = ROOT / "viz" / f"{name}.py"
        assert not any(m.startswith("viz.classroom") for m in _imports(path, f"viz.{name}"))


def test_drawings_onnx_and_the_engine_share_one_graph_order(monkeypatch, tmp_path):
    # autograd.topological_order is the one walk that puts a graph in order: the chain
    # rule's, the drawings' (viz.collapse.forward_order) and the ONNX export's
    pytest.importorskip("onnx")
    import autograd.backprop
    import nn.onnx_export
    import viz.collapse
    from nn import MLP

    calls = []
    real = autograd.backprop.topological_order

    def spy(*args, **kwargs):
        calls.append(kwargs.get("constants", False))
        return real(*args, **kwargs)

    for module in (autograd.backprop, nn.onnx_export, viz.collapse):
        monkeypatch.setattr(module, "topological_order", spy)
    model = MLP(2, [3, 1], vectorized=True, rng=0)
    model.layers[1].b.requires_grad = False  # a constant the export still needs
    nn.onnx_export.export_onnx(model, np.ones((4, 2)), tmp_path / "m.onnx")
    assert calls == [True]
    loss = model(np.ones((4, 2))).sum()
    viz.collapse.forward_order(loss)
    grad(loss, model.layers[0].W)
    assert len(calls) > 2
    order = real(loss, constants=True)
    assert model.layers[1].b in order and model.layers[1].b not in real(loss)
    assert order.index(model.layers[1].b) < order.index(loss)


def test_files_are_written_through_one_small_module():
    # the drawings, pages, ONNX and model files share nn.atomic, not the model files' code
    mods = _modules()
    for name, path in mods.items():
        if name.startswith("viz") or name == "nn.onnx_export":
            assert "nn.model_files" not in _imports(path, name), name
        text = path.read_text()
        assert "os.replace(" not in text or name == "nn.atomic", name


def test_no_module_replaces_itself_and_the_public_names_work():
    # no alias module (sys.modules rewritten at import): every module is what its file says
    for name, path in _modules().items():
        assert "sys.modules[" not in path.read_text(), name
    pytest.importorskip("anywidget")
    import viz.classroom.widgets
    import viz.widgets

    assert viz.widgets.NeuronWidget is viz.classroom.widgets.NeuronWidget
    assert set(viz.widgets.__all__) == set(viz.classroom.widgets.__all__)
    script = Path(sys.executable).with_name("backproplab")
    for command in ([str(script)], [sys.executable, "-m", "viz.classroom"]):
        done = subprocess.run([*command, "neuron", "--help"], capture_output=True, text=True)
        assert done.returncode == 0 and "--activation" in done.stdout, done.stderr


# ------------------------------------------------------------------ grad mode per thread
def test_no_grad_in_one_thread_does_not_stop_another():
    inside, release = threading.Event(), threading.Event()

    def hold_no_grad():
        with no_grad():
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=hold_no_grad)
    worker.start()
    inside.wait(5)
    try:
        y = Value(2.0) * 3  # this thread still records
        assert y.parents
    finally:
        release.set()
        worker.join()
    assert (Value(2.0) * 3).parents


def test_the_count_of_open_blocks_behind_the_hot_path_returns_to_zero():
    # record() skips the thread-local switches while no block is open in any thread.
    from autograd import detect_anomaly
    from autograd.mode import open_blocks

    assert open_blocks.count == 0
    with pytest.raises(FloatingPointError), no_grad(), detect_anomaly():
        assert open_blocks.count == 2 and not (Value(1.0) * 2).parents
        Value(-1.0).log()
    assert open_blocks.count == 0 and (Value(1.0) * 2).parents


def test_the_switches_are_plain_class_attributes_while_no_block_is_open():
    # (mode.flags: a class attribute costs a tenth of a thread's own storage to read)
    from autograd import detect_anomaly
    from autograd.mode import _Defaults, _PerThread, flags

    assert type(flags) is _Defaults and flags.grad_enabled and not flags.detect_anomaly
    with no_grad():
        assert type(flags) is _PerThread and not flags.grad_enabled
        with detect_anomaly():
            assert flags.detect_anomaly
    assert type(flags) is _Defaults and flags.grad_enabled and not flags.detect_anomaly


def test_no_grad_blocks_closed_out_of_order_leave_recording_on():
    first, second = no_grad(), no_grad()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    assert not (Value(1.0) * 2).parents  # still inside the second block
    second.__exit__(None, None, None)
    assert (Value(1.0) * 2).parents


def test_viz_render_is_the_function_and_the_module_has_its_own_name():
    from viz.render import to_svg  # the old module path still works

    import viz
    import viz.rendering

    assert callable(viz.render) and viz.render is viz.rendering.render
    assert to_svg is viz.rendering.to_svg


# ------------------------------------------------------------------ one settings schema
def _constant(v: ast.AST) -> bool:
    """A literal, or a trait / field made from one (``traitlets.Float(0.03).tag(...)``)."""
    while isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute) and v.func.attr == "tag":
        v = v.func.value
    if isinstance(v, ast.Call):
        given = [*v.args[:1], *(k.value for k in v.keywords if k.arg == "default_value")]
        return any(_constant(g) for g in given)
    return isinstance(v, ast.Constant) or (
        isinstance(v, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in v.elts)
    )


def _second_lists_py(text: str, tabs: dict, menus: list[set]) -> list[int]:
    """Lines of Python that restate a tab's settings: a dict, a call or a class body giving
    constants to three or more of one tab's settings (a second table of defaults), a list
    sharing three values with one of the schema's menus, or a classroom limit constant."""
    found = []
    for node in ast.walk(ast.parse(text)):
        pairs: list[tuple[str, ast.AST]] = []
        if isinstance(node, ast.Dict):
            pairs = [
                (k.value, v) for k, v in zip(node.keys, node.values) if isinstance(k, ast.Constant)
            ]
        elif isinstance(node, ast.Call):
            pairs = [(k.arg, k.value) for k in node.keywords if k.arg]
        elif isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    pairs += [(t.id, stmt.value) for t in targets if isinstance(t, ast.Name)]
        keys = {k for k, v in pairs if _constant(v)}
        if any(len(keys & fields) >= 3 for fields in tabs.values()):
            found.append(node.lineno)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            values = {e.value for e in node.elts if isinstance(e, ast.Constant)}
            if any(len(values & menu) >= 3 for menu in menus):
                found.append(node.lineno)
        if isinstance(node, ast.Assign) and node.col_offset == 0:
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if any(n.startswith(("MAX_", "MIN_")) or "LIMIT" in n for n in names):
                found.append(node.lineno)
    return found


def _second_lists_js(text: str, tabs: dict, menus: list[set]) -> list[str]:
    """The same in the page's scripts: an object literal with constants for three of one
    tab's settings, an array sharing three numbers with a menu, a constant limit or
    defaults table, a number read with a fallback (`Number(v) || 0.5`); and in its HTML, a bound or value written on
    an input."""
    import re

    found = []
    for obj in re.findall(r"\{[^{}]*\}", text):
        keys = set(
            re.findall(r"(\w+)\s*:\s*(?:\"[^\"]*\"|-?[\d.]+(?:e-?\d+)?|true|false|\[[^\]]*\])", obj)
        )
        if any(len(keys & fields) >= 3 for fields in tabs.values()):
            found.append(obj[:60])
    for arr in re.findall(r"\[[^\[\]]*\]", text):
        numbers = {
            float(n) for n in re.findall(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e-?\d+)?(?![\w.])", arr)
        }
        if any(len(numbers & menu) >= 3 for menu in menus):
            found.append(arr[:60])
    found += re.findall(r"const\s+(?:MAX|MIN|DEFAULT|LIMIT)\w*\s*=", text)
    found += re.findall(r"(?:Number|parseFloat|parseInt)\((?:[^()]|\([^()]*\))*\)\s*\|\|", text)
    found += re.findall(r"<input[^>]*\b(?:min|max|value)=[^>]*>", text)
    return found


def _schema_facts():
    pytest.importorskip("pydantic")
    from viz.classroom import settings

    tabs = {name: set(tab.model_fields) for name, tab in settings.TABS.items()}
    menus = [
        {float(v) for v in p["menu"] if v}
        for tab in settings.TABS.values()
        for p in tab.schema()["properties"].values()
        if p.get("menu")
    ]
    return tabs, menus


def test_one_settings_schema_no_second_list_of_defaults_or_bounds():
    tabs, menus = _schema_facts()
    assert menus and all(len(m) >= 3 for m in menus)
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if path.name == "settings.py" and path.parent.name == "classroom":
                continue
            lines = _second_lists_py(path.read_text(), tabs, menus)
            if "classroom" not in path.parts:  # limits elsewhere (drawings, files) are theirs
                tree = ast.parse(path.read_text())
                top = {n.lineno for n in tree.body if isinstance(n, ast.Assign)}
                lines = [n for n in lines if n not in top]
            assert lines == [], (path, lines)
    static = ROOT / "viz" / "classroom" / "static"
    for path in [*static.glob("*.js"), static / "index.html"]:
        if path.name == "settings.js":
            continue
        assert _second_lists_js(path.read_text(), tabs, menus) == [], path


def test_the_schema_test_catches_a_second_list():
    tabs, menus = _schema_facts()
    python = (
        'DEFAULTS = {"dataset": "circle", "noise": 0, "lr": 0.03}\n'
        "class Settings:\n    x: list = [2.0, 3.0]\n    w: list = [0.0, 1.0]\n    b: float = 4.0\n"
        "run(dataset='spiral', noise=10, layers=[8, 8])\n"
        "RATES = [0.001, 0.003, 0.01, 0.03]\n"
        "MAX_NEURONS = 8\n"
    )
    traits = "class W:\n    lr = Float(0.03).tag(sync=True)\n    reg = Unicode('none')\n    rate = Float(0.0)\n"
    assert sorted(_second_lists_py(python, tabs, menus)) == [1, 2, 6, 7, 8]
    assert _second_lists_py(traits, tabs, menus) == [1]
    js = (
        'const s = { dataset: "circle", noise: 0, lr: 0.03 };\n'
        "const RATES = [0.001, 0.003, 0.01, 0.03];\n"
        "const MAX_INPUTS = 8;\n"
        'const lr = Number($("net-lr").value) || 0.5;\n'
        '<input id="pg-seed" type="number" min="0" max="1000000" value="1">'
    )
    assert len(_second_lists_js(js, tabs, menus)) == 5


def test_cli_server_widgets_and_page_read_the_same_schema():
    pytest.importorskip("pydantic")
    pytest.importorskip("anywidget")
    from viz.classroom import settings
    from viz.classroom.cli import build_parser
    from viz.classroom.sessions import Session
    from viz.classroom.widgets import NeuronWidget, PlaygroundWidget

    hello = Session().hello()
    assert hello["tabs"] == {name: tab.schema() for name, tab in settings.TABS.items()}
    widget = PlaygroundWidget()
    assert widget.settings() == {k: v for k, v in settings.Playground.defaults().items()}
    assert {k: getattr(NeuronWidget(), k) for k in settings.Neuron.model_fields} == (
        settings.Neuron.defaults()
    )
    commands = build_parser()._subparsers._group_actions[0].choices
    for command, tab in (("neuron", settings.Neuron), ("playground", settings.PlaygroundRun)):
        options = {a.dest: a for a in commands[command]._actions}
        for key, prop in tab.schema()["properties"].items():
            if prop["cli"]:
                assert (
                    key in options
                    and settings.allowed(prop).replace("%", "%%") in options[key].help
                )
