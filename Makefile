# The two commands of the README: `make synth` and `make test`. Both set up what they need.
PROFILE ?= dev
VENV := .venv
PYTHON ?= $(shell scripts/find-python.sh)
CDK := npx --no-install cdk

export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
# jsii warns about Node 20 on every start; the CDK CLI pinned here supports it.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1

.PHONY: synth test lint format diff deploy review bench cost clean dag-test check-dags

## synth: set up, synthesize every stack of PROFILE (default dev; several: PROFILE=dev,prod; every
## profile of cdk.json: PROFILE=all) into cdk.out/, print a summary. cdk.json is read first, so that
## a syntax error points at its line; a DAG file of the profiles that does not compile fails it.
synth: $(VENV)/.app-installed node_modules/.installed
	@python -m platform_config cdk.json
	$(CDK) synth --quiet -c profile=$(if $(filter all,$(PROFILE)),$$(python -m tools.workflows profiles),$(PROFILE))

## test: set up, then lint, format check and the whole test suite (one pytest worker per core)
test: $(VENV)/.dev-installed node_modules/.installed
	ruff check .
	ruff format --check .
	lint-imports --no-logo --no-cache
	mypy
	python -m pytest -n auto

## diff / deploy: for an AWS account (credentials in the environment), PROFILE=dev|prod|...
## deploy imports every DAG of PROFILE first (check-dags) and stops before any stack changes.
diff: $(VENV)/.app-installed node_modules/.installed
	$(CDK) diff --all -c profile=$(PROFILE)

# With CI=true (set by GitHub Actions and CodeBuild): no approval prompt, outputs to a file.
DEPLOY_CI_FLAGS := $(if $(filter true,$(CI)),--require-approval never --outputs-file cdk-outputs-$(PROFILE).json)

deploy: $(VENV)/.dev-installed node_modules/.installed
	python -m tools.check_dags --profile "$(PROFILE)"
	$(CDK) deploy --all -c profile=$(PROFILE) $(DEPLOY_CI_FLAGS)

## failover: PROFILE=<standby> (a profile another one names as its standby): deploy its stacks, restore
##           its primary's newest replicated backup into it, run the smoke check (docs/disaster-recovery.md).
##           DRY_RUN=1 deploys nothing and only plans the restore; ALLOW_GAPS=1, KEEP_PAUSED=1 pass through.
.PHONY: failover
failover: $(VENV)/.dev-installed node_modules/.installed
	@test "$(origin PROFILE)" != "file" || { echo "usage: make failover PROFILE=<standby profile> [DRY_RUN=1]" >&2; exit 2; }
	python -m tools.failover "$(PROFILE)"$(if $(DRY_RUN), --dry-run)$(if $(ALLOW_GAPS), --allow-gaps)$(if $(KEEP_PAUSED), --keep-paused)

## review: offline change report, BASE (a git ref) against the working tree, for every profile of
##         either side's cdk.json (or PROFILE=dev,prod); FORMAT=markdown|json,
##         FAIL_ON=update|replacement, OUTPUT=file. The CDK's diff engine runs from node_modules.
review: $(VENV)/.dev-installed node_modules/.installed
	@test -n "$(BASE)" || { echo "usage: make review BASE=<git ref> [PROFILE=dev,prod] [FORMAT=markdown|json] [FAIL_ON=update|replacement]" >&2; exit 2; }
	python -m tools.review --base "$(BASE)" --format $(or $(FORMAT),markdown) \
		$(if $(filter-out file,$(origin PROFILE)),--profile "$(PROFILE)") \
		$(if $(FAIL_ON),--fail-on $(FAIL_ON)) $(if $(OUTPUT),--output "$(OUTPUT)")

## bench: synth time of the default profile against an empty CDK app, and of 1, 2, 4 and 8 profiles
bench: $(VENV)/.app-installed node_modules/.installed
	python scripts/bench_synth.py

## dag-test: run one DAG locally, once, offline (AWS calls go to a local moto server), no retries, one
##           line per task: DAG=<dag_id> [PROFILE=<profile>] [AWS=1: real AWS] [TIMEOUT=<seconds>]
dag-test: $(VENV)/.dev-installed
	python -m tools.dag_test "$(DAG)"$(if $(filter-out file,$(origin PROFILE)), --profile "$(PROFILE)")$(if $(AWS), --aws)$(if $(TIMEOUT), --timeout "$(TIMEOUT)")

## check-dags: import every DAG folder of every profile, or of PROFILE (also part of make test)
check-dags: $(VENV)/.dev-installed
	python -m tools.check_dags $(if $(filter-out file,$(origin PROFILE)),--profile "$(PROFILE)")

## new-team: add a team by data: NAME=<name> [REGION=<region>] [OWNERS="@org/team ..."] writes its
##           profile into cdk.json, a DAG folder with an example DAG and its test, a requirements
##           file, CODEOWNERS lines; regenerates the deploy workflow and policies/ (docs/teams.md)
.PHONY: new-team
new-team: $(VENV)/.dev-installed node_modules/.installed
	@test -n "$(NAME)" || { echo "usage: make new-team NAME=<name> [REGION=<region>] [OWNERS=@org/team]" >&2; exit 2; }
	python -m tools.new_team "$(NAME)" $(if $(REGION),--region "$(REGION)") $(if $(OWNERS),--owners "$(OWNERS)")

## policies: regenerate policies/ (the CloudFormation execution policy for `cdk bootstrap`, one
##           operator policy per profile) from the synthesized templates and permissions/
.PHONY: policies
policies: $(VENV)/.dev-installed node_modules/.installed
	python -m tools.permissions.policies

## cost: monthly cost estimate of PROFILE (comma-separated; default: every profile in cdk.json)
cost: $(VENV)/.app-installed
	python -m mwaa_ops.cost $(if $(filter file,$(origin PROFILE)),,--profile $(PROFILE))

format: $(VENV)/.dev-installed
	ruff check --fix .
	ruff format .

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip

# The project itself is installed editable (no dependencies of its own beyond those pinned
# above): it puts the mwaa-ops command into .venv/bin.
$(VENV)/.app-installed: requirements.txt constraints.txt pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -r requirements.txt -c constraints.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(VENV)/bin/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.app-installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf cdk.out .pytest_cache
