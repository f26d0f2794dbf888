"""The one colour language and the two sizes (viz/theme.py), shared by the drawings and
the live page: the page's CSS custom properties and its JS colours are the theme's."""

import re
from pathlib import Path

from viz.theme import NEGATIVE, NEUTRAL_HEX, POSITIVE, get_theme, page_css, page_sizes

STATIC = Path(__file__).resolve().parent.parent / "viz" / "classroom" / "static"


def test_the_pages_theme_css_is_made_from_the_theme():
    # regenerate with: python -c "from viz.theme import page_css; print(page_css(), end='')"
    assert (STATIC / "theme.css").read_text(encoding="utf-8") == page_css()


def test_the_pages_colours_in_js_are_the_themes():
    js = (STATIC / "common.js").read_text(encoding="utf-8")
    rgb = lambda name: tuple(  # noqa: E731
        int(v) for v in re.search(rf"export const {name} = \[([\d, ]+)\]", js)[1].split(",")
    )
    mid = tuple(int(NEUTRAL_HEX[i : i + 2], 16) for i in (1, 3, 5))
    assert (rgb("NEG"), rgb("POS"), rgb("MID")) == (NEGATIVE, POSITIVE, mid)


def test_no_stylesheet_restates_a_colour_or_size_of_the_theme():
    # the page's and the widgets' sheets use var(--bp-pos) and friends; a hex of the
    # theme written out again would drift from it (player.css also stands alone, in the
    # step-through page, without theme.css)
    for name in ("style.css", "widgets.css", "class.css"):
        css = (STATIC / name).read_text(encoding="utf-8").lower()
        for hex_ in ("#0877bd", "#f59322", "#e8eaeb"):
            assert hex_ not in css, (name, hex_)


def test_every_custom_property_a_stylesheet_uses_is_defined():
    # a var() of a name no sheet defines is silently nothing (no border, no colour)
    sheets = {p.name: p.read_text(encoding="utf-8") for p in STATIC.glob("*.css")}
    defined = {m for css in sheets.values() for m in re.findall(r"(--[\w-]+)\s*:", css)}
    for js in STATIC.glob("*.js"):  # set per element by the page (a graph's natural width)
        defined |= set(re.findall(r"setProperty\(\"(--[\w-]+)", js.read_text(encoding="utf-8")))
    for name, css in sheets.items():
        used = set(re.findall(r"var\((--[\w-]+)", css))
        assert used <= defined, (name, sorted(used - defined))


def test_presenter_sizes_reach_the_back_row():
    big, small = page_sizes("projector"), page_sizes("default")
    px = lambda v: float(v.removesuffix("px"))  # noqa: E731
    for key in ("--bp-text", "--bp-step", "--bp-number", "--bp-label", "--bp-small"):
        assert px(big[key]) >= 20 and px(big[key]) > px(small[key]), key
    assert px(big["--bp-label"]) == get_theme("projector").font * 96 / 72
