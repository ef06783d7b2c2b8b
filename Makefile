# convtrace — the README names these targets. Everything runs in a project-local virtual
# environment (.venv) that the targets create and fill on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
# torch is pinned for development and CI: 2.13.0 is a CPU build that installs from local disk
# here, where an unpinned torch would pull a multi-GB CUDA build.
CONSTRAINTS := -c constraints.txt

.PHONY: help demo test test-fast bench lint typecheck regen-golden clean

help:
	@echo "make demo       - set up .venv and run the main job (convtrace demo)"
	@echo "make test       - set up the dev environment and run the whole test suite (twice: see below)"
	@echo "make bench      - engine and CLI benchmarks against PyTorch (not a test)"
	@echo "make lint       - import contracts (import-linter), ruff and mypy --strict"
	@echo "make regen-golden - rewrite the golden files of the rendered output"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# The runtime set-up: the package with its torch extra (PyTorch confirms every number).
$(VENV)/.demo-installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install $(CONSTRAINTS) -e ".[torch]"
	@touch $@

# The development set-up: everything the tests, linters and benchmarks need.
$(VENV)/.dev-installed: pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install $(CONSTRAINTS) -e ".[torch,dev,viz,web]"
	@touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(VENV)/bin/convtrace demo

# The suite runs twice: as the host's PyTorch picks its backends, then with PyTorch's oneDNN
# switched off for the whole process, 8 engine worker threads, a 120-column terminal and the
# tests in a shuffled order (a fixed seed: a failure reproduces) -- no test may depend on any.
test: $(VENV)/.dev-installed
	$(PY) -m pytest -q -p no:cacheprovider
	CONVTRACE_NUM_THREADS=8 COLUMNS=120 $(PY) -m pytest -q -p no:cacheprovider --onednn=off \
		--random-order-bucket=global --random-order-seed=$(TEST_ORDER_SEED)

TEST_ORDER_SEED ?= 15

test-fast: $(VENV)/.dev-installed
	$(PY) -m pytest -q -p no:cacheprovider -x -m "not slow"

bench: $(VENV)/.dev-installed
	$(PIP) install $(CONSTRAINTS) -e ".[torch,dev,bench]"
	$(PY) bench/bench.py
	$(PY) bench/bench_cli.py
	$(PY) bench/bench_plan.py

lint: $(VENV)/.dev-installed
	$(VENV)/bin/lint-imports
	$(PY) -m ruff check src tests bench
	$(PY) -m mypy

typecheck: lint

regen-golden: $(VENV)/.dev-installed
	CONVTRACE_REGEN_GOLDEN=1 $(PY) -m pytest -q -p no:cacheprovider tests/cli tests/draw

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis src/*.egg-info
