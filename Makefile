# pupilguard — `make run` tries it on this machine, `make test` runs every test, `make test-fast` the inner loop.
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
# The first Python >= 3.12 found: PATH first, then pyenv's installs.
PYTHON ?= $(shell for p in python3.13 python3.12 $$HOME/.pyenv/versions/3.1[23]*/bin/python3; do \
             $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; done)

.PHONY: run test test-fast install system-deps services bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	@test -n "$(PYTHON)" || { echo "pupilguard needs Python >= 3.12 (see README: Python 3.11 notes)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Debian packages the tests need: Chromium for the browser tests, PostgreSQL as the production store.
system-deps:
	@bash .ci/system-deps.sh

run: install
	$(VENV)/bin/pupilguard trial

test: install system-deps
	$(VENV)/bin/pytest

# While you work: leaves out what starts pupilguard processes, drives Chromium, needs PostgreSQL or takes seconds on
# its own, shared out to one pytest process per core (pytest-xdist). On a busy machine TEST_WORKERS=0 can be faster:
# each process loads the language model and collects every test itself (README: Contributing).
TEST_WORKERS ?= auto
test-fast: install
	$(VENV)/bin/pytest -n $(TEST_WORKERS) -m "not e2e and not browser and not postgres and not slow"

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache
