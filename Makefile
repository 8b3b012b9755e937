PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

HOST ?= 127.0.0.1
PORT ?= 8000
DATA_DIR ?= ./headwater-data

.PHONY: serve test lint typecheck unit bench soak clean nats-server chromium

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,postgres]'
	touch $(STAMP) $@

# --auth off: no credentials needed on this machine's loopback address (see "Running Headwater for others")
serve: $(STAMP)
	$(BIN)/headwater serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --auth off

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# the NATS sink tests run a real nats-server (Debian's package); install it when it is missing
nats-server:
	@command -v nats-server >/dev/null || apt-get install -y -q nats-server >/dev/null \
		|| (apt-get update -q >/dev/null && apt-get install -y -q nats-server >/dev/null) \
		|| echo "nats-server could not be installed: the NATS sink tests will skip (or fail under CI)"

# the console's browser tests drive Debian's chromium through Playwright (no browser download)
chromium:
	@test -x /usr/bin/chromium || apt-get install -y -q chromium >/dev/null \
		|| (apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null) \
		|| echo "chromium could not be installed: the console's browser tests will skip (or fail under CI)"

test: lint typecheck nats-server chromium
	$(BIN)/pytest -n 2 -q

# make bench [PEERS=dynalite,ddblocal] [ROUNDS=3] [DURATION=15] [WARMUP=5] [PHASES=put,update]
# [STORAGE=postgres,sqlite] [BENCH_ARGS="--drain-items 20000"]: see bench/README.md
BENCH_FLAGS = $(if $(STORAGE),--storage $(STORAGE)) $(if $(PEERS),--peers $(PEERS)) $(if $(ROUNDS),--rounds $(ROUNDS)) \
	$(if $(DURATION),--duration $(DURATION)) $(if $(WARMUP),--warmup $(WARMUP)) \
	$(if $(PHASES),--phases $(PHASES)) $(BENCH_ARGS)
# make bench NODES=1,2: several Headwater nodes on one PostgreSQL database instead (bench/multinode.py)
BENCH_FLAGS += $(if $(NODES),--nodes $(NODES))

bench: $(DEV_STAMP)
	$(BIN)/python bench/run.py $(BENCH_FLAGS)

soak: $(DEV_STAMP)
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
