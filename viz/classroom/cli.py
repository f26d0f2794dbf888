"""``backproplab``: backprop in the classroom, without writing Python.

    backproplab neuron --w 0 1 --b 4 --x 2 3 --activation sigmoid --out out/neuron
    backproplab graph "tanh(a*b + c)" a=2 b=-3 c=10 --out out/expr
    backproplab playground --dataset spiral --layers 8,8 --features x,y,xy,x2,y2,sinx,siny \\
        --epochs 300 --out out/spiral
    backproplab serve --open          # the live classroom at http://127.0.0.1:8000/
    backproplab class --host 0.0.0.0  # a class session: students join by QR code

Each subcommand prints its numbers and writes its pictures into the ``--out`` folder.
The options of ``neuron``, ``graph`` and ``playground`` are the settings of the live tabs,
read from their schemas (``viz.classroom.settings``): the same names, units, defaults and
bounds. Bad arguments exit with status 2 and one line saying what was wrong.
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

from ..format import fmt
from ..graph import draw_dot
from ..rendering import render
from ..stepper import backprop_html
from .expression import FUNCTIONS, ExpressionError, build, parse_assignments
from .lessons import neuron
from .settings import (
    MAX_GRAPH_VALUES,
    Expression,
    Neuron,
    PlaygroundRun,
    SettingsError,
    Tab,
    allowed,
    show,
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (no usage block), status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# ----------------------------------------------------------------- argument types
def _whole(text: str) -> int:
    text = text.strip()
    if not (text.lstrip("-").isascii() and text.lstrip("-").isdigit()) or len(text) > 12:
        raise ValueError(text)
    return int(text)


def _parser_of(prop: dict):  # noqa: ANN202
    """The argument type of a schema property: text to a number, whole number or text;
    what does not parse is named with what the setting may be."""
    parse = {"number": float, "integer": _whole}.get(prop.get("type"), str)

    def convert(text: str):  # noqa: ANN202
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {allowed(prop)}, got {text!r}") from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be {allowed(prop)}, got {text!r}")
        return value

    convert.__name__ = prop.get("type", "text")  # argparse names the type in its messages
    return convert


def _add_settings(parser: argparse.ArgumentParser, tab: type[Tab]) -> None:
    """One option per setting of ``tab`` (its key, ``_`` as ``-``), with its label, help,
    allowed values and default from the schema; a list takes numbers or names separated
    by spaces or commas (``--layers 8,8``, ``--w 0 1``, ``--layers none``). Options left
    out keep the schema's default (checked with the rest by :func:`_settings`)."""
    schema = tab.schema()
    for key, prop in schema["properties"].items():
        if not prop.get("cli"):
            continue
        options: dict = {"dest": key, "default": None, "metavar": key.upper()}
        if prop["type"] == "array":
            options["nargs"] = "+"
        elif "enum" in prop:
            options.update(choices=prop["enum"], metavar=None)
        else:
            options["type"] = _parser_of(prop)
        default = prop["default"]
        shown = ",".join(map(show, default)) if isinstance(default, list) else show(default)
        shown = default if isinstance(default, str) else shown
        about = f"{prop['title']}" + (f", {prop['description']}" if prop.get("description") else "")
        help = f"{about}: {allowed(prop)} (default: {shown or 'none'})"
        parser.add_argument("--" + key.replace("_", "-"), help=help.replace("%", "%%"), **options)


def _settings(args: argparse.Namespace, tab: type[Tab], parser: argparse.ArgumentParser) -> dict:
    """The options given, checked by ``tab``'s schema with its defaults for the rest."""
    values = {}
    for key, prop in tab.schema()["properties"].items():
        given = getattr(args, key, None)
        if given is None:
            continue
        if prop["type"] == "array":
            given = _list(given, prop["items"], f"{prop['title']} ({key})", parser)
        values[key] = given
    try:
        return tab.check(values)
    except SettingsError as err:
        parser.error(str(err))


def _list(words: list[str], item: dict, name: str, parser: argparse.ArgumentParser) -> list:
    parts = [p.strip() for word in words for p in word.split(",")]
    if parts in ([""], ["none"]):
        return []
    parse = _parser_of(item)
    try:
        return [parse(p) for p in parts]
    except argparse.ArgumentTypeError as err:
        parser.error(f"{name}: each {err}")


