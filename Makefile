# dbguard — every command an operator or developer needs. `make help` lists them.
# Each target creates the virtual environments it needs from the pinned requirement files.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell scripts/find-python)
VENV := .venv
TOOLS := .venv-tools
SCANNER := .venv-checkov
BIN := $(VENV)/bin
TOOLS_BIN := $(TOOLS)/bin
SCANNER_BIN := $(SCANNER)/bin
# `sam build` looks for python3.13 on PATH; put the interpreter we found first.
SAM := PATH="$(dir $(PYTHON)):$$PATH" SAM_CLI_TELEMETRY=0 $(TOOLS_BIN)/sam
PIP_INSTALL = python -m pip install --quiet --disable-pip-version-check --no-input

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements-dev.txt layers/common/requirements.txt
	@test -n "$(PYTHON)" || { echo "no suitable python found" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP_INSTALL) -r requirements-dev.txt
	@touch $@

$(TOOLS_BIN)/.installed: requirements-tools.txt
	@test -n "$(PYTHON)" || { echo "no suitable python found" >&2; exit 1; }
	@test -x $(TOOLS_BIN)/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS_BIN)/$(PIP_INSTALL) -r requirements-tools.txt
	@touch $@

# checkov pins boto3 exactly, and not to the SAM CLI's pin: it gets an environment of its own.
$(SCANNER_BIN)/.installed: requirements-checkov.txt
	@test -n "$(PYTHON)" || { echo "no suitable python found" >&2; exit 1; }
	@test -x $(SCANNER_BIN)/python || $(PYTHON) -m venv $(SCANNER)
	$(SCANNER_BIN)/$(PIP_INSTALL) -r requirements-checkov.txt
	@touch $@

.PHONY: venv tools scanner
venv: $(BIN)/.installed ## create .venv (application + test dependencies)
tools: $(TOOLS_BIN)/.installed ## create .venv-tools (AWS SAM CLI)
scanner: $(SCANNER_BIN)/.installed ## create .venv-checkov (checkov, the IaC scanner)

.PHONY: test
test: lint typecheck pytest validate ## everything CI checks: ruff, mypy, the test suite, sam validate --lint, cfn-lint, checkov

.PHONY: lint
lint: venv ## ruff lint and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

