# hci.arc_ml — developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# The collection must sit at ansible_collections/hci/arc_ml for Ansible and pytest to import it.
COLL_ROOT := .build/collections
COLL_LINK := $(COLL_ROOT)/ansible_collections/hci/arc_ml
# ansible-test runs on a copy outside the work tree (inside it, ansible-test would ask this repository's git
# for the file list, which .gitignore hides), one copy per run so parallel runs do not collide. The copy
# holds the collection content and its ansible-test layout: unit, sanity and integration targets
# (tests/integration/targets); the sandbox (with its own tests), the benchmark and the pytest integration and
# reliability suites are development tools that are not shipped (galaxy.yml build_ignore). A Perl regex:
# tests/integration/ is left out except its targets.
SANITY_EXCLUDE := ^(sandbox|bench|tests/reliability|\.ci)/|^tests/integration/(?!targets/)
# Copies the collection to "$$root" (a variable of the recipe's shell): the files git knows or would know.
COPY_COLLECTION = { git ls-files; git ls-files --others --exclude-standard; } | grep -Pv '$(SANITY_EXCLUDE)' \
	| while IFS= read -r f; do [ -e "$$f" ] && printf '%s\0' "$$f"; done \
	| tar --null -T - -cf - | tar -xf - -C "$$root"
TESTBED_BUILD := sandbox/k8s/build.sh
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLL_ROOT)
export PYTHONDONTWRITEBYTECODE := 1

MOLECULE_DIR := $(CURDIR)/.build/molecule-sandbox
DEMO_DIR := .sandbox
DEMO_SITES := sandbox/sites/demo.yml
TARGETS_SITES := tests/integration/targets/setup_sandbox/files/sites.yml
# `make integration-targets TARGETS="node_taint ml_compute"` runs only those targets.
TARGETS ?=

.PHONY: help venv collection testbed demo demo-down molecule lint ruff ansible-lint changelog-lint sanity units integration integration-targets sandbox-units sandbox-tests test build clean bench reliability reliability-quick browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-20s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@echo "== bootstrapping $(VENV) from the package registries"
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

venv: $(STAMP) ## create .venv with the pinned development tools

collection: ## link the working tree as ansible_collections/hci/arc_ml
	@mkdir -p $(dir $(COLL_LINK))
	@ln -sfn $(CURDIR) $(COLL_LINK)

testbed: ## build the Kubernetes testbed binaries (cached outside the repo)
	@bash $(TESTBED_BUILD) >/dev/null

demo: $(STAMP) collection ## the main job on the embedded sandbox: site.yml on three demo sites, then the report
	@echo "== starting the sandbox ($(DEMO_SITES)); the first run builds the Kubernetes testbed (about 11 min)"
	@$(PY) -m sandbox up --sites $(DEMO_SITES) --dir $(DEMO_DIR)
	@echo "== ansible-playbook playbooks/site.yml"
	@set -a && . $(DEMO_DIR)/env.sh && set +a && PATH=$(CURDIR)/$(BIN):$$PATH \
	  $(BIN)/ansible-playbook -i $(DEMO_DIR)/inventory.yml playbooks/site.yml
	@echo "== ansible-playbook playbooks/report.yml"
	@set -a && . $(DEMO_DIR)/env.sh && set +a && PATH=$(CURDIR)/$(BIN):$$PATH \
	  $(BIN)/ansible-playbook -i $(DEMO_DIR)/inventory.yml playbooks/report.yml -e arcml_report_dir=$(CURDIR)/$(DEMO_DIR)/report
	@echo
	@echo "Done. The fleet report: $(CURDIR)/$(DEMO_DIR)/report/fleet-report.html (and fleet-report.md)"
	@echo "Try again (changes nothing):  . $(DEMO_DIR)/env.sh && $(BIN)/ansible-playbook -i $(DEMO_DIR)/inventory.yml playbooks/site.yml"
	@echo "Stop the sandbox:             make demo-down   (state stays in $(DEMO_DIR))"

demo-down: ## stop the demo sandbox
	@$(PY) -m sandbox down --dir $(DEMO_DIR)

lint: ruff ansible-lint changelog-lint ## ruff, ansible-lint (production profile), changelog lint

ruff: $(STAMP)
	@echo "== ruff"
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check --quiet .

ansible-lint: $(STAMP) collection
	@echo "== ansible-lint (production profile)"
	@PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/ansible-lint --offline --profile production --nocolor -q

changelog-lint: $(STAMP)
	@echo "== antsibull-changelog lint"
	@$(BIN)/antsibull-changelog lint

sanity: $(STAMP) ## ansible-test sanity from a copy at ansible_collections/hci/arc_ml
	@echo "== ansible-test sanity"
	@$(PY) tests/sanity/get_pip.py --install
	@base=$$(mktemp -d "$${TMPDIR:-/tmp}/hci-arc-ml-sanity.XXXXXX") && root=$$base/ansible_collections/hci/arc_ml \
	  && trap 'rm -rf "$$base"' EXIT && mkdir -p "$$root" \
	  && $(COPY_COLLECTION) \
	  && cd "$$root" && PATH=$(CURDIR)/$(BIN):$$PATH $(CURDIR)/$(BIN)/ansible-test sanity \
	     --venv --python 3.11 --color no --truncate 0

