# Two commands matter to a newcomer: `make demo` and `make test`. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE ?= copy
# uv from PATH when it works; otherwise bootstrapped from PyPI into .tools/ (pyenv shims can shadow a missing uv).
UV := $(shell uv --version >/dev/null 2>&1 && echo uv || echo .tools/bin/uv)
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: help install demo test lint format audit messages check-deploy clean screenshots

help:
	@echo "make demo    - migrate, seed demo data, serve on http://127.0.0.1:8000/admin/"
	@echo "make test    - run the whole test suite (benchmark suites too with RUN_BENCHMARKS=1)"
	@echo "make lint    - ruff (lint + format check) and a dependency audit"
	@echo "make format  - apply ruff fixes and formatting"
	@echo "make install - create .venv with uv from uv.lock"
	@echo "make screenshots - run the browser tour and refresh docs/screenshots/"

.tools/bin/uv:
	@echo "uv not found: installing it from PyPI into .tools/"
	"$$(bin/find-python)" -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check uv

.venv/.installed: pyproject.toml uv.lock | $(if $(filter .tools/bin/uv,$(UV)),.tools/bin/uv)
	$(UV) sync --frozen --python "$$(bin/find-python)"
	@touch $@

install: .venv/.installed

demo: install
	bin/demo

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(UV) lock --check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	$(MAKE) audit

audit: install
	mkdir -p var
	$(UV) export --frozen --format requirements-txt --no-emit-project --no-hashes --quiet > var/requirements-audit.txt
	$(PY) bin/audit var/requirements-audit.txt

format: install
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# The browser tour (tests/e2e/test_tour.py) writes one 1280x800 PNG per step to docs/screenshots/.
screenshots: install
	SCREENSHOTS=1 $(PY) -m pytest tests/e2e/test_tour.py -q

messages: install
	$(PY) manage.py makemessages --all --ignore=.venv --ignore=.tools --ignore=var
	$(PY) manage.py compilemessages --ignore=.venv --ignore=.tools

clean:
	rm -rf .venv .tools var/*.sqlite3* .pytest_cache
