# Every target works on a fresh clone: the first call creates .venv and installs
# from the repo's own files (requirements*.txt, package.json + package-lock.json).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501

.PHONY: install test lint bench chaos chaos-strong fuzz package policy up env probe run clean

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m bench

chaos: $(STAMP)
	$(BIN)/python -m backend.local.chaos --minutes 10 --report docs/RELIABILITY.md

# The same on an MRSC (multi-Region strong consistency) table: strong reads, region isolation, stale-read check.
chaos-strong: $(STAMP)
	$(BIN)/python -m backend.local.chaos --consistency strong --minutes 10 --report docs/RELIABILITY-MRSC.md

fuzz: $(STAMP)
	FUZZ_EXAMPLES=500 $(BIN)/python -m pytest tests/e2e/test_fuzz_api.py -q

# Offline: package one region's stack, lint it and check it against the deploy policy (deploy/policy/).
# Into .packages/, not .serverless/<region>: osls copies its .serverless staging folder into --package, so a
# folder inside it copies itself until the path is too long (ENAMETOOLONG). cfn-lint's --append-rules takes
# several values: "--" ends them, or the template is read as a rules module.
# PARAMS passes osls params through, e.g. an MRSC table (docs/DEPLOY.md):
#   make policy REGION=us-east-1 PARAMS="--param consistency=strong --param regions=us-east-1,us-east-2,us-west-2 --param primaryRegion=us-east-1"
REGION ?= us-west-2
PARAMS ?=
package: $(STAMP)
	npx --no-install osls package --region $(REGION) --package .packages/$(REGION) $(PARAMS)
	$(BIN)/cfn-lint .packages/$(REGION)/cloudformation-template-update-stack.json

policy: package
	$(BIN)/cfn-lint --append-rules deploy/policy -- .packages/$(REGION)/cloudformation-template-update-stack.json

# The installed entry points; ARGS passes options through (make up ARGS="--network none").
up: $(STAMP)
	$(BIN)/mrkv-local up $(ARGS)

# make env REGION=us-west-2: the export lines for boto3 and the AWS CLI (eval "$(make -s env REGION=...)")
env: $(STAMP)
	@$(BIN)/mrkv-local env $(REGION) $(ARGS)

probe: $(STAMP)
	$(BIN)/mrkv-probe $(ARGS)

run: $(STAMP)
	$(BIN)/python -m streamlit run dashboard/app.py --server.address 127.0.0.1 --server.port $(PORT) \
		--server.headless true --server.enableStaticServing true --browser.gatherUsageStats false

clean:
	rm -rf $(VENV) node_modules .serverless .local