units: $(STAMP) collection ## unit tests (the collection's, and bench/tests: the fleet projection of bench/scale.py)
	@$(PY) tests/run_pytest.py units tests/unit bench/tests

# The report's screenshot test looks at the HTML in a real headless browser: Debian's chromium-headless-shell,
# installed here when no Chromium is on PATH and the machine lets us (root with apt-get). ARCML_BROWSER names another.
browser: ## a headless Chromium for the fleet report's screenshot test (Debian: chromium-headless-shell)
	@if [ -n "$$ARCML_BROWSER" ] || command -v chromium-headless-shell chromium chromium-browser google-chrome >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "== installing chromium-headless-shell (Debian package)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends chromium-headless-shell >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium-headless-shell >/dev/null; }; \
	else echo "!! no headless Chromium: install Debian's chromium-headless-shell or set ARCML_BROWSER"; exit 1; fi

integration: $(STAMP) collection testbed browser ## integration tests (Kubernetes testbed + Azure sandbox + headless browser)
	@$(PY) tests/run_pytest.py integration tests/integration

# The sandbox starts on its own sites file; env.sh is exported, and since ansible-test gives ansible-playbook a
# clean environment, its variables also go into tests/integration/integration_config.yml of the copy (with the
# sandbox's directory), which ansible-test hands every target; setup_sandbox reads the rest from there.
integration-targets: $(STAMP) testbed ## ansible-test integration: one target per module against its own sandbox
	@echo "== ansible-test integration (tests/integration/targets)"
	@base=$$(mktemp -d "$${TMPDIR:-/tmp}/hci-arc-ml-targets.XXXXXX") && root=$$base/ansible_collections/hci/arc_ml \
	  && sandbox=$$base/sandbox \
	  && trap 'cd $(CURDIR) && $(PY) -m sandbox down --dir "$$sandbox" >/dev/null 2>&1; rm -rf "$$base"' EXIT \
	  && mkdir -p "$$root" && $(COPY_COLLECTION) \
	  && $(PY) -m sandbox up --sites $(TARGETS_SITES) --dir "$$sandbox" >/dev/null \
	  && set -a && . "$$sandbox/env.sh" && set +a \
	  && (umask 077 && $(PY) -c 'import json, os, sys; print(json.dumps({"sandbox_dir": sys.argv[1], \
	     "sandbox_env": {name: os.environ[name] for name in sys.argv[2:]}}, indent=2))' "$$sandbox" \
	     $$(sed -n 's/^export \([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$$sandbox/env.sh" | grep -vx PATH) \
	     > "$$root/tests/integration/integration_config.yml") \
	  && cd "$$root" && PATH=$(CURDIR)/$(BIN):$$PATH $(CURDIR)/$(BIN)/ansible-test integration \
	     --local --python 3.11 --color no $(TARGETS)

sandbox-units: $(STAMP) ## the sandbox's own unit tests (sandbox/tests/unit)
	@$(PY) tests/run_pytest.py sandbox-units sandbox/tests/unit

sandbox-tests: $(STAMP) testbed ## the sandbox's own tests: units, emulator contract, testbed, `sandbox up`
	@$(PY) tests/run_pytest.py sandbox-tests sandbox/tests

test: $(STAMP) ## every gate; non-zero if any fails
	@$(PY) tests/run_gates.py ruff ansible-lint changelog-lint sanity units sandbox-tests integration \
	  integration-targets molecule reliability

reliability: $(STAMP) collection testbed ## the reliability suite (make test runs it): faults, SIGKILL at 4 points, bad inputs, secret scan, AWX (about 9 min on a 2-core machine, 15 under load)
	@$(PY) tests/run_pytest.py reliability tests/reliability

reliability-quick: $(STAMP) collection testbed ## while developing: the reliability tests not marked slow (bad inputs, secret scan, EE context; about 1 min)
	@$(PY) tests/run_pytest.py reliability-quick tests/reliability -m "not slow"

BENCH_SIZES ?= 1,5,10
bench: $(STAMP) collection testbed ## fleet benchmark of site.yml (BENCH_SIZES=1,5,10,20): table + bench/results/<time>.json
	@$(PY) -m bench --sizes $(BENCH_SIZES)

molecule: $(STAMP) collection testbed ## the molecule scenario (converge, idempotence, verify) on its own sandbox
	@echo "== molecule test -s sandbox"
	@$(PY) -m sandbox up --sites $(DEMO_SITES) --dir $(MOLECULE_DIR) >/dev/null
	@set -a && . $(MOLECULE_DIR)/env.sh && set +a && cd extensions && PATH=$(CURDIR)/$(BIN):$$PATH \
	  $(CURDIR)/$(BIN)/molecule test -s sandbox; rc=$$?; cd $(CURDIR) && $(PY) -m sandbox down --dir $(MOLECULE_DIR) >/dev/null; exit $$rc

build: $(STAMP) ## build the collection tarball
	@$(BIN)/ansible-galaxy collection build --force --output-path .build/dist .

clean: ## remove build output (keeps .venv and the testbed cache)
	rm -rf .build .pytest_cache .ruff_cache
