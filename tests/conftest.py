"""Shared test fixtures."""

import os

import numpy as np
import pytest
from hypothesis import settings

from autograd import Value

# The same examples on every run: a property test that fails one run in a hundred would
# block a landing at random (search more with HYPOTHESIS_PROFILE=search).
settings.register_profile("fixed", derandomize=True)
settings.register_profile("search", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fixed"))


def assert_like_torch(out, tout, values, tensors, rng, rtol=1e-9, atol=1e-12) -> None:
    """``out`` equals torch's ``tout``, and one random gradient sent back through both
    gives each of ``values`` the gradient torch gives the matching one of ``tensors``."""
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol, atol=atol)
    g = rng.normal(size=out.shape)
    out.backward(g)
    tout.backward(tout.new_tensor(g))
    for v, t in zip(values, tensors, strict=True):
        np.testing.assert_allclose(v.grad, t.grad.numpy(), rtol=rtol, atol=atol)


@pytest.fixture
def seed_neuron() -> Value:
    """The seed neuron (w=[0, 1], b=4, sigmoid, x=[2, 3]) after backward(): its output."""
    x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    w1, w2, b = Value(0.0, label="w1"), Value(1.0, label="w2"), Value(4.0, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    out = n.sigmoid()
    out.label = "out"
    out.backward()
    return out


def page_scene(page: str) -> dict:
    """The scene a step-through page carries (its JSON data block)."""
    import json
    import re

    block = re.search(r'<script type="application/json" id="scene-data">(.*?)</script>', page, re.S)
    return json.loads(block.group(1))


def page_steps(page: str) -> list[dict]:
    """The steps of the scene a step-through page carries."""
    return page_scene(page)["steps"]


def scene_values(scene: dict) -> dict[str, dict]:
    """What a scene's walk reveals by its end: node name -> {field: reveal} (the last
    reveal of each field: ``{"node", "field", "text", "value"}``)."""
    names = {id: node["name"] for id, node in scene["nodes"].items()}
    found: dict[str, dict] = {}
    for step in scene["steps"]:
        for r in step["reveal"]:
            found.setdefault(names[r["node"]], {})[r["field"]] = r
    return found


_NUMBER = r"-?\d*\.\d+(?:e[-+]?\d+)?|-?\d+e[-+]?\d+"


def fresh_numbers(scene: dict) -> list[set[str]]:
    """Per step, the numbers it is the first to show: those it reveals (as the step
    writes them, and in full as a page may print them) that no earlier step revealed or
    wrote. Whole numbers are left out (``2`` is in ``x2`` and ``step 2 / 9``)."""
    import re

    seen: set[str] = set()
    found = []
    for step in scene["steps"]:
        fresh = set()
        for r in step["reveal"]:
            if re.fullmatch(_NUMBER, r["text"]) and r["text"] not in seen:
                fresh.add(r["text"])
                if r["value"] is not None:
                    fresh.add(repr(r["value"]))
        found.append(fresh)
        seen |= {r["text"] for r in step["reveal"]}
        seen |= set(re.findall(_NUMBER, step["text"] + "\n" + step.get("detail", "")))
    return found


def shown_early(text: str, numbers: set[str]) -> list[str]:
    """The ``numbers`` that stand in ``text`` as numbers of their own."""
    import re

    return [n for n in numbers if re.search(rf"(?<![\d.-]){re.escape(n)}(?!\d)", text)]


# The text a page shows in an element, without its scripts, styles and hidden key list.
PAGE_TEXT = """sel => { const root = document.querySelector(sel).cloneNode(true);
  root.querySelectorAll("script, style, title, .bp-help").forEach(n => n.remove());
  return root.textContent; }"""


def assert_reveals_in_order(page, scene: dict, where: str, step=None) -> None:
    """Walk a page through ``scene`` one step at a time (``step()``, by default the →
    key): before each step, the text of ``where`` holds none of the numbers that step is
    the first to show."""
    fresh = fresh_numbers(scene)
    for k in range(len(fresh) - 1):
        early = shown_early(page.evaluate(PAGE_TEXT, where), fresh[k + 1])
        assert not early, (k, scene["steps"][k + 1]["title"], early)
        (step or (lambda: page.keyboard.press("ArrowRight")))()


# Headless Chromium as the browser tests launch it (Debian's chromium; CI installs it).
# Without the background-networking flags it keeps trying hosts this machine cannot reach.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def serving(**options):
    """The classroom served by uvicorn, as ``backproplab serve`` configures it
    (``server.config``, given ``options``), on 127.0.0.1 and a free port in a background
    thread: a context manager giving the page's URL."""
    import contextlib
    import socket
    import threading
    import time

    import uvicorn

    from viz.classroom.server import config

    @contextlib.contextmanager
    def run():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = uvicorn.Server(config("127.0.0.1", port, **options))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}/"
        finally:
            server.should_exit = True
            thread.join(10)

    return run()


@pytest.fixture(scope="module")
def url():
    """The classroom, served for one test module (``serving()``): its page's URL."""
    with serving() as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's, driven by Playwright) for one test module; the module
    skips itself when either is missing."""
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def opened(browser, url):
    """open(fragment, size=(1280, 720), zoom=1): a new page on the classroom at that
    window size and browser zoom, live; page errors fail the test."""
    pages, errors = [], []

    def open_(fragment, size=(1280, 720), zoom=1.0):
        w, h = size
        page = browser.new_page(
            viewport={"width": round(w / zoom), "height": round(h / zoom)},
            device_scale_factor=zoom,
        )
        page.set_default_timeout(10_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        pages.append(page)
        page.goto(f"{url}#{fragment}")
        page.wait_for_function("() => document.getElementById('status').textContent === 'live'")
        return page

    yield open_
    for page in pages:
        page.close()
    assert errors == []
