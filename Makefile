# Set-up and checks for the moduscloud.azure_sync collection.
# Every target installs what it needs into .venv first, so a fresh machine only needs
# Python 3.11+ with venv, make, git and tar.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := $(CURDIR)/.venv
BIN := $(VENV)/bin
COLLECTIONS := $(CURDIR)/.build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/moduscloud/azure_sync
PYTEST_WORKERS ?= 2

export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS)
export ANSIBLE_NOCOLOR := 1
export PATH := $(BIN):$(PATH)

.PHONY: setup test unit sandbox-tests integration sanity lint changelog-lint changelog demo bench bench-reliability clean

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
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -q --durations=15 tests
	$(MAKE) --no-print-directory sanity lint changelog-lint

unit: setup
	$(BIN)/pytest -q tests/unit

integration: setup
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist worksteal -q tests/integration

# Sanity covers what ships (plugins, roles, playbooks, meta, docs) and the unit tests; the
# sandbox and benchmarks are development tools, tested by pytest instead. Each run works on its
# own copy (ansible-test needs the ansible_collections/NS/NAME path and a git tree of its own).
# ansible-test bootstraps pip in its venvs with a script from a host we cannot reach, so the
# cache slot it checks first gets tests/sanity/get_pip_offline.py, which uses ensurepip instead.
sanity: setup
	mkdir -p $(HOME)/.ansible/test/cache
	version=$$($(BIN)/python -c "import ansible_test._internal.python_requirements as m, re; \
	  print(re.search(r\"pip='([0-9.]+)'\", open(m.__file__).read()).group(1).replace('.', '_'))"); \
	cp tests/sanity/get_pip_offline.py $(HOME)/.ansible/test/cache/get_pip_$$version.py
	set -e; root=$$(mktemp -d $(CURDIR)/.build/sanity.XXXXXX); \
	dest=$$root/ansible_collections/moduscloud/azure_sync; mkdir -p $$dest; \
	git ls-files -co --exclude-standard \
	  | grep -Ev '^(sandbox/|bench/|tests/sandbox/|tests/integration/[^/]+\.py$$|tests/conftest\.py$$|conftest\.py$$)' \
	  | tar -cf - -T - | tar -xf - -C $$dest; \
	cd $$dest && git init -q && git add -A; \
	status=0; $(BIN)/ansible-test sanity --venv --python 3.11 --color no || status=$$?; \
	rm -rf $$root; exit $$status

lint: setup
	$(BIN)/ruff check $(CURDIR)
	$(BIN)/ruff format --check $(CURDIR)
	$(BIN)/ansible-lint --profile production --offline

changelog-lint: setup
	$(BIN)/antsibull-changelog lint

## make changelog: (re)generate the release section of galaxy.yml's version in changelogs/changelog.yaml
## and CHANGELOG.md from every fragment in changelogs/fragments (kept: they stay the source, so an
## added, edited or deleted fragment is reflected on the next run).
CHANGELOG_VERSION = $(shell sed -n 's/^version: *//p' galaxy.yml)
changelog: setup
	cd $(COLLECTION_LINK) && $(BIN)/antsibull-changelog release --version $(CHANGELOG_VERSION) \
	  --update-existing --refresh-fragments --reload-plugins
	$(BIN)/antsibull-changelog lint

## make demo: the main playbook against the bundled sandbox (plan, apply, re-apply).
demo: setup
	cd $(CURDIR) && $(BIN)/python -m sandbox.demo

bench: setup
	$(BIN)/python bench/sync_report.py

bench-reliability: setup
	$(BIN)/python bench/reliability.py

clean:
	rm -rf $(CURDIR)/.build $(VENV)
