# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
DEMO_CREATORS ?= 3000
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: env env-test system-deps demo test test-fast bench lint format clean

$(VENV)/.env-base: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	@touch $@

$(VENV)/.env-test: $(VENV)/.env-base
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

env: $(VENV)/.env-base
env-test: $(VENV)/.env-test

# PostgreSQL and Chromium from Debian's packages, when missing (the tests use both for real).
system-deps:
	@bash scripts/install-system-deps.sh

demo: env
	$(BIN)/microfluence demo --creators $(DEMO_CREATORS)
	$(BIN)/microfluence score --workspace demo
	$(BIN)/microfluence demo-user --workspace demo --host $(HOST) --port $(PORT)
	$(BIN)/microfluence serve --host $(HOST) --port $(PORT)

# Bytecode written even where the shell says not to (PYTHONDONTWRITEBYTECODE): the tests start
# about a hundred Python processes (servers, workers, commands), and each would compile
# microfluence's 600 modules again, 1.4 s of CPU. It goes to __pycache__/, which git ignores.
test: env-test system-deps
	env -u PYTHONDONTWRITEBYTECODE $(PY) -m pytest -n 2 --dist loadgroup

test-fast: env-test
	$(PY) -m pytest -x -q -m "not browser and not spark"

bench: env-test system-deps
	$(PY) -m bench

# Style and readability (ruff), then the layers: which package may import which
# ([tool.importlinter] in pyproject.toml; CONTRIBUTING.md explains them).
lint: env-test
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

format: env-test
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .import_linter_cache test-artifacts
