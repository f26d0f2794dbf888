"""mkdocs hooks: the lesson pages show what the lessons print and draw, and every formula is
MathML made at build time, so the site needs no script and no network to show either.

- Lessons: each notebook is run (from ``lessons/``, two at a time, as the tests run them)
  and its page is made from the run copy, with its outputs and pictures. A live widget's
  output becomes a note: a static page has no kernel to run it.
- Formulas: TeX becomes MathML with ``latex2mathml`` (browsers render MathML Core
  natively). In Markdown pages ``pymdownx.arithmatex`` (generic mode) marks the TeX; in
  notebooks nbconvert's own Markdown renderer hands us each formula it finds. nbconvert's
  loaders for MathJax and mermaid, which point at a CDN, are taken out of the pages.
"""

from __future__ import annotations

import base64
import binascii
import html
import logging
import re
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import nbformat
from latex2mathml.converter import convert
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File
from nbconvert.filters.markdown_mistune import IPythonRenderer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "lessons"))
import make_solutions  # noqa: E402  (lessons/ is not a package: the tests import it so too)

log = logging.getLogger("mkdocs.hooks.docs")  # a warning here fails `mkdocs build --strict`

WIDGET = "application/vnd.jupyter.widget-view+json"
MATHML = "{http://www.w3.org/1998/Math/MathML}"
MATHML_ELEMENTS = set(  # MathML Core's elements
    "math annotation annotation-xml maction menclose merror mfrac mi mmultiscripts mn mo mover"
    " mpadded mphantom mprescripts mroot mrow ms mspace msqrt mstyle msub msubsup msup mtable"
    " mtd mtext mtr munder munderover none semantics".split()
)
ARITHMATEX = re.compile(
    r'<span class="arithmatex">\\\((.*?)\\\)</span>|<div class="arithmatex">\\\[(.*?)\\\]</div>',
    re.S,
)
# nbconvert's template loads MathJax and mermaid from a CDN: the formulas are MathML
# already, and no lesson draws a mermaid diagram.
CDN_LOADERS = re.compile(
    r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->"
    r'|<script type="module">(?:(?!</script>).)*?jp-Mermaid.*?<!-- End of mermaid configuration -->',
    re.S,
)

SVG_IMAGE = re.compile(r'<img (?=[^>]*src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)")')
SVG_WIDTH = re.compile(rb'<svg\b[^>]*?\bwidth="([0-9.]+)(pt|px)?"')
SMALLEST_SCALE = 0.75  # a drawing wider than the page shrinks to this, then scrolls sideways

_run_dir: tempfile.TemporaryDirectory | None = None


def mathml(tex: str, display: str = "inline") -> str:
    """``tex`` as a MathML ``<math>`` element. A formula it cannot read, or whose MathML
    would be more than MathML (latex2mathml copies ``\\text{<b>}`` through as markup), stays
    as escaped text and is a warning (an error under ``--strict``).

    >>> mathml("x^2")
    '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline"><mrow><msup><mi>x</mi><mn>2</mn></msup></mrow></math>'
    """
    try:
        out = convert(tex, display=display)
        why = _not_mathml(out)
    except Exception as err:  # latex2mathml raises several kinds; each is one bad formula
        why = f"{type(err).__name__} {err}".strip()
    if why:
        log.warning("cannot write the formula %r as MathML: %s", tex, why)
        return html.escape(tex)
    return out


def _not_mathml(markup: str) -> str | None:
    """Why ``markup`` is not plain MathML (not XML, another element, a script attribute, an
    unknown TeX command left as text), or None."""
    try:
        root = ElementTree.fromstring(markup)
    except ElementTree.ParseError as err:
        return f"not well-formed ({err})"
    for element in root.iter():
        if element.tag.removeprefix(MATHML) not in MATHML_ELEMENTS:
            return f"<{element.tag.split('}')[-1]}> is not MathML"
        for name in element.attrib:
            bare = name.split("}")[-1].lower()  # xlink:href arrives as {its namespace}href
            if bare.startswith("on") or bare in ("href", "src", "style"):
                return f"attribute {name!r}"
        if re.search(r"\\[A-Za-z]", element.text or ""):
            return f"unknown command {element.text.strip()!r}"
    return None


def on_config(config):
    # nbconvert's renderer writes each formula back as $...$ for MathJax: write MathML.
    IPythonRenderer.inline_math = lambda self, body: mathml(body)
    IPythonRenderer.block_math = lambda self, body: mathml(body, "block")
    IPythonRenderer.latex_environment = lambda self, name, body: mathml(
        f"\\begin{{{name}}}{body}\\end{{{name}}}", "block"
    )
    return config


@event_priority(50)  # before mkdocs-jupyter takes the notebooks over
def on_files(files, config):
    global _run_dir
    lessons = [
        f for f in files if f.src_uri.startswith("lessons/") and f.src_uri.endswith(".ipynb")
    ]
    if not lessons:
        return files
    _cleanup()
    _run_dir = tempfile.TemporaryDirectory(prefix="backproplab-docs-")
    books = [nbformat.read(f.abs_src_path, as_version=4) for f in lessons]
    for f, run in zip(lessons, make_solutions.execute_all(books)):
        if isinstance(run, Exception):
            raise RuntimeError(f"the lesson {f.src_uri} failed to run: {run}") from run
        log.info("ran %s in %.1f s", f.src_uri, run)
    for f, book in zip(lessons, books):
        target = Path(_run_dir.name, f.src_uri)
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(static(book), target)
        files.remove(f)
        files.append(File(f.src_uri, _run_dir.name, config.site_dir, config.use_directory_urls))
    return files


def static(book: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """``book`` with each live widget's output replaced by a note saying where it runs."""
    for cell in book.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET in data:
                found = re.search(r"(\w+) object at", data.get("text/plain", ""))
                name = found.group(1) if found else "widget"
                out["data"] = {"text/html": _note(name), "text/plain": f"[{name}: live in Jupyter]"}
    return book


def _note(name: str) -> str:
    return (
        '<div class="admonition note widget-note"><p class="admonition-title">'
        f"A live widget, <code>{html.escape(name)}</code></p><p>In Jupyter this output is "
        "the widget itself: open the notebook from <code>lessons/</code> with the "
        "<code>widgets</code> extra installed to use it. A static page cannot run it; the "
        "outputs around it show what it computes.</p></div>"
    )


def on_page_content(content, page, config, files):
    content = CDN_LOADERS.sub("", content)
    content = SVG_IMAGE.sub(_sized, content)

    def replace(m: re.Match) -> str:
        inline, block = m.group(1), m.group(2)
        tex = html.unescape(inline if inline is not None else block)
        return mathml(tex, "inline" if inline is not None else "block")

    return ARITHMATEX.sub(replace, content)


def _sized(m: re.Match) -> str:
    """A drawing's <img> fits the page down to SMALLEST_SCALE of its own size, so its text
    stays readable; a wider one scrolls (extra.css). Plots (PNG) just fit the page."""
    try:
        found = SVG_WIDTH.search(base64.b64decode(m.group(1))[:2000])
    except (binascii.Error, ValueError):
        found = None
    if found is None:
        return m.group(0)
    width = float(found.group(1)) * (4 / 3 if found.group(2) == b"pt" else 1)
    style = f"width:100%;max-width:{width:.0f}px;min-width:{SMALLEST_SCALE * width:.0f}px"
    return f'<img style="{style}" '


def on_post_build(config):
    _cleanup()


def on_build_error(error):
    _cleanup()


def _cleanup() -> None:
    global _run_dir
    if _run_dir is not None:
        _run_dir.cleanup()
        _run_dir = None
