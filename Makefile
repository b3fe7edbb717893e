# The two commands: `make run` (local board on an embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv browser run test lint typecheck unit bench clean

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

# Debian's chromium drives the end-to-end browser tests (Playwright never downloads its own browser).
browser:
	command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends chromium)

unit: venv browser
	$(BIN)/pytest -q

test: lint typecheck unit

run: venv
	$(BIN)/python -m local.run

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
