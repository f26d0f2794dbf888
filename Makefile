# Two commands do everything: `make demo` and `make test` (each creates .venv when missing).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: demo test bench lint format clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[plot]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet -e ".[dev,plot,data,onnx]"
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/neuron.py
	$(PY) examples/feedforward.py
	$(PY) examples/moons.py

test: $(VENV)/.installed-dev
	$(PY) -m pytest

bench: $(VENV)/.installed
	$(PIP) install --quiet -e ".[bench,data]"
	$(PY) -m benchmarks

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis build *.egg-info
