# stackgen: the two README commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stackgen-installed
DEMO_OUT ?= demo-out
PYTEST_ARGS ?=

.PHONY: venv runtime-venv controlplane demo test test-unit golden bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# ./.venv-runtime: vLLM's CPU build + stackgen[runtime]; wheels cached under $STACKGEN_CACHE (~/.cache/stackgen).
runtime-venv:
	bash scripts/runtime-venv.sh

# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok built from the Go module
# proxy, cached by version under $STACKGEN_CACHE/controlplane (a no-op once built).
controlplane:
	bash tools/controlplane/build.sh

demo: venv
	@rm -rf $(DEMO_OUT) && mkdir -p $(DEMO_OUT)
	$(BIN)/stackgen init --non-interactive --answers examples/hybrid/answers.yaml -o $(DEMO_OUT)/stackgen.yaml
	$(BIN)/stackgen plan -f $(DEMO_OUT)/stackgen.yaml
	$(BIN)/stackgen render -f $(DEMO_OUT)/stackgen.yaml -o $(DEMO_OUT)/manifests
	$(BIN)/stackgen lint $(DEMO_OUT)/manifests --crds ../shared/crds

# The CRD tests fail instead of skipping when ../shared/crds is missing (tests/_require.py);
# `make test STACKGEN_REQUIRE_CRDS=0` lets them skip on a machine without ../shared.
STACKGEN_REQUIRE_CRDS ?= 1

test: venv controlplane runtime-venv
	STACKGEN_REQUIRE_CRDS=$(STACKGEN_REQUIRE_CRDS) $(BIN)/python -m pytest -q $(PYTEST_ARGS)

test-unit: venv
	$(BIN)/python -m pytest -q tests/unit $(PYTEST_ARGS)

bench: venv
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .hypothesis

golden: venv
	@for e in llm-only hybrid platform; do \
	  $(BIN)/stackgen render -q --force -f examples/$$e/stackgen.yaml -o tests/golden/$$e || exit 1; done
