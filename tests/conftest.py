"""Shared test fixtures."""

import pytest

from autograd import Value


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
