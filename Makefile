# Kith: the two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
KITH_HOST ?= 127.0.0.1
KITH_PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: demo test check lint types imports pytest bench clean screenshots

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(BIN)/.installed

demo: $(BIN)/.installed
	KITH_HOST=$(KITH_HOST) KITH_PORT=$(KITH_PORT) $(BIN)/kith demo

test: $(BIN)/.installed-test
	$(MAKE) check
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

check: $(BIN)/.installed-test lint types imports

lint:
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types:
	$(BIN)/mypy src

imports:
	$(BIN)/lint-imports

# Screenshots of the main pages (docs/screenshots/*.png), with Debian's Chromium.
screenshots: $(BIN)/.installed-test
	$(BIN)/python docs/screenshots/take.py

bench: $(BIN)/.installed-test
	$(BIN)/python bench/post_throughput.py
	$(BIN)/python bench/roster_import.py
	$(BIN)/python bench/routing.py

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis
	rm -f kith-demo.db kith-demo.db-wal kith-demo.db-shm kith-demo.db-writer.lock
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
