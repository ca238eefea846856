# Two commands on a fresh clone with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := idp

.PHONY: run serve cluster cluster-stop test lint bench migration clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Migrate, create keys, seed demo data and serve on http://127.0.0.1:5000 (SQLite).
run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	$(BIN)/flask run --host 127.0.0.1 --port 5000

## Serve http://127.0.0.1:5000 with the production server command (config/server.py:
## settings checked first, then Granian with SERVER_* settings; 2 workers here), not the
## development one; `make run` once first (migrations, keys, demo data).
serve: $(STAMP)
	IDP_SERVER_WORKERS=$${IDP_SERVER_WORKERS:-2} $(BIN)/python config/server.py

## A local cluster: PostgreSQL, Redis, 2 instances (CLUSTER_INSTANCES) with the production
## server command, HAProxy round-robin on http://127.0.0.1:8080 (config/cluster.py).
cluster: $(STAMP)
	$(BIN)/python config/cluster.py start

## Stop what `make cluster` started, by PID.
cluster-stop:
	$(BIN)/python config/cluster.py stop

## Run the whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check idp tests

## Benchmark the hot paths on SQLite and PostgreSQL, write bench/results/ (bench/README.md).
## Not part of `make test`. Settings from the environment or the command line: BENCH_DB,
## BENCH_SERVER, BENCH_WORKERS, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_USERS, BENCH_LABEL,
## BENCH_DATA=1m (1,000,000 citizens and 5,000,000 token rows, PostgreSQL).
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(BIN)/python bench/run.py

## Regenerate the initial migration from the models (before the first release only).
migration: $(STAMP)
	rm -rf /tmp/idp-migration && mkdir -p /tmp/idp-migration
	rm -f migrations/versions/0001_initial.py
	IDP_INSTANCE_PATH=/tmp/idp-migration $(BIN)/flask db upgrade
	IDP_INSTANCE_PATH=/tmp/idp-migration $(BIN)/flask db revision --autogenerate \
	  --rev-id 0001 -m initial

clean:
	rm -rf $(VENV) instance
