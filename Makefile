# `make run` starts the web chat over seeds/ on the embedded defaults; `make test` runs every test.
# Both create .venv and install what they need, once (re-run when pyproject.toml changes).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-fast install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/pip install --quiet -e ".[local,dev,eval]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/assistant serve --ingest seeds

# Lint first (seconds), then every test; the import-layer contracts run as tests/test_architecture.py.
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) data
