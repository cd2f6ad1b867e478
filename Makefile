# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two installs: the demo's (the package and the fonts of its PDFs) and the tests' (the dev extra and
# the Debian packages only the tests use: xmlsec1, the PostgreSQL server binaries, redis, curl, promtool).
DEMO_STAMP := $(VENV)/.installed-demo
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install system-deps demo test lint typecheck bench drills clean

system-deps:
	@bash scripts/install-system-deps.sh test

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(DEMO_STAMP): pyproject.toml scripts/install-system-deps.sh | $(BIN)/python
	@bash scripts/install-system-deps.sh demo
	$(BIN)/python -m pip install -q -e .
	touch $(DEMO_STAMP)

$(TEST_STAMP): pyproject.toml scripts/install-system-deps.sh | $(BIN)/python
	@bash scripts/install-system-deps.sh test
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(TEST_STAMP) $(DEMO_STAMP)

install: $(TEST_STAMP)

demo: $(DEMO_STAMP)
	$(BIN)/egov --log-level WARNING demo --out out

test: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q -m "not bench_smoke"

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -m bench_smoke tests/bench
	$(BIN)/python -m bench

# The drills at ten times the default scale (fault matrix, crash at every step, fuzzing, differential),
# then the load run of bench e (the gateway simulator under 64 clients, bounded to about 10 s).
drills: $(TEST_STAMP)
	EGOV_DRILL_SCALE=10 $(BIN)/python -m pytest -n 2 -q -o timeout=0 tests/drills/
	$(BIN)/python -m bench.gateway_load

clean:
	rm -rf $(VENV) out .pytest_cache
