# `make test` and `make demo` create or reuse .venv, install the project, then run.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Extra arguments, e.g. make demo DEMO_ARGS="--epochs 2", make test PYTEST_ARGS="-k loss".
DEMO_ARGS ?=
PYTEST_ARGS ?=

# The GPU check runs where torch with CUDA is already installed (no venv, no network there).
GPU_PYTHON ?= python3
GPU_CHECK_OUT ?= out/gpu-check
GPU_CHECK_ARGS ?=

.PHONY: install test test-all demo bench gpu-check gpu-check-dry-run clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt torch==2.13.0
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-all: $(STAMP)
	$(PY) -m pytest -q --runslow $(PYTEST_ARGS)

demo: $(STAMP)
	$(VENV)/bin/augmix demo --out out/demo $(DEMO_ARGS)

bench: $(STAMP)
	$(PY) benchmarks/bench_augmix.py

gpu-check:
	PYTHONPATH=src $(GPU_PYTHON) benchmarks/gpu_check.py $(GPU_CHECK_OUT) $(GPU_CHECK_ARGS)

gpu-check-dry-run: $(STAMP)
	$(PY) benchmarks/gpu_check.py $(GPU_CHECK_OUT) --dry-run $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
