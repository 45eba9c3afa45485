# Pledgeflow developer entry points.
#
#   make run          create .venv, install the locked runtime deps, serve on http://127.0.0.1:8000
#   make test         create .venv, install runtime+dev deps, chromium (apt), lint + types, then the whole test
#                     suite against a throwaway PostgreSQL (scripts/with-postgres.sh)
#   make bench        quick benchmarks (< 5 min): create .venv, install runtime+bench deps, wrk (apt), then
#                     bench/run.py --quick against a throwaway PostgreSQL; rewrites bench/results/*.json and
#                     BENCHMARKS.md
#   make bench-full   the same at full size (1 M pledges, 12 s bursts, the district-size year and 10× it on
#                     PostgreSQL): tens of minutes (the sweep alone takes about 7)
#   make audit        pip-audit over requirements*.lock (also run by `make lint`; see the audit target)
#   make lock         regenerate requirements.lock / requirements-dev.lock from pyproject.toml
#                     (keeps current pins where possible; `make lock LOCK_ARGS=--upgrade` bumps all,
#                     `make lock LOCK_ARGS="--upgrade-package fastapi"` bumps one)
#
# Installs are stamped inside .venv: they re-run only when the lock file or pyproject.toml
# changes (or .venv is deleted).

SHELL := /bin/bash

PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
STAMP_RUNTIME := $(VENV)/.installed-runtime
STAMP_DEV := $(VENV)/.installed-dev
STAMP_BENCH := $(VENV)/.installed-bench

# Tools used only by `make lock`, in a throwaway venv.
LOCK_TOOLS ?= pip==26.3 pip-tools==7.6.2
LOCK_ARGS ?=
AUDIT_STRICT ?=
PIP_COMPILE_FLAGS := --quiet --strip-extras --no-emit-index-url --no-emit-find-links --no-emit-trusted-host

.PHONY: install install-dev install-bench run test lint audit lock bench bench-full clean browser wrk

install: $(STAMP_RUNTIME)

install-dev: $(STAMP_DEV)

install-bench: $(STAMP_BENCH)

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP_RUNTIME): requirements.lock pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements.lock
	$(PIP) install --no-deps -e .
	touch $@

$(STAMP_DEV): requirements-dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements-dev.lock
	$(PIP) install --no-deps -e .
	touch $@

$(STAMP_BENCH): requirements-bench.lock pyproject.toml | $(BIN)/python
	$(PIP) install -r requirements-bench.lock
	$(PIP) install --no-deps -e .
	touch $@

run: install
	mkdir -p var && $(BIN)/pledgeflow serve --demo --host 127.0.0.1 --port 8000

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/mypy workflow definitions services notifications
	$(BIN)/lint-imports
	$(MAKE) --no-print-directory audit

# Known vulnerabilities in the pinned dependencies (scripts/audit.py runs pip-audit over every requirements*.lock,
# PyPI's vulnerability data by default, `AUDIT_SERVICE=osv` for OSV):
#   - a known vulnerability in any pin fails (exit 1), naming the package, the advisory and the fixed versions;
#   - pins that could not be checked print "pip-audit: NOT CHECKED — N of M pinned packages …" and do NOT fail.
# Why not fail: this machine, the developers' and CI's reach only package registries; PyPI answers there, but not
# its per-version JSON that carries the vulnerability data, and OSV cannot be reached, so every pin comes back
# "could not be audited" (which pip-audit itself reports as success). A lint that always failed here would block
# every change for a reason outside the code, so the gap is printed plainly instead. On a machine that does reach
# a vulnerability database, `make audit AUDIT_STRICT=1` (or `make lint AUDIT_STRICT=1`) fails (exit 2) on any pin
# left unchecked.
audit: install-dev
	AUDIT_STRICT=$(AUDIT_STRICT) $(BIN)/python scripts/audit.py

# The browser tests drive Debian's chromium (Playwright's own download cannot work offline) and
# need a CJK font for the screenshots; both come from apt when missing.
browser:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || (apt-get update && apt-get install -y fonts-noto-cjk)

# Two workers (pytest-xdist), a test file to each in turn: most tests wait on a server, a browser or
# a subprocess, so the second core is otherwise idle. `PYTEST_ARGS="-n 0"` runs them in one process.
PYTEST_ARGS ?= -n 2 --dist loadfile
test: install-dev lint browser
	bash scripts/with-postgres.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

# The HTTP benchmark drives the server with Debian's wrk (a native load generator: a Python client would be
# the bottleneck); it comes from apt when missing.
wrk:
	command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)

# Every benchmark in turn (bench/run.py), PostgreSQL included: results in bench/results/*.json, tables and the
# "Targets at a glance" summary in BENCHMARKS.md.
bench: install-bench wrk
	bash scripts/with-postgres.sh $(BIN)/python bench/run.py --quick

bench-full: install-bench wrk
	bash scripts/with-postgres.sh $(BIN)/python bench/run.py

lock:
	set -euo pipefail; \
	tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PY) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install --quiet --disable-pip-version-check $(LOCK_TOOLS); \
	export CUSTOM_COMPILE_COMMAND="make lock"; \
	"$$tmp/venv/bin/pip-compile" $(PIP_COMPILE_FLAGS) $(LOCK_ARGS) \
		-o requirements.lock pyproject.toml; \
	"$$tmp/venv/bin/pip-compile" $(PIP_COMPILE_FLAGS) $(LOCK_ARGS) --extra dev \
		-c requirements.lock -o requirements-dev.lock pyproject.toml; \
	"$$tmp/venv/bin/pip-compile" $(PIP_COMPILE_FLAGS) $(LOCK_ARGS) --extra bench \
		-c requirements.lock -o requirements-bench.lock pyproject.toml
	@echo "requirements*.lock regenerated; run 'make install-dev' to apply."

# Leaves var/ (the local SQLite database) alone.
clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .import_linter_cache htmlcov
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
