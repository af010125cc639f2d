# Test entry points. `make test` is the README's test command and what .ci/run runs:
#   test-2.19, test-2.18   per ansible-core version: venv -> stage -> sanity -> units -> integration
#   gates                  once: lint, build (+ install + ansible-doc + a module run from the installed copy),
#                          galaxy-importer, docs (lint + docsite), changelog, execution environment
# stopping at the first failure. CORE selects the ansible-core minor version of the per-core steps and of lint:
# make sanity CORE=2.18. Every step prints its wall time (scripts/step.sh).
CORE ?= 2.19
CORES := 2.19 2.18
export VENV := $(CURDIR)/.venv/core-$(CORE)
export TOOLS_VENV := $(CURDIR)/.venv/tools
export PATH := $(VENV)/bin:$(PATH)
STEP := scripts/step.sh

# Steps share .build/ and the venvs, so never run them in parallel (even under make -j).
.NOTPARALLEL:
.PHONY: test $(addprefix test-,$(CORES)) core-test gates venv stage sanity units integration lint \
        tools build importer docs changelog ee demo bench

test: $(addprefix test-,$(CORES)) gates
	@echo "==== make test: all steps passed (ansible-core $(CORES) and the gates) ===="

# One ansible-core version: its own venv (.venv/core-X.Y), sanity, unit and integration tests.
$(addprefix test-,$(CORES)):
	@$(MAKE) --no-print-directory core-test CORE=$(@:test-%=%)

core-test: venv stage sanity units integration
	@echo "==== ansible-core $(CORE): sanity, units and integration passed ===="

# The ecosystem's gates, once (lint with ansible-core $(CORE); the tools in .venv/tools).
gates: lint build importer docs changelog ee
	@echo "==== gates passed: ansible-lint, build and install, galaxy-importer, docs, changelog, EE ===="

venv:
	@$(STEP) "venv (ansible-core $(CORE))" scripts/venv.sh $(CORE)

stage:
	@$(STEP) stage scripts/stage.sh

sanity: venv stage
	@$(STEP) "sanity (ansible-test, ansible-core $(CORE))" scripts/sanity.sh

units: venv stage
	@$(STEP) "unit tests (ansible-core $(CORE))" scripts/pytest.sh units

integration: venv stage
	@$(STEP) "integration tests (ansible-core $(CORE))" scripts/pytest.sh integration

# What a contributor types: plain ansible-lint in the repo root (its configuration is .ansible-lint).
lint: venv
	@$(STEP) "ansible-lint (profile production, ansible-core $(CORE))" ansible-lint

# The venv of the gate tools (galaxy-importer, antsibull-docs, antsibull-changelog, ansible-builder, Sphinx).
tools:
	@$(STEP) "tools venv" scripts/mkvenv.sh $(TOOLS_VENV) -r tests/requirements-tools.txt

# ansible-galaxy collection build, install into a fresh collections path, ansible-doc, run by FQCN.
build:
	@$(STEP) "build and install (ansible-galaxy, ansible-doc, FQCN run)" scripts/build.sh

importer: tools build
	@$(STEP) "galaxy-importer" scripts/importer.sh

docs: tools build
	@$(STEP) "docs (antsibull-docs lint, docsite with sphinx -W)" scripts/docs.sh

changelog: tools
	@$(STEP) "changelog (antsibull-changelog lint and release notes)" scripts/changelog.sh

ee: tools build
	@$(STEP) "execution environment (ansible-builder)" scripts/ee.sh

demo:
	@scripts/demo.sh

# Benchmarks, not part of make test (timings belong in benchmarks, not tests): see benchmarks/README.md.
bench: venv stage
	@$(VENV)/bin/python -m pip install -qq --disable-pip-version-check -r benchmarks/requirements.txt
	@$(STEP) benchmarks $(VENV)/bin/python benchmarks/run.py
