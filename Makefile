# Two commands do everything: `make demo` and `make test` (each creates .venv when missing);
# `make serve` runs the live classroom at http://127.0.0.1:8000/.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# Everything the whole suite uses, its oracles included: PyTorch (torch==2.13.0, the CPU
# wheel), micrograd, onnxruntime, Playwright, MkDocs, the notebooks' kernel, build and twine.
TEST_EXTRAS := dev,plot,data,bench,browser,onnx,classroom,docs,widgets

.PHONY: demo test serve bench lint format clean solutions docs

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[plot,data,classroom]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/neuron.py
	$(PY) examples/feedforward.py
	$(PY) examples/moons.py

test: $(VENV)/.installed-dev  # Chromium and Graphviz too, with apt-get as root (or one line says what skips)
	@VENV=$(VENV) .ci/system-packages
	$(PY) -m pytest

serve: $(VENV)/.installed
	$(VENV)/bin/backproplab serve

bench: $(VENV)/.installed
	$(PIP) install --quiet -e ".[bench,data,jax]"
	mkdir -p out
	$(PY) -m benchmarks --json out/bench.json --markdown out/bench.md

solutions: $(VENV)/.installed-dev  # the lessons with every exercise filled in, run, in out/solutions/
	$(PY) lessons/make_solutions.py --execute

docs: $(VENV)/.installed  # the site (lessons, API) in site/, built offline in strict mode
	$(PIP) install --quiet -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

lint: $(VENV)/.installed-dev  # style, then types (mypy: the settings in pyproject.toml)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis .mypy_cache build *.egg-info site .cache
