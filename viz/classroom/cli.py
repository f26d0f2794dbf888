"""``backproplab``: backprop in the classroom, without writing Python.

    backproplab neuron --w 0 1 --b 4 --x 2 3 --activation sigmoid --out out/neuron
    backproplab graph "tanh(a*b + c)" a=2 b=-3 c=10 --out out/expr
    backproplab playground --dataset spiral --layers 8,8 --epochs 300 --out out/spiral
    backproplab serve --open          # the live classroom at http://127.0.0.1:8000/

Each subcommand prints its numbers and writes its pictures into the ``--out`` folder.
Bad arguments exit with status 2 and one line saying what was wrong.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from autograd import Value, topological_order
from nn import playground
from nn.activations import ACTIVATIONS

from ..graph import draw_dot
from ..rendering import render
from ..stepper import backprop_html
from .expression import FUNCTIONS, ExpressionError, build, parse_assignments
from .lessons import neuron


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block), status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ----------------------------------------------------------------- argument types
def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _ratio(text: str) -> float:
    value = _number(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (exclusive), got {text}")
    return value


def _count(text: str, limit: str | None = None) -> int:
    """A whole number >= 1 (and at most ``playground.LIMITS[limit]``)."""
    text = text.strip()
    try:
        value = int(text) if len(text) <= 12 else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (write e.g. 300)")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    if limit is not None and value > playground.LIMITS[limit]:
        raise argparse.ArgumentTypeError(
            f"must be at most {playground.LIMITS[limit]:,}, got {value:,}"
        )
    return value


def _bounded(limit: str):
    """An argument type: a whole number from 1 to ``playground.LIMITS[limit]``."""
    check = lambda text: _count(text, limit)
    check.__name__ = limit  # argparse names the type in its messages
    return check


def _noise(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(
            f"must be between 0 and 1 (the Playground's 0-50% is 0-0.5), got {text}"
        )
    return value


def _frames(text: str) -> int:
    return 0 if text.strip() == "0" else _count(text, "frames")


def _layers(text: str) -> list[int]:
    """``"8,8"`` -> ``[8, 8]``; ``""`` or ``"none"`` -> no hidden layer."""
    if text.strip().lower() in ("", "none"):
        return []
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not (part.isascii() and part.isdigit()) or int(part) < 1:
            raise argparse.ArgumentTypeError(
                f"{text!r}: each layer size must be a whole number >= 1, got {part!r} "
                "(write e.g. 8,8 or none)"
            )
        if int(part) > playground.LIMITS["neurons"]:
            raise argparse.ArgumentTypeError(
                f"{text!r}: a layer has at most {playground.LIMITS['neurons']} neurons, got {part}"
            )
        sizes.append(int(part))
    if len(sizes) > playground.LIMITS["hidden_layers"]:
        raise argparse.ArgumentTypeError(
            f"{text!r}: at most {playground.LIMITS['hidden_layers']} hidden layers, got {len(sizes)}"
        )
    return sizes


def _features(text: str) -> list[str]:
    try:
        return playground.check_features(p.strip() for p in text.split(","))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


# ----------------------------------------------------------------- shared output
def _folder(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("give a folder name (an empty one would mean here)")
    return text


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to 2**63 - 1, got {text}")
    return value


def _add_output(parser: argparse.ArgumentParser, default: str, pictures: str) -> None:
    parser.add_argument(
        "--out",
        type=_folder,
        default=default,
        metavar="DIR",
        help=f"folder for {pictures} (default: {default})",
    )
    parser.add_argument(
        "--big",
        action="store_const",
        const="projector",
        default="default",
        dest="theme",
        help="projector mode: larger type and thicker lines in every picture",
    )


def _add_graph_output(parser: argparse.ArgumentParser, default: str) -> None:
    """``--format`` and ``--out`` for the commands that draw a graph and its page."""
    parser.add_argument(
        "--format",
        choices=("svg", "png", "pdf"),
        default="svg",
        help="graph picture format (png/pdf need Graphviz's dot; default: svg)",
    )
    _add_output(parser, default, "graph.svg and backprop.html")


MAX_PAGE_VALUES = 200  # a step-through page (and its drawing) is for a small graph


def _check_drawable(out: Value, parser: argparse.ArgumentParser) -> None:
    """Refuse a graph too big to draw before any work on it (or any output) starts."""
    size = len(topological_order(out))
    if size > MAX_PAGE_VALUES:
        parser.error(
            f"the graph has {size} values, more than the {MAX_PAGE_VALUES} a drawing and "
            "step-through page can show; use a shorter formula or fewer inputs"
        )


def _write_graph(
    out: Value, folder: Path, fmt: str, title: str, theme: str = "default"
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    graph = render(draw_dot(out, theme=theme), folder / f"graph.{fmt}")
    page = backprop_html(
        out, folder / "backprop.html", title=title, max_values=MAX_PAGE_VALUES, theme=theme
    )
    return [Path(graph), Path(page)]


def _table(rows: Sequence[tuple[str, float, float]], of: str) -> str:
    width = max(len("value"), *(len(name) for name, _, _ in rows))
    lines = [f"{'value':<{width}}  {'data':>12}  {'gradient d' + of + '/d(value)':>22}"]
    for name, data, grad in rows:
        lines.append(f"{name:<{width}}  {data:>12.6g}  {grad:>22.10g}")
    return "\n".join(lines)


# ----------------------------------------------------------------- neuron
def _neuron(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if len(args.w) != len(args.x):
        parser.error(f"--w has {len(args.w)} weights but --x has {len(args.x)} inputs")
    out, xs, ws, b = neuron(args.x, args.w, args.b, args.activation)
    n = out if out.op == "+" else out.parents[0]
    products = list(n.parents[:-1])
    _check_drawable(out, parser)
    out.backward()
    print(f"out = {args.activation}(w·x + b) = {out.data!r}")
    print()
    rows = [(v.label, v.data, v.grad) for v in [*xs, *ws, b, *products, n]]
    if out is not n:
        rows.append((out.label, out.data, out.grad))
    print(_table(rows, "(out)"))
    return _report(
        _write_graph(out, Path(args.out), args.format, "One neuron, step by step", args.theme)
    )


# ----------------------------------------------------------------- graph
def _graph(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        variables = parse_assignments(args.values)
        out, leaves = build(args.expression, variables)
    except ExpressionError as err:
        parser.error(str(err))
    if not leaves:
        parser.error(
            f"{args.expression.strip()!r} has no variable to differentiate; write it with a "
            "name such as x and give x=<number>"
        )
    _check_drawable(out, parser)
    unused = sorted(set(variables) - set(leaves))
    if unused:
        print(f"note: {', '.join(unused)} not in the expression", file=sys.stderr)
    out.backward()
    print(f"{args.expression.strip()} = {out.data!r}")
    print()
    print(_table([(name, v.data, v.grad) for name, v in leaves.items()], "(output)"))
    return _report(
        _write_graph(out, Path(args.out), args.format, args.expression.strip(), args.theme)
    )


# ----------------------------------------------------------------- playground
def _playground(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import playground as pg  # matplotlib is imported only here

    points = args.points or playground.POINTS[playground.task(args.dataset)]
    sizes = [len(args.features), *args.layers, 1]
    try:  # each setting is in bounds; together they must be too, before any work
        playground.check_work(points, args.test_ratio, args.epochs, args.batch_size, sizes)
    except ValueError as err:
        parser.error(str(err))

    settings = pg.Settings(
        dataset=args.dataset,
        noise=args.noise,
        layers=args.layers,
        activation=args.activation,
        lr=args.lr,
        epochs=args.epochs,
        batch_size=args.batch_size,
        l2=args.l2,
        features=args.features,
        test_ratio=args.test_ratio,
        seed=args.seed,
        points=args.points,
        frames=args.frames,
        theme=args.theme,
    )
    print(pg.describe(settings))
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported below
        result = pg.run(settings, args.out, progress=not args.quiet)
    print(pg.summary(result))
    return _report(list(result.files.values()))


# ----------------------------------------------------------------- serve
def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    try:
        from .server import serve
    except ImportError as err:
        raise ImportError(
            f"{err}; the live classroom needs its extra: pip install 'backproplab[classroom]'"
        ) from None
    print(f"backproplab classroom at http://{args.host}:{args.port}/  (Ctrl+C stops it)")
    serve(args.host, args.port, open_browser=args.open)
    return 0


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"a port is 1 to 65535, got {value}")
    return value


def _report(paths: Sequence[Path]) -> int:
    for path in paths:
        print(f"wrote {path}")
    return 0


# ----------------------------------------------------------------- the parser
def build_parser() -> argparse.ArgumentParser:
    """The ``backproplab`` argument parser with its four subcommands."""
    parser = _Parser(
        prog="backproplab",
        description="Backpropagation as pictures: one neuron, any expression, a playground.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    neuron = commands.add_parser(
        "neuron",
        help="one neuron: its output, every gradient, its graph and a step-through page",
        description="One neuron out = f(w·x + b): prints the output and the gradient of "
        "every value, writes graph.svg and backprop.html. The defaults are the articles' "
        "neuron (output 0.9990889488055994).",
    )
    neuron.add_argument(
        "--w",
        type=_number,
        nargs="+",
        default=[0.0, 1.0],
        metavar="W",
        help="weights (default: 0 1)",
    )
    neuron.add_argument("--b", type=_number, default=4.0, help="bias (default: 4)")
    neuron.add_argument(
        "--x",
        type=_number,
        nargs="+",
        default=[2.0, 3.0],
        metavar="X",
        help="inputs, as many as weights (default: 2 3)",
    )
    neuron.add_argument(
        "--activation", choices=ACTIVATIONS, default="sigmoid", help="default: sigmoid"
    )
    _add_graph_output(neuron, "out/neuron")
    neuron.set_defaults(run=_neuron, parser=neuron)

    graph = commands.add_parser(
        "graph",
        help="any expression: gradients of each variable, its graph and a step-through page",
        description="Build an expression from numbers, variables, + - * / ** and the "
        f"functions {', '.join(FUNCTIONS)}; backpropagate; print each variable's "
        "gradient; write graph.svg and backprop.html. The text is parsed, never run.",
    )
    graph.add_argument("expression", help='e.g. "tanh(a*b + c)"')
    graph.add_argument(
        "values",
        nargs="*",
        metavar="NAME=NUMBER",
        help="a value for each variable, e.g. a=2 b=-3 c=10",
    )
    _add_graph_output(graph, "out/expr")
    graph.set_defaults(run=_graph, parser=graph)

    pg = commands.add_parser(
        "playground",
        help="TensorFlow Playground on the command line: train, then draw what was learned",
        description="Train a small network on one of the Playground's data sets and write "
        "boundary.png (train and test points), animation.gif (the boundary as it learns), "
        "loss.png (train and test curves) and network.svg (the weights). Classification "
        "uses a tanh output and -1/+1 labels, regression a linear output; the loss is "
        "the mean squared error; training is SGD with L2 weight decay, as on the web page.",
    )
    pg.add_argument(
        "--dataset",
        choices=playground.DATASETS,
        default="spiral",
        help="classification: circle xor gauss spiral; regression: plane "
        "multi-gauss (default: spiral)",
    )
    pg.add_argument(
        "--noise",
        type=_noise,
        default=0.1,
        help="0 to 0.5, the Playground's noise slider / 100 (default: 0.1)",
    )
    pg.add_argument(
        "--layers",
        type=_layers,
        default=[8, 8],
        metavar="SIZES",
        help="hidden layer sizes, e.g. 8,8, or none (default: 8,8)",
    )
    pg.add_argument(
        "--activation",
        choices=ACTIVATIONS,
        default="tanh",
        help="hidden activation (default: tanh)",
    )
    pg.add_argument("--lr", type=_positive, default=0.03, help="learning rate (default: 0.03)")
    pg.add_argument(
        "--epochs",
        type=_bounded("epochs"),
        default=300,
        help=f"default: 300, at most {playground.LIMITS['epochs']:,}",
    )
    pg.add_argument("--batch-size", type=_bounded("batch_size"), default=10, help="default: 10")
    pg.add_argument(
        "--l2", type=_non_negative, default=0.001, help="L2 regularization rate (default: 0.001)"
    )
    pg.add_argument(
        "--features",
        type=_features,
        default=list(playground.FEATURES),
        metavar="NAMES",
        help=f"inputs, from {','.join(playground.FEATURES)} (default: all)",
    )
    pg.add_argument(
        "--test-ratio",
        type=_ratio,
        default=0.5,
        help="share of points held out for testing (default: 0.5)",
    )
    pg.add_argument("--seed", type=_seed, default=1, help="data, split and weights (default: 1)")
    pg.add_argument(
        "--points",
        type=_bounded("points"),
        default=None,
        help="number of points (default: 500, or 1200 for regression)",
    )
    pg.add_argument(
        "--frames",
        type=_frames,
        default=30,
        help="frames in animation.gif, 0 for none (default: 30)",
    )
    pg.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_output(pg, "out/playground", "the four pictures")
    pg.set_defaults(run=_playground, parser=pg)

    serve = commands.add_parser(
        "serve",
        help="the live classroom in the browser: neuron, expression, network, playground",
        description="Serve the live classroom: one page with four tabs (Neuron, Expression, "
        "Network, Playground), every number computed by the engine. Works offline. Binds "
        "127.0.0.1 (this computer only) unless --host says otherwise.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="default: 8000")
    serve.add_argument("--open", action="store_true", help="open the page in a browser")
    serve.set_defaults(run=_serve, parser=serve)
    return parser


def _formula_first(argv: list[str]) -> list[str]:
    """``graph -a*b a=1 b=2``: a formula that starts with ``-`` is not an option, so it
    gets a leading space (argparse reads any word starting with ``-`` as an option)."""
    if len(argv) > 1 and argv[0] == "graph":
        first = argv[1]
        if first.startswith("-") and not first.startswith("--") and first not in ("-h",):
            return [argv[0], " " + first, *argv[2:]]
    return argv


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``backproplab`` with ``argv`` (default: the command line); returns the exit
    status: 0 done, 1 failed while running, 2 bad arguments. Every failure is one line
    on stderr, never a traceback."""
    argv = _formula_first(list(sys.argv[1:] if argv is None else argv))
    command = argv[0] if argv else ""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args, args.parser)
    except SystemExit as stop:  # --help, or a one-line argument error (status 2)
        return stop.code if isinstance(stop.code, int) else 1
    except KeyboardInterrupt:
        print("backproplab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`backproplab neuron | head -1`): stop quietly, and keep
        # Python from complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except MemoryError:
        print(f"backproplab {command}: error: out of memory; ask for less", file=sys.stderr)
        return 1
    except (ValueError, FloatingPointError, RuntimeError, OSError, ImportError) as err:
        print(f"backproplab {command}: error: {_one_line(err)}", file=sys.stderr)
        return 1


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split()) or type(err).__name__


if __name__ == "__main__":
    sys.exit(main())
