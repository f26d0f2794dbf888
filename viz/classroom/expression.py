"""Turn a formula such as ``"tanh(a*b + c)"`` into a graph of Values.

The text is parsed with Python's ``ast`` and walked against a whitelist — never
``eval`` — so only numbers, variables, ``+ - * / **``, unary ``-`` and the engine's
functions get through. Anything else is an :class:`ExpressionError` that quotes the
offending part and its column.

>>> out, leaves = build("tanh(a*b + c)", {"a": 2, "b": -3, "c": 10})
>>> round(out.data, 6), sorted(leaves)
(0.999329, ['a', 'b', 'c'])

A formula may be a block of assignments, as micrograd's README writes its example: each
name labels its node (a name given again, ``c += 1``, labels the new node ``c′``), a
number assigned to a new name is a variable, and the last line (or the last name
assigned) is the output.

>>> out, leaves = build("a = -4; b = 2; c = a + b; d = a*b + b**3; c += c + 1", {})
>>> out.label, out.data, sorted(leaves)
('c′', -3.0, ['a', 'b'])
"""

from __future__ import annotations

import ast
import inspect
import math
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from autograd import Value, ops

from .settings import MAX_FORMULA


def _number_parameter(method: Callable) -> str | None:
    """The name of the number a function may take after x (a parameter of its method
    with a number as default: leaky_relu's slope), else None."""
    defaults = [p for p in inspect.signature(method).parameters.values() if p.default != p.empty]
    numbers = [p.name for p in defaults if type(p.default) in (int, float)]
    return numbers[0] if numbers else None


# The functions a formula may call: every op entry that names one (``grammar=``), as its
# Value method, in the table's order; a new entry is callable here at once.
FUNCTIONS: dict[str, Callable] = {
    entry.grammar: getattr(Value, entry.method)
    for entry in ops.ENTRIES.values()
    if entry.grammar and entry.method
}
_PARAMETER = {name: p for name, fn in FUNCTIONS.items() if (p := _number_parameter(fn))}
OPERATORS: dict[type, Callable] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_LABEL_LENGTH = 16  # sub-expressions up to this long become the node's label
_PRIMES = ("′", "″", "‴", "⁗")  # a name given again: c, c′, c″, ...
_JUXTAPOSED = re.compile(r"(?<![\w.])(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*([A-Za-z_(])")


class ExpressionError(ValueError):
    """A formula that cannot be built; the message quotes the offending part."""


def parse_assignments(items: Iterable[str]) -> dict[str, float]:
    """``["a=2", "b=-3"]`` -> ``{"a": 2.0, "b": -3.0}``, with a clear error per bad item."""
    values: dict[str, float] = {}
    for item in items:
        name, sep, number = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ExpressionError(f"expected name=number, got {item!r}")
        if not name.isidentifier() or name.startswith("_"):
            raise ExpressionError(f"{name!r} is not a variable name (in {item!r})")
        if name in FUNCTIONS:
            raise ExpressionError(f"{name!r} is a function, it cannot be a variable")
        if name in values:
            raise ExpressionError(f"variable {name!r} is given twice")
        try:
            value = float(number)
        except ValueError:
            raise ExpressionError(f"{item!r}: {number.strip()!r} is not a number") from None
        if not math.isfinite(value):
            raise ExpressionError(f"{item!r}: the value must be finite")
        values[name] = value
    return values


def build(text: str, variables: dict[str, float]) -> tuple[Value, dict[str, Value]]:
    """Build ``text`` with one labelled leaf Value per variable; returns the output
    Value and the leaves used, by name. Sub-expressions are labelled with their text."""
    if len(text) > MAX_FORMULA:
        raise ExpressionError(f"the expression is longer than {MAX_FORMULA} characters")
    if not text.isprintable() or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        bad = next(c for c in text if not c.isprintable() or 0xD800 <= ord(c) <= 0xDFFF)
        raise ExpressionError(
            f"the expression holds a character that is not text ({ascii(bad)}); "
            "write it with letters, digits and + - * / ** ( )"
        )
    try:
        tree = ast.parse(text.strip(), mode="exec")
    except SyntaxError as err:
        where = f" at column {err.offset}" if err.offset else ""
        raise ExpressionError(f"cannot parse {text!r}: {err.msg}{where}{_hint(text)}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply") from None
    builder = _Builder(text.strip(), variables)
    try:
        out = builder.block(tree.body)
    except RecursionError:
        raise ExpressionError("the expression is nested too deeply") from None
    if not isinstance(out, Value):
        out = Value(out, label=_label(text.strip()))
    return out, builder.leaves


