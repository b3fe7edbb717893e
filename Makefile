# The two commands: `make run` (local board on an embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run test lint typecheck unit bench bench-cold-start bootstrap sync-now clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -q

test: lint typecheck unit

run: venv
	$(BIN)/python -m local.run

# Against a running `make run` stack (default or LOCAL_* ports):
bootstrap: venv  ## re-run the bootstrap; prints fresh demo employer keys
	$(BIN)/python -m local.bootstrap

sync-now: venv  ## fire the sync schedule once and drain the queue
	$(BIN)/python -m local.scheduler --once

bench: bench-cold-start

bench-cold-start: venv
	$(BIN)/python -m bench.cold_start

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
