# Two entry points for a fresh machine: `make demo` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install system-deps demo test lint typecheck bench drills clean

system-deps:
	@bash scripts/install-system-deps.sh

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	@bash scripts/install-system-deps.sh
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/egov demo --out out

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -n 2 -q -m "not bench_smoke"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m pytest -q -m bench_smoke tests/bench
	$(BIN)/python -m bench

# The drills at ten times the default scale (fault matrix, crash at every step, fuzzing, differential),
# then the load run of bench e (the gateway simulator under 64 clients, bounded to about 10 s).
drills: $(STAMP)
	EGOV_DRILL_SCALE=10 $(BIN)/python -m pytest -n 2 -q -o timeout=0 tests/drills/
	$(BIN)/python -m bench.gateway_load

clean:
	rm -rf $(VENV) out .pytest_cache
