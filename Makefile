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

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools

$(SITE_STAMP): requirements/base.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements/base.txt
	touch $(SITE_STAMP)

$(STAMP): requirements/base.txt requirements/prod.txt requirements/dev.txt | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP) $(SITE_STAMP)

## run: the site at http://127.0.0.1:8000 (embedded store unless REDIS_URL is set)
run: $(SITE_STAMP)
	DEBUG=true HTTPS=false $(BIN)/python manage.py runserver 127.0.0.1:8000

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
## PyPI's vulnerability data; fails on a finding and on a package it could not check
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
