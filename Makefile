# The two set-up commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned for the tests only (a local CPU wheel; a looser pin pulls CUDA packages)
TORCH_PIN := torch==2.13.0

.PHONY: run test venv test-deps bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install -q "$(TORCH_PIN)"
	$(BIN)/pip install -q -e ".[test]"
	touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/cnncalc summary examples/mnist.txt

test: $(VENV)/.test-installed
	KERAS_BACKEND=torch $(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python bench/bench_spec.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
