# Set-up and checks for the moduscloud.azure_sync collection.
# Every target installs what it needs into .venv first, so a fresh machine only needs
# Python 3.11+ with venv, make, git and tar.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/moduscloud/azure_sync
# ansible-test only runs from a real .../ansible_collections/NS/NAME path (a symlink resolves away).
SANITY_ROOT := $(CURDIR)/.build/sanity/ansible_collections/moduscloud/azure_sync
PYTEST_WORKERS ?= 2

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export PATH := $(BIN):$(PATH)

.PHONY: setup test unit sandbox-tests integration sanity lint changelog-lint demo bench clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

$(COLLECTION_LINK):
	mkdir -p $(dir $@)
	ln -sfn $(CURDIR) $@

setup: $(BIN)/.installed $(COLLECTION_LINK)

## make test: every check CI runs (unit, sandbox, integration, sanity, lint, changelog).
test: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q tests
	$(MAKE) --no-print-directory sanity lint changelog-lint

unit: setup
	$(BIN)/pytest -q tests/unit

integration: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) -q tests/integration

# Sanity covers what ships (plugins, roles, playbooks, meta, docs) and the unit tests; the
# sandbox and benchmarks are development tools, tested by pytest instead.
sanity: setup
	rm -rf $(CURDIR)/.build/sanity && mkdir -p $(SANITY_ROOT)
	git ls-files -co --exclude-standard \
	  | grep -Ev '^(sandbox/|bench/|tests/sandbox/|tests/integration/[^/]+\.py$$|tests/conftest\.py$$|conftest\.py$$)' \
	  | tar -cf - -T - | tar -xf - -C $(SANITY_ROOT)
	cd $(SANITY_ROOT) && $(BIN)/ansible-test sanity --venv --python 3.11 --color no

lint: setup
	$(BIN)/ansible-lint --profile production --offline roles playbooks

changelog-lint: setup
	$(BIN)/antsibull-changelog lint

## make demo: the main playbook against the bundled sandbox (plan, apply, re-apply).
demo: setup
	cd $(CURDIR) && $(BIN)/python -m sandbox.demo

bench: setup
	$(BIN)/python bench/sync_report.py

clean:
	rm -rf $(CURDIR)/.build $(VENV)