def _hint(text: str) -> str:
    """What a formula that does not parse probably meant: ``2a`` is ``2*a``."""
    m = _JUXTAPOSED.search(text)
    return f"; write {m[1]}*{m[2]} (a product needs its *)" if m else ""


def _label(text: str) -> str:
    """The text as a node label, or "" (the drawing then numbers it) when too long."""
    text = " ".join(text.split())
    return text if len(text) <= _LABEL_LENGTH else ""


class _Builder:
    """Evaluates a whitelisted ``ast`` tree into Values; numbers stay plain floats
    (so ``a**2`` is a power by a constant and ``2*3`` folds to 6)."""

    def __init__(self, text: str, variables: dict[str, float]) -> None:
        self.text, self.variables = text, dict(variables)
        self.leaves: dict[str, Value] = {}
        self.names: dict[str, Any] = {}  # what each assigned name holds now
        self.named: set[Value] = set()  # nodes a name labels already

    def block(self, body: list[ast.stmt]) -> Any:
        """The statements of a formula: assignments (``c = a + b``, ``c += 1``), the last
        one possibly a bare expression; the output is the last line's value."""
        if not body:
            raise ExpressionError("the expression is empty: write a formula such as a*b + c")
        out = None
        for k, statement in enumerate(body):
            if isinstance(statement, ast.Expr):
                if k != len(body) - 1:
                    raise self.refuse(
                        statement, "a formula before the last line that names nothing"
                    )
                out = self.visit(statement.value)
            elif isinstance(statement, ast.Assign | ast.AugAssign):
                out = self.assign(statement)
            else:
                raise self.refuse(statement, _WHAT.get(type(statement), "this statement"))
        return out

    def assign(self, statement: ast.Assign | ast.AugAssign) -> Any:
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        if len(targets) != 1 or not isinstance(targets[0], ast.Name):
            raise self.refuse(statement, "assigning to anything but one name")
        name = targets[0].id
        if name in FUNCTIONS or name.startswith("_"):
            raise self.refuse(targets[0], f"the name {name!r}")
        value = self.visit(statement.value)
        if isinstance(statement, ast.AugAssign):
            apply = OPERATORS.get(type(statement.op))
            if apply is None:
                raise self.refuse(statement, "this operator")
            value = self.combine(apply, self.visit(targets[0]), value, statement)
        if not isinstance(value, Value):  # a number: a new variable, as micrograd's Value(-4.0)
            if name in self.variables or name in self.names:
                raise ExpressionError(
                    f"{name!r} is given a number twice (column {statement.col_offset + 1})"
                )
            self.variables[name] = value
            return self.visit(targets[0])
        if value not in self.named and value not in self.leaves.values():
            given = sum(1 for n in self.named if n.label.rstrip("".join(_PRIMES)) == name)
            value.label = name + ("′" * given if given > len(_PRIMES) else ("", *_PRIMES)[given])
            self.named.add(value)
        self.names[name] = value
        return value

    def combine(self, apply: Callable, left: Any, right: Any, node: ast.AST) -> Any:
        """``left op right`` as the formula's ``+ - * / **`` do it (numbers fold)."""
        if not isinstance(left, Value) and not isinstance(right, Value):
            try:
                return float(apply(left, right))
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                return apply(Value(left), right)
        return apply(left, right)

    def refuse(self, node: ast.AST, what: str) -> ExpressionError:
        part = ast.get_source_segment(self.text, node) or type(node).__name__
        return ExpressionError(
            f"{what} is not allowed: {part!r} at column {node.col_offset + 1} "
            f"(allowed: numbers, variables, + - * / **, {', '.join(FUNCTIONS)})"
        )

    def visit(self, node: ast.AST) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise self.refuse(node, _WHAT.get(type(node), type(node).__name__))
        result = method(node)
        if isinstance(result, Value) and not result.label and not isinstance(node, ast.Name):
            result.label = _label(ast.get_source_segment(self.text, node) or "")
        return result

    def visit_Constant(self, node: ast.Constant) -> float:
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise self.refuse(node, "a constant that is not a real number")
        try:
            return float(node.value)
        except OverflowError:  # a 400-digit integer
            raise ExpressionError(
                f"the number at column {node.col_offset + 1} is too large (over 1.8e308)"
            ) from None

    def visit_Name(self, node: ast.Name) -> Value:
        name = node.id
        if name in self.names:
            return self.names[name]
        if name in FUNCTIONS:
            raise ExpressionError(
                f"{name} (column {node.col_offset + 1}) is a function: call it as {name}(...)"
            )
        if name not in self.variables:
            raise ExpressionError(
                f"variable {name!r} (column {node.col_offset + 1}) has no value: "
                f"add {name}=<number>"
            )
        if name not in self.leaves:
            self.leaves[name] = Value(self.variables[name], label=name)
        return self.leaves[name]

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Any:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.refuse(node, "this unary operator")

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        apply = OPERATORS.get(type(node.op))
        if isinstance(node.op, ast.BitXor):
            left, right = (ast.get_source_segment(self.text, n) for n in (node.left, node.right))
            raise ExpressionError(
                f"^ is not a power here: use ** ({left}**{right}), at column {node.col_offset + 1}"
            )
        if apply is None:
            raise self.refuse(node, "this operator")
        left, right = self.visit(node.left), self.visit(node.right)
        if not isinstance(left, Value) and not isinstance(right, Value):
            try:
                return float(apply(left, right))  # both numbers: fold
            except (ZeroDivisionError, OverflowError, ValueError, TypeError):
                return apply(Value(left), right)  # the engine gives inf/nan like numpy
        if not isinstance(left, Value):
            left = self.constant(node.left, left)
        if not isinstance(right, Value) and not isinstance(node.op, ast.Pow):
            right = self.constant(node.right, right)  # (x**2 stays a power by a number)
        return apply(left, right)

    def constant(self, node: ast.AST, number: float) -> Value:
        """A number as a leaf of the graph, labelled with its text; like micrograd, the
        drawing shows its gradient too (it is just not one of the variables)."""
        return Value(number, label=_label(ast.get_source_segment(self.text, node) or ""))

    def visit_Call(self, node: ast.Call) -> Value:
        if isinstance(node.func, ast.Constant) and len(node.args) == 1:  # 2(a + b)
            number, inside = (
                ast.get_source_segment(self.text, n) for n in (node.func, node.args[0])
            )
            raise ExpressionError(
                f"write {number}*({inside}) at column {node.col_offset + 1}: a product needs its *"
            )
        if not isinstance(node.func, ast.Name):
            raise self.refuse(node.func, "calling anything but a named function")
        name = node.func.id
        if name not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {name!r} at column {node.col_offset + 1}; "
                f"the functions are {', '.join(FUNCTIONS)}"
            )
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise self.refuse(node, "keyword or * arguments")
        wanted = (1, 2) if name in _PARAMETER else (1,)
        if len(node.args) not in wanted:
            raise ExpressionError(
                f"{name}() takes {' or '.join(map(str, wanted))} argument(s), got "
                f"{len(node.args)}: {ast.get_source_segment(self.text, node)!r}"
            )
        arg = self.visit(node.args[0])
        extra = [self.visit(a) for a in node.args[1:]]
        if any(isinstance(e, Value) for e in extra):
            raise self.refuse(node.args[1], f"a {_PARAMETER[name]} that is not a number")
        return FUNCTIONS[name](arg if isinstance(arg, Value) else Value(arg), *extra)


_WHAT = {
    ast.Attribute: "attribute access",
    ast.Lambda: "a lambda",
    ast.Subscript: "indexing",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.List: "a list",
    ast.Tuple: "a tuple",
    ast.Dict: "a dict",
    ast.Set: "a set",
    ast.JoinedStr: "an f-string",
    ast.NamedExpr: "an assignment",
    ast.ListComp: "a comprehension",
    ast.GeneratorExp: "a generator",
}
