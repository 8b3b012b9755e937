PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./headwater-data

.PHONY: serve test lint typecheck unit bench soak clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $(STAMP) $@

serve: $(STAMP)
	$(BIN)/headwater serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR)

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest -n 2 -q

bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py

soak: $(DEV_STAMP)
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
