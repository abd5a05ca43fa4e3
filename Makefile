# Every target creates .venv and installs what it needs; only Python is assumed.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test lint format proto clean bench demo docs soak

install: $(STAMP)

$(STAMP): pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

test: lint docs
	$(PY) -m pytest

# The documentation (docs/), into docs/_build/html; any warning fails the build.
docs: install
	$(PY) -m sphinx -W --keep-going -b html docs docs/_build/html

# A sandbox exchange (TLS, simulated traders) on a free port, and examples/trading_script.py
# run against it; make demo DEMO_ARGS="--market 3c024" passes options to examples/demo.py.
demo: install
	$(PY) examples/demo.py $(DEMO_ARGS)

# The long variants of the tests (marked soak; skipped by `make test`).
soak: install
	$(PY) -m pytest -m soak

# Piqi sources -> .proto -> Python modules with .pyi stubs (all committed), by the build
# tool tools/piqi_compiler.py (not part of the installed package).
proto: install
	$(PY) tools/piqi_compiler.py --build piqi smarkets/proto

# Benchmarks: a table of figures against baselines, and bench/results.json (bench/README.md).
bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis docs/_build
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
