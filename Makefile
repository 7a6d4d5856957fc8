# Nullboard developer commands. Each target sets up .venv itself.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: running the site installs only what it needs (base.txt); the tests,
# lint and tools install dev.txt (which includes prod.txt and base.txt).
SITE_STAMP := $(VENV)/.installed-base
STAMP := $(VENV)/.installed
# The JavaScript linter and formatter (Biome), exactly as package-lock.json pins it.
NODE_STAMP := node_modules/.installed
BIOME := node_modules/.bin/biome

.PHONY: run test lint format audit bench collectstatic clean

# The port `make run` serves on: PORT=8001 make run.
PORT ?= 8000

# A first `make run` is timed by tests/perf/first_run.sh. What keeps it short: the venv
# is made without pip (ensurepip installs and compiles pip itself, seconds of work the
# site never uses): pip runs from the wheel the interpreter bundles, as ensurepip does;
# and nothing is compiled to .pyc at install time (most of the tree, Twisted's own tests
# included, is never imported; what the site imports is compiled on its first start).
# The tests and tools get pip in the venv, upgraded, before installing dev.txt.
# (Where the interpreter bundles no wheel, as on some distributions, ensurepip it is.)
BUNDLED_PIP = $(shell $(PYTHON) -c "import ensurepip, glob, os; print(*glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl'))[:1])")
SITE_PIP = $(if $(BUNDLED_PIP),$(BIN)/python $(BUNDLED_PIP)/pip,$(ENSURE_PIP) && $(BIN)/python -m pip)
ENSURE_PIP = { $(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --default-pip >/dev/null; }

$(VENV)/bin/python:
	$(PYTHON) -m venv --without-pip $(VENV)

$(SITE_STAMP): requirements/base.txt | $(VENV)/bin/python
	$(SITE_PIP) install --quiet --no-compile -r requirements/base.txt
	touch $(SITE_STAMP)

$(STAMP): requirements/base.txt requirements/prod.txt requirements/dev.txt | $(VENV)/bin/python
	$(ENSURE_PIP)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP) $(SITE_STAMP)

## run: the site at http://127.0.0.1:$(PORT) (embedded store unless REDIS_URL is set);
## Ctrl+C stops it. DEBUG=false serves what `make collectstatic` gathered, as in
## production, and wants a SECRET_KEY.
DEBUG ?= true
run: $(SITE_STAMP)
	DEBUG=$(DEBUG) HTTPS=false ALLOWED_HOSTS=$${ALLOWED_HOSTS:-localhost,127.0.0.1} \
	  $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

## test: the whole suite on TEST_WORKERS xdist workers, each with its own throwaway
## redis-server (Chromium when present; CI=true requires both). With REDIS_URL set the
## suite uses (and flushes) that Redis instead, in one process.
TEST_WORKERS ?= $(if $(REDIS_URL),0,2)
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(NODE_STAMP)

## lint: ruff (lint and format) and mypy with django-stubs over Python (its plugin imports
## the settings, which want a SECRET_KEY when DEBUG is off); Biome (lint and format) over
## static/ (not static/vendor/)
lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	SECRET_KEY=mypy $(BIN)/mypy
	$(BIOME) ci --error-on-warnings .

## audit: every installed package (the pinned requirements and what they pull in) against
## the package index's vulnerability data; fails on a finding and on a package it could not check
audit: $(STAMP)
	$(BIN)/pip-audit --strict --local --progress-spinner off

format: $(STAMP) $(NODE_STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .
	$(BIOME) check --write .

## bench: one table of every figure, each beside its reference, against real Redis
## (REDIS_URL, db 10 by default, is flushed) and real daphne processes; see docs/scaling.md
bench: $(STAMP)
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/10} $(BIN)/python tests/perf/bench_all.py

collectstatic: $(SITE_STAMP)
	SECRET_KEY=collectstatic $(BIN)/python manage.py collectstatic --noinput

clean:
	rm -rf $(VENV) node_modules staticfiles .pytest_cache .ruff_cache .mypy_cache