.PHONY: typecheck
typecheck: venv ## mypy, strict on the shared package and on each handler (pyproject.toml [tool.mypy])
	$(BIN)/mypy
	@# one run per handler: each is a module named `app`, which mypy refuses to see twice in one run
	@for handler in functions/*/app.py; do echo "mypy $$handler"; $(BIN)/mypy $$handler || exit 1; done

# Workers of the test suite (pytest-xdist): two, this project's reference machine's cores; `0` runs
# it in one process (for `pdb`, or to read one test's output in order).
PYTEST_WORKERS ?= 2

.PHONY: pytest
pytest: venv ## the test suite (unit, contract and integration), PYTEST_WORKERS at once (a free worker takes queued tests from a busy one)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

.PHONY: validate
validate: venv tools scanner ## sam validate --lint, cfn-lint and checkov on template.yaml
	$(SAM) validate --lint --template template.yaml --region eu-central-1
	$(BIN)/cfn-lint template.yaml
	@# --skip-download: offline and reproducible (no Prisma Cloud policies or guideline mappings).
	@# Skipped checks carry their reason in template.yaml (Metadata: checkov: skip:).
	$(SCANNER_BIN)/checkov -f template.yaml --framework cloudformation --quiet --compact --skip-download

.PHONY: build
build: tools ## sam build (arm64 layer and functions into .aws-sam/)
	$(SAM) build --template template.yaml

.PHONY: run
run: venv ## the whole bundle on 127.0.0.1: embedded AWS (moto), API gateway, functions
	$(BIN)/python -m dbguard_local

.PHONY: cmdb-event
cmdb-event: venv ## put a CMDB change on the running local stack's bus: make cmdb-event FILE=events/samples/cmdb-upsert.json
	@test -n "$(FILE)" || { echo "usage: make cmdb-event FILE=events/samples/cmdb-upsert.json" >&2; exit 2; }
	@$(BIN)/python scripts/send_cmdb_event.py $(FILE)

.PHONY: audit-query
audit-query: venv ## a SigV4-signed search of the local stack's audit events: make audit-query Q='name=DROP TABLE' (ALL=1: every page; ID=<event id>; ACCEPT=text/csv)
	@# Q reaches the script through the environment: any quote or space in it stays as written.
	@# The helpers' recipes are not echoed: their stdout is the answer (make audit-query > events.csv).
	@$(BIN)/python scripts/audit_query.py

.PHONY: secret
secret: venv ## a secret of the running local stack (no AWS CLI): the ingest token, or DATABASE=billing-qhb-01 [STAGE=AWSPREVIOUS]
	@$(BIN)/python scripts/local_secret.py

.PHONY: direct-announcements
direct-announcements: venv ## the direct connections the running local stack announced (read from its local queue; no AWS CLI)
	@$(BIN)/python scripts/direct_announcements.py

.PHONY: csv-upload csv-status sources
csv-upload: venv ## put a qhb_audit CSV file in the local stack's bucket: make csv-upload FILE=events/samples/qhb-audit-day.csv SOURCE=qhb-billing-01 (NAME=key's file name)
	@test -n "$(FILE)" -a -n "$(SOURCE)" || { echo "usage: make csv-upload FILE=events/samples/qhb-audit-day.csv SOURCE=qhb-billing-01" >&2; exit 2; }
	$(BIN)/python scripts/csv_files.py upload '$(FILE)' '$(SOURCE)' '$(NAME)'

csv-status: venv ## every CSV file's import progress and the quarantined rows on the local stack
	$(BIN)/python scripts/csv_files.py status

sources: venv ## every audit source, last seen, events in 24 h, silent or not (JSON=1; SOURCES_URL for a deployment)
	$(BIN)/python scripts/audit_sources.py $(if $(filter 1,$(JSON)),--json)

.PHONY: status
status: venv ## rotation status of every database on the running local stack, most urgent first (JSON=1; LIMIT=n; STATUS_URL for a deployment)
	@$(BIN)/python scripts/rotation_status.py $(if $(filter 1,$(JSON)),--json)

.PHONY: rotate
rotate: venv ## rotate now on the running local stack: make rotate DATABASES='billing-qhb-01' (or all; FORCE=1 within ConsumerCacheSeconds)
	@test -n "$(DATABASES)" || { echo "usage: make rotate DATABASES='billing-qhb-01' (or all)" >&2; exit 2; }
	@$(BIN)/python scripts/rotate.py $(DATABASES)

.PHONY: token-status
token-status: venv ## where a token stands on the local stack: make token-status DATABASE=billing-qhb-01 TOKEN_ID=<id> (exit 0: revoked)
	@test -n "$(DATABASE)" -a -n "$(TOKEN_ID)" || { echo "usage: make token-status DATABASE=billing-qhb-01 TOKEN_ID=<connection token id>" >&2; exit 2; }
	@$(BIN)/python scripts/token_status.py $(DATABASE) $(TOKEN_ID)

# The tamper-evident audit trail (docs/audit-digests.md): against the running local stack, or a
# deployment with STACK=<stack name> and your AWS credentials (verify-audit, export-audit).
.PHONY: verify-audit export-audit audit-demo audit-digest audit-tamper
verify-audit: venv ## check the signed hourly digests FROM..TO (UTC hours, e.g. 2026-12-07T01) against the audit table (STACK=, ARGS='--json')
	@test -n "$(FROM)" -a -n "$(TO)" || { echo "usage: make verify-audit FROM=2026-12-07T00 TO=2026-12-07T23 [STACK=name]" >&2; exit 2; }
	$(BIN)/python scripts/audit_trail.py verify $(FROM) $(TO) $(ARGS)

export-audit: venv ## digests and events FROM..TO as JSON Lines into OUT, for offline verification (STACK=)
	@test -n "$(FROM)" -a -n "$(TO)" -a -n "$(OUT)" || { echo "usage: make export-audit FROM=... TO=... OUT=dir" >&2; exit 2; }
	$(BIN)/python scripts/audit_trail.py export $(FROM) $(TO) --out $(OUT)

audit-demo: venv ## local stack: store sample events as if an hour ago and digest that hour
	$(BIN)/python scripts/audit_trail.py demo

audit-digest: venv ## local stack: run audit_digest now
	$(BIN)/python scripts/audit_trail.py digest

audit-tamper: venv ## local stack: tamper with one stored event (ACTION=change|delete|insert|copy, HOUR=; default: the last hour)
	$(BIN)/python scripts/audit_trail.py tamper $(or $(ACTION),change) $(HOUR)

.PHONY: jumpserver-sim
jumpserver-sim: venv ## a JumpServer simulator on 127.0.0.1 (JMS_SIM_PORT, JMS_SIM_VERSION v3|v4, JMS_SIM_TOKEN)
	$(BIN)/python -m jumpserver_sim

.PHONY: contract-real
contract-real: venv ## the JumpServer contract tests against your server (JUMPSERVER_CONTRACT_URL, _TOKEN, _VERSION=v3|v4)
	scripts/contract-real

.PHONY: bench
bench: venv ## performance ratios against baselines measured in the same run (minutes: it says how long, and where it is)
	$(BIN)/python -m bench

# The long reliability runs (docs/reliability.md); short versions run in `make pytest`.
# Arguments: make loadtest ARGS='--events 5000 --seed 7' (each runner's --help lists them).
.PHONY: loadtest chaos-cmdb chaos-rotation
loadtest: venv ## 20,000 events through the local stack with storage faults and Lambda restarts (ARGS=...)
	$(BIN)/python -m chaos.loadtest $(ARGS)

chaos-cmdb: venv ## 500 CMDB changes, redelivered and out of order, while JumpServer fails (ARGS=...)
	$(BIN)/python -m chaos.cmdb $(ARGS)

chaos-rotation: venv ## 200 databases rotated repeatedly while JumpServer and AWS fail (ARGS=...)
	$(BIN)/python -m chaos.rotation $(ARGS)

.PHONY: schemas
schemas: venv ## regenerate the JSON Schemas in docs/schemas/ from the models
	$(BIN)/python scripts/generate_schemas.py

.PHONY: openapi
openapi: venv ## regenerate docs/openapi.json (scripts/generate_openapi.py: the audit API's routes and models)
	AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local $(BIN)/python scripts/generate_openapi.py

.PHONY: dashboard
dashboard: venv ## rewrite the CloudWatch dashboard in template.yaml from the metric catalogue (scripts/generate_dashboard.py)
	$(BIN)/python scripts/generate_dashboard.py

.PHONY: events
events: venv ## regenerate the sample events in events/
	$(BIN)/python scripts/generate_events.py

.PHONY: format
format: venv ## apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

.PHONY: lock
lock: ## re-resolve the pinned closures from requirements-*.in
	scripts/lock "$(PYTHON)"

.PHONY: clean
clean: ## remove build output and virtual environments
	rm -rf .aws-sam $(VENV) $(TOOLS) $(SCANNER) .pytest_cache .ruff_cache
