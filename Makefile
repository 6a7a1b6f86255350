# The two set-up commands of the README: `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch is pinned for the tests only (a local CPU wheel; a looser pin pulls CUDA packages)
TORCH_PIN := torch==2.13.0

.PHONY: run test venv test-deps bench bench-torch serve chromium clean fuzz-long

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e .
	touch $@

# torchvision without its dependencies (they would replace the pinned torch); its compiled ops do not load
# beside this torch: tests/torchvision_import.py defines the two the detection models need
$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install -q "$(TORCH_PIN)"
	$(BIN)/pip install -q -e ".[test]"
	$(BIN)/pip install -q --no-deps torchvision==0.28.0
	touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/cnncalc summary examples/mnist.txt

test: $(VENV)/.test-installed chromium
	KERAS_BACKEND=torch $(BIN)/python -m pytest

# the fuzz test with 100,000 text cases (the suite runs 20,000; CNNCALC_FUZZ_SEED picks another seed)
fuzz-long: $(VENV)/.test-installed
	CNNCALC_FUZZ_N=$${CNNCALC_FUZZ_N:-100000} KERAS_BACKEND=torch $(BIN)/python -m pytest tests/test_fuzz.py -s -q

# the browser tests drive Debian's chromium (Playwright's own browser download cannot work here)
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
	  echo "WARNING: chromium could not be installed: the browser tests will be SKIPPED"; }

serve: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[web]"
	$(BIN)/cnncalc serve

# every benchmark of issue 15 in one run: text specs vs their floor and the CLI, --train, the torch front-end vs
# FlopCounterMode, ONNX vs onnx-tool (time and memory; exports every torchvision classifier once, cached)
bench: $(VENV)/.test-installed
	$(BIN)/pip install -q "$(TORCH_PIN)" -e ".[bench]"
	$(BIN)/python bench/bench_spec.py
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_torch_lead.py
	$(BIN)/python bench/bench_onnx.py

bench-torch: $(VENV)/.test-installed
	$(BIN)/pip install -q "$(TORCH_PIN)" -e ".[bench]"
	$(BIN)/python bench/bench_torch.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
