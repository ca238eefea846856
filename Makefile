# Two commands on a fresh clone with Python 3.11: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := idp

.PHONY: run serve demo cluster cluster-stop test e2e interop lint bench migration clean

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

## The IdP and the two demo portals (examples/portal): http://127.0.0.1:5000, :5001 (eservices)
## and :5002 (profile); migrates and seeds instance/ first. Ctrl-C stops all three.
demo: $(STAMP)
	$(BIN)/python examples/portal/run_demo.py

## Run the whole test suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Browser tests (e2e/): Debian's chromium driven by Playwright against the IdP and both demo
## portals on loopback ports; screenshots and logs in e2e/output/. Not part of `make test`.
E2E_STAMP := $(VENV)/.e2e-installed
$(E2E_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,e2e]'
	touch $(E2E_STAMP)

e2e: $(E2E_STAMP)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(BIN)/python -m pytest e2e $(PYTEST_ARGS)

## openid-client 6 (interop/openid-client, versions from its lock file) against a live IdP:
## tests/test_interop_openid_client.py, which `make test` skips until this installed it once.
interop: $(STAMP)
	npm ci --prefix interop/openid-client
	$(BIN)/python -m pytest tests/test_interop_openid_client.py $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check idp tests e2e examples config

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