# ----------------------------------------------------------------- shared output
def _folder(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("give a folder name (an empty one would mean here)")
    return text


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


def _check_drawable(out: Value, parser: argparse.ArgumentParser) -> None:
    """Refuse a graph too big to draw before any work on it (or any output) starts."""
    size = len(topological_order(out))
    if size > MAX_GRAPH_VALUES:
        parser.error(
            f"the graph has {size} values, more than the {MAX_GRAPH_VALUES} a drawing and "
            "step-through page can show; use a shorter formula or fewer inputs"
        )


def _write_graph(
    out: Value, folder: Path, fmt: str, title: str, theme: str = "default"
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    graph = render(draw_dot(out, theme=theme), folder / f"graph.{fmt}")
    page = backprop_html(
        out, folder / "backprop.html", title=title, max_values=MAX_GRAPH_VALUES, theme=theme
    )
    return [Path(graph), Path(page)]


def _table(rows: Sequence[tuple[str, float, float]], of: str) -> str:
    width = max(len("value"), *(len(name) for name, _, _ in rows))
    lines = [f"{'value':<{width}}  {'data':>12}  {'gradient d' + of + '/d(value)':>22}"]
    for name, data, grad in rows:
        lines.append(f"{name:<{width}}  {_number(data, '.6g'):>12}  {_number(grad, '.10g'):>22}")
    return "\n".join(lines)


def _number(x: float, spec: str = "r") -> str:
    """A number as the tables print it; ±inf as ∞ and -∞, as every picture shows them."""
    x = float(x)
    if math.isinf(x):
        return fmt(x)
    return repr(x) if spec == "r" else format(x, spec)


# ----------------------------------------------------------------- neuron
def _neuron(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    s = _settings(args, Neuron, parser)
    out, xs, ws, b = neuron(s["x"], s["w"], s["b"], s["activation"])
    n = out if out.op == "+" else out.parents[0]
    products = list(n.parents[:-1])
    _check_drawable(out, parser)
    out.backward()
    print(f"out = {s['activation']}(w·x + b) = {_number(out.data)}")
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
        Expression.check({"text": args.expression, "variables": " ".join(args.values)})
    except SettingsError as err:
        parser.error(str(err))
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
    print(f"{args.expression.strip()} = {_number(out.data)}")
    print()
    print(_table([(name, v.data, v.grad) for name, v in leaves.items()], "(output)"))
    return _report(
        _write_graph(out, Path(args.out), args.format, args.expression.strip(), args.theme)
    )


# ----------------------------------------------------------------- playground
def _playground(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from . import playground as pg  # matplotlib is imported only here

    settings = _settings(args, PlaygroundRun, parser)
    try:  # each setting is in bounds; together they must be too, before any work
        settings = pg.check(settings)
    except ValueError as err:
        parser.error(str(err))
    print(pg.describe(settings))
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging run is reported below
        result = pg.run(settings, args.out, progress=not args.quiet, theme=args.theme)
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
    if args.command == "class" or args.as_class:
        from .teach import start_class

        start_class(args.host, args.port, args.open, args.allow_host)
        return 0
    print(f"backproplab classroom at http://{args.host}:{args.port}/  (Ctrl+C stops it)")
    serve(args.host, args.port, open_browser=args.open, allow_hosts=args.allow_host)
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
        "neuron (output 0.9990889488055994); the options are the Neuron tab's settings.",
    )
    _add_settings(neuron, Neuron)
    _add_graph_output(neuron, "out/neuron")
    neuron.set_defaults(run=_neuron, parser=neuron)

    graph = commands.add_parser(
        "graph",
        help="any expression: gradients of each variable, its graph and a step-through page",
        description="Build an expression from numbers, variables, + - * / ** and the "
        f"functions {', '.join(FUNCTIONS)}; backpropagate; print each variable's "
        "gradient; write graph.svg and backprop.html. The text is parsed, never run.",
    )
    text = Expression.schema()["properties"]["text"]
    graph.add_argument(
        "expression", help=f'{text["title"]}: {allowed(text)}, e.g. "{text["default"]}"'
    )
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
        "loss.png (train and test curves) and network.svg (the weights). The options are "
        "the Playground tab's settings, in its units. Classification uses a tanh output "
        "and -1/+1 labels, regression a linear output; the loss is the Playground's "
        "square error ½(out − y)², averaged; each update adds its L1/L2 regularization.",
    )
    _add_settings(pg, PlaygroundRun)
    pg.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_output(pg, "out/playground", "the four pictures")
    pg.set_defaults(run=_playground, parser=pg)

    serve = commands.add_parser(
        "serve",
        aliases=["class"],
        help="the live classroom in the browser: neuron, expression, network, playground "
        "(class: a session the room joins by QR code, follows and answers)",
        description="Serve the live classroom: one page with four tabs (Neuron, Expression, "
        "Network, Playground), every number computed by the engine. Works offline. Binds "
        "127.0.0.1 (this computer only) unless --host says otherwise.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=_port, default=8000, help="default: 8000")
    serve.add_argument("--open", action="store_true", help="open the page in a browser")
    serve.add_argument("--class", dest="as_class", action="store_true", help="as `class`")
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another name the page may be opened by (repeatable)",
    )
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
