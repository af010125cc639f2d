# Test entry points. `make test` is the README's test command and what .ci/run runs:
# venv -> stage -> sanity -> units -> integration -> lint, stopping at the first failure.
# CORE selects the ansible-core minor version: make test CORE=2.18
CORE ?= 2.19
export VENV := $(CURDIR)/.venv/core-$(CORE)
export PATH := $(VENV)/bin:$(PATH)
STEP := scripts/step.sh

# Steps share .build/ and the venv, so never run them in parallel (even under make -j).
.NOTPARALLEL:
.PHONY: test venv stage sanity units integration lint demo bench

test: venv stage sanity units integration lint
	@echo "==== make test: all steps passed (ansible-core $(CORE)) ===="

venv:
	@$(STEP) "venv (ansible-core $(CORE))" scripts/venv.sh $(CORE)

stage:
	@$(STEP) stage scripts/stage.sh

sanity: venv stage
	@$(STEP) "sanity (ansible-test)" scripts/sanity.sh

units: venv stage
	@$(STEP) "unit tests" scripts/pytest.sh units

integration: venv stage
	@$(STEP) "integration tests" scripts/pytest.sh integration

# The staged copy makes this collection resolvable (module_defaults groups, FQCNs)
# for ansible-lint's syntax checks, which run offline (see .ansible-lint).
lint: venv stage
	@$(STEP) "ansible-lint (production profile)" env ANSIBLE_COLLECTIONS_PATH=$(CURDIR)/.build ansible-lint

demo:
	@scripts/demo.sh

# Benchmarks, not part of make test (timings belong in benchmarks, not tests): see benchmarks/README.md.
bench: venv stage
	@$(VENV)/bin/python -m pip install -qq --disable-pip-version-check -r benchmarks/requirements.txt
	@$(STEP) benchmarks $(VENV)/bin/python benchmarks/run.py
