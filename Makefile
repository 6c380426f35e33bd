# ML Stack. `make demo` runs the whole thing offline; `make test` runs every test tier.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
# Node 22 from node_modules first: jsii and the CDK CLI refuse (or warn on) the machine's older Node.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
STAGE ?= dev
CDK   := cdk --context stage=$(STAGE)
# Two workers, handed two tests at a time (slow end-to-end tests first): the end-to-end tier often
# waits on the local AWS. Each worker deploys the session stack once.
PARALLEL := -n 2 --dist load --maxschedchunk 2

.PHONY: setup headless-chromium demo test test-fast lint synth deploy destroy bench iam-report screenshots clean

setup: $(VENV)/.installed node_modules/.installed headless-chromium

# Debian's chromium renders the HTML pages in tests and for docs/img. Installed only when missing
# (apt-get needs root, as on CI; elsewhere through sudo).
headless-chromium:
	@command -v chromium >/dev/null || { \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update -qq && \
		$$sudo env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes \
			apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	test -d $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt constraints-checkov.txt
	test -d $(CHECKOV_VENV) || python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet -r requirements-checkov.txt -c constraints-checkov.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

demo: setup
	$(PY) -m mlstack.cli demo

test: setup
	@mkdir -p build; start=$$(date +%s%N); $(PY) -m pytest $(PARALLEL); rc=$$?; \
	ms=$$(( ($$(date +%s%N) - start) / 1000000 )); \
	printf '{"seconds": %d.%d, "exit_code": %d}\n' $$((ms / 1000)) $$((ms % 1000 / 100)) $$rc > build/test-suite.json; \
	exit $$rc

test-fast: setup
	$(PY) -m pytest $(PARALLEL) -m 'not e2e'

lint: setup $(CHECKOV_VENV)/.installed
	ruff check .
	ruff format --check .
	mypy $(wildcard stacks handlers training mlstack localaws contracts benchmarks) app.py
	rm -rf cdk.out  # scan only this synth's templates, not an older stage's
	$(CDK) synth --quiet
	cfn-lint
	for template in cdk.out/*.template.json; do $(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml -f $$template || exit 1; done

synth: setup
	$(CDK) synth --quiet
	cfn-lint

deploy: setup
	$(CDK) deploy --require-approval never

destroy: setup
	$(CDK) destroy --force

bench: setup
	$(PY) -m benchmarks.run

# The end-to-end runs under IAM enforcement, then docs/IAM.md: each grant and the calls that used it.
iam-report: setup
	rm -rf build/iam && mkdir -p build/iam
	MLSTACK_IAM_LOG_DIR=$(CURDIR)/build/iam $(PY) -m pytest $(PARALLEL) -m e2e -p no:cacheprovider -q
	cdk --context stage=local synth --quiet -o build/iam/cdk.out
	$(PY) -m localaws.iam.report --template build/iam/cdk.out/MlStack-local.template.json \
		--out docs/IAM.md build/iam/access-log-*.jsonl

# docs/img: the top of a built-in dataset's exploration.html and of a run's report.html, as headless Chromium
# shows them, and the report's PNG charts. The report is drawn from a recorded local run's documents
# (mlstack report --from): the page Evaluate wrote for that run, without running the pipeline.
SCREENSHOT_DATASET ?= imbalanced
SCREENSHOT_REPORT ?= tests/cli/fixtures/report
SHOT := build/screenshots
CHROMIUM_SHOT = chromium --headless --disable-gpu --no-sandbox --no-first-run --user-data-dir=$(CURDIR)/$(SHOT)/profile \
	--host-resolver-rules='MAP * ~NOTFOUND' --hide-scrollbars
screenshots: setup
	rm -rf $(SHOT) && mkdir -p $(SHOT)
	$(PY) -m mlstack.cli data prepare $(SCREENSHOT_DATASET) --out $(SHOT)/$(SCREENSHOT_DATASET) >/dev/null
	$(CHROMIUM_SHOT) --window-size=1000,1250 --screenshot=$(CURDIR)/docs/img/exploration.png \
		file://$(CURDIR)/$(SHOT)/$(SCREENSHOT_DATASET)/exploration.html \
		2>$(SHOT)/chromium.log || { cat $(SHOT)/chromium.log; exit 1; }
	$(PY) -m mlstack.cli report --from $(SCREENSHOT_REPORT) --out $(SHOT)/report --png $(SHOT)/report/png >/dev/null
	$(CHROMIUM_SHOT) --window-size=1000,1120 --screenshot=$(CURDIR)/docs/img/report.png \
		file://$(CURDIR)/$(SHOT)/report/report.html \
		2>$(SHOT)/chromium.log || { cat $(SHOT)/chromium.log; exit 1; }
	cp $(SHOT)/report/png/leaderboard.png docs/img/report-leaderboard.png
	cp $(SHOT)/report/png/tuning.png docs/img/report-tuning.png
	cp $(SHOT)/report/png/hyperparameters.png docs/img/report-hyperparameters.png

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache
